package runtime

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// apiStep is one request to an api and what it must answer.
type apiStep struct {
	method, path string
	body         string
	header       map[string]string
	trailer      map[string]string
	status       int
	errorType    string // of the error body, when status is not 2xx
}

func (s apiStep) do(t *testing.T, h http.Handler) *httptest.ResponseRecorder {
	t.Helper()
	var body io.Reader = strings.NewReader(s.body)
	req := httptest.NewRequest(s.method, s.path, body)
	for k, v := range s.header {
		req.Header.Set(k, v)
	}
	if s.trailer != nil {
		req.Trailer = http.Header{}
		for k, v := range s.trailer {
			req.Trailer.Set(k, v)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != s.status {
		t.Fatalf("%s %s: status %d, want %d: %s", s.method, s.path, rec.Code, s.status, rec.Body)
	}
	if s.errorType != "" {
		var doc errorDoc
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.ErrorType != s.errorType || doc.ErrorMessage == "" {
			t.Fatalf("%s %s: body %s, want errorType %s", s.method, s.path, rec.Body, s.errorType)
		}
	}
	if rec.Code == http.StatusAccepted && rec.Body.String() != `{"status":"OK"}` {
		t.Fatalf("%s %s: 202 body %s", s.method, s.path, rec.Body)
	}
	return rec
}

func testCall(id string) *call {
	return &call{id: id, functionARN: "arn:aws:lambda:us-east-1:000000000000:function:f", payload: []byte(`{"a":1}`),
		traceID: "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0", timeout: time.Minute,
		log: &tail{}, delivered: make(chan struct{}), done: make(chan outcome, 1)}
}

const base = "/2018-06-01/runtime/"

// deliver hands c to a and takes it through /next as a runtime would.
func deliver(t *testing.T, a *api, c *call) *httptest.ResponseRecorder {
	t.Helper()
	a.calls <- c
	rec := apiStep{method: "GET", path: base + "invocation/next", status: 200}.do(t, a.handler())
	<-c.delivered
	return rec
}

func TestAPINext(t *testing.T) {
	a := newAPI()
	a.now = func() time.Time { return time.UnixMilli(1_700_000_000_000) }
	c := testCall("id-1")
	c.clientContext = `{"custom":{"k":"v"}}`
	rec := deliver(t, a, c)
	for k, want := range map[string]string{
		"Lambda-Runtime-Aws-Request-Id":       "id-1",
		"Lambda-Runtime-Deadline-Ms":          "1700000060000",
		"Lambda-Runtime-Invoked-Function-Arn": c.functionARN,
		"Lambda-Runtime-Trace-Id":             c.traceID,
		"Lambda-Runtime-Client-Context":       c.clientContext,
	} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if rec.Body.String() != `{"a":1}` {
		t.Errorf("body %s", rec.Body)
	}
}

func TestAPIStates(t *testing.T) {
	big := strings.Repeat("x", maxPayload+1)
	errBody := base64.StdEncoding.EncodeToString([]byte(`{"errorMessage":"read failed","errorType":"ReadError"}`))
	for _, tc := range []struct {
		name    string
		deliver bool // a call "id" is in progress first
		steps   []apiStep
		want    *outcome
	}{
		{"response", true, []apiStep{
			{method: "POST", path: base + "invocation/id/response", body: `"ok"`, status: 202},
			// Answered once: a second answer has nothing to answer.
			{method: "POST", path: base + "invocation/id/response", body: `"again"`, status: 403, errorType: "InvalidStateTransition"},
			{method: "POST", path: base + "invocation/id/error", body: `{}`, status: 403, errorType: "InvalidStateTransition"},
		}, &outcome{payload: []byte(`"ok"`)}},
		{"wrong id", true, []apiStep{
			{method: "POST", path: base + "invocation/other/response", body: `"ok"`, status: 400, errorType: "InvalidRequestID"},
		}, nil},
		{"response without invocation", false, []apiStep{
			{method: "POST", path: base + "invocation/id/response", body: `"ok"`, status: 403, errorType: "InvalidStateTransition"},
		}, nil},
		{"error document kept", true, []apiStep{
			{method: "POST", path: base + "invocation/id/error", body: `{"errorMessage":"m","errorType":"T","stackTrace":[]}`,
				header: map[string]string{"Lambda-Runtime-Function-Error-Type": "Runtime.T"}, status: 202},
		}, &outcome{payload: []byte(`{"errorMessage":"m","errorType":"T","stackTrace":[]}`), failed: true}},
		{"error not JSON", true, []apiStep{
			{method: "POST", path: base + "invocation/id/error", body: `it broke`,
				header: map[string]string{"Lambda-Runtime-Function-Error-Type": "Runtime.Crash"}, status: 202},
		}, &outcome{payload: []byte(`{"errorMessage":"it broke","errorType":"Runtime.Crash"}`), failed: true}},
		{"error empty", true, []apiStep{
			{method: "POST", path: base + "invocation/id/error", status: 202},
		}, &outcome{payload: []byte(`{"errorMessage":"","errorType":"Runtime.Unknown"}`), failed: true}},
		{"response too large", true, []apiStep{
			{method: "POST", path: base + "invocation/id/response", body: big, status: 413, errorType: "RequestEntityTooLarge"},
		}, &outcome{payload: []byte(`{"errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes).","errorType":"Function.ResponseSizeTooLarge"}`), failed: true}},
		{"trailer error", true, []apiStep{
			{method: "POST", path: base + "invocation/id/response", body: `partial`,
				trailer: map[string]string{"Lambda-Runtime-Function-Error-Type": "ReadError", "Lambda-Runtime-Function-Error-Body": errBody}, status: 202},
		}, &outcome{payload: []byte(`{"errorMessage":"read failed","errorType":"ReadError"}`), failed: true}},
		{"init error after init", true, []apiStep{
			{method: "POST", path: base + "init/error", body: `{}`, status: 403, errorType: "InvalidStateTransition"},
		}, nil},
		{"next while invoking", true, []apiStep{
			{method: "GET", path: base + "invocation/next", status: 403, errorType: "InvalidStateTransition"},
		}, nil},
		{"unknown path", false, []apiStep{
			{method: "GET", path: base + "invocation/id/response", status: 405},
			{method: "GET", path: "/2018-06-01/runtime/nope", status: 404},
			{method: "GET", path: "/2020-01-01/extension/register", status: 404},
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAPI()
			c := testCall("id")
			if tc.deliver {
				deliver(t, a, c)
			}
			for _, s := range tc.steps {
				s.do(t, a.handler())
			}
			select {
			case o := <-c.done:
				if tc.want == nil || string(o.payload) != string(tc.want.payload) || o.failed != tc.want.failed {
					t.Fatalf("outcome %+v (%s), want %+v", o, o.payload, tc.want)
				}
			default:
				if tc.want != nil {
					t.Fatal("no outcome")
				}
			}
		})
	}
}

func TestAPIInitError(t *testing.T) {
	a := newAPI()
	apiStep{method: "POST", path: base + "init/error", body: `{"errorMessage":"no db","errorType":"InitFailed"}`, status: 202}.do(t, a.handler())
	// Only the first is taken.
	apiStep{method: "POST", path: base + "init/error", body: `{}`, status: 403, errorType: "InvalidStateTransition"}.do(t, a.handler())
	o := <-a.initFailed
	if string(o.payload) != `{"errorMessage":"no db","errorType":"InitFailed"}` || !o.failed {
		t.Fatalf("%+v", o)
	}
}

// A late answer for an invocation that timed out is refused, not delivered.
func TestAPIAbandoned(t *testing.T) {
	a := newAPI()
	c := testCall("id")
	deliver(t, a, c)
	a.abandon(c)
	apiStep{method: "POST", path: base + "invocation/id/response", body: `"late"`, status: 403, errorType: "InvalidStateTransition"}.do(t, a.handler())
	if len(c.done) != 0 {
		t.Fatal("a late answer was delivered")
	}
}

// FuzzAPI sends arbitrary requests to a Runtime API in each state: it must
// never panic, answer only the statuses the API has, deliver at most one
// outcome per call, and never hold more than the payload limit.
func FuzzAPI(f *testing.F) {
	f.Add("POST", "invocation/id/response", []byte(`"ok"`), "", true)
	f.Add("POST", "invocation/id/error", []byte(`{"errorMessage":"x"}`), "Runtime.X", true)
	f.Add("POST", "init/error", []byte(`not json`), "", false)
	f.Add("GET", "invocation/next", []byte(nil), "", true)
	f.Add("POST", "invocation/%2e%2e/response", []byte(`{`), "\x00", true)
	f.Fuzz(func(t *testing.T, method, path string, body []byte, errType string, invoking bool) {
		a := newAPI()
		c := testCall("id")
		if invoking {
			deliver(t, a, c)
		} else {
			close(a.stop) // a /next must not wait
		}
		req, err := http.NewRequest(method, "http://127.0.0.1"+base+path, strings.NewReader(string(body)))
		if err != nil {
			return
		}
		req.Header.Set("Lambda-Runtime-Function-Error-Type", errType)
		rec := httptest.NewRecorder()
		a.handler().ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 202, 400, 403, 404, 405, 413, 500:
		case 301, 307, 308: // the mux cleaning a path
		default:
			t.Fatalf("status %d", rec.Code)
		}
		if len(c.done) > 1 {
			t.Fatal("two outcomes")
		}
		if len(c.done) == 1 {
			o := <-c.done
			if len(o.payload) > maxPayload+(64<<10) {
				t.Fatalf("outcome of %d bytes", len(o.payload))
			}
			if o.failed && !json.Valid(o.payload) {
				t.Fatalf("error document not JSON: %q", o.payload)
			}
		}
	})
}
