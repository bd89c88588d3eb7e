package awsproto

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/spatehq/spate/apierr"
)

// Router serves several AWS JSON APIs on one port: it passes each request
// to the Handler whose target prefix is the service half of the request's
// X-Amz-Target header ("Firehose_20150804" of
// "Firehose_20150804.PutRecordBatch"), and answers any other request itself,
// in the same envelope, with the error a Handler would give (405 for a
// method other than POST, 404 for a path other than /,
// UnknownOperationException naming every served prefix otherwise). With
// WithRegisterer it times every request a Handler answers.
type Router struct {
	routes  map[string]route
	env     envelope
	logger  *slog.Logger
	metrics *requestMetrics // nil: no metrics
}

// route is one served API.
type route struct {
	h        *Handler
	protocol string // the protocol label of its metrics ("kinesis")
}

// NewRouter returns a Router for handlers, which must have distinct target
// prefixes (a later one replaces an earlier one). An error means the
// metrics could not be registered.
func NewRouter(handlers []*Handler, opts ...RouterOption) (*Router, error) {
	var cfg routerConfig
	for _, o := range opts {
		o(&cfg)
	}
	rt := &Router{routes: make(map[string]route, len(handlers)), logger: slog.Default()}
	var apis, prefixes []string
	for _, h := range handlers {
		if _, dup := rt.routes[h.TargetPrefix()]; !dup {
			apis = append(apis, h.svc.ShortName)
			prefixes = append(prefixes, h.TargetPrefix())
		}
		rt.routes[h.TargetPrefix()] = route{h: h, protocol: protocolLabel(h)}
		rt.logger = h.cfg.logger
	}
	rt.env = newEnvelope(apis, prefixes)
	if cfg.reg != nil {
		m, err := newRequestMetrics(cfg.reg)
		if err != nil {
			return nil, fmt.Errorf("awsproto: register metrics: %w", err)
		}
		rt.metrics = m
	}
	return rt, nil
}

// ServeHTTP routes one request.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	target := r.Header.Get("X-Amz-Target")
	service, _, _ := strings.Cut(target, ".")
	if rte, ok := rt.routes[service]; ok {
		rte.h.answer(w, r, start, observer{m: rt.metrics, protocol: rte.protocol})
		return
	}
	reqID := newRequestID()
	w.Header().Set("x-amzn-RequestId", reqID)
	_, _, err := rt.env.check(r)
	if err == nil { // only without routes: every served target has one
		err = apierr.New(apierr.UnknownOperation, "unknown operation %q: no API is served here", target)
	}
	writeError(w, rt.logger, "aws json request", reqID, "", formatOf(r), err)
}

// Close ends the event streams of every routed Handler (Handler.Close).
func (rt *Router) Close() {
	for _, rte := range rt.routes {
		rte.h.Close()
	}
}
