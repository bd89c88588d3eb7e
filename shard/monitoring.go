package shard

import (
	"context"
	"slices"

	"github.com/spatehq/spate/apierr"
)

// ShardLevelMetric names one of Kinesis's enhanced (shard-level) metrics, as
// EnableEnhancedMonitoring takes them.
type ShardLevelMetric string

// Shard-level metrics. MetricAll stands for all seven in requests; the
// store never reports it, it reports the seven names instead (as Kinesis
// does).
const (
	MetricIncomingBytes                      ShardLevelMetric = "IncomingBytes"
	MetricIncomingRecords                    ShardLevelMetric = "IncomingRecords"
	MetricOutgoingBytes                      ShardLevelMetric = "OutgoingBytes"
	MetricOutgoingRecords                    ShardLevelMetric = "OutgoingRecords"
	MetricWriteProvisionedThroughputExceeded ShardLevelMetric = "WriteProvisionedThroughputExceeded"
	MetricReadProvisionedThroughputExceeded  ShardLevelMetric = "ReadProvisionedThroughputExceeded"
	MetricIteratorAgeMilliseconds            ShardLevelMetric = "IteratorAgeMilliseconds"
	MetricAll                                ShardLevelMetric = "ALL"
)

// AllShardLevelMetrics lists the seven shard-level metrics in the order the
// store reports them.
var AllShardLevelMetrics = []ShardLevelMetric{
	MetricIncomingBytes, MetricIncomingRecords, MetricOutgoingBytes, MetricOutgoingRecords,
	MetricWriteProvisionedThroughputExceeded, MetricReadProvisionedThroughputExceeded,
	MetricIteratorAgeMilliseconds,
}

// maxShardLevelMetrics bounds a request's list, as the Kinesis model's
// MetricsNameList does (1 to 7 items).
const maxShardLevelMetrics = 7

// metricSet is a set of shard-level metrics: bit i is AllShardLevelMetrics[i].
type metricSet uint8

func (m metricSet) has(metric ShardLevelMetric) bool {
	i := slices.Index(AllShardLevelMetrics, metric)
	return i >= 0 && m&(1<<i) != 0
}

// list returns the set's metrics in canonical order, never nil.
func (m metricSet) list() []ShardLevelMetric {
	out := []ShardLevelMetric{}
	for i, name := range AllShardLevelMetrics {
		if m&(1<<i) != 0 {
			out = append(out, name)
		}
	}
	return out
}

// setOf returns the set of a persisted list; unknown names (from a newer
// version) are ignored.
func setOf(names []ShardLevelMetric) metricSet {
	var m metricSet
	for _, n := range names {
		if i := slices.Index(AllShardLevelMetrics, n); i >= 0 {
			m |= 1 << i
		}
	}
	return m
}

// parseMetrics checks a request's list (1 to 7 names of the enum, ALL
// included) and returns the set it names.
func parseMetrics(names []ShardLevelMetric) (metricSet, error) {
	if len(names) < 1 || len(names) > maxShardLevelMetrics {
		return 0, apierr.New(apierr.Validation,
			"1 validation error detected: Value at 'shardLevelMetrics' failed to satisfy constraint: Member must have length between 1 and %d (got %d)",
			maxShardLevelMetrics, len(names))
	}
	var m metricSet
	for _, n := range names {
		if n == MetricAll {
			m = 1<<len(AllShardLevelMetrics) - 1
			continue
		}
		i := slices.Index(AllShardLevelMetrics, n)
		if i < 0 {
			return 0, apierr.New(apierr.Validation,
				"1 validation error detected: Value '%s' at 'shardLevelMetrics' failed to satisfy constraint: Member must satisfy enum value set: [IncomingBytes, IncomingRecords, OutgoingBytes, OutgoingRecords, WriteProvisionedThroughputExceeded, ReadProvisionedThroughputExceeded, IteratorAgeMilliseconds, ALL]",
				n)
		}
		m |= 1 << i
	}
	return m, nil
}

// EnhancedMonitoringResult is the answer of EnableEnhancedMonitoring and
// DisableEnhancedMonitoring: the shard-level metrics enabled before the call
// (Current) and after it (Desired). Both are in canonical order and never nil.
type EnhancedMonitoringResult struct {
	Name    string
	ARN     string
	Current []ShardLevelMetric
	Desired []ShardLevelMetric
}

// EnableEnhancedMonitoring turns on shard-level metrics of an ACTIVE stream
// (MetricAll turns on all seven). The choice is persisted with the stream's
// metadata; the store counts every metric whether enabled or not, so only
// which series Collector exports changes, and at once.
func (s *Store) EnableEnhancedMonitoring(ctx context.Context, name string, metrics []ShardLevelMetric) (EnhancedMonitoringResult, error) {
	return s.changeMonitoring(name, metrics, func(cur, req metricSet) metricSet { return cur | req })
}

// DisableEnhancedMonitoring turns off shard-level metrics of an ACTIVE
// stream (MetricAll turns off all of them). Disabling a metric that is not
// enabled is not an error.
func (s *Store) DisableEnhancedMonitoring(ctx context.Context, name string, metrics []ShardLevelMetric) (EnhancedMonitoringResult, error) {
	return s.changeMonitoring(name, metrics, func(cur, req metricSet) metricSet { return cur &^ req })
}

func (s *Store) changeMonitoring(name string, metrics []ShardLevelMetric, apply func(cur, req metricSet) metricSet) (EnhancedMonitoringResult, error) {
	req, err := parseMetrics(metrics)
	if err != nil {
		return EnhancedMonitoringResult{}, err
	}
	var cur, desired metricSet
	err = s.mutateActive(name, func(m *streamMeta) error {
		cur = setOf(m.ShardLevelMetrics)
		desired = apply(cur, req)
		m.ShardLevelMetrics = nil
		if desired != 0 {
			m.ShardLevelMetrics = desired.list()
		}
		return nil
	})
	if err != nil {
		return EnhancedMonitoringResult{}, err
	}
	return EnhancedMonitoringResult{
		Name: name, ARN: s.StreamARN(name),
		Current: cur.list(), Desired: desired.list(),
	}, nil
}
