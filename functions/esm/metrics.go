package esm

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the per-mapping Prometheus series, after Lambda's CloudWatch
// metrics for stream sources (IteratorAge, Invocations, Errors, Throttles,
// ConcurrentExecutions, DestinationDeliveryFailures' counterpart).
type metrics struct {
	iteratorAge *prometheus.GaugeVec
	invocations *prometheus.CounterVec
	errors      *prometheus.CounterVec
	throttles   *prometheus.CounterVec
	concurrent  *prometheus.GaugeVec
	onFailure   *prometheus.CounterVec
	dropped     *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	mp := []string{"mapping"}
	m := &metrics{
		iteratorAge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "spate_esm_iterator_age_milliseconds",
			Help: "Age of the last record an event source mapping read from a shard, when it read it (IteratorAge)."},
			[]string{"mapping", "shard"}),
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spate_esm_invocations_total", Help: "Function invocations by event source mappings, retries included (Invocations)."}, mp),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spate_esm_errors_total", Help: "Invocations that failed: a function error or an invoke error other than a throttle (Errors)."}, mp),
		throttles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spate_esm_throttles_total", Help: "Invocations refused with TooManyRequestsException; retried without counting an attempt (Throttles)."}, mp),
		concurrent: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "spate_esm_concurrent_executions", Help: "Invocations of an event source mapping running now (ConcurrentExecutions)."}, mp),
		onFailure: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spate_esm_on_failure_batches_total", Help: "Batches given up on and reported to the on-failure destination (or dropped when none is set), by condition."},
			[]string{"mapping", "condition"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spate_esm_records_given_up_total", Help: "Records given up on (retries exhausted or too old), by condition."},
			[]string{"mapping", "condition"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.iteratorAge, m.invocations, m.errors, m.throttles, m.concurrent, m.onFailure, m.dropped} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// forget drops a deleted mapping's series.
func (m *metrics) forget(uuid string) {
	l := prometheus.Labels{"mapping": uuid}
	for _, v := range []interface{ DeletePartialMatch(prometheus.Labels) int }{
		m.iteratorAge, m.invocations, m.errors, m.throttles, m.concurrent, m.onFailure, m.dropped,
	} {
		v.DeletePartialMatch(l)
	}
}
