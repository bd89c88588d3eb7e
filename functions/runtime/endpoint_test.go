//go:build unix

package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spatehq/spate/functions"
)

func endpointConfig(url string) functions.Config {
	return functions.Config{
		Name:           "hook",
		ARN:            "arn:aws:lambda:us-east-1:000000000000:function:hook",
		Runtime:        functions.RuntimeHTTP,
		Timeout:        5 * time.Second,
		MemorySize:     128,
		RevisionID:     "r1",
		MaxConcurrency: 5,
		Endpoint:       url,
	}
}

func TestHTTPEndpoint(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json":
			http.Error(w, "bad request", http.StatusBadRequest)
		case string(body) == `"fail"`:
			http.Error(w, "it broke", http.StatusInternalServerError)
		case string(body) == `"slow"`:
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case string(body) == `"redirect"`:
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		default:
			fmt.Fprintf(w, `{"id":%q,"got":%s}`, r.Header.Get("Lambda-Runtime-Aws-Request-Id"), body)
		}
	}))
	defer srv.Close()
	defer close(release)
	m, _ := newManager(t)

	for _, tc := range []struct {
		name, event string
		timeout     time.Duration
		url         string
		want        *regexp.Regexp // the payload
		failed      bool
	}{
		{"2xx", `"hi"`, 0, srv.URL, regexp.MustCompile(`^\{"id":"[0-9a-f-]{36}","got":"hi"\}$`), false},
		{"5xx", `"fail"`, 0, srv.URL, regexp.MustCompile(`500 Internal Server Error: it broke","errorType":"Endpoint.HTTPStatus"`), true},
		{"redirect not followed", `"redirect"`, 0, srv.URL, regexp.MustCompile(`302 Found: ","errorType":"Endpoint.HTTPStatus"`), true},
		{"timeout", `"slow"`, 200 * time.Millisecond, srv.URL,
			regexp.MustCompile(`^\{"errorMessage":"\S+ [0-9a-f-]{36} Task timed out after \d+\.\d\d seconds"\}$`), true},
		{"unreachable", `"hi"`, 0, "http://127.0.0.1:1/", regexp.MustCompile(`"errorType":"Endpoint.Unreachable"`), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fn := endpointConfig(tc.url)
			if tc.timeout > 0 {
				fn.Timeout = tc.timeout
			}
			res, err := m.Execute(t.Context(), fn, functions.Invocation{Payload: []byte(tc.event), LogTail: true})
			if err != nil {
				t.Fatal(err)
			}
			if (res.FunctionError == "Unhandled") != tc.failed || !tc.want.Match(res.Payload) {
				t.Fatalf("FunctionError %q payload %s", res.FunctionError, res.Payload)
			}
			if !strings.Contains(string(res.LogTail), "REPORT RequestId: ") {
				t.Fatalf("log tail:\n%s", res.LogTail)
			}
		})
	}
}

func TestHTTPEndpointConcurrency(t *testing.T) {
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	}))
	defer srv.Close()
	m, _ := newManager(t)
	fn := endpointConfig(srv.URL)
	fn.MaxConcurrency = 1
	done := make(chan error, 1)
	go func() {
		_, err := m.Execute(context.Background(), fn, functions.Invocation{Payload: []byte(`{}`)})
		done <- err
	}()
	<-entered
	var terr *ThrottleError
	if _, err := m.Execute(t.Context(), fn, functions.Invocation{Payload: []byte(`{}`)}); !errors.As(err, &terr) || terr.Reason != ReasonReserved {
		t.Fatalf("second invocation: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
