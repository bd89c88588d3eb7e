package grpcapi

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/mem"

	"github.com/spatehq/spate/internal/nozero"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// Reading GetRecords replies without a message per record.
//
// Even decoded in blocks (recordsdecode.go), a spatev1.GetRecordsResponse
// costs a reader a Record, a Timestamp and a pointer per record, a fresh
// copy of the reply to alias, and the garbage collector's work on all of it
// (write barriers while it marks, which the blocks' pointers keep busy):
// about 300 ns a record of a 100-byte catch-up, a quarter of what client and
// server spend together (profile of BenchmarkCatchUp/self-grpc). A reader
// that goes through the records once and keeps none of them needs none of
// that. GetRecordsReply is the same reply, on the same wire, read into one
// buffer that the next read reuses and a slice of plain RecordViews that
// alias it.

// GetRecordsReply is a GetRecords reply (spatev1.GetRecordsResponse on the
// wire) read by GetRecords into a buffer it reuses from one reply to the
// next. Its records alias that buffer: they are valid until the reply is read
// into again. The other fields are its own.
//
// The zero value is ready to use; reuse one per reader (it is not safe for
// concurrent use).
type GetRecordsReply struct {
	NextShardIterator  string
	MillisBehindLatest int64
	ChildShards        []*spatev1.ChildShard

	records []RecordView
	buf     []byte
}

// RecordView is a record of a GetRecordsReply: spatev1.Record's fields, whose
// strings and bytes alias the reply's buffer.
type RecordView struct {
	SequenceNumber string
	Data           []byte
	PartitionKey   string
	EncryptionType string
	// ArrivalSeconds and ArrivalNanos are the approximate arrival
	// timestamp's fields; HasArrival is false when the record has none (a
	// Spate server always sends it).
	ArrivalSeconds int64
	ArrivalNanos   int32
	HasArrival     bool
}

// ApproximateArrivalTimestamp is the record's arrival time, the zero Time
// when it has none.
func (v *RecordView) ApproximateArrivalTimestamp() time.Time {
	if !v.HasArrival {
		return time.Time{}
	}
	return time.Unix(v.ArrivalSeconds, int64(v.ArrivalNanos))
}

// Records returns the reply's records, valid until the reply is read into
// again.
func (r *GetRecordsReply) Records() []RecordView { return r.records }

// GetRecords calls StreamService.GetRecords on cc and reads the reply into
// reply, as spatev1.StreamServiceClient.GetRecords does into a new
// GetRecordsResponse. cc must have been dialled with DialOptions, whose codec
// is the one that reads a GetRecordsReply.
func GetRecords(ctx context.Context, cc grpc.ClientConnInterface, req *spatev1.GetRecordsRequest, reply *GetRecordsReply, opts ...grpc.CallOption) error {
	return cc.Invoke(ctx, spatev1.StreamService_GetRecords_FullMethodName, req, reply, opts...)
}

// unmarshal reads the reply in data into r, its buffer reused.
func (r *GetRecordsReply) unmarshal(data mem.BufferSlice) error {
	n := data.Len()
	if cap(r.buf) < n {
		// Not cleared: it is overwritten at once (protoCodec.materialize).
		// Room to spare, so that replies a little larger each time (longer
		// keys as a stream goes on) do not each take a new buffer.
		r.buf = nozero.Bytes(n + n/8)
	}
	b := r.buf[:0]
	for _, part := range data {
		b = append(b, part.ReadOnlyData()...)
	}
	return r.decode(b)
}

// decode reads the reply in b into r, as the generated UnmarshalVTUnsafe
// reads it into a GetRecordsResponse: the same error or none, and then the
// same values. Records alias b. What the fast path does not handle as the
// generated code does (unknown fields, wrong wire types, malformed input)
// goes to the generated code.
func (r *GetRecordsReply) decode(b []byte) error {
	*r = GetRecordsReply{records: r.records[:0], buf: r.buf}
	var it []byte
	for off := 0; off < len(b); {
		start := off
		tag, n := varint(b[off:])
		if n == 0 {
			return r.decodeGenerated(b)
		}
		off += n
		if tag == 3<<3|0 { // millis_behind_latest
			v, n := varint(b[off:])
			if n == 0 {
				return r.decodeGenerated(b)
			}
			off += n
			r.MillisBehindLatest = int64(v)
			continue
		}
		if tag != 1<<3|2 && tag != 2<<3|2 && tag != 4<<3|2 {
			return r.decodeGenerated(b) // unknown or of the wrong wire type
		}
		l, n := varint(b[off:])
		if n == 0 || l > uint64(len(b)-off-n) {
			return r.decodeGenerated(b)
		}
		v := b[off+n : off+n+int(l)]
		off += n + int(l)
		switch tag >> 3 {
		case 1:
			if cap(r.records) == 0 {
				// Room for as many records as b holds if they are the
				// size of this one, at most what one reply may carry:
				// growing by appending copies several times as much.
				r.records = make([]RecordView, 0, min(len(b)/(off-start), shard.MaxGetRecordsLimit))
			}
			r.records = append(r.records, RecordView{})
			if !decodeRecordView(&r.records[len(r.records)-1], v) {
				return r.decodeGenerated(b)
			}
		case 2:
			it = v
		case 4:
			// At the end of a closed shard only: the generated decoder,
			// with copies, so that the reply's own fields outlive buf.
			cs := new(spatev1.ChildShard)
			if cs.UnmarshalVT(v) != nil {
				return r.decodeGenerated(b)
			}
			r.ChildShards = append(r.ChildShards, cs)
		}
	}
	r.NextShardIterator = string(it)
	return nil
}

// decodeGenerated reads b into r with the generated decoder, which copies
// (a rare path: it need not alias b).
func (r *GetRecordsReply) decodeGenerated(b []byte) error {
	*r = GetRecordsReply{records: r.records[:0], buf: r.buf}
	var m spatev1.GetRecordsResponse
	if err := m.UnmarshalVT(b); err != nil {
		return err
	}
	for _, rec := range m.Records {
		ts := rec.GetApproximateArrivalTimestamp()
		r.records = append(r.records, RecordView{
			SequenceNumber: rec.GetSequenceNumber(), Data: rec.GetData(), PartitionKey: rec.GetPartitionKey(),
			EncryptionType: rec.GetEncryptionType(),
			ArrivalSeconds: ts.GetSeconds(), ArrivalNanos: ts.GetNanos(), HasArrival: ts != nil,
		})
	}
	r.NextShardIterator, r.MillisBehindLatest, r.ChildShards = m.GetNextShardIterator(), m.GetMillisBehindLatest(), m.GetChildShards()
	return nil
}
