package bench

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"
)

// memDriver is a target that keeps its records in memory. It puts at most
// putsPerRound batches per Setup (a slow target acknowledges fewer records
// in a throughput run), and records what the runner asked of it.
type memDriver struct {
	name         string
	settles      bool
	putsPerRound int

	mu       sync.Mutex
	w        Workload
	records  int
	puts     int
	settled  bool
	catchUps []catchUpCall
}

// catchUpCall is what one CatchUp saw.
type catchUpCall struct {
	want, stored int
	durable      bool
	settled      bool
}

func (d *memDriver) Name() string     { return d.name }
func (d *memDriver) Available() error { return nil }
func (d *memDriver) Setup(_ context.Context, w Workload) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.w, d.records, d.puts, d.settled = w, 0, 0, false
	return nil
}
func (d *memDriver) Producer(context.Context) (Producer, error) { return memProducer{d}, nil }
func (d *memDriver) Tail(context.Context, func([]byte)) (func() error, error) {
	return nil, ErrUnsupported
}
func (d *memDriver) CatchUp(_ context.Context, want int) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.catchUps = append(d.catchUps, catchUpCall{want: want, stored: d.records, durable: d.w.Durable, settled: d.settled})
	return d.records, nil
}
func (d *memDriver) Close() error { return nil }

// settlingDriver is a memDriver that is a Settler.
type settlingDriver struct{ *memDriver }

func (d settlingDriver) Settle(context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.settled = true
	return nil
}

type memProducer struct{ d *memDriver }

func (p memProducer) Put(ctx context.Context, records [][]byte) error {
	p.d.mu.Lock()
	throttled := p.d.putsPerRound > 0 && p.d.puts >= p.d.putsPerRound && p.d.w.Durable
	if !throttled {
		p.d.puts++
		p.d.records += len(records)
	}
	p.d.mu.Unlock()
	if throttled {
		// A slow target: the throughput run acknowledges no more.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}
func (memProducer) Close() error { return nil }

// TestCatchUpSameRecordsEveryTarget: every target's catch-up reads the same
// number of records, preloaded with fsync off into a fresh target, settled
// where the target can be, and read once per round; not what each target
// happened to write in its own throughput run (a fast target used to read
// back several times more records than a slow one).
func TestCatchUpSameRecordsEveryTarget(t *testing.T) {
	fast := &memDriver{name: "fast"}
	slow := &memDriver{name: "slow", putsPerRound: 2}
	cfg := Config{
		Workloads: []Workload{Headline, {RecordSize: 100, Batch: 500, Shards: 4, Producers: 1},
			{RecordSize: 100, Batch: 1, Shards: 4, Producers: 8, Durable: true}},
		Rounds:          3,
		Duration:        20 * time.Millisecond,
		LatencyDuration: 20 * time.Millisecond,
		LatencyLoad:     0.5,
		CatchUpRecords:  10_250, // not a whole number of batches of 500
		ProbeDir:        t.TempDir(),
		ProbeWrites:     1,
	}
	rep, err := Run(t.Context(), []Driver{settlingDriver{fast}, slow}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	const want = 10_000
	for _, d := range []*memDriver{fast, slow} {
		// The second workload shares the first's record size and shards,
		// so its figures are the first's: one measurement of 3 reads.
		if len(d.catchUps) != 3 {
			t.Fatalf("%s: %d catch-up reads, want 3 (one measurement of 3 reads): %+v", d.name, len(d.catchUps), d.catchUps)
		}
		for _, c := range d.catchUps {
			if c.want != want || c.stored != want || c.durable {
				t.Errorf("%s: catch-up %+v, want %d records asked for and stored, fsync off", d.name, c, want)
			}
			if c.settled != (d == fast) {
				t.Errorf("%s: catch-up settled=%v, want settled only on the Settler", d.name, c.settled)
			}
		}
	}
	for _, res := range rep.Results {
		switch {
		case res.Workload.Durable && (res.CatchUpRecords != want || math.IsNaN(res.CatchUpPerSec)):
			t.Errorf("%s %s: catch-up %v records/s of %d records, want a figure of %d", res.Target, res.Workload.Case(),
				res.CatchUpPerSec, res.CatchUpRecords, want)
		case !res.Workload.Durable && (res.CatchUpRecords != 0 || !math.IsNaN(res.CatchUpPerSec)):
			t.Errorf("%s relaxed: catch-up %v, want none", res.Target, res.CatchUpPerSec)
		}
	}
}
