package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"time"

	"github.com/spatehq/spate/analytics"
	"github.com/spatehq/spate/analytics/nexmark"
)

// AnalyticsQuery is one Nexmark-shaped query the harness runs through
// analytics.Evaluate.
type AnalyticsQuery struct {
	Name  string // "q5"
	Shape string // what it computes, for the report
	SQL   string
	// Goal is the target in events/s per core: ten times Flink's per-core
	// figure for the same Nexmark query (issue #4).
	Goal float64
}

// AnalyticsQueries are q5 (hot items: bids per auction over sliding
// windows), q7 (highest bid per tumbling window) and q11 (bids per bidder
// session), with their goals: 10x Flink's 22.1 k, 12.3 k and 39.7 k
// events/s per core.
var AnalyticsQueries = []AnalyticsQuery{
	{Name: "q5", Shape: "HOP(2 s, 10 s) count per auction", Goal: 221_000, SQL: `SELECT auction,
		HOP_START(date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND) AS starttime,
		HOP_END(date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND) AS endtime, COUNT(*) AS num
	FROM bids GROUP BY auction, HOP(date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND)`},
	{Name: "q7", Shape: "TUMBLE(10 s) max price", Goal: 123_000, SQL: `SELECT
		TUMBLE_START(date_time, INTERVAL '10' SECOND) AS starttime,
		TUMBLE_END(date_time, INTERVAL '10' SECOND) AS endtime, MAX(price) AS maxprice
	FROM bids GROUP BY TUMBLE(date_time, INTERVAL '10' SECOND)`},
	{Name: "q11", Shape: "SESSION(10 s) count per bidder", Goal: 397_000, SQL: `SELECT bidder, COUNT(*) AS bid_count,
		SESSION_START(date_time, INTERVAL '10' SECOND) AS starttime,
		SESSION_END(date_time, INTERVAL '10' SECOND) AS endtime
	FROM bids GROUP BY bidder, SESSION(date_time, INTERVAL '10' SECOND)`},
}

// AnalyticsConfig says how much the Analytics benchmark evaluates.
type AnalyticsConfig struct {
	// Events is how many Nexmark bids each evaluation reads (generated once,
	// before any timer starts). At the generator's 10 000 bids per second
	// of event time, 200 000 bids are 20 s: windows open, fill and fire
	// many times within one evaluation.
	Events int
	// Rounds per query, interleaved across queries (q5 q7 q11, q5 q7 q11,
	// ...); the figure is their median.
	Rounds int
	// OneProc runs the evaluations with GOMAXPROCS=1, so the garbage
	// collector shares the evaluating core instead of borrowing idle ones
	// and events/s is a true per-core figure. It changes the whole
	// process's GOMAXPROCS for the duration (restored after): set it only
	// when nothing else runs, as `spate bench` does.
	OneProc bool
	// Log receives one progress line per evaluation; nil discards them.
	Log io.Writer
}

// DefaultAnalyticsConfig is the full run: 200 000 bids, three rounds.
func DefaultAnalyticsConfig() AnalyticsConfig {
	return AnalyticsConfig{Events: 200_000, Rounds: 3, OneProc: true}
}

// QuickAnalyticsConfig is the --quick run: 100 000 bids (10 s of event
// time: several q5 hops and at least one whole q7 window), three rounds.
func QuickAnalyticsConfig() AnalyticsConfig {
	c := DefaultAnalyticsConfig()
	c.Events = 100_000
	return c
}

// AnalyticsResult is one query's figure: the median over rounds of events
// evaluated per second on one goroutine, JSON decoding included.
type AnalyticsResult struct {
	Query  string
	Shape  string
	Events int     // bids per evaluation
	Goal   float64 // events/s per core
	// Status is empty when the query was measured, and otherwise says why
	// not (the evaluation's error).
	Status       string
	EventsPerSec float64   // median of Rounds; NaN when not measured
	Rows         int       // rows the last evaluation emitted (a sanity check)
	OneProc      bool      // measured with GOMAXPROCS=1 (see AnalyticsConfig)
	Rounds       []float64 // events/s of each round, in order (NaN: failed)
}

// GoalRatio is EventsPerSec / Goal (NaN when not measured).
func (r AnalyticsResult) GoalRatio() float64 { return Ratio(r.EventsPerSec, r.Goal) }

// RunAnalytics evaluates each query over the same pre-generated bids,
// rounds interleaved across queries, on one goroutine locked to its OS
// thread: the figures are single-threaded events/s, which is what "per
// core" means here. A query whose every round fails gets a Status; only a
// cancelled ctx is an error.
func RunAnalytics(ctx context.Context, queries []AnalyticsQuery, cfg AnalyticsConfig) ([]AnalyticsResult, error) {
	if cfg.Events < 1 || cfg.Rounds < 1 {
		return nil, fmt.Errorf("analytics bench: want events and rounds >= 1, got %d and %d", cfg.Events, cfg.Rounds)
	}
	data, arrival := nexmark.New(nexmark.Config{Seed: 1}).Records(cfg.Events)
	recs := make([]analytics.EvalRecord, len(data))
	for i := range data {
		recs[i] = analytics.EvalRecord{Data: data[i], ArrivalMs: arrival[i]}
	}
	results := make([]AnalyticsResult, len(queries))
	for i, q := range queries {
		results[i] = AnalyticsResult{Query: q.Name, Shape: q.Shape, Events: cfg.Events, Goal: q.Goal, EventsPerSec: math.NaN(), OneProc: cfg.OneProc}
	}

	// The evaluations run on a goroutine of their own so that locking it to
	// its thread cannot leak into the caller's.
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if cfg.OneProc {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		}
		done <- evaluateRounds(ctx, queries, recs, cfg, results)
	}()
	if err := <-done; err != nil {
		return nil, err
	}
	for i := range results {
		results[i].EventsPerSec = Median(results[i].Rounds)
	}
	return results, nil
}

// evaluateRounds fills each result's Rounds (and Rows or Status).
func evaluateRounds(ctx context.Context, queries []AnalyticsQuery, recs []analytics.EvalRecord, cfg AnalyticsConfig, results []AnalyticsResult) error {
	// Collect the previous round's garbage before each timer starts, so a
	// round does not pay for its predecessor.
	for round := range cfg.Rounds {
		for i, q := range queries {
			runtime.GC()
			start := time.Now()
			res, err := analytics.Evaluate(ctx, q.SQL, recs)
			elapsed := time.Since(start)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rate := math.NaN()
			if err != nil {
				results[i].Status = fmt.Sprintf("evaluate: %v", err)
			} else {
				rate = float64(len(recs)) / elapsed.Seconds()
				results[i].Rows = len(res.Rows)
			}
			results[i].Rounds = append(results[i].Rounds, rate)
			if cfg.Log != nil {
				fmt.Fprintf(cfg.Log, "round %d/%d analytics  %-4s %d events: %s events/s, %d rows\n",
					round+1, cfg.Rounds, q.Name, len(recs), FormatRate(rate), len(res.Rows))
			}
		}
	}
	// A query with at least one good round keeps its median; the error of a
	// failed round is only the Status when no round succeeded.
	for i := range results {
		if !math.IsNaN(Median(results[i].Rounds)) {
			results[i].Status = ""
		}
	}
	return nil
}
