package shard

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestHealthCollector scrapes a real store and checks that every health
// metric is there, with its type, and that a synced write shows up.
func TestHealthCollector(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.CreateStream(ctx, CreateStreamInput{Name: "s", ShardCount: 1}); err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	reg := prometheus.NewPedanticRegistry() // checks Collect against Describe
	if err := reg.Register(s.HealthCollector()); err != nil {
		t.Fatalf("register: %v", err)
	}
	got := gatherFamilies(t, reg)

	want := map[string]dto.MetricType{
		"spate_pebble_disk_usage_bytes":          dto.MetricType_GAUGE,
		"spate_pebble_compactions_total":         dto.MetricType_COUNTER,
		"spate_pebble_compactions_in_progress":   dto.MetricType_GAUGE,
		"spate_pebble_compaction_debt_bytes":     dto.MetricType_GAUGE,
		"spate_pebble_flushes_total":             dto.MetricType_COUNTER,
		"spate_pebble_l0_sublevels":              dto.MetricType_GAUGE,
		"spate_pebble_l0_files":                  dto.MetricType_GAUGE,
		"spate_pebble_read_amplification":        dto.MetricType_GAUGE,
		"spate_pebble_level_size_bytes":          dto.MetricType_GAUGE,
		"spate_pebble_memtable_size_bytes":       dto.MetricType_GAUGE,
		"spate_pebble_memtables":                 dto.MetricType_GAUGE,
		"spate_pebble_wal_size_bytes":            dto.MetricType_GAUGE,
		"spate_pebble_wal_physical_size_bytes":   dto.MetricType_GAUGE,
		"spate_pebble_wal_files":                 dto.MetricType_GAUGE,
		"spate_pebble_wal_bytes_written_total":   dto.MetricType_COUNTER,
		"spate_pebble_wal_fsync_latency_seconds": dto.MetricType_HISTOGRAM,
		"spate_pebble_block_cache_size_bytes":    dto.MetricType_GAUGE,
		"spate_pebble_block_cache_hits_total":    dto.MetricType_COUNTER,
		"spate_pebble_block_cache_misses_total":  dto.MetricType_COUNTER,
		"spate_pebble_write_stalls_total":        dto.MetricType_COUNTER,
		"spate_pebble_write_stall_seconds_total": dto.MetricType_COUNTER,
		"spate_pebble_write_stalled":             dto.MetricType_GAUGE,
	}
	for name, typ := range want {
		mf, ok := got[name]
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if mf.GetType() != typ {
			t.Errorf("%s is a %v, want a %v", name, mf.GetType(), typ)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected metric %s (document it in docs/metrics.md and add it here)", name)
		}
	}
	if n := len(got["spate_pebble_level_size_bytes"].GetMetric()); n != 7 {
		t.Errorf("spate_pebble_level_size_bytes has %d series, want one per level (7)", n)
	}
	// CreateStream commits with pebble.Sync: the WAL has been written and
	// fsynced.
	if v := got["spate_pebble_disk_usage_bytes"].GetMetric()[0].GetGauge().GetValue(); v <= 0 {
		t.Errorf("disk usage = %v, want > 0", v)
	}
	if v := got["spate_pebble_wal_bytes_written_total"].GetMetric()[0].GetCounter().GetValue(); v <= 0 {
		t.Errorf("WAL bytes written = %v, want > 0", v)
	}
	if n := got["spate_pebble_wal_fsync_latency_seconds"].GetMetric()[0].GetHistogram().GetSampleCount(); n == 0 {
		t.Error("WAL fsync histogram is empty after synced writes")
	}
	// A store that has not stalled has a zero series for every reason.
	checkStalls(t, gatherStalls(t, reg), zeroStalls())

	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := gatherFamilies(t, reg); len(got) != 0 {
		t.Errorf("after Close the collector yields %d metrics, want none", len(got))
	}
}

// TestHealthCollectorWriteStalls drives the write-stall listener a store
// gave Pebble and checks the metrics its health collector exports: zero for
// every reason before any stall, the stall in progress at a scrape, none
// after Close. The stalls are timed with the store's clock.
func TestHealthCollectorWriteStalls(t *testing.T) {
	clock := newFakeClock()
	s, err := Open(t.TempDir(), WithClock(clock.now))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(s.HealthCollector()); err != nil {
		t.Fatalf("register: %v", err)
	}
	want := zeroStalls()
	checkStalls(t, gatherStalls(t, reg), want)

	l := s.stalls.eventListener()
	l.WriteStallBegin(pebble.WriteStallBeginInfo{Reason: pebbleL0Stall})
	clock.advance(1500 * time.Millisecond)
	want.count["l0_file_count"], want.seconds["l0_file_count"], want.stalled = 1, 1.5, 1
	checkStalls(t, gatherStalls(t, reg), want)

	clock.advance(500 * time.Millisecond)
	l.WriteStallEnd()
	l.WriteStallBegin(pebble.WriteStallBeginInfo{Reason: pebbleMemtableStall})
	clock.advance(time.Second)
	want.seconds["l0_file_count"] = 2
	want.count["memtable_count"], want.seconds["memtable_count"] = 1, 1
	checkStalls(t, gatherStalls(t, reg), want)

	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := gatherFamilies(t, reg); len(got) != 0 {
		t.Errorf("after Close the collector yields %d metrics, want none", len(got))
	}
}

func gatherFamilies(t *testing.T, g prometheus.Gatherer) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := make(map[string]*dto.MetricFamily, len(mfs))
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// TestFsyncHistogram checks the conversion of Pebble's nanosecond
// histogram to seconds in fewer buckets.
func TestFsyncHistogram(t *testing.T) {
	if _, ok := fsyncHistogram(nil); ok {
		t.Error("fsyncHistogram(nil) reported a histogram")
	}
	// The histogram Pebble makes (open.go): nanoseconds, FsyncLatencyBuckets.
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "x", Buckets: pebble.FsyncLatencyBuckets})
	observed := []time.Duration{50 * time.Microsecond, 150 * time.Microsecond, 3 * time.Millisecond, 40 * time.Millisecond, 2 * time.Second, 20 * time.Second}
	var sum float64
	for _, d := range observed {
		h.Observe(float64(d))
		sum += d.Seconds()
	}
	m, ok := fsyncHistogram(h)
	if !ok {
		t.Fatal("no histogram")
	}
	var pb dto.Metric
	if err := m.Write(&pb); err != nil {
		t.Fatal(err)
	}
	ph := pb.GetHistogram()
	if ph.GetSampleCount() != uint64(len(observed)) || math.Abs(ph.GetSampleSum()-sum) > 1e-9 {
		t.Errorf("count %d sum %v, want %d %v", ph.GetSampleCount(), ph.GetSampleSum(), len(observed), sum)
	}
	tests := []struct {
		le   float64 // at least this bound, in seconds
		want uint64  // observations at or below the first bound >= le
	}{
		{0.0001, 1},
		{0.00025, 2},
		{0.005, 3},
		{0.05, 4},
		{5, 5},
	}
	for _, tt := range tests {
		var b *dto.Bucket
		for _, cand := range ph.GetBucket() {
			if cand.GetUpperBound() >= tt.le*(1-1e-9) {
				b = cand
				break
			}
		}
		if b == nil {
			t.Errorf("no bucket at or above %vs", tt.le)
			continue
		}
		if b.GetUpperBound() > tt.le*1.2 {
			t.Errorf("bucket for %vs has bound %vs: too far", tt.le, b.GetUpperBound())
		}
		if b.GetCumulativeCount() != tt.want {
			t.Errorf("le=%v: cumulative count %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), tt.want)
		}
	}
	if n := len(ph.GetBucket()); n > len(fsyncBounds) {
		t.Errorf("%d buckets, want at most %d", n, len(fsyncBounds))
	}
}
