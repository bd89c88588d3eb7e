package analyticsapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spatehq/spate/analytics"
	"github.com/spatehq/spate/analytics/query"
	"github.com/spatehq/spate/shard"
)

// testTimeout bounds a test's waits; generous, so slow machines pass.
const testTimeout = 30 * time.Second

// fixture is a store with streams "events" and "out", an analytics.Service
// that checkpoints often, and the Handler served by httptest.
type fixture struct {
	t       *testing.T
	store   *shard.Store
	svc     *analytics.Service
	handler *Handler
	srv     *httptest.Server
}

func newFixture(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	store, err := shard.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range []string{"events", "out"} {
		if err := store.CreateStream(ctx, shard.CreateStreamInput{Name: name, ShardCount: 1}); err != nil {
			t.Fatal(err)
		}
	}
	svc, err := analytics.New(ctx, store, analytics.WithCheckpointInterval(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandler(svc, store, opts...)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		h.Close()
		srv.Close()
		_ = svc.Close()
		_ = store.Close()
	})
	return &fixture{t: t, store: store, svc: svc, handler: h, srv: srv}
}

// do sends a request and returns the status and the decoded JSON body
// (nil for an empty body).
func (f *fixture) do(method, path, body string) (int, map[string]any) {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	if len(b) == 0 {
		return resp.StatusCode, nil
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Fatalf("%s %s: Content-Type %q, body %s", method, path, ct, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		f.t.Fatalf("%s %s: body %s: %v", method, path, b, err)
	}
	return resp.StatusCode, m
}

func (f *fixture) put(records ...string) {
	f.t.Helper()
	entries := make([]shard.Entry, len(records))
	for i, r := range records {
		entries[i] = shard.Entry{PartitionKey: fmt.Sprint(i), Data: []byte(r)}
	}
	if _, err := f.store.Append(context.Background(), "events", entries); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) waitFor(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			f.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func body(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestLifecycle(t *testing.T) {
	f := newFixture(t)
	sql := `INSERT INTO out SELECT sym, price FROM events WHERE price > 10`

	status, d := f.do("POST", "/v1/applications", body(map[string]any{"name": "big", "sql": sql}))
	if status != http.StatusCreated || d["name"] != "big" || d["source"] != "events" || d["target"] != "out" {
		t.Fatalf("create: %d %v", status, d)
	}
	if cols := fmt.Sprint(d["columns"]); cols != "[sym price]" {
		t.Errorf("columns = %s", cols)
	}

	status, d = f.do("GET", "/v1/applications/big", "")
	if status != http.StatusOK || d["sql"] != sql {
		t.Fatalf("describe: %d %v", status, d)
	}
	f.put(`{"sym":"A","price":5}`, `{"sym":"B","price":11}`)
	f.waitFor("rows counted", func() bool {
		_, d := f.do("GET", "/v1/applications/big", "")
		return d["rows_in"] == 2.0 && d["rows_out"] == 1.0
	})

	status, l := f.do("GET", "/v1/applications", "")
	apps, _ := l["applications"].([]any)
	if status != http.StatusOK || len(apps) != 1 || apps[0].(map[string]any)["name"] != "big" {
		t.Fatalf("list: %d %v", status, l)
	}

	status, d = f.do("POST", "/v1/applications/big/stop", "")
	if status != http.StatusOK || d["status"] != analytics.StatusStopped {
		t.Fatalf("stop: %d %v", status, d)
	}
	status, d = f.do("POST", "/v1/applications/big/start", "")
	if status != http.StatusOK || (d["status"] != analytics.StatusRunning && d["status"] != analytics.StatusStarting) {
		t.Fatalf("start: %d %v", status, d)
	}
	status, d = f.do("DELETE", "/v1/applications/big", "")
	if status != http.StatusNoContent || d != nil {
		t.Fatalf("delete: %d %v", status, d)
	}
	status, l = f.do("GET", "/v1/applications", "")
	if status != http.StatusOK || fmt.Sprint(l["applications"]) != "[]" {
		t.Fatalf("list after delete: %d %v", status, l)
	}
}

func TestErrors(t *testing.T) {
	f := newFixture(t)
	if status, _ := f.do("POST", "/v1/applications", body(map[string]any{"name": "dup", "sql": "INSERT INTO out SELECT v FROM events"})); status != http.StatusCreated {
		t.Fatalf("create dup: %d", status)
	}
	tests := []struct {
		name         string
		method, path string
		body         string
		status       int
		typ          string
		inMsg        string
		line, column float64 // SQL errors
	}{
		{"duplicate", "POST", "/v1/applications", body(map[string]any{"name": "dup", "sql": "SELECT v FROM events"}),
			http.StatusConflict, "ResourceInUseException", "dup", 0, 0},
		{"missing source", "POST", "/v1/applications", body(map[string]any{"name": "x", "sql": "SELECT v FROM nope"}),
			http.StatusNotFound, "ResourceNotFoundException", "nope", 0, 0},
		{"bad name", "POST", "/v1/applications", body(map[string]any{"name": "a b", "sql": "SELECT v FROM events"}),
			http.StatusBadRequest, "InvalidArgumentException", "a b", 0, 0},
		{"sql error on create", "POST", "/v1/applications", body(map[string]any{"name": "x", "sql": "SELECT v\nFROM events WHERE \"v\" = 1"}),
			http.StatusBadRequest, "InvalidArgumentException", "line 2", 2, 0},
		{"sql error on validate", "POST", "/v1/validate", body(map[string]any{"sql": "SELECT COUNT(*) FROM events"}),
			http.StatusBadRequest, "InvalidArgumentException", "line 1", 1, 0},
		{"not json", "POST", "/v1/validate", "{", http.StatusBadRequest, "SerializationException", "JSON", 0, 0},
		{"unknown field", "POST", "/v1/validate", `{"query":"SELECT 1"}`, http.StatusBadRequest, "SerializationException", "query", 0, 0},
		{"two objects", "POST", "/v1/validate", `{"sql":"x"} {}`, http.StatusBadRequest, "SerializationException", "one JSON object", 0, 0},
		// Issue 11, defect 5's kin: encoding/json would read these as U+FFFD.
		{"sql not UTF-8", "POST", "/v1/validate", "{\"sql\":\"SELECT '\xff' AS v FROM events\"}", http.StatusBadRequest, "InvalidArgumentException", "'sql'", 0, 0},
		{"name lone surrogate", "POST", "/v1/applications", `{"name":"\ud800","sql":"SELECT v FROM events"}`, http.StatusBadRequest, "InvalidArgumentException", "unpaired UTF-16 surrogate", 0, 0},
		{"too big", "POST", "/v1/validate", body(map[string]any{"sql": strings.Repeat("x", maxBodyBytes)}),
			http.StatusRequestEntityTooLarge, "InvalidArgumentException", "bytes", 0, 0},
		{"describe missing", "GET", "/v1/applications/nope", "", http.StatusNotFound, "ResourceNotFoundException", "nope", 0, 0},
		{"stop missing", "POST", "/v1/applications/nope/stop", "", http.StatusNotFound, "ResourceNotFoundException", "nope", 0, 0},
		{"start missing", "POST", "/v1/applications/nope/start", "", http.StatusNotFound, "ResourceNotFoundException", "nope", 0, 0},
		{"delete missing", "DELETE", "/v1/applications/nope", "", http.StatusNotFound, "ResourceNotFoundException", "nope", 0, 0},
		{"results missing", "GET", "/v1/applications/nope/results", "", http.StatusNotFound, "ResourceNotFoundException", "nope", 0, 0},
		{"results of an insert", "GET", "/v1/applications/dup/results", "", http.StatusBadRequest, "InvalidArgumentException", "INSERT INTO", 0, 0},
		{"schema missing stream", "GET", "/v1/streams/nope/schema", "", http.StatusNotFound, "ResourceNotFoundException", "nope", 0, 0},
		{"schema bad limit", "GET", "/v1/streams/events/schema?limit=ten", "", http.StatusBadRequest, "InvalidArgumentException", "ten", 0, 0},
		{"schema zero limit", "GET", "/v1/streams/events/schema?limit=0", "", http.StatusBadRequest, "InvalidArgumentException", "limit", 0, 0},
		{"unknown route", "GET", "/v1/nothing", "", http.StatusNotFound, "UnknownOperationException", "/v1/nothing", 0, 0},
		{"wrong method", "PUT", "/v1/applications", "", http.StatusNotFound, "UnknownOperationException", "PUT", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, e := f.do(tt.method, tt.path, tt.body)
			msg, _ := e["message"].(string)
			if status != tt.status || e["__type"] != tt.typ || !strings.Contains(msg, tt.inMsg) {
				t.Fatalf("got %d %v, want %d %s with %q", status, e, tt.status, tt.typ, tt.inMsg)
			}
			if tt.line != 0 {
				if e["line"] != tt.line || e["column"] == nil || e["column"].(float64) < 1 {
					t.Errorf("position: line %v column %v, want line %v", e["line"], e["column"], tt.line)
				}
			} else if _, ok := e["line"]; ok {
				t.Errorf("a non-SQL error has a line: %v", e)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	f := newFixture(t)
	status, d := f.do("POST", "/v1/validate", body(map[string]any{"sql": "SET emit = 'final';\nSELECT sym, COUNT(*) AS n FROM events GROUP BY sym, TUMBLE(ts, INTERVAL '1' MINUTE)"}))
	if status != http.StatusOK || d["source"] != "events" || d["target"] != nil && d["target"] != "" || fmt.Sprint(d["columns"]) != "[sym n]" {
		t.Fatalf("validate: %d %v", status, d)
	}
	// Validating creates nothing.
	if _, l := f.do("GET", "/v1/applications", ""); fmt.Sprint(l["applications"]) != "[]" {
		t.Fatalf("validate created %v", l)
	}
}

func TestSchema(t *testing.T) {
	f := newFixture(t)
	f.put(`{"sym":"A","price":5.5,"at":"2026-11-22T03:00:00.000Z"}`, `{"sym":"B","price":11,"at":"2026-11-22T03:00:01.000Z","q":{"bid":1}}`)
	status, s := f.do("GET", "/v1/streams/events/schema?limit=10", "")
	if status != http.StatusOK || s["stream"] != "events" || s["sampled"] != 2.0 {
		t.Fatalf("schema: %d %v", status, s)
	}
	var got []string
	for _, c := range s["columns"].([]any) {
		c := c.(map[string]any)
		got = append(got, fmt.Sprintf("%s %s %s", c["name"], c["type"], c["expr"]))
	}
	want := "[sym VARCHAR sym price DOUBLE price at TIMESTAMP at q.bid BIGINT q->>'$.bid']"
	if fmt.Sprint(got) != want {
		t.Errorf("columns = %v, want %s", got, want)
	}
}

// sse reads Server-Sent Events.
type sse struct {
	t  *testing.T
	br *bufio.Reader
}

// next returns the next event's name and data, skipping comments.
func (s *sse) next() (event, data string) {
	s.t.Helper()
	for {
		line, err := s.br.ReadString('\n')
		if err != nil {
			s.t.Fatalf("read event: %v (have %q %q)", err, event, data)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "" && event != "":
			return event, data
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		}
	}
}

func (f *fixture) openResults(ctx context.Context, name string) (*http.Response, *sse) {
	f.t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", f.srv.URL+"/v1/applications/"+name+"/results", nil)
	if err != nil {
		f.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(resp.Body)
		f.t.Fatalf("results: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	return resp, &sse{t: f.t, br: bufio.NewReader(resp.Body)}
}

func TestResultsStream(t *testing.T) {
	f := newFixture(t, WithKeepAlive(5*time.Millisecond))
	status, _ := f.do("POST", "/v1/applications", body(map[string]any{
		"name": "adhoc", "sql": "SELECT sym, price * 2 AS doubled FROM events WHERE sym LIKE 'A%'", "temporary": true,
	}))
	if status != http.StatusCreated {
		t.Fatalf("create: %d", status)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, events := f.openResults(ctx, "adhoc")
	defer resp.Body.Close()
	if ev, data := events.next(); ev != "columns" || data != `["sym","doubled"]` {
		t.Fatalf("first event %s %s", ev, data)
	}
	f.put(`{"sym":"AAPL","price":1.5}`, `{"sym":"MSFT","price":2}`, `{"sym":"AMZN","price":3}`)
	var rows []string
	for len(rows) < 2 {
		ev, data := events.next()
		if ev != "row" {
			t.Fatalf("event %s %s, want a row", ev, data)
		}
		rows = append(rows, data)
	}
	if want := `[{"sym":"AAPL","doubled":3} {"sym":"AMZN","doubled":6}]`; fmt.Sprint(rows) != want {
		t.Fatalf("rows %v, want %s", rows, want)
	}
	// The client leaves: the temporary application goes with it.
	cancel()
	f.waitFor("the temporary application to go", func() bool {
		status, _ := f.do("GET", "/v1/applications/adhoc", "")
		return status == http.StatusNotFound
	})
}

func TestCloseEndsResults(t *testing.T) {
	f := newFixture(t)
	if status, _ := f.do("POST", "/v1/applications", body(map[string]any{"name": "sel", "sql": "SELECT sym FROM events"})); status != http.StatusCreated {
		t.Fatalf("create: %d", status)
	}
	resp, events := f.openResults(context.Background(), "sel")
	defer resp.Body.Close()
	if ev, _ := events.next(); ev != "columns" {
		t.Fatalf("first event %s", ev)
	}
	f.handler.Close()
	if rest, err := io.ReadAll(resp.Body); err != nil || len(bytes.TrimSpace(rest)) != 0 && !bytes.HasPrefix(rest, []byte(":")) {
		t.Fatalf("after Close: %q, %v; want the stream to end", rest, err)
	}
	status, e := f.do("GET", "/v1/applications/sel/results", "")
	if status != http.StatusServiceUnavailable || e["__type"] == nil {
		t.Fatalf("results after Close: %d %v", status, e)
	}
}

// TestHostileSQL: scripts that crashed the server with a stack overflow
// (issue 11) are refused with a 400 that says why and where.
func TestHostileSQL(t *testing.T) {
	f := newFixture(t)
	scripts := []struct {
		name, sql, inMsg string
		column           float64
	}{
		{"1,048,000 bangs", "SELECT " + strings.Repeat("!", 1_048_000) + "1 AS x FROM events", "the script is 1048025 bytes; the limit is 102400 bytes", 102401},
		{"100 KB of bangs", "SELECT " + strings.Repeat("!", 100_000) + "1 AS x FROM events", "nested too deeply", 8 + query.MaxDepth},
		{"100 KB of 1+1+", "SELECT " + strings.Repeat("1+", 50_000) + "1 AS x FROM events", "nested too deeply", 8},
	}
	for _, s := range scripts {
		for _, path := range []string{"/v1/validate", "/v1/applications"} {
			t.Run(s.name+" "+path, func(t *testing.T) {
				req := map[string]any{"sql": s.sql}
				if path == "/v1/applications" {
					req["name"] = "hostile"
				}
				status, e := f.do("POST", path, body(req))
				msg, _ := e["message"].(string)
				if status != http.StatusBadRequest || e["__type"] != "InvalidArgumentException" || !strings.Contains(msg, s.inMsg) ||
					e["line"] != 1.0 || e["column"] != s.column {
					t.Fatalf("got %d %.300v; want 400 InvalidArgumentException at line 1, column %v with %q", status, e, s.column, s.inMsg)
				}
			})
		}
	}
	if _, l := f.do("GET", "/v1/applications", ""); fmt.Sprint(l["applications"]) != "[]" {
		t.Fatalf("a refused script created %v", l)
	}
}

// TestInternalStreamsAreHidden: a delivery stream's buffer ("firehose:x")
// is refused by name, as a name no stream can have, whether it exists or
// not (issue 11 defect 6).
func TestInternalStreamsAreHidden(t *testing.T) {
	f := newFixture(t)
	if err := f.store.CreateStream(context.Background(), shard.CreateStreamInput{Name: "firehose:x", ShardCount: 1, Internal: true}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"firehose:x", "firehose:nope"} {
		tests := []struct {
			name, method, path, body, typ string
		}{
			{"schema", "GET", "/v1/streams/" + name + "/schema", "", "ValidationException"},
			{"validate", "POST", "/v1/validate", body(map[string]any{"sql": "SELECT v FROM `" + name + "`"}), "InvalidArgumentException"},
			{"create", "POST", "/v1/applications", body(map[string]any{"name": "a", "sql": "SELECT v FROM `" + name + "`"}), "InvalidArgumentException"},
			{"insert", "POST", "/v1/applications", body(map[string]any{"name": "a", "sql": "INSERT INTO `" + name + "` SELECT v FROM events"}), "InvalidArgumentException"},
		}
		for _, tt := range tests {
			t.Run(name+" "+tt.name, func(t *testing.T) {
				status, e := f.do(tt.method, tt.path, tt.body)
				msg, _ := e["message"].(string)
				if status != http.StatusBadRequest || e["__type"] != tt.typ || !strings.Contains(msg, `stream name "`+name+`" is invalid`) {
					t.Fatalf("got %d %v, want 400 %s saying the name is invalid", status, e, tt.typ)
				}
			})
		}
	}
}
