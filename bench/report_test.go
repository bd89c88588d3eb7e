package bench

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func testReport() Report {
	w := Workload{RecordSize: 100, Batch: 500, Shards: 4, Producers: 1, Durable: true}
	r := w
	r.Durable = false
	nan := math.NaN()
	res := func(target string, w Workload, rate float64) Result {
		return Result{Target: target, Workload: w, RecordsPerSec: rate, MBPerSec: rate * 100 / 1e6,
			PutP50Ms: 1.5, PutP99Ms: 4.25, E2EP50Ms: nan, E2EP99Ms: nan, CatchUpPerSec: nan, Rounds: []float64{rate, nan}}
	}
	catchUp := func(r Result, perSec float64) Result {
		r.CatchUpPerSec, r.CatchUpRecords = perSec, 200_000
		return r
	}
	return Report{
		Quick: true, ProbeBefore: 1000, ProbeAfter: 600,
		Results: []Result{
			catchUp(res("self-grpc", w, 300_000), 2e6), res("self-grpc", r, 450_000),
			catchUp(res("pebble-raw", w, 600_000), 4e6), res("pebble-raw", r, 900_000),
			res("self-http-efo", w, 290_000),
			{Target: "nats", Workload: w, Status: ErrNotInstalled.Error()},
		},
	}
}

func TestMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := testReport().Markdown(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"**Quick run**",
		"**NOISY**", // 1000 vs 600 fsyncs/s
		"### 100 B records, batch 500, 4 shards, 1 producer\n",
		"| self-grpc | 300.0 k | 30.0 | 1.50 | 4.25 | – | – | 2.00 M | 450.0 k | 4.25 |",
		"| nats | not installed (run scripts/bench-peers.sh) |",
		"| self-grpc / pebble-raw | 0.50x | 0.50x |",
		"| self-grpc / kfake | – | – |",
		"| self-http / kinesalite | – | – |",
		"preloaded with the same 200.0 k records",
		"| ratio (catch-up records/s) | |",
		"self-http-efo puts through gRPC exactly as self-grpc does",
		"| self-grpc / pebble-raw | 0.50x |\n| self-grpc / kfake | – |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "### ") != 1 {
		t.Errorf("want one table for the one case (relaxed is a column):\n%s", out)
	}
}

func TestJSONLines(t *testing.T) {
	var b bytes.Buffer
	if err := testReport().JSONLines(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d lines, want 6:\n%s", len(lines), b.String())
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first["target"] != "self-grpc" || first["mode"] != "durable" || first["records_per_sec"] != 300000.0 ||
		first["put_to_get_p50_ms"] != nil || first["noisy"] != true || first["quick"] != true ||
		first["catch_up_records_per_sec"] != 2e6 || first["catch_up_records"] != 200000.0 {
		t.Errorf("first line = %v", first)
	}
	if r, _ := first["rounds_records_per_sec"].([]any); len(r) != 2 || r[1] != nil {
		t.Errorf("rounds = %v, want [300000 null]", first["rounds_records_per_sec"])
	}
	var last map[string]any
	if err := json.Unmarshal([]byte(lines[5]), &last); err != nil {
		t.Fatal(err)
	}
	if last["status"] != ErrNotInstalled.Error() || last["records_per_sec"] != nil {
		t.Errorf("last line = %v", last)
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{FormatRate(2_345_678), "2.35 M"},
		{FormatRate(312_400), "312.4 k"},
		{FormatRate(950), "950"},
		{FormatRate(math.NaN()), "–"},
		{FormatRatio(0.4166), "0.42x"},
		{FormatRatio(math.NaN()), "–"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestStandard(t *testing.T) {
	ws := Standard(true)
	if len(ws) != 14 {
		t.Fatalf("%d workloads, want 7 cases * 2 modes", len(ws))
	}
	if ws[0] != Headline {
		t.Errorf("first workload %+v, want the headline %+v", ws[0], Headline)
	}
	seen := map[Workload]bool{}
	for i, w := range ws {
		if seen[w] {
			t.Errorf("workload %+v twice", w)
		}
		seen[w] = true
		if w.Durable != (i%2 == 0) {
			t.Errorf("workload %d (%s) durable=%v: want each case durable then relaxed", i, w.Case(), w.Durable)
		}
	}
	// The cases the targets name.
	for _, want := range []Workload{
		{RecordSize: 1024, Batch: 500, Shards: 4, Producers: 1, Durable: true},
		{RecordSize: 100, Batch: 1, Shards: 4, Producers: 8, Durable: true},
		{RecordSize: 100, Batch: 500, Shards: 16, Producers: 1, Durable: true},
	} {
		if !seen[want] {
			t.Errorf("missing %s durable", want.Case())
		}
	}
	if n := len(Standard(false)); n != 7 {
		t.Errorf("durable only: %d workloads, want 7", n)
	}
}

func TestMatrix(t *testing.T) {
	ws := Matrix([]int{100, 1024}, []int{500, 1}, []int{1, 4, 16}, []int{1, 8}, true)
	if len(ws) != 48 {
		t.Fatalf("%d workloads, want 2*2*3*2 cases * 2 modes = 48", len(ws))
	}
	if !ws[0].Durable || ws[1].Durable || ws[0].Case() != ws[1].Case() {
		t.Errorf("want each case durable then relaxed: %+v %+v", ws[0], ws[1])
	}
	if n := len(Matrix([]int{100}, []int{500}, []int{4}, []int{1}, false)); n != 1 {
		t.Errorf("durable only: %d workloads, want 1", n)
	}
}
