package awsproto

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/spatehq/spate/apierr"
)

// ContentType is the media type of AWS JSON 1.1 requests and replies.
const ContentType = "application/x-amz-json-1.1"

// Service describes one AWS JSON 1.1 API for NewHandler.
type Service struct {
	// Model is the compiled service model; its target prefix is the
	// service half of X-Amz-Target that the handler answers.
	Model *Model
	// TargetPrefix, when set, must be the model's: a check that an
	// embedded model is the one the actions were written for.
	TargetPrefix string
	// Name is the service's name in messages ("Kinesis Data Streams").
	Name string
	// ShortName names the API in envelope errors ("the Kinesis API
	// accepts only POST /") and logs ("kinesis request").
	ShortName string
	// Operations are the served actions; every one must be in the model.
	// The model's other actions answer UnknownOperationException saying
	// that Spate does not support them yet.
	Operations []*Operation
	// MaxBodyBytes is the default cap on a request body (WithMaxBodyBytes
	// overrides it); it must be positive.
	MaxBodyBytes int64
	// MaxStreamDuration ends an event-stream reply after that long (0:
	// never); WithMaxStreamDuration overrides it.
	MaxStreamDuration time.Duration
	// BodyLimitHint ends the message of a request over the cap, saying
	// what the largest valid request holds.
	BodyLimitHint string
	// ValidationCode is the error type of a request that breaks the
	// model's constraints. Default: ValidationException.
	ValidationCode apierr.Code
	// ValidationPaths is how those errors name the member at fault.
	// Default: AWSPaths.
	ValidationPaths PathStyle
	// SigningName is the service of the SigV4 credential scope and the
	// prefix of the IAM actions ("kinesis"); used with WithGuard only.
	SigningName string
	// ResourceMembers, with WithGuard, names the request members that name
	// the resource a request acts on: member → resource type and "/"
	// ("stream/") for a member holding a name, "" for one holding an ARN.
	// A request that sets none is authorized on "*".
	ResourceMembers map[string]string
	// MoreResources, with WithGuard, names resources that no member holds
	// as such (GetRecords' stream is inside its iterator), in the form
	// "stream/NAME"; an error answers the request.
	MoreResources func(action string, in any) ([]string, error)
}

// Option configures NewHandler.
type Option func(*config)

type config struct {
	logger       *slog.Logger
	maxBodyBytes int64     // 0: the Service's default
	guard        Guard     // nil: no authentication
	intercept    Intercept // nil: none
	// Event streams (eventstream.go).
	eventWriteTimeout time.Duration
	maxStreamDuration time.Duration // 0: the Service's
}

// defaultConfig holds every default in one place.
func defaultConfig() config {
	return config{logger: slog.Default(), eventWriteTimeout: defaultEventWriteTimeout}
}

// WithLogger sets the logger for internal failures (Error level, with the
// real error) and for every request (Debug level). Default: slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithMaxBodyBytes caps the size of a request body; a larger request is
// answered with HTTP 413. Default: the Service's MaxBodyBytes.
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) {
		if n > 0 {
			c.maxBodyBytes = n
		}
	}
}

// Intercept is called before every action runs, once its request has been
// authenticated, decoded, validated and authorized, with the API's
// ShortName ("Kinesis") and the action. It returns the context the action
// runs with, or an error that answers the request instead: the action does
// not run. spate serve uses it for --enforce-limits and --fault-rate.
type Intercept func(ctx context.Context, api, action string) (context.Context, error)

// WithIntercept runs f before every action (see Intercept).
func WithIntercept(f Intercept) Option {
	return func(c *config) { c.intercept = f }
}

// Operation is one served action: how its request is decoded and the code
// that runs it. Build one with Action, FastAction or ModelAction.
type Operation struct {
	name string
	// input is the type a request decodes into (nil: derived from the
	// model at bind time, for a ModelAction); plan validates it.
	input reflect.Type
	plan  *plan
	// target, for a ModelAction, is the type the action takes; carryPlan
	// finds the members it has no field for.
	target    reflect.Type
	carryPlan *carryPlan
	call      func(ctx context.Context, in any) (any, error)
	// fastDecode, when set, decodes the common form of the request faster
	// than encoding/json; it reports false to hand the body to
	// encoding/json instead.
	fastDecode func(body []byte) (any, bool)
	// output is the model's output shape (nil: none), which guides the
	// CBOR encoding of replies.
	output *shape
}

// Action serves the action name with fn. In is the request type: a struct
// whose json tags are the members of the model's input shape, every one of
// them, with scalar members as pointers (nil when absent), lists, maps and
// blobs (Blob) nil when absent, and timestamps as EpochSeconds. NewHandler
// refuses an In that does not match the model.
func Action[In, Out any](name string, fn func(context.Context, *In) (Out, error)) *Operation {
	return &Operation{
		name:  name,
		input: reflect.TypeFor[In](),
		call:  func(ctx context.Context, in any) (any, error) { return fn(ctx, in.(*In)) },
	}
}

// ModelAction serves the action name with fn, decoding each request into a
// type derived from the model's input shape (so that every member the model
// declares is validated) and then into In, whose fields are matched to
// members by json tag. In may leave members out: a request that sets one
// answers InvalidArgumentException saying that Spate does not support it.
// In's fields need not be pointers; a json.RawMessage field takes its
// member's JSON whole. This costs a second decode, so use Action for
// requests on a hot path.
func ModelAction[In, Out any](name string, fn func(context.Context, *In) (Out, error)) *Operation {
	return &Operation{
		name:   name,
		target: reflect.TypeFor[In](),
		call:   func(ctx context.Context, in any) (any, error) { return fn(ctx, in.(*In)) },
	}
}

// FastAction is Action with decode, a decoder for the common form of the
// request (a hot one) that is faster than encoding/json. decode returns the
// request, or false to let encoding/json decode the body (which accepts the
// rest of JSON and words the errors); whatever it accepts must decode
// exactly as encoding/json would. Validation follows either way. With a
// nil decode, FastAction is Action.
func FastAction[In, Out any](name string, fn func(context.Context, *In) (Out, error), decode func(body []byte) (*In, bool)) *Operation {
	op := Action(name, fn)
	if decode != nil {
		op.fastDecode = func(body []byte) (any, bool) {
			if in, ok := decode(body); ok {
				return in, true
			}
			return nil, false // an untyped nil, not a nil *In
		}
	}
	return op
}

// Handler serves one AWS JSON 1.1 API over HTTP: POST / with X-Amz-Target
// "<TargetPrefix>.<Action>". It decodes and validates each request against
// the service model, runs the action and encodes the reply or the error.
// SigV4 signatures are checked only WithGuard; without, any credentials
// (and none) work.
type Handler struct {
	svc Service
	cfg config
	env envelope
	ops map[string]*Operation
	// unsupported holds the actions the service model defines that Spate
	// does not serve; they answer UnknownOperationException saying so.
	unsupported map[string]bool
	logMsg      string // "kinesis request"
	// resFields caches, with a guard, the resource fields of each request
	// type (reflect.Type → []resourceField).
	resFields sync.Map
	// cbor decodes CBOR request bodies, with limits (cbor.go).
	cbor cbor.DecMode
	// streams are the running event-stream replies, for Close.
	streams streams
	// bufs recycles request/response buffers (*bytes.Buffer). Decoded
	// requests never alias the buffer, so it is reused as soon as the reply
	// is written.
	bufs sync.Pool
}

// NewHandler binds svc's operations to its model and returns the handler.
// An error means svc does not match its model (a program defect).
func NewHandler(svc Service, opts ...Option) (*Handler, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.maxBodyBytes == 0 {
		cfg.maxBodyBytes = svc.MaxBodyBytes
	}
	if cfg.maxStreamDuration == 0 {
		cfg.maxStreamDuration = svc.MaxStreamDuration
	}
	if svc.Model == nil || cfg.maxBodyBytes <= 0 || svc.ShortName == "" || svc.Name == "" {
		return nil, errors.New("awsproto: a Service needs a Model, a Name, a ShortName and a positive MaxBodyBytes")
	}
	if svc.TargetPrefix != "" && svc.TargetPrefix != svc.Model.targetPrefix {
		return nil, fmt.Errorf("awsproto: %s: the service model has target prefix %q, want %q", svc.Name, svc.Model.targetPrefix, svc.TargetPrefix)
	}
	if svc.ValidationCode == "" {
		svc.ValidationCode = apierr.Validation
	}
	if cfg.guard != nil && svc.SigningName == "" {
		return nil, fmt.Errorf("awsproto: %s: WithGuard needs the Service's SigningName", svc.Name)
	}
	h := &Handler{
		svc:    svc,
		cfg:    cfg,
		env:    newEnvelope([]string{svc.ShortName}, []string{svc.Model.targetPrefix}),
		logMsg: strings.ToLower(svc.ShortName) + " request",
	}
	h.bufs.New = func() any { return new(bytes.Buffer) }
	var err error
	if h.cbor, err = newCBORDecoder(); err != nil {
		return nil, fmt.Errorf("awsproto: %s: CBOR decoder: %w", svc.Name, err)
	}
	if err := h.bind(); err != nil {
		return nil, fmt.Errorf("awsproto: %s: %w", svc.Name, err)
	}
	return h, nil
}

// bind registers the served actions against the model.
func (h *Handler) bind() error {
	m := h.svc.Model
	d := newDeriver()
	h.ops = make(map[string]*Operation, len(h.svc.Operations))
	for _, op := range h.svc.Operations {
		in, ok := m.operations[op.name]
		if !ok {
			return fmt.Errorf("action %s is not in the service model", op.name)
		}
		if in == nil {
			return fmt.Errorf("action %s has no input shape", op.name)
		}
		if _, dup := h.ops[op.name]; dup {
			return fmt.Errorf("action %s is served twice", op.name)
		}
		// An Operation may be shared by handlers; bind a copy.
		op := *op
		if op.target != nil {
			t, err := d.typeOf(in)
			if err != nil {
				return fmt.Errorf("action %s: %w", op.name, err)
			}
			op.input = t
			if op.carryPlan, err = bindCarry(in, op.target); err != nil {
				return fmt.Errorf("action %s: %w", op.name, err)
			}
		}
		p, err := bindPlan(in, op.input)
		if err != nil {
			return fmt.Errorf("action %s: %w", op.name, err)
		}
		op.plan = p
		op.output = m.outputs[op.name]
		h.ops[op.name] = &op
	}
	h.unsupported = make(map[string]bool)
	for name := range m.operations {
		if h.ops[name] == nil {
			h.unsupported[name] = true
		}
	}
	return nil
}

// TargetPrefix is the service half of the X-Amz-Target header this handler
// answers ("Kinesis_20131202").
func (h *Handler) TargetPrefix() string { return h.svc.Model.targetPrefix }

// Actions lists the served actions, sorted.
func (h *Handler) Actions() []string { return sortedNames(h.ops) }

// UnsupportedActions lists the model's actions that are not served, sorted.
func (h *Handler) UnsupportedActions() []string { return sortedNames(h.unsupported) }

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Decode decodes and validates body as a request of action, exactly as
// ServeHTTP does, and returns what the action would receive: a pointer to
// its request type. Errors are *apierr.Error values: SerializationException
// for malformed JSON, wrong JSON types and bad base64; the Service's
// ValidationCode for broken constraints; InvalidArgumentException for
// members a ModelAction's type does not take; UnknownOperationException
// for an action that is not served.
func (h *Handler) Decode(action string, body []byte) (any, error) {
	op := h.ops[action]
	if op == nil {
		return nil, apierr.New(apierr.UnknownOperation, "%s is not a served action", action)
	}
	return h.decode(op, body, formatJSON)
}

// DecodeCBOR is Decode for an AWS CBOR 1.1 body (cbor.go); its errors are
// Decode's, SerializationException naming CBOR.
func (h *Handler) DecodeCBOR(action string, body []byte) (any, error) {
	op := h.ops[action]
	if op == nil {
		return nil, apierr.New(apierr.UnknownOperation, "%s is not a served action", action)
	}
	return h.decode(op, body, formatCBOR)
}

func (h *Handler) decode(op *Operation, body []byte, f wireFormat) (any, error) {
	var in any
	ok := false
	switch {
	case f == formatCBOR:
		// Into the type a JSON body decodes into: what follows is shared.
		in = reflect.New(op.input).Interface()
		if err := decodeCBOR(h.cbor, body, in); err != nil {
			return nil, err
		}
		ok = true
	case op.fastDecode != nil:
		in, ok = op.fastDecode(body)
	}
	if !ok {
		in = reflect.New(op.input).Interface()
		if err := decodeJSON(body, in); err != nil {
			return nil, err
		}
		// The fast decoders take only valid UTF-8 without escapes; this
		// checks what encoding/json took.
		if err := checkStrings(body, h.svc.ValidationCode, h.svc.ValidationPaths); err != nil {
			return nil, err
		}
	}
	if err := validate(op.plan, reflect.ValueOf(in).Elem(), h.svc.ValidationCode, h.svc.ValidationPaths); err != nil {
		return nil, err
	}
	if op.target != nil {
		return op.carry(in)
	}
	return in, nil
}

// EncodeCBOR returns the CBOR body with which ServeHTTP answers reply, a
// reply of action, to a CBOR request.
func (h *Handler) EncodeCBOR(action string, reply any) ([]byte, error) {
	var buf bytes.Buffer
	return h.encodeReply(&buf, formatCBOR, h.ops[action], reply)
}

// TranscodeToCBOR returns the CBOR form of js, the JSON body of a reply of
// action, as the handler transcodes a reply that does not append its own
// CBOR: the reference for differential tests of CBORAppenders.
func (h *Handler) TranscodeToCBOR(action string, js []byte) ([]byte, error) {
	var s *shape
	if op := h.ops[action]; op != nil {
		s = op.output
	}
	return jsonToCBOR(nil, s, js)
}

// statusError gives an error an HTTP status other than the one its code
// implies (405, 404, 413 for requests that never reach an action).
type statusError struct {
	status int
	err    *apierr.Error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

func withStatus(status int, code apierr.Code, format string, args ...any) error {
	return &statusError{status: status, err: apierr.New(code, format, args...)}
}

// ServeHTTP answers one request. Every reply, errors included, carries an
// x-amzn-RequestId header.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.answer(w, r, time.Now(), observer{})
}

// answer is ServeHTTP for a request that arrived at start. It tells obs,
// for the Router's metrics, once, the action served ("" when the request
// named none this handler knows) and the error type of the reply ("" for a
// success): when the reply is written, or for an event stream when its
// initial response is.
func (h *Handler) answer(w http.ResponseWriter, r *http.Request, start time.Time, obs observer) {
	reqID := newRequestID()
	w.Header().Set("x-amzn-RequestId", reqID)

	buf := h.bufs.Get().(*bytes.Buffer)
	defer func() {
		if buf != nil {
			h.putBuffer(buf)
		}
	}()
	buf.Reset()

	// Replies, errors included, are in the request's format.
	format := formatOf(r)
	action, out, err := h.serveRecovered(w, r, buf, format)
	if rel, ok := out.(releaser); ok {
		defer rel.Release() // once the reply is written
	}
	if es, ok := out.(EventStream); ok && err == nil {
		h.putBuffer(buf) // not held for as long as the stream lasts
		buf = nil
		h.streamEvents(w, r, format, h.ops[action], es, reqID, func() { obs.observe(action, "", start) })
		h.logRequest(r, reqID, action, http.StatusOK, start, nil)
		return
	}
	status := http.StatusOK
	var body []byte
	if err == nil {
		buf.Reset()
		body, err = h.encodeReply(buf, format, h.ops[action], out)
	}
	if err != nil {
		status = writeError(w, h.cfg.logger, h.logMsg, reqID, action, format, err)
	} else {
		w.Header().Set("Content-Type", format.contentType())
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
	h.logRequest(r, reqID, action, status, start, err)
	if err != nil {
		obs.observe(action, apierr.CodeOf(err), start)
		return
	}
	obs.observe(action, "", start)
}

// logRequest logs a request at Debug level.
func (h *Handler) logRequest(r *http.Request, reqID, action string, status int, start time.Time, err error) {
	if !h.cfg.logger.Enabled(r.Context(), slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("request_id", reqID), slog.String("action", action),
		slog.Int("status", status), slog.Duration("duration", time.Since(start)),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error_type", string(apierr.CodeOf(err))),
			slog.String("error", apierr.MessageOf(err)))
	}
	h.cfg.logger.LogAttrs(r.Context(), slog.LevelDebug, h.logMsg, attrs...)
}

// serveRecovered turns a panic while serving into an InternalFailure reply
// (logged with its stack by writeError), so a bug answers 500 instead of
// dropping the connection.
func (h *Handler) serveRecovered(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer, f wireFormat) (action string, out any, err error) {
	var served string
	defer func() {
		if p := recover(); p != nil {
			action, out, err = served, nil, fmt.Errorf("panic serving %s: %v\n%s", served, p, debug.Stack())
		}
	}()
	return h.serve(w, r, buf, f, &served)
}

// serve checks the HTTP envelope, decodes and validates the request into
// buf's contents and runs the action. It returns the action's name (for
// logs; empty when unknown), also kept in *served as soon as it is known,
// and its reply.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer, f wireFormat, served *string) (string, any, error) {
	_, action, err := h.env.check(r)
	if err != nil {
		return "", nil, err
	}
	op := h.ops[action]
	if op == nil {
		if h.unsupported[action] {
			return action, nil, apierr.New(apierr.UnknownOperation,
				"%s is a %s action that is not supported by Spate yet", action, h.svc.Name)
		}
		return "", nil, apierr.New(apierr.UnknownOperation, "unknown operation %q (no %s action has that name)", action, h.svc.Name)
	}
	*served = action

	if r.ContentLength > h.cfg.maxBodyBytes {
		return action, nil, h.tooLarge()
	}
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + 1) // +1: ReadFrom needs room to see EOF
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, h.cfg.maxBodyBytes)); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return action, nil, h.tooLarge()
		}
		return action, nil, apierr.New(apierr.Serialization, "could not read the request body: %v", err)
	}
	ctx := r.Context()
	if h.cfg.guard != nil {
		if ctx, err = h.authenticate(r, buf.Bytes()); err != nil {
			return action, nil, err
		}
	}
	in, err := h.decode(op, buf.Bytes(), f)
	if err != nil {
		return action, nil, err
	}
	if h.cfg.guard != nil {
		if err := h.authorize(ctx, action, in); err != nil {
			return action, nil, err
		}
	}
	if h.cfg.intercept != nil {
		if ctx, err = h.cfg.intercept(ctx, h.svc.ShortName, action); err != nil {
			return action, nil, err
		}
	}
	out, err := op.call(ctx, in)
	return action, out, err
}

func (h *Handler) tooLarge() error {
	msg := fmt.Sprintf("request body exceeds %d bytes, the most this server accepts", h.cfg.maxBodyBytes)
	if h.svc.BodyLimitHint != "" {
		msg += " " + h.svc.BodyLimitHint
	}
	return &statusError{status: http.StatusRequestEntityTooLarge, err: &apierr.Error{Code: apierr.InvalidArgument, Message: msg}}
}

// envelope checks what every AWS JSON request shares: POST /, a JSON
// content type, and an X-Amz-Target naming one of the served services.
type envelope struct {
	subject  string // "the Kinesis API" or "the Kinesis and Firehose APIs"
	plural   bool
	prefixes []string
	expected string // "Kinesis_20131202.<Action>" or "A.<Action> or B.<Action>"
}

func newEnvelope(apis, prefixes []string) envelope {
	e := envelope{prefixes: prefixes, plural: len(apis) > 1}
	switch {
	case len(apis) == 0:
		e.subject = "the AWS JSON API"
	case e.plural:
		e.subject = "the " + strings.Join(apis[:len(apis)-1], ", ") + " and " + apis[len(apis)-1] + " APIs"
	default:
		e.subject = "the " + apis[0] + " API"
	}
	targets := make([]string, len(prefixes))
	for i, p := range prefixes {
		targets[i] = p + ".<Action>"
	}
	e.expected = strings.Join(targets, " or ")
	return e
}

// check returns the request's service and action, or the error that
// answers it.
func (e envelope) check(r *http.Request) (service, action string, err error) {
	accept, serve := "accepts", "is"
	if e.plural {
		accept, serve = "accept", "are"
	}
	if r.Method != http.MethodPost {
		return "", "", withStatus(http.StatusMethodNotAllowed, apierr.UnknownOperation,
			"%s %s only POST / (got %s %s)", e.subject, accept, r.Method, r.URL.Path)
	}
	if p := r.URL.Path; p != "/" && p != "" {
		return "", "", withStatus(http.StatusNotFound, apierr.UnknownOperation,
			"%s %s served at POST /, not %s", e.subject, serve, p)
	}
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return "", "", err
	}
	target := r.Header.Get("X-Amz-Target")
	service, action, ok := strings.Cut(target, ".")
	if !ok || !slices.Contains(e.prefixes, service) || action == "" {
		if target == "" {
			return "", "", apierr.New(apierr.UnknownOperation, "missing X-Amz-Target header: expected %s", e.expected)
		}
		return "", "", apierr.New(apierr.UnknownOperation, "unknown operation %q: expected X-Amz-Target %s", target, e.expected)
	}
	return service, action, nil
}

// checkContentType accepts the AWS JSON 1.1 media type, plain JSON, AWS
// CBOR 1.1 and no Content-Type at all.
func checkContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return apierr.New(apierr.Serialization, "malformed Content-Type %q: %v", ct, err)
	}
	switch mt {
	case ContentType, "application/json", CBORContentType:
		return nil
	default:
		return apierr.New(apierr.Serialization, "Content-Type %s is not supported: send %s or %s", mt, ContentType, CBORContentType)
	}
}

type errorReply struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// writeError is the one place where an error becomes a reply: apierr's Code
// is the AWS error type (__type, and the X-Amzn-ErrorType header) and its
// message is shown to the client; anything else is an InternalFailure whose
// real error goes to logger only (as logMsg+" failed"). The body and its
// Content-Type are in format f, the request's. It returns the HTTP status
// written.
func writeError(w http.ResponseWriter, logger *slog.Logger, logMsg, reqID, action string, f wireFormat, err error) int {
	code, msg := apierr.CodeOf(err), apierr.MessageOf(err)
	status := http.StatusBadRequest
	if se, ok := errors.AsType[*statusError](err); ok {
		status = se.status
	} else if code == apierr.ServiceUnavailable || code == apierr.ServiceUnavailableException {
		// A passing condition (the disk is full): the SDKs and the CLI
		// retry a 503, then show the message.
		status = http.StatusServiceUnavailable
	} else if code == apierr.InternalFailure {
		status = http.StatusInternalServerError
		logger.Error(logMsg+" failed", slog.String("request_id", reqID),
			slog.String("action", action), slog.Any("error", err))
	}
	body := errorBody(f, code, msg)
	hdr := w.Header()
	hdr.Set("Content-Type", f.contentType())
	hdr.Set("X-Amzn-ErrorType", string(code))
	if status == http.StatusMethodNotAllowed {
		hdr.Set("Allow", http.MethodPost)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return status
}

// maxPooledBuffer bounds the buffers kept for reuse, so that one huge
// request does not pin its memory.
const maxPooledBuffer = 8 << 20

func (h *Handler) putBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBuffer {
		h.bufs.Put(b)
	}
}

// newRequestID returns a random (version 4) UUID, the form AWS request IDs
// take.
func newRequestID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // never fails (crypto/rand aborts the program instead)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:], u[10:])
	return string(s[:])
}
