package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// Config says what a run measures and for how long. Defaults live in
// FullConfig and QuickConfig.
type Config struct {
	Workloads []Workload
	// Rounds per target and workload; the figures are their medians.
	Rounds int
	// Duration of each closed-loop throughput run.
	Duration time.Duration
	// LatencyDuration of each open-loop latency run.
	LatencyDuration time.Duration
	// LatencyLoad is the open-loop rate as a share of the round's
	// throughput (0.5: half the measured maximum).
	LatencyLoad float64
	// CatchUpRecords is how many records every target is preloaded with
	// and reads back in the catch-up measurement (the same number for
	// every target); CatchUpBytes caps it for large records (records of
	// at most CatchUpBytes/RecordSize).
	CatchUpRecords int
	CatchUpBytes   int
	// ProbeDir is where the fsync probe writes (the disk the targets use);
	// ProbeWrites is how many synced writes it makes.
	ProbeDir    string
	ProbeWrites int
	Quick       bool
	Machine     string
	// Log receives one progress line per measurement; nil discards them.
	Log io.Writer
}

// Matrix returns every combination of the given dimensions, durable first
// then relaxed when relaxed is set.
func Matrix(sizes, batches, shards, producers []int, relaxed bool) []Workload {
	modes := []bool{true}
	if relaxed {
		modes = append(modes, false)
	}
	var out []Workload
	for _, sz := range sizes {
		for _, b := range batches {
			for _, sh := range shards {
				for _, p := range producers {
					for _, d := range modes {
						out = append(out, Workload{RecordSize: sz, Batch: b, Shards: sh, Producers: p, Durable: d})
					}
				}
			}
		}
	}
	return out
}

// Headline is the case every comparison starts from: 100 B records in
// batches of 500 over 4 shards from one producer.
var Headline = Workload{RecordSize: 100, Batch: 500, Shards: 4, Producers: 1, Durable: true}

// Standard returns the headline case and one variation of it per value of
// each dimension of issue #5's matrix (1 KiB records; PutRecord with batch
// 1; 1 and 16 shards; 8 producers), plus batch 1 with 8 producers, the
// group-commit case the issue sets a target for: 7 cases, each durable and
// then relaxed when relaxed is set, as Matrix orders them. Every figure the targets name
// is in it; Matrix gives the whole cross product (48 workloads, hours).
func Standard(relaxed bool) []Workload {
	h := Headline
	vary := func(f func(*Workload)) Workload { w := h; f(&w); return w }
	cases := []Workload{
		h,
		vary(func(w *Workload) { w.RecordSize = 1024 }),
		vary(func(w *Workload) { w.Batch = 1 }),
		vary(func(w *Workload) { w.Batch = 1; w.Producers = 8 }),
		vary(func(w *Workload) { w.Shards = 1 }),
		vary(func(w *Workload) { w.Shards = 16 }),
		vary(func(w *Workload) { w.Producers = 8 }),
	}
	var out []Workload
	for _, w := range cases {
		out = append(out, w)
		if relaxed {
			w.Durable = false
			out = append(out, w)
		}
	}
	return out
}

// FullConfig is the full run of `make bench`: the Standard cases, durable
// and relaxed, three rounds.
func FullConfig() Config {
	return Config{
		Workloads:       Standard(true),
		Rounds:          3,
		Duration:        3 * time.Second,
		LatencyDuration: 3 * time.Second,
		LatencyLoad:     0.5,
		CatchUpRecords:  500_000,
		CatchUpBytes:    100 << 20,
		ProbeDir:        os.TempDir(),
		ProbeWrites:     500,
	}
}

// QuickConfig is the headline case only (100 B records, batch 500, 4
// shards, 1 producer, durable and relaxed) with short rounds: the same
// ratios in under two minutes.
func QuickConfig() Config {
	c := FullConfig()
	relaxed := Headline
	relaxed.Durable = false
	c.Workloads = []Workload{Headline, relaxed}
	c.Duration = time.Second
	c.LatencyDuration = time.Second
	c.ProbeWrites = 300
	c.CatchUpRecords = 200_000
	c.Quick = true
	return c
}

// trial is one round of one target on one workload.
type trial struct {
	rate, latencyRate              float64
	putP50, putP99, e2eP50, e2eP99 float64
}

// Run measures every available driver on every workload: for each workload,
// rounds interleaved across drivers (A B C, A B C, ...), then medians; for
// each durable workload the catch-up measurement follows (CatchUp), once per
// record size and shard count. The fsync probe runs before the first round
// and after the last. An
// unavailable driver, or one whose every round failed, gets a Result with a
// Status instead of figures; Run itself fails only when ctx ends or the
// probe cannot run.
func Run(ctx context.Context, drivers []Driver, cfg Config) (Report, error) {
	rep := Report{Quick: cfg.Quick, Machine: cfg.Machine}
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format+"\n", args...)
		}
	}
	var err error
	if rep.ProbeBefore, err = ProbeFsync(cfg.ProbeDir, cfg.ProbeWrites); err != nil {
		return rep, err
	}
	logf("fsync probe before: %.0f/s", rep.ProbeBefore)
	// The catch-up figures depend only on the records' size and the shard
	// count (the preload is the same whatever the workload's batch and
	// producers), so a case that shares them with an earlier one reuses
	// its figures.
	catchUps := map[[2]int][]catchUpResult{}
	for _, w := range cfg.Workloads {
		trials := make([][]trial, len(drivers))
		errs := make([]error, len(drivers))
		avail := make([]error, len(drivers))
		for i, d := range drivers {
			avail[i] = d.Available()
		}
		for round := range cfg.Rounds {
			for i, d := range drivers {
				if avail[i] != nil {
					continue
				}
				t, err := measure(ctx, d, w, cfg)
				if ctx.Err() != nil {
					return rep, ctx.Err()
				}
				if err != nil {
					errs[i] = err
					logf("round %d/%d %-10s %s %s: %v", round+1, cfg.Rounds, d.Name(), w.Case(), w.Mode(), err)
					t = trial{rate: math.NaN()}
				} else {
					logf("round %d/%d %-10s %s %s: %s records/s, put p99 %s ms", round+1, cfg.Rounds, d.Name(),
						w.Case(), w.Mode(), FormatRate(t.rate), formatFloat(t.putP99, 2))
				}
				trials[i] = append(trials[i], t)
			}
		}
		var cu []catchUpResult
		if w.Durable {
			key := [2]int{w.RecordSize, w.Shards}
			if cu = catchUps[key]; cu == nil {
				cu = make([]catchUpResult, len(drivers))
				n := cfg.catchUpRecords(w)
				for i, d := range drivers {
					if avail[i] != nil || cfg.Rounds < 1 {
						continue
					}
					reads, err := CatchUp(ctx, d, w, n, cfg.Rounds)
					if ctx.Err() != nil {
						return rep, ctx.Err()
					}
					cu[i] = catchUpResult{records: n, reads: reads, err: err}
					if err != nil {
						logf("catch-up %-10s %s: %v", d.Name(), w.Case(), err)
					} else {
						logf("catch-up %-10s %s: %s records, %s records/s (median of %d reads)", d.Name(), w.Case(),
							FormatRate(float64(n)), FormatRate(Median(reads)), len(reads))
					}
				}
				catchUps[key] = cu
			}
		}
		for i, d := range drivers {
			res := aggregate(d.Name(), w, trials[i], avail[i], errs[i])
			if cu != nil && cu[i].err == nil && len(cu[i].reads) > 0 {
				res.CatchUpPerSec, res.CatchUpRecords = Median(cu[i].reads), cu[i].records
			}
			rep.Results = append(rep.Results, res)
		}
	}
	if rep.ProbeAfter, err = ProbeFsync(cfg.ProbeDir, cfg.ProbeWrites); err != nil {
		return rep, err
	}
	logf("fsync probe after: %.0f/s", rep.ProbeAfter)
	return rep, nil
}

// aggregate turns a target's rounds into its Result: medians of the rounds
// that succeeded.
func aggregate(name string, w Workload, ts []trial, unavailable, lastErr error) Result {
	res := Result{Target: name, Workload: w}
	if unavailable != nil {
		res.Status = unavailable.Error()
		return res
	}
	ok := slices.DeleteFunc(slices.Clone(ts), func(t trial) bool { return math.IsNaN(t.rate) })
	pick := func(f func(trial) float64) float64 { return medianOf(ok, f) }
	for _, t := range ts {
		res.Rounds = append(res.Rounds, t.rate)
	}
	res.RecordsPerSec = pick(func(t trial) float64 { return t.rate })
	if math.IsNaN(res.RecordsPerSec) {
		res.Status = "failed"
		if lastErr != nil {
			res.Status = "failed: " + lastErr.Error()
		}
	}
	res.MBPerSec = res.RecordsPerSec * float64(w.RecordSize) / 1e6
	res.LatencyRate = pick(func(t trial) float64 { return t.latencyRate })
	res.PutP50Ms = pick(func(t trial) float64 { return t.putP50 })
	res.PutP99Ms = pick(func(t trial) float64 { return t.putP99 })
	res.E2EP50Ms = pick(func(t trial) float64 { return t.e2eP50 })
	res.E2EP99Ms = pick(func(t trial) float64 { return t.e2eP99 })
	res.CatchUpPerSec = math.NaN() // set by Run from the catch-up measurement
	return res
}

// measure runs one round of d on w: a throughput run on one fresh target,
// then a latency run at cfg.LatencyLoad of that throughput on another.
func measure(ctx context.Context, d Driver, w Workload, cfg Config) (trial, error) {
	// Bounds a hung target; never part of a figure.
	ctx, cancel := context.WithTimeout(ctx, 10*(cfg.Duration+cfg.LatencyDuration)+time.Minute)
	defer cancel()
	t := trial{e2eP50: math.NaN(), e2eP99: math.NaN()}
	if err := d.Setup(ctx, w); err != nil {
		return t, fmt.Errorf("setup: %w", errors.Join(err, d.Close()))
	}
	acked, elapsed, err := Throughput(ctx, d, w, cfg.Duration)
	if err == nil {
		t.rate = float64(acked) / elapsed.Seconds()
	}
	if err = errors.Join(err, d.Close()); err != nil {
		return t, err
	}

	t.latencyRate = t.rate * cfg.LatencyLoad
	if err := d.Setup(ctx, w); err != nil {
		return t, fmt.Errorf("setup: %w", errors.Join(err, d.Close()))
	}
	lat, err := Latency(ctx, d, w, t.latencyRate, cfg.LatencyDuration)
	if err = errors.Join(err, d.Close()); err != nil {
		return t, err
	}
	t.putP50, t.putP99 = lat.Put.Quantile(50), lat.Put.Quantile(99)
	if lat.E2E != nil {
		t.e2eP50, t.e2eP99 = lat.E2E.Quantile(50), lat.E2E.Quantile(99)
	}
	return t, nil
}

// NewBatch returns n records of size bytes (at least the 8-byte stamp).
func NewBatch(n, size int) [][]byte {
	size = max(size, stampLen)
	buf := make([]byte, n*size)
	// The filler is a, b, ..., z over and over: copied in doubling runs
	// rather than computed byte by byte, which cost about 0.2 ms for a
	// batch of 500 records of 100 B, inside every put's measured latency
	// (from its scheduled time) and on the cores the targets use.
	const alphabet = "abcdefghijklmnopqrstuvwxyz"
	for filled := copy(buf, alphabet); filled < len(buf); {
		filled += copy(buf[filled:], buf[:filled-filled%len(alphabet)])
	}
	out := make([][]byte, n)
	for i := range out {
		out[i] = buf[i*size : (i+1)*size : (i+1)*size]
	}
	return out
}

// Throughput runs w.Producers producers in a closed loop, each putting
// batches of w.Batch records back to back, for about d, and returns the
// records acknowledged and the time from the start to the last
// acknowledgement.
func Throughput(ctx context.Context, drv Driver, w Workload, d time.Duration) (acked int, elapsed time.Duration, err error) {
	producers, err := openProducers(ctx, drv, w.Producers)
	if err != nil {
		return 0, 0, err
	}
	defer closeProducers(producers)
	var total atomic.Int64
	var last atomic.Int64 // ns since start of the last acknowledgement
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	for _, p := range producers {
		g.Go(func() error {
			batch := NewBatch(w.Batch, w.RecordSize)
			for time.Since(start) < d {
				now := time.Now()
				for _, r := range batch {
					Stamp(r, now)
				}
				if err := p.Put(gctx, batch); err != nil {
					return fmt.Errorf("put: %w", err)
				}
				total.Add(int64(len(batch)))
				// Producers finish in any order; keep the latest.
				for {
					cur, ns := last.Load(), int64(time.Since(start))
					if ns <= cur || last.CompareAndSwap(cur, ns) {
						break
					}
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, 0, err
	}
	return int(total.Load()), time.Duration(last.Load()), nil
}

// LatencyResult holds the histograms of one latency run; E2E is nil when
// the target cannot tail.
type LatencyResult struct {
	Put *Latencies
	E2E *Latencies
}

// maxInFlight bounds the puts outstanding in a latency run.
const maxInFlight = 4096

// Latency puts at rate records/s (batches of w.Batch, spread over
// w.Producers producers) in an open loop for d, with a consumer tailing the
// stream, and returns the put and put-to-get latencies, both measured from
// each batch's scheduled send time.
func Latency(ctx context.Context, drv Driver, w Workload, rate float64, d time.Duration) (LatencyResult, error) {
	res := LatencyResult{Put: NewLatencies()}
	if rate <= 0 {
		return res, fmt.Errorf("latency run: no rate (throughput was zero)")
	}
	producers, err := openProducers(ctx, drv, w.Producers)
	if err != nil {
		return res, err
	}
	defer closeProducers(producers)

	tailCtx, stopTail := context.WithCancel(ctx)
	defer stopTail()
	e2e := NewLatencies()
	var got atomic.Int64
	wait, err := drv.Tail(tailCtx, func(data []byte) {
		if at, ok := StampOf(data); ok {
			e2e.Record(time.Since(at))
		}
		got.Add(1)
	})
	switch {
	case errors.Is(err, ErrUnsupported):
	case err != nil:
		return res, fmt.Errorf("tail: %w", err)
	default:
		res.E2E = e2e
	}

	interval := time.Duration(float64(time.Second) * float64(w.Batch) / rate)
	if interval <= 0 {
		interval = 1
	}
	loop := OpenLoop{Start: time.Now(), Interval: interval, Count: max(1, int(d/interval)), MaxInFlight: maxInFlight}
	var next atomic.Uint64
	var failMu sync.Mutex
	var firstErr error
	runErr := loop.Run(ctx, WallClock{}, func(scheduled time.Time) {
		batch := NewBatch(w.Batch, w.RecordSize)
		for _, r := range batch {
			Stamp(r, scheduled)
		}
		p := producers[next.Add(1)%uint64(len(producers))]
		if err := p.Put(ctx, batch); err != nil {
			failMu.Lock()
			if firstErr == nil {
				firstErr = err
			}
			failMu.Unlock()
			return
		}
		res.Put.Record(time.Since(scheduled))
	})
	if err := errors.Join(runErr, firstErr); err != nil {
		stopTail()
		if wait != nil {
			_ = wait()
		}
		return res, fmt.Errorf("latency run: %w", err)
	}
	if wait != nil {
		// Let the consumer see the last puts; a record it never sees is not
		// in the histogram, so the count is checked below.
		want := int64(loop.Count * w.Batch)
		deadline := time.Now().Add(5 * time.Second)
		for got.Load() < want && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		stopTail()
		if err := wait(); err != nil && !errors.Is(err, context.Canceled) {
			return res, fmt.Errorf("tail: %w", err)
		}
		if n := got.Load(); n < want {
			return res, fmt.Errorf("tail saw %d of %d records", n, want)
		}
	}
	return res, nil
}

func openProducers(ctx context.Context, d Driver, n int) ([]Producer, error) {
	var out []Producer
	for range max(n, 1) {
		p, err := d.Producer(ctx)
		if err != nil {
			closeProducers(out)
			return nil, fmt.Errorf("open producer: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

func closeProducers(ps []Producer) {
	for _, p := range ps {
		_ = p.Close()
	}
}
