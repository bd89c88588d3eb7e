package lambdaapi

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/functions"
	"github.com/spatehq/spate/functions/esm"
	"github.com/spatehq/spate/shard"
)

// echoExec answers each invocation with its payload; "fail" is a
// function error.
type echoExec struct{}

func (echoExec) Execute(_ context.Context, _ functions.Config, inv functions.Invocation) (functions.Result, error) {
	if string(inv.Payload) == `"fail"` {
		return functions.Result{FunctionError: "Unhandled", Payload: []byte(`{"errorMessage":"boom","errorType":"Error"}`)}, nil
	}
	return functions.Result{Payload: inv.Payload, LogTail: []byte("START\nEND\n")}, nil
}
func (echoExec) Retire(string) {}
func (echoExec) Close() error  { return nil }

func newTestHandler(t testing.TB, opts ...Option) (*Handler, *prometheus.Registry) {
	t.Helper()
	dir := t.TempDir()
	st, err := shard.Open(filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	svc, err := functions.New(st, echoExec{}, functions.WithCodeDir(filepath.Join(dir, "functions")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	reg := prometheus.NewRegistry()
	h, err := NewHandler(svc, append([]Option{WithRegisterer(reg)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return h, reg
}

func testZip(t testing.TB) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	hd := &zip.FileHeader{Name: "bootstrap"}
	hd.SetMode(0o755)
	w, _ := zw.CreateHeader(hd)
	_, _ = w.Write([]byte("#!/bin/sh\n"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func do(h http.Handler, method, target, body string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func createBody(t testing.TB, name string) string {
	raw, _ := json.Marshal(map[string]any{"FunctionName": name, "Runtime": "provided.al2023",
		"Role": "arn:aws:iam::000000000000:role/r", "Handler": "bootstrap",
		"Code": map[string]any{"ZipFile": testZip(t)}, "Tags": map[string]string{"a": "1"}})
	return string(raw)
}

const arn = "arn:aws:lambda:us-east-1:000000000000:function:fn"

func TestRoutes(t *testing.T) {
	h, reg := newTestHandler(t)
	if w := do(h, "POST", "/2015-03-31/functions", createBody(t, "fn")); w.Code != 201 {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	esc := "/2015-03-31/functions/" + strings.ReplaceAll(arn, ":", "%3A")
	cases := []struct {
		name, method, target, body string
		hdr                        []string
		status                     int
		want                       string // in the body
		header                     []string
	}{
		{"get", "GET", "/2015-03-31/functions/fn", "", nil, 200, `"Tags":{"a":"1"}`, nil},
		{"get by escaped arn", "GET", esc, "", nil, 200, `"FunctionName":"fn"`, nil},
		{"get latest", "GET", "/2015-03-31/functions/fn?Qualifier=%24LATEST", "", nil, 200, `"Version":"$LATEST"`, nil},
		{"get version", "GET", "/2015-03-31/functions/fn?Qualifier=1", "", nil, 404, `"Message":"Function not found`, []string{"X-Amzn-ErrorType", "ResourceNotFoundException"}},
		{"configuration", "GET", "/2015-03-31/functions/fn/configuration", "", nil, 200, `"State":"Active"`, nil},
		{"list", "GET", "/2015-03-31/functions/?MaxItems=1", "", nil, 200, `"Functions":[{`, nil},
		{"list bad max", "GET", "/2015-03-31/functions?MaxItems=0", "", nil, 400, `MaxItems`, nil},
		{"update config", "PUT", "/2015-03-31/functions/fn/configuration", `{"Timeout":30}`, nil, 200, `"Timeout":30`, nil},
		{"update config bad type", "PUT", "/2015-03-31/functions/fn/configuration", `{"Timeout":"x"}`, nil, 400, `Timeout: expected`, []string{"X-Amzn-ErrorType", "InvalidParameterValueException"}},
		{"update config stale", "PUT", "/2015-03-31/functions/fn/configuration", `{"RevisionId":"x"}`, nil, 412, `Revision Id`, []string{"X-Amzn-ErrorType", "PreconditionFailedException"}},
		{"update code s3", "PUT", "/2015-03-31/functions/fn/code", `{"S3Bucket":"b","S3Key":"k"}`, nil, 400, `ZipFile only`, nil},
		{"put concurrency", "PUT", "/2017-10-31/functions/fn/concurrency", `{"ReservedConcurrentExecutions":2}`, nil, 200, `{"ReservedConcurrentExecutions":2}`, nil},
		{"get concurrency", "GET", "/2019-09-30/functions/fn/concurrency", "", nil, 200, `{"ReservedConcurrentExecutions":2}`, nil},
		{"delete concurrency", "DELETE", "/2017-10-31/functions/fn/concurrency", "", nil, 204, ``, nil},
		{"get no concurrency", "GET", "/2019-09-30/functions/fn/concurrency", "", nil, 200, `{}`, nil},
		{"tag", "POST", "/2017-03-31/tags/" + arn, `{"Tags":{"b":"2"}}`, nil, 204, ``, nil},
		{"untag", "DELETE", "/2017-03-31/tags/" + arn + "?tagKeys=a&tagKeys=x", "", nil, 204, ``, nil},
		{"list tags", "GET", "/2017-03-31/tags/" + arn, "", nil, 200, `{"Tags":{"b":"2"}}`, nil},
		{"account", "GET", "/2016-08-19/account-settings/", "", nil, 200, `"FunctionCount":1`, nil},
		{"invoke", "POST", "/2015-03-31/functions/fn/invocations", `{"k":1}`, []string{"X-Amz-Log-Type", "Tail"}, 200, `{"k":1}`,
			[]string{"X-Amz-Executed-Version", "$LATEST", "X-Amz-Log-Result", base64.StdEncoding.EncodeToString([]byte("START\nEND\n"))}},
		{"invoke error", "POST", "/2015-03-31/functions/fn/invocations", `"fail"`, nil, 200, `"errorMessage":"boom"`, []string{"X-Amz-Function-Error", "Unhandled"}},
		{"invoke event", "POST", "/2015-03-31/functions/fn/invocations", `{}`, []string{"X-Amz-Invocation-Type", "Event"}, 202, ``, nil},
		{"invoke dry run", "POST", "/2015-03-31/functions/fn/invocations", `{}`, []string{"X-Amz-Invocation-Type", "DryRun"}, 204, ``, nil},
		{"invoke not json", "POST", "/2015-03-31/functions/fn/invocations", `{`, nil, 400, `Could not parse`, []string{"X-Amzn-ErrorType", "InvalidRequestContentException"}},
		{"invoke too large", "POST", "/2015-03-31/functions/fn/invocations", `"` + strings.Repeat("x", maxInvokeBody) + `"`, nil, 413, `smaller than`, []string{"X-Amzn-ErrorType", "RequestTooLargeException"}},
		{"invoke event too large", "POST", "/2015-03-31/functions/fn/invocations", `"` + strings.Repeat("x", functions.MaxAsyncPayload) + `"`, []string{"X-Amz-Invocation-Type", "Event"}, 413, `smaller than`, nil},
		{"invoke async", "POST", "/2014-11-13/functions/fn/invoke-async/", `{}`, nil, 202, `{"Status":202}`, nil},
		{"unknown", "GET", "/2015-03-31/nothing", "", nil, 404, `not an action`, []string{"X-Amzn-ErrorType", "UnknownOperationException"}},
		{"wrong method", "PATCH", "/2015-03-31/functions/fn", "", nil, 404, `not an action`, nil},
		{"mappings unwired", "GET", "/2015-03-31/event-source-mappings/", "", nil, 404, `not served`, nil},
		{"deep json", "PUT", "/2015-03-31/functions/fn/configuration", strings.Repeat("[", 100), nil, 400, `deeper than 16`, nil},
		{"delete qualified", "DELETE", "/2015-03-31/functions/fn?Qualifier=%24LATEST", "", nil, 400, `cannot be deleted`, nil},
		{"delete", "DELETE", "/2015-03-31/functions/fn", "", nil, 204, ``, nil},
		{"delete again", "DELETE", "/2015-03-31/functions/fn", "", nil, 404, `Function not found`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := do(h, tc.method, tc.target, tc.body, tc.hdr...)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) {
				t.Fatalf("%d %s, want %d with %q", w.Code, clip(w.Body.String()), tc.status, tc.want)
			}
			for i := 0; i+1 < len(tc.header); i += 2 {
				if got := w.Header().Get(tc.header[i]); got != tc.header[i+1] {
					t.Fatalf("%s: %q, want %q", tc.header[i], got, tc.header[i+1])
				}
			}
			if w.Code >= 400 {
				var body map[string]string
				if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body["Type"] != "User" {
					t.Fatalf("error body %s", w.Body)
				}
			}
		})
	}
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || mfs[0].GetName() != "spate_api_request_duration_seconds" || len(mfs[0].GetMetric()) < 10 {
		t.Fatalf("metrics %v %v", mfs, err)
	}
}

// TestCreateBodyLimit: a body over the upload limit is refused before it
// is read whole.
func TestCreateBodyLimit(t *testing.T) {
	h, _ := newTestHandler(t)
	r := httptest.NewRequest("POST", "/2015-03-31/functions", io.LimitReader(zeroReader{}, maxCodeBody+1))
	r.ContentLength = maxCodeBody + 1
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 413 || w.Header().Get("X-Amzn-ErrorType") != "RequestTooLargeException" {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// fakeMappings records what the face hands the esm engine.
type fakeMappings struct {
	create esm.CreateInput
	update esm.UpdateInput
	list   esm.ListInput
}

func (f *fakeMappings) Create(_ context.Context, in esm.CreateInput) (esm.Mapping, error) {
	f.create = in
	return esm.Mapping{UUID: "u1", State: "Creating"}, nil
}
func (f *fakeMappings) Get(_ context.Context, uuid string) (esm.Mapping, error) {
	if uuid != "u1" {
		return esm.Mapping{}, apierr.New(apierr.ResourceNotFound, "The resource you requested does not exist.")
	}
	return esm.Mapping{UUID: uuid}, nil
}
func (f *fakeMappings) List(_ context.Context, in esm.ListInput) (esm.ListOutput, error) {
	f.list = in
	return esm.ListOutput{}, nil
}
func (f *fakeMappings) Update(_ context.Context, in esm.UpdateInput) (esm.Mapping, error) {
	f.update = in
	return esm.Mapping{UUID: in.UUID}, nil
}
func (f *fakeMappings) Delete(_ context.Context, uuid string) (esm.Mapping, error) {
	return esm.Mapping{UUID: uuid, State: "Deleting"}, nil
}

func TestMappingRoutes(t *testing.T) {
	m := &fakeMappings{}
	h, _ := newTestHandler(t, WithMappings(m))
	w := do(h, "POST", "/2015-03-31/event-source-mappings/", `{"EventSourceArn":"arn:aws:kinesis:us-east-1:000000000000:stream/s","FunctionName":"fn","BatchSize":10,"StartingPosition":"LATEST"}`)
	if w.Code != 202 || m.create.BatchSize == nil || *m.create.BatchSize != 10 || m.create.FunctionName != "fn" {
		t.Fatalf("create: %d %s %+v", w.Code, w.Body, m.create)
	}
	w = do(h, "POST", "/2015-03-31/event-source-mappings/", `{"FunctionName":"fn","Queues":["q"]}`)
	if w.Code != 400 || !strings.Contains(w.Body.String(), `Queues`) {
		t.Fatalf("unserved member: %d %s", w.Code, w.Body)
	}
	if w = do(h, "GET", "/2015-03-31/event-source-mappings/u1", ""); w.Code != 200 {
		t.Fatalf("get: %d", w.Code)
	}
	if w = do(h, "GET", "/2015-03-31/event-source-mappings/u2", ""); w.Code != 404 {
		t.Fatalf("get missing: %d", w.Code)
	}
	w = do(h, "GET", "/2015-03-31/event-source-mappings/?FunctionName=fn&MaxItems=5&Marker=m", "")
	if w.Code != 200 || m.list.FunctionName != "fn" || m.list.MaxItems != 5 || m.list.Marker != "m" || !strings.Contains(w.Body.String(), `"EventSourceMappings":[]`) {
		t.Fatalf("list: %d %s %+v", w.Code, w.Body, m.list)
	}
	w = do(h, "PUT", "/2015-03-31/event-source-mappings/u1", `{"Enabled":false}`)
	if w.Code != 202 || m.update.UUID != "u1" || m.update.Enabled == nil || *m.update.Enabled {
		t.Fatalf("update: %d %+v", w.Code, m.update)
	}
	if w = do(h, "DELETE", "/2015-03-31/event-source-mappings/u1", ""); w.Code != 202 || !strings.Contains(w.Body.String(), "Deleting") {
		t.Fatalf("delete: %d %s", w.Code, w.Body)
	}
}

// fakeGuard refuses unsigned requests and records what it authorized.
type fakeGuard struct {
	actions, resources []string
}

func (g *fakeGuard) AuthenticateHTTP(ctx context.Context, r *http.Request, body []byte, service string) (context.Context, error) {
	if service != SigningName {
		return ctx, apierr.New(apierr.InvalidSignature, "wrong service %s", service)
	}
	if r.Header.Get("Authorization") == "" {
		return ctx, apierr.New(apierr.MissingAuthenticationToken, "Missing Authentication Token")
	}
	return ctx, nil
}

func (g *fakeGuard) Authorize(ctx context.Context, action string, resources ...string) error {
	g.actions = append(g.actions, action)
	g.resources = append(g.resources, resources...)
	if action == "lambda:DeleteFunction" {
		return apierr.New(apierr.AccessDenied, "not allowed")
	}
	return nil
}

func (g *fakeGuard) ARN(service, resource string) string {
	return "arn:aws:" + service + ":us-east-1:000000000000:" + resource
}

func TestGuard(t *testing.T) {
	g := &fakeGuard{}
	h, _ := newTestHandler(t, WithGuard(g))
	if w := do(h, "GET", "/2015-03-31/functions", ""); w.Code != 403 || w.Header().Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" {
		t.Fatalf("unsigned: %d %v", w.Code, w.Header())
	}
	if w := do(h, "GET", "/2015-03-31/functions/"+arn+":$LATEST", "", "Authorization", "x"); w.Code != 404 {
		t.Fatalf("signed: %d %s", w.Code, w.Body)
	}
	if w := do(h, "DELETE", "/2015-03-31/functions/fn", "", "Authorization", "x"); w.Code != 403 || w.Header().Get("X-Amzn-ErrorType") != "AccessDeniedException" {
		t.Fatalf("denied: %d %s", w.Code, w.Body)
	}
	if w := do(h, "POST", "/2015-03-31/functions", createBody(t, "fn"), "Authorization", "x"); w.Code != 201 {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	if strings.Join(g.actions, ",") != "lambda:GetFunction,lambda:DeleteFunction,lambda:CreateFunction" ||
		len(g.resources) != 3 || g.resources[0] != arn || g.resources[1] != arn || g.resources[2] != arn {
		t.Fatalf("authorized %v on %v", g.actions, g.resources)
	}
}
