package awsproto

import (
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spatehq/spate/api/apimetrics"
	"github.com/spatehq/spate/apierr"
)

// RouterOption configures NewRouter.
type RouterOption func(*routerConfig)

type routerConfig struct {
	reg prometheus.Registerer // nil: no metrics
}

// WithRegisterer makes the Router time every request it hands to a Handler
// in the histogram spate_api_request_duration_seconds (labels protocol, the
// handler's ShortName in lower case; action; code, "OK" or the AWS error
// type of the reply), registered on reg. Requests that name no served API
// are answered but not timed: their labels would be whatever a client sent.
// Default: no metrics.
func WithRegisterer(reg prometheus.Registerer) RouterOption {
	return func(c *routerConfig) { c.reg = reg }
}

// unknownAction labels requests that named no action the API knows, so
// that a client cannot create series at will.
const unknownAction = "unknown"

// requestMetrics times a Router's requests. Observers are looked up once
// per label set and kept, so timing a request costs a map lookup under a
// read lock and no allocation.
type requestMetrics struct {
	vec *prometheus.HistogramVec

	mu  sync.RWMutex
	obs map[requestLabels]prometheus.Observer
}

// requestLabels is one label set. Every value is bounded: protocols are the
// served handlers', actions are the names of the service models' actions
// (or unknownAction) and codes are apierr codes.
type requestLabels struct {
	protocol, action, code string
}

func newRequestMetrics(reg prometheus.Registerer) (*requestMetrics, error) {
	vec, err := apimetrics.RequestDurations(reg)
	if err != nil {
		return nil, err
	}
	return &requestMetrics{vec: vec, obs: make(map[requestLabels]prometheus.Observer)}, nil
}

// observe records a request of protocol that named action ("" when it
// named none the API knows), was answered with code ("" for a success) and
// arrived at start.
func (m *requestMetrics) observe(protocol, action string, code apierr.Code, start time.Time) {
	l := requestLabels{protocol: protocol, action: action, code: string(code)}
	if l.action == "" {
		l.action = unknownAction
	}
	if l.code == "" {
		l.code = "OK"
	}
	m.observer(l).Observe(time.Since(start).Seconds())
}

// observer times the requests of one routed Handler; its zero value (a
// Handler served without a Router, or without metrics) times nothing.
type observer struct {
	m        *requestMetrics
	protocol string
}

func (o observer) observe(action string, code apierr.Code, start time.Time) {
	if o.m != nil {
		o.m.observe(o.protocol, action, code, start)
	}
}

func (m *requestMetrics) observer(l requestLabels) prometheus.Observer {
	m.mu.RLock()
	o := m.obs[l]
	m.mu.RUnlock()
	if o != nil {
		return o
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if o = m.obs[l]; o == nil {
		o = m.vec.WithLabelValues(l.protocol, l.action, l.code)
		m.obs[l] = o
	}
	return o
}

// protocolLabel is the protocol label of a Handler's requests ("kinesis").
func protocolLabel(h *Handler) string { return strings.ToLower(h.svc.ShortName) }
