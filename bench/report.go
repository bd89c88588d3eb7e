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
	CatchUpPerSec float64 // records/s reading everything back from TRIM_HORIZON

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

// RatioOf returns the throughput ratio num/den on w (NaN when either is
// missing).
func (r Report) RatioOf(num, den string, w Workload) float64 {
	a, okA := r.find(num, w)
	b, okB := r.find(den, w)
	if !okA || !okB {
		return math.NaN()
	}
	return Ratio(a.RecordsPerSec, b.RecordsPerSec)
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
		b.WriteString("\n| ratio (records/s) | durable | relaxed |\n|---|---:|---:|\n")
		for _, p := range RatioPairs {
			fmt.Fprintf(&b, "| %s / %s | %s | %s |\n", p[0], p[1],
				FormatRatio(r.RatioOf(p[0], p[1], c)), FormatRatio(r.RatioOf(p[0], p[1], relaxed)))
		}
	}
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
			Quick: r.Quick, Noisy: r.Noisy(),
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
	return nil
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
