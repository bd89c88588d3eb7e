package membudget

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
)

// ErrBusy is returned by Acquire when the bytes could not be held within
// the Budget's MaxWait: the memory it guards is in use by other work.
var ErrBusy = errors.New("memory budget busy")

// DefaultMaxWait is how long Acquire queues before giving up, when New is
// given no WithMaxWait: long enough to ride out a burst of reads that each
// hold the budget for a few milliseconds, short enough that a client retries
// (with backoff) instead of piling up.
const DefaultMaxWait = 500 * time.Millisecond

// Budget is a bound on bytes held at once. It is safe for concurrent use.
// A nil *Budget is unlimited: its Holds are nil and cost nothing.
type Budget struct {
	sem     *semaphore.Weighted
	size    int64
	maxWait time.Duration
}

// Option configures New.
type Option func(*Budget)

// WithMaxWait sets how long Acquire queues for its bytes before it fails
// with ErrBusy (default DefaultMaxWait). Zero makes Acquire fail at once
// when the bytes are not free.
func WithMaxWait(d time.Duration) Option {
	return func(b *Budget) {
		if d >= 0 {
			b.maxWait = d
		}
	}
}

// New returns a Budget of size bytes; size must be positive.
func New(size int64, opts ...Option) (*Budget, error) {
	if size <= 0 {
		return nil, fmt.Errorf("membudget: size %d must be positive", size)
	}
	b := &Budget{sem: semaphore.NewWeighted(size), size: size, maxWait: DefaultMaxWait}
	for _, o := range opts {
		o(b)
	}
	return b, nil
}

// Size is the budget's bound in bytes (0 for a nil, unlimited Budget).
func (b *Budget) Size() int64 {
	if b == nil {
		return 0
	}
	return b.size
}

// Acquire holds n bytes, queueing (in FIFO order with other waiters) for at
// most the Budget's MaxWait. It returns ErrBusy when the bytes did not come
// free in time, and ctx's error when ctx ended first. A request larger than
// the whole budget is clamped to it, so that it can proceed alone instead
// of never.
func (b *Budget) Acquire(ctx context.Context, n int64) (*Hold, error) {
	if b == nil {
		return nil, nil
	}
	n = b.clamp(n)
	if b.sem.TryAcquire(n) { // the common case: no timer, no allocation but the Hold
		return b.hold(n), nil
	}
	if b.maxWait == 0 {
		return nil, ErrBusy
	}
	wctx, cancel := context.WithTimeout(ctx, b.maxWait)
	defer cancel()
	if err := b.sem.Acquire(wctx, n); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, ErrBusy
	}
	return b.hold(n), nil
}

// Wait holds n bytes, queueing for as long as ctx allows: for work that
// must not fail because the memory is busy, only wait for it. Like Acquire
// it clamps n to the budget's size.
func (b *Budget) Wait(ctx context.Context, n int64) (*Hold, error) {
	if b == nil {
		return nil, nil
	}
	n = b.clamp(n)
	if err := b.sem.Acquire(ctx, n); err != nil {
		return nil, err
	}
	return b.hold(n), nil
}

func (b *Budget) clamp(n int64) int64 {
	return min(max(n, 0), b.size)
}

func (b *Budget) hold(n int64) *Hold {
	return &Hold{b: b, n: n}
}

// Hold is bytes held from a Budget until Release. Its methods are safe for
// concurrent use and do nothing on a nil *Hold (from an unlimited Budget).
type Hold struct {
	b  *Budget
	mu sync.Mutex
	n  int64
}

// Bytes is how many bytes h still holds.
func (h *Hold) Bytes() int64 {
	if h == nil {
		return 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

// Shrink releases what h holds beyond n bytes: once an operation knows what
// it really allocated, the rest of its estimate goes back to the budget. It
// never grows h (growing could wait while holding, and deadlock).
func (h *Hold) Shrink(n int64) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if n = max(n, 0); n < h.n {
		h.b.sem.Release(h.n - n)
		h.n = n
	}
}

// Release returns everything h holds to its budget. Calling it again does
// nothing.
func (h *Hold) Release() { h.Shrink(0) }
