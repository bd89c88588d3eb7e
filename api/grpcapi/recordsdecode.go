package grpcapi

import (
	"unsafe"

	"github.com/planetscale/vtprotobuf/protohelpers"
	"google.golang.org/protobuf/types/known/timestamppb"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// Decoding replies full of records (GetRecords, Subscribe) in blocks.
//
// The generated UnmarshalVTUnsafe allocates every Record, and every
// Record's arrival timestamp, on its own, and grows the Records slice by
// appending: a reply of 10,000 records was over 20,000 allocations and
// about a third of a catch-up reader's CPU (profile of
// BenchmarkSelfGRPCCatchUp). decodeRecordsMessage counts the records first
// and decodes them into one block of Records, one of pointers and one of
// timestamps. The result is the generated decoder's, value for value:
// whatever the fast path does not handle exactly as the generated code does
// (unknown fields, wrong wire types, malformed input) goes to the generated
// code, for the one record or for the whole message.

// recordsMessage is a message whose field 1 is `repeated Record records`:
// GetRecordsResponse and SubscribeResponse.
type recordsMessage interface {
	vtUnmarshaler
	records() *[]*spatev1.Record
}

type getRecordsReply struct{ *spatev1.GetRecordsResponse }

func (r getRecordsReply) records() *[]*spatev1.Record { return &r.Records }

type subscribeReply struct{ *spatev1.SubscribeResponse }

func (r subscribeReply) records() *[]*spatev1.Record { return &r.Records }

// asRecordsMessage returns v as a recordsMessage when it is one.
func asRecordsMessage(v any) (recordsMessage, bool) {
	switch m := v.(type) {
	case *spatev1.GetRecordsResponse:
		return getRecordsReply{m}, true
	case *spatev1.SubscribeResponse:
		return subscribeReply{m}, true
	}
	return nil, false
}

// decodeRecordsMessage decodes data into m, which is empty, as
// m.UnmarshalVTUnsafe(data) does: strings and bytes alias data.
func decodeRecordsMessage(m recordsMessage, data []byte) error {
	n, ok := countRecords(data)
	if !ok || n == 0 {
		return m.UnmarshalVTUnsafe(data) // malformed (it says how), or no records
	}
	recs := make([]spatev1.Record, n)
	times := make([]timestamppb.Timestamp, n)
	ptrs := make([]*spatev1.Record, n)
	// The other fields, decoded by the generated code a run at a time:
	// it merges into m as one pass over data would.
	rest := 0
	i := 0
	for off := 0; off < len(data); {
		tag, tagLen := varint(data[off:])
		size, _ := protohelpers.Skip(data[off:]) // countRecords checked every field
		if tag != 1<<3|2 {
			off += size
			continue
		}
		if rest < off {
			if err := m.UnmarshalVTUnsafe(data[rest:off]); err != nil {
				return err
			}
		}
		_, lenLen := varint(data[off+tagLen:])
		r := &recs[i]
		if !decodeRecord(r, &times[i], data[off+tagLen+lenLen:off+size]) {
			*r = spatev1.Record{}
			if err := r.UnmarshalVTUnsafe(data[off+tagLen+lenLen : off+size]); err != nil {
				return err
			}
		}
		ptrs[i] = r
		i++
		off += size
		rest = off
	}
	*m.records() = ptrs
	if rest < len(data) {
		return m.UnmarshalVTUnsafe(data[rest:])
	}
	return nil
}

// countRecords returns the number of field-1 (records) entries in data, and
// false when data is not a sequence of well-formed fields or a field 1 is not
// length-delimited (the generated decoder then reports the error).
func countRecords(data []byte) (int, bool) {
	n := 0
	for off := 0; off < len(data); {
		size, err := protohelpers.Skip(data[off:])
		if err != nil || size <= 0 || size > len(data)-off {
			return 0, false
		}
		tag, _ := varint(data[off:])
		if tag>>3 == 1 {
			if tag&7 != 2 {
				return 0, false
			}
			n++
		}
		off += size
	}
	return n, true
}

// decodeRecord decodes one Record as the generated UnmarshalVTUnsafe does,
// its timestamp into ts, and reports false for anything it does not handle
// (an unknown field, a wrong wire type, a malformed length): the caller
// then decodes the record with the generated code.
func decodeRecord(r *spatev1.Record, ts *timestamppb.Timestamp, b []byte) bool {
	var v RecordView
	if !decodeRecordView(&v, b) {
		return false
	}
	r.SequenceNumber, r.Data, r.PartitionKey, r.EncryptionType = v.SequenceNumber, v.Data, v.PartitionKey, v.EncryptionType
	if v.HasArrival {
		ts.Seconds, ts.Nanos = v.ArrivalSeconds, v.ArrivalNanos
		r.ApproximateArrivalTimestamp = ts
	}
	return true
}

// decodeRecordView decodes one Record into v as decodeRecord does, its
// strings and bytes aliasing b.
func decodeRecordView(v *RecordView, b []byte) bool {
	for off := 0; off < len(b); {
		tag, n := varint(b[off:])
		if n == 0 || tag&7 != 2 {
			return false
		}
		off += n
		l, n := varint(b[off:])
		if n == 0 || l > uint64(len(b)-off-n) {
			return false
		}
		off += n
		f := b[off : off+int(l)]
		off += int(l)
		switch tag >> 3 {
		case 1:
			v.SequenceNumber = aliasString(f)
		case 2:
			v.HasArrival = true
			if !decodeTimestamp(&v.ArrivalSeconds, &v.ArrivalNanos, f) {
				return false
			}
		case 3:
			v.Data = f
		case 4:
			v.PartitionKey = aliasString(f)
		case 5:
			v.EncryptionType = aliasString(f)
		default:
			return false
		}
	}
	return true
}

// decodeTimestamp merges b, a google.protobuf.Timestamp, into secs and
// nanos as the generated decoder does, and reports false for anything but
// fields 1 and 2 as varints.
func decodeTimestamp(secs *int64, nanos *int32, b []byte) bool {
	for off := 0; off < len(b); {
		tag, n := varint(b[off:])
		if n == 0 {
			return false
		}
		off += n
		v, n := varint(b[off:])
		if n == 0 {
			return false
		}
		off += n
		switch tag {
		case 1<<3 | 0:
			*secs = int64(v)
		case 2<<3 | 0:
			*nanos = int32(v)
		default:
			return false
		}
	}
	return true
}

// varint decodes a protobuf varint at the start of b and returns it with its
// length, or a length of 0 when b does not start with one of at most ten
// bytes.
func varint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1 // most tags and lengths; this much inlines
	}
	return varintLong(b)
}

// varintLong is varint for varints of any length.
func varintLong(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

// aliasString is b as a string without a copy, as the generated
// UnmarshalVTUnsafe makes its strings (see protoCodec's invariant).
func aliasString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
