package bench

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// The catch-up measurement.
//
// Reading back what a target wrote in its own throughput round compared
// unlike things: a faster target had written more records (Spate twice
// kfake's), and a store could still be flushing them while they were read.
// Every target now reads the same number of records, written beforehand in
// the same way, from a settled store.

// Preload batches are the largest PutRecords takes, from preloadProducers
// producers: the fastest way to fill every target, and the one that gives a
// log store built of producer batches (kfake) its best layout.
const (
	preloadBatch     = 500
	preloadProducers = 4
)

// catchUpReadBudget ends a target's catch-up reads early: once its reads
// have taken this long, it reads no more (at least one read). kinesalite
// reads 200,000 records in about 20 s, and three reads of it made
// `--quick` a minute longer.
const catchUpReadBudget = 10 * time.Second

// catchUpResult is one target's catch-up measurement: the records/s of
// each read of records records, or why there is none.
type catchUpResult struct {
	records int
	reads   []float64
	err     error
}

// catchUpRecords is how many records the catch-up of w reads: the same for
// every target.
func (c Config) catchUpRecords(w Workload) int {
	n := c.CatchUpRecords
	if c.CatchUpBytes > 0 {
		n = min(n, c.CatchUpBytes/max(w.RecordSize, 1))
	}
	// Whole preload batches, at least one.
	return max(preloadBatch, n/preloadBatch*preloadBatch)
}

// CatchUp measures d's catch-up read on w's record size and shard count.
// A fresh target, set up with fsync off (how a record was made durable does
// not change how it is read), is preloaded with n records (Preload),
// settled when it can be (Settler), and then read from TRIM_HORIZON on
// every shard reads times (fewer once the reads have taken
// catchUpReadBudget), each time by a new reader. It returns each read's
// records/s; a read that does not return exactly n records fails the
// measurement.
func CatchUp(ctx context.Context, d Driver, w Workload, n, reads int) ([]float64, error) {
	// Bounds a hung target; never part of a figure.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	w.Durable = false
	if err := d.Setup(ctx, w); err != nil {
		return nil, fmt.Errorf("setup: %w", errors.Join(err, d.Close()))
	}
	out, err := catchUpReads(ctx, d, w, n, reads)
	return out, errors.Join(err, d.Close())
}

func catchUpReads(ctx context.Context, d Driver, w Workload, n, reads int) ([]float64, error) {
	if err := Preload(ctx, d, w.RecordSize, n); err != nil {
		return nil, fmt.Errorf("preload: %w", err)
	}
	if s, ok := d.(Settler); ok {
		if err := s.Settle(ctx); err != nil {
			return nil, fmt.Errorf("settle: %w", err)
		}
	}
	var out []float64
	began := time.Now()
	for i := range reads {
		if i > 0 && time.Since(began) > catchUpReadBudget {
			break // a slow target: its reads so far are its figure
		}
		start := time.Now()
		got, err := d.CatchUp(ctx, n)
		switch {
		case err != nil:
			return out, fmt.Errorf("catch-up: %w", err)
		case got != n:
			return out, fmt.Errorf("catch-up read %d records, want the %d preloaded", got, n)
		}
		out = append(out, float64(got)/time.Since(start).Seconds())
	}
	return out, nil
}

// Preload puts n records of size bytes (a whole number of batches of 500)
// into d's stream from 4 producers, batches back to back.
func Preload(ctx context.Context, d Driver, size, n int) error {
	producers, err := openProducers(ctx, d, preloadProducers)
	if err != nil {
		return err
	}
	defer closeProducers(producers)
	left := atomic.Int64{}
	left.Store(int64(n / preloadBatch))
	g, gctx := errgroup.WithContext(ctx)
	for _, p := range producers {
		g.Go(func() error {
			batch := NewBatch(preloadBatch, size)
			now := time.Now()
			for _, r := range batch {
				Stamp(r, now)
			}
			for left.Add(-1) >= 0 {
				if err := p.Put(gctx, batch); err != nil {
					return fmt.Errorf("put: %w", err)
				}
			}
			return nil
		})
	}
	return g.Wait()
}
