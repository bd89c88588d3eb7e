package estest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
)

// searchRequest is the part of the search body the server understands.
type searchRequest struct {
	Query map[string]json.RawMessage `json:"query"`
	Size  *int                       `json:"size"`
	From  *int                       `json:"from"`
}

// query serves _search and _count on an index expression. Queries:
// match_all (also the default) and ids; size (default 10) and from, in the
// body or the URL. Hits are ordered by index name, then by when the document
// was first indexed; every score is 1.
func (s *Server) query(w http.ResponseWriter, expr, endpoint string, q url.Values, body []byte) {
	var req searchRequest
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			writeError(w, http.StatusBadRequest, "parsing_exception", "request body is not valid JSON: "+err.Error(), nil)
			return
		}
	}
	match, e := compileQuery(req.Query)
	if e != nil {
		writeESError(w, http.StatusBadRequest, e)
		return
	}
	size, from := 10, 0
	if req.Size != nil {
		size = *req.Size
	}
	if req.From != nil {
		from = *req.From
	}
	for name, dst := range map[string]*int{"size": &size, "from": &from} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				writeError(w, http.StatusBadRequest, "illegal_argument_exception",
					fmt.Sprintf("Failed to parse int parameter [%s] with value [%s]", name, v), nil)
				return
			}
			*dst = n
		}
	}
	if size < 0 || from < 0 {
		writeError(w, http.StatusBadRequest, "illegal_argument_exception", "[from] and [size] must not be negative", nil)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	names, e := s.resolve(expr)
	if e != nil {
		writeESError(w, http.StatusNotFound, e)
		return
	}
	type hit struct {
		index, id string
		d         *document
	}
	var hits []hit
	for _, name := range names {
		var ids []string
		for id := range s.indices[name].docs {
			if match(id) {
				ids = append(ids, id)
			}
		}
		docs := s.indices[name].docs
		sort.Slice(ids, func(i, j int) bool { return docs[ids[i]].order < docs[ids[j]].order })
		for _, id := range ids {
			hits = append(hits, hit{name, id, docs[id]})
		}
	}

	if endpoint == "_count" {
		writeJSON(w, http.StatusOK, map[string]any{"count": len(hits), "_shards": shards(len(names))})
		return
	}
	total := len(hits)
	page := hits[min(from, total):min(from+size, total)]
	out := make([]any, len(page))
	for i, h := range page {
		out[i] = map[string]any{
			"_index": h.index, "_type": "_doc", "_id": h.id, "_score": 1.0, "_source": h.d.source,
		}
	}
	var maxScore any
	if len(out) > 0 {
		maxScore = 1.0
	}
	var totalJSON any = map[string]any{"value": total, "relation": "eq"}
	if q.Get("rest_total_hits_as_int") == "true" {
		totalJSON = total
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"took":      1,
		"timed_out": false,
		"_shards":   shards(len(names)),
		"hits":      map[string]any{"total": totalJSON, "max_score": maxScore, "hits": out},
	})
}

// compileQuery turns a query clause into a predicate on document IDs.
func compileQuery(query map[string]json.RawMessage) (func(id string) bool, *esError) {
	if len(query) == 0 {
		return func(string) bool { return true }, nil
	}
	if len(query) != 1 {
		return nil, &esError{Type: "parsing_exception", Reason: "[query] must hold exactly one query clause"}
	}
	for name, raw := range query {
		switch name {
		case "match_all":
			return func(string) bool { return true }, nil
		case "ids":
			var ids struct {
				Values []string `json:"values"`
			}
			if err := json.Unmarshal(raw, &ids); err != nil {
				return nil, &esError{Type: "parsing_exception", Reason: "[ids] query malformed: " + err.Error()}
			}
			set := make(map[string]bool, len(ids.Values))
			for _, id := range ids.Values {
				set[id] = true
			}
			return func(id string) bool { return set[id] }, nil
		default:
			return nil, &esError{Type: "parsing_exception",
				Reason: fmt.Sprintf("estest: unsupported query [%s] (supported: match_all, ids)", name)}
		}
	}
	panic("unreachable")
}
