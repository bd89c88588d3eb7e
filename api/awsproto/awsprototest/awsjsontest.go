// Package awsprototest helps test AWS JSON 1.1 handlers (package awsproto
// and the APIs built on it): a client that sends requests to a handler
// served by httptest and checks, on every reply, the invariants the
// protocol keeps (an x-amzn-RequestId that is a UUID, the JSON 1.1 content
// type, and on errors a __type equal to the X-Amzn-ErrorType header), and
// CheckSameAsEncodingJSON for the differential tests of fast decoders.
//
// It depends on no Spate package, so awsproto's own tests can use it.
package awsprototest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

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
	if err := json.Unmarshal(raw, &r.Body); err != nil {
		c.t.Fatalf("reply is not a JSON object: %v: %s", err, raw)
	}
	if id := resp.Header.Get("X-Amzn-Requestid"); !requestIDPattern.MatchString(id) {
		c.t.Errorf("x-amzn-RequestId = %q, want a UUID", id)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		c.t.Errorf("Content-Type = %q", ct)
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
