package awsjson

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/spatehq/spate/apierr"
)

// Router serves several AWS JSON APIs on one port: it passes each request
// to the Handler whose target prefix is the service half of the request's
// X-Amz-Target header ("Firehose_20150804" of
// "Firehose_20150804.PutRecordBatch"), and answers any other request itself,
// in the same envelope, with the error a Handler would give (405 for a
// method other than POST, 404 for a path other than /,
// UnknownOperationException naming every served prefix otherwise).
type Router struct {
	routes map[string]*Handler
	env    envelope
	logger *slog.Logger
}

// NewRouter returns a Router for handlers, which must have distinct target
// prefixes (a later one replaces an earlier one).
func NewRouter(handlers ...*Handler) *Router {
	rt := &Router{routes: make(map[string]*Handler, len(handlers)), logger: slog.Default()}
	var apis, prefixes []string
	for _, h := range handlers {
		if _, dup := rt.routes[h.TargetPrefix()]; !dup {
			apis = append(apis, h.svc.ShortName)
			prefixes = append(prefixes, h.TargetPrefix())
		}
		rt.routes[h.TargetPrefix()] = h
		rt.logger = h.cfg.logger
	}
	rt.env = newEnvelope(apis, prefixes)
	return rt
}

// ServeHTTP routes one request.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	service, _, _ := strings.Cut(target, ".")
	if h := rt.routes[service]; h != nil {
		h.ServeHTTP(w, r)
		return
	}
	reqID := newRequestID()
	w.Header().Set("x-amzn-RequestId", reqID)
	_, _, err := rt.env.check(r)
	if err == nil { // only without routes: every served target has one
		err = apierr.New(apierr.UnknownOperation, "unknown operation %q: no API is served here", target)
	}
	writeError(w, rt.logger, "aws json request", reqID, "", err)
}
