package shard

import (
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Descriptors of the write-stall metrics (docs/metrics.md).
var (
	descWriteStalls = prometheus.NewDesc("spate_pebble_write_stalls_total",
		"Write stalls Pebble has begun since the store opened, by reason.", []string{"reason"}, nil)
	descWriteStallSeconds = prometheus.NewDesc("spate_pebble_write_stall_seconds_total",
		"Seconds writes have been stalled since the store opened, by reason, a stall in progress included.",
		[]string{"reason"}, nil)
	descWriteStalled = prometheus.NewDesc("spate_pebble_write_stalled",
		"1 while Pebble is stalling writes, else 0.", nil, nil)
)

// stallReason is why Pebble stalled writes, reduced to a few label values.
type stallReason int

const (
	// stallMemtables: the memtables queued for flush hold
	// MemTableStopWritesThreshold × MemTableSize (Pebble: "memtable count
	// limit reached").
	stallMemtables stallReason = iota
	// stallL0: L0's read amplification (its sublevels) reached
	// L0StopWritesThreshold (Pebble: "L0 file count limit exceeded").
	stallL0
	// stallOther: a reason this Pebble version does not give, so that a
	// stall is counted even if a later version adds or rewords one.
	stallOther
	numStallReasons
)

// stallReasonLabels are the reason label values, by stallReason.
var stallReasonLabels = [numStallReasons]string{
	stallMemtables: "memtable_count",
	stallL0:        "l0_file_count",
	stallOther:     "other",
}

// parseStallReason maps Pebble's WriteStallBeginInfo.Reason to a
// stallReason. Pebble v2 gives "memtable count limit reached" and "L0 file
// count limit exceeded"; the match is on a word of each, not the whole
// text, so that a rewording in a later version still lands right.
func parseStallReason(reason string) stallReason {
	r := strings.ToLower(reason)
	switch {
	case strings.Contains(r, "memtable"):
		return stallMemtables
	case strings.Contains(r, "l0"):
		return stallL0
	}
	return stallOther
}

// writeStalls counts one store's Pebble write stalls and how long they
// lasted. Pebble calls begin and end from its commit path with DB.mu held,
// so they take a mutex for a few instructions and never block on anything
// else; collect takes the same mutex at scrape time.
//
// Pebble (v2, maybeInduceWriteStall) calls WriteStallBegin at most once per
// stall and WriteStallEnd once when it clears, and every caller holds the
// commit pipeline's mutex, so stalls never overlap. Should a Begin arrive
// while a stall is in progress anyway, it is ignored: the stall keeps its
// reason and start, and is neither counted nor timed twice; the next End
// closes it. An End with no stall in progress is ignored too.
type writeStalls struct {
	now func() time.Time

	mu sync.Mutex
	// stalled says a stall is in progress, begun at since for reason.
	// Invariant: while stalled, count[reason] already includes it and
	// total[reason] does not; end moves its duration into total.
	stalled bool
	reason  stallReason
	since   time.Time
	count   [numStallReasons]uint64
	total   [numStallReasons]time.Duration
}

// newWriteStalls returns a tracker that times stalls with now: the store's
// clock (time.Now unless WithClock replaced it).
func newWriteStalls(now func() time.Time) *writeStalls {
	return &writeStalls{now: now}
}

// eventListener returns the Pebble listener that feeds w; pass it to
// pebbleOptions. Only the write-stall handlers are set.
func (w *writeStalls) eventListener() pebble.EventListener {
	return pebble.EventListener{
		WriteStallBegin: w.begin,
		WriteStallEnd:   w.end,
	}
}

func (w *writeStalls) begin(info pebble.WriteStallBeginInfo) {
	reason := parseStallReason(info.Reason)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stalled {
		return
	}
	w.stalled, w.reason, w.since = true, reason, w.now()
	w.count[reason]++
}

func (w *writeStalls) end() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stalled {
		return
	}
	w.total[w.reason] += elapsed(w.since, w.now())
	w.stalled = false
}

// stallSnapshot is what writeStalls has counted up to one moment.
type stallSnapshot struct {
	stalled bool
	count   [numStallReasons]uint64
	// total includes the part of a stall in progress up to the moment.
	total [numStallReasons]time.Duration
}

func (w *writeStalls) snapshot() stallSnapshot {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := stallSnapshot{stalled: w.stalled, count: w.count, total: w.total}
	if w.stalled {
		s.total[w.reason] += elapsed(w.since, w.now())
	}
	return s
}

// elapsed is to minus from, never negative: the counters built from it
// must not go down even if a clock without a monotonic reading steps back.
func elapsed(from, to time.Time) time.Duration {
	return max(to.Sub(from), 0)
}

func describeWriteStalls(ch chan<- *prometheus.Desc) {
	ch <- descWriteStalls
	ch <- descWriteStallSeconds
	ch <- descWriteStalled
}

// collect sends the write-stall metrics. Every reason has a series from
// the start, at zero until a stall of that reason, so dashboards and rate()
// see the first stall as an increase rather than a new series.
func (w *writeStalls) collect(ch chan<- prometheus.Metric) {
	s := w.snapshot()
	for r, label := range stallReasonLabels {
		ch <- prometheus.MustNewConstMetric(descWriteStalls, prometheus.CounterValue, float64(s.count[r]), label)
		ch <- prometheus.MustNewConstMetric(descWriteStallSeconds, prometheus.CounterValue, s.total[r].Seconds(), label)
	}
	stalled := 0.0
	if s.stalled {
		stalled = 1
	}
	ch <- prometheus.MustNewConstMetric(descWriteStalled, prometheus.GaugeValue, stalled)
}
