package functions

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spatehq/spate/apierr"
)

// asyncQueue runs Event invocations: a bounded in-memory queue, a fixed
// set of workers, and retries after a delay. Invariant: at most cap(items)
// invocations are queued, running or waiting to retry (slots), so putting
// a retry back on the channel never blocks; and their payloads hold at
// most maxBytes (held), so a full queue of 1 MB events cannot take a GB.
type asyncQueue struct {
	s        *Service
	items    chan asyncItem
	slots    chan struct{}
	delays   []time.Duration
	maxBytes int64
	held     atomic.Int64 // payload bytes of the invocations holding slots

	ctx    context.Context // cancelled by close
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type asyncItem struct {
	function string
	inv      Invocation
	attempt  int // 0 first, then one per retry
}

func newAsyncQueue(s *Service, size, workers int, maxBytes int64, delays []time.Duration) *asyncQueue {
	ctx, cancel := context.WithCancel(context.Background())
	q := &asyncQueue{s: s, items: make(chan asyncItem, size), slots: make(chan struct{}, size),
		delays: delays, maxBytes: maxBytes, ctx: ctx, cancel: cancel}
	for range workers {
		q.wg.Add(1)
		go q.work()
	}
	return q
}

// enqueue queues an invocation, or answers TooManyRequestsException when
// the queue is full (in invocations or in payload bytes).
func (q *asyncQueue) enqueue(function string, inv Invocation) error {
	select {
	case q.slots <- struct{}{}:
	default:
		return apierr.New(apierr.TooManyRequests,
			"Rate Exceeded: %d asynchronous invocations are queued or running; retry later", cap(q.slots))
	}
	it := asyncItem{function: function, inv: inv}
	if n := q.held.Add(it.size()); n > q.maxBytes {
		q.release(it)
		return apierr.New(apierr.TooManyRequests,
			"Rate Exceeded: the asynchronous invocations queued or running hold %d bytes of payload, over %d; retry later", n, q.maxBytes)
	}
	if q.ctx.Err() != nil {
		q.release(it)
		return apierr.New(apierr.Service, "the server is shutting down")
	}
	q.items <- it
	return nil
}

// size is what it counts against maxBytes.
func (it asyncItem) size() int64 { return int64(len(it.inv.Payload) + len(it.inv.ClientContext)) }

// release gives back the slot and bytes it held.
func (q *asyncQueue) release(it asyncItem) {
	q.held.Add(-it.size())
	<-q.slots
}

func (q *asyncQueue) work() {
	defer q.wg.Done()
	for {
		select {
		case <-q.ctx.Done():
			return
		case it := <-q.items:
			q.run(it)
		}
	}
}

// run invokes it and, when it failed with retries left, puts it back after
// the retry's delay.
func (q *asyncQueue) run(it asyncItem) {
	log := q.s.cfg.logger
	rec, unpin, err := q.s.pinned(it.function)
	if err != nil { // deleted since
		log.Warn("functions: asynchronous invocation dropped", "function", it.function, "request_id", it.inv.RequestID, "err", err)
		q.release(it)
		return
	}
	res, err := q.s.execute(q.ctx, rec, it.inv)
	unpin()
	failure := ""
	switch {
	case err != nil:
		failure = err.Error()
	case res.FunctionError != "":
		failure = res.FunctionError + ": " + clip(string(res.Payload))
	}
	if failure == "" {
		q.release(it)
		return
	}
	if it.attempt >= len(q.delays) || q.ctx.Err() != nil {
		log.Warn("functions: asynchronous invocation failed; no retries left",
			"function", it.function, "request_id", it.inv.RequestID, "attempts", it.attempt+1, "err", failure)
		q.release(it)
		return
	}
	log.Info("functions: asynchronous invocation failed; retrying",
		"function", it.function, "request_id", it.inv.RequestID, "attempt", it.attempt+1, "retry_in", q.delays[it.attempt], "err", failure)
	d := q.delays[it.attempt]
	it.attempt++
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			q.items <- it // never blocks: it holds a slot
		case <-q.ctx.Done():
			q.release(it)
		}
	}()
}

// close cancels running invocations and drops queued ones.
func (q *asyncQueue) close() {
	q.cancel()
	q.wg.Wait()
}
