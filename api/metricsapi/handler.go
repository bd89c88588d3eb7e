package metricsapi

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/auth"
)

// Pattern is the mux pattern to mount a Handler on. It is more specific
// than "/v1/" (the Analytics API), so http.ServeMux routes it here.
const Pattern = "GET /v1/metrics"

// SigningName is the service of the credential scope a signed request
// must use: CloudWatch's.
const SigningName = "monitoring"

// Action is what a request is authorized as, on resource "*".
const Action = "cloudwatch:GetMetricData"

// NamePrefix is the query parameter that restricts names rather than
// filtering a label.
const NamePrefix = "name_prefix"

// Bounds of a request and a reply (see the package doc).
const (
	// DefaultMaxSeries is how many entries a reply holds at most.
	DefaultMaxSeries = 5000
	// MaxFilters bounds the query parameters, name_prefix included.
	MaxFilters    = 8
	maxNameBytes  = 128
	maxValueBytes = 256
	maxQueryBytes = 4 << 10
)

// Option configures a Handler.
type Option func(*config)

type config struct {
	logger    *slog.Logger
	guard     auth.HTTPGuard // nil: no authentication
	maxSeries int
	now       func() time.Time
}

// defaultConfig holds every default in one place.
func defaultConfig() config {
	return config{logger: slog.New(slog.DiscardHandler), maxSeries: DefaultMaxSeries, now: time.Now}
}

// WithLogger sets where the causes of internal failures are logged (the
// reply hides them). Default: discard.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithGuard makes the Handler check each request's SigV4 signature (for
// SigningName) and authorize it as Action. A nil g changes nothing.
func WithGuard(g auth.HTTPGuard) Option {
	return func(c *config) {
		if g != nil {
			c.guard = g
		}
	}
}

// WithMaxSeries sets how many entries a reply holds at most (default
// DefaultMaxSeries); n < 1 keeps the default.
func WithMaxSeries(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxSeries = n
		}
	}
}

// WithClock sets the clock of the reply's timestamp (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// Handler serves GET /v1/metrics from a registry.
type Handler struct {
	reg prometheus.Gatherer
	cfg config
}

var _ http.Handler = (*Handler)(nil)

// NewHandler returns a Handler that reads reg at each request. The caller
// keeps ownership of reg.
func NewHandler(reg prometheus.Gatherer, opts ...Option) *Handler {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	return &Handler{reg: reg, cfg: cfg}
}

// Sample is one entry of a reply.
type Sample struct {
	Name   string            `json:"name"`
	Type   string            `json:"type"`
	Labels map[string]string `json:"labels"`
	// Value is nil for NaN and ±Inf, which JSON has no number for.
	Value *float64 `json:"value"`
}

// Snapshot is a reply.
type Snapshot struct {
	Timestamp int64    `json:"timestamp"` // unix milliseconds
	Metrics   []Sample `json:"metrics"`
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, apierr.UnknownOperation, fmt.Sprintf("%s %s: only GET reads metrics", r.Method, r.URL.Path))
		return
	}
	if h.cfg.guard != nil {
		var err error
		if r, err = h.authorize(r); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	families, err := h.reg.Gather()
	if err != nil {
		h.fail(w, r, fmt.Errorf("gather metrics: %w", err))
		return
	}
	samples, matched := q.collect(families, h.cfg.maxSeries)
	if matched > h.cfg.maxSeries {
		h.fail(w, r, apierr.New(apierr.LimitExceeded,
			"%d series match, and a reply holds at most %d: narrow it with label filters (?stream=NAME) or %s", matched, h.cfg.maxSeries, NamePrefix))
		return
	}
	b, err := json.Marshal(Snapshot{Timestamp: h.cfg.now().UnixMilli(), Metrics: samples})
	if err != nil {
		h.fail(w, r, fmt.Errorf("encode metrics: %w", err))
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

// authorize authenticates r (a GET: its body must be empty) and
// authorizes it as Action.
func (h *Handler) authorize(r *http.Request) (*http.Request, error) {
	var one [1]byte
	if n, _ := io.ReadFull(r.Body, one[:]); n > 0 {
		return r, apierr.New(apierr.InvalidArgument, "GET %s takes no request body", r.URL.Path)
	}
	ctx, err := h.cfg.guard.AuthenticateHTTP(r.Context(), r, nil, SigningName)
	if err != nil {
		return r, err // statusOf gives MissingAuthenticationToken its 403
	}
	r = r.WithContext(ctx)
	return r, h.cfg.guard.Authorize(ctx, Action)
}

// query is a parsed request: label filters and a name prefix.
type query struct {
	labels map[string]string
	prefix string
}

// parseQuery checks the request's parameters against the bounds of the
// package doc.
func parseQuery(raw string) (query, error) {
	q := query{labels: map[string]string{}}
	if len(raw) > maxQueryBytes {
		return q, apierr.New(apierr.InvalidArgument, "the query string is %d bytes, over %d", len(raw), maxQueryBytes)
	}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return q, apierr.New(apierr.InvalidArgument, "the query string cannot be parsed: %v", err)
	}
	if len(vals) > MaxFilters {
		return q, apierr.New(apierr.InvalidArgument, "%d parameters, over %d", len(vals), MaxFilters)
	}
	for k, vs := range vals {
		if len(vs) != 1 {
			return q, apierr.New(apierr.InvalidArgument, "parameter %.*q is given %d times; give each once (filters are ANDed)", maxNameBytes, k, len(vs))
		}
		v := vs[0]
		if len(v) > maxValueBytes || !utf8.ValidString(v) {
			return q, apierr.New(apierr.InvalidArgument, "the value of %.*q must be UTF-8 text of at most %d bytes", maxNameBytes, k, maxValueBytes)
		}
		if k == NamePrefix {
			if !validName(v, true) {
				return q, apierr.New(apierr.InvalidArgument, "%s %q is not the start of a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)", NamePrefix, v)
			}
			q.prefix = v
			continue
		}
		if len(k) > maxNameBytes || !validName(k, false) || strings.HasPrefix(k, "__") {
			return q, apierr.New(apierr.InvalidArgument,
				"unknown parameter %.*q: every parameter but %s is a label name ([a-zA-Z_][a-zA-Z0-9_]*, at most %d bytes, not starting with __)",
				maxNameBytes, k, NamePrefix, maxNameBytes)
		}
		q.labels[k] = v
	}
	return q, nil
}

// validName reports whether s is a Prometheus label name, or with metric
// set a metric name (which may also hold colons); the empty string is a
// valid prefix of a metric name only.
func validName(s string, metric bool) bool {
	if s == "" {
		return metric
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(i > 0 && c >= '0' && c <= '9') || (metric && c == ':')
		if !ok {
			return false
		}
	}
	return true
}

// collect returns the matching entries, at most limit of them, and how
// many matched in all.
func (q query) collect(families []*dto.MetricFamily, limit int) ([]Sample, int) {
	out := []Sample{}
	matched := 0
	add := func(name, typ string, labels map[string]string, v float64) {
		if !strings.HasPrefix(name, q.prefix) {
			return
		}
		matched++
		if matched > limit {
			return
		}
		s := Sample{Name: name, Type: typ, Labels: labels}
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			s.Value = &v
		}
		out = append(out, s)
	}
	for _, f := range families {
		name := f.GetName()
		// A family none of whose entries can start with the prefix is
		// skipped whole: NAME_count starts with NAME.
		if !strings.HasPrefix(name, q.prefix) && !strings.HasPrefix(q.prefix, name) {
			continue
		}
		typ := typeName(f.GetType())
		for _, m := range f.GetMetric() {
			labels, ok := q.match(m.GetLabel())
			if !ok {
				continue
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				add(name, typ, labels, m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				add(name, typ, labels, m.GetGauge().GetValue())
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				add(name+"_count", typ, labels, float64(m.GetHistogram().GetSampleCount()))
				add(name+"_sum", typ, copyLabels(labels), m.GetHistogram().GetSampleSum())
			case dto.MetricType_SUMMARY:
				add(name+"_count", typ, labels, float64(m.GetSummary().GetSampleCount()))
				add(name+"_sum", typ, copyLabels(labels), m.GetSummary().GetSampleSum())
			default:
				add(name, typ, labels, m.GetUntyped().GetValue())
			}
		}
	}
	return out, matched
}

// match reports whether a series' labels satisfy every filter, and
// returns them as a map.
func (q query) match(pairs []*dto.LabelPair) (map[string]string, bool) {
	labels := make(map[string]string, len(pairs))
	for _, p := range pairs {
		labels[p.GetName()] = p.GetValue()
	}
	for k, want := range q.labels {
		if labels[k] != want { // absent reads as "", as in PromQL
			return nil, false
		}
	}
	return labels, true
}

func copyLabels(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// typeName is a family's type as the reply names it.
func typeName(t dto.MetricType) string {
	return strings.ReplaceAll(strings.ToLower(t.String()), "_", "")
}

// statusOf is the one table from error codes to HTTP statuses: 403 for a
// refused identity, 500 for the server's own failures, 400 otherwise
// (LimitExceededException included: retrying the same request will not
// help, so it is not a 429).
func statusOf(code apierr.Code) int {
	switch code {
	case apierr.AccessDenied, apierr.MissingAuthenticationToken:
		return http.StatusForbidden
	case apierr.InternalFailure:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

type errorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// fail answers err: its code's status, and its message unless it is an
// internal failure, whose cause goes to the log only.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := apierr.CodeOf(err)
	if code == apierr.InternalFailure {
		h.cfg.logger.ErrorContext(r.Context(), "metrics api request failed", "path", r.URL.Path, "err", err)
	}
	writeError(w, statusOf(code), code, apierr.MessageOf(err))
}

func writeError(w http.ResponseWriter, status int, code apierr.Code, msg string) {
	b, _ := json.Marshal(errorBody{Type: string(code), Message: msg}) // strings: cannot fail
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("X-Amzn-ErrorType", string(code))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
