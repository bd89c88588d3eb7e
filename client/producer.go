package client

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/kpl"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

var (
	// ErrBufferFull is the error of a Put that found the buffer full
	// under WithFailFast.
	ErrBufferFull = errors.New("client: producer buffer full")
	// ErrProducerClosed is the error of a Put after Close, and of the
	// records Close could not drain before its context ended.
	ErrProducerClosed = errors.New("client: producer closed")
)

// Record is one record to put. The Producer does not copy Data: the caller
// must not change it until the record is finished.
type Record struct {
	PartitionKey string
	// ExplicitHashKey, when set, routes the record instead of the MD5 of
	// its partition key (a decimal number below 2^128).
	ExplicitHashKey string
	Data            []byte
}

// PutResult is the future of one record: where it was stored, or why not.
type PutResult struct {
	// Kept small: one is made per record. The hash key is not kept: it
	// is computed again in the rare case a record is routed again
	// (hashOf).
	rec         Record
	size        int32 // data and partition key
	subSequence int32 // place in its KPL aggregate; -1 when not aggregated
	deadline    int64 // UnixNano after which no retry starts

	done    chan struct{}
	shardID string
	seq     string
	err     error
}

// hashOf is the hash key r is routed by; r is valid (PutRecord checked).
func hashOf(r Record) hashKey {
	if r.ExplicitHashKey != "" {
		h, _ := parseHashKey(r.ExplicitHashKey)
		return h
	}
	return partitionHash(r.PartitionKey)
}

// Wait blocks until the record is finished or ctx ends, and returns the
// shard and sequence number it was stored under, or the error it failed
// with. A ctx that ends leaves the record in flight.
func (r *PutResult) Wait(ctx context.Context) (shardID, sequenceNumber string, err error) {
	select {
	case <-r.done:
		return r.shardID, r.seq, r.err
	case <-ctx.Done():
		return "", "", ctx.Err()
	}
}

// Done is closed once the record is finished.
func (r *PutResult) Done() <-chan struct{} { return r.done }

// Record returns the record as it was put.
func (r *PutResult) Record() Record { return r.rec }

// SubSequenceNumber is the record's place in its KPL aggregate
// (WithAggregation), which with the sequence number names it to a KCL
// consumer; ok is false when the record was not aggregated or is not
// stored (yet).
func (r *PutResult) SubSequenceNumber() (n int, ok bool) {
	select {
	case <-r.done:
		return int(r.subSequence), r.err == nil && r.subSequence >= 0
	default:
		return 0, false
	}
}

// Producer batches records per shard and sends them to one stream,
// retrying the records that fail.
//
// Order: records of one partition key are stored in the order they were
// put. The Producer keeps at most one batch per shard in flight, and puts
// a shard's failed records back at the head of its queue, so nothing newer
// of the shard is sent before they are. Within a batch the Produce stream
// stores a shard's records as a prefix (the server refuses the rest of a
// shard's records after one it refuses); unary PutRecords and the HTTP
// API refuse records one by one, as AWS does, so over those transports a
// partial failure can let a later record of a key overtake an earlier one
// of the same batch.
//
// Delivery is at least once: a batch whose answer is lost (a broken
// connection, a server killed) is sent again, and may be stored twice.
//
// A Producer is safe for concurrent use.
type Producer struct {
	stream string
	cfg    producerConfig
	tr     producerTransport

	// ctx ends the transport calls in flight when Close gives up.
	ctx    context.Context
	cancel context.CancelFunc

	mu sync.Mutex
	// Invariant: every record accepted by Put and not finished is in
	// exactly one of unrouted, a queue, or a batch in flight.
	shards     *shardMap
	unrouted   []*PutResult // put before the first shard map
	queues     map[string]*shardQueue
	buffered   int // records accepted and not finished
	bufBytes   int
	inflight   int  // batches in flight
	stale      bool // the map is out of date: refresh once nothing is in flight
	refreshing bool
	refreshErr error // the last refresh's failure
	flushing   int   // Flush calls waiting: linger is ignored
	closed     bool
	changed    chan struct{} // closed and replaced when records finish
	wg         sync.WaitGroup
}

// shardQueue is one shard's records waiting to be sent, oldest first.
type shardQueue struct {
	id       string
	recs     []*PutResult
	bytes    int
	queuedAt []time.Time // when each of recs was put
	inflight bool
	attempts int       // attempts in a row that left records to retry
	retryAt  time.Time // no batch before it
	timer    *time.Timer
	timerAt  time.Time
}

// NewProducer returns a Producer for stream over c (which may be nil with
// WithHTTP). It connects nothing until the first Put. Close it before c.
func NewProducer(c *Client, stream string, opts ...ProducerOption) (*Producer, error) {
	cfg := defaultProducerConfig()
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case stream == "":
		return nil, errors.New("client: NewProducer needs a stream name")
	case cfg.batchMaxRecords < 1 || cfg.batchMaxRecords > DefaultBatchMaxRecords:
		return nil, fmt.Errorf("client: batch max records %d: want 1 to %d", cfg.batchMaxRecords, DefaultBatchMaxRecords)
	case cfg.batchMaxBytes < 1 || cfg.batchMaxBytes > maxBatchBytes:
		return nil, fmt.Errorf("client: batch max bytes %d: want 1 to %d", cfg.batchMaxBytes, maxBatchBytes)
	case cfg.maxBufferedRecords < 1 || cfg.maxBufferedBytes < 1:
		return nil, errors.New("client: the buffer bounds must be positive")
	case cfg.linger < 0 || cfg.recordTimeout <= 0 || cfg.requestTimeout <= 0 || cfg.backoffMin <= 0 || cfg.backoffMax < cfg.backoffMin:
		return nil, errors.New("client: linger, timeouts and backoffs must be positive, and the backoff's maximum at least its minimum")
	}
	tr, err := newProducerTransport(c, cfg)
	if err != nil {
		return nil, err
	}
	return newProducer(stream, cfg, tr), nil
}

// newProducer returns a Producer of stream over tr.
func newProducer(stream string, cfg producerConfig, tr producerTransport) *Producer {
	ctx, cancel := context.WithCancel(context.Background())
	return &Producer{
		stream:  stream,
		cfg:     cfg,
		tr:      tr,
		ctx:     ctx,
		cancel:  cancel,
		queues:  make(map[string]*shardQueue),
		changed: make(chan struct{}),
		stale:   true, // no map yet
	}
}

// Put puts data under partitionKey: PutRecord with only those.
func (p *Producer) Put(ctx context.Context, partitionKey string, data []byte) *PutResult {
	return p.PutRecord(ctx, Record{PartitionKey: partitionKey, Data: data})
}

// PutRecord buffers r for its shard's next batch and returns its future.
// When the buffer is full it blocks until there is room or ctx ends (then
// the record fails with ctx's error), or with WithFailFast fails at once
// with ErrBufferFull. ctx bounds only that wait: once buffered, the record
// is sent until it is stored or its WithRecordTimeout passes.
func (p *Producer) PutRecord(ctx context.Context, r Record) *PutResult {
	res := &PutResult{rec: r, size: int32(min(len(r.Data)+len(r.PartitionKey), math.MaxInt32)), done: make(chan struct{}), subSequence: -1}
	if r.PartitionKey == "" {
		res.finish(nil, apierr.New(apierr.Validation, "a record needs a partition key"))
		return res
	}
	var hash hashKey
	if r.ExplicitHashKey != "" {
		h, err := parseHashKey(r.ExplicitHashKey)
		if err != nil {
			res.finish(nil, apierr.New(apierr.InvalidArgument, "explicit %v", err))
			return res
		}
		hash = h
	} else {
		hash = partitionHash(r.PartitionKey)
	}
	size := int(res.size)
	p.mu.Lock()
	for !p.closed && p.buffered > 0 &&
		(p.buffered+1 > p.cfg.maxBufferedRecords || p.bufBytes+size > p.cfg.maxBufferedBytes) {
		if p.cfg.failFast {
			p.mu.Unlock()
			res.finish(nil, ErrBufferFull)
			return res
		}
		changed := p.changed
		p.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			res.finish(nil, ctx.Err())
			return res
		}
		p.mu.Lock()
	}
	if p.closed {
		p.mu.Unlock()
		res.finish(nil, ErrProducerClosed)
		return res
	}
	now := time.Now()
	res.deadline = now.Add(p.cfg.recordTimeout).UnixNano()
	p.buffered++
	p.bufBytes += size
	if p.shards == nil {
		p.unrouted = append(p.unrouted, res)
		p.maybeRefresh()
	} else {
		q := p.queue(p.shards.route(hash))
		q.push(res, now)
		if p.stale {
			p.maybeRefresh() // a refresh that gave up left the map stale
		} else {
			p.dispatch(q, now)
		}
	}
	p.mu.Unlock()
	return res
}

// finish completes r; done records are not touched again.
func (r *PutResult) finish(e *spatev1.PutRecordsResultEntry, err error) {
	if err == nil {
		r.shardID, r.seq = e.GetShardId(), e.GetSequenceNumber()
	}
	r.err = err
	close(r.done)
}

func (q *shardQueue) push(r *PutResult, at time.Time) {
	q.recs = append(q.recs, r)
	q.queuedAt = append(q.queuedAt, at)
	q.bytes += int(r.size)
}

// queue returns shard id's queue, made on first use. p.mu is held.
func (p *Producer) queue(id string) *shardQueue {
	q := p.queues[id]
	if q == nil {
		q = &shardQueue{id: id}
		p.queues[id] = q
	}
	return q
}

// dispatch sends q's next batch if it is due, or arms q's timer for when
// it will be. p.mu is held.
func (p *Producer) dispatch(q *shardQueue, now time.Time) {
	if q.inflight || len(q.recs) == 0 || p.stale || p.refreshing || p.closedHard() {
		return
	}
	due := q.retryAt
	if !p.full(q) && p.flushing == 0 && !p.closed {
		if at := q.queuedAt[0].Add(p.cfg.linger); at.After(due) {
			due = at
		}
	}
	if due.After(now) {
		if q.timer == nil || !q.timerAt.Equal(due) {
			if q.timer != nil {
				q.timer.Stop()
			}
			q.timerAt = due
			q.timer = time.AfterFunc(due.Sub(now), func() {
				p.mu.Lock()
				defer p.mu.Unlock()
				q.timer = nil
				p.dispatch(q, time.Now())
			})
		}
		return
	}
	if q.timer != nil {
		q.timer.Stop()
		q.timer = nil
	}
	batch := p.take(q)
	q.inflight = true
	p.inflight++
	p.wg.Add(1)
	go p.send(q, batch, q.attempts+1)
}

// full reports whether q holds a full batch. p.mu is held.
func (p *Producer) full(q *shardQueue) bool {
	if q.bytes >= p.cfg.batchMaxBytes {
		return true
	}
	return !p.cfg.aggregate && len(q.recs) >= p.cfg.batchMaxRecords
}

// take removes the next batch from the head of q: up to the batch bounds,
// and at least one record. Aggregated batches are bounded by bytes only:
// many records go in one Kinesis record. p.mu is held.
func (p *Producer) take(q *shardQueue) []*PutResult {
	n, bytes := 0, 0
	for n < len(q.recs) {
		if n > 0 && (bytes+int(q.recs[n].size) > p.cfg.batchMaxBytes || (!p.cfg.aggregate && n == p.cfg.batchMaxRecords)) {
			break
		}
		bytes += int(q.recs[n].size)
		n++
	}
	batch := append([]*PutResult(nil), q.recs[:n]...)
	q.recs = append(q.recs[:0], q.recs[n:]...)
	q.queuedAt = append(q.queuedAt[:0], q.queuedAt[n:]...)
	q.bytes -= bytes
	return batch
}

// send sends one batch of q and settles its records.
func (p *Producer) send(q *shardQueue, batch []*PutResult, attempt int) {
	defer p.wg.Done()
	entries, owner := p.entries(batch)
	start := time.Now()
	ctx, cancel := context.WithTimeout(p.ctx, p.cfg.requestTimeout)
	results, err := p.tr.put(ctx, p.stream, entries)
	cancel()
	if err == nil && len(results) != len(entries) {
		err = fmt.Errorf("client: %d results for %d records", len(results), len(entries))
	}
	ev := BatchEvent{ShardID: q.id, Records: len(batch), Entries: len(entries), Attempt: attempt, Latency: time.Since(start), Err: err}
	for _, r := range batch {
		ev.Bytes += int(r.size)
	}

	p.mu.Lock()
	now := time.Now()
	var retry []*PutResult
	finished := make([]*PutResult, 0, len(batch))
	var cause error // the last error of a record to retry
	for i, r := range batch {
		var e *spatev1.PutRecordsResultEntry
		rerr := err
		if err == nil {
			e = results[owner[i]]
			if e.GetErrorCode() != "" {
				rerr = &apierr.Error{Code: apierr.Code(e.GetErrorCode()), Message: e.GetErrorMessage()}
			} else if e.GetShardId() != q.id {
				// The server routed it elsewhere: the shards changed.
				p.stale = true
			}
		}
		switch {
		case rerr == nil:
			if p.cfg.aggregate {
				r.subSequence = int32(subSequence(owner, i))
			}
			r.finish(e, nil)
			ev.Stored++
			finished = append(finished, r)
		case p.closedHard():
			r.finish(nil, ErrProducerClosed) // Close gave up: it may be stored
			ev.Failed++
			finished = append(finished, r)
		case retryable(rerr):
			retry, cause = append(retry, r), rerr
		default:
			r.finish(nil, rerr)
			ev.Failed++
			finished = append(finished, r)
		}
	}
	if len(retry) > 0 {
		// The backoff grows only while nothing gets through: a batch that
		// stored some of its records (a throttle's share) starts over.
		if ev.Stored > 0 {
			q.attempts = 1
		} else {
			q.attempts++
		}
		q.retryAt = now.Add(p.backoff(q.attempts))
		// Invariant: a shard's failed records go back before everything
		// newer of the shard, so a key's records are sent in Put order.
		recs := make([]*PutResult, 0, len(retry)+len(q.recs))
		at := make([]time.Time, 0, len(retry)+len(q.recs))
		for _, r := range retry {
			if q.retryAt.UnixNano() > r.deadline {
				r.finish(nil, p.timedOut(cause))
				ev.Failed++
				finished = append(finished, r)
				continue
			}
			recs = append(recs, r)
			at = append(at, now.Add(-p.cfg.linger)) // due when the backoff ends
			q.bytes += int(r.size)
		}
		ev.Retried = len(recs)
		q.recs = append(recs, q.recs...)
		q.queuedAt = append(at, q.queuedAt...)
	} else {
		q.attempts = 0
	}
	q.inflight = false
	p.inflight--
	p.release(finished)
	if p.stale {
		p.maybeRefresh()
	} else {
		p.dispatch(q, now)
	}
	p.mu.Unlock()

	if p.cfg.hooks != nil {
		p.cfg.hooks.OnBatch(ev)
	}
	p.notify(finished)
}

// subSequence is the place of batch record i in its aggregate: how many
// records before it share its entry.
func subSequence(owner []int, i int) int {
	n := 0
	for j := i - 1; j >= 0 && owner[j] == owner[i]; j-- {
		n++
	}
	return n
}

// release forgets finished records and wakes Puts waiting for room and
// Flushes waiting for the end. p.mu is held.
func (p *Producer) release(finished []*PutResult) {
	if len(finished) == 0 {
		return
	}
	for _, r := range finished {
		p.buffered--
		p.bufBytes -= int(r.size)
	}
	close(p.changed)
	p.changed = make(chan struct{})
}

// closedHard reports whether Close gave up draining. p.mu is held.
func (p *Producer) closedHard() bool { return p.ctx.Err() != nil }

// backoff returns the wait before a shard's n-th retry: exponential from
// backoffMin, capped at backoffMax, with "equal jitter": a random wait from
// half of it to all of it, so retries spread out and none comes at once.
func (p *Producer) backoff(n int) time.Duration {
	d := p.cfg.backoffMin
	for i := 1; i < n && d < p.cfg.backoffMax; i++ {
		d *= 2
	}
	d = min(d, p.cfg.backoffMax)
	return d/2 + rand.N(d/2+1)
}

// entries builds the Kinesis records of a batch: owner[i] is the entry of
// batch record i. Without aggregation they are one to one; with it,
// consecutive records share an aggregate up to its size.
func (p *Producer) entries(batch []*PutResult) (entries []*spatev1.PutRecordsRequestEntry, owner []int) {
	owner = make([]int, len(batch))
	if !p.cfg.aggregate {
		entries = make([]*spatev1.PutRecordsRequestEntry, len(batch))
		block := make([]spatev1.PutRecordsRequestEntry, len(batch)) // one allocation, not one per record
		for i, r := range batch {
			e := &block[i]
			e.PartitionKey, e.ExplicitHashKey, e.Data = r.rec.PartitionKey, r.rec.ExplicitHashKey, r.rec.Data
			entries[i] = e
			owner[i] = i
		}
		return entries, owner
	}
	agg := kpl.NewAggregator(kpl.WithMaxSize(p.cfg.aggregateMaxBytes))
	flush := func() {
		if a, ok := agg.Drain(); ok {
			entries = append(entries, &spatev1.PutRecordsRequestEntry{PartitionKey: a.PartitionKey, ExplicitHashKey: a.ExplicitHashKey, Data: a.Data})
		}
	}
	for i, r := range batch {
		kr := kpl.Record{PartitionKey: r.rec.PartitionKey, ExplicitHashKey: r.rec.ExplicitHashKey, Data: r.rec.Data}
		err := agg.Add(kr)
		if errors.Is(err, kpl.ErrFull) {
			flush()
			err = agg.Add(kr)
		}
		if err != nil { // too large for an aggregate: sent as it is
			flush()
			entries = append(entries, &spatev1.PutRecordsRequestEntry{PartitionKey: r.rec.PartitionKey, ExplicitHashKey: r.rec.ExplicitHashKey, Data: r.rec.Data})
			owner[i] = len(entries) - 1
			continue
		}
		owner[i] = len(entries) // the aggregate being filled
	}
	flush()
	return entries, owner
}

// retryable reports whether a record that failed with err may succeed if
// sent again.
func retryable(err error) bool {
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		// Not an answer of the server: the batch may not have arrived.
		return !errors.Is(err, ErrProducerClosed)
	}
	switch ae.Code {
	case apierr.ProvisionedThroughputExceeded, apierr.LimitExceeded, apierr.InternalFailure,
		apierr.ServiceUnavailable, apierr.ServiceUnavailableException, apierr.KMSThrottling,
		apierr.ResourceInUse: // the stream is being created or updated
		return true
	}
	return false
}

// maybeRefresh starts reloading the shard map once nothing is in flight.
// p.mu is held.
func (p *Producer) maybeRefresh() {
	if p.refreshing || p.inflight > 0 || p.closedHard() {
		return
	}
	p.stale = true
	p.refreshing = true
	p.wg.Add(1)
	go p.refresh()
}

// refresh reloads the shard map and routes every waiting record again,
// in order: records of a key all sat in one queue (or in unrouted), so
// they stay in order in their new queue.
func (p *Producer) refresh() {
	defer p.wg.Done()
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(p.ctx, p.cfg.requestTimeout)
		shards, err := p.tr.listShards(ctx, p.stream)
		cancel()
		var m *shardMap
		if err == nil {
			m, err = newShardMap(shards)
		}
		p.mu.Lock()
		if err == nil {
			p.install(m)
			p.mu.Unlock()
			return
		}
		p.refreshErr = fmt.Errorf("client: list the shards of %s: %w", p.stream, err)
		finished := p.expire(time.Now(), p.refreshErr)
		if p.closedHard() || !retryable(err) {
			// Nothing can be sent: fail what waits.
			finished = append(finished, p.failAll(p.refreshErr)...)
		}
		p.release(finished)
		idle := p.buffered == 0
		if idle || p.closedHard() {
			p.refreshing = false // the next Put tries again
			p.mu.Unlock()
			p.notify(finished)
			return
		}
		p.mu.Unlock()
		p.notify(finished)
		select {
		case <-time.After(p.backoff(attempt)):
		case <-p.ctx.Done():
		}
	}
}

// install makes m the shard map and routes every waiting record by it.
// p.mu is held.
func (p *Producer) install(m *shardMap) {
	old := p.queues
	p.shards, p.stale, p.refreshing, p.refreshErr = m, false, false, nil
	p.queues = make(map[string]*shardQueue, len(m.ids))
	for _, q := range old {
		if q.timer != nil {
			q.timer.Stop()
		}
		for i, r := range q.recs {
			nq := p.queue(m.route(hashOf(r.rec)))
			nq.push(r, q.queuedAt[i])
			if q.retryAt.After(nq.retryAt) {
				nq.retryAt = q.retryAt
			}
		}
		// The old queue is forgotten, but a timer of it that already
		// fired may still dispatch it: it must hold nothing.
		q.recs, q.queuedAt, q.bytes, q.timer = nil, nil, 0, nil
	}
	now := time.Now()
	for _, r := range p.unrouted {
		p.queue(m.route(hashOf(r.rec))).push(r, now)
	}
	p.unrouted = nil
	for _, q := range p.queues {
		p.dispatch(q, now)
	}
}

// expire fails the waiting records whose deadline has passed. p.mu is
// held.
func (p *Producer) expire(now time.Time, cause error) []*PutResult {
	var out []*PutResult
	keep := func(rs []*PutResult, at []time.Time) ([]*PutResult, []time.Time) {
		kr, ka := rs[:0], at[:0]
		for i, r := range rs {
			if now.UnixNano() > r.deadline {
				r.finish(nil, p.timedOut(cause))
				out = append(out, r)
				continue
			}
			kr = append(kr, r)
			if at != nil {
				ka = append(ka, at[i])
			}
		}
		return kr, ka
	}
	p.unrouted, _ = keep(p.unrouted, nil)
	for _, q := range p.queues {
		q.recs, q.queuedAt = keep(q.recs, q.queuedAt)
		q.bytes = 0
		for _, r := range q.recs {
			q.bytes += int(r.size)
		}
	}
	return out
}

// timedOut is the error of a record whose WithRecordTimeout passed; cause
// is the last reason it was not stored.
func (p *Producer) timedOut(cause error) error {
	return fmt.Errorf("client: record not stored within %s: %w", p.cfg.recordTimeout, cause)
}

// failAll fails every waiting record (none is in flight). p.mu is held.
func (p *Producer) failAll(err error) []*PutResult {
	out := p.unrouted
	p.unrouted = nil
	for _, q := range p.queues {
		out = append(out, q.recs...)
		q.recs, q.queuedAt, q.bytes = nil, nil, 0
	}
	for _, r := range out {
		r.finish(nil, err)
	}
	return out
}

// notify runs the result callback for finished records, outside p.mu.
func (p *Producer) notify(finished []*PutResult) {
	if p.cfg.onResult != nil {
		for _, r := range finished {
			p.cfg.onResult(r)
		}
	}
}

// Flush sends every buffered record without lingering and waits until all
// are finished (stored or failed), or ctx ends. Records put during Flush
// are waited for too.
func (p *Producer) Flush(ctx context.Context) error {
	p.mu.Lock()
	p.flushing++
	defer func() {
		p.mu.Lock()
		p.flushing--
		p.mu.Unlock()
	}()
	now := time.Now()
	for _, q := range p.queues {
		p.dispatch(q, now)
	}
	for p.buffered > 0 {
		changed := p.changed
		p.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
		p.mu.Lock()
	}
	p.mu.Unlock()
	return nil
}

// Close stops taking records (Put fails with ErrProducerClosed), sends
// every buffered one and waits for them as Flush does. If ctx ends first,
// the batches in flight are abandoned and every unfinished record fails
// with ErrProducerClosed (those in flight may still have been stored).
// Close returns ctx's error then. It is safe to call more than once.
func (p *Producer) Close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	err := p.Flush(ctx)
	if err != nil {
		// The batches in flight fail, and are not retried. Cancelled
		// under p.mu: no batch or refresh starts after it (closedHard).
		p.mu.Lock()
		p.cancel()
		p.mu.Unlock()
		p.wg.Wait()
		p.mu.Lock()
		finished := p.failAll(ErrProducerClosed)
		p.release(finished)
		p.mu.Unlock()
		p.notify(finished)
	}
	p.mu.Lock()
	p.cancel()
	p.mu.Unlock()
	p.wg.Wait()
	p.mu.Lock()
	for _, q := range p.queues {
		if q.timer != nil {
			q.timer.Stop()
			q.timer = nil
		}
	}
	p.mu.Unlock()
	if cerr := p.tr.close(); err == nil && cerr != nil {
		err = fmt.Errorf("client: close transport: %w", cerr)
	}
	return err
}
