package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/spatehq/spate/api/grpcapi"
	"github.com/spatehq/spate/apierr"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// Handler processes one batch of a shard's records. The consumer calls it
// for one shard at a time, in sequence-number order, and checkpoints the
// batch once it returns nil. An error means the batch was not processed:
// it is passed again after a backoff (or Run stops, with
// WithStopOnHandlerError), and nothing is checkpointed meanwhile.
//
// Handlers of different shards run concurrently. ctx is cancelled when the
// worker loses the shard's lease (another worker now reads the shard) or a
// graceful stop runs out of time; Run's own context does not reach it, so
// a stopping consumer lets the batch in hand finish.
//
// The batch's records are the handler's to keep; the consumer does not
// reuse them.
type Handler func(ctx context.Context, b Batch) error

// Batch is a run of consecutive records of one shard.
type Batch struct {
	ShardID string
	Records []*spatev1.Record
	// MillisBehindLatest is how far the batch's last record was behind the
	// shard's newest one when the server sent it.
	MillisBehindLatest int64
	// ShardEnd marks the last batch of a closed shard (after a split or a
	// merge). Its records may be empty. Once it is checkpointed, the
	// shard's children may be read.
	ShardEnd bool

	output *outputBuffer
}

// outputBuffer collects what a handler passes to Batch.Output.
type outputBuffer struct {
	records []*spatev1.PutRecordsRequestEntry
}

// Output adds records to write to the consumer's output stream
// (WithExactlyOnce) when the batch is checkpointed: they are appended in
// the same atomic batch as the checkpoint, only if the handler returns nil
// and the worker still holds the lease. Records output by a failed call are
// dropped. Without WithExactlyOnce, Run fails once the handler returns.
func (b Batch) Output(records ...*spatev1.PutRecordsRequestEntry) {
	if b.output != nil {
		b.output.records = append(b.output.records, records...)
	}
}

// ErrOutputNeedsExactlyOnce is what Run returns when a handler called
// Batch.Output on a consumer without WithExactlyOnce.
var ErrOutputNeedsExactlyOnce = errors.New("client: Batch.Output needs a consumer made WithExactlyOnce")

// Consumer is one worker of a consumer group: it holds leases on a share of
// the stream's shards, reads them and passes their records to a Handler.
// Make it with NewConsumer, then call Run.
type Consumer struct {
	c       *Client
	ref     *spatev1.GroupRef
	handler Handler
	o       consumerOptions

	closing   chan struct{} // closed by Close
	closeOnce sync.Once
	done      chan struct{} // closed when Run returns
	started   atomic.Bool

	// Set by Run before any shard starts, read-only afterwards.
	group        *spatev1.Group // as of the join: the initial position
	leaseTimeout time.Duration
	rnd          *rand.Rand // the Run goroutine's only

	// renewed is when the last successful heartbeat was sent (Unix
	// nanoseconds): the server renewed every lease at or after it.
	renewed atomic.Int64

	mu       sync.Mutex
	runs     map[string]*shardRun // the shards being read, by id
	fatal    error                // the first error that stops Run
	draining bool                 // no new shard starts

	wake chan struct{} // capacity 1: a shard stopped, look at the group now
}

// NewConsumer prepares a worker of group on stream. Nothing is sent until
// Run. The worker's id, initial position, lease timeout, reading mode and
// delivery guarantee are options (WithWorkerID, ...).
func NewConsumer(c *Client, stream, group string, handler Handler, opts ...ConsumerOption) *Consumer {
	o := defaultConsumerOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if o.workerID == "" {
		o.workerID = defaultWorkerID()
	}
	if o.outputStream != "" && !o.batchSet {
		o.maxBatchRecords = exactlyOnceMaxBatch
	}
	if o.maxBatchRecords <= 0 {
		o.maxBatchRecords = defaultMaxBatchRecords
	}
	// pause draws from (0, bound]: a non-positive backoff would panic there.
	if o.backoffMin <= 0 {
		o.backoffMin = defaultHandlerBackoffMin
	}
	if o.backoffMax < o.backoffMin {
		o.backoffMax = max(o.backoffMin, defaultHandlerBackoffMax)
	}
	return &Consumer{
		c:       c,
		ref:     &spatev1.GroupRef{StreamName: stream, Group: group},
		handler: handler,
		o:       o,
		closing: make(chan struct{}),
		done:    make(chan struct{}),
		runs:    map[string]*shardRun{},
		wake:    make(chan struct{}, 1),
	}
}

// WorkerID is the id this worker joins its group with.
func (c *Consumer) WorkerID() string { return c.o.workerID }

// Run joins the group and processes shards until ctx is cancelled or Close
// is called, then stops gracefully: the handlers finish the batches in
// hand (within WithShutdownTimeout), those are checkpointed, and the worker
// leaves the group, handing its leases back at once rather than after the
// lease timeout. It returns nil after such a stop, or the error that
// stopped it: a JoinGroup the server refused (an unknown stream, an invalid
// name), a handler's error with WithStopOnHandlerError, or
// ErrOutputNeedsExactlyOnce.
//
// Errors the consumer can outlive (an unreachable server, a broken
// subscription, a lost lease) are retried, and reported to
// ConsumerHooks.OnError. Run may be called once.
func (c *Consumer) Run(ctx context.Context) error {
	if !c.started.CompareAndSwap(false, true) {
		return errors.New("client: Consumer.Run called twice")
	}
	defer close(c.done)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-c.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	c.rnd = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))

	g, err := c.join(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	c.group = g
	c.leaseTimeout = time.Duration(g.GetLeaseTimeoutMillis()) * time.Millisecond
	interval := c.o.heartbeat
	if interval <= 0 {
		interval = c.leaseTimeout / defaultHeartbeatFraction
	}
	c.apply(ctx, g, true)

	tick := time.NewTicker(interval)
	defer tick.Stop()
	for ctx.Err() == nil && c.failed() == nil {
		select {
		case <-ctx.Done():
			continue
		case <-c.wake:
		case <-tick.C:
		}
		if g, ok := c.heartbeat(ctx); ok {
			c.apply(ctx, g, true)
		}
	}
	return c.shutdown(context.WithoutCancel(ctx), tick)
}

// Close stops Run gracefully (as cancelling its context does) and waits
// for it to return. It does not close the Client.
func (c *Consumer) Close() error {
	c.closeOnce.Do(func() { close(c.closing) })
	if c.started.Load() {
		<-c.done
	}
	return nil
}

// joinRequest is the worker's JoinGroup, with the settings of a new group.
func (c *Consumer) joinRequest() *spatev1.JoinGroupRequest {
	return &spatev1.JoinGroupRequest{
		Group:              c.ref,
		WorkerId:           c.o.workerID,
		InitialPosition:    c.o.initial.GetType(),
		InitialTimestamp:   c.o.initial.GetTimestamp(),
		LeaseTimeoutMillis: c.o.leaseTimeout.Milliseconds(),
	}
}

// join joins the group, retrying errors the server may recover from.
func (c *Consumer) join(ctx context.Context) (*spatev1.Group, error) {
	for attempt := 1; ; attempt++ {
		sent := time.Now()
		resp, err := c.call(ctx, func(ctx context.Context) (any, error) { return c.c.Groups.JoinGroup(ctx, c.joinRequest()) })
		if err == nil {
			c.renewed.Store(sent.UnixNano())
			return resp.(*spatev1.JoinGroupResponse).GetGroup(), nil
		}
		if !transient(err) {
			return nil, fmt.Errorf("join group %s of stream %s: %w", c.ref.GetGroup(), c.ref.GetStreamName(), err)
		}
		c.report("join group", err)
		if !c.pause(ctx, nil, attempt) {
			return nil, ctx.Err()
		}
	}
}

// heartbeat renews the worker and its leases. When the server no longer
// knows the worker (it was silent past the lease timeout), it joins again.
// ok is false when neither worked.
func (c *Consumer) heartbeat(ctx context.Context) (*spatev1.Group, bool) {
	sent := time.Now()
	resp, err := c.call(ctx, func(ctx context.Context) (any, error) {
		return c.c.Groups.Heartbeat(ctx, &spatev1.HeartbeatRequest{Group: c.ref, WorkerId: c.o.workerID})
	})
	if err == nil {
		c.renewed.Store(sent.UnixNano())
		return resp.(*spatev1.HeartbeatResponse).GetGroup(), true
	}
	if ctx.Err() != nil {
		return nil, false
	}
	c.report("heartbeat", err)
	if apierr.Is(err, apierr.ResourceNotFound) {
		resp, err := c.call(ctx, func(ctx context.Context) (any, error) {
			return c.c.Groups.JoinGroup(ctx, c.joinRequest())
		})
		if err == nil {
			c.renewed.Store(sent.UnixNano())
			return resp.(*spatev1.JoinGroupResponse).GetGroup(), true
		}
		c.report("join group again", err)
	}
	// Past the lease timeout without a renewal the leases may be another
	// worker's: stop reading them.
	if time.Since(time.Unix(0, c.renewed.Load())) >= c.leaseTimeout {
		c.mu.Lock()
		for _, r := range c.runs {
			r.lose()
		}
		c.mu.Unlock()
	}
	return nil, false
}

// apply brings the running shards in line with the group as the server
// sees it: a shard whose lease moved on stops at once, a live lease of this
// worker that no shard reads is read (after a rejoin or an expiry the
// server did not act on), and with plan set, the worker takes its share
// (planLeases).
func (c *Consumer) apply(ctx context.Context, g *spatev1.Group, plan bool) {
	self := c.o.workerID
	byShard := map[string]*spatev1.Lease{}
	for _, l := range g.GetLeases() {
		byShard[l.GetShardId()] = l
	}
	c.mu.Lock()
	for id, r := range c.runs {
		if l := byShard[id]; l == nil || l.GetOwner() != self || l.GetLeaseCounter() != r.counter {
			r.lose()
		}
	}
	draining := c.draining
	c.mu.Unlock()
	if !plan || draining || ctx.Err() != nil {
		return
	}
	now := time.Now()
	for _, l := range g.GetLeases() {
		if l.GetOwner() != self || l.GetExpires() == nil || !l.GetExpires().AsTime().After(now) || c.running(l.GetShardId()) {
			continue
		}
		if l.GetFinished() {
			c.release(ctx, l.GetShardId(), l.GetLeaseCounter())
			continue
		}
		c.start(ctx, l, time.Unix(0, c.renewed.Load()))
	}
	p := planLeases(g, self, now, c.rnd)
	for _, l := range p.take {
		c.acquire(ctx, l, false)
	}
	if p.steal != nil {
		c.acquire(ctx, p.steal, true)
	}
}

// acquire takes a lease and starts reading its shard.
func (c *Consumer) acquire(ctx context.Context, l *spatev1.Lease, steal bool) {
	sent := time.Now()
	resp, err := c.call(ctx, func(ctx context.Context) (any, error) {
		return c.c.Groups.AcquireLease(ctx, &spatev1.AcquireLeaseRequest{
			Group: c.ref, WorkerId: c.o.workerID, ShardId: l.GetShardId(), ExpectedLeaseCounter: l.GetLeaseCounter(),
		})
	})
	if err != nil {
		// Usually another worker was quicker; the next heartbeat shows.
		c.report("acquire lease of "+l.GetShardId(), err)
		return
	}
	got := resp.(*spatev1.AcquireLeaseResponse).GetLease()
	if c.o.hooks.OnLeaseAcquired != nil {
		c.o.hooks.OnLeaseAcquired(got.GetShardId(), steal)
	}
	c.start(ctx, got, sent)
}

// release hands a lease back, keeping its checkpoint.
func (c *Consumer) release(ctx context.Context, shardID string, counter uint64) {
	_, err := c.call(ctx, func(ctx context.Context) (any, error) {
		return c.c.Groups.ReleaseLease(ctx, &spatev1.ReleaseLeaseRequest{
			Group: c.ref, WorkerId: c.o.workerID, ShardId: shardID, LeaseCounter: counter,
		})
	})
	if err != nil && !apierr.Is(err, apierr.LeaseLost) {
		c.report("release lease of "+shardID, err)
	}
}

// shutdown stops every shard gracefully, keeps the leases renewed while the
// handlers finish, and leaves the group.
func (c *Consumer) shutdown(ctx context.Context, tick *time.Ticker) error {
	c.mu.Lock()
	c.draining = true
	for _, r := range c.runs {
		r.stop()
	}
	c.mu.Unlock()
	deadline := time.NewTimer(c.o.shutdownTimeout)
	defer deadline.Stop()
	for c.active() > 0 {
		select {
		case <-c.wake:
		case <-tick.C:
			if g, ok := c.heartbeat(ctx); ok {
				c.apply(ctx, g, false)
			}
		case <-deadline.C:
			c.mu.Lock()
			for _, r := range c.runs {
				r.lose()
			}
			c.mu.Unlock()
		}
	}
	if _, err := c.call(ctx, func(ctx context.Context) (any, error) {
		return c.c.Groups.LeaveGroup(ctx, &spatev1.LeaveGroupRequest{Group: c.ref, WorkerId: c.o.workerID})
	}); err != nil {
		c.report("leave group", err)
	}
	return c.failed()
}

// start begins reading a shard under lease l, taken at or after acquired.
func (c *Consumer) start(ctx context.Context, l *spatev1.Lease, acquired time.Time) {
	r := newShardRun(ctx, c, l, acquired, c.startPosition(l))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.draining || c.runs[l.GetShardId()] != nil {
		// A stop began meanwhile, or the shard is read already.
		r.cancel()
		return
	}
	c.runs[l.GetShardId()] = r
	go r.run()
}

// startPosition is where a shard is read from: after its checkpoint, from
// its start when it is a child of a reshard (its parents were read to
// their end), or the group's initial position.
func (c *Consumer) startPosition(l *spatev1.Lease) *spatev1.StartingPosition {
	if cp := l.GetCheckpoint(); cp != "" {
		return &spatev1.StartingPosition{Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_AFTER_SEQUENCE_NUMBER, SequenceNumber: cp}
	}
	if len(l.GetParentShardIds()) > 0 {
		return &spatev1.StartingPosition{Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON}
	}
	if t := c.group.GetInitialPosition(); t != spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_UNSPECIFIED {
		return &spatev1.StartingPosition{Type: t, Timestamp: c.group.GetInitialTimestamp()}
	}
	return c.o.initial
}

// ended is called by a shard's run when it stops.
func (c *Consumer) ended(r *shardRun) {
	c.mu.Lock()
	if c.runs[r.shardID] == r {
		delete(c.runs, r.shardID)
	}
	c.mu.Unlock()
	c.poke()
}

// poke wakes Run's loop to look at the group now.
func (c *Consumer) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// fail records the error that stops Run, the first one only.
func (c *Consumer) fail(err error) {
	c.mu.Lock()
	if c.fatal == nil {
		c.fatal = err
	}
	c.mu.Unlock()
	c.poke()
}

func (c *Consumer) failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fatal
}

func (c *Consumer) running(shardID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runs[shardID] != nil
}

func (c *Consumer) active() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.runs)
}

// leaseValid reports whether a lease taken at acquired is still this
// worker's as far as the worker can tell: renewed (taken, or by a
// heartbeat sent) less than the lease timeout ago. The server renews a
// lease when the call arrives, after it was sent, so this errs on the safe
// side of the server's own clock.
func (c *Consumer) leaseValid(acquired time.Time) bool {
	last := time.Unix(0, c.renewed.Load())
	if acquired.After(last) {
		last = acquired
	}
	return time.Since(last) < c.leaseTimeout
}

// call runs one unary call with the consumer's per-call timeout and turns
// a Spate error status into its *apierr.Error.
func (c *Consumer) call(ctx context.Context, f func(context.Context) (any, error)) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, defaultCallTimeout)
	defer cancel()
	resp, err := f(ctx)
	return resp, grpcapi.FromStatus(err)
}

// report passes an error the consumer retries to the OnError hook.
func (c *Consumer) report(op string, err error) {
	if c.o.hooks.OnError != nil {
		c.o.hooks.OnError(op, err)
	}
}

// pause waits the backoff of the attempt-th retry (from 1): full jitter
// under an exponential bound. It returns false when ctx ends or stop is
// closed first.
func (c *Consumer) pause(ctx context.Context, stop <-chan struct{}, attempt int) bool {
	bound := c.o.backoffMin << min(attempt-1, 20)
	if bound > c.o.backoffMax || bound <= 0 {
		bound = c.o.backoffMax
	}
	t := time.NewTimer(time.Duration(rand.Int64N(int64(bound)) + 1))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-stop:
		return false
	}
}

// transient reports whether a failed call may succeed if sent again: the
// server is unreachable or busy, the call timed out, or it lost a race
// with another worker's change (ConcurrentModificationException).
func transient(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false // the caller stopped
	}
	var ae *apierr.Error
	if errors.As(err, &ae) {
		switch ae.Code {
		case apierr.ProvisionedThroughputExceeded, apierr.LimitExceeded, apierr.ServiceUnavailable,
			apierr.ServiceUnavailableException, apierr.InternalFailure, apierr.ConcurrentModification:
			return true
		}
		return false
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Internal, codes.Unknown, codes.Aborted:
		return true
	}
	return false
}

func timestampOf(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}
