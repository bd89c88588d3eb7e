package bench

import (
	"context"
	"sync"
	"testing"
	"time"
)

// fakeClock is a virtual clock: SleepUntil moves it forward at once, so the
// scheduler's logic runs without waiting. When started is set, the n-th
// sleep (n >= 1) first waits for one token from it: a test that sends a
// token as each send begins thereby holds the clock until the send before
// the sleep has begun, so a send reading Now sees the time it was issued at.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	sleeps  int
	started chan struct{}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) SleepUntil(ctx context.Context, t time.Time) error {
	c.sleeps++ // only the scheduler's goroutine sleeps
	if c.started != nil && c.sleeps > 1 {
		select {
		case <-c.started:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
	return ctx.Err()
}

// TestOpenLoopIgnoresReplies checks the property that keeps coordinated
// omission out: every send is issued at its scheduled time even though no
// send returns until all have been issued. A closed loop (wait for the
// reply, then send) would issue only the first and never finish.
func TestOpenLoopIgnoresReplies(t *testing.T) {
	start := time.Unix(1000, 0)
	const n = 50
	clk := &fakeClock{now: start, started: make(chan struct{}, n)}
	loop := OpenLoop{Start: start, Interval: 10 * time.Millisecond, Count: n}

	var mu sync.Mutex
	issued := map[time.Time]time.Time{} // scheduled -> clock when issued
	allIssued := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- loop.Run(t.Context(), clk, func(scheduled time.Time) {
			mu.Lock()
			issued[scheduled] = clk.Now()
			clk.started <- struct{}{}
			if len(issued) == n {
				close(allIssued)
			}
			mu.Unlock()
			<-allIssued // a reply that comes only after every send left
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second): // a hang, not a speed check
		t.Fatal("Run did not finish: a send waited for an earlier reply")
	}
	if len(issued) != n {
		t.Fatalf("issued %d sends, want %d", len(issued), n)
	}
	for i := range n {
		at := start.Add(time.Duration(i) * loop.Interval)
		got, ok := issued[at]
		if !ok {
			t.Errorf("send %d scheduled at %v never issued", i, at)
			continue
		}
		if !got.Equal(at) {
			t.Errorf("send %d issued at +%v, want +%v", i, got.Sub(start), at.Sub(start))
		}
	}
}

// TestOpenLoopInFlightBound checks that MaxInFlight holds sends back, and
// that a send issued late still carries its scheduled time.
func TestOpenLoopInFlightBound(t *testing.T) {
	start := time.Unix(1000, 0)
	clk := &fakeClock{now: start}
	loop := OpenLoop{Start: start, Interval: time.Millisecond, Count: 6, MaxInFlight: 2}
	var mu sync.Mutex
	inFlight, peak := 0, 0
	var got []time.Time
	release := make(chan struct{})
	go func() {
		for range 6 {
			release <- struct{}{}
		}
	}()
	err := loop.Run(t.Context(), clk, func(scheduled time.Time) {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		got = append(got, scheduled)
		mu.Unlock()
		<-release
		mu.Lock()
		inFlight--
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	if peak > 2 {
		t.Errorf("peak in flight = %d, want at most 2", peak)
	}
	if len(got) != 6 {
		t.Fatalf("sends = %d, want 6", len(got))
	}
	seen := map[time.Time]bool{}
	for _, s := range got {
		seen[s] = true
	}
	for i := range 6 {
		if at := start.Add(time.Duration(i) * time.Millisecond); !seen[at] {
			t.Errorf("no send carried scheduled time +%v", at.Sub(start))
		}
	}
}

func TestOpenLoopCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := 0
	err := OpenLoop{Start: time.Unix(0, 0), Interval: time.Second, Count: 3}.Run(ctx, &fakeClock{}, func(time.Time) { calls++ })
	if err == nil || calls != 0 {
		t.Errorf("Run on a cancelled context: err %v, %d sends; want an error and none", err, calls)
	}
}
