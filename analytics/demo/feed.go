package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/internal/ctxsleep"
	"github.com/spatehq/spate/shard"
)

// MaxBatch is the most records Feed passes to send at once: one PutRecords
// request's worth.
const MaxBatch = shard.MaxPutRecordsEntries

// tick is how often Feed sends what has become due; at low rates it waits
// for one record instead.
const tick = 100 * time.Millisecond

// clock is what Feed reads the time from and sleeps with (a fake in tests).
type clock struct {
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

var wallClock = clock{now: time.Now, sleep: ctxsleep.Sleep}

// Feed generates rate records per second with g and passes them to send,
// in batches of at most MaxBatch, until ctx ends; then it returns nil. It
// returns send's first error (a cancelled send after ctx ended is not an
// error). Every record is stamped with the time it is generated.
//
// When send cannot keep up, Feed does not build a backlog: it falls behind
// by at most one second's worth of records and then drops the rest, so the
// event times stay close to the wall clock.
func Feed(ctx context.Context, g *Generator, rate int, send func(ctx context.Context, batch []Record) error) error {
	return feed(ctx, g, rate, send, wallClock)
}

func feed(ctx context.Context, g *Generator, rate int, send func(context.Context, []Record) error, c clock) error {
	if rate < 1 {
		return fmt.Errorf("demo: rate must be at least 1 record per second, got %d", rate)
	}
	// Rounded up, so that a record is due at the end of every interval.
	interval := max(tick, (time.Second+time.Duration(rate)-1)/time.Duration(rate))
	start, sent := c.now(), int64(0)
	batch := make([]Record, 0, MaxBatch)
	for {
		now := c.now()
		// Invariant: sent is the number of records due between start and
		// now, rounded down, once this iteration's batches are sent.
		due := dueBy(now.Sub(start), rate) - sent
		if due > int64(rate) {
			// More than a second behind: skip the backlog.
			sent += due - int64(rate)
			due = int64(rate)
		}
		for due > 0 {
			batch = batch[:0]
			for len(batch) < MaxBatch && int64(len(batch)) < due {
				batch = append(batch, g.NextRecord(now))
			}
			if err := send(ctx, batch); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			due -= int64(len(batch))
			sent += int64(len(batch))
		}
		if err := c.sleep(ctx, interval); err != nil {
			return nil
		}
	}
}

// dueBy is how many records are due after elapsed at rate per second,
// rounded down, without overflowing for long runs.
func dueBy(elapsed time.Duration, rate int) int64 {
	r := time.Duration(rate)
	return int64(elapsed/time.Second*r + elapsed%time.Second*r/time.Second)
}

// Run appends rate generated trades per second (seeded with seed) to the
// stream called name in store until ctx ends, creating the stream with one
// shard when it does not exist. It returns nil when ctx ends, and an error
// when an append fails (the stream was deleted); records refused for
// throughput are dropped.
func Run(ctx context.Context, store *shard.Store, name string, rate int, seed uint64) error {
	if err := EnsureStream(ctx, store, name); err != nil {
		return err
	}
	return feedStream(ctx, store, name, rate, seed)
}

// feedStream is Run on a stream that exists: it never creates one, so a
// stream deleted under it ends it (the append fails) rather than coming
// back.
func feedStream(ctx context.Context, store *shard.Store, name string, rate int, seed uint64) error {
	entries := make([]shard.Entry, 0, MaxBatch)
	return Feed(ctx, NewGenerator(seed), rate, func(ctx context.Context, batch []Record) error {
		entries = entries[:0]
		for _, r := range batch {
			entries = append(entries, shard.Entry{PartitionKey: r.PartitionKey, Data: r.Data})
		}
		res, err := store.Append(ctx, name, entries)
		if err != nil {
			return fmt.Errorf("demo: append to %s: %w", name, err)
		}
		for _, r := range res {
			// A throttled record (--enforce-limits, another producer on
			// the shard) is dropped as a backlog is: a demo's trades are
			// not worth a retry, and the feed must go on.
			if r.ErrorCode != "" && r.ErrorCode != string(apierr.ProvisionedThroughputExceeded) {
				return fmt.Errorf("demo: append to %s: %s: %s", name, r.ErrorCode, r.ErrorMessage)
			}
		}
		return nil
	})
}

// EnsureStream creates the stream called name with one shard unless it
// exists, and waits until it is ACTIVE.
func EnsureStream(ctx context.Context, store *shard.Store, name string) error {
	return ensureStream(ctx, store, name, nil)
}

// ensureStream is EnsureStream that first asks mayCreate (when not nil)
// whether it may create the stream, only when the stream is missing: the
// caller's authorization to create it is checked where the creation
// happens, not before, so no window lets a stream deleted meanwhile be
// created without it.
func ensureStream(ctx context.Context, store *shard.Store, name string, mayCreate func() error) error {
	_, err := store.DescribeStreamSummary(ctx, name)
	switch {
	case apierr.Is(err, apierr.ResourceNotFound):
		if mayCreate != nil {
			if err := mayCreate(); err != nil {
				return err
			}
		}
		err = store.CreateStream(ctx, shard.CreateStreamInput{Name: name, ShardCount: 1, Mode: shard.ModeProvisioned})
		if err != nil && !apierr.Is(err, apierr.ResourceInUse) {
			return fmt.Errorf("demo: create stream %s: %w", name, err)
		}
	case err != nil:
		return fmt.Errorf("demo: describe stream %s: %w", name, err)
	}
	for {
		d, err := store.DescribeStreamSummary(ctx, name)
		if err != nil {
			return fmt.Errorf("demo: describe stream %s: %w", name, err)
		}
		if d.Status == shard.StatusActive {
			return nil
		}
		if d.Status == shard.StatusDeleting {
			return apierr.New(apierr.ResourceInUse, "stream %s is being deleted: wait until it is gone, then try again", name)
		}
		if err := wallClock.sleep(ctx, 50*time.Millisecond); err != nil {
			return errors.Join(fmt.Errorf("demo: stream %s is not ACTIVE yet", name), err)
		}
	}
}
