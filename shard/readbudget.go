package shard

import (
	"context"
	"encoding/binary"
	"errors"
	"time"
	"unsafe"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/internal/membudget"
)

// The read budget bounds the bytes that reads hold in the Go heap at once
// (WithReadBudget). Without it, N concurrent GetRecords of 10 MiB each hold
// N times 10 MiB of records plus their encoded replies, and a thousand of
// them took the process past 13 GB (issue 11).
//
// Every read that builds records holds its estimated cost from the budget
// before it reads, shrinks the hold to what it allocated once it has read,
// and releases it when the records are no longer referenced:
//
//   - GetRecords queues for at most the budget's wait and then answers
//     ProvisionedThroughputExceededException (Kinesis's throttling error, which
//     clients retry with backoff). Its output keeps the hold until the caller
//     has written the reply and calls GetRecordsOutput.Release.
//   - Subscribe waits (as long as its context allows) and holds each batch
//     until the callback, which sends it, returns.
//   - Read, for in-process readers (Firehose, Analytics), waits and holds
//     only while it reads: what a reader keeps afterwards is bounded by its
//     own configuration (a Firehose buffer by its BufferingHints).
//
// Only the Go heap is counted. Pebble's memtables and block cache live
// outside it (manual memory) and are sized by pebbleOptions, not here.

// WithReadBudget bounds the bytes that reads hold in memory at once to
// maxBytes (see the package's read budget): beyond it, GetRecords queues for
// at most maxWait and then answers ProvisionedThroughputExceededException,
// and Subscribe and Read wait. Zero or less, the default, is no bound.
func WithReadBudget(maxBytes int64, maxWait time.Duration) Option {
	return func(c *config) {
		c.readBudget, c.readWait = maxBytes, maxWait
	}
}

// newReadBudget returns the budget cfg asks for, or nil (unlimited).
func newReadBudget(cfg config) *membudget.Budget {
	if cfg.readBudget <= 0 {
		return nil
	}
	b, _ := membudget.New(cfg.readBudget, membudget.WithMaxWait(max(cfg.readWait, 0))) // size > 0: cannot fail
	return b
}

// How a read is admitted under the budget.
type readAdmission struct {
	// wait queues for as long as ctx allows; otherwise the read queues for
	// the budget's wait at most and then fails with ProvisionedThroughputExceeded.
	wait bool
	// reply counts the encoded reply (the caller keeps the hold until it
	// has written it) on top of the records.
	reply bool
}

var (
	admitInternal   = readAdmission{wait: true}
	admitSubscribe  = readAdmission{wait: true, reply: true}
	admitGetRecords = readAdmission{reply: true}
)

// Cost model of a read, in bytes of Go heap.
const (
	// recordValueOverhead is what a stored record value holds besides its
	// data and partition key: arrival time and partition key length.
	recordValueOverhead = 8 + binary.MaxVarintLen16
	// recordHeapBytes is what a read allocates per record besides its data
	// and partition key: the Record, its sequence number (twice: bytes, then
	// one string for all) and its partition key length.
	recordHeapBytes = int64(unsafe.Sizeof(Record{})) + 2*SequenceNumberLen + 8
	// replyRecordBytes is what encoding one record costs besides its data:
	// in the AWS JSON reply, the member names, the sequence number, the
	// timestamp and the partition key (up to 6 bytes a byte escaped), and
	// the reply struct the API layer builds per record.
	replyRecordBytes = 256
)

// readBound is what a read of up to want records and maxBytes bytes of
// record values may cost before it has read anything, from a stream whose
// records (data plus partition key) are at most largest bytes: Read stops
// before maxBytes except that it always returns one record, and the
// records' data goes into chunks of at most a megabyte that it may not fill.
func readBound(want, maxBytes, largest int, adm readAdmission) int64 {
	n := int64(want)
	maxRecordValue := int64(recordValueOverhead + largest)
	data := min(n*maxRecordValue, int64(maxBytes)+maxRecordValue)
	return readCost(data+min(data, 1<<20), data, n, adm)
}

// readCost is the cost of a read that allocated alloc bytes for n records
// of data bytes (data and partition keys).
func readCost(alloc, data, n int64, adm readAdmission) int64 {
	cost := alloc + n*recordHeapBytes
	if adm.reply {
		// base64 makes 4 bytes of 3; gRPC's protobuf reply is smaller.
		cost += (data+2)/3*4 + n*replyRecordBytes
	}
	return cost
}

// admitRead holds the bound of a read from the store's budget.
func (s *Store) admitRead(ctx context.Context, st *stream, sh *shardState, c Cursor, want, maxBytes int, adm readAdmission) (*membudget.Hold, error) {
	if s.budget == nil || want == 0 {
		return nil, nil // nothing to read: a tip poll costs nothing worth counting
	}
	bound := readBound(want, maxBytes, int(st.largestRecord.Load()), adm)
	if adm.wait {
		return s.budget.Wait(ctx, bound)
	}
	h, err := s.budget.Acquire(ctx, bound)
	if errors.Is(err, membudget.ErrBusy) {
		sh.stats.readThrottled.Add(1)
		return nil, apierr.New(apierr.ProvisionedThroughputExceeded,
			"Rate exceeded for shard %s in stream %s under account %s: the server's read memory is busy (%d MiB of records being read and sent); retry with backoff",
			c.ShardID, c.Stream, s.cfg.accountID, s.budget.Size()>>20)
	}
	return h, err
}

// Release returns the read budget that o's records hold (WithReadBudget).
// Call it once the reply built from them has been written and they are no
// longer used; it does nothing without a budget, or when called again.
func (o GetRecordsOutput) Release() { o.hold.Release() }
