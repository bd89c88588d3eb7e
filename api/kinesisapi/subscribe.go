package kinesisapi

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/internal/throttle"
	"github.com/spatehq/spate/shard"
)

// SubscribeToShard, enhanced fan-out's push read (issue 13). The request
// is checked before anything is sent, so its errors are ordinary error
// replies: an unknown consumer or shard ResourceNotFoundException, a
// consumer that is not ACTIVE ResourceInUseException, a bad starting
// position InvalidArgumentException. Then the reply is an event stream
// (awsproto.EventStream): the initial response, then SubscribeToShardEvent
// events as records are committed (the store's blocking Wait, no polling),
// at most maxEventBytes of records each, one at once when there is nothing
// to read and then one every heartbeat while the shard stays idle, so the
// client always has a ContinuationSequenceNumber. The stream ends:
//   - after MaxSubscriptionDuration (5 minutes, as in Kinesis), cleanly;
//   - at the end of a closed shard, after an event with the ChildShards;
//   - when another SubscribeToShard of the same consumer and shard takes
//     over (at least takeoverAfter after this one started; within that
//     time the newer call is refused with ResourceInUseException, as the
//     API reference says), with a ResourceInUseException event;
//   - when the consumer is deregistered through this handler
//     (ResourceNotFoundException event) or its stream deleted (the store's
//     ResourceNotFoundException);
//   - when the handler closes (awsproto.Handler.Close), cleanly.
//
// Each subscription reports its iterator age as its consumer's
// (shard.Store.AcquireConsumer: the consumer label is the consumer's
// name), and under --enforce-limits reads at most 2 MiB/s per consumer and
// shard (throttle.FanOutShard), apart from the shard's GetRecords budget:
// it waits rather than fails, since nothing asks it to read.

// MaxSubscriptionDuration is how long a SubscribeToShard stream lasts
// (awsproto.WithMaxStreamDuration changes it).
const MaxSubscriptionDuration = 5 * time.Minute

const (
	// takeoverAfter is how long a subscription is protected from being
	// taken over by another call of the same consumer and shard.
	takeoverAfter = 5 * time.Second
	// callEvery is how often a consumer may call SubscribeToShard for one
	// shard: "one call per second per registered consumer per shard"
	// (API reference).
	callEvery = time.Second
	// heartbeat is how often an idle subscription gets an empty event.
	heartbeat = 5 * time.Second
	// maxEventBytes bounds the records' data and keys in one event (a
	// larger record goes alone), well under the 16 MiB that the SDKs'
	// event-stream decoders take in one message.
	maxEventBytes = 1 << 20
)

// subscribeStore is what SubscribeToShard needs of the store.
type subscribeStore interface {
	Seek(ctx context.Context, name, shardID string, pos shard.Position) (shard.Cursor, error)
	ReadInto(ctx context.Context, c shard.Cursor, limit, maxBytes int, sink shard.RecordSink) (shard.ReadResult, error)
	Wait(ctx context.Context, c shard.Cursor) error
	AcquireConsumer(ctx context.Context, name string) (context.Context, func())
	FanOutLimited(name string) bool
}

type subscribeToShardRequest struct {
	ConsumerARN      *string           `json:"ConsumerARN"`
	StreamID         *string           `json:"StreamId"`
	ShardID          *string           `json:"ShardId"`
	StartingPosition *startingPosition `json:"StartingPosition"`
}

type startingPosition struct {
	Type           *string                `json:"Type"`
	SequenceNumber *string                `json:"SequenceNumber"`
	Timestamp      *awsproto.EpochSeconds `json:"Timestamp"`
}

// subscribeToShardEvent is a SubscribeToShardEvent; it encodes itself as
// GetRecords' reply does.
type subscribeToShardEvent struct {
	Records                    *recordBlock    `json:"-"` // records.go; nil for none
	ContinuationSequenceNumber string          `json:"ContinuationSequenceNumber"`
	MillisBehindLatest         int64           `json:"MillisBehindLatest"`
	ChildShards                []childShardOut `json:"ChildShards,omitempty"`
}

var (
	_ awsproto.Appender     = subscribeToShardEvent{}
	_ awsproto.CBORAppender = subscribeToShardEvent{}
	_ awsproto.EventStream  = (*subscription)(nil)
)

const (
	jsonContinuation = `,"ContinuationSequenceNumber":`
	eventFramingLen  = len(`{"Records":`) + len(jsonContinuation) + len(jsonMillisBehind) + maxInt64JSONLen + len(jsonChildShards) + len(`}`)
)

func (e subscribeToShardEvent) JSONLen() int {
	return eventFramingLen + jsonStringLen(e.ContinuationSequenceNumber) + e.Records.JSONLen() + childShardsJSONLen(e.ChildShards)
}

func (e subscribeToShardEvent) AppendJSON(b []byte) []byte {
	b = append(b, `{"Records":`...)
	b = e.Records.AppendJSON(b)
	b = append(b, jsonContinuation...)
	b = appendJSONString(b, e.ContinuationSequenceNumber)
	return appendLagAndChildrenJSON(b, e.MillisBehindLatest, e.ChildShards)
}

// AppendCBOR leaves events with child shards to the transcoding, as
// GetRecords does.
func (e subscribeToShardEvent) AppendCBOR(b []byte) ([]byte, bool) {
	if len(e.ChildShards) > 0 {
		return nil, false
	}
	b = awsproto.AppendCBORMap(b, 3)
	b = awsproto.AppendCBORText(b, "Records")
	b, ok := e.Records.AppendCBOR(b)
	if !ok {
		return nil, false
	}
	b = awsproto.AppendCBORText(b, "ContinuationSequenceNumber")
	b = awsproto.AppendCBORText(b, e.ContinuationSequenceNumber) // digits only
	b = awsproto.AppendCBORText(b, "MillisBehindLatest")
	b = awsproto.AppendCBORInt(b, e.MillisBehindLatest)
	return b, true
}

// subscribeToShard checks the request and returns the subscription, which
// awsproto streams.
func (h *handler) subscribeToShard(ctx context.Context, in *subscribeToShardRequest) (*subscription, error) {
	arn := str(in.ConsumerARN)
	c, err := h.store.DescribeStreamConsumer(ctx, shard.ConsumerRef{ConsumerARN: arn})
	if err != nil {
		return nil, err
	}
	if c.Status != shard.ConsumerActive {
		return nil, apierr.New(apierr.ResourceInUse,
			"Consumer %s is %s, not ACTIVE; subscribe once DescribeStreamConsumer shows it ACTIVE.", c.ARN, c.Status)
	}
	stream, err := h.store.ResolveStream("", c.StreamARN)
	if err != nil {
		return nil, err
	}
	sp := in.StartingPosition // required: the model's validation saw it
	pos := shard.Position{Type: shard.IteratorType(str(sp.Type)), SequenceNumber: str(sp.SequenceNumber)}
	if sp.Timestamp != nil {
		pos.Timestamp = time.Time(*sp.Timestamp)
	}
	cur, err := h.store.Seek(ctx, stream, str(in.ShardID), pos)
	if err != nil {
		return nil, err
	}
	sub := &subscription{
		h: h, consumer: c.Name, cursor: cur,
		key: subscriptionKey{consumerARN: c.ARN, shardID: cur.ShardID},
	}
	if h.store.FanOutLimited(stream) {
		sub.meter = h.fanOut.meter(sub.key, h.fanOut.clock())
	}
	if err := h.fanOut.claim(sub); err != nil {
		return nil, err
	}
	return sub, nil
}

// subscriptionKey is what a subscription holds: one consumer's shard.
type subscriptionKey struct{ consumerARN, shardID string }

// fanOut is a handler's running subscriptions, one per consumer and
// shard, and the consumers' read meters.
type fanOut struct {
	mu     sync.Mutex
	subs   map[subscriptionKey]*subscription
	meters map[subscriptionKey]*throttle.Meter
	// calls holds when each consumer's shard was last subscribed to, for
	// the one-call-per-second rule; entries older than callEvery are
	// swept once the map reaches sweepAt, so it stays in proportion to
	// the calls of the last second.
	calls   map[subscriptionKey]time.Time
	sweepAt int
	// takeoverAfter, callEvery and heartbeat are the constants of the
	// same names (tests shorten them); now is time.Now.
	takeoverAfter, callEvery, heartbeat time.Duration
	now                                 func() time.Time
}

func newFanOut() *fanOut {
	return &fanOut{
		subs: make(map[subscriptionKey]*subscription), meters: make(map[subscriptionKey]*throttle.Meter),
		calls:         make(map[subscriptionKey]time.Time),
		takeoverAfter: takeoverAfter, callEvery: callEvery, heartbeat: heartbeat, now: time.Now,
	}
}

func (f *fanOut) clock() time.Time { return f.now() }

// meter returns the read meter of a consumer's shard, made on first use.
// It outlives subscriptions, so that subscribing again does not refill it.
func (f *fanOut) meter(k subscriptionKey, now time.Time) *throttle.Meter {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.meters[k]
	if m == nil {
		m = throttle.NewMeter(throttle.FanOutShard, now)
		f.meters[k] = m
	}
	return m
}

// claim makes sub the subscription of its consumer's shard: it refuses it
// while the running one is younger than takeoverAfter
// (ResourceInUseException), or within callEvery of the last subscription
// of the same consumer and shard (LimitExceededException), and otherwise
// ends the running one with ResourceInUseException.
func (f *fanOut) claim(sub *subscription) error {
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	old := f.subs[sub.key]
	if old != nil && now.Sub(old.started) < f.takeoverAfter {
		return apierr.New(apierr.ResourceInUse,
			"Another active subscription exists for consumer %s on shard %s, started less than %v ago; subscribe again later to take it over.",
			sub.key.consumerARN, sub.key.shardID, f.takeoverAfter)
	}
	if last, ok := f.calls[sub.key]; ok && now.Sub(last) < f.callEvery {
		return apierr.New(apierr.LimitExceeded,
			"Consumer %s subscribed to shard %s less than %v ago; SubscribeToShard takes one call per second per consumer and shard.",
			sub.key.consumerARN, sub.key.shardID, f.callEvery)
	}
	f.noteCall(sub.key, now)
	if old != nil {
		old.end(apierr.New(apierr.ResourceInUse,
			"The subscription of consumer %s to shard %s was taken over by a newer SubscribeToShard call.", sub.key.consumerARN, sub.key.shardID))
	}
	sub.started = now
	sub.ctx, sub.cancel = context.WithCancelCause(context.Background())
	f.subs[sub.key] = sub
	return nil
}

// noteCall records a subscription's start for the one-call-per-second
// rule, sweeping the entries too old to matter when the map has doubled
// since the last sweep. The caller holds f.mu.
func (f *fanOut) noteCall(k subscriptionKey, now time.Time) {
	f.calls[k] = now
	if len(f.calls) < f.sweepAt {
		return
	}
	for k, t := range f.calls {
		if now.Sub(t) >= f.callEvery {
			delete(f.calls, k)
		}
	}
	f.sweepAt = 2*len(f.calls) + 64
}

// release forgets sub once its stream is over.
func (f *fanOut) release(sub *subscription) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.subs[sub.key] == sub {
		delete(f.subs, sub.key)
	}
	sub.cancel(nil)
}

// endConsumer ends the subscriptions of a deregistered consumer and
// forgets its meters.
func (f *fanOut) endConsumer(arn string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, sub := range f.subs {
		if k.consumerARN == arn {
			sub.end(apierr.New(apierr.ResourceNotFound, "Consumer %s was deregistered.", arn))
			delete(f.subs, k)
		}
	}
	for k := range f.meters {
		if k.consumerARN == arn {
			delete(f.meters, k)
		}
	}
}

// endStream forgets the meters of a deleted stream's consumers, whose ARNs
// start with the stream's (their running subscriptions end on their own:
// the store answers ResourceNotFoundException). Without it they would
// stay until the handler closes, since the consumers are gone without a
// DeregisterStreamConsumer.
func (f *fanOut) endStream(streamARN string) {
	prefix := streamARN + "/consumer/"
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.meters {
		if strings.HasPrefix(k.consumerARN, prefix) {
			delete(f.meters, k)
		}
	}
}

// subscription is one SubscribeToShard stream.
type subscription struct {
	h        *handler
	key      subscriptionKey
	consumer string          // the consumer's name, its iterator-age label
	cursor   shard.Cursor    // where it starts
	meter    *throttle.Meter // nil: not limited
	started  time.Time
	// ctx is done, with the reason as its cause, when the subscription is
	// taken over or its consumer deregistered.
	ctx    context.Context
	cancel context.CancelCauseFunc
}

// end ends the subscription with err, an exception for its client.
func (s *subscription) end(err error) { s.cancel(err) }

// Release forgets the subscription once awsproto has ended its stream (or
// could not start it).
func (s *subscription) Release() {
	if s != nil { // the action failed
		s.h.fanOut.release(s)
	}
}

// Stream sends the subscription's events (awsproto.EventStream).
func (s *subscription) Stream(ctx context.Context, w *awsproto.EventWriter) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(s.ctx, func() { cancel(context.Cause(s.ctx)) })
	defer stop()
	ctx, release := s.h.store.AcquireConsumer(ctx, s.consumer)
	defer release()
	err := s.run(ctx, w)
	if ctx.Err() != nil {
		// Taken over or deregistered: the cause is the exception;
		// anything else (time up, handler closed, client gone) is
		// awsproto's to judge from its own context.
		if cause := context.Cause(ctx); apierr.CodeOf(cause) != apierr.InternalFailure {
			return cause
		}
		return ctx.Err()
	}
	return err
}

func (s *subscription) run(ctx context.Context, w *awsproto.EventWriter) error {
	store, f := s.h.store, s.h.fanOut
	c := s.cursor
	idle := true // nothing sent yet: the first read sends an event even without records
	records := newRecordBlock()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.meter != nil {
			if err := pace(ctx, s.meter, f.now); err != nil {
				return err
			}
		}
		records.reset()
		res, err := store.ReadInto(ctx, c, shard.MaxGetRecordsLimit, maxEventBytes, records)
		if err != nil {
			return err
		}
		if records.Len() > 0 || res.ShardEnded || idle {
			ev := subscribeToShardEvent{
				Records:                    records,
				ContinuationSequenceNumber: res.Next.ContinuationSequenceNumber(),
				MillisBehindLatest:         res.MillisBehindLatest,
				ChildShards:                toChildShardsOut(res.ChildShards),
			}
			if err := w.Send("SubscribeToShardEvent", ev); err != nil {
				return err
			}
			if s.meter != nil {
				s.meter.Charge(f.now(), records.bytes)
			}
		}
		if res.ShardEnded {
			return nil
		}
		c, idle = res.Next, false
		if res.MillisBehindLatest > 0 {
			continue // more to read now
		}
		wctx, wcancel := context.WithTimeout(ctx, f.heartbeat)
		err = store.Wait(wctx, c)
		wcancel()
		switch {
		case err == nil:
		case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
			idle = true // no record for a heartbeat: an empty event
		default:
			return err
		}
	}
}

// pace waits until m lets a consumer read again.
func pace(ctx context.Context, m *throttle.Meter, now func() time.Time) error {
	for {
		d := m.ReadDelay(now())
		if d <= 0 {
			return nil
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}
