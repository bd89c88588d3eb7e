package awsproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/spatehq/spate/apierr"
)

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
	case reflect.Float64:
		return "a number"
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

// Encode writes v to buf as the JSON body of a reply: without
// encoding/json's trailing newline (for exact Content-Length equality with
// AWS's replies) and without HTML escaping.
// An Appender is written through its AppendJSON.
func Encode(buf *bytes.Buffer, v any) error {
	if a, ok := v.(Appender); ok {
		buf.Grow(a.JSONLen())
		buf.Write(a.AppendJSON(buf.AvailableBuffer()))
		return nil
	}
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode reply: %w", err)
	}
	buf.Truncate(buf.Len() - 1)
	return nil
}

// Appender is a reply that encodes itself: for replies so large that
// encoding/json's buffering would double their memory (it encodes into a
// buffer of its own, grown by doubling and pooled whatever its size, then
// copies it out), such as a GetRecords reply of 10 MiB. AppendJSON appends
// exactly what Encode would write for the value through encoding/json;
// JSONLen is at least its length, so that the reply is encoded into one
// buffer of that size.
type Appender interface {
	JSONLen() int
	AppendJSON(dst []byte) []byte
}

// encodeBody returns the body of a reply of v, in buf's memory. An Appender
// is encoded straight into it, without Encode's copy.
func encodeBody(buf *bytes.Buffer, v any) ([]byte, error) {
	if a, ok := v.(Appender); ok {
		buf.Grow(a.JSONLen())
		return a.AppendJSON(buf.AvailableBuffer()), nil
	}
	if err := Encode(buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodeReply returns the body of a reply of v in format f, in buf's
// memory. A CBOR reply is appended by v itself when it is a CBORAppender,
// or else encoded as JSON and transcoded by op's output shape.
func (h *Handler) encodeReply(buf *bytes.Buffer, f wireFormat, op *Operation, v any) ([]byte, error) {
	var s *shape
	if op != nil {
		s = op.output
	}
	return h.encodePayload(buf, f, s, v)
}

// encodePayload is encodeReply for a value of shape s (nil: unknown, which
// only loses the CBOR forms of blobs and timestamps).
func (h *Handler) encodePayload(buf *bytes.Buffer, f wireFormat, s *shape, v any) ([]byte, error) {
	if f == formatJSON {
		return encodeBody(buf, v)
	}
	if a, ok := v.(Appender); ok {
		buf.Grow(a.JSONLen()) // the CBOR form is shorter than the JSON one
	}
	if a, ok := v.(CBORAppender); ok {
		if b, ok := a.AppendCBOR(buf.AvailableBuffer()); ok {
			return b, nil
		}
	}
	js := h.bufs.Get().(*bytes.Buffer)
	defer h.putBuffer(js)
	js.Reset()
	j, err := encodeBody(js, v)
	if err != nil {
		return nil, err
	}
	return jsonToCBOR(buf.AvailableBuffer(), s, j)
}

// A reply that holds memory until it has been written (a GetRecords reply
// holds the store's read budget) implements releaser: the handler calls
// Release once the reply, or the error that replaced it, is written.
type releaser interface{ Release() }
