package estest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Version is the Elasticsearch version the server reports at GET /.
const Version = "7.17.0"

// RejectFunc decides whether the server rejects a document of a bulk
// request. index and id are the item's (id is empty if the action gave none);
// body is its source line, which RejectFunc must not modify or keep. To
// reject, return ok true with the item's HTTP status (such as 400 or 429) and
// the error type and reason to report (such as "mapper_parsing_exception",
// "failed to parse"). RejectFunc is called without the server's lock held,
// possibly from several goroutines at once.
type RejectFunc func(index, id string, body []byte) (status int, errType, reason string, ok bool)

// Server is an in-process Elasticsearch API; see the package documentation.
// Its methods are safe for concurrent use.
type Server struct {
	srv *httptest.Server

	mu           sync.Mutex
	indices      map[string]*index
	reject       RejectFunc
	failN        int // bulk requests still to fail
	failStatus   int
	bulkRequests int
	received     map[docKey]int
	nextID       int64 // for generated _ids and index UUIDs
	order        int64 // insertion order of documents across indices
}

type docKey struct{ index, id string }

type index struct {
	name    string
	uuid    string
	created time.Time
	docs    map[string]*document
	mapping *field // object field holding the top-level properties
	seqNo   int64
}

type document struct {
	source  json.RawMessage
	version int64
	seqNo   int64
	order   int64
}

// New starts a Server on a loopback port. It is closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		indices:  make(map[string]*index),
		received: make(map[docKey]int),
	}
	s.srv = httptest.NewServer(s)
	t.Cleanup(s.Close)
	return s
}

// URL returns the base URL, such as "http://127.0.0.1:41234".
func (s *Server) URL() string { return s.srv.URL }

// Close shuts the server down. New arranges for it to be called.
func (s *Server) Close() { s.srv.Close() }

// RejectDocs makes bulk requests reject each document fn says to reject;
// nil stops rejecting. Rejection happens before the document is looked at,
// so a rejected document is neither stored nor mapped, but it is counted by
// Received.
func (s *Server) RejectDocs(fn RejectFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reject = fn
}

// FailRequests makes the next n bulk requests fail as a whole with the given
// HTTP status (such as 503 or 429) and an Elasticsearch-shaped error body,
// without looking at their documents. They count in BulkRequests but not in
// Received.
func (s *Server) FailRequests(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failStatus = n, status
}

// BulkRequests returns how many bulk requests the server has seen, failed
// ones included.
func (s *Server) BulkRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bulkRequests
}

// Received returns how many times a bulk request carried the document index/id
// (index, create or delete), whatever the outcome, counting only requests
// that were not failed by FailRequests.
func (s *Server) Received(index, id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received[docKey{index, id}]
}

// Count returns the number of documents in the index (0 if there is none).
func (s *Server) Count(index string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ix := s.indices[index]; ix != nil {
		return len(ix.docs)
	}
	return 0
}

// Source returns a copy of the stored source of a document.
func (s *Server) Source(index, id string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ix := s.indices[index]
	if ix == nil {
		return nil, false
	}
	d := ix.docs[id]
	if d == nil {
		return nil, false
	}
	return bytes.Clone(d.source), true
}

// Indices returns the names of the existing indices, sorted.
func (s *Server) Indices() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.indices))
	for name := range s.indices {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// ServeHTTP routes a request to the API; New serves it on a real port.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	body, err := readBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "parse_exception", "read request body: "+err.Error(), nil)
		return
	}
	parts, err := splitPath(r.URL.EscapedPath())
	if err != nil {
		writeError(w, http.StatusBadRequest, "illegal_argument_exception", err.Error(), nil)
		return
	}
	q := r.URL.Query()
	m := r.Method
	switch {
	case len(parts) == 0:
		if allow(w, r, "GET", "HEAD") {
			s.info(w, m)
		}
	case len(parts) == 2 && parts[0] == "_nodes" && parts[1] == "http":
		if allow(w, r, "GET") {
			s.nodes(w, r.Host)
		}
	case len(parts) == 1 && parts[0] == "_bulk":
		if allow(w, r, "POST", "PUT") {
			s.bulk(w, "", body)
		}
	case len(parts) == 1 && (parts[0] == "_search" || parts[0] == "_count"):
		if allow(w, r, "GET", "POST") {
			s.query(w, "_all", parts[0], q, body)
		}
	case len(parts) == 1 && parts[0] == "_refresh":
		if allow(w, r, "GET", "POST") {
			s.refresh(w, "_all")
		}
	case len(parts) == 1 && !strings.HasPrefix(parts[0], "_"):
		switch m {
		case "PUT":
			s.createIndex(w, parts[0], body)
		case "HEAD":
			s.headIndex(w, parts[0])
		case "GET":
			s.getIndex(w, parts[0])
		case "DELETE":
			s.deleteIndex(w, parts[0])
		default:
			methodNotAllowed(w, r, "GET", "HEAD", "PUT", "DELETE")
		}
	case len(parts) == 2 && parts[1] == "_bulk" && !strings.HasPrefix(parts[0], "_"):
		if allow(w, r, "POST", "PUT") {
			s.bulk(w, parts[0], body)
		}
	case len(parts) == 2 && (parts[1] == "_search" || parts[1] == "_count"):
		if allow(w, r, "GET", "POST") {
			s.query(w, parts[0], parts[1], q, body)
		}
	case len(parts) == 2 && parts[1] == "_refresh":
		if allow(w, r, "GET", "POST") {
			s.refresh(w, parts[0])
		}
	case len(parts) == 3 && parts[1] == "_doc" && !strings.HasPrefix(parts[0], "_"):
		if allow(w, r, "GET", "HEAD") {
			s.getDoc(w, m, parts[0], parts[2])
		}
	default:
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"error":  fmt.Sprintf("no handler found for uri [%s] and method [%s]", r.URL.RequestURI(), m),
			"status": http.StatusBadRequest,
		})
	}
}

func readBody(r *http.Request) ([]byte, error) {
	var rd io.Reader = r.Body
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		rd = zr
	}
	return io.ReadAll(rd)
}

func splitPath(escaped string) ([]string, error) {
	var parts []string
	for _, p := range strings.Split(escaped, "/") {
		if p == "" {
			continue
		}
		u, err := url.PathUnescape(p)
		if err != nil {
			return nil, fmt.Errorf("bad path segment %q: %v", p, err)
		}
		parts = append(parts, u)
	}
	return parts, nil
}

func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	methodNotAllowed(w, r, methods...)
	return false
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, methods ...string) {
	w.Header().Set("Allow", strings.Join(methods, ","))
	writeJSON(w, http.StatusMethodNotAllowed, map[string]any{
		"error": fmt.Sprintf("Incorrect HTTP method for uri [%s] and method [%s], allowed: [%s]",
			r.URL.RequestURI(), r.Method, strings.Join(methods, ", ")),
		"status": http.StatusMethodNotAllowed,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// esError is an Elasticsearch error object: {"type":..,"reason":..,...}.
type esError struct {
	Type     string
	Reason   string
	Extra    map[string]any // index, index_uuid, shard, resource.id, ...
	CausedBy *esError
}

func (e *esError) json() map[string]any {
	m := map[string]any{"type": e.Type, "reason": e.Reason}
	for k, v := range e.Extra {
		m[k] = v
	}
	if e.CausedBy != nil {
		m["caused_by"] = e.CausedBy.json()
	}
	return m
}

// writeError writes a request-level error the way Elasticsearch does:
// {"error":{"root_cause":[...],"type":..,"reason":..},"status":N}.
func writeError(w http.ResponseWriter, status int, errType, reason string, extra map[string]any) {
	writeESError(w, status, &esError{Type: errType, Reason: reason, Extra: extra})
}

func writeESError(w http.ResponseWriter, status int, e *esError) {
	root := &esError{Type: e.Type, Reason: e.Reason, Extra: e.Extra}
	errObj := e.json()
	errObj["root_cause"] = []any{root.json()}
	writeJSON(w, status, map[string]any{"error": errObj, "status": status})
}

func indexNotFound(name string) *esError {
	return &esError{
		Type:   "index_not_found_exception",
		Reason: fmt.Sprintf("no such index [%s]", name),
		Extra: map[string]any{
			"resource.type": "index_or_alias", "resource.id": name, "index_uuid": "_na_", "index": name,
		},
	}
}

func (s *Server) info(w http.ResponseWriter, method string) {
	if method == "HEAD" {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name":         "estest",
		"cluster_name": "estest",
		"cluster_uuid": "estest-cluster-uuid",
		"version": map[string]any{
			"number":                              Version,
			"build_flavor":                        "default",
			"build_type":                          "estest",
			"build_hash":                          "0000000000000000000000000000000000000000",
			"build_date":                          "2022-01-28T08:36:04.875279988Z",
			"build_snapshot":                      false,
			"lucene_version":                      "8.11.1",
			"minimum_wire_compatibility_version":  "6.8.0",
			"minimum_index_compatibility_version": "6.0.0-beta1",
		},
		"tagline": "You Know, for Search",
	})
}

// nodes serves GET /_nodes/http, which olivere/elastic's sniffer reads: a
// single node publishing the address the request came to.
func (s *Server) nodes(w http.ResponseWriter, host string) {
	writeJSON(w, http.StatusOK, map[string]any{
		"_nodes":       map[string]any{"total": 1, "successful": 1, "failed": 0},
		"cluster_name": "estest",
		"nodes": map[string]any{
			"estest-node-0": map[string]any{
				"name":    "estest",
				"version": Version,
				"roles":   []string{"data", "ingest", "master"},
				"http": map[string]any{
					"bound_address":               []string{host},
					"publish_address":             host,
					"max_content_length_in_bytes": 100 << 20,
				},
			},
		},
	})
}

// validIndexName applies Elasticsearch's index name rules.
func validIndexName(name string) *esError {
	bad := func(why string) *esError {
		return &esError{
			Type:   "invalid_index_name_exception",
			Reason: fmt.Sprintf("Invalid index name [%s], %s", name, why),
			Extra:  map[string]any{"index_uuid": "_na_", "index": name},
		}
	}
	switch {
	case name == "":
		return bad("must not be empty")
	case name == "." || name == "..":
		return bad("must not be '.' or '..'")
	case strings.ToLower(name) != name:
		return bad("must be lowercase")
	case strings.ContainsAny(name, "\\/*?\"<>| ,#:"):
		return bad(`must not contain the following characters [ , ", *, \, <, |, ,, >, /, ?]`)
	case strings.IndexAny(name[:1], "-_+") == 0:
		return bad("must not start with '_', '-', or '+'")
	case len(name) > 255:
		return bad("index name is too long, (" + fmt.Sprint(len(name)) + " > 255)")
	}
	return nil
}

// newIndex creates an index; the caller holds s.mu and has validated name.
func (s *Server) newIndex(name string, mapping *field) *index {
	s.nextID++
	if mapping == nil {
		mapping = newObject()
	}
	ix := &index{
		name:    name,
		uuid:    fmt.Sprintf("estest-index-%06d", s.nextID),
		created: time.Now(),
		docs:    make(map[string]*document),
		mapping: mapping,
	}
	s.indices[name] = ix
	return ix
}

func (s *Server) createIndex(w http.ResponseWriter, name string, body []byte) {
	if e := validIndexName(name); e != nil {
		writeESError(w, http.StatusBadRequest, e)
		return
	}
	mapping := newObject()
	if len(bytes.TrimSpace(body)) > 0 {
		var req struct {
			Mappings struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"mappings"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			writeError(w, http.StatusBadRequest, "parse_exception", "request body is not valid JSON: "+err.Error(), nil)
			return
		}
		var err error
		if mapping, err = parseProperties(req.Mappings.Properties); err != nil {
			writeError(w, http.StatusBadRequest, "mapper_parsing_exception", err.Error(), nil)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ix := s.indices[name]; ix != nil {
		writeError(w, http.StatusBadRequest, "resource_already_exists_exception",
			fmt.Sprintf("index [%s/%s] already exists", name, ix.uuid),
			map[string]any{"index_uuid": ix.uuid, "index": name})
		return
	}
	s.newIndex(name, mapping)
	writeJSON(w, http.StatusOK, map[string]any{"acknowledged": true, "shards_acknowledged": true, "index": name})
}

func (s *Server) headIndex(w http.ResponseWriter, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.indices[name] == nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) getIndex(w http.ResponseWriter, pattern string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names, e := s.resolve(pattern)
	if e != nil {
		writeESError(w, http.StatusNotFound, e)
		return
	}
	out := make(map[string]any, len(names))
	for _, name := range names {
		ix := s.indices[name]
		out[name] = map[string]any{
			"aliases":  map[string]any{},
			"mappings": map[string]any{"properties": ix.mapping.propertiesJSON()},
			"settings": map[string]any{"index": map[string]any{
				"creation_date":      fmt.Sprint(ix.created.UnixMilli()),
				"number_of_shards":   "1",
				"number_of_replicas": "1",
				"uuid":               ix.uuid,
				"version":            map[string]any{"created": "7170099"},
				"provided_name":      name,
			}},
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteIndex(w http.ResponseWriter, pattern string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names, e := s.resolve(pattern)
	if e != nil {
		writeESError(w, http.StatusNotFound, e)
		return
	}
	for _, name := range names {
		delete(s.indices, name)
	}
	writeJSON(w, http.StatusOK, map[string]any{"acknowledged": true})
}

func (s *Server) refresh(w http.ResponseWriter, pattern string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names, e := s.resolve(pattern)
	if e != nil {
		writeESError(w, http.StatusNotFound, e)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"_shards": shards(len(names))})
}

func shards(n int) map[string]any {
	return map[string]any{"total": 2 * n, "successful": n, "skipped": 0, "failed": 0}
}

func (s *Server) getDoc(w http.ResponseWriter, method, name, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ix := s.indices[name]
	if ix == nil {
		if method == "HEAD" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		writeESError(w, http.StatusNotFound, indexNotFound(name))
		return
	}
	d := ix.docs[id]
	if method == "HEAD" {
		if d == nil {
			w.WriteHeader(http.StatusNotFound)
		} else {
			w.WriteHeader(http.StatusOK)
		}
		return
	}
	if d == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"_index": name, "_type": "_doc", "_id": id, "found": false})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"_index": name, "_type": "_doc", "_id": id, "_version": d.version,
		"_seq_no": d.seqNo, "_primary_term": 1, "found": true, "_source": d.source,
	})
}

// resolve expands an index expression (comma-separated names and wildcards,
// "_all", "*") into existing index names, sorted. A name without a wildcard
// that does not exist is an error, as with Elasticsearch's default
// ignore_unavailable=false; a wildcard matching nothing is not. The caller
// holds s.mu.
func (s *Server) resolve(expr string) ([]string, *esError) {
	seen := make(map[string]bool)
	for _, part := range strings.Split(expr, ",") {
		switch {
		case part == "_all" || part == "*":
			for name := range s.indices {
				seen[name] = true
			}
		case strings.Contains(part, "*"):
			for name := range s.indices {
				if globMatch(part, name) {
					seen[name] = true
				}
			}
		default:
			if s.indices[part] == nil {
				return nil, indexNotFound(part)
			}
			seen[part] = true
		}
	}
	names := make([]string, 0, len(seen))
	for name := range seen {
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

// globMatch reports whether name matches pattern, where '*' matches any run
// of characters and everything else matches itself.
func globMatch(pattern, name string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	name = name[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(name, p)
		if i < 0 {
			return false
		}
		name = name[i+len(p):]
	}
	if len(parts) == 1 {
		return name == ""
	}
	return strings.HasSuffix(name, last) && len(name) >= len(last)
}
