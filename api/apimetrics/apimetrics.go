// Package apimetrics owns the one histogram every Spate API times its
// requests in: spate_api_request_duration_seconds{protocol, action, code}.
// The JSON APIs (package awsproto) and gRPC (package grpcapi) both observe
// it; keeping its definition here keeps their buckets and help identical,
// which Prometheus requires of one metric name.
package apimetrics

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Buckets are the bounds, in seconds, of spate_api_request_duration_seconds:
// 100µs to 10s in 1-2.5-5 steps, from a relaxed-durability put served from
// memory to a GetRecords that waits on a slow disk.
var Buckets = []float64{
	0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05,
	0.1, 0.25, 0.5,
	1, 2.5, 5, 10,
}

// RequestDurations registers spate_api_request_duration_seconds on reg and
// returns it; when reg already holds it (the other protocol registered it
// first), it returns that one.
func RequestDurations(reg prometheus.Registerer) (*prometheus.HistogramVec, error) {
	vec := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "spate_api_request_duration_seconds",
		Help:    "Time to answer an API request, from its arrival to its reply, by protocol, action and result code.",
		Buckets: Buckets,
	}, []string{"protocol", "action", "code"})
	if err := reg.Register(vec); err != nil {
		if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
			if existing, ok := are.ExistingCollector.(*prometheus.HistogramVec); ok {
				return existing, nil
			}
		}
		return nil, err
	}
	return vec, nil
}
