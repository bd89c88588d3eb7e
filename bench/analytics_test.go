package bench

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestRunAnalytics evaluates every query over a few thousand bids, one
// round each, and checks the shape of the results (not the speed).
func TestRunAnalytics(t *testing.T) {
	var log bytes.Buffer
	res, err := RunAnalytics(t.Context(), AnalyticsQueries, AnalyticsConfig{Events: 30_000, Rounds: 2, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(AnalyticsQueries) {
		t.Fatalf("%d results, want %d", len(res), len(AnalyticsQueries))
	}
	for i, r := range res {
		q := AnalyticsQueries[i]
		if r.Query != q.Name || r.Goal != q.Goal || r.Events != 30_000 || r.Status != "" {
			t.Errorf("%s: result %+v", q.Name, r)
		}
		if len(r.Rounds) != 2 || math.IsNaN(r.EventsPerSec) || r.EventsPerSec <= 0 {
			t.Errorf("%s: events/s %v over rounds %v, want a positive median of 2", q.Name, r.EventsPerSec, r.Rounds)
		}
		if r.Rows == 0 {
			t.Errorf("%s: no rows: the query did not fire", q.Name)
		}
	}
	// Rounds interleave across queries: q5 q7 q11, q5 q7 q11.
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 6 || !strings.Contains(lines[0], " q5 ") || !strings.Contains(lines[1], " q7 ") ||
		!strings.Contains(lines[3], "round 2/2") || !strings.Contains(lines[3], " q5 ") {
		t.Errorf("progress lines not interleaved:\n%s", log.String())
	}
}

func TestRunAnalyticsErrors(t *testing.T) {
	if _, err := RunAnalytics(t.Context(), AnalyticsQueries, AnalyticsConfig{Events: 0, Rounds: 1}); err == nil {
		t.Error("Events 0: want an error")
	}
	bad := []AnalyticsQuery{{Name: "bad", SQL: "SELECT FROM", Goal: 1}}
	res, err := RunAnalytics(t.Context(), bad, AnalyticsConfig{Events: 10, Rounds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status == "" || !math.IsNaN(res[0].EventsPerSec) {
		t.Errorf("a query that does not compile: %+v, want a status and no figure", res[0])
	}
}

func TestAnalyticsReport(t *testing.T) {
	nan := math.NaN()
	rep := Report{Quick: true, Analytics: []AnalyticsResult{
		{Query: "q5", Shape: "HOP(2 s, 10 s) count per auction", Events: 50_000, Goal: 221_000, EventsPerSec: 110_500,
			Rows: 900, OneProc: true, Rounds: []float64{100_000, 110_500, 120_000}},
		{Query: "q7", Shape: "TUMBLE(10 s) max price", Events: 50_000, Goal: 123_000, EventsPerSec: nan,
			Status: "evaluate: boom", OneProc: true, Rounds: []float64{nan, nan, nan}},
	}}
	var md bytes.Buffer
	if err := rep.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"### Analytics: Nexmark-shaped queries, events/s per core\n",
		"Single-threaded",
		"GOMAXPROCS=1",
		"50000 Nexmark bids per evaluation, median of 3 rounds",
		"| q5 | HOP(2 s, 10 s) count per auction | 110.5 k | 221.0 k | 0.50x |",
		"| q7 | TUMBLE(10 s) max price | evaluate: boom | 123.0 k | |",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md.String())
		}
	}
	if strings.Contains(md.String(), "Firehose") {
		t.Errorf("Firehose section without a Firehose result:\n%s", md.String())
	}

	var js bytes.Buffer
	if err := rep.JSONLines(&js); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(js.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), js.String())
	}
	var q5, q7 map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &q5); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &q7); err != nil {
		t.Fatal(err)
	}
	if q5["target"] != "analytics" || q5["query"] != "q5" || q5["events_per_sec_per_core"] != 110500.0 ||
		q5["goal_ratio"] != 0.5 || q5["single_threaded"] != true || q5["quick"] != true {
		t.Errorf("q5 line = %v", q5)
	}
	if q7["status"] != "evaluate: boom" || q7["events_per_sec_per_core"] != nil || q7["goal_ratio"] != nil {
		t.Errorf("q7 line = %v", q7)
	}
}
