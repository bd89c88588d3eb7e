package client

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spatehq/spate/api/grpcapi"
	"github.com/spatehq/spate/apierr"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// shardRun reads one leased shard: a reader goroutine (Subscribe or
// GetRecords) feeds records to the run's own goroutine, which passes them
// to the handler in batches and checkpoints each batch under the lease's
// counter.
//
// Invariant: a batch is checkpointed only after the handler returned nil
// for it, and batches are handled in sequence-number order, so the
// checkpoint only ever covers processed records.
type shardRun struct {
	c        *Consumer
	shardID  string
	counter  uint64
	acquired time.Time
	from     *spatev1.StartingPosition
	// lastSeq is the sequence number of the last record checkpointed (or
	// the lease's checkpoint): a ShardEnd batch without records
	// checkpoints there.
	lastSeq string

	// readCtx ends the reader: on a graceful stop or a lost lease.
	readCtx    context.Context
	cancelRead context.CancelFunc
	// handlerCtx is the handler's and the checkpoint's: it ends only when
	// the lease is lost (or a graceful stop runs out of time).
	handlerCtx    context.Context
	cancelHandler context.CancelFunc
	draining      chan struct{} // closed by stop: finish the batch in hand
	stopOnce      sync.Once
	loseOnce      sync.Once
}

// readEvent is what a reader passes on: records in order, or the end of a
// closed shard.
type readEvent struct {
	records []*spatev1.Record
	behind  int64
	end     bool
}

// newShardRun prepares the run of a shard leased at or after acquired. Its
// contexts carry base's values but not its cancellation.
func newShardRun(base context.Context, c *Consumer, l *spatev1.Lease, acquired time.Time, from *spatev1.StartingPosition) *shardRun {
	r := &shardRun{c: c, shardID: l.GetShardId(), counter: l.GetLeaseCounter(), acquired: acquired, from: from,
		lastSeq: l.GetCheckpoint(), draining: make(chan struct{})}
	r.handlerCtx, r.cancelHandler = context.WithCancel(context.WithoutCancel(base))
	r.readCtx, r.cancelRead = context.WithCancel(r.handlerCtx)
	return r
}

// stop asks the run to finish the batch in hand, checkpoint it and end.
func (r *shardRun) stop() {
	r.stopOnce.Do(func() {
		close(r.draining)
		r.cancelRead()
	})
}

// lose ends the run at once: the lease is no longer this worker's, so
// nothing more is handled or checkpointed.
func (r *shardRun) lose() {
	r.loseOnce.Do(func() {
		r.cancel()
		if r.c.o.hooks.OnLeaseLost != nil {
			r.c.o.hooks.OnLeaseLost(r.shardID)
		}
	})
}

func (r *shardRun) cancel() { r.cancelHandler() }

// stopping reports whether the run should take no new batch.
func (r *shardRun) stopping() bool {
	select {
	case <-r.draining:
		return true
	default:
		return r.handlerCtx.Err() != nil
	}
}

func (r *shardRun) run() {
	defer r.c.ended(r)
	defer r.cancel()
	events := make(chan readEvent, 4)
	if r.c.o.getRecords {
		go r.poll(events)
	} else {
		go r.subscribe(events)
	}
	max := r.c.o.maxBatchRecords
	var pending []*spatev1.Record
	var behind int64
	end := false
	for !r.stopping() {
		// Wait for records, then take whatever else arrived meanwhile, up
		// to a batch's worth.
		for len(pending) == 0 && !end {
			select {
			case ev, ok := <-events:
				if !ok {
					return
				}
				pending, behind, end = append(pending, ev.records...), ev.behind, ev.end
			case <-r.draining:
				return
			case <-r.handlerCtx.Done():
				return
			}
		}
	more:
		for len(pending) < max && !end {
			select {
			case ev, ok := <-events:
				if !ok {
					break more
				}
				pending, behind, end = append(pending, ev.records...), ev.behind, ev.end
			default:
				break more
			}
		}
		n := min(len(pending), max)
		b := Batch{ShardID: r.shardID, Records: pending[:n:n], MillisBehindLatest: behind, ShardEnd: end && n == len(pending)}
		pending = pending[n:]
		out, ok := r.handle(b)
		if !ok || !r.checkpoint(b, out) {
			return
		}
		if b.ShardEnd {
			// The server marked the lease finished and handed it back.
			if r.c.o.hooks.OnShardEnd != nil {
				r.c.o.hooks.OnShardEnd(r.shardID)
			}
			return
		}
	}
}

// handle passes a batch to the handler until it succeeds. ok is false when
// the run must end without checkpointing: the lease was lost, the consumer
// is stopping while the batch waits for a retry, or Run must fail.
func (r *shardRun) handle(b Batch) (out []*spatev1.PutRecordsRequestEntry, ok bool) {
	hooks := r.c.o.hooks
	began := time.Now()
	for attempt := 1; ; attempt++ {
		if !r.c.leaseValid(r.acquired) {
			r.lose() // not renewed in time: another worker may hold it now
			return nil, false
		}
		buf := &outputBuffer{}
		b.output = buf
		err := r.c.handler(r.handlerCtx, b)
		if err == nil {
			if len(buf.records) > 0 && r.c.o.outputStream == "" {
				r.c.fail(ErrOutputNeedsExactlyOnce)
				return nil, false
			}
			if hooks.OnBatch != nil {
				hooks.OnBatch(r.shardID, len(b.Records), b.MillisBehindLatest, time.Since(began))
			}
			return buf.records, true
		}
		if hooks.OnHandlerError != nil {
			hooks.OnHandlerError(r.shardID, attempt, err)
		}
		if r.handlerCtx.Err() != nil {
			return nil, false
		}
		if r.c.o.stopOnError {
			r.c.fail(fmt.Errorf("handler of shard %s: %w", r.shardID, err))
			return nil, false
		}
		if !r.c.pause(r.handlerCtx, r.draining, attempt) {
			return nil, false
		}
	}
}

// checkpoint records a handled batch (and with WithExactlyOnce appends its
// output in the same atomic batch). ok is false when the run must end: the
// lease was lost, or an exactly-once or shard-end checkpoint could not be
// stored before a stop. An at-least-once checkpoint that fails otherwise
// is left to the next batch's, which covers this one's records too.
func (r *shardRun) checkpoint(b Batch, out []*spatev1.PutRecordsRequestEntry) bool {
	seq := r.lastSeq
	if n := len(b.Records); n > 0 {
		seq = b.Records[n-1].GetSequenceNumber()
	}
	req := &spatev1.CheckpointRequest{
		Group: r.c.ref, WorkerId: r.c.o.workerID, ShardId: r.shardID, LeaseCounter: r.counter,
		SequenceNumber: seq, ShardEnd: b.ShardEnd,
	}
	if r.c.o.outputStream != "" {
		req.OutputStreamName, req.OutputRecords = r.c.o.outputStream, out
	}
	mustStore := b.ShardEnd || len(out) > 0
	for attempt := 1; ; attempt++ {
		_, err := r.c.call(r.handlerCtx, func(ctx context.Context) (any, error) { return r.c.c.Groups.Checkpoint(ctx, req) })
		if r.c.o.hooks.OnCheckpoint != nil {
			r.c.o.hooks.OnCheckpoint(r.shardID, seq, err)
		}
		switch {
		case err == nil:
			r.lastSeq = seq
			return true
		case apierr.Is(err, apierr.LeaseLost):
			r.lose()
			return false
		case r.handlerCtx.Err() != nil:
			return false
		case !transient(err) && attempt > 1 && r.committed(seq, b.ShardEnd):
			// A retry refused because the first attempt did commit.
			r.lastSeq = seq
			return true
		case !transient(err):
			r.c.fail(fmt.Errorf("checkpoint shard %s at %s: %w", r.shardID, seq, err))
			return false
		case !mustStore:
			r.c.report("checkpoint "+r.shardID, err)
			return true
		}
		r.c.report("checkpoint "+r.shardID, err)
		if !r.c.pause(r.handlerCtx, r.draining, attempt) {
			return false
		}
		// The call may have failed after it committed (the answer was
		// lost). The server refuses a retry of a committed exactly-once
		// checkpoint rather than append its output twice, so look first.
		if r.committed(seq, b.ShardEnd) {
			r.lastSeq = seq
			return true
		}
	}
}

// committed reports whether the group's lease of the shard is still this
// run's and checkpointed at seq or later (finished, with shardEnd). false
// when the group cannot be read: the checkpoint is then sent again.
func (r *shardRun) committed(seq string, shardEnd bool) bool {
	resp, err := r.c.call(r.handlerCtx, func(ctx context.Context) (any, error) {
		return r.c.c.Groups.DescribeGroup(ctx, &spatev1.DescribeGroupRequest{Group: r.c.ref})
	})
	if err != nil {
		return false
	}
	for _, l := range resp.(*spatev1.DescribeGroupResponse).GetGroup().GetLeases() {
		if l.GetShardId() != r.shardID || l.GetLeaseCounter() != r.counter {
			continue
		}
		if shardEnd {
			return l.GetFinished()
		}
		cp := l.GetCheckpoint()
		return len(cp) == len(seq) && cp >= seq
	}
	return false
}

// send passes an event to the run; false when the reader must stop.
func (r *shardRun) send(events chan<- readEvent, ev readEvent) bool {
	select {
	case events <- ev:
		return true
	case <-r.readCtx.Done():
		return false
	}
}

// subscribe reads the shard with the Subscribe stream, resubscribing after
// the last record received when the stream breaks. It closes events when
// it stops.
func (r *shardRun) subscribe(events chan<- readEvent) {
	defer close(events)
	ctx := r.readCtx
	from, last := r.from, ""
	for attempt := 1; ctx.Err() == nil; attempt++ {
		if last != "" {
			from = &spatev1.StartingPosition{Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_AFTER_SEQUENCE_NUMBER, SequenceNumber: last}
		}
		sub, err := r.c.c.Streams.Subscribe(ctx, &spatev1.SubscribeRequest{
			StreamName: r.c.ref.GetStreamName(), ShardId: r.shardID, StartingPosition: from, ConsumerName: r.c.ref.GetGroup(),
		})
		children := false
		for err == nil {
			var ev *spatev1.SubscribeResponse
			ev, err = sub.Recv()
			if err == io.EOF && children {
				// The shard is closed and read to its end.
				r.send(events, readEvent{end: true})
				return
			}
			if err != nil {
				break
			}
			attempt = 1
			children = children || len(ev.GetChildShards()) > 0
			recs := ev.GetRecords()
			if len(recs) == 0 {
				continue
			}
			last = recs[len(recs)-1].GetSequenceNumber()
			if !r.send(events, readEvent{records: recs, behind: ev.GetMillisBehindLatest()}) {
				return
			}
		}
		if ctx.Err() != nil {
			return
		}
		r.c.report("subscribe to "+r.shardID, grpcapi.FromStatus(err))
		if !r.c.pause(ctx, nil, attempt) {
			return
		}
	}
}

// poll reads the shard with GetRecords, waiting the poll interval after an
// empty read. It closes events when it stops.
func (r *shardRun) poll(events chan<- readEvent) {
	defer close(events)
	ctx := r.readCtx
	iter, last := "", ""
	for attempt := 1; ctx.Err() == nil; {
		if iter == "" {
			from := r.from
			if last != "" {
				from = &spatev1.StartingPosition{Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_AFTER_SEQUENCE_NUMBER, SequenceNumber: last}
			}
			resp, err := r.c.call(ctx, func(ctx context.Context) (any, error) {
				return r.c.c.Streams.GetShardIterator(ctx, &spatev1.GetShardIteratorRequest{
					StreamName: r.c.ref.GetStreamName(), ShardId: r.shardID, ShardIteratorType: from.GetType(),
					StartingSequenceNumber: from.GetSequenceNumber(), Timestamp: from.GetTimestamp(),
				})
			})
			if err != nil {
				if ctx.Err() == nil {
					r.c.report("get shard iterator of "+r.shardID, err)
				}
				if !r.c.pause(ctx, nil, attempt) {
					return
				}
				attempt++
				continue
			}
			iter = resp.(*spatev1.GetShardIteratorResponse).GetShardIterator()
		}
		resp, err := r.c.call(ctx, func(ctx context.Context) (any, error) {
			return r.c.c.Streams.GetRecords(ctx, &spatev1.GetRecordsRequest{ShardIterator: iter, Limit: int32(min(r.c.o.maxBatchRecords, 10000))})
		})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			r.c.report("get records of "+r.shardID, err)
			if apierr.Is(err, apierr.ExpiredIterator) {
				iter = ""
			}
			if !r.c.pause(ctx, nil, attempt) {
				return
			}
			attempt++
			continue
		}
		attempt = 1
		got := resp.(*spatev1.GetRecordsResponse)
		if recs := got.GetRecords(); len(recs) > 0 {
			last = recs[len(recs)-1].GetSequenceNumber()
			if !r.send(events, readEvent{records: recs, behind: got.GetMillisBehindLatest()}) {
				return
			}
		}
		if iter = got.GetNextShardIterator(); iter == "" {
			r.send(events, readEvent{end: true})
			return
		}
		if len(got.GetRecords()) == 0 {
			t := time.NewTimer(r.c.o.pollInterval)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
	}
}
