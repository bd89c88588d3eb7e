package functions

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spatehq/spate/apierr"
)

// metrics are the per-function Prometheus series, after Lambda's
// CloudWatch function metrics (Invocations, Errors, Throttles, Duration).
// Every invocation counts, whoever made it: the Lambda API (both
// invocation types), event source mappings and Firehose transformations.
type metrics struct {
	invocations *prometheus.CounterVec
	errors      *prometheus.CounterVec
	throttles   *prometheus.CounterVec
	duration    *prometheus.HistogramVec
}

// durationBuckets run from 1 ms to 15 minutes (the longest timeout).
var durationBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	fn := []string{"function"}
	m := &metrics{
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spate_function_invocations_total",
			Help: "Invocations of a function's code, successful or failed, not throttled ones (Invocations)."}, fn),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spate_function_errors_total",
			Help: "Invocations that failed: a function error (the handler's error, a crash, a timeout) or the runtime failing to run the code (Errors)."}, fn),
		throttles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "spate_function_throttles_total",
			Help: "Invocations refused with TooManyRequestsException: concurrency used up, or the asynchronous queue full (Throttles)."}, fn),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "spate_function_duration_seconds",
			Help:    "Time an invocation of a function's code took, failed ones included (Duration).",
			Buckets: durationBuckets}, fn),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.invocations, m.errors, m.throttles, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("functions: register metrics: %w", err)
		}
	}
	return m, nil
}

// WithRegisterer registers the functions' metrics (spate_function_*) on
// reg (default: none; the series are kept but not exposed).
func WithRegisterer(reg prometheus.Registerer) Option {
	return func(c *config) { c.reg = reg }
}

// throttled counts an invocation of function refused before it ran.
func (m *metrics) throttled(function string) { m.throttles.WithLabelValues(function).Inc() }

// count runs f, which counts an invocation of function, unless the
// function has been deleted since the invocation began: its series are
// gone (forget) and must not come back, or every function ever deleted
// mid-invocation would keep series for good. It holds s.mu for reading,
// and DeleteFunction forgets under s.mu, so a count happens either before
// the forget or not at all.
func (s *Service) count(function string, f func(m *metrics)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.fns[function] != nil {
		f(s.metrics)
	}
}

// forget drops a deleted function's series.
func (m *metrics) forget(function string) {
	m.invocations.DeleteLabelValues(function)
	m.errors.DeleteLabelValues(function)
	m.throttles.DeleteLabelValues(function)
	m.duration.DeleteLabelValues(function)
}

// execute runs one invocation of rec through the Executor and counts it:
// a throttle when it was refused for concurrency, otherwise an invocation
// with its duration, and an error when the handler failed or the runtime
// could not run it. A cancelled caller's invocation counts as neither
// error nor throttle: the function did not fail.
func (s *Service) execute(ctx context.Context, rec *record, inv Invocation) (Result, error) {
	start := time.Now()
	res, err := s.exec.Execute(ctx, s.execConfig(rec), inv)
	took := time.Since(start)
	switch {
	case apierr.Is(err, apierr.TooManyRequests):
		s.count(rec.Name, func(m *metrics) { m.throttled(rec.Name) })
		return res, err
	case err != nil && ctx.Err() != nil:
		return res, err
	}
	s.count(rec.Name, func(m *metrics) {
		m.invocations.WithLabelValues(rec.Name).Inc()
		m.duration.WithLabelValues(rec.Name).Observe(took.Seconds())
		if err != nil || res.FunctionError != "" {
			m.errors.WithLabelValues(rec.Name).Inc()
		}
	})
	return res, err
}
