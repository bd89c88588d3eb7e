package shard

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// The reasons Pebble v2 gives (db.go, maybeInduceWriteStall).
const (
	pebbleMemtableStall = "memtable count limit reached"
	pebbleL0Stall       = "L0 file count limit exceeded"
)

// newFakeClock returns the fakeClock of store_test.go, set to a time in 2023.
func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ms.Store(1_700_000_000_000)
	return c
}

// stallCollector exports a writeStalls alone, so its tests need no store.
type stallCollector struct{ w *writeStalls }

func (stallCollector) Describe(ch chan<- *prometheus.Desc)   { describeWriteStalls(ch) }
func (c stallCollector) Collect(ch chan<- prometheus.Metric) { c.w.collect(ch) }

// stallValues are the write-stall metrics of one scrape.
type stallValues struct {
	count   map[string]float64 // spate_pebble_write_stalls_total by reason
	seconds map[string]float64 // spate_pebble_write_stall_seconds_total by reason
	stalled float64            // spate_pebble_write_stalled
}

// gatherStalls scrapes g and returns its write-stall metrics, failing the
// test if one is missing or has the wrong type.
func gatherStalls(t *testing.T, g prometheus.Gatherer) stallValues {
	t.Helper()
	got := gatherFamilies(t, g)
	v := stallValues{count: map[string]float64{}, seconds: map[string]float64{}}
	byReason := func(name string, into map[string]float64) {
		mf, ok := got[name]
		if !ok {
			t.Fatalf("%s missing", name)
		}
		for _, m := range mf.GetMetric() {
			if m.GetCounter() == nil {
				t.Fatalf("%s is not a counter", name)
			}
			var reason string
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" {
					reason = l.GetValue()
				}
			}
			into[reason] = m.GetCounter().GetValue()
		}
	}
	byReason("spate_pebble_write_stalls_total", v.count)
	byReason("spate_pebble_write_stall_seconds_total", v.seconds)
	mf, ok := got["spate_pebble_write_stalled"]
	if !ok || len(mf.GetMetric()) != 1 || mf.GetMetric()[0].GetGauge() == nil {
		t.Fatalf("spate_pebble_write_stalled missing or not one gauge: %v", mf)
	}
	v.stalled = mf.GetMetric()[0].GetGauge().GetValue()
	return v
}

// zeroStalls is the scrape of a tracker that has seen no stall: a zero
// series for every reason.
func zeroStalls() stallValues {
	return stallValues{
		count:   map[string]float64{"memtable_count": 0, "l0_file_count": 0, "other": 0},
		seconds: map[string]float64{"memtable_count": 0, "l0_file_count": 0, "other": 0},
	}
}

func checkStalls(t *testing.T, got, want stallValues) {
	t.Helper()
	for _, m := range []struct {
		name      string
		got, want map[string]float64
	}{
		{"spate_pebble_write_stalls_total", got.count, want.count},
		{"spate_pebble_write_stall_seconds_total", got.seconds, want.seconds},
	} {
		if len(m.got) != len(m.want) {
			t.Errorf("%s has reasons %v, want %v", m.name, m.got, m.want)
		}
		for reason, w := range m.want {
			if g, ok := m.got[reason]; !ok || g != w {
				t.Errorf("%s{reason=%q} = %v (present %v), want %v", m.name, reason, g, ok, w)
			}
		}
	}
	if got.stalled != want.stalled {
		t.Errorf("spate_pebble_write_stalled = %v, want %v", got.stalled, want.stalled)
	}
}

// TestWriteStalls drives the listener with sequences of events and checks
// the scrape that follows.
func TestWriteStalls(t *testing.T) {
	type step struct {
		begin   string // a Begin with this reason, unless end or wait is set
		end     bool
		advance time.Duration
	}
	begin := func(reason string) step { return step{begin: reason} }
	end := step{end: true}
	wait := func(d time.Duration) step { return step{advance: d} }
	tests := []struct {
		name  string
		steps []step
		// want changes zeroStalls: counts and seconds by reason, stalled.
		count, seconds map[string]float64
		stalled        float64
	}{
		{name: "no stall"},
		{
			name:    "memtable stall",
			steps:   []step{begin(pebbleMemtableStall), wait(2 * time.Second), end},
			count:   map[string]float64{"memtable_count": 1},
			seconds: map[string]float64{"memtable_count": 2},
		},
		{
			name:    "scrape mid-stall counts the time so far",
			steps:   []step{begin(pebbleL0Stall), wait(3 * time.Second)},
			count:   map[string]float64{"l0_file_count": 1},
			seconds: map[string]float64{"l0_file_count": 3},
			stalled: 1,
		},
		{
			name: "stalls of two reasons, time between them not counted",
			steps: []step{
				begin(pebbleMemtableStall), wait(time.Second), end,
				wait(10 * time.Second),
				begin(pebbleL0Stall), wait(2 * time.Second), end,
				wait(5 * time.Second),
			},
			count:   map[string]float64{"memtable_count": 1, "l0_file_count": 1},
			seconds: map[string]float64{"memtable_count": 1, "l0_file_count": 2},
		},
		{
			name: "second begin while stalled: one stall, its first reason, timed once",
			steps: []step{
				begin(pebbleMemtableStall), wait(time.Second),
				begin(pebbleL0Stall), wait(time.Second),
				end, wait(time.Second),
			},
			count:   map[string]float64{"memtable_count": 1},
			seconds: map[string]float64{"memtable_count": 2},
		},
		{
			name: "end without a stall is ignored",
			steps: []step{
				end,
				begin(pebbleMemtableStall), wait(time.Second), end,
				wait(4 * time.Second), end,
			},
			count:   map[string]float64{"memtable_count": 1},
			seconds: map[string]float64{"memtable_count": 1},
		},
		{
			name: "repeated stalls add up",
			steps: []step{
				begin(pebbleL0Stall), wait(time.Second), end,
				begin(pebbleL0Stall), wait(500 * time.Millisecond), end,
				begin(pebbleL0Stall), wait(250 * time.Millisecond),
			},
			count:   map[string]float64{"l0_file_count": 3},
			seconds: map[string]float64{"l0_file_count": 1.75},
			stalled: 1,
		},
		{
			name:    "unknown reason counts as other",
			steps:   []step{begin("disk full"), wait(time.Second), end},
			count:   map[string]float64{"other": 1},
			seconds: map[string]float64{"other": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			w := newWriteStalls(clock.now)
			l := w.eventListener()
			for _, s := range tt.steps {
				switch {
				case s.end:
					l.WriteStallEnd()
				case s.advance != 0:
					clock.advance(s.advance)
				default:
					l.WriteStallBegin(pebble.WriteStallBeginInfo{Reason: s.begin})
				}
			}
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(stallCollector{w})
			want := zeroStalls()
			for r, v := range tt.count {
				want.count[r] = v
			}
			for r, v := range tt.seconds {
				want.seconds[r] = v
			}
			want.stalled = tt.stalled
			checkStalls(t, gatherStalls(t, reg), want)
		})
	}
}

// TestWriteStallSecondsGrowDuringStall scrapes one stall several times:
// the time counter grows while it lasts, and the end adds only what the
// last scrape had not seen.
func TestWriteStallSecondsGrowDuringStall(t *testing.T) {
	clock := newFakeClock()
	w := newWriteStalls(clock.now)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(stallCollector{w})
	want := zeroStalls()

	w.begin(pebble.WriteStallBeginInfo{Reason: pebbleMemtableStall})
	want.count["memtable_count"], want.stalled = 1, 1
	checkStalls(t, gatherStalls(t, reg), want)

	for _, step := range []struct {
		advance time.Duration
		want    float64 // seconds since the stall began
	}{{time.Second, 1}, {time.Second, 2}, {3 * time.Second, 5}} {
		clock.advance(step.advance)
		want.seconds["memtable_count"] = step.want
		checkStalls(t, gatherStalls(t, reg), want)
	}
	clock.advance(time.Second)
	w.end()
	want.seconds["memtable_count"], want.stalled = 6, 0
	checkStalls(t, gatherStalls(t, reg), want)
	clock.advance(time.Hour)
	checkStalls(t, gatherStalls(t, reg), want)
}

// TestWriteStallClockStepsBack checks that the seconds counter never
// goes down when a clock without a monotonic reading steps back.
func TestWriteStallClockStepsBack(t *testing.T) {
	clock := newFakeClock()
	w := newWriteStalls(clock.now)
	w.begin(pebble.WriteStallBeginInfo{Reason: pebbleL0Stall})
	clock.advance(-time.Minute)
	if s := w.snapshot(); s.total[stallL0] != 0 {
		t.Errorf("mid-stall total after the clock stepped back = %v, want 0", s.total[stallL0])
	}
	w.end()
	if s := w.snapshot(); s.total[stallL0] != 0 || s.count[stallL0] != 1 {
		t.Errorf("after the stall: count %d total %v, want 1 and 0", s.count[stallL0], s.total[stallL0])
	}
}

func TestParseStallReason(t *testing.T) {
	tests := []struct {
		reason string
		want   stallReason
	}{
		{pebbleMemtableStall, stallMemtables},
		{pebbleL0Stall, stallL0},
		{"Memtable queue full", stallMemtables},
		{"l0 sublevel limit", stallL0},
		{"", stallOther},
		{"ingesting", stallOther},
	}
	for _, tt := range tests {
		if got := parseStallReason(tt.reason); got != tt.want {
			t.Errorf("parseStallReason(%q) = %s, want %s", tt.reason, stallReasonLabels[got], stallReasonLabels[tt.want])
		}
	}
}

// TestPebbleOptionsListeners checks that a listener given to
// pebbleOptions hears write stalls and that Pebble's default logging of
// background errors survives the composition.
func TestPebbleOptionsListeners(t *testing.T) {
	var logs bytes.Buffer
	cfg := defaultConfig()
	cfg.logger = slog.New(slog.NewTextHandler(&logs, nil))

	if o := pebbleOptions(cfg); o.EventListener != nil {
		t.Error("pebbleOptions without listeners set an EventListener; Pebble's defaults should apply")
	}

	w := newWriteStalls(newFakeClock().now)
	o := pebbleOptions(cfg, w.eventListener())
	if o.EventListener == nil {
		t.Fatal("pebbleOptions with a listener left EventListener nil")
	}
	o.EventListener.WriteStallBegin(pebble.WriteStallBeginInfo{Reason: pebbleMemtableStall})
	if s := w.snapshot(); !s.stalled || s.count[stallMemtables] != 1 {
		t.Errorf("after WriteStallBegin through the options: stalled %v, count %d; want true, 1", s.stalled, s.count[stallMemtables])
	}
	o.EventListener.WriteStallEnd()
	if w.snapshot().stalled {
		t.Error("still stalled after WriteStallEnd through the options")
	}
	o.EventListener.BackgroundError(errors.New("disk on fire"))
	if !strings.Contains(logs.String(), "background error: disk on fire") {
		t.Errorf("a background error was not logged; log: %q", logs.String())
	}
}

// TestWriteStallFromPebble makes Pebble stall for real (L0 at its stop
// threshold with automatic compactions off) and checks that the listener
// pebbleOptions installs sees it begin with the reason Pebble gives and
// end once a manual compaction empties L0.
func TestWriteStallFromPebble(t *testing.T) {
	clock := newFakeClock()
	w := newWriteStalls(func() time.Time { clock.advance(time.Second); return clock.now() })
	began := make(chan struct{})
	var once sync.Once
	signal := pebble.EventListener{WriteStallBegin: func(pebble.WriteStallBeginInfo) { once.Do(func() { close(began) }) }}

	o := pebbleOptions(defaultConfig(), w.eventListener(), signal)
	o.L0CompactionThreshold = 2
	o.L0StopWritesThreshold = 2
	o.DisableAutomaticCompactions = true
	db, err := pebble.Open(t.TempDir(), o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer db.Close()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(stallCollector{w})

	// Two flushes of the same key leave two overlapping tables in L0: two
	// sublevels, the stop threshold. The next memtable rotation stalls.
	for i := 0; i < 2; i++ {
		if err := db.Set([]byte("k"), []byte{byte(i)}, pebble.NoSync); err != nil {
			t.Fatal(err)
		}
		if err := db.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if got := gatherStalls(t, reg); got.stalled != 0 || got.count["l0_file_count"] != 0 {
		t.Fatalf("stalled before the stall: %+v", got)
	}
	flushed := make(chan error, 1)
	go func() { flushed <- db.Flush() }()
	select {
	case <-began:
	case err := <-flushed:
		t.Fatalf("flush returned (%v) without stalling", err)
	}
	mid := gatherStalls(t, reg)
	if mid.stalled != 1 || mid.count["l0_file_count"] != 1 || mid.seconds["l0_file_count"] <= 0 {
		t.Errorf("mid-stall: %+v, want stalled, one L0 stall with time", mid)
	}
	for _, r := range []string{"memtable_count", "other"} {
		if mid.count[r] != 0 {
			t.Errorf("mid-stall: %s stalls = %v, want 0", r, mid.count[r])
		}
	}

	if err := db.Compact(context.Background(), []byte("a"), []byte("z"), false); err != nil {
		t.Fatalf("compact: %v", err)
	}
	if err := <-flushed; err != nil {
		t.Fatalf("stalled flush: %v", err)
	}
	after := gatherStalls(t, reg)
	if after.stalled != 0 || after.count["l0_file_count"] != 1 || after.seconds["l0_file_count"] <= mid.seconds["l0_file_count"] {
		t.Errorf("after the stall: %+v, want not stalled, one L0 stall longer than mid-stall's %v s", after, mid.seconds["l0_file_count"])
	}
}
