package esm

import (
	"context"
	"sync"
	"time"

	"github.com/spatehq/spate/internal/ctxsleep"
	"github.com/spatehq/spate/shard"
)

// lane delivers its share of a shard's records, one batch at a time.
type lane struct {
	p    *poller
	idx  int
	life liveness
	wake chan struct{} // cap 1: records arrived or the reader ended

	mu      sync.Mutex
	q       []item
	qBytes  int
	firstAt time.Time // when q last became non-empty
	ended   bool      // the reader stops handing records

	// win is the open tumbling window (lane 0 of a tumbling-window
	// mapping only); owned by the lane's goroutine.
	win *windowState
}

// item is a record queued in a lane, with its index in the tracker.
type item struct {
	rec  shard.Record
	idx  int64
	size int
}

func (l *lane) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *lane) push(items []item) {
	l.mu.Lock()
	if len(l.q) == 0 {
		l.firstAt = l.p.now()
	}
	l.q = append(l.q, items...)
	for _, it := range items {
		l.qBytes += it.size
	}
	l.mu.Unlock()
	l.signal()
}

// end tells the lane no more records come; it delivers what it holds and
// returns.
func (l *lane) end() {
	l.mu.Lock()
	l.ended = true
	l.mu.Unlock()
	l.signal()
}

func (l *lane) run(ctx context.Context) {
	set := l.p.set
	for ctx.Err() == nil {
		batch, final, ok := l.next(ctx)
		if !ok {
			break
		}
		if final {
			if l.finalInvoke(ctx, false) != nil {
				return
			}
			continue
		}
		if set.tumbling > 0 {
			if err := l.deliverWindowed(ctx, batch); err != nil {
				return
			}
			continue
		}
		if err := l.deliver(ctx, batch, false); err != nil {
			return
		}
	}
	l.mu.Lock()
	ended := l.ended && len(l.q) == 0
	l.mu.Unlock()
	if ended && ctx.Err() == nil && l.win != nil {
		// The shard ended: its last window closes with it.
		_ = l.finalInvoke(ctx, false)
	}
}

// next waits for the next batch: up to BatchSize records and the payload
// limit, waiting up to MaximumBatchingWindowInSeconds for it to fill. In a
// tumbling-window mapping a batch holds one window's records, and final
// is set instead when the open window must be closed first (a record of a
// later window is next, or the window's end passed with the shard read to
// its tip). ok is false once ctx ended or the reader ended and the queue
// is empty.
func (l *lane) next(ctx context.Context) (batch []item, final, ok bool) {
	set := l.p.set
	for {
		now := l.p.now()
		l.life.stamp(now)
		wait := l.p.beatEvery()
		l.mu.Lock()
		n, ended := len(l.q), l.ended
		if set.tumbling > 0 && n > 0 && l.win != nil && windowStart(l.q[0].rec, set.tumbling) != l.win.StartMs {
			l.mu.Unlock()
			return nil, true, true
		}
		full := n >= set.batchSize || l.qBytes >= MaxPayloadBytes
		due := n > 0 && (full || ended || !now.Before(l.firstAt.Add(set.batching)))
		if due {
			batch = l.takeLocked()
			l.mu.Unlock()
			return batch, false, true
		}
		if n > 0 {
			wait = min(wait, l.firstAt.Add(set.batching).Sub(now))
		}
		l.mu.Unlock()
		if n == 0 && ended {
			return nil, false, false
		}
		if set.tumbling > 0 && n == 0 && l.win != nil {
			// A record that arrived just before the end may still be
			// committing: close the window once the reader found the tip
			// a grace period after the end.
			closeAt := time.UnixMilli(l.win.StartMs).Add(set.tumbling + windowGrace)
			if l.p.tipSeenAfter(closeAt) {
				return nil, true, true
			}
			if now.Before(closeAt) {
				wait = min(wait, closeAt.Sub(now)+time.Millisecond)
			} else {
				wait = min(wait, 10*time.Millisecond) // the reader looks at the tip again soon
			}
		}
		t := time.NewTimer(max(wait, time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, false, false
		case <-l.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// takeLocked takes the next batch off the queue. The caller holds l.mu.
func (l *lane) takeLocked() []item {
	set := l.p.set
	n, size := 0, 0
	for n < len(l.q) && n < set.batchSize {
		if n > 0 && size+l.q[n].size > MaxPayloadBytes {
			break
		}
		if set.tumbling > 0 && n > 0 && windowStart(l.q[n].rec, set.tumbling) != windowStart(l.q[0].rec, set.tumbling) {
			break
		}
		size += l.q[n].size
		n++
	}
	batch := append([]item(nil), l.q[:n]...)
	l.q = append(l.q[:0:0], l.q[n:]...)
	l.qBytes -= size
	if len(l.q) > 0 {
		l.firstAt = l.p.now()
	}
	return batch
}

// windowGrace is how long after a tumbling window's end its final
// invocation waits for records that arrived before the end to become
// readable (an append is readable once its batch commits).
const windowGrace = time.Second

// windowStart is the start (unix ms) of the tumbling window a record
// belongs to, by its approximate arrival time.
func windowStart(r shard.Record, width time.Duration) int64 {
	ms := r.ArrivalTime.UnixMilli()
	w := width.Milliseconds()
	return ms - ((ms%w)+w)%w
}

// sleep waits d, showing life.
func (l *lane) sleep(ctx context.Context, d time.Duration) error {
	l.life.busy(l.p.now(), d)
	defer l.life.idle(l.p.now())
	return ctxsleep.Sleep(ctx, d)
}
