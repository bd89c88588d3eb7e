package throttle

import (
	"sync"
	"time"
)

// Rates are the limits of a Meter, per second; a zero rate is no limit.
type Rates struct {
	WriteBytes   float64 // data plus partition keys written
	WriteRecords float64 // records written
	ReadBytes    float64 // data plus partition keys read
	ReadCalls    float64 // GetRecords calls
}

// The rates Kinesis Data Streams applies (Quotas and limits, Developer
// Guide; the PutRecords and GetRecords API references).
var (
	// ProvisionedShard is one shard of a provisioned stream.
	ProvisionedShard = Rates{WriteBytes: 1 << 20, WriteRecords: 1000, ReadBytes: 2 << 20, ReadCalls: 5}
	// OnDemandStream is the default capacity of an on-demand stream (4 MB/s
	// and 4,000 records/s in, 8 MB/s out), shared by all its shards: AWS
	// spreads an on-demand stream's capacity over shards it splits and
	// merges as the load moves.
	// The GetRecords calls stay a per-shard limit in both modes.
	OnDemandStream = Rates{WriteBytes: 4 << 20, WriteRecords: 4000, ReadBytes: 8 << 20}
	// FanOutShard is what one enhanced fan-out consumer reads of one shard
	// (SubscribeToShard), in both capacity modes: 2 MiB/s of its own,
	// apart from the shard's GetRecords throughput. Records are pushed,
	// not asked for, so nothing is refused: the reader waits (ReadDelay).
	FanOutShard = Rates{ReadBytes: 2 << 20}
)

// Meter is the in and out buckets of one shard or stream. It is safe for
// concurrent use.
type Meter struct {
	mu                                         sync.Mutex
	writeBytes, writeRecords, readBytes, calls bucket
}

// NewMeter returns a Meter with full buckets at now.
func NewMeter(r Rates, now time.Time) *Meter {
	return &Meter{
		writeBytes:   newBucket(r.WriteBytes, now),
		writeRecords: newBucket(r.WriteRecords, now),
		readBytes:    newBucket(r.ReadBytes, now),
		calls:        newBucket(r.ReadCalls, now),
	}
}

// Write admits one record of size bytes: it takes one record and size
// bytes, or nothing when either bucket is short.
func (m *Meter) Write(now time.Time, size int) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.writeBytes.refill(now)
	m.writeRecords.refill(now)
	if !m.writeBytes.can(float64(size)) || !m.writeRecords.can(1) {
		return false
	}
	m.writeBytes.take(float64(size))
	m.writeRecords.take(1)
	return true
}

// Read admits one GetRecords call. It refuses while the calls of the last
// second are spent, or while what was read before (Charge) is still being
// paid back. An admitted call takes one call; a call refused for the bytes
// counts as a call too, as every call Kinesis receives does.
func (m *Meter) Read(now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls.refill(now)
	m.readBytes.refill(now)
	if !m.calls.can(1) {
		return false
	}
	m.calls.take(1)
	return m.readBytes.rate == 0 || m.readBytes.tokens > 0
}

// Charge takes size bytes read by an admitted call, into debt if need be:
// the bytes are known only once the call has read them.
func (m *Meter) Charge(now time.Time, size int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.readBytes.refill(now)
	m.readBytes.take(float64(size))
}

// ReadDelay is how long a reader that pushes records must wait before it
// reads again: until what it has read (Charge) has been paid back, 0 when
// the bytes bucket is not in debt.
func (m *Meter) ReadDelay(now time.Time) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.readBytes.refill(now)
	b := &m.readBytes
	if b.rate == 0 || b.tokens > 0 {
		return 0
	}
	// Rounded up, so that a reader that waits this long finds the debt paid.
	return time.Duration(-b.tokens/b.rate*float64(time.Second)) + 1
}
