package groups

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// count adds a committed change's rebalance events to its group's
// counters.
func (s *Service) count(stream, group string, t *txn) {
	if t.acquired == 0 && t.stolen == 0 && t.expired == 0 {
		return
	}
	s.countMu.Lock()
	defer s.countMu.Unlock()
	k := groupKey{stream, group}
	c := s.counts[k]
	if c == nil {
		c = &Counters{}
		s.counts[k] = c
	}
	c.Acquisitions += t.acquired
	c.Steals += t.stolen
	c.Expiries += t.expired
}

// counters returns a group's counters.
func (s *Service) counters(stream, group string) Counters {
	s.countMu.Lock()
	defer s.countMu.Unlock()
	if c := s.counts[groupKey{stream, group}]; c != nil {
		return *c
	}
	return Counters{}
}

// forget drops a deleted group's counters, so memory stays bounded by the
// groups that exist.
func (s *Service) forget(stream, group string) {
	s.countMu.Lock()
	defer s.countMu.Unlock()
	delete(s.counts, groupKey{stream, group})
}

var (
	descAcquisitions = prometheus.NewDesc("spate_group_lease_acquisitions_total",
		"Leases a consumer group's workers took (free, lapsed or stolen) since the server started.", []string{"stream", "group"}, nil)
	descSteals = prometheus.NewDesc("spate_group_lease_steals_total",
		"Leases taken from a live owner (load balancing) since the server started.", []string{"stream", "group"}, nil)
	descExpiries = prometheus.NewDesc("spate_group_lease_expiries_total",
		"Leases taken after their owner let them lapse (a worker stopped or stalled) since the server started.", []string{"stream", "group"}, nil)
	descWorkers = prometheus.NewDesc("spate_group_workers",
		"Live workers of a consumer group.", []string{"stream", "group"}, nil)
	descLagRecords = prometheus.NewDesc("spate_group_lag_records",
		"Records between a consumer group's checkpoints and its shards' newest records, summed over the shards.", []string{"stream", "group"}, nil)
	descBehind = prometheus.NewDesc("spate_group_behind_latest_seconds",
		"Age of the oldest record a consumer group has not checkpointed, the largest over its shards (0: caught up).", []string{"stream", "group"}, nil)
)

// Collector returns a Prometheus collector of every group's lag, live
// workers and rebalance counters, read at scrape time (one Describe per
// group: the groups per stream are bounded, WithLimits).
//
//	spate_group_lease_acquisitions_total, spate_group_lease_steals_total,
//	spate_group_lease_expiries_total, spate_group_workers,
//	spate_group_lag_records, spate_group_behind_latest_seconds
//
// all with labels stream and group.
func (s *Service) Collector() prometheus.Collector { return collector{s} }

type collector struct{ s *Service }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descAcquisitions, descSteals, descExpiries, descWorkers, descLagRecords, descBehind} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	ctx := context.Background()
	// Named first, described after: Describe reads the store, which a
	// scan in progress must not wait on.
	seen := map[groupKey]bool{}
	var names []groupKey
	_ = c.s.store.ScanValues(namespace, "m/", func(k string, v []byte) error {
		if stream, group, ok := metaName(k, v); ok && !seen[groupKey{stream, group}] {
			seen[groupKey{stream, group}] = true // twice: a stream deleted and created again, not yet swept
			names = append(names, groupKey{stream, group})
		}
		return nil
	})
	for _, n := range names {
		stream, group := n.stream, n.group
		g, err := c.s.Describe(ctx, Ref{Stream: stream, Group: group})
		if err != nil {
			continue // deleted since, or its stream is: the sweep removes it
		}
		var lag, behind int64
		for _, l := range g.Leases {
			lag += l.LagRecords
			behind = max(behind, l.MillisBehind)
		}
		counter := func(d *prometheus.Desc, v uint64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), stream, group)
		}
		gauge := func(d *prometheus.Desc, v int64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), stream, group)
		}
		counter(descAcquisitions, g.Counters.Acquisitions)
		counter(descSteals, g.Counters.Steals)
		counter(descExpiries, g.Counters.Expiries)
		gauge(descWorkers, int64(len(g.Workers)))
		gauge(descLagRecords, lag)
		ch <- prometheus.MustNewConstMetric(descBehind, prometheus.GaugeValue, float64(behind)/1000, stream, group)
	}
}

// metaName returns the stream and group of a "m/" record.
func metaName(key string, v []byte) (stream, group string, ok bool) {
	_, rest, _ := strings.Cut(key, "/") // "m"
	_, group, ok = strings.Cut(rest, "/")
	if !ok {
		return "", "", false
	}
	var m groupMeta
	if err := json.Unmarshal(v, &m); err != nil {
		return "", "", false
	}
	return m.Stream, group, true
}
