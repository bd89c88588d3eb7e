package awsproto

import (
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestRouterMetrics sends requests through an instrumented Router and
// checks the label set each one is counted under.
func TestRouterMetrics(t *testing.T) {
	alpha := testService(t, "Alpha_1", nil)
	alpha.ShortName = "Alpha"
	reg := prometheus.NewPedanticRegistry()
	rt, err := NewRouter([]*Handler{newTestHandler(t, alpha)}, WithRegisterer(reg))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, method, target, body string
		want                       map[string]string // nil: not counted
	}{
		{"success", http.MethodPost, "Alpha_1.Ping", "{}",
			map[string]string{"protocol": "alpha", "action": "Ping", "code": "OK"}},
		{"validation error", http.MethodPost, "Alpha_1.Put", `{"Name":"ABC","Data":"AAAA"}`,
			map[string]string{"protocol": "alpha", "action": "Put", "code": "ValidationException"}},
		{"unserved action of the model", http.MethodPost, "Alpha_1.Unserved", "{}",
			map[string]string{"protocol": "alpha", "action": "Unserved", "code": "UnknownOperationException"}},
		{"action not in the model", http.MethodPost, "Alpha_1.Whatever", "{}",
			map[string]string{"protocol": "alpha", "action": "unknown", "code": "UnknownOperationException"}},
		{"GET to a served API", http.MethodGet, "Alpha_1.Ping", "",
			map[string]string{"protocol": "alpha", "action": "unknown", "code": "UnknownOperationException"}},
		{"no served API", http.MethodPost, "Gamma_3.Ping", "{}", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, beforeSeries := totalRequests(t, reg), requestCount(t, reg, tt.want)
			send(t, rt, tt.method, tt.target, tt.body)
			after := totalRequests(t, reg)
			if tt.want == nil {
				if after != before {
					t.Errorf("request counted: %d observations before, %d after", before, after)
				}
				return
			}
			if after != before+1 {
				t.Errorf("%d observations before, %d after, want one more", before, after)
			}
			if got := requestCount(t, reg, tt.want); got != beforeSeries+1 {
				t.Errorf("observations with labels %v = %d, want %d", tt.want, got, beforeSeries+1)
			}
		})
	}

	// A second Router on the same registry (the gRPC API's histogram is the
	// same metric) shares the histogram instead of failing.
	if _, err := NewRouter([]*Handler{newTestHandler(t, alpha)}, WithRegisterer(reg)); err != nil {
		t.Errorf("second Router on one registry: %v", err)
	}
}

// TestRouterMetricsAllocs checks that timing a request allocates nothing
// once its label set has been seen.
func TestRouterMetricsAllocs(t *testing.T) {
	m, err := newRequestMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	m.observe("kinesis", "PutRecords", "", now)
	if n := testing.AllocsPerRun(100, func() { m.observe("kinesis", "PutRecords", "", now) }); n != 0 {
		t.Errorf("observe allocates %v times per call, want 0", n)
	}
}

// requestSeries returns the request-duration series of reg.
func requestSeries(t *testing.T, reg prometheus.Gatherer) []*dto.Metric {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "spate_api_request_duration_seconds" {
			if mf.GetType() != dto.MetricType_HISTOGRAM {
				t.Fatalf("spate_api_request_duration_seconds is a %v", mf.GetType())
			}
			return mf.GetMetric()
		}
	}
	return nil
}

// totalRequests is the number of observations of every series.
func totalRequests(t *testing.T, reg prometheus.Gatherer) uint64 {
	var n uint64
	for _, m := range requestSeries(t, reg) {
		n += m.GetHistogram().GetSampleCount()
	}
	return n
}

// requestCount is the number of observations of the series with labels.
func requestCount(t *testing.T, reg prometheus.Gatherer, labels map[string]string) uint64 {
	for _, m := range requestSeries(t, reg) {
		got := map[string]string{}
		for _, lp := range m.GetLabel() {
			got[lp.GetName()] = lp.GetValue()
		}
		if len(got) == len(labels) && matches(got, labels) {
			return m.GetHistogram().GetSampleCount()
		}
	}
	return 0
}

func matches(got, want map[string]string) bool {
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}
