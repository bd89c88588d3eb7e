package shard

import (
	"strconv"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Descriptors of the Pebble health metrics (docs/metrics.md explains what
// each one tells an operator).
var (
	descDiskUsage = prometheus.NewDesc("spate_pebble_disk_usage_bytes",
		"Bytes on disk of the Pebble database: tables, WAL, manifest and in-progress compaction output.", nil, nil)
	descCompactions = prometheus.NewDesc("spate_pebble_compactions_total",
		"Compactions Pebble has completed since the store opened.", nil, nil)
	descCompactionsInProgress = prometheus.NewDesc("spate_pebble_compactions_in_progress",
		"Compactions running now.", nil, nil)
	descCompactionDebt = prometheus.NewDesc("spate_pebble_compaction_debt_bytes",
		"Estimated bytes compactions must rewrite to bring the LSM back into shape.", nil, nil)
	descFlushes = prometheus.NewDesc("spate_pebble_flushes_total",
		"Memtable flushes to L0 since the store opened.", nil, nil)
	descL0Sublevels = prometheus.NewDesc("spate_pebble_l0_sublevels",
		"Sublevels of L0: Pebble slows writes when they pile up (compaction falling behind).", nil, nil)
	descL0Files = prometheus.NewDesc("spate_pebble_l0_files",
		"Sstables in L0.", nil, nil)
	descReadAmp = prometheus.NewDesc("spate_pebble_read_amplification",
		"Sublevels a point read may have to consult: L0's sublevels plus one per non-empty lower level.", nil, nil)
	descLevelSize = prometheus.NewDesc("spate_pebble_level_size_bytes",
		"Bytes of sstables in each LSM level.", []string{"level"}, nil)
	descMemtableSize = prometheus.NewDesc("spate_pebble_memtable_size_bytes",
		"Bytes allocated by memtables (the mutable one and those queued for flush).", nil, nil)
	descMemtables = prometheus.NewDesc("spate_pebble_memtables",
		"Memtables: the mutable one and those queued for flush.", nil, nil)
	descWALSize = prometheus.NewDesc("spate_pebble_wal_size_bytes",
		"Bytes of live WAL data: writes not yet flushed to sstables.", nil, nil)
	descWALPhysicalSize = prometheus.NewDesc("spate_pebble_wal_physical_size_bytes",
		"Bytes of the live WAL files on disk (including preallocated space).", nil, nil)
	descWALFiles = prometheus.NewDesc("spate_pebble_wal_files",
		"Live WAL files.", nil, nil)
	descWALBytesWritten = prometheus.NewDesc("spate_pebble_wal_bytes_written_total",
		"Bytes written to the WAL, framing included, since the store opened.", nil, nil)
	descWALFsync = prometheus.NewDesc("spate_pebble_wal_fsync_latency_seconds",
		"Latency of WAL fsyncs: the floor under every durable put's latency.", nil, nil)
	descCacheSize = prometheus.NewDesc("spate_pebble_block_cache_size_bytes",
		"Bytes held by the block cache.", nil, nil)
	descCacheHits = prometheus.NewDesc("spate_pebble_block_cache_hits_total",
		"Block cache hits since the store opened.", nil, nil)
	descCacheMisses = prometheus.NewDesc("spate_pebble_block_cache_misses_total",
		"Block cache misses since the store opened.", nil, nil)
)

// fsyncBounds are the bucket bounds, in seconds, that
// spate_pebble_wal_fsync_latency_seconds keeps of Pebble's fsync histogram
// (pebble.FsyncLatencyBuckets has 100; each bound here is replaced by the
// nearest of Pebble's bounds at or above it, so counts stay exact).
var fsyncBounds = []float64{
	0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05,
	0.1, 0.25, 0.5,
	1, 2.5, 5, 10,
}

// levelLabels are the level label values, "0" to "6".
var levelLabels = func() []string {
	var l pebble.Metrics
	out := make([]string, len(l.Levels))
	for i := range out {
		out[i] = strconv.Itoa(i)
	}
	return out
}()

// HealthCollector returns a Prometheus collector of the health of the
// store's Pebble database (disk usage, compactions, L0 and read
// amplification, memtables, the WAL and its fsync latency, the block
// cache), read from pebble.DB.Metrics at each scrape, and of the write
// stalls Pebble has reported to the store (stall.go). Register it once per
// store. After Close it yields nothing; unregister it before closing the
// store, or stop scraping first, since a scrape racing Close may read a
// closing database.
func (s *Store) HealthCollector() prometheus.Collector { return healthCollector{s} }

type healthCollector struct{ s *Store }

var _ prometheus.Collector = healthCollector{}

func (healthCollector) Describe(ch chan<- *prometheus.Desc) {
	describeWriteStalls(ch)
	for _, d := range []*prometheus.Desc{
		descDiskUsage, descCompactions, descCompactionsInProgress, descCompactionDebt, descFlushes,
		descL0Sublevels, descL0Files, descReadAmp, descLevelSize, descMemtableSize, descMemtables,
		descWALSize, descWALPhysicalSize, descWALFiles, descWALBytesWritten, descWALFsync,
		descCacheSize, descCacheHits, descCacheMisses,
	} {
		ch <- d
	}
}

func (c healthCollector) Collect(ch chan<- prometheus.Metric) {
	c.s.closeMu.RLock() // Close and upgrade (readonly.go) replace the database under it
	if c.s.closed.Load() {
		c.s.closeMu.RUnlock()
		return
	}
	m := c.s.db.Metrics()
	c.s.closeMu.RUnlock()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(descDiskUsage, float64(m.DiskSpaceUsage()))
	counter(descCompactions, float64(m.Compact.Count))
	gauge(descCompactionsInProgress, float64(m.Compact.NumInProgress))
	gauge(descCompactionDebt, float64(m.Compact.EstimatedDebt))
	counter(descFlushes, float64(m.Flush.Count))
	gauge(descL0Sublevels, float64(m.Levels[0].Sublevels))
	gauge(descL0Files, float64(m.Levels[0].TablesCount))
	gauge(descReadAmp, float64(m.ReadAmp()))
	for i, l := range m.Levels {
		gauge(descLevelSize, float64(l.TablesSize), levelLabels[i])
	}
	gauge(descMemtableSize, float64(m.MemTable.Size))
	gauge(descMemtables, float64(m.MemTable.Count))
	gauge(descWALSize, float64(m.WAL.Size))
	gauge(descWALPhysicalSize, float64(m.WAL.PhysicalSize))
	gauge(descWALFiles, float64(m.WAL.Files))
	counter(descWALBytesWritten, float64(m.WAL.BytesWritten))
	if h, ok := fsyncHistogram(m.LogWriter.FsyncLatency); ok {
		ch <- h
	}
	gauge(descCacheSize, float64(m.BlockCache.Size))
	counter(descCacheHits, float64(m.BlockCache.Hits))
	counter(descCacheMisses, float64(m.BlockCache.Misses))
	c.s.stalls.collect(ch)
}

// fsyncHistogram converts Pebble's WAL fsync histogram, which observes
// nanoseconds in 100 buckets, to seconds in the buckets of fsyncBounds.
// It reports false when the database keeps none (read-only).
func fsyncHistogram(h prometheus.Histogram) (prometheus.Metric, bool) {
	if h == nil {
		return nil, false
	}
	var pb dto.Metric
	if err := h.Write(&pb); err != nil || pb.GetHistogram() == nil {
		return nil, false
	}
	ph := pb.GetHistogram()
	buckets := make(map[float64]uint64, len(fsyncBounds))
	pbs := ph.GetBucket()
	i := 0
	for _, want := range fsyncBounds {
		// Pebble's bounds are sorted; take the first at or above want.
		for i < len(pbs) && pbs[i].GetUpperBound()/float64(time.Second) < want {
			i++
		}
		if i == len(pbs) {
			break
		}
		buckets[pbs[i].GetUpperBound()/float64(time.Second)] = pbs[i].GetCumulativeCount()
	}
	m, err := prometheus.NewConstHistogram(descWALFsync, ph.GetSampleCount(),
		ph.GetSampleSum()/float64(time.Second), buckets)
	if err != nil {
		return nil, false
	}
	return m, true
}
