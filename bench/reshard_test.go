package bench

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// TestRunReshard runs a short resharding-under-load measurement and checks
// that every figure is measured and reported (not the figures themselves).
func TestRunReshard(t *testing.T) {
	cfg := ReshardConfig{Rate: 2000, Batch: 20, RecordSize: 50, Shards: 2, Phase: 300 * time.Millisecond,
		Pause: 10 * time.Millisecond, MaxInFlight: 8, Rounds: 1, TmpDir: t.TempDir()}
	res, err := RunReshard(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "" {
		t.Fatalf("status %q", res.Status)
	}
	for name, v := range map[string]float64{
		"steady records/s": res.SteadyRecordsPerSec, "resharding records/s": res.ReshardRecordsPerSec,
		"steady p99": res.SteadyP99Ms, "resharding p99": res.ReshardP99Ms, "apply p50": res.ApplyP50Ms,
	} {
		if math.IsNaN(v) || v <= 0 {
			t.Errorf("%s = %v, want a measurement", name, v)
		}
	}
	if res.Reshards < 1 {
		t.Errorf("%d reshards applied", res.Reshards)
	}
	rep := Report{Reshard: &res}
	var b strings.Builder
	rep.reshardMarkdown(&b)
	for _, want := range []string{"### Resharding under load", "| steady | ", "| resharding | ", "A reshard takes effect in "} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, b.String())
		}
	}
	var js strings.Builder
	if err := rep.reshardJSONLine(json.NewEncoder(&js)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"target":"reshard-under-load"`) {
		t.Errorf("json line %s", js.String())
	}
}

func TestRunReshardRejectsBadConfig(t *testing.T) {
	if _, err := RunReshard(context.Background(), ReshardConfig{Rate: 1, Batch: 1, Shards: 1, Rounds: 1, Phase: time.Second, RecordSize: 2}); err == nil {
		t.Error("records shorter than the stamp: no error")
	}
}
