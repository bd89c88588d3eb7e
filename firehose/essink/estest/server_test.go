package estest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/olivere/elastic/v7"

	"github.com/spatehq/spate/firehose/essink/estest"
)

// call makes a request and decodes the JSON reply (nil for an empty body).
func call(t *testing.T, s *estest.Server, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, s.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) == 0 {
		return res.StatusCode, nil
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: reply is not a JSON object: %v: %s", method, path, err, raw)
	}
	return res.StatusCode, out
}

// get walks a decoded JSON value by keys and array indexes.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

// ndjson joins lines into a bulk body.
func ndjson(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

func TestBulkItems(t *testing.T) {
	s := estest.New(t)
	if status, _ := call(t, s, "POST", "/_bulk", ndjson(
		`{"index":{"_index":"logs","_id":"old"}}`, `{"a":1}`,
		`{"index":{"_index":"logs","_id":"gone"}}`, `{"a":1}`,
	)); status != 200 {
		t.Fatalf("seed: HTTP %d", status)
	}
	status, res := call(t, s, "POST", "/logs/_bulk", ndjson(
		`{"index":{"_id":"new"}}`, `{"a":2}`,
		`{"index":{"_id":"old"}}`, `{"a":3}`,
		`{"create":{"_id":"old"}}`, `{"a":4}`,
		`{"create":{"_index":"other","_id":"c"}}`, `{"b":"x"}`,
		`{"delete":{"_id":"gone"}}`,
		`{"delete":{"_id":"never"}}`,
		`{"index":{"_index":"Bad","_id":"x"}}`, `{"a":5}`,
		`{"index":{"_id":"notjson"}}`, `[1,2]`,
		`{"index":{"_id":"type"}}`, `{"a":"not a number"}`,
		`{"index":{}}`, `{"a":6}`,
	))
	if status != 200 {
		t.Fatalf("HTTP %d: %v", status, res)
	}
	if res["errors"] != true {
		t.Errorf("errors = %v, want true", res["errors"])
	}
	type want struct {
		action, index, id string
		status            float64
		result, errType   string
	}
	wants := []want{
		{"index", "logs", "new", 201, "created", ""},
		{"index", "logs", "old", 200, "updated", ""},
		{"create", "logs", "old", 409, "", "version_conflict_engine_exception"},
		{"create", "other", "c", 201, "created", ""},
		{"delete", "logs", "gone", 200, "deleted", ""},
		{"delete", "logs", "never", 404, "not_found", ""},
		{"index", "Bad", "x", 400, "", "invalid_index_name_exception"},
		{"index", "logs", "notjson", 400, "", "mapper_parsing_exception"},
		{"index", "logs", "type", 400, "", "mapper_parsing_exception"},
		{"index", "logs", "", 201, "created", ""},
	}
	items, _ := res["items"].([]any)
	if len(items) != len(wants) {
		t.Fatalf("%d items, want %d: %v", len(items), len(wants), items)
	}
	for i, w := range wants {
		t.Run(fmt.Sprintf("%d-%s-%s", i, w.action, w.id), func(t *testing.T) {
			item, _ := get(items[i], w.action).(map[string]any)
			if item == nil {
				t.Fatalf("item %d has no %q key: %v", i, w.action, items[i])
			}
			if item["_index"] != w.index || item["status"] != w.status || item["_type"] != "_doc" {
				t.Errorf("item = %v, want _index %s, status %v, _type _doc", item, w.index, w.status)
			}
			if w.id != "" && item["_id"] != w.id {
				t.Errorf("_id = %v, want %s", item["_id"], w.id)
			}
			if w.id == "" && item["_id"] == "" {
				t.Errorf("no _id generated: %v", item)
			}
			if w.errType == "" {
				if item["result"] != w.result || item["error"] != nil {
					t.Errorf("item = %v, want result %s and no error", item, w.result)
				}
				if w.status < 300 && (item["_version"] == nil || item["_seq_no"] == nil || item["_shards"] == nil) {
					t.Errorf("item = %v, want _version, _seq_no and _shards", item)
				}
				return
			}
			if got := get(item, "error", "type"); got != w.errType {
				t.Errorf("error.type = %v, want %s (item %v)", got, w.errType, item)
			}
			if reason, _ := get(item, "error", "reason").(string); reason == "" {
				t.Errorf("error has no reason: %v", item)
			}
			if item["result"] != nil {
				t.Errorf("failed item has a result: %v", item)
			}
		})
	}
	if got, _ := get(items[8], "index", "error", "reason").(string); !strings.HasPrefix(got,
		"failed to parse field [a] of type [long] in document with id 'type'. Preview of field's value: 'not a number'") {
		t.Errorf("mapping error reason = %q", got)
	}
	if got := get(items[1], "index", "_version"); got != 2.0 {
		t.Errorf("re-indexed _version = %v, want 2", got)
	}
	// logs: old, new, and the generated one; gone was deleted.
	if got := s.Count("logs"); got != 3 {
		t.Errorf("Count(logs) = %d, want 3", got)
	}
	if src, ok := s.Source("logs", "old"); !ok || string(src) != `{"a":3}` {
		t.Errorf("Source(logs, old) = %s, %v; want the re-indexed document", src, ok)
	}
	if got := s.Received("logs", "old"); got != 3 {
		t.Errorf("Received(logs, old) = %d, want 3", got)
	}
	if got := s.Indices(); !reflect.DeepEqual(got, []string{"logs", "other"}) {
		t.Errorf("Indices() = %v", got)
	}
}

func TestBulkAllSucceeded(t *testing.T) {
	s := estest.New(t)
	status, res := call(t, s, "POST", "/_bulk", ndjson(`{"index":{"_index":"a","_id":"1"}}`, `{"x":1}`))
	if status != 200 || res["errors"] != false || res["took"] == nil {
		t.Errorf("HTTP %d %v, want 200 with errors false and took", status, res)
	}
}

func TestBulkRequestErrors(t *testing.T) {
	tests := []struct {
		name, path, body, wantType string
	}{
		{"empty", "/_bulk", "", "action_request_validation_exception"},
		{"no final newline", "/_bulk", `{"index":{"_index":"a"}}` + "\n" + `{"x":1}`, "illegal_argument_exception"},
		{"missing source", "/_bulk", ndjson(`{"index":{"_index":"a"}}`), "illegal_argument_exception"},
		{"unknown action", "/_bulk", ndjson(`{"upsert":{"_index":"a"}}`, `{}`), "illegal_argument_exception"},
		{"update", "/_bulk", ndjson(`{"update":{"_index":"a","_id":"1"}}`, `{"doc":{}}`), "illegal_argument_exception"},
		{"not json", "/_bulk", ndjson(`hello`, `{}`), "illegal_argument_exception"},
		{"no index", "/_bulk", ndjson(`{"index":{"_id":"1"}}`, `{}`), "action_request_validation_exception"},
		{"id too long", "/_bulk", ndjson(`{"index":{"_index":"a","_id":"`+strings.Repeat("x", 513)+`"}}`, `{}`), "action_request_validation_exception"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := estest.New(t)
			status, res := call(t, s, "POST", tt.path, tt.body)
			if status != 400 || get(res, "error", "type") != tt.wantType || res["status"] != 400.0 ||
				get(res, "error", "root_cause", 0, "type") != tt.wantType {
				t.Errorf("HTTP %d %v, want 400 with error type %s and root_cause", status, res, tt.wantType)
			}
			if len(s.Indices()) != 0 {
				t.Errorf("a rejected request created indices %v", s.Indices())
			}
		})
	}
}

func TestFailRequests(t *testing.T) {
	s := estest.New(t)
	s.FailRequests(2, http.StatusServiceUnavailable)
	body := ndjson(`{"index":{"_index":"a","_id":"1"}}`, `{"x":1}`)
	for i := range 2 {
		status, res := call(t, s, "POST", "/_bulk", body)
		if status != 503 || get(res, "error", "type") == nil {
			t.Fatalf("request %d: HTTP %d %v, want 503 with an error", i, status, res)
		}
	}
	if status, res := call(t, s, "POST", "/_bulk", body); status != 200 || res["errors"] != false {
		t.Fatalf("third request: HTTP %d %v, want success", status, res)
	}
	if got := s.BulkRequests(); got != 3 {
		t.Errorf("BulkRequests() = %d, want 3", got)
	}
	if got := s.Received("a", "1"); got != 1 {
		t.Errorf("Received = %d, want 1 (failed requests are not parsed)", got)
	}
	// Only bulk requests fail.
	s.FailRequests(1, http.StatusTooManyRequests)
	if status, _ := call(t, s, "GET", "/a/_count", ""); status != 200 {
		t.Errorf("_count: HTTP %d, want 200", status)
	}
	if status, res := call(t, s, "POST", "/_bulk", body); status != 429 || get(res, "error", "type") != "es_rejected_execution_exception" {
		t.Errorf("HTTP %d %v, want 429 es_rejected_execution_exception", status, res)
	}
}

func TestRejectDocs(t *testing.T) {
	s := estest.New(t)
	var mu sync.Mutex
	var seen []string
	s.RejectDocs(func(index, id string, body []byte) (int, string, string, bool) {
		mu.Lock()
		seen = append(seen, index+"/"+id+" "+string(body))
		mu.Unlock()
		if id == "2" {
			return 429, "es_rejected_execution_exception", "queue full", true
		}
		return 0, "", "", false
	})
	status, res := call(t, s, "POST", "/_bulk", ndjson(
		`{"index":{"_index":"a","_id":"1"}}`, `{"x":1}`,
		`{"index":{"_index":"a","_id":"2"}}`, `{"x":2}`,
	))
	if status != 200 || res["errors"] != true {
		t.Fatalf("HTTP %d %v", status, res)
	}
	item := get(res, "items", 1, "index")
	if get(item, "status") != 429.0 || get(item, "error", "type") != "es_rejected_execution_exception" ||
		get(item, "error", "reason") != "queue full" || get(item, "_id") != "2" {
		t.Errorf("rejected item = %v", item)
	}
	if !reflect.DeepEqual(seen, []string{`a/1 {"x":1}`, `a/2 {"x":2}`}) {
		t.Errorf("RejectFunc saw %q", seen)
	}
	if _, ok := s.Source("a", "2"); ok || s.Count("a") != 1 || s.Received("a", "2") != 1 {
		t.Errorf("rejected document stored or not counted: count %d, received %d", s.Count("a"), s.Received("a", "2"))
	}
	s.RejectDocs(nil)
	if _, res := call(t, s, "POST", "/_bulk", ndjson(`{"index":{"_index":"a","_id":"2"}}`, `{"x":2}`)); res["errors"] != false {
		t.Errorf("after RejectDocs(nil): %v", res)
	}
}

func TestIndexAPI(t *testing.T) {
	s := estest.New(t)
	steps := []struct {
		method, path, body string
		wantStatus         int
		wantType           string // error type, if any
	}{
		{"HEAD", "/idx", "", 404, ""},
		{"GET", "/idx", "", 404, "index_not_found_exception"},
		{"PUT", "/idx", `{"settings":{"number_of_shards":1},"mappings":{"properties":{"n":{"type":"integer"},"o":{"properties":{"t":{"type":"keyword"}}}}}}`, 200, ""},
		{"PUT", "/idx", "", 400, "resource_already_exists_exception"},
		{"PUT", "/Upper", "", 400, "invalid_index_name_exception"},
		{"PUT", "/_under", "", 400, ""},
		{"PUT", "/bad", `{"mappings":`, 400, "parse_exception"},
		{"HEAD", "/idx", "", 200, ""},
		{"GET", "/idx", "", 200, ""},
		{"POST", "/idx/_refresh", "", 200, ""},
		{"POST", "/_refresh", "", 200, ""},
		{"POST", "/missing/_refresh", "", 404, "index_not_found_exception"},
		{"GET", "/idx/_doc/1", "", 404, ""},
		{"GET", "/missing/_doc/1", "", 404, "index_not_found_exception"},
		{"DELETE", "/idx", "", 200, ""},
		{"HEAD", "/idx", "", 404, ""},
		{"DELETE", "/idx", "", 404, "index_not_found_exception"},
		{"GET", "/nothing/here/at/all", "", 400, ""},
		{"DELETE", "/", "", 405, ""},
		{"GET", "/_bulk", "", 405, ""},
	}
	for _, st := range steps {
		status, res := call(t, s, st.method, st.path, st.body)
		if status != st.wantStatus {
			t.Fatalf("%s %s: HTTP %d %v, want %d", st.method, st.path, status, res, st.wantStatus)
		}
		if st.wantType != "" && get(res, "error", "type") != st.wantType {
			t.Fatalf("%s %s: %v, want error type %s", st.method, st.path, res, st.wantType)
		}
		if st.method == "PUT" && status == 200 && (res["acknowledged"] != true || res["index"] != "idx") {
			t.Errorf("PUT reply %v", res)
		}
		if st.method == "GET" && st.path == "/idx" && status == 200 {
			if got := get(res, "idx", "mappings", "properties", "n", "type"); got != "long" {
				t.Errorf("mapping of n = %v in %v", got, res)
			}
			if got := get(res, "idx", "settings", "index", "uuid"); got == nil {
				t.Errorf("no uuid in %v", res)
			}
		}
	}
}

func TestGetDoc(t *testing.T) {
	s := estest.New(t)
	call(t, s, "POST", "/_bulk", ndjson(`{"index":{"_index":"a","_id":"x/y"}}`, `{"k":"v"}`))
	status, res := call(t, s, "GET", "/a/_doc/x%2Fy", "")
	if status != 200 || res["found"] != true || get(res, "_source", "k") != "v" || res["_id"] != "x/y" || res["_version"] != 1.0 {
		t.Errorf("HTTP %d %v", status, res)
	}
}

func TestSearchAndCount(t *testing.T) {
	s := estest.New(t)
	var lines []string
	for i := range 15 {
		lines = append(lines, fmt.Sprintf(`{"index":{"_index":"logs-2026-01","_id":"a%02d"}}`, i), fmt.Sprintf(`{"i":%d}`, i))
	}
	for i := range 3 {
		lines = append(lines, fmt.Sprintf(`{"index":{"_index":"logs-2026-02","_id":"b%d"}}`, i), fmt.Sprintf(`{"i":%d}`, 100+i))
	}
	lines = append(lines, `{"index":{"_index":"other","_id":"o"}}`, `{"i":0}`)
	if _, res := call(t, s, "POST", "/_bulk", ndjson(lines...)); res["errors"] != false {
		t.Fatalf("seed: %v", res)
	}

	tests := []struct {
		name, method, path, body string
		wantStatus, wantTotal    int
		wantIDs                  []string
	}{
		{"default size", "GET", "/logs-2026-01/_search", "", 200, 15,
			[]string{"a00", "a01", "a02", "a03", "a04", "a05", "a06", "a07", "a08", "a09"}},
		{"size param", "GET", "/logs-2026-01/_search?size=2", "", 200, 15, []string{"a00", "a01"}},
		{"body size and from", "POST", "/logs-2026-01/_search", `{"query":{"match_all":{}},"size":3,"from":13}`, 200, 15,
			[]string{"a13", "a14"}},
		{"size 0", "POST", "/logs-2026-01/_search", `{"size":0}`, 200, 15, []string{}},
		{"wildcard", "GET", "/logs-*/_search?size=100&from=14", "", 200, 18, []string{"a14", "b0", "b1", "b2"}},
		{"list", "GET", "/other,logs-2026-02/_search", "", 200, 4, []string{"b0", "b1", "b2", "o"}},
		{"ids", "POST", "/_search", `{"query":{"ids":{"values":["b1","o","zzz"]}}}`, 200, 2, []string{"b1", "o"}},
		{"wildcard matching nothing", "GET", "/nope-*/_search", "", 200, 0, []string{}},
		{"missing index", "GET", "/nope/_search", "", 404, 0, nil},
		{"unsupported query", "POST", "/other/_search", `{"query":{"match":{"i":0}}}`, 400, 0, nil},
		{"bad size", "GET", "/other/_search?size=x", "", 400, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, res := call(t, s, tt.method, tt.path, tt.body)
			if status != tt.wantStatus {
				t.Fatalf("HTTP %d %v, want %d", status, res, tt.wantStatus)
			}
			if status != 200 {
				return
			}
			if got := get(res, "hits", "total", "value"); got != float64(tt.wantTotal) || get(res, "hits", "total", "relation") != "eq" {
				t.Errorf("hits.total = %v, want %d", get(res, "hits", "total"), tt.wantTotal)
			}
			hits, _ := get(res, "hits", "hits").([]any)
			ids := []string{}
			for _, h := range hits {
				id, _ := get(h, "_id").(string)
				ids = append(ids, id)
				if get(h, "_source", "i") == nil || get(h, "_index") == nil {
					t.Errorf("hit without _source or _index: %v", h)
				}
			}
			if !reflect.DeepEqual(ids, tt.wantIDs) {
				t.Errorf("ids = %v, want %v", ids, tt.wantIDs)
			}
		})
	}

	for path, want := range map[string]float64{"/logs-2026-01/_count": 15, "/logs-*/_count": 18, "/_count": 19} {
		if status, res := call(t, s, "GET", path, ""); status != 200 || res["count"] != want {
			t.Errorf("GET %s: HTTP %d %v, want count %v", path, status, res, want)
		}
	}
	if status, res := call(t, s, "GET", "/_search?rest_total_hits_as_int=true&size=0", ""); status != 200 || get(res, "hits", "total") != 19.0 {
		t.Errorf("rest_total_hits_as_int: HTTP %d %v", status, res)
	}
}

func TestDynamicMapping(t *testing.T) {
	tests := []struct {
		name    string
		docs    []string // indexed in order into a fresh index; all but the last must succeed
		wantErr string   // prefix of the last document's error reason; "" if it succeeds
	}{
		{"long then number string", []string{`{"n":1}`, `{"n":"42"}`}, ""},
		{"long then float", []string{`{"n":1}`, `{"n":1.5}`}, ""},
		{"long then word", []string{`{"n":1}`, `{"n":"abc"}`}, "failed to parse field [n] of type [long] in document with id '1'. Preview of field's value: 'abc'"},
		{"long then bool", []string{`{"n":1}`, `{"n":true}`}, "failed to parse field [n] of type [long]"},
		{"float then word", []string{`{"f":1.5}`, `{"f":"x"}`}, "failed to parse field [f] of type [float]"},
		{"text takes anything scalar", []string{`{"s":"x"}`, `{"s":5}`, `{"s":false}`}, ""},
		{"text then object", []string{`{"s":"x"}`, `{"s":{"a":1}}`}, "failed to parse field [s] of type [text] in document with id '1'. Preview of field's value: '{a=1}'"},
		{"object then scalar", []string{`{"o":{"a":1}}`, `{"o":"x"}`}, "object mapping for [o] tried to parse field [o] as object, but found a concrete value"},
		{"nested conflict", []string{`{"o":{"a":1}}`, `{"o":{"a":"x"}}`}, "failed to parse field [o.a] of type [long]"},
		{"dotted name is nested", []string{`{"o.a":1}`, `{"o":{"a":"x"}}`}, "failed to parse field [o.a] of type [long]"},
		{"dotted name under scalar", []string{`{"o":1}`, `{"o.a":1}`}, "Could not dynamically add mapping for field [o.a]"},
		{"date detection", []string{`{"d":"2026-11-22T10:00:00Z"}`, `{"d":"2026-11-23"}`, `{"d":1700000000000}`, `{"d":"soon"}`}, "failed to parse field [d] of type [date]"},
		{"boolean", []string{`{"b":true}`, `{"b":"false"}`, `{"b":"yes"}`}, "failed to parse field [b] of type [boolean]"},
		{"arrays by element", []string{`{"a":[1,2,null]}`, `{"a":3}`, `{"a":[4,"x"]}`}, "failed to parse field [a] of type [long]"},
		{"null adds nothing", []string{`{"z":null}`, `{"z":"x"}`, `{"z":{"a":1}}`}, "failed to parse field [z] of type [text]"},
		{"conflict within one document", []string{`{"a":[1,"x"]}`}, "failed to parse field [a] of type [long]"},
		{"empty field name", []string{`{"":1}`}, "failed to parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := estest.New(t)
			for i, doc := range tt.docs {
				_, res := call(t, s, "POST", "/m/_bulk", ndjson(fmt.Sprintf(`{"index":{"_id":"%d"}}`, i), doc))
				item := get(res, "items", 0, "index")
				last := i == len(tt.docs)-1
				reason, _ := get(item, "error", "reason").(string)
				switch {
				case !last || tt.wantErr == "":
					if get(item, "error") != nil {
						t.Fatalf("document %d %s: %v", i, doc, item)
					}
				case get(item, "status") != 400.0 || get(item, "error", "type") != "mapper_parsing_exception" ||
					!strings.HasPrefix(reason, tt.wantErr):
					t.Fatalf("document %d %s: %v, want 400 mapper_parsing_exception %q", i, doc, item, tt.wantErr)
				}
			}
		})
	}
}

// TestRejectedDocumentDoesNotChangeMapping: a document that fails must not
// leave dynamic fields behind.
func TestRejectedDocumentDoesNotChangeMapping(t *testing.T) {
	s := estest.New(t)
	call(t, s, "PUT", "/m", `{"mappings":{"properties":{"n":{"type":"long"}}}}`)
	_, res := call(t, s, "POST", "/m/_bulk", ndjson(`{"index":{"_id":"1"}}`, `{"a":1,"n":"x"}`, `{"index":{"_id":"2"}}`, `{"a":"word"}`))
	if get(res, "items", 0, "index", "status") != 400.0 || get(res, "items", 1, "index", "status") != 201.0 {
		t.Fatalf("items = %v, want the first to fail and the second to succeed", res["items"])
	}
}

func TestGzipBody(t *testing.T) {
	s := estest.New(t)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	fmt.Fprint(zw, ndjson(`{"index":{"_index":"z","_id":"1"}}`, `{"x":1}`))
	zw.Close()
	req, _ := http.NewRequest("POST", s.URL()+"/_bulk", &buf)
	req.Header.Set("Content-Encoding", "gzip")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || s.Count("z") != 1 {
		t.Errorf("HTTP %d, count %d", res.StatusCode, s.Count("z"))
	}
}

func TestConcurrentBulk(t *testing.T) {
	s := estest.New(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				_, res := call(t, s, "POST", "/_bulk", ndjson(fmt.Sprintf(`{"index":{"_index":"c","_id":"%d-%d"}}`, g, i), `{"x":1}`))
				if res["errors"] != false {
					t.Errorf("bulk: %v", res)
				}
			}
		})
	}
	wg.Wait()
	if got := s.Count("c"); got != 160 {
		t.Errorf("Count = %d, want 160", got)
	}
	if got := s.BulkRequests(); got != 160 {
		t.Errorf("BulkRequests = %d, want 160", got)
	}
}

// TestOlivereClient checks the server against the client the sink uses.
func TestOlivereClient(t *testing.T) {
	s := estest.New(t)
	ctx := t.Context()
	c, err := elastic.NewClient(elastic.SetURL(s.URL()), elastic.SetSniff(false), elastic.SetHealthcheck(false))
	if err != nil {
		t.Fatal(err)
	}
	info, code, err := c.Ping(s.URL()).Do(ctx)
	if err != nil || code != 200 || !strings.HasPrefix(info.Version.Number, "7.17.") {
		t.Fatalf("Ping = %+v, %d, %v", info, code, err)
	}
	if v, err := c.ElasticsearchVersion(s.URL()); err != nil || v != estest.Version {
		t.Errorf("ElasticsearchVersion = %q, %v", v, err)
	}
	if ok, err := c.IndexExists("k").Do(ctx); err != nil || ok {
		t.Fatalf("IndexExists before create = %v, %v", ok, err)
	}
	if res, err := c.CreateIndex("k").BodyString(`{"mappings":{"properties":{"n":{"type":"long"}}}}`).Do(ctx); err != nil || !res.Acknowledged {
		t.Fatalf("CreateIndex = %+v, %v", res, err)
	}
	if ok, err := c.IndexExists("k").Do(ctx); err != nil || !ok {
		t.Fatalf("IndexExists after create = %v, %v", ok, err)
	}
	bulk := c.Bulk()
	for i := range 5 {
		bulk.Add(elastic.NewBulkIndexRequest().Index("k").Id(fmt.Sprint(i)).Doc(map[string]any{"n": i}))
	}
	bulk.Add(elastic.NewBulkIndexRequest().Index("k").Id("bad").Doc(map[string]any{"n": "x"}))
	bres, err := bulk.Do(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bres.Errors || len(bres.Succeeded()) != 5 || len(bres.Failed()) != 1 {
		t.Fatalf("bulk: errors=%v succeeded=%d failed=%d", bres.Errors, len(bres.Succeeded()), len(bres.Failed()))
	}
	if f := bres.Failed()[0]; f.Id != "bad" || f.Status != 400 || f.Error == nil || f.Error.Type != "mapper_parsing_exception" ||
		f.Error.CausedBy["type"] != "number_format_exception" {
		t.Errorf("failed item = %+v (error %+v)", f, f.Error)
	}
	if _, err := c.Refresh("k").Do(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Count("k").Do(ctx); err != nil || n != 5 {
		t.Errorf("Count = %d, %v", n, err)
	}
	sres, err := c.Search("k").Query(elastic.NewMatchAllQuery()).Size(2).Do(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sres.TotalHits() != 5 || len(sres.Hits.Hits) != 2 || sres.Hits.Hits[0].Id != "0" || string(sres.Hits.Hits[0].Source) != `{"n":0}` {
		t.Errorf("Search: total %d, hits %+v", sres.TotalHits(), sres.Hits.Hits)
	}
	ires, err := c.Search("k").Query(elastic.NewIdsQuery().Ids("3", "4")).Do(ctx)
	if err != nil || ires.TotalHits() != 2 {
		t.Errorf("ids Search: %v, %v", ires, err)
	}
	doc, err := c.Get().Index("k").Id("3").Do(ctx)
	if err != nil || !doc.Found || string(doc.Source) != `{"n":3}` {
		t.Errorf("Get = %+v, %v", doc, err)
	}
	if _, err := c.Get().Index("k").Id("nope").Do(ctx); !elastic.IsNotFound(err) {
		t.Errorf("Get missing: %v, want not found", err)
	}
	if _, err := c.Search("missing").Do(ctx); !elastic.IsNotFound(err) {
		t.Errorf("Search missing index: %v, want not found", err)
	}
	if res, err := c.DeleteIndex("k").Do(ctx); err != nil || !res.Acknowledged {
		t.Errorf("DeleteIndex = %+v, %v", res, err)
	}
}

// FuzzBulk feeds arbitrary bodies to the bulk endpoint: it must answer 200
// or 400 with a JSON body, and never panic.
func FuzzBulk(f *testing.F) {
	f.Add([]byte(ndjson(`{"index":{"_index":"a","_id":"1"}}`, `{"x":1}`)))
	f.Add([]byte(ndjson(`{"create":{"_index":"a"}}`, `{"x":{"y":[1,"z"]}}`, `{"delete":{"_index":"a","_id":"1"}}`)))
	f.Add([]byte(ndjson(`{"index":{"_index":"a","_id":"1"}}`, `{"a.b":1,"a":{"c":2}}`)))
	f.Add([]byte("\n\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		s := estest.New(t)
		req := httptest.NewRequest("POST", "/_bulk", bytes.NewReader(body))
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 200 && rec.Code != 400 {
			t.Fatalf("HTTP %d for %q", rec.Code, body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("reply is not JSON: %s", rec.Body)
		}
	})
}
