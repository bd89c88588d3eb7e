// Package awsprototest helps test AWS JSON 1.1 handlers (package awsproto
// and the APIs built on it): a client that sends requests to a handler
// served by httptest and checks, on every reply, the invariants the
// protocol keeps (an x-amzn-RequestId that is a UUID, the JSON 1.1 content
// type, and on errors a __type equal to the X-Amzn-ErrorType header), and
// CheckSameAsEncodingJSON for the differential tests of fast decoders. With
// CallCBOR it speaks AWS CBOR 1.1 instead, as the AWS SDK for Java does, and
// checks that replies, errors included, come back in CBOR.
//
// It depends on no Spate package, so awsproto's own tests can use it.
package awsprototest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// CBORContentType is the media type of AWS CBOR 1.1.
const CBORContentType = "application/x-amz-cbor-1.1"

// Client sends requests to one handler.
type Client struct {
	t testing.TB
	// URL is the server's base URL.
	URL string
	// TargetPrefix is the service half of the X-Amz-Target header that Call
	// sends ("Kinesis_20131202").
	TargetPrefix string
}

// NewServer serves h with httptest until the test ends and returns a client
// for it that calls the actions of targetPrefix.
func NewServer(t testing.TB, h http.Handler, targetPrefix string) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Client{t: t, URL: srv.URL, TargetPrefix: targetPrefix}
}

// Reply is a reply with its body decoded.
type Reply struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

// ErrType is the reply's __type ("" for a success).
func (r Reply) ErrType() string {
	s, _ := r.Body["__type"].(string)
	return s
}

// Message is an error reply's message.
func (r Reply) Message() string {
	s, _ := r.Body["message"].(string)
	return s
}

var requestIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// Do sends a raw request and checks the invariants every reply keeps.
func (c *Client) Do(method, path string, header map[string]string, body string) Reply {
	c.t.Helper()
	req, err := http.NewRequest(method, c.URL+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	r := Reply{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	wantCT := "application/x-amz-json-1.1"
	if req.Header.Get("Content-Type") == CBORContentType {
		wantCT = CBORContentType
		if r.Body, err = DecodeCBOR(raw); err != nil {
			c.t.Fatalf("reply is not a CBOR map: %v: %x", err, raw)
		}
	} else if err := json.Unmarshal(raw, &r.Body); err != nil {
		c.t.Fatalf("reply is not a JSON object: %v: %s", err, raw)
	}
	if id := resp.Header.Get("X-Amzn-Requestid"); !requestIDPattern.MatchString(id) {
		c.t.Errorf("x-amzn-RequestId = %q, want a UUID", id)
	}
	if ct := resp.Header.Get("Content-Type"); ct != wantCT {
		c.t.Errorf("Content-Type = %q, want %q (the request's protocol)", ct, wantCT)
	}
	if r.Status != http.StatusOK {
		if r.ErrType() == "" || r.Header.Get("X-Amzn-Errortype") != r.ErrType() {
			c.t.Errorf("error reply without matching __type and X-Amzn-ErrorType: %s %v", raw, r.Header)
		}
	}
	return r
}

// Call sends an action with a JSON body given as a Go value or a string,
// the way the AWS SDKs do.
func (c *Client) Call(action string, body any) Reply {
	c.t.Helper()
	s, ok := body.(string)
	if !ok {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		s = string(b)
	}
	return c.Do(http.MethodPost, "/", map[string]string{
		"Content-Type":  "application/x-amz-json-1.1",
		"X-Amz-Target":  c.TargetPrefix + "." + action,
		"Authorization": "AWS4-HMAC-SHA256 Credential=dummy/20250101/us-east-1/service/aws4_request, SignedHeaders=host, Signature=00",
	}, s)
}

// CallCBOR sends an action with a CBOR body: body is encoded with
// EncodeCBOR unless it is already []byte.
func (c *Client) CallCBOR(action string, body any) Reply {
	c.t.Helper()
	b, ok := body.([]byte)
	if !ok {
		var err error
		if b, err = EncodeCBOR(body); err != nil {
			c.t.Fatal(err)
		}
	}
	return c.Do(http.MethodPost, "/", map[string]string{
		"Content-Type":  CBORContentType,
		"X-Amz-Target":  c.TargetPrefix + "." + action,
		"Authorization": "AWS4-HMAC-SHA256 Credential=dummy/20250101/us-east-1/service/aws4_request, SignedHeaders=host, Signature=00",
	}, string(b))
}

// EncodeCBOR encodes v as an AWS SDK would: map keys sorted (so that the
// bytes are stable), []byte as byte strings, time.Time as tag 1 enclosing
// integer milliseconds since the epoch (AWS's reading of tag 1).
func EncodeCBOR(v any) ([]byte, error) {
	em, err := cbor.EncOptions{Sort: cbor.SortBytewiseLexical}.EncModeWithTags(cbor.NewTagSet())
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := em.NewEncoder(&buf).Encode(millisTimes(v)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// millisTimes replaces every time.Time in maps and slices of v with AWS's
// CBOR timestamp.
func millisTimes(v any) any {
	switch x := v.(type) {
	case time.Time:
		return cbor.Tag{Number: 1, Content: x.UnixMilli()}
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = millisTimes(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = millisTimes(e)
		}
		return out
	}
	return v
}

// DecodeCBOR decodes a CBOR reply body: maps as map[string]any, arrays as
// []any, byte strings as []byte, integers as uint64 or int64, and tag 1 as
// a cbor.Tag (the decoder would make it a time read as seconds; tests see
// the wire form instead).
func DecodeCBOR(b []byte) (map[string]any, error) {
	v, err := decodeCBORValue(b)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("CBOR body is a %T, not a map", v)
	}
	return m, nil
}

func decodeCBORValue(b []byte) (any, error) {
	dm, err := cbor.DecOptions{DupMapKey: cbor.DupMapKeyEnforcedAPF}.DecMode()
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("empty CBOR item")
	}
	switch {
	case b[0] == 0xc1: // tag 1
		var content any
		if err := dm.Unmarshal(b[1:], &content); err != nil {
			return nil, err
		}
		return cbor.Tag{Number: 1, Content: content}, nil
	case b[0]>>5 == 5: // map
		var raw map[string]cbor.RawMessage
		if err := dm.Unmarshal(b, &raw); err != nil {
			return nil, err
		}
		m := make(map[string]any, len(raw))
		for k, e := range raw {
			if m[k], err = decodeCBORValue(e); err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
		}
		return m, nil
	case b[0]>>5 == 4: // array
		var raw []cbor.RawMessage
		if err := dm.Unmarshal(b, &raw); err != nil {
			return nil, err
		}
		l := make([]any, len(raw))
		for i, e := range raw {
			if l[i], err = decodeCBORValue(e); err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return l, nil
	}
	var v any
	if err := dm.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// OK sends an action and fails the test unless it succeeds.
func (c *Client) OK(action string, body any) map[string]any {
	c.t.Helper()
	r := c.Call(action, body)
	if r.Status != http.StatusOK {
		c.t.Fatalf("%s: status %d: %s", action, r.Status, r.Raw)
	}
	return r.Body
}

// Fails sends an action and checks that it fails with status and errType,
// and a message.
func (c *Client) Fails(action string, body any, status int, errType string) Reply {
	c.t.Helper()
	return c.FailsWith(action, body, status, errType, "")
}

// FailsWith is Fails that also checks that the message contains inMessage.
func (c *Client) FailsWith(action string, body any, status int, errType, inMessage string) Reply {
	c.t.Helper()
	r := c.Call(action, body)
	if r.Status != status || r.ErrType() != errType || !strings.Contains(r.Message(), inMessage) {
		c.t.Fatalf("%s: got %d %s, want %d %s with %q", action, r.Status, r.Raw, status, errType, inMessage)
	}
	if r.Message() == "" {
		c.t.Errorf("%s: error without a message: %s", action, r.Raw)
	}
	return r
}

// CheckSameAsEncodingJSON fails the test unless encoding/json decodes body
// to got: the invariant of a fast decoder, for whatever it accepts.
func CheckSameAsEncodingJSON[T any](t testing.TB, body []byte, got *T) {
	t.Helper()
	var want T
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatalf("fast path accepted %q, encoding/json rejects it: %v", body, err)
	}
	if !reflect.DeepEqual(got, &want) {
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(&want)
		t.Fatalf("fast path decoded %q differently:\n got: %s\nwant: %s", body, gj, wj)
	}
}
