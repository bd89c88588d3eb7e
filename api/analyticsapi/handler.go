package analyticsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/spatehq/spate/analytics"
	"github.com/spatehq/spate/analytics/demo"
	"github.com/spatehq/spate/analytics/query"
	"github.com/spatehq/spate/analytics/schema"
	"github.com/spatehq/spate/analytics/value"
	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/auth"
	"github.com/spatehq/spate/shard"
)

// maxBodyBytes bounds a request body: a script and a name.
const maxBodyBytes = 1 << 20

// defaultKeepAlive is how often an idle results stream sends a comment, so
// that proxies keep the connection and a vanished client is noticed.
const defaultKeepAlive = 15 * time.Second

// defaultEventWriteTimeout bounds the write of one results event: a client
// that stops reading for that long is cut.
const defaultEventWriteTimeout = time.Minute

// Option configures a Handler.
type Option func(*config)

type config struct {
	logger       *slog.Logger
	keepAlive    time.Duration
	writeTimeout time.Duration
	guard        auth.HTTPGuard // nil: no authentication
	maxDemos     int            // demo producers at once
}

// defaultConfig holds every default in one place.
func defaultConfig() config {
	return config{logger: slog.New(slog.DiscardHandler), keepAlive: defaultKeepAlive, writeTimeout: defaultEventWriteTimeout,
		maxDemos: demo.DefaultMaxProducers}
}

// WithLogger sets where the causes of internal failures are logged (the
// reply hides them). Default: discard.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithKeepAlive sets how often an idle results stream sends a comment
// line (default 15 s).
func WithKeepAlive(d time.Duration) Option { return func(c *config) { c.keepAlive = d } }

// WithWriteTimeout bounds the write of each results event (default 1 min).
// A results stream lifts the server's per-request read and write deadlines
// (http.Server's ReadTimeout and WriteTimeout), which would otherwise end
// it, and is bounded event by event instead.
func WithWriteTimeout(d time.Duration) Option { return func(c *config) { c.writeTimeout = d } }

// WithMaxDemoProducers sets how many streams POST /v1/demo may feed at
// once (default demo.DefaultMaxProducers).
func WithMaxDemoProducers(n int) Option { return func(c *config) { c.maxDemos = n } }

// Handler serves the API. Mount it for "/v1/" on a mux.
type Handler struct {
	svc   *analytics.Service
	store *shard.Store
	cfg   config
	mux   *http.ServeMux
	demo  *demo.Producers // the stock-ticker feeds of POST /v1/demo

	// closing is cancelled by Close; results streams watch it.
	closing context.Context
	close   context.CancelFunc
}

var _ http.Handler = (*Handler)(nil)

// NewHandler returns a Handler for svc that discovers schemas in store (the
// store svc runs on). The caller keeps ownership of both.
func NewHandler(svc *analytics.Service, store *shard.Store, opts ...Option) *Handler {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	h := &Handler{svc: svc, store: store, cfg: cfg, mux: http.NewServeMux(),
		demo: demo.NewProducers(store, demo.WithMaxProducers(cfg.maxDemos), demo.WithProducersLogger(cfg.logger))}
	h.closing, h.close = context.WithCancel(context.Background())
	h.mux.HandleFunc("POST /v1/applications", h.create)
	h.mux.HandleFunc("GET /v1/applications", h.list)
	h.mux.HandleFunc("GET /v1/applications/{name}", h.describe)
	h.mux.HandleFunc("POST /v1/applications/{name}/stop", h.stop)
	h.mux.HandleFunc("POST /v1/applications/{name}/start", h.start)
	h.mux.HandleFunc("DELETE /v1/applications/{name}", h.delete)
	h.mux.HandleFunc("GET /v1/applications/{name}/results", h.results)
	h.mux.HandleFunc("POST /v1/validate", h.validate)
	h.mux.HandleFunc("GET /v1/streams/{name}/schema", h.schema)
	h.mux.HandleFunc("POST /v1/demo", h.startDemo)
	h.mux.HandleFunc("GET /v1/demo", h.listDemo)
	h.mux.HandleFunc("DELETE /v1/demo/{stream}", h.stopDemo)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, &httpError{status: http.StatusNotFound, err: apierr.New(apierr.UnknownOperation,
			"no operation at %s %s; the Analytics API is described in docs/analytics.md", r.Method, r.URL.Path)})
	})
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.cfg.guard != nil {
		var err error
		if r, err = h.guard(r); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	h.mux.ServeHTTP(w, r)
}

// Close ends every results stream and makes new ones fail with 503, and
// stops the demo producers, waiting for them (they append to the store, so
// call it before closing the store). Streams otherwise last until their
// clients leave, so call it when the server starts shutting down
// (http.Server.RegisterOnShutdown). It is safe to call more than once.
func (h *Handler) Close() {
	h.close()
	h.demo.Close()
}

// createRequest is POST /v1/applications' body.
type createRequest struct {
	Name      string `json:"name"`
	SQL       string `json:"sql"`
	Temporary bool   `json:"temporary"`
}

// validateRequest is POST /v1/validate's body.
type validateRequest struct {
	SQL string `json:"sql"`
}

// listReply is GET /v1/applications' reply.
type listReply struct {
	Applications []analytics.Description `json:"applications"`
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request) {
	var req createRequest
	if err := decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	d, err := h.svc.Create(r.Context(), analytics.CreateInput{Name: req.Name, SQL: req.SQL, Temporary: req.Temporary})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/applications/"+d.Name)
	h.reply(w, r, http.StatusCreated, d)
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	list, err := h.svc.List(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if list == nil {
		list = []analytics.Description{}
	}
	h.reply(w, r, http.StatusOK, listReply{Applications: list})
}

func (h *Handler) describe(w http.ResponseWriter, r *http.Request) {
	d, err := h.svc.Describe(r.Context(), r.PathValue("name"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.reply(w, r, http.StatusOK, d)
}

func (h *Handler) stop(w http.ResponseWriter, r *http.Request) {
	h.act(w, r, h.svc.Stop)
}

func (h *Handler) start(w http.ResponseWriter, r *http.Request) {
	h.act(w, r, h.svc.Start)
}

// act runs stop or start and replies with the description after it.
func (h *Handler) act(w http.ResponseWriter, r *http.Request, op func(context.Context, string) error) {
	name := r.PathValue("name")
	if err := op(r.Context(), name); err != nil {
		h.fail(w, r, err)
		return
	}
	h.describe(w, r)
}

func (h *Handler) delete(w http.ResponseWriter, r *http.Request) {
	if err := h.svc.Delete(r.Context(), r.PathValue("name")); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) validate(w http.ResponseWriter, r *http.Request) {
	var req validateRequest
	if err := decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	d, err := h.svc.Validate(req.SQL)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.reply(w, r, http.StatusOK, d)
}

func (h *Handler) schema(w http.ResponseWriter, r *http.Request) {
	limit := 0
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			h.fail(w, r, apierr.New(apierr.InvalidArgument, "limit %q must be a whole number of records, 1 to %d", s, schema.MaxLimit))
			return
		}
		if n == 0 {
			n = -1 // an explicit 0 is out of range, not the default
		}
		limit = n
	}
	sc, err := schema.Discover(r.Context(), h.store, r.PathValue("name"), limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.reply(w, r, http.StatusOK, sc)
}

// results streams a bare SELECT's rows as Server-Sent Events.
func (h *Handler) results(w http.ResponseWriter, r *http.Request) {
	if h.closing.Err() != nil {
		h.fail(w, r, &httpError{status: http.StatusServiceUnavailable, err: apierr.New(apierr.InternalFailure, "the server is shutting down")})
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(h.closing, cancel)()
	rc := http.NewResponseController(w)
	// The stream lasts as long as its client stays: the server's deadlines
	// for the whole request would cut it (an expired read deadline cancels
	// the request's context), so they are lifted, and each event's write
	// is bounded instead. ErrNotSupported (a test recorder) is no harm.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	ev := &eventWriter{w: w, rc: rc, timeout: h.cfg.writeTimeout}

	started := false
	stopPings := func() {}
	var buf []byte
	err := h.svc.Results(ctx, r.PathValue("name"),
		func(cols []string) error {
			hdr := w.Header()
			hdr.Set("Content-Type", "text/event-stream")
			hdr.Set("Cache-Control", "no-cache")
			hdr.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
			w.WriteHeader(http.StatusOK)
			started = true
			b, err := marshal(cols)
			if err != nil {
				return err
			}
			if err := ev.send("columns", bytes.TrimSuffix(b, []byte("\n"))); err != nil {
				return err
			}
			stopPings = ev.keepAlive(ctx, h.cfg.keepAlive)
			return nil
		},
		func(row analytics.Row) error {
			buf = value.AppendObject(buf[:0], row)
			return ev.send("row", buf)
		})
	stopPings()
	if err == nil || ev.failed() {
		return // the client left, or the stream was closed
	}
	if !started {
		h.fail(w, r, err)
		return
	}
	_, body := h.errorReply(r, err)
	b, _ := marshal(body)
	_ = ev.send("error", bytes.TrimSuffix(b, []byte("\n")))
}

// eventWriter writes Server-Sent Events, flushing each. Rows and keep-alive
// comments come from different goroutines, so writes are serialised.
type eventWriter struct {
	mu      sync.Mutex
	w       io.Writer
	rc      *http.ResponseController
	timeout time.Duration // bounds each write and flush
	err     error         // the first write error: the client is gone
}

func (e *eventWriter) send(event string, data []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	// data is one line: JSON from encoding/json or value.AppendObject
	// never holds a raw newline.
	return e.write(func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data)
		return err
	})
}

// write runs one write and a flush under e.mu.
func (e *eventWriter) write(f func(io.Writer) error) error {
	if e.err != nil {
		return e.err
	}
	// The deadline is cleared after the write: over HTTP/2 an expired
	// deadline resets the stream even while nothing is being written.
	_ = e.rc.SetWriteDeadline(time.Now().Add(e.timeout))
	defer func() { _ = e.rc.SetWriteDeadline(time.Time{}) }()
	if err := f(e.w); err != nil {
		e.err = err
		return err
	}
	if err := e.rc.Flush(); err != nil {
		e.err = err
	}
	return e.err
}

func (e *eventWriter) failed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err != nil
}

// keepAlive writes a comment line every d until ctx ends or the returned
// stop is called; stop waits for the goroutine to exit.
func (e *eventWriter) keepAlive(ctx context.Context, d time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				e.mu.Lock()
				err := e.write(func(w io.Writer) error {
					_, err := io.WriteString(w, ": keep-alive\n\n")
					return err
				})
				e.mu.Unlock()
				if err != nil {
					return
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// decode reads a JSON request body into v, refusing unknown fields.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return &httpError{status: http.StatusRequestEntityTooLarge,
				err: apierr.New(apierr.InvalidArgument, "the request body is over %d bytes", maxBodyBytes)}
		}
		return apierr.New(apierr.Serialization, "read the request body: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return apierr.New(apierr.Serialization, "the request body must be a JSON object of the documented fields: %v", err)
	}
	if dec.More() {
		return apierr.New(apierr.Serialization, "the request body must be one JSON object, with nothing after it")
	}
	// encoding/json turns strings that are not Unicode text into U+FFFD;
	// refuse them as the Kinesis and Firehose APIs do.
	return awsproto.CheckUnicode(body, apierr.InvalidArgument)
}

func (h *Handler) reply(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		h.fail(w, r, fmt.Errorf("encode reply: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// marshal encodes v as one line of JSON without HTML escaping: SQL reads
// better with its < and > as they are.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// errorBody is the JSON of an error reply.
type errorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`   // SQL errors only
	Column  int    `json:"column,omitempty"` // SQL errors only
}

// httpError gives an error a status other than the one its code implies.
type httpError struct {
	status int
	err    *apierr.Error
}

func (e *httpError) Error() string { return e.err.Error() }
func (e *httpError) Unwrap() error { return e.err }

// statusOf is the one table from error codes to HTTP statuses.
func statusOf(code apierr.Code) int {
	switch code {
	case apierr.ResourceNotFound:
		return http.StatusNotFound
	case apierr.ResourceInUse, apierr.ConcurrentModification:
		return http.StatusConflict
	case apierr.LimitExceeded, apierr.ProvisionedThroughputExceeded:
		return http.StatusTooManyRequests
	case apierr.AccessDenied:
		return http.StatusForbidden
	case apierr.InternalFailure:
		return http.StatusInternalServerError
	case apierr.ServiceUnavailable, apierr.ServiceUnavailableException:
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

// errorReply turns err into a status and a body, logging the cause of an
// internal failure.
func (h *Handler) errorReply(r *http.Request, err error) (int, errorBody) {
	var qe *query.Error
	if errors.As(err, &qe) {
		return http.StatusBadRequest, errorBody{Type: string(apierr.InvalidArgument),
			Message: fmt.Sprintf("line %d, column %d: %s", qe.Line, qe.Column, qe.Msg), Line: qe.Line, Column: qe.Column}
	}
	code := apierr.CodeOf(err)
	status := statusOf(code)
	if he, ok := errors.AsType[*httpError](err); ok {
		status = he.status
	}
	if code == apierr.InternalFailure && status == http.StatusInternalServerError {
		h.cfg.logger.ErrorContext(r.Context(), "analytics api request failed",
			"method", r.Method, "path", r.URL.Path, "err", err)
	}
	return status, errorBody{Type: string(code), Message: apierr.MessageOf(err)}
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, body := h.errorReply(r, err)
	b, _ := marshal(body) // strings and ints: cannot fail
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("X-Amzn-ErrorType", body.Type)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
