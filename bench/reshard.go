package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/spatehq/spate/shard"
)

// ReshardConfig is the resharding-under-load measurement: producers put at
// a steady rate (open loop) for one phase with the shards left alone, then
// for one phase while the stream is split and merged over and over.
type ReshardConfig struct {
	Rate       int           // records/s offered, in both phases
	Batch      int           // records per put
	RecordSize int           // bytes of data per record
	Shards     int           // shards the stream starts (and ends each cycle) with
	Phase      time.Duration // length of each phase
	// Pause is the time between two reshards of the resharding phase.
	Pause time.Duration
	// MaxInFlight bounds the puts outstanding at once.
	MaxInFlight int
	Rounds      int
	TmpDir      string    // where each round's store lives ("": the system's)
	Log         io.Writer // one progress line per round; nil discards them
}

// DefaultReshardConfig is the full run: 20,000 records/s of 100 B in
// batches of 100 on 4 shards, 3 s phases, three rounds.
func DefaultReshardConfig() ReshardConfig {
	return ReshardConfig{Rate: 20000, Batch: 100, RecordSize: 100, Shards: 4, Phase: 3 * time.Second,
		Pause: 50 * time.Millisecond, MaxInFlight: 64, Rounds: 3}
}

// QuickReshardConfig is the --quick run: 1 s phases.
func QuickReshardConfig() ReshardConfig {
	c := DefaultReshardConfig()
	c.Phase = time.Second
	return c
}

// ReshardResult is the put throughput and latency with the shards left
// alone and while they are split and merged, and how long a reshard takes
// to take effect. Figures are medians over the rounds; NaN when not
// measured.
type ReshardResult struct {
	Status string // empty when measured, else why not
	Config ReshardConfig
	// Put throughput (records acknowledged within the phase, per second)
	// and latency from the scheduled send time.
	SteadyRecordsPerSec, ReshardRecordsPerSec float64
	SteadyP50Ms, SteadyP99Ms                  float64
	ReshardP50Ms, ReshardP99Ms                float64
	// Reshards is how many reshards a resharding phase applied; ApplyP50Ms
	// and ApplyMaxMs are how long a SplitShard, MergeShards or
	// UpdateShardCount call took until routing had moved to the children
	// (the call returns once the reshard is committed and routing is
	// switched).
	Reshards               int
	ApplyP50Ms, ApplyMaxMs float64
	// Rounds holds each round's resharding-phase throughput (NaN: failed).
	Rounds []float64
}

// reshardRound is one round's figures.
type reshardRound struct {
	steady, during         float64
	sp50, sp99, rp50, rp99 float64
	reshards               int
	applyP50, applyMax     float64
}

// RunReshard measures puts through the store's API (in process, durable:
// every put is fsynced) while the stream is resharded: a steady phase,
// then a phase that cycles UpdateShardCount to twice the shards and back,
// SplitShard of the first shard at its middle and MergeShards of its
// children. Only a cancelled ctx is an error; a failed round is NaN.
func RunReshard(ctx context.Context, cfg ReshardConfig) (ReshardResult, error) {
	res := ReshardResult{Config: cfg}
	if cfg.Rate < 1 || cfg.Batch < 1 || cfg.Shards < 1 || cfg.Rounds < 1 || cfg.Phase <= 0 || cfg.RecordSize < stampLen {
		return res, fmt.Errorf("reshard bench: want rate, batch, shards and rounds >= 1, a phase, records of at least %d bytes", stampLen)
	}
	var rounds []reshardRound
	var lastErr error
	for round := range cfg.Rounds {
		r, err := reshardRound1(ctx, cfg)
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if err != nil {
			lastErr = err
			res.Rounds = append(res.Rounds, math.NaN())
			if cfg.Log != nil {
				fmt.Fprintf(cfg.Log, "round %d/%d resharding under load: %v\n", round+1, cfg.Rounds, err)
			}
			continue
		}
		rounds = append(rounds, r)
		res.Rounds = append(res.Rounds, r.during)
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, "round %d/%d resharding under load: steady %s/s p99 %.1f ms, resharding %s/s p99 %.1f ms, %d reshards applied in p50 %.1f ms\n",
				round+1, cfg.Rounds, FormatRate(r.steady), r.sp99, FormatRate(r.during), r.rp99, r.reshards, r.applyP50)
		}
	}
	if len(rounds) == 0 {
		res.Status = fmt.Sprint(lastErr)
		for _, p := range []*float64{&res.SteadyRecordsPerSec, &res.ReshardRecordsPerSec, &res.SteadyP50Ms, &res.SteadyP99Ms,
			&res.ReshardP50Ms, &res.ReshardP99Ms, &res.ApplyP50Ms, &res.ApplyMaxMs} {
			*p = math.NaN()
		}
		return res, nil
	}
	med := func(f func(r reshardRound) float64) float64 { return medianOf(rounds, f) }
	res.SteadyRecordsPerSec = med(func(r reshardRound) float64 { return r.steady })
	res.ReshardRecordsPerSec = med(func(r reshardRound) float64 { return r.during })
	res.SteadyP50Ms = med(func(r reshardRound) float64 { return r.sp50 })
	res.SteadyP99Ms = med(func(r reshardRound) float64 { return r.sp99 })
	res.ReshardP50Ms = med(func(r reshardRound) float64 { return r.rp50 })
	res.ReshardP99Ms = med(func(r reshardRound) float64 { return r.rp99 })
	res.ApplyP50Ms = med(func(r reshardRound) float64 { return r.applyP50 })
	res.ApplyMaxMs = med(func(r reshardRound) float64 { return r.applyMax })
	res.Reshards = int(med(func(r reshardRound) float64 { return float64(r.reshards) }))
	return res, nil
}

// reshardRound1 runs one round on a fresh store.
func reshardRound1(ctx context.Context, cfg ReshardConfig) (reshardRound, error) {
	var out reshardRound
	dir, err := os.MkdirTemp(cfg.TmpDir, "spate-bench-reshard-*")
	if err != nil {
		return out, err
	}
	defer os.RemoveAll(dir)
	// No UpdateShardCount quota and no UPDATING delay: the phase reshards
	// as often as it can.
	st, err := shard.Open(dir, shard.WithShardCountUpdates(0), shard.WithAutoScaling(shard.AutoScaling{Off: true}))
	if err != nil {
		return out, fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	const name = "bench-reshard"
	if err := st.CreateStream(ctx, shard.CreateStreamInput{Name: name, ShardCount: cfg.Shards}); err != nil {
		return out, fmt.Errorf("create stream: %w", err)
	}

	interval := time.Duration(float64(time.Second) * float64(cfg.Batch) / float64(cfg.Rate))
	count := int(2 * cfg.Phase / interval)
	start := time.Now().Add(10 * time.Millisecond)
	mid, end := start.Add(cfg.Phase), start.Add(2*cfg.Phase)
	steadyLat, reshardLat, apply := NewLatencies(), NewLatencies(), NewLatencies()
	var steadyAcked, reshardAcked atomic.Int64
	var failMu sync.Mutex
	var putErr error
	var keySeq atomic.Int64

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		loop := OpenLoop{Start: start, Interval: interval, Count: count, MaxInFlight: cfg.MaxInFlight}
		return loop.Run(gctx, WallClock{}, func(at time.Time) {
			entries := make([]shard.Entry, cfg.Batch)
			base := keySeq.Add(int64(cfg.Batch))
			for i := range entries {
				data := make([]byte, cfg.RecordSize)
				Stamp(data, at)
				entries[i] = shard.Entry{PartitionKey: fmt.Sprintf("k%d", (base+int64(i))%4096), Data: data}
			}
			results, err := st.Append(gctx, name, entries)
			if err == nil {
				for _, r := range results {
					if r.ErrorCode != "" {
						err = fmt.Errorf("%s: %s", r.ErrorCode, r.ErrorMessage)
						break
					}
				}
			}
			done := time.Now()
			if err != nil {
				failMu.Lock()
				putErr = err
				failMu.Unlock()
				return
			}
			lat := reshardLat
			if at.Before(mid) {
				lat = steadyLat
			}
			lat.Record(done.Sub(at))
			switch {
			case done.Before(mid):
				steadyAcked.Add(int64(cfg.Batch))
			case done.Before(end):
				reshardAcked.Add(int64(cfg.Batch))
			}
		})
	})
	g.Go(func() error {
		if err := (WallClock{}).SleepUntil(gctx, mid); err != nil {
			return nil
		}
		for step := 0; time.Now().Before(end); step++ {
			t0 := time.Now()
			if err := reshardStep(gctx, st, name, cfg.Shards, step); err != nil {
				return fmt.Errorf("reshard step %d: %w", step, err)
			}
			apply.Record(time.Since(t0))
			if err := (WallClock{}).SleepUntil(gctx, time.Now().Add(cfg.Pause)); err != nil {
				return nil
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return out, err
	}
	if putErr != nil {
		return out, fmt.Errorf("put: %w", putErr)
	}
	phase := cfg.Phase.Seconds()
	out = reshardRound{
		steady: float64(steadyAcked.Load()) / phase, during: float64(reshardAcked.Load()) / phase,
		sp50: steadyLat.Quantile(50), sp99: steadyLat.Quantile(99),
		rp50: reshardLat.Quantile(50), rp99: reshardLat.Quantile(99),
		reshards: int(apply.Count()), applyP50: apply.Quantile(50), applyMax: apply.Quantile(100),
	}
	return out, nil
}

// reshardStep applies the step-th reshard of the cycle: UpdateShardCount
// to 2n, back to n, SplitShard of the first open shard at its middle,
// MergeShards of the two children.
func reshardStep(ctx context.Context, st *shard.Store, name string, n, step int) error {
	switch step % 4 {
	case 0, 1:
		target := 2 * n
		if step%4 == 1 {
			target = n
		}
		_, err := st.UpdateShardCount(ctx, shard.UpdateShardCountInput{Stream: name, TargetShardCount: target, ScalingType: shard.UniformScaling})
		return err
	}
	open, err := openByHash(ctx, st, name)
	if err != nil {
		return err
	}
	if step%4 == 2 {
		start, _ := new(big.Int).SetString(open[0].HashKeyRange.Start, 10)
		end, _ := new(big.Int).SetString(open[0].HashKeyRange.End, 10)
		at := new(big.Int).Add(start, end)
		at.Add(at, big.NewInt(1)).Rsh(at, 1)
		return st.SplitShard(ctx, shard.SplitShardInput{Stream: name, ShardToSplit: open[0].ShardID, NewStartingHashKey: at.String()})
	}
	return st.MergeShards(ctx, shard.MergeShardsInput{Stream: name, ShardToMerge: open[0].ShardID, AdjacentShardToMerge: open[1].ShardID})
}

// openByHash returns the stream's open shards in hash-key order.
func openByHash(ctx context.Context, st *shard.Store, name string) ([]shard.ShardInfo, error) {
	d, err := st.DescribeStream(ctx, name, shard.MaxListLimit, "")
	if err != nil {
		return nil, err
	}
	var open []shard.ShardInfo
	for _, sh := range d.Shards {
		if sh.SequenceNumberRange.End == "" {
			open = append(open, sh)
		}
	}
	key := func(s shard.ShardInfo) *big.Int { v, _ := new(big.Int).SetString(s.HashKeyRange.Start, 10); return v }
	slices.SortFunc(open, func(a, b shard.ShardInfo) int { return key(a).Cmp(key(b)) })
	return open, nil
}

// reshardMarkdown writes the resharding table, if it ran.
func (r Report) reshardMarkdown(b *strings.Builder) {
	x := r.Reshard
	if x == nil {
		return
	}
	c := x.Config
	b.WriteString("\n### Resharding under load\n\n")
	if x.Status != "" {
		fmt.Fprintf(b, "| phase | records/s |\n|---|---:|\n| resharding | %s |\n", x.Status)
		return
	}
	fmt.Fprintf(b, "In process, durable: %s records/s offered (open loop, %s records, batches of %d) on a stream of %s; "+
		"%v with the shards left alone, then %v of UpdateShardCount to %d and back, SplitShard and MergeShards, one every %v "+
		"(%d reshards); median of %s. A reshard takes effect when its call returns: routing has moved to the children.\n\n",
		FormatRate(float64(c.Rate)), formatSize(c.RecordSize), c.Batch, plural(c.Shards, "shard"), c.Phase, c.Phase, 2*c.Shards, c.Pause,
		x.Reshards, plural(len(x.Rounds), "round"))
	b.WriteString("| phase | put records/s | put p50 ms | put p99 ms |\n|---|---:|---:|---:|\n")
	fmt.Fprintf(b, "| steady | %s | %s | %s |\n", FormatRate(x.SteadyRecordsPerSec), formatFloat(x.SteadyP50Ms, 2), formatFloat(x.SteadyP99Ms, 2))
	fmt.Fprintf(b, "| resharding | %s | %s | %s |\n", FormatRate(x.ReshardRecordsPerSec), formatFloat(x.ReshardP50Ms, 2), formatFloat(x.ReshardP99Ms, 2))
	fmt.Fprintf(b, "\nA reshard takes effect in %s ms (p50), %s ms at most.\n", formatFloat(x.ApplyP50Ms, 2), formatFloat(x.ApplyMaxMs, 2))
}

// reshardLine is the JSON line of the resharding section.
type reshardLine struct {
	Target       string     `json:"target"`
	Status       string     `json:"status,omitempty"`
	Rate         int        `json:"offered_records_per_sec"`
	Shards       int        `json:"shards"`
	Steady       *float64   `json:"steady_records_per_sec"`
	During       *float64   `json:"resharding_records_per_sec"`
	SteadyP50    *float64   `json:"steady_put_p50_ms"`
	SteadyP99    *float64   `json:"steady_put_p99_ms"`
	DuringP50    *float64   `json:"resharding_put_p50_ms"`
	DuringP99    *float64   `json:"resharding_put_p99_ms"`
	Reshards     int        `json:"reshards"`
	ApplyP50     *float64   `json:"reshard_applied_p50_ms"`
	ApplyMax     *float64   `json:"reshard_applied_max_ms"`
	RoundsDuring []*float64 `json:"rounds_resharding_records_per_sec,omitempty"`
	Quick        bool       `json:"quick"`
}

func (r Report) reshardJSONLine(enc *json.Encoder) error {
	x := r.Reshard
	if x == nil {
		return nil
	}
	l := reshardLine{Target: "reshard-under-load", Status: x.Status, Rate: x.Config.Rate, Shards: x.Config.Shards,
		Steady: num(x.SteadyRecordsPerSec), During: num(x.ReshardRecordsPerSec),
		SteadyP50: num(x.SteadyP50Ms), SteadyP99: num(x.SteadyP99Ms), DuringP50: num(x.ReshardP50Ms), DuringP99: num(x.ReshardP99Ms),
		Reshards: x.Reshards, ApplyP50: num(x.ApplyP50Ms), ApplyMax: num(x.ApplyMaxMs), RoundsDuring: nums(x.Rounds), Quick: r.Quick}
	if err := enc.Encode(l); err != nil {
		return fmt.Errorf("write json line: %w", err)
	}
	return nil
}
