package awsproto

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/spatehq/spate/apierr"
)

func TestHandlerServes(t *testing.T) {
	got := make(chan *configureTarget, 1)
	h := newTestHandler(t, testService(t, "", got))
	r := send(t, h, http.MethodPost, "Test_20200101.Put", `{"Name":"abc","Data":"AAEC"}`)
	if r.Status != 200 || r.Raw != `{"Len":3,"Name":"abc"}` {
		t.Errorf("Put = %d %s", r.Status, r.Raw)
	}
	r = send(t, h, http.MethodPost, "Test_20200101.Configure", `{"Name":"abc","Destination":{"Bucket":"b"}}`)
	if r.Status != 200 || r.Raw != `{"OK":true}` {
		t.Errorf("Configure = %d %s", r.Status, r.Raw)
	}
	if in := <-got; in.Name != "abc" || in.Destination.Bucket != "b" {
		t.Errorf("Configure received %+v", in)
	}
}

func TestHandlerErrors(t *testing.T) {
	h := newTestHandler(t, testService(t, "", nil))
	tests := []struct {
		name, method, target, body string
		wantStatus                 int
		wantType, wantMsg          string
	}{
		{"GET", http.MethodGet, "", "", 405, "UnknownOperationException", "the Test API accepts only POST / (got GET /)"},
		{"no target", http.MethodPost, "", "{}", 400, "UnknownOperationException", "missing X-Amz-Target header: expected Test_20200101.<Action>"},
		{"other service", http.MethodPost, "Other_1.Put", "{}", 400, "UnknownOperationException", `unknown operation "Other_1.Put": expected X-Amz-Target Test_20200101.<Action>`},
		{"unserved", http.MethodPost, "Test_20200101.Unserved", "{}", 400, "UnknownOperationException", "Unserved is a Test Service action that is not supported by Spate yet"},
		{"unknown", http.MethodPost, "Test_20200101.Nope", "{}", 400, "UnknownOperationException", `unknown operation "Nope" (no Test Service action has that name)`},
		{"bad JSON", http.MethodPost, "Test_20200101.Ping", "{", 400, "SerializationException", "the request body is not valid JSON: unexpected end of JSON input (at byte 1)"},
		{"unsupported member", http.MethodPost, "Test_20200101.Configure", `{"Name":"a","Tags":[{"Key":"a","Color":"b"}]}`, 400, "InvalidArgumentException", "Tags[0].Color is not supported by Spate; leave it out"},
		{"too large", http.MethodPost, "Test_20200101.Ping", `{"x":"` + strings.Repeat("x", 2000) + `"}`, 413, "InvalidArgumentException", "request body exceeds 1024 bytes, the most this server accepts (hint)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, h, tt.method, tt.target, tt.body)
			if r.Status != tt.wantStatus || r.ErrType() != tt.wantType || r.Message() != tt.wantMsg {
				t.Errorf("got %d %s\nwant %d %s %q", r.Status, r.Raw, tt.wantStatus, tt.wantType, tt.wantMsg)
			}
		})
	}
	if _, err := h.Decode("Unserved", []byte("{}")); apierr.CodeOf(err) != apierr.UnknownOperation {
		t.Errorf("Decode of an unserved action = %v", err)
	}
}

func TestInternalFailuresAreLoggedNotShown(t *testing.T) {
	var mu sync.Mutex
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), nil))
	m := loadTestModel(t)
	h := newTestHandler(t, Service{Model: m, Name: "T", ShortName: "T", MaxBodyBytes: 1 << 10, Operations: []*Operation{
		Action("Ping", func(context.Context, *pingInput) (ok, error) { return ok{}, errors.New("disk on fire") }),
		Action("Put", func(context.Context, *putInput) (ok, error) { panic("bug") }),
	}}, WithLogger(logger))
	for _, tc := range []struct{ target, body, inLog string }{
		{"Test_20200101.Ping", "{}", "disk on fire"},
		{"Test_20200101.Put", `{"Name":"a","Data":"AAA="}`, "panic serving Put: bug"},
	} {
		r := send(t, h, http.MethodPost, tc.target, tc.body)
		if r.Status != 500 || r.ErrType() != "InternalFailure" || strings.Contains(r.Raw, tc.inLog) {
			t.Errorf("%s: got %d %s", tc.target, r.Status, r.Raw)
		}
		mu.Lock()
		if !strings.Contains(logs.String(), tc.inLog) || !strings.Contains(logs.String(), r.Header.Get("X-Amzn-Requestid")) {
			t.Errorf("%s: log lacks the error or the request ID: %s", tc.target, logs.String())
		}
		mu.Unlock()
	}
}

// TestServiceUnavailableIs503: the disk-full refusal (either API's name for
// it) is a 503, which the SDKs and the CLI retry, with its message shown.
func TestServiceUnavailableIs503(t *testing.T) {
	for _, code := range []apierr.Code{apierr.ServiceUnavailable, apierr.ServiceUnavailableException} {
		m := loadTestModel(t)
		h := newTestHandler(t, Service{Model: m, Name: "T", ShortName: "T", MaxBodyBytes: 1 << 10, Operations: []*Operation{
			Action("Ping", func(context.Context, *pingInput) (ok, error) {
				return ok{}, fmt.Errorf("put: %w", apierr.New(code, "the disk is full"))
			}),
		}})
		r := send(t, h, http.MethodPost, "Test_20200101.Ping", "{}")
		if r.Status != http.StatusServiceUnavailable || r.ErrType() != string(code) || !strings.Contains(r.Raw, "the disk is full") {
			t.Errorf("%s: got %d %s", code, r.Status, r.Raw)
		}
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestNewHandlerRefusesBadServices(t *testing.T) {
	m := loadTestModel(t)
	ping := Action("Ping", func(context.Context, *pingInput) (ok, error) { return ok{}, nil })
	tests := []struct {
		name string
		svc  Service
		want string
	}{
		{"no model", Service{Name: "T", ShortName: "T", MaxBodyBytes: 1}, "needs a Model"},
		{"no body limit", Service{Model: m, Name: "T", ShortName: "T"}, "positive MaxBodyBytes"},
		{"other model", Service{Model: m, TargetPrefix: "Kinesis_20131202", Name: "T", ShortName: "T", MaxBodyBytes: 1},
			`the service model has target prefix "Test_20200101", want "Kinesis_20131202"`},
		{"action not in the model", Service{Model: m, Name: "T", ShortName: "T", MaxBodyBytes: 1,
			Operations: []*Operation{Action("Bogus", func(context.Context, *pingInput) (ok, error) { return ok{}, nil })}}, "not in the service model"},
		{"action without input", Service{Model: m, Name: "T", ShortName: "T", MaxBodyBytes: 1,
			Operations: []*Operation{Action("NoInput", func(context.Context, *pingInput) (ok, error) { return ok{}, nil })}}, "has no input shape"},
		{"served twice", Service{Model: m, Name: "T", ShortName: "T", MaxBodyBytes: 1, Operations: []*Operation{ping, ping}}, "served twice"},
		{"request type mismatch", Service{Model: m, Name: "T", ShortName: "T", MaxBodyBytes: 1,
			Operations: []*Operation{Action("Put", func(context.Context, *pingInput) (ok, error) { return ok{}, nil })}}, "member Name has no field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewHandler(tt.svc)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewHandler error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestBodyWithoutContentLength(t *testing.T) {
	h := newTestHandler(t, testService(t, "", nil))
	req := httptest.NewRequest(http.MethodPost, "/", io.MultiReader(strings.NewReader(`{"x":"`+strings.Repeat("x", 2000)+`"}`)))
	req.ContentLength = -1
	req.Header.Set("X-Amz-Target", "Test_20200101.Ping")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d, want 413", rec.Code)
	}
}
