package lambdaapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spatehq/spate/api/apimetrics"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/auth"
	"github.com/spatehq/spate/functions"
	"github.com/spatehq/spate/functions/esm"
	"github.com/spatehq/spate/internal/trunc"
)

// Functions is what the face calls; *functions.Service implements it.
type Functions interface {
	CreateFunction(ctx context.Context, in functions.CreateInput) (functions.FunctionConfiguration, error)
	GetFunction(ctx context.Context, function string) (functions.GetOutput, error)
	GetFunctionConfiguration(ctx context.Context, function string) (functions.FunctionConfiguration, error)
	ListFunctions(ctx context.Context, in functions.ListInput) (functions.ListOutput, error)
	UpdateFunctionCode(ctx context.Context, in functions.UpdateCodeInput) (functions.FunctionConfiguration, error)
	UpdateFunctionConfiguration(ctx context.Context, in functions.UpdateConfigInput) (functions.FunctionConfiguration, error)
	DeleteFunction(ctx context.Context, function, qualifier string) error
	PutFunctionConcurrency(ctx context.Context, function string, n *int) (int, error)
	GetFunctionConcurrency(ctx context.Context, function string) (*int, error)
	DeleteFunctionConcurrency(ctx context.Context, function string) error
	TagResource(ctx context.Context, resource string, tags map[string]string) error
	UntagResource(ctx context.Context, resource string, keys []string) error
	ListTags(ctx context.Context, resource string) (map[string]string, error)
	GetAccountSettings(ctx context.Context) (functions.AccountSettings, error)
	InvokeAs(ctx context.Context, in functions.InvokeInput) (functions.InvokeOutput, error)
}

var _ Functions = (*functions.Service)(nil)

// SigningName is the service of the Lambda API's SigV4 credential scope
// and of its IAM actions ("lambda:CreateFunction").
const SigningName = "lambda"

// PathPrefixes are the path prefixes the face serves: mount the Handler on
// each (the Runtime API's /2018-06-01/ is not among them).
var PathPrefixes = []string{"/2014-11-13/", "/2015-03-31/", "/2016-08-19/", "/2017-03-31/", "/2017-10-31/", "/2019-09-30/"}

// Body limits. A zip of MaxZipBytes is base64 in JSON: 4/3 of it, plus the
// other members.
const (
	maxCodeBody   = functions.MaxZipBytes/3*4 + 4 + 64<<10
	maxInvokeBody = functions.MaxSyncPayload
	maxJSONBody   = 1 << 20
	// maxDepth bounds JSON nesting: the deepest request (an event source
	// mapping's DestinationConfig) is 3 levels.
	maxDepth = 16
	// maxCodeUploads bounds the zip uploads decoded at once: each holds its
	// body, the zip, and the inflating file in memory.
	maxCodeUploads = 2
)

// Handler serves the Lambda API.
type Handler struct {
	fns     Functions
	cfg     config
	mux     *http.ServeMux
	uploads chan struct{}
}

type config struct {
	guard    auth.HTTPGuard
	logger   *slog.Logger
	mappings esm.Mappings
	reg      prometheus.Registerer
}

// Option configures a Handler.
type Option func(*config)

// WithGuard makes the Handler check each request's SigV4 signature
// (signing name lambda) and authorize it as lambda:ACTION on the
// function's ARN. A nil g changes nothing. Default: none.
func WithGuard(g auth.HTTPGuard) Option {
	return func(c *config) {
		if g != nil {
			c.guard = g
		}
	}
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithMappings serves the event source mapping actions with m. Without
// it they answer UnknownOperationException.
func WithMappings(m esm.Mappings) Option { return func(c *config) { c.mappings = m } }

// WithRegisterer times each request in spate_api_request_duration_seconds
// (protocol "lambda", as the JSON faces label theirs by service).
func WithRegisterer(reg prometheus.Registerer) Option { return func(c *config) { c.reg = reg } }

// route is one action: its pattern on the mux, its name, how large its
// body may be, where the resource it acts on is, and its handler, which
// returns the status and the JSON reply (nil: no body) or an error.
type route struct {
	pattern  string
	action   string
	maxBody  int
	resource string // path value naming the function ("FunctionName", "Resource"), bodyName, or ""
	serve    func(h *Handler, r *request) (int, any, error)
}

// bodyName is a route's resource when the function is the body's
// FunctionName (CreateFunction).
const bodyName = "body"

// request is a decoded HTTP request as a route sees it.
type request struct {
	ctx  context.Context
	http *http.Request
	body []byte
	w    http.ResponseWriter
}

func (r *request) path(name string) string { return r.http.PathValue(name) }
func (r *request) query(name string) string {
	return r.http.URL.Query().Get(name)
}

// json decodes the body into v (an empty body is {}).
func (r *request) json(v any) error {
	if len(bytes.TrimSpace(r.body)) == 0 {
		return nil
	}
	return decodeJSON(r.body, v)
}

// routes are the actions served, with the model's method, URI and status.
var routes = []route{
	{"POST /2015-03-31/functions", "CreateFunction", maxCodeBody, bodyName, (*Handler).createFunction},
	{"GET /2015-03-31/functions", "ListFunctions", maxJSONBody, "", (*Handler).listFunctions},
	{"GET /2015-03-31/functions/{$}", "ListFunctions", maxJSONBody, "", (*Handler).listFunctions},
	{"GET /2015-03-31/functions/{FunctionName}", "GetFunction", maxJSONBody, "FunctionName", (*Handler).getFunction},
	{"DELETE /2015-03-31/functions/{FunctionName}", "DeleteFunction", maxJSONBody, "FunctionName", (*Handler).deleteFunction},
	{"GET /2015-03-31/functions/{FunctionName}/configuration", "GetFunctionConfiguration", maxJSONBody, "FunctionName", (*Handler).getConfiguration},
	{"PUT /2015-03-31/functions/{FunctionName}/configuration", "UpdateFunctionConfiguration", maxJSONBody, "FunctionName", (*Handler).updateConfiguration},
	{"PUT /2015-03-31/functions/{FunctionName}/code", "UpdateFunctionCode", maxCodeBody, "FunctionName", (*Handler).updateCode},
	{"POST /2015-03-31/functions/{FunctionName}/invocations", "InvokeFunction", maxInvokeBody, "FunctionName", (*Handler).invoke},
	{"POST /2014-11-13/functions/{FunctionName}/invoke-async/{$}", "InvokeAsync", functions.MaxAsyncPayload, "FunctionName", (*Handler).invokeAsync},
	{"POST /2014-11-13/functions/{FunctionName}/invoke-async", "InvokeAsync", functions.MaxAsyncPayload, "FunctionName", (*Handler).invokeAsync},
	{"PUT /2017-10-31/functions/{FunctionName}/concurrency", "PutFunctionConcurrency", maxJSONBody, "FunctionName", (*Handler).putConcurrency},
	{"GET /2019-09-30/functions/{FunctionName}/concurrency", "GetFunctionConcurrency", maxJSONBody, "FunctionName", (*Handler).getConcurrency},
	{"DELETE /2017-10-31/functions/{FunctionName}/concurrency", "DeleteFunctionConcurrency", maxJSONBody, "FunctionName", (*Handler).deleteConcurrency},
	{"POST /2017-03-31/tags/{Resource}", "TagResource", maxJSONBody, "Resource", (*Handler).tagResource},
	{"DELETE /2017-03-31/tags/{Resource}", "UntagResource", maxJSONBody, "Resource", (*Handler).untagResource},
	{"GET /2017-03-31/tags/{Resource}", "ListTags", maxJSONBody, "Resource", (*Handler).listTags},
	{"GET /2016-08-19/account-settings", "GetAccountSettings", maxJSONBody, "", (*Handler).accountSettings},
	{"GET /2016-08-19/account-settings/{$}", "GetAccountSettings", maxJSONBody, "", (*Handler).accountSettings},
	{"POST /2015-03-31/event-source-mappings", "CreateEventSourceMapping", maxJSONBody, "", (*Handler).createMapping},
	{"POST /2015-03-31/event-source-mappings/{$}", "CreateEventSourceMapping", maxJSONBody, "", (*Handler).createMapping},
	{"GET /2015-03-31/event-source-mappings", "ListEventSourceMappings", maxJSONBody, "", (*Handler).listMappings},
	{"GET /2015-03-31/event-source-mappings/{$}", "ListEventSourceMappings", maxJSONBody, "", (*Handler).listMappings},
	{"GET /2015-03-31/event-source-mappings/{UUID}", "GetEventSourceMapping", maxJSONBody, "", (*Handler).getMapping},
	{"PUT /2015-03-31/event-source-mappings/{UUID}", "UpdateEventSourceMapping", maxJSONBody, "", (*Handler).updateMapping},
	{"DELETE /2015-03-31/event-source-mappings/{UUID}", "DeleteEventSourceMapping", maxJSONBody, "", (*Handler).deleteMapping},
}

// NewHandler returns the face of fns.
func NewHandler(fns Functions, opts ...Option) (*Handler, error) {
	cfg := config{logger: slog.Default()}
	for _, o := range opts {
		o(&cfg)
	}
	h := &Handler{fns: fns, cfg: cfg, mux: http.NewServeMux(), uploads: make(chan struct{}, maxCodeUploads)}
	var durations *prometheus.HistogramVec
	if cfg.reg != nil {
		var err error
		if durations, err = apimetrics.RequestDurations(cfg.reg); err != nil {
			return nil, fmt.Errorf("register Lambda API metrics: %w", err)
		}
	}
	for _, rt := range routes {
		h.mux.Handle(rt.pattern, h.action(rt, durations))
	}
	unknown := route{action: "", maxBody: maxJSONBody, serve: func(_ *Handler, r *request) (int, any, error) {
		return 0, nil, apierr.New(apierr.UnknownOperation,
			"%s %s is not an action of the Lambda API that Spate serves", r.http.Method, clip(r.http.URL.Path))
	}}
	h.mux.Handle("/", h.action(unknown, durations))
	return h, nil
}

// ServeHTTP serves one request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// action wraps a route: read the body, authenticate and authorize, serve,
// encode, time.
func (h *Handler) action(rt route, durations *prometheus.HistogramVec) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, hr *http.Request) {
		start := time.Now()
		code := h.serve(w, hr, rt)
		if durations != nil {
			action := rt.action
			if action == "" {
				action = "unknown"
			}
			if code == "" {
				code = "OK"
			}
			durations.WithLabelValues(SigningName, action, string(code)).Observe(time.Since(start).Seconds())
		}
	})
}

func (h *Handler) serve(w http.ResponseWriter, hr *http.Request, rt route) apierr.Code {
	if rt.maxBody == maxCodeBody {
		select {
		case h.uploads <- struct{}{}:
			defer func() { <-h.uploads }()
		case <-hr.Context().Done():
			return writeError(w, apierr.New(apierr.TooManyRequests, "the request ended while waiting for an upload slot"))
		}
	}
	body, err := readBody(hr, rt.maxBody)
	if err != nil {
		return writeError(w, err)
	}
	ctx := hr.Context()
	if h.cfg.guard != nil {
		if ctx, err = h.guard(hr, body, rt); err != nil {
			return writeError(w, err)
		}
	}
	status, out, err := rt.serve(h, &request{ctx: ctx, http: hr, body: body, w: w})
	if err != nil {
		if _, ok := errors.AsType[*apierr.Error](err); !ok {
			h.cfg.logger.Error("lambda API: internal failure", "action", rt.action, "err", err)
		}
		return writeError(w, err)
	}
	if status == 0 { // the route wrote its reply
		return ""
	}
	if out == nil {
		w.WriteHeader(status)
		return ""
	}
	raw, err := json.Marshal(out)
	if err != nil {
		h.cfg.logger.Error("lambda API: encode reply", "action", rt.action, "err", err)
		return writeError(w, err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(raw)))
	w.WriteHeader(status)
	_, _ = w.Write(raw)
	return ""
}

// guard authenticates the request and authorizes lambda:ACTION on the
// function it names (all resources when it names none).
func (h *Handler) guard(hr *http.Request, body []byte, rt route) (context.Context, error) {
	ctx, err := h.cfg.guard.AuthenticateHTTP(hr.Context(), hr, body, SigningName)
	if err != nil {
		return ctx, err
	}
	if rt.action == "" {
		return ctx, nil // answered UnknownOperationException
	}
	var resources []string
	name := ""
	switch rt.resource {
	case "":
	case bodyName:
		var in struct{ FunctionName string }
		_ = json.Unmarshal(body, &in) // a bad body is refused by the action
		name = in.FunctionName
	default:
		name = hr.PathValue(rt.resource)
	}
	if ref, err := functions.ParseRef(name); err == nil && name != "" {
		resources = []string{h.cfg.guard.ARN(SigningName, "function:"+ref.Name)}
	}
	if esm.IsMappingARN(name) { // tags of a mapping: authorized on its ARN
		resources = []string{name}
	}
	return ctx, h.cfg.guard.Authorize(ctx, SigningName+":"+rt.action, resources...)
}

// clip shortens a caller's string for an error message.
func clip(s string) string { return trunc.String(s, 100) }

// The function actions.

func (h *Handler) createFunction(r *request) (int, any, error) {
	var in functions.CreateInput
	if err := r.json(&in); err != nil {
		return 0, nil, err
	}
	out, err := h.fns.CreateFunction(r.ctx, in)
	return http.StatusCreated, out, err
}

func (h *Handler) listFunctions(r *request) (int, any, error) {
	in := functions.ListInput{Marker: r.query("Marker")}
	var err error
	if in.MaxItems, err = queryInt(r, "MaxItems", 1, 10000); err != nil {
		return 0, nil, err
	}
	if v := r.query("FunctionVersion"); v != "" && v != "ALL" {
		return 0, nil, apierr.New(apierr.InvalidParameterValue, "FunctionVersion %q: the only value is ALL", clip(v))
	}
	out, err := h.fns.ListFunctions(r.ctx, in)
	return http.StatusOK, out, err
}

// qualified joins a path's FunctionName and the Qualifier query
// parameter, refusing two different qualifiers.
func qualified(r *request) (string, error) {
	fn, q := r.path("FunctionName"), r.query("Qualifier")
	if q == "" {
		return fn, nil
	}
	ref, err := functions.ParseRef(fn)
	if err != nil {
		return "", err
	}
	if ref.Qualifier != "" && ref.Qualifier != q {
		return "", apierr.New(apierr.InvalidParameterValue,
			"the FunctionName's qualifier %q and the Qualifier %q differ", clip(ref.Qualifier), clip(q))
	}
	if ref.Qualifier == "" {
		fn += ":" + q
	}
	return fn, nil
}

func (h *Handler) getFunction(r *request) (int, any, error) {
	fn, err := qualified(r)
	if err != nil {
		return 0, nil, err
	}
	out, err := h.fns.GetFunction(r.ctx, fn)
	return http.StatusOK, out, err
}

func (h *Handler) getConfiguration(r *request) (int, any, error) {
	fn, err := qualified(r)
	if err != nil {
		return 0, nil, err
	}
	out, err := h.fns.GetFunctionConfiguration(r.ctx, fn)
	return http.StatusOK, out, err
}

func (h *Handler) deleteFunction(r *request) (int, any, error) {
	fn := r.path("FunctionName")
	q := r.query("Qualifier")
	if ref, err := functions.ParseRef(fn); err == nil && ref.Qualifier != "" && q == "" {
		q = ref.Qualifier
	}
	// AWS answers 204 with no body.
	return http.StatusNoContent, nil, h.fns.DeleteFunction(r.ctx, fn, q)
}

func (h *Handler) updateConfiguration(r *request) (int, any, error) {
	var in functions.UpdateConfigInput
	if err := r.json(&in); err != nil {
		return 0, nil, err
	}
	in.FunctionName = r.path("FunctionName")
	out, err := h.fns.UpdateFunctionConfiguration(r.ctx, in)
	return http.StatusOK, out, err
}

func (h *Handler) updateCode(r *request) (int, any, error) {
	var in functions.UpdateCodeInput
	if err := r.json(&in); err != nil {
		return 0, nil, err
	}
	in.FunctionName = r.path("FunctionName")
	out, err := h.fns.UpdateFunctionCode(r.ctx, in)
	return http.StatusOK, out, err
}

func (h *Handler) putConcurrency(r *request) (int, any, error) {
	var in struct {
		ReservedConcurrentExecutions *int `json:"ReservedConcurrentExecutions"`
	}
	if err := r.json(&in); err != nil {
		return 0, nil, err
	}
	n, err := h.fns.PutFunctionConcurrency(r.ctx, r.path("FunctionName"), in.ReservedConcurrentExecutions)
	return http.StatusOK, functions.Concurrency{ReservedConcurrentExecutions: &n}, err
}

func (h *Handler) getConcurrency(r *request) (int, any, error) {
	n, err := h.fns.GetFunctionConcurrency(r.ctx, r.path("FunctionName"))
	return http.StatusOK, functions.Concurrency{ReservedConcurrentExecutions: n}, err
}

func (h *Handler) deleteConcurrency(r *request) (int, any, error) {
	return http.StatusNoContent, nil, h.fns.DeleteFunctionConcurrency(r.ctx, r.path("FunctionName"))
}

func (h *Handler) tagResource(r *request) (int, any, error) {
	var in struct {
		Tags map[string]string `json:"Tags"`
	}
	if err := r.json(&in); err != nil {
		return 0, nil, err
	}
	t, err := h.tagger(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, t.TagResource(r.ctx, r.path("Resource"), in.Tags)
}

func (h *Handler) untagResource(r *request) (int, any, error) {
	t, err := h.tagger(r)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, t.UntagResource(r.ctx, r.path("Resource"), r.http.URL.Query()["tagKeys"])
}

func (h *Handler) listTags(r *request) (int, any, error) {
	t, err := h.tagger(r)
	if err != nil {
		return 0, nil, err
	}
	tags, err := t.ListTags(r.ctx, r.path("Resource"))
	return http.StatusOK, map[string]any{"Tags": tags}, err
}

func (h *Handler) accountSettings(r *request) (int, any, error) {
	out, err := h.fns.GetAccountSettings(r.ctx)
	return http.StatusOK, out, err
}

// invoke is Invoke: the body is the payload, the reply is the function's
// response with the invocation's headers.
func (h *Handler) invoke(r *request) (int, any, error) {
	hd := r.http.Header
	in := functions.InvokeInput{
		FunctionName: r.path("FunctionName"), Qualifier: r.query("Qualifier"),
		InvocationType: hd.Get("X-Amz-Invocation-Type"), LogType: hd.Get("X-Amz-Log-Type"),
		ClientContext: hd.Get("X-Amz-Client-Context"), Payload: r.body,
	}
	if in.InvocationType == functions.InvocationEvent && len(r.body) > functions.MaxAsyncPayload {
		return 0, nil, apierr.New(apierr.RequestTooLarge,
			"Request must be smaller than %d bytes for the Invoke operation", functions.MaxAsyncPayload)
	}
	out, err := h.fns.InvokeAs(r.ctx, in)
	if err != nil {
		return 0, nil, err
	}
	w := r.w.Header()
	w.Set("X-Amz-Executed-Version", out.Result.ExecutedVersion)
	if out.StatusCode != http.StatusOK {
		r.w.WriteHeader(out.StatusCode)
		return 0, nil, nil
	}
	if out.Result.FunctionError != "" {
		w.Set("X-Amz-Function-Error", out.Result.FunctionError)
	}
	if in.LogType == "Tail" {
		w.Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString(out.Result.LogTail))
	}
	w.Set("Content-Type", "application/json")
	w.Set("Content-Length", strconv.Itoa(len(out.Result.Payload)))
	r.w.WriteHeader(http.StatusOK)
	_, _ = r.w.Write(out.Result.Payload)
	return 0, nil, nil
}

// invokeAsync is the deprecated InvokeAsync: an Event invocation that
// answers {"Status":202}.
func (h *Handler) invokeAsync(r *request) (int, any, error) {
	_, err := h.fns.InvokeAs(r.ctx, functions.InvokeInput{FunctionName: r.path("FunctionName"),
		InvocationType: functions.InvocationEvent, Payload: r.body})
	return http.StatusAccepted, map[string]int{"Status": http.StatusAccepted}, err
}

// queryInt reads an optional integer query parameter within [lo, hi]
// (0 when absent).
func queryInt(r *request, name string, lo, hi int) (int, error) {
	v := r.query(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, apierr.New(apierr.InvalidParameterValue, "%s %q: must be an integer from %d to %d", name, clip(v), lo, hi)
	}
	return n, nil
}

// The event source mapping actions, served by the esm.Mappings given.

func (h *Handler) mappingsOrErr() (esm.Mappings, error) {
	if h.cfg.mappings == nil {
		return nil, apierr.New(apierr.UnknownOperation, "event source mappings are not served by this Spate server yet")
	}
	return h.cfg.mappings, nil
}

func (h *Handler) createMapping(r *request) (int, any, error) {
	m, err := h.mappingsOrErr()
	if err != nil {
		return 0, nil, err
	}
	var in esm.CreateInput
	if err := decodeStrict(r.body, &in, "CreateEventSourceMapping"); err != nil {
		return 0, nil, err
	}
	out, err := m.Create(r.ctx, in)
	return http.StatusAccepted, out, err
}

func (h *Handler) getMapping(r *request) (int, any, error) {
	m, err := h.mappingsOrErr()
	if err != nil {
		return 0, nil, err
	}
	out, err := m.Get(r.ctx, r.path("UUID"))
	return http.StatusOK, out, err
}

func (h *Handler) listMappings(r *request) (int, any, error) {
	m, err := h.mappingsOrErr()
	if err != nil {
		return 0, nil, err
	}
	in := esm.ListInput{EventSourceArn: r.query("EventSourceArn"), FunctionName: r.query("FunctionName"), Marker: r.query("Marker")}
	if in.MaxItems, err = queryInt(r, "MaxItems", 1, 10000); err != nil {
		return 0, nil, err
	}
	out, err := m.List(r.ctx, in)
	if out.EventSourceMappings == nil {
		out.EventSourceMappings = []esm.Mapping{}
	}
	return http.StatusOK, out, err
}

func (h *Handler) updateMapping(r *request) (int, any, error) {
	m, err := h.mappingsOrErr()
	if err != nil {
		return 0, nil, err
	}
	var in esm.UpdateInput
	if err := decodeStrict(r.body, &in, "UpdateEventSourceMapping"); err != nil {
		return 0, nil, err
	}
	in.UUID = r.path("UUID")
	out, err := m.Update(r.ctx, in)
	return http.StatusAccepted, out, err
}

func (h *Handler) deleteMapping(r *request) (int, any, error) {
	m, err := h.mappingsOrErr()
	if err != nil {
		return 0, nil, err
	}
	out, err := m.Delete(r.ctx, r.path("UUID"))
	return http.StatusAccepted, out, err
}

// readBody reads the request body within limit bytes.
func readBody(r *http.Request, limit int) ([]byte, error) {
	if r.ContentLength > int64(limit) {
		return nil, errTooLarge(r.ContentLength, limit)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return nil, apierr.New(apierr.InvalidRequestContent, "could not read the request body: %v", err)
	}
	if len(body) > limit {
		return nil, errTooLarge(-1, limit)
	}
	return body, nil
}

func errTooLarge(n int64, limit int) error {
	e := apierr.New(apierr.RequestTooLarge, "Request must be smaller than %d bytes for this operation", limit)
	if n > 0 {
		e = apierr.New(apierr.RequestTooLarge, "Request must be smaller than %d bytes for this operation; it is %d", limit, n)
	}
	return e
}

// decodeStrict decodes a JSON body into v, refusing members v does not
// have: for event source mappings, whose members Spate does not serve
// (Kafka, MQ, DocumentDB settings) must not be dropped silently.
func decodeStrict(body []byte, v any, action string) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := checkDepth(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return apierr.New(apierr.InvalidParameterValue, "%s: Spate does not serve the member %s", action, name)
		}
		return jsonError(err)
	}
	if dec.More() {
		return apierr.New(apierr.InvalidRequestContent, "the request body holds more than one JSON value")
	}
	return nil
}
