package analyticsapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/auth"
)

// WithGuard makes the Handler check each request's SigV4 signature (signing
// name kinesisanalytics) and authorize it as the gRPC AnalyticsService
// method of the same operation (routes).
// A nil g changes nothing.
func WithGuard(g auth.HTTPGuard) Option {
	return func(c *config) {
		if g != nil {
			c.guard = g
		}
	}
}

// signingName is the service of the Analytics API's credential scope.
const signingName = "kinesisanalytics"

// route is what a request pattern is authorized as: the action, named
// after the gRPC method that does the same, so that one policy governs
// both faces, and where its resource's name is.
type route struct {
	// action is the operation of the Analytics API (signingName:action),
	// or a whole action of another service ("kinesis:PutRecords").
	action string
	// name: "path" (the {name} or {stream} segment), "body" (the
	// request's "name"), "body-stream" (the request's "stream"), or ""
	// (no resource: "*").
	name string
	// resource is the ARN's resource type and "/" ("application/").
	resource string
	// service is the ARN's service: kinesisanalytics, or kinesis for a
	// stream.
	service string
}

// routes maps the mux's patterns to their authorization; docs/security.md
// has the same table.
var routes = map[string]route{
	"POST /v1/applications":               {"CreateApplication", "body", "application/", signingName},
	"GET /v1/applications":                {"ListApplications", "", "", ""},
	"GET /v1/applications/{name}":         {"DescribeApplication", "path", "application/", signingName},
	"POST /v1/applications/{name}/stop":   {"StopApplication", "path", "application/", signingName},
	"POST /v1/applications/{name}/start":  {"StartApplication", "path", "application/", signingName},
	"DELETE /v1/applications/{name}":      {"DeleteApplication", "path", "application/", signingName},
	"GET /v1/applications/{name}/results": {"Results", "path", "application/", signingName},
	"POST /v1/validate":                   {"ValidateSql", "", "", ""},
	"GET /v1/streams/{name}/schema":       {"DiscoverSchema", "path", "stream/", "kinesis"},
	// The demo producer writes to a stream as a client's PutRecords would
	// (and POST creates a missing stream: kinesis:CreateStream, checked
	// by the handler).
	"POST /v1/demo":            {"kinesis:PutRecords", "body-stream", "stream/", "kinesis"},
	"GET /v1/demo":             {"kinesis:ListStreams", "", "", ""},
	"DELETE /v1/demo/{stream}": {"kinesis:PutRecords", "path", "stream/", "kinesis"},
}

// guard authenticates and authorizes r. It reads the body (within
// maxBodyBytes) to check its hash and puts it back for the handler.
func (h *Handler) guard(r *http.Request) (*http.Request, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return r, apierr.New(apierr.Serialization, "could not read the request body: %v", err)
	}
	if len(body) > maxBodyBytes {
		return r, &httpError{status: http.StatusRequestEntityTooLarge,
			err: apierr.New(apierr.InvalidArgument, "the request body is over %d bytes", maxBodyBytes)}
	}
	ctx, err := h.cfg.guard.AuthenticateHTTP(r.Context(), r, body, signingName)
	if err != nil {
		if ae, ok := errors.AsType[*apierr.Error](err); ok && auth.HTTPStatus(err) != 0 {
			return r, &httpError{status: auth.HTTPStatus(err), err: ae}
		}
		return r, err
	}
	r = r.WithContext(ctx)
	r.Body = io.NopCloser(bytes.NewReader(body))
	_, pattern := h.mux.Handler(r)
	rt, ok := routes[pattern]
	if !ok {
		return r, nil // answered 404 by the mux
	}
	var resources []string
	if name := resourceName(rt, r.URL.Path, body); name != "" {
		resources = []string{h.cfg.guard.ARN(rt.service, rt.resource+name)}
	}
	action := rt.action
	if !strings.Contains(action, ":") {
		action = signingName + ":" + action
	}
	return r, h.cfg.guard.Authorize(ctx, action, resources...)
}

// resourceName finds the name of a route's resource: the third segment of
// the path (/v1/applications/NAME/..., /v1/streams/NAME/schema,
// /v1/demo/NAME), or the body's "name" or "stream".
func resourceName(rt route, path string, body []byte) string {
	switch rt.name {
	case "path":
		segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
		if len(segs) > 2 {
			return segs[2]
		}
	case "body", "body-stream":
		var req struct {
			Name   string `json:"name"`
			Stream string `json:"stream"`
		}
		_ = json.Unmarshal(body, &req) // a bad body is refused by the handler
		if rt.name == "body-stream" {
			return req.Stream
		}
		return req.Name
	}
	return ""
}
