package grpcapi

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/spatehq/spate/internal/nozero"
	"github.com/spatehq/spate/shard"
)

// Encoding a reply of records straight from the store's.
//
// encodeRecords builds a spatev1.Record (and a Timestamp) per record only
// for the codec to walk them twice (size, then bytes), copy every record's
// data once more, and drop them: for a GetRecords reply of 10,000 records,
// three blocks of structs holding 40,000 pointers. preencoded instead writes
// the whole reply once, its records straight from the store's, into a
// buffer it leaves in a new message's unknown fields: every protobuf
// marshaller writes unknown fields out as they are, and protoCodec hands
// such a message's bytes to gRPC without copying them again. On the wire the
// reply is the same message (its fields in another order, which protobuf
// allows); in process its fields look empty and the whole reply is in
// protoreflect's GetUnknown: decode it (proto.Marshal, then Unmarshal) to
// read it.

// preencoded returns into carrying head with recs appended as its field 1
// (repeated spate.v1.Record), all encoded, as its only contents. head's
// field 1 must be empty; into must be a new message.
func preencoded[M interface {
	protoreflect.ProtoMessage
	vtMarshaler
}](head M, recs []shard.Record, into M) (M, error) {
	n := head.SizeVT()
	size := n
	sizes := make([]int, len(recs)) // each record's, not to work them out twice
	for i := range recs {
		rs := recordSize(&recs[i])
		sizes[i] = rs
		size += 1 + sizeVarint(uint64(rs)) + rs
	}
	b := nozero.Bytes(size)[:n]
	if err := marshalVT(head, b); err != nil {
		return into, err
	}
	for i := range recs {
		b = appendRecordField(b, &recs[i], sizes[i])
	}
	if len(b) != size {
		return into, fmt.Errorf("encode %d records: wrote %d bytes, sized %d", len(recs), len(b), size)
	}
	into.ProtoReflect().SetUnknown(b)
	return into, nil
}

// Field tags (field number << 3 | wire type 2, length-delimited; 0 varint)
// of spate.v1.Record and google.protobuf.Timestamp, as vtprotobuf and
// protobuf-go write them: fields in number order, empty ones left out.
const (
	tagRecords        = 1<<3 | 2
	tagSequenceNumber = 1<<3 | 2
	tagArrival        = 2<<3 | 2
	tagData           = 3<<3 | 2
	tagPartitionKey   = 4<<3 | 2
	tagEncryption     = 5<<3 | 2
	tagSeconds        = 1<<3 | 0
	tagNanos          = 2<<3 | 0
)

// recordSize is the length of r encoded as a spate.v1.Record.
func recordSize(r *shard.Record) int {
	n := bytesFieldSize(len(r.SequenceNumber)) + bytesFieldSize(len(r.Data)) + bytesFieldSize(len(r.PartitionKey))
	if r.Encrypted {
		n += bytesFieldSize(len(shard.EncryptionKMS))
	}
	if !r.ArrivalTime.IsZero() {
		ts := timestampSize(r.ArrivalTime.Unix(), r.ArrivalTime.Nanosecond())
		n += 2 + ts // a message field, written even when empty; ts < 128
	}
	return n
}

// bytesFieldSize is the length of a string or bytes field of n bytes
// (one-byte tag); 0 for an empty one, which proto3 leaves out.
func bytesFieldSize(n int) int {
	if n == 0 {
		return 0
	}
	return 1 + sizeVarint(uint64(n)) + n
}

// timestampSize is the length of a google.protobuf.Timestamp: at most 17.
func timestampSize(secs int64, nanos int) int {
	n := 0
	if secs != 0 {
		n += 1 + sizeVarint(uint64(secs))
	}
	if nanos != 0 {
		n += 1 + sizeVarint(uint64(nanos))
	}
	return n
}

// sizeVarint is protowire.SizeVarint, quicker for the short lengths most
// fields have.
func sizeVarint(v uint64) int {
	if v < 1<<7 {
		return 1
	}
	if v < 1<<14 {
		return 2
	}
	return protowire.SizeVarint(v)
}

// appendRecordField appends r, whose recordSize is size, as one element of a
// records field (1).
func appendRecordField(b []byte, r *shard.Record, size int) []byte {
	b = protowire.AppendVarint(append(b, tagRecords), uint64(size))
	b = appendBytesField(b, tagSequenceNumber, r.SequenceNumber)
	if !r.ArrivalTime.IsZero() {
		secs, nanos := r.ArrivalTime.Unix(), r.ArrivalTime.Nanosecond()
		b = append(b, tagArrival, byte(timestampSize(secs, nanos)))
		if secs != 0 {
			b = protowire.AppendVarint(append(b, tagSeconds), uint64(secs))
		}
		if nanos != 0 {
			b = protowire.AppendVarint(append(b, tagNanos), uint64(nanos))
		}
	}
	b = appendBytesField(b, tagData, r.Data)
	b = appendBytesField(b, tagPartitionKey, r.PartitionKey)
	if r.Encrypted {
		b = appendBytesField(b, tagEncryption, shard.EncryptionKMS)
	}
	return b
}

func appendBytesField[T string | []byte](b []byte, tag byte, v T) []byte {
	if len(v) == 0 {
		return b
	}
	b = protowire.AppendVarint(append(b, tag), uint64(len(v)))
	return append(b, v...)
}
