package kinesisapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/shard"
)

// TargetPrefix is the service half of the X-Amz-Target header that Kinesis
// Data Streams requests carry ("Kinesis_20131202.PutRecord"). A server that
// speaks several AWS JSON services on one port can route on it.
const TargetPrefix = "Kinesis_20131202"

// DefaultMaxBodyBytes is the default cap on a request body: room for the
// largest valid request (PutRecords: 5 MiB of data, base64-encoded, plus
// partition keys and JSON framing).
const DefaultMaxBodyBytes = 12 << 20

const contentType = "application/x-amz-json-1.1"

// Option configures NewHandler.
type Option func(*config)

type config struct {
	logger       *slog.Logger
	maxBodyBytes int64
}

// defaultConfig holds every default in one place.
func defaultConfig() config {
	return config{
		logger:       slog.Default(),
		maxBodyBytes: DefaultMaxBodyBytes,
	}
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
// answered with HTTP 413. Default: DefaultMaxBodyBytes.
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) {
		if n > 0 {
			c.maxBodyBytes = n
		}
	}
}

// streamStore is what the handler needs from the store; *shard.Store is the
// implementation (tests substitute a fake to reach failure paths a real
// store cannot be made to take).
type streamStore interface {
	ResolveStream(name, arn string) (string, error)
	CreateStream(ctx context.Context, in shard.CreateStreamInput) error
	DeleteStream(ctx context.Context, name string) error
	DescribeStream(ctx context.Context, name string, limit int, exclusiveStartShardID string) (shard.StreamDescription, error)
	DescribeStreamSummary(ctx context.Context, name string) (shard.StreamDescription, error)
	ListStreams(ctx context.Context, in shard.ListStreamsInput) (shard.ListStreamsOutput, error)
	ListShards(ctx context.Context, in shard.ListShardsInput) (shard.ListShardsOutput, error)
	IncreaseRetention(ctx context.Context, name string, hours int) error
	DecreaseRetention(ctx context.Context, name string, hours int) error
	AddTags(ctx context.Context, name string, tags map[string]string) error
	RemoveTags(ctx context.Context, name string, keys []string) error
	ListTags(ctx context.Context, name, exclusiveStartKey string, limit int) ([]shard.Tag, bool, error)
	Limits(ctx context.Context) (shard.Limits, error)
	Append(ctx context.Context, stream string, entries []shard.Entry) ([]shard.AppendResult, error)
	ShardIterator(ctx context.Context, stream, shardID string, pos shard.Position) (string, error)
	GetRecords(ctx context.Context, iterator string, limit int) (shard.GetRecordsOutput, error)
}

var _ streamStore = (*shard.Store)(nil)

// handler serves the Kinesis Data Streams JSON 1.1 protocol.
type handler struct {
	store streamStore
	cfg   config
	ops   map[string]*operation
	// unsupported holds the actions the service model defines that Spate
	// does not serve; they answer UnknownOperationException saying so.
	unsupported map[string]bool
	// bufs recycles request/response buffers (*bytes.Buffer). Decoded
	// requests never alias the buffer, so it is reused as soon as the reply
	// is written.
	bufs sync.Pool
}

// operation is one served action: its request type, the validation plan of
// the model's input shape for it, and the code that calls the store.
type operation struct {
	name     string
	input    reflect.Type
	plan     *plan
	newInput func() any
	call     func(ctx context.Context, in any) (any, error)
	// fastDecode, when set, decodes the common form of the request faster
	// than encoding/json; it reports false to hand the body to
	// encoding/json instead.
	fastDecode func(body []byte) (any, bool)
}

func newOperation[In, Out any](name string, fn func(context.Context, *In) (Out, error)) *operation {
	return &operation{
		name:     name,
		input:    reflect.TypeFor[In](),
		newInput: func() any { return new(In) },
		call:     func(ctx context.Context, in any) (any, error) { return fn(ctx, in.(*In)) },
	}
}

// NewHandler returns an http.Handler that serves the Kinesis Data Streams
// API (AWS JSON 1.1: POST / with X-Amz-Target "Kinesis_20131202.<Action>")
// on store. It decodes and validates each request against the embedded AWS
// service model, calls the store and encodes the reply; it holds no stream
// state of its own. SigV4 signatures are not checked: any credentials work.
func NewHandler(store *shard.Store, opts ...Option) http.Handler {
	return newHandler(store, opts...)
}

func newHandler(store streamStore, opts ...Option) *handler {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	h := &handler{store: store, cfg: cfg}
	h.bufs.New = func() any { return new(bytes.Buffer) }
	m, err := loadModel(serviceModel)
	if err != nil {
		panic(fmt.Sprintf("kinesisapi: embedded service model: %v", err)) // a build defect, caught by every test
	}
	if err := h.bind(m); err != nil {
		panic(fmt.Sprintf("kinesisapi: %v", err))
	}
	return h
}

// bind registers the served actions against model m.
func (h *handler) bind(m *model) error {
	putRecords := newOperation("PutRecords", h.putRecords)
	putRecords.fastDecode = func(body []byte) (any, bool) {
		if in, ok := decodePutRecordsFast(body); ok {
			return in, true
		}
		return nil, false // an untyped nil, not a nil *putRecordsRequest
	}
	ops := []*operation{
		newOperation("AddTagsToStream", h.addTagsToStream),
		newOperation("CreateStream", h.createStream),
		newOperation("DecreaseStreamRetentionPeriod", h.decreaseRetention),
		newOperation("DeleteStream", h.deleteStream),
		newOperation("DescribeLimits", h.describeLimits),
		newOperation("DescribeStream", h.describeStream),
		newOperation("DescribeStreamSummary", h.describeStreamSummary),
		newOperation("GetRecords", h.getRecords),
		newOperation("GetShardIterator", h.getShardIterator),
		newOperation("IncreaseStreamRetentionPeriod", h.increaseRetention),
		newOperation("ListShards", h.listShards),
		newOperation("ListStreams", h.listStreams),
		newOperation("ListTagsForStream", h.listTagsForStream),
		newOperation("PutRecord", h.putRecord),
		putRecords,
		newOperation("RemoveTagsFromStream", h.removeTagsFromStream),
	}
	if m.targetPrefix != TargetPrefix {
		return fmt.Errorf("service model has target prefix %q, want %q", m.targetPrefix, TargetPrefix)
	}
	h.ops = make(map[string]*operation, len(ops))
	for _, op := range ops {
		in, ok := m.operations[op.name]
		if !ok {
			return fmt.Errorf("action %s is not in the service model", op.name)
		}
		if in == nil {
			return fmt.Errorf("action %s has no input shape", op.name)
		}
		p, err := bindPlan(in, op.input)
		if err != nil {
			return fmt.Errorf("action %s: %w", op.name, err)
		}
		op.plan = p
		h.ops[op.name] = op
	}
	h.unsupported = make(map[string]bool)
	for name := range m.operations {
		if h.ops[name] == nil {
			h.unsupported[name] = true
		}
	}
	return nil
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
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := newRequestID()
	w.Header().Set("x-amzn-RequestId", reqID)

	buf := h.bufs.Get().(*bytes.Buffer)
	defer h.putBuffer(buf)
	buf.Reset()

	action, out, err := h.serveRecovered(w, r, buf)
	status := http.StatusOK
	if err == nil {
		buf.Reset()
		err = encodeJSON(buf, out)
	}
	if err != nil {
		status = h.writeError(w, reqID, action, err)
	} else {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write(buf.Bytes())
	}
	if h.cfg.logger.Enabled(r.Context(), slog.LevelDebug) {
		attrs := []slog.Attr{
			slog.String("request_id", reqID), slog.String("action", action),
			slog.Int("status", status), slog.Duration("duration", time.Since(start)),
		}
		if err != nil {
			attrs = append(attrs, slog.String("error_type", string(apierr.CodeOf(err))),
				slog.String("error", apierr.MessageOf(err)))
		}
		h.cfg.logger.LogAttrs(r.Context(), slog.LevelDebug, "kinesis request", attrs...)
	}
}

// serve checks the HTTP envelope, decodes and validates the request into
// buf's contents and runs the action. It returns the action's name (for
// logs; empty when unknown) and its reply.
// serveRecovered turns a panic while serving into an InternalFailure reply
// (logged with its stack by writeError), so a bug answers 500 instead of
// dropping the connection.
func (h *handler) serveRecovered(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer) (action string, out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("panic serving %s: %v\n%s", action, p, debug.Stack())
		}
	}()
	return h.serve(w, r, buf)
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer) (string, any, error) {
	if r.Method != http.MethodPost {
		return "", nil, withStatus(http.StatusMethodNotAllowed, apierr.UnknownOperation,
			"the Kinesis API accepts only POST / (got %s %s)", r.Method, r.URL.Path)
	}
	if p := r.URL.Path; p != "/" && p != "" {
		return "", nil, withStatus(http.StatusNotFound, apierr.UnknownOperation,
			"the Kinesis API is served at POST /, not %s", p)
	}
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return "", nil, err
	}
	target := r.Header.Get("X-Amz-Target")
	service, action, ok := strings.Cut(target, ".")
	if !ok || service != TargetPrefix || action == "" {
		if target == "" {
			return "", nil, apierr.New(apierr.UnknownOperation,
				"missing X-Amz-Target header: expected %s.<Action>", TargetPrefix)
		}
		return "", nil, apierr.New(apierr.UnknownOperation,
			"unknown operation %q: expected X-Amz-Target %s.<Action>", target, TargetPrefix)
	}
	op := h.ops[action]
	if op == nil {
		if h.unsupported[action] {
			return action, nil, apierr.New(apierr.UnknownOperation,
				"%s is a Kinesis Data Streams action that is not supported by Spate yet", action)
		}
		return "", nil, apierr.New(apierr.UnknownOperation, "unknown operation %q (no Kinesis Data Streams action has that name)", action)
	}

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
	in, err := h.decode(op, buf.Bytes())
	if err != nil {
		return action, nil, err
	}
	out, err := op.call(r.Context(), in)
	return action, out, err
}

func (h *handler) tooLarge() error {
	return withStatus(http.StatusRequestEntityTooLarge, apierr.InvalidArgument,
		"request body exceeds %d bytes, the most this server accepts (PutRecords takes at most %d records and %d bytes of data)",
		h.cfg.maxBodyBytes, shard.MaxPutRecordsEntries, shard.MaxPutRecordsSize)
}

// checkContentType accepts the AWS JSON 1.1 media type, plain JSON and no
// Content-Type at all.
func checkContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return apierr.New(apierr.Serialization, "malformed Content-Type %q: %v", ct, err)
	}
	switch mt {
	case contentType, "application/json":
		return nil
	case "application/x-amz-cbor-1.1", "application/cbor":
		return apierr.New(apierr.Serialization,
			"Content-Type %s is not supported: Spate speaks AWS JSON 1.1 (%s); configure the client for JSON (for the AWS SDK for Java and the KCL, set AWS_CBOR_DISABLE=true or -Dcom.amazonaws.sdk.disableCbor)",
			mt, contentType)
	default:
		return apierr.New(apierr.Serialization, "Content-Type %s is not supported: send %s", mt, contentType)
	}
}

// decode parses body into op's request struct and validates it against the
// model. Errors are *apierr.Error values: SerializationException for
// malformed JSON, wrong JSON types and bad base64; ValidationException for
// broken constraints.
func (h *handler) decode(op *operation, body []byte) (any, error) {
	var in any
	ok := false
	if op.fastDecode != nil {
		in, ok = op.fastDecode(body)
	}
	if !ok {
		in = op.newInput()
		if err := decodeJSON(body, in); err != nil {
			return nil, err
		}
	}
	if err := validate(op.plan, reflect.ValueOf(in).Elem()); err != nil {
		return nil, err
	}
	return in, nil
}

// decodeJSON unmarshals a request body into in (a pointer to a request
// struct) and translates encoding/json's errors into SerializationException.
func decodeJSON(body []byte, in any) error {
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return apierr.New(apierr.Serialization,
			"the request body is empty: send a JSON object ({} when the action takes no parameters)")
	case trimmed[0] != '{':
		return apierr.New(apierr.Serialization, "the request body must be a JSON object, got JSON %s", jsonKind(trimmed))
	}
	err := json.Unmarshal(body, in)
	if err == nil {
		return nil
	}
	if ae, ok := errors.AsType[*apierr.Error](err); ok {
		return ae
	}
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return apierr.New(apierr.Serialization, "the request body is not valid JSON: %s (at byte %d)", se.Error(), se.Offset)
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		field := te.Field
		if field == "" {
			field = "the request body"
		}
		return apierr.New(apierr.Serialization, "%s must be %s, got JSON %s", describeField(field), goTypeName(te.Type), te.Value)
	}
	return apierr.New(apierr.Serialization, "the request body could not be decoded: %v", err)
}

// describeField quotes the member path of an UnmarshalTypeError, leaving out
// the Go-only names of embedded structs ("streamRef.StreamName" → 'StreamName').
func describeField(f string) string {
	if f == "the request body" {
		return f
	}
	parts := strings.Split(f, ".")
	parts = slices.DeleteFunc(parts, func(p string) bool { return p != "" && p[0] >= 'a' && p[0] <= 'z' })
	return "'" + strings.Join(parts, ".") + "'"
}

// goTypeName says in model terms what a request field's Go type carries.
func goTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int32, reflect.Int64, reflect.Int:
		return "an integer (a JSON number without fraction, within range)"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice:
		return "a list"
	case reflect.Map:
		return "a map (JSON object)"
	case reflect.Struct:
		return "a structure (JSON object)"
	}
	return "a " + t.String()
}

// writeError is the one place where an error becomes a reply: apierr's Code
// is the AWS error type (__type, and the X-Amzn-ErrorType header) and its
// message is shown to the client; anything else is an InternalFailure whose
// real error goes to the log only. It returns the HTTP status written.
func (h *handler) writeError(w http.ResponseWriter, reqID, action string, err error) int {
	code, msg := apierr.CodeOf(err), apierr.MessageOf(err)
	status := http.StatusBadRequest
	if se, ok := errors.AsType[*statusError](err); ok {
		status = se.status
	} else if code == apierr.InternalFailure {
		status = http.StatusInternalServerError
		h.cfg.logger.Error("kinesis request failed", slog.String("request_id", reqID),
			slog.String("action", action), slog.Any("error", err))
	}
	var body bytes.Buffer
	if err := encodeJSON(&body, errorReply{Type: string(code), Message: msg}); err != nil {
		// Cannot happen for two strings; keep the reply well-formed anyway.
		body.Reset()
		body.WriteString(`{"__type":"InternalFailure","message":"internal failure"}`)
	}
	hdr := w.Header()
	hdr.Set("Content-Type", contentType)
	hdr.Set("X-Amzn-ErrorType", string(code))
	if status == http.StatusMethodNotAllowed {
		hdr.Set("Allow", http.MethodPost)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body.Bytes())
	return status
}

// encodeJSON writes v to buf as JSON (without encoding/json's trailing
// newline, for exact Content-Length equality with AWS's replies).
func encodeJSON(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode reply: %w", err)
	}
	buf.Truncate(buf.Len() - 1)
	return nil
}

// maxPooledBuffer bounds the buffers kept for reuse, so that one huge
// request does not pin its memory.
const maxPooledBuffer = 8 << 20

func (h *handler) putBuffer(b *bytes.Buffer) {
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

// actionNames lists the served actions, sorted (for tests and docs).
func (h *handler) actionNames() []string {
	names := make([]string, 0, len(h.ops))
	for n := range h.ops {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
