package shard

import (
	"context"
	"unsafe"

	"github.com/spatehq/spate/internal/nozero"
)

// Reading into a sink.
//
// Read builds a Record per record, copying its data, partition key and
// sequence number into per-read buffers, only for an API layer to encode
// them into a reply and drop them. ReadInto, GetRecordsInto and
// SubscribeInto hand each record to a RecordSink instead, straight from
// Pebble's iterator (or from the decrypted value), so that the sink can
// encode it into the reply with one copy. Everything else is as with Read,
// GetRecords and Subscribe: the read budget (which counts what the sink
// holds, RecordSink.HeldBytes), decryption, MillisBehindLatest, the child
// shards at the end of a closed shard, the iterator age and the next cursor.

// RecordSink receives the records of a read, one at a time and in order.
type RecordSink interface {
	// AppendRecord takes one record. r and the slices in it are only
	// valid during the call (they alias the store's iterator and its
	// buffers) and must not be modified: copy what is kept. An error ends
	// the read with that error.
	AppendRecord(r *RecordView) error
	// HeldBytes is what the sink holds for the records it took (its
	// buffers' capacity): the read budget counts it until the read's
	// hold is released.
	HeldBytes() int64
}

// RecordView is a record as a read passes it to a RecordSink, with hints for
// sizing buffers.
type RecordView struct {
	SequenceNumber []byte
	ArrivalMs      int64 // milliseconds since the epoch
	PartitionKey   []byte
	Data           []byte
	Encrypted      bool
	// RecordsLeft is how many records the read may still return, this
	// one included; BytesLeft how many bytes of stored values it may still
	// read (at least this one's, ValueLen, whatever its size).
	RecordsLeft, BytesLeft, ValueLen int
}

// ReadInto is Read with the records handed to sink instead of returned
// (ReadResult.Records is empty).
func (s *Store) ReadInto(ctx context.Context, c Cursor, limit, maxBytes int, sink RecordSink) (ReadResult, error) {
	res, hold, err := s.readInto(ctx, c, limit, maxBytes, admitInternal, sink)
	hold.Release()
	return res.ReadResult, err
}

// arenaSink is the sink of Read: it builds Records whose data share chunks
// of one arena and whose sequence numbers and partition keys share one
// string. Allocations are per read, not per record: reads of many small
// records are bound by allocation otherwise.
type arenaSink struct {
	recs        []Record
	arena, strs []byte
	pkLens      []int
	alloc       int64
}

func (a *arenaSink) AppendRecord(r *RecordView) error {
	if a.recs == nil {
		// Size everything for the records this read can return, as if
		// they were the size of the first one: growing the slices
		// instead would copy (with write barriers) several times their
		// final size. Keys get some room to be longer than the first.
		n := min(r.RecordsLeft, MaxGetRecordsLimit, r.BytesLeft/r.ValueLen+1)
		a.recs = make([]Record, 0, n)
		a.pkLens = make([]int, 0, n)
		a.strs = nozero.Bytes(n * (SequenceNumberLen + len(r.PartitionKey) + 8))
	}
	data := r.Data
	if cap(a.arena)-len(a.arena) < len(data) {
		// A chunk for the records still to come, as if they were the
		// size of this one, so that a read of a few records does not
		// allocate a megabyte. Whole records of this size to a chunk, so
		// that records over half a megabyte do not leave half of each
		// empty.
		a.arena = nozero.Bytes(max(len(data), min(r.RecordsLeft*len(data), r.BytesLeft, (1<<20)/max(len(data), 1)*len(data))))
		a.alloc += int64(cap(a.arena))
	}
	start := len(a.arena)
	a.arena = append(a.arena, data...)
	a.strs = append(a.strs, r.SequenceNumber...)
	a.strs = append(a.strs, r.PartitionKey...)
	a.pkLens = append(a.pkLens, len(r.PartitionKey))
	a.recs = append(a.recs, Record{
		ArrivalTime: fromMillis(r.ArrivalMs), Data: a.arena[start:len(a.arena):len(a.arena)], Encrypted: r.Encrypted,
	})
	return nil
}

func (a *arenaSink) HeldBytes() int64 {
	return a.alloc + int64(cap(a.strs)) + int64(cap(a.recs))*int64(unsafe.Sizeof(Record{})) + int64(cap(a.pkLens))*8
}

// finish returns the records, their strings set.
func (a *arenaSink) finish() []Record {
	// The records' strings alias strs instead of a copy of it (a copy was
	// over half a megabyte a full read of small records). Invariant:
	// nothing writes strs from here on.
	all, off := unsafe.String(unsafe.SliceData(a.strs), len(a.strs)), 0
	for i := range a.recs {
		r := &a.recs[i]
		r.SequenceNumber = all[off : off+SequenceNumberLen]
		off += SequenceNumberLen
		r.PartitionKey = all[off : off+a.pkLens[i]]
		off += a.pkLens[i]
	}
	return a.recs
}
