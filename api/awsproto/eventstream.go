package awsproto

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/spatehq/spate/apierr"
)

// Event-stream replies (SubscribeToShard's): an action whose reply is an
// EventStream answers HTTP 200 with Content-Type
// application/vnd.amazon.eventstream and a body of messages in the AWS
// event-stream framing (prelude with lengths and CRC, typed headers,
// payload, message CRC), each flushed as soon as it is written, so the
// reply works over HTTP/1.1 (chunked) and HTTP/2 alike:
//
//  1. an "initial-response" event with an empty structure as payload
//     (the AWS JSON protocols' output members outside the stream; the
//     SDKs read it before any event and fail without it);
//  2. the events the EventStream sends (EventWriter.Send), payloads in
//     the request's format (JSON or CBOR) under the output's event-stream
//     member's shape;
//  3. when it ends on an error, one exception message
//     (":message-type exception", ":exception-type" the AWS error type,
//     payload {"message": ...}); a clean end is the end of the body.
//
// Errors before the initial response (the action's) are ordinary error
// replies. The server's write and read timeouts are lifted for the
// stream: each event gets its own write deadline (WithEventWriteTimeout)
// instead, so that a slow or stalled client is still cut off. A stream
// ends after the Service's MaxStreamDuration (WithMaxStreamDuration), or
// when the Handler is closed (Close, for a server's graceful shutdown):
// both are a clean end. The Router times such a request up to its initial
// response, not for as long as it streams.

// EventStreamContentType is the media type of an event-stream reply.
const EventStreamContentType = "application/vnd.amazon.eventstream"

// EventStream is an action's reply that streams events instead of being
// one body.
type EventStream interface {
	// Stream sends events through w until the stream is over, and returns
	// nil for a clean end or the error to send as an exception message.
	// ctx is done when the client goes away, the stream's time is up or
	// the Handler closes; Stream then returns promptly, and an error it
	// returns then that is ctx's (context.Canceled, DeadlineExceeded) ends
	// the stream cleanly. Any other error, context.Cause(ctx) included,
	// is sent as an exception.
	Stream(ctx context.Context, w *EventWriter) error
}

// defaultEventWriteTimeout bounds writing one event when no
// WithEventWriteTimeout is given.
const defaultEventWriteTimeout = time.Minute

// WithEventWriteTimeout bounds the writing of each event of an event
// stream: a client that takes no event for that long is cut off. Default:
// one minute.
func WithEventWriteTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.eventWriteTimeout = d
		}
	}
}

// WithMaxStreamDuration ends event streams after d (a clean end: the
// client subscribes again). Default: the Service's MaxStreamDuration.
func WithMaxStreamDuration(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.maxStreamDuration = d
		}
	}
}

// errHandlerClosed is the cause of the streams that Close ends.
var errHandlerClosed = errors.New("awsproto: the handler is closed")

// streams is the set of a Handler's running event streams, for Close.
type streams struct {
	mu     sync.Mutex
	closed bool
	cancel map[*context.CancelCauseFunc]struct{}
}

// add registers a stream's cancel; it cancels at once when the handler is
// already closed. The returned func unregisters it.
func (s *streams) add(cancel context.CancelCauseFunc) (remove func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		cancel(errHandlerClosed)
		return func() {}
	}
	if s.cancel == nil {
		s.cancel = make(map[*context.CancelCauseFunc]struct{})
	}
	key := &cancel
	s.cancel[key] = struct{}{}
	return func() {
		s.mu.Lock()
		delete(s.cancel, key)
		s.mu.Unlock()
	}
}

// Close ends every event stream the handler is serving and every one it
// starts from now on (after their initial response), each as a clean end:
// for a server's graceful shutdown (http.Server.RegisterOnShutdown), which
// would otherwise wait for them to end on their own. Ordinary requests are
// not affected.
func (h *Handler) Close() {
	h.streams.mu.Lock()
	defer h.streams.mu.Unlock()
	h.streams.closed = true
	for c := range h.streams.cancel {
		(*c)(errHandlerClosed)
	}
	clear(h.streams.cancel)
}

// EventWriter writes the events of one event-stream reply. It is not safe
// for concurrent use: the EventStream's Stream owns it.
type EventWriter struct {
	h       *Handler
	w       http.ResponseWriter
	rc      *http.ResponseController
	f       wireFormat
	events  *shape // the output's event-stream member: one member per event type
	timeout time.Duration
	enc     *eventstream.Encoder
	payload bytes.Buffer
	sent    int // events sent, the initial response not counted
}

// Send writes one event of type eventType (a member of the output's event
// stream, "SubscribeToShardEvent") with v as its payload, encoded as a
// reply is (an Appender or CBORAppender encodes itself), and flushes it.
func (e *EventWriter) Send(eventType string, v any) error {
	var s *shape
	if e.events != nil {
		if m := e.events.member(eventType); m != nil {
			s = m.shape
		}
	}
	e.payload.Reset()
	body, err := e.h.encodePayload(&e.payload, e.f, s, v)
	if err != nil {
		return err
	}
	if err := e.write(eventMessage(eventType, e.f, body)); err != nil {
		return err
	}
	e.sent++
	return nil
}

// Sent is how many events Send has written.
func (e *EventWriter) Sent() int { return e.sent }

// write frames msg, writes and flushes it under the event write timeout.
func (e *EventWriter) write(msg eventstream.Message) error {
	_ = e.rc.SetWriteDeadline(time.Now().Add(e.timeout)) // ErrNotSupported: no deadline to move
	defer func() { _ = e.rc.SetWriteDeadline(time.Time{}) }()
	if err := e.enc.Encode(e.w, msg); err != nil {
		return err
	}
	return e.rc.Flush()
}

func eventMessage(eventType string, f wireFormat, payload []byte) eventstream.Message {
	var msg eventstream.Message
	msg.Headers.Set(eventstreamEventType, eventstream.StringValue(eventType))
	msg.Headers.Set(eventstreamContentType, eventstream.StringValue(f.eventContentType()))
	msg.Headers.Set(eventstreamMessageType, eventstream.StringValue("event"))
	msg.Payload = payload
	return msg
}

// The headers of event-stream messages (the eventstreamapi package of the
// SDK names them too; spelled out here to keep the import to the framing).
const (
	eventstreamEventType     = ":event-type"
	eventstreamContentType   = ":content-type"
	eventstreamMessageType   = ":message-type"
	eventstreamExceptionType = ":exception-type"
)

// eventContentType is the :content-type of an event payload in f: the
// protocol's plain media type, as AWS sends it (application/json, not the
// request's application/x-amz-json-1.1).
func (f wireFormat) eventContentType() string {
	if f == formatCBOR {
		return CBORContentType
	}
	return "application/json"
}

// emptyStructure is the payload of the initial response: the output has
// no member besides its event stream.
func emptyStructure(f wireFormat) []byte {
	if f == formatCBOR {
		return AppendCBORMap(nil, 0)
	}
	return []byte("{}")
}

// streamEvents answers a request whose action returned es: the headers,
// the initial response, es's events and, when es ends on an error, an
// exception message. observe is called once the initial response is out
// (or could not be written).
func (h *Handler) streamEvents(w http.ResponseWriter, r *http.Request, f wireFormat, op *Operation, es EventStream, reqID string, observe func()) {
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	remove := h.streams.add(cancel)
	defer remove()
	if d := h.cfg.maxStreamDuration; d > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeout(ctx, d)
		defer stop()
	}
	rc := http.NewResponseController(w)
	// The server's WriteTimeout is for one reply: each event gets a write
	// deadline of its own instead (EventWriter.write), and there is none
	// between events.
	w.Header().Set("Content-Type", EventStreamContentType)
	w.WriteHeader(http.StatusOK)
	ew := &EventWriter{h: h, w: w, rc: rc, f: f, events: eventStreamMember(op), timeout: h.cfg.eventWriteTimeout, enc: eventstream.NewEncoder()}
	err := ew.write(eventMessage("initial-response", f, emptyStructure(f)))
	observe()
	if err != nil {
		return // the client is gone
	}
	err = es.Stream(ctx, ew)
	if err == nil || r.Context().Err() != nil {
		return
	}
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return // time is up, or the handler closed: a clean end
	}
	code, msg := apierr.CodeOf(err), apierr.MessageOf(err)
	if code == apierr.InternalFailure {
		h.cfg.logger.Error(h.logMsg+" failed", slog.String("request_id", reqID),
			slog.String("action", op.name), slog.Any("error", err))
	}
	code = exceptionType(ew.events, code)
	var payload []byte
	if f == formatCBOR {
		payload = AppendCBORMap(nil, 1)
		payload = AppendCBORText(payload, "message")
		payload = AppendCBORText(payload, msg)
	} else {
		payload, _ = encodeJSON(struct {
			Message string `json:"message"`
		}{msg})
	}
	var m eventstream.Message
	m.Headers.Set(eventstreamExceptionType, eventstream.StringValue(string(code)))
	m.Headers.Set(eventstreamContentType, eventstream.StringValue(f.eventContentType()))
	m.Headers.Set(eventstreamMessageType, eventstream.StringValue("exception"))
	m.Payload = payload
	_ = ew.write(m) // the client may be gone; the stream ends either way
}

// exceptionType is the :exception-type of an error of code: the event
// stream's member for it. The JSON protocol's InternalFailure is
// InternalFailureException in an event stream's union.
func exceptionType(events *shape, code apierr.Code) apierr.Code {
	if events == nil || events.member(string(code)) != nil {
		return code
	}
	if events.member(string(code)+"Exception") != nil {
		return code + "Exception"
	}
	return code
}

// eventStreamMember returns the shape of op's event-stream output member:
// the structure member of the output whose own members are the events
// (nil when op has no such output, which only loses the CBOR shapes).
func eventStreamMember(op *Operation) *shape {
	if op == nil || op.output == nil {
		return nil
	}
	for _, m := range op.output.members {
		if m.shape.kind == kindStructure {
			return m.shape
		}
	}
	return nil
}

// member returns s's member called name, nil when it has none.
func (s *shape) member(name string) *member {
	for _, m := range s.members {
		if m.name == name {
			return m
		}
	}
	return nil
}

func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	err := Encode(&buf, v)
	return buf.Bytes(), err
}
