package grpcapi

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/spatehq/spate/shard"
)

// Encoding a reply of records straight from the store's iterator.
//
// Building a spatev1.Record (and a Timestamp) per record only for the codec
// to walk them twice (size, then bytes), copy every record's data once more,
// and drop them costs, for a GetRecords reply of 10,000 records, three
// blocks of structs holding 40,000 pointers; building the store's
// shard.Records first costs another copy of every record. recordsSink
// instead takes each record from the store's read (shard.RecordSink) and
// encodes it at once into the reply's buffer, which finish completes with
// the reply's other fields and leaves in a new message's unknown fields:
// every protobuf marshaller writes unknown fields out as they are, and
// protoCodec hands such a message's bytes to gRPC without copying them
// again. The bytes are proto.Marshal's (deterministic) of the same reply, as
// records is field 1 of both replies; in process the message's fields look
// empty and the whole reply is in protoreflect's GetUnknown: decode it
// (proto.Marshal, then Unmarshal) to read it.

// recordsSink encodes the records of a read as field 1 (repeated
// spate.v1.Record) of replies of at most maxBytes of data and partition keys
// each (but at least one record; 0 is no limit): Subscribe's events.
type recordsSink struct {
	maxBytes int
	lender   *heldReply // lends the buffers (replybuffers.go); nil: they are the sink's
	chunks   []recordsChunk
	held     int64
	arrival  arrivalField
}

// arrivalField is a record's approximate_arrival_timestamp field (tag,
// length and google.protobuf.Timestamp) as last encoded. The records of a
// read come from the same puts, whose records share one arrival time: a
// GetRecords of 10,000 records from batches of 500 has about 20 of them, so
// the field is encoded once per put instead of once per record.
type arrivalField struct {
	ms  int64
	ok  bool // ms and b are set
	n   int
	buf [2 + maxTimestampSize]byte
}

// maxTimestampSize bounds timestampSize: two one-byte tags, a ten-byte
// varint of seconds and a five-byte one of nanoseconds.
const maxTimestampSize = 17

// field returns the encoded field of a record that arrived at ms.
func (a *arrivalField) field(ms int64) []byte {
	if !a.ok || a.ms != ms {
		secs, nanos := splitMillis(ms)
		b := append(a.buf[:0], tagArrival, byte(timestampSize(secs, nanos)))
		if secs != 0 {
			b = protowire.AppendVarint(append(b, tagSeconds), uint64(secs))
		}
		if nanos != 0 {
			b = protowire.AppendVarint(append(b, tagNanos), uint64(nanos))
		}
		a.ms, a.ok, a.n = ms, true, len(b)
	}
	return a.buf[:a.n]
}

// recordsChunk is the records of one reply.
type recordsChunk struct {
	b       []byte
	bytes   int // data and partition keys
	lastSeq int // offset in b of the last record's sequence number
}

// tailRoom is what a chunk keeps free after its records for the reply's
// other fields (a shard iterator, the milliseconds behind, a continuation
// sequence number), so that finish need not copy it.
const tailRoom = 128

func (s *recordsSink) AppendRecord(r *shard.RecordView) error {
	arrival := s.arrival.field(r.ArrivalMs)
	size := viewSize(r, len(arrival))
	need := 1 + sizeVarint(uint64(size)) + size
	recBytes := len(r.Data) + len(r.PartitionKey)
	var c *recordsChunk
	if n := len(s.chunks); n > 0 && (s.maxBytes <= 0 || s.chunks[n-1].bytes+recBytes <= s.maxBytes) {
		c = &s.chunks[n-1]
	} else {
		s.chunks = append(s.chunks, recordsChunk{})
		c = &s.chunks[len(s.chunks)-1]
	}
	if cap(c.b)-len(c.b) < need+tailRoom {
		// Room for the records still to come, as if they were the size
		// of this one (with some for longer keys), or twice the room
		// so far: a full read of small records is sized once.
		n := min(r.RecordsLeft, r.BytesLeft/r.ValueLen+1)
		if s.maxBytes > 0 {
			n = min(n, (s.maxBytes-c.bytes)/max(recBytes, 1)+1)
		}
		grown := s.lender.lend(max(len(c.b)+n*(need+8)+tailRoom, 2*cap(c.b)))[:len(c.b)]
		copy(grown, c.b)
		s.held += int64(cap(grown) - cap(c.b))
		s.lender.giveBack(c.b)
		c.b = grown
	}
	// Written in place: the room is there, and a chain of appends checked
	// it again at every field.
	start := len(c.b)
	b := c.b[:start+need]
	i := start
	b[i] = tagRecords
	i = putLength(b, i+1, size)
	c.lastSeq = i + 2 // after the tag and the length (< 128)
	i = putBytesField(b, i, tagSequenceNumber, r.SequenceNumber)
	i += copy(b[i:], arrival)
	i = putBytesField(b, i, tagData, r.Data)
	i = putBytesField(b, i, tagPartitionKey, r.PartitionKey)
	if r.Encrypted {
		i = putBytesField(b, i, tagEncryption, shard.EncryptionKMS)
	}
	if i != len(b) { // viewSize and the fields disagree: a bug, never data
		return fmt.Errorf("encoding a record: wrote %d bytes, sized %d", i-start, need)
	}
	c.b = b
	c.bytes += recBytes
	return nil
}

// putLength writes v as a varint at b[i:] and returns the index after it;
// the room must be there.
func putLength(b []byte, i, v int) int {
	for v >= 0x80 {
		b[i] = byte(v) | 0x80
		v >>= 7
		i++
	}
	b[i] = byte(v)
	return i + 1
}

// putBytesField writes a string or bytes field at b[i:] (nothing for an
// empty one, which proto3 leaves out) and returns the index after it; the
// room must be there.
func putBytesField[T string | []byte](b []byte, i int, tag byte, v T) int {
	if len(v) == 0 {
		return i
	}
	b[i] = tag
	i = putLength(b, i+1, len(v))
	return i + copy(b[i:], v)
}

func (s *recordsSink) HeldBytes() int64 { return s.held }

// finish returns into carrying the records of chunk i followed by tail's
// fields (tail's field 1 must be empty), all encoded; into must be a new
// message.
func finish[M interface {
	protoreflect.ProtoMessage
	vtMarshaler
}](s *recordsSink, i int, tail M, into M) (M, error) {
	var b []byte
	if i < len(s.chunks) {
		b = s.chunks[i].b
	}
	n := tail.SizeVT()
	if cap(b)-len(b) < n {
		grown := s.lender.lend(len(b) + n)[:len(b)]
		copy(grown, b)
		s.lender.giveBack(b)
		b = grown
		if i < len(s.chunks) {
			s.chunks[i].b = b
		}
	}
	if err := marshalVT(tail, b[len(b):len(b)+n]); err != nil {
		return into, err
	}
	into.ProtoReflect().SetUnknown(b[:len(b)+n])
	return into, nil
}

// lastSequenceNumber is the sequence number of chunk i's last record.
func (s *recordsSink) lastSequenceNumber(i int) string {
	c := &s.chunks[i]
	return string(c.b[c.lastSeq : c.lastSeq+shard.SequenceNumberLen])
}

// splitMillis is time.UnixMilli(ms)'s Unix() and Nanosecond().
func splitMillis(ms int64) (secs int64, nanos int) {
	secs, rem := ms/1000, ms%1000
	if rem < 0 {
		secs, rem = secs-1, rem+1000
	}
	return secs, int(rem) * 1_000_000
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

// viewSize is the length of r encoded as a spate.v1.Record, with an
// arrival field (arrivalField) of arrivalLen bytes.
func viewSize(r *shard.RecordView, arrivalLen int) int {
	n := bytesFieldSize(len(r.SequenceNumber)) + bytesFieldSize(len(r.Data)) + bytesFieldSize(len(r.PartitionKey))
	if r.Encrypted {
		n += bytesFieldSize(len(shard.EncryptionKMS))
	}
	return n + arrivalLen
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
