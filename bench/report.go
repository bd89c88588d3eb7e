package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
)

// Result is one target's figures on one workload: medians over the rounds
// that succeeded. A figure that was not measured is NaN.
type Result struct {
	Target   string
	Workload Workload
	// Status is empty when the target was measured, and otherwise says why
	// not ("not installed (run scripts/bench-peers.sh)", an error).
	Status string

	RecordsPerSec float64 // closed-loop throughput: acknowledged records/s
	MBPerSec      float64 // RecordsPerSec * RecordSize / 1e6
	LatencyRate   float64 // records/s offered in the open-loop run (half of RecordsPerSec)
	PutP50Ms      float64 // put latency at LatencyRate, from the scheduled send time
	PutP99Ms      float64
	E2EP50Ms      float64 // put-to-get latency of a tailing consumer at LatencyRate
	E2EP99Ms      float64
	CatchUpPerSec float64 // records/s reading CatchUpRecords preloaded records from TRIM_HORIZON (durable rows only)
	// CatchUpRecords is how many records the catch-up read (the same for
	// every target of a case); 0 when it was not measured.
	CatchUpRecords int

	// Rounds holds the throughput of each round, in order (NaN: failed).
	Rounds []float64
}

// Report is the outcome of a run.
type Report struct {
	Quick       bool
	Machine     string  // nproc, CPU model, kernel
	ProbeBefore float64 // fsyncs/s before the first round
	ProbeAfter  float64 // fsyncs/s after the last round
	Results     []Result
	// Analytics holds the Nexmark-shaped queries' events/s per core (nil:
	// not run); Firehose the delivery to S3 beside GZIP alone (nil: not
	// run).
	Analytics []AnalyticsResult
	Firehose  *FirehoseResult
	// Reshard is the resharding-under-load measurement (nil: not run).
	Reshard *ReshardResult
	// Producer is the producer-SDK measurement (nil: not run).
	Producer *ProducerResult
}

// Noisy reports whether the fsync probes before and after differ by more
// than 30%.
func (r Report) Noisy() bool { return Noisy(r.ProbeBefore, r.ProbeAfter) }

// RatioPairs are the comparisons the report prints, numerator first: Spate
// beside its ceiling, beside each peer over the same kind of API.
var RatioPairs = [][2]string{
	{"self-grpc", "pebble-raw"},
	{"self-grpc", "kfake"},
	{"self-grpc", "nats"},
	{"self-http", "kinesalite"},
	{"self-http-h2c", "kinesalite"},
	{"self-http-cbor", "kinesalite"},
}

// CatchUpRatioPairs are the catch-up comparisons the report prints, those
// issue #13 sets goals for: gRPC beside its ceiling and beside kfake, and
// GetRecords over HTTP (CBOR, then JSON) and SubscribeToShard beside gRPC.
var CatchUpRatioPairs = [][2]string{
	{"self-grpc", "pebble-raw"},
	{"self-grpc", "kfake"},
	{"self-http-cbor", "self-grpc"},
	{"self-http", "self-grpc"},
	{"self-http-efo", "self-grpc"},
}

// find returns the result of target on the workload, if any.
func (r Report) find(target string, w Workload) (Result, bool) {
	for _, res := range r.Results {
		if res.Target == target && res.Workload == w {
			return res, true
		}
	}
	return Result{}, false
}

// cases returns the distinct workloads with Durable set, in first-seen order
// (a case's relaxed figures are a column of its table).
func (r Report) cases() []Workload {
	var out []Workload
	seen := map[Workload]bool{}
	for _, res := range r.Results {
		w := res.Workload
		w.Durable = true
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// targets returns the distinct target names in first-seen order.
func (r Report) targets() []string {
	var out []string
	seen := map[string]bool{}
	for _, res := range r.Results {
		if !seen[res.Target] {
			seen[res.Target] = true
			out = append(out, res.Target)
		}
	}
	return out
}

// catchUpRecords is how many records the catch-up of case c read (0: not
// measured).
func (r Report) catchUpRecords(c Workload) int {
	for _, res := range r.Results {
		if res.Workload == c && res.CatchUpRecords > 0 {
			return res.CatchUpRecords
		}
	}
	return 0
}

// RatioOf returns the throughput ratio num/den on w (NaN when either is
// missing).
func (r Report) RatioOf(num, den string, w Workload) float64 {
	return r.ratioOf(num, den, w, func(res Result) float64 { return res.RecordsPerSec })
}

// CatchUpRatioOf returns the catch-up ratio num/den on w (NaN when either is
// missing).
func (r Report) CatchUpRatioOf(num, den string, w Workload) float64 {
	return r.ratioOf(num, den, w, func(res Result) float64 { return res.CatchUpPerSec })
}

// ratioOf returns the ratio of figure f of num and den on w.
func (r Report) ratioOf(num, den string, w Workload, f func(Result) float64) float64 {
	a, okA := r.find(num, w)
	b, okB := r.find(den, w)
	if !okA || !okB {
		return math.NaN()
	}
	return Ratio(f(a), f(b))
}

// Markdown writes one table of absolute figures per case, each followed by
// its ratios, with the probe figures and the noise verdict on top.
func (r Report) Markdown(w io.Writer) error {
	var b strings.Builder
	if r.Quick {
		b.WriteString("**Quick run** (`spate bench --quick`): short rounds, one case; indicative only.\n\n")
	}
	if r.Machine != "" {
		fmt.Fprintf(&b, "Machine: %s\n\n", r.Machine)
	}
	verdict := "steady"
	if r.Noisy() {
		verdict = "**NOISY** (probes differ by more than 30%: rerun before trusting ratios)"
	}
	fmt.Fprintf(&b, "fsync probe: %.0f/s before, %.0f/s after: %s\n", r.ProbeBefore, r.ProbeAfter, verdict)
	for _, c := range r.cases() {
		relaxed := c
		relaxed.Durable = false
		fmt.Fprintf(&b, "\n### %s\n\n", c.Case())
		b.WriteString("| target | records/s | MB/s | put p50 ms | put p99 ms | put→get p50 ms | put→get p99 ms | catch-up records/s | relaxed records/s | relaxed put p99 ms |\n")
		b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, t := range r.targets() {
			d, okD := r.find(t, c)
			x, okX := r.find(t, relaxed)
			if !okD && !okX {
				continue
			}
			if okD && d.Status != "" {
				fmt.Fprintf(&b, "| %s | %s | | | | | | | | |\n", t, d.Status)
				continue
			}
			if !okD {
				d = Result{RecordsPerSec: math.NaN(), MBPerSec: math.NaN(), PutP50Ms: math.NaN(), PutP99Ms: math.NaN(),
					E2EP50Ms: math.NaN(), E2EP99Ms: math.NaN(), CatchUpPerSec: math.NaN()}
			}
			xRate, xP99 := math.NaN(), math.NaN()
			if okX && x.Status == "" {
				xRate, xP99 = x.RecordsPerSec, x.PutP99Ms
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", t,
				FormatRate(d.RecordsPerSec), formatFloat(d.MBPerSec, 1), formatFloat(d.PutP50Ms, 2), formatFloat(d.PutP99Ms, 2),
				formatFloat(d.E2EP50Ms, 2), formatFloat(d.E2EP99Ms, 2), FormatRate(d.CatchUpPerSec),
				FormatRate(xRate), formatFloat(xP99, 2))
		}
		if _, ok := r.find("self-http-efo", c); ok {
			b.WriteString("\nLatency columns: puts sent open loop at half of the target's own closed-loop throughput (measured with no " +
				"consumer attached), while a consumer tails. self-http-efo puts through gRPC exactly as self-grpc does; only its consumer " +
				"differs (SubscribeToShard read by aws-sdk-go-v2's event-stream reader over h2c), so its put→get beside self-grpc's is " +
				"the push path's cost, consumer's CPU included.\n")
		}
		if n := r.catchUpRecords(c); n > 0 {
			fmt.Fprintf(&b, "\nCatch-up: every target is set up afresh with fsync off, preloaded with the same %s records "+
				"(PutRecords batches of 500 from 4 producers), settled (Spate and pebble-raw flush Pebble's memtable to disk; "+
				"kfake and the out-of-process peers have nothing to wait for), then read from TRIM_HORIZON on every shard "+
				"by a new reader each time: the median of its reads (one read per round, fewer once a target's reads have taken 10 s). "+
				"It does not depend on the case's batch or producers.\n", FormatRate(float64(n)))
			b.WriteString("\n| ratio (catch-up records/s) | |\n|---|---:|\n")
			for _, p := range CatchUpRatioPairs {
				fmt.Fprintf(&b, "| %s / %s | %s |\n", p[0], p[1], FormatRatio(r.CatchUpRatioOf(p[0], p[1], c)))
			}
		}
		b.WriteString("\n| ratio (records/s) | durable | relaxed |\n|---|---:|---:|\n")
		for _, p := range RatioPairs {
			fmt.Fprintf(&b, "| %s / %s | %s | %s |\n", p[0], p[1],
				FormatRatio(r.RatioOf(p[0], p[1], c)), FormatRatio(r.RatioOf(p[0], p[1], relaxed)))
		}
	}
	r.analyticsMarkdown(&b)
	r.firehoseMarkdown(&b)
	r.reshardMarkdown(&b)
	r.producerMarkdown(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

// jsonLine is one line of the JSON output; a figure not measured is null.
type jsonLine struct {
	Target        string     `json:"target"`
	RecordSize    int        `json:"record_size"`
	Batch         int        `json:"batch"`
	Shards        int        `json:"shards"`
	Producers     int        `json:"producers"`
	Mode          string     `json:"mode"`
	Status        string     `json:"status,omitempty"`
	RecordsPerSec *float64   `json:"records_per_sec"`
	MBPerSec      *float64   `json:"mb_per_sec"`
	LatencyRate   *float64   `json:"latency_rate"`
	PutP50Ms      *float64   `json:"put_p50_ms"`
	PutP99Ms      *float64   `json:"put_p99_ms"`
	E2EP50Ms      *float64   `json:"put_to_get_p50_ms"`
	E2EP99Ms      *float64   `json:"put_to_get_p99_ms"`
	CatchUpPerSec *float64   `json:"catch_up_records_per_sec"`
	CatchUpN      int        `json:"catch_up_records,omitempty"`
	Rounds        []*float64 `json:"rounds_records_per_sec,omitempty"`
	Quick         bool       `json:"quick"`
	Noisy         bool       `json:"noisy"`
}

func num(f float64) *float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}

// JSONLines writes one JSON object per result.
func (r Report) JSONLines(w io.Writer) error {
	enc := json.NewEncoder(w)
	for _, res := range r.Results {
		l := jsonLine{
			Target: res.Target, RecordSize: res.Workload.RecordSize, Batch: res.Workload.Batch,
			Shards: res.Workload.Shards, Producers: res.Workload.Producers, Mode: res.Workload.Mode(),
			Status: res.Status, RecordsPerSec: num(res.RecordsPerSec), MBPerSec: num(res.MBPerSec),
			LatencyRate: num(res.LatencyRate), PutP50Ms: num(res.PutP50Ms), PutP99Ms: num(res.PutP99Ms),
			E2EP50Ms: num(res.E2EP50Ms), E2EP99Ms: num(res.E2EP99Ms), CatchUpPerSec: num(res.CatchUpPerSec),
			CatchUpN: res.CatchUpRecords, Quick: r.Quick, Noisy: r.Noisy(),
		}
		for _, x := range res.Rounds {
			l.Rounds = append(l.Rounds, num(x))
		}
		if res.Status != "" { // not measured: no figure, not zero
			l.RecordsPerSec, l.MBPerSec, l.LatencyRate, l.PutP50Ms, l.PutP99Ms = nil, nil, nil, nil, nil
			l.E2EP50Ms, l.E2EP99Ms, l.CatchUpPerSec = nil, nil, nil
		}
		if err := enc.Encode(l); err != nil {
			return fmt.Errorf("write json line: %w", err)
		}
	}
	if err := r.sectionJSONLines(enc); err != nil {
		return err
	}
	if err := r.reshardJSONLine(enc); err != nil {
		return err
	}
	return r.producerJSONLines(enc)
}

// FormatRate renders a per-second figure with a k or M suffix; "–" for
// NaN.
func FormatRate(f float64) string {
	switch {
	case math.IsNaN(f):
		return "–"
	case f >= 1e6:
		return fmt.Sprintf("%.2f M", f/1e6)
	case f >= 1e3:
		return fmt.Sprintf("%.1f k", f/1e3)
	}
	return fmt.Sprintf("%.0f", f)
}

// FormatRatio renders a ratio as "0.42x"; "–" for NaN.
func FormatRatio(f float64) string {
	if math.IsNaN(f) {
		return "–"
	}
	return fmt.Sprintf("%.2fx", f)
}

func formatFloat(f float64, prec int) string {
	if math.IsNaN(f) {
		return "–"
	}
	return fmt.Sprintf("%.*f", prec, f)
}

// analyticsMarkdown writes the Analytics table, if Analytics ran.
func (r Report) analyticsMarkdown(b *strings.Builder) {
	if len(r.Analytics) == 0 {
		return
	}
	a := r.Analytics[0]
	threads := "one goroutine locked to its OS thread"
	if a.OneProc {
		threads += ", GOMAXPROCS=1 (the garbage collector shares the core)"
	}
	b.WriteString("\n### Analytics: Nexmark-shaped queries, events/s per core\n\n")
	fmt.Fprintf(b, "Single-threaded: `analytics.Evaluate` on %s, JSON decoding included; "+
		"%d Nexmark bids per evaluation, median of %s. Goal: 10x Flink's per-core figure.\n\n",
		threads, a.Events, plural(len(a.Rounds), "round"))
	b.WriteString("| query | shape | events/s per core | goal | / goal |\n|---|---|---:|---:|---:|\n")
	for _, q := range r.Analytics {
		if q.Status != "" {
			fmt.Fprintf(b, "| %s | %s | %s | %s | |\n", q.Query, q.Shape, q.Status, FormatRate(q.Goal))
			continue
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", q.Query, q.Shape, FormatRate(q.EventsPerSec),
			FormatRate(q.Goal), FormatRatio(q.GoalRatio()))
	}
}

// firehoseMarkdown writes the Firehose table, if Firehose ran.
func (r Report) firehoseMarkdown(b *strings.Builder) {
	f := r.Firehose
	if f == nil {
		return
	}
	b.WriteString("\n### Firehose: delivery to S3 with GZIP beside GZIP alone\n\n")
	if f.Status != "" {
		fmt.Fprintf(b, "| path | MB/s |\n|---|---:|\n| PutRecordBatch to S3, GZIP | %s |\n", f.Status)
		return
	}
	fmt.Fprintf(b, "%.1f MB of ~1 KiB JSON log records per round (batches of 500, %s), median of %s; "+
		"S3 at %s. Delivered is end to end: first put until the last byte is in S3. "+
		"GZIP alone is one stream on one core over the same bytes in 8 MiB buffers.\n\n",
		f.MBPerRun, plural(f.Producers, "producer"), plural(len(f.DeliveredRounds), "round"), f.Endpoint)
	b.WriteString("| path | MB/s | delivered / GZIP alone |\n|---|---:|---:|\n")
	fmt.Fprintf(b, "| PutRecordBatch → store → GZIP → S3 | %s | %s |\n", formatFloat(f.DeliveredMBPerSec, 1), FormatRatio(f.Ratio()))
	fmt.Fprintf(b, "| GZIP alone | %s | |\n", formatFloat(f.GzipMBPerSec, 1))
}

// analyticsLine and firehoseLine are the JSON lines of the Analytics and
// Firehose sections; their target ("analytics", "firehose-s3-gzip") sets
// them apart from the stream results.
type analyticsLine struct {
	Target         string     `json:"target"`
	Query          string     `json:"query"`
	Shape          string     `json:"shape"`
	Events         int        `json:"events"`
	SingleThreaded bool       `json:"single_threaded"`
	OneProc        bool       `json:"gomaxprocs_1"`
	Status         string     `json:"status,omitempty"`
	EventsPerSec   *float64   `json:"events_per_sec_per_core"`
	Goal           *float64   `json:"goal_events_per_sec"`
	GoalRatio      *float64   `json:"goal_ratio"`
	Rows           int        `json:"rows"`
	Rounds         []*float64 `json:"rounds_events_per_sec,omitempty"`
	Quick          bool       `json:"quick"`
}

type firehoseLine struct {
	Target      string     `json:"target"`
	Status      string     `json:"status,omitempty"`
	Endpoint    string     `json:"endpoint,omitempty"`
	MBPerRound  *float64   `json:"mb_per_round"`
	Producers   int        `json:"producers"`
	Delivered   *float64   `json:"delivered_mb_per_sec"`
	GzipAlone   *float64   `json:"gzip_alone_mb_per_sec"`
	Ratio       *float64   `json:"delivered_over_gzip_alone"`
	RoundsDeliv []*float64 `json:"rounds_delivered_mb_per_sec,omitempty"`
	RoundsGzip  []*float64 `json:"rounds_gzip_alone_mb_per_sec,omitempty"`
	Quick       bool       `json:"quick"`
}

func nums(xs []float64) []*float64 {
	var out []*float64
	for _, x := range xs {
		out = append(out, num(x))
	}
	return out
}

// sectionJSONLines writes one line per Analytics query and one for
// Firehose, for those that ran.
func (r Report) sectionJSONLines(enc *json.Encoder) error {
	for _, q := range r.Analytics {
		l := analyticsLine{Target: "analytics", Query: q.Query, Shape: q.Shape, Events: q.Events, SingleThreaded: true,
			OneProc: q.OneProc, Status: q.Status, EventsPerSec: num(q.EventsPerSec), Goal: num(q.Goal),
			GoalRatio: num(q.GoalRatio()), Rows: q.Rows, Rounds: nums(q.Rounds), Quick: r.Quick}
		if err := enc.Encode(l); err != nil {
			return fmt.Errorf("write json line: %w", err)
		}
	}
	if f := r.Firehose; f != nil {
		l := firehoseLine{Target: "firehose-s3-gzip", Status: f.Status, Endpoint: f.Endpoint, Producers: f.Producers,
			Delivered: num(f.DeliveredMBPerSec), GzipAlone: num(f.GzipMBPerSec), Ratio: num(f.Ratio()),
			RoundsDeliv: nums(f.DeliveredRounds), RoundsGzip: nums(f.GzipRounds), Quick: r.Quick}
		if f.Status == "" {
			l.MBPerRound = num(f.MBPerRun)
		}
		if err := enc.Encode(l); err != nil {
			return fmt.Errorf("write json line: %w", err)
		}
	}
	return nil
}
