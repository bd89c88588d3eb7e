package bench

import (
	"context"
	"sync"
	"time"
)

// Clock is the time source of the open-loop scheduler; tests pass a fake.
type Clock interface {
	Now() time.Time
	// SleepUntil returns at t or when ctx is done, whichever is first.
	SleepUntil(ctx context.Context, t time.Time) error
}

// WallClock is the real clock.
type WallClock struct{}

// Now returns time.Now().
func (WallClock) Now() time.Time { return time.Now() }

// SleepUntil sleeps until t or until ctx is done.
func (WallClock) SleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// OpenLoop sends at fixed times, Start + i*Interval for i in [0, Count),
// whatever the replies do: each send runs in its own goroutine, so a slow
// reply never delays the sends after it. The caller measures latency from the
// scheduled time it is given, not from when the send began, so time a send
// spends queued behind slow ones counts (no coordinated omission).
type OpenLoop struct {
	Start    time.Time
	Interval time.Duration
	Count    int
	// MaxInFlight bounds the sends outstanding at once (0: no bound), so an
	// overloaded target cannot make the bench spawn goroutines without end.
	// When it is reached the scheduler waits; the sends it then issues late
	// still carry their scheduled time.
	MaxInFlight int
}

// Run issues the sends and returns once all have returned, or ctx is done
// (then sends not yet issued are skipped and the issued ones are waited
// for). send gets its scheduled time.
func (o OpenLoop) Run(ctx context.Context, clk Clock, send func(scheduled time.Time)) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	var slots chan struct{}
	if o.MaxInFlight > 0 {
		slots = make(chan struct{}, o.MaxInFlight)
	}
	for i := range o.Count {
		at := o.Start.Add(time.Duration(i) * o.Interval)
		if err := clk.SleepUntil(ctx, at); err != nil {
			return err
		}
		if slots != nil {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if slots != nil {
				defer func() { <-slots }()
			}
			send(at)
		}()
	}
	return nil
}
