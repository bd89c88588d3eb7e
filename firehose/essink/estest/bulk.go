package estest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// bulkItem is one parsed action of a bulk request.
type bulkItem struct {
	action string // "index", "create" or "delete"
	index  string
	id     string
	source []byte // nil for delete

	// Set before applying: a rejection chosen by the test's RejectFunc.
	rejected     bool
	rejectStatus int
	rejectType   string
	rejectReason string
}

// bulk serves POST /_bulk and POST /{index}/_bulk. The body is
// newline-delimited JSON: an action line ({"index":{"_index":..,"_id":..}},
// "create" alike, or "delete"), followed for index and create by the
// document's source line. The reply has one item per action, in order:
// {"took":..,"errors":bool,"items":[{"index":{"_index":..,"_id":..,"status":..,
// "result":..}}]}, with "error":{"type":..,"reason":..} in failed items.
func (s *Server) bulk(w http.ResponseWriter, defaultIndex string, body []byte) {
	s.mu.Lock()
	s.bulkRequests++
	if s.failN > 0 {
		s.failN--
		status := s.failStatus
		s.mu.Unlock()
		writeESError(w, status, injectedError(status))
		return
	}
	reject := s.reject
	s.mu.Unlock()

	items, err := parseBulk(defaultIndex, body)
	if err != nil {
		writeESError(w, http.StatusBadRequest, err)
		return
	}
	if reject != nil {
		for _, it := range items {
			if st, typ, reason, ok := reject(it.index, it.id, it.source); ok {
				it.rejected, it.rejectStatus, it.rejectType, it.rejectReason = true, st, typ, reason
			}
		}
	}

	s.mu.Lock()
	results := make([]any, len(items))
	errors := false
	for i, it := range items {
		res := s.apply(it)
		if _, failed := res["error"]; failed {
			errors = true
		}
		results[i] = map[string]any{it.action: res}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"took": 1, "errors": errors, "items": results})
}

// injectedError is the body of a request failed by FailRequests.
func injectedError(status int) *esError {
	reason := fmt.Sprintf("estest: injected failure (HTTP %d)", status)
	switch status {
	case http.StatusTooManyRequests:
		return &esError{Type: "es_rejected_execution_exception", Reason: reason}
	case http.StatusServiceUnavailable:
		return &esError{Type: "cluster_block_exception", Reason: reason}
	default:
		return &esError{Type: "estest_injected_failure", Reason: reason}
	}
}

// parseBulk parses a bulk body. Like Elasticsearch, it rejects the whole
// request (an error) when the body is malformed or an action fails
// validation; per-document problems are left to apply.
func parseBulk(defaultIndex string, body []byte) ([]*bulkItem, *esError) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, &esError{Type: "action_request_validation_exception", Reason: "Validation Failed: 1: no requests added;"}
	}
	if body[len(body)-1] != '\n' {
		return nil, &esError{Type: "illegal_argument_exception", Reason: `The bulk request must be terminated by a newline [\n]`}
	}
	lines := bytes.Split(body[:len(body)-1], []byte("\n"))
	var items []*bulkItem
	var invalid []string
	for n := 0; n < len(lines); n++ {
		line := bytes.TrimSpace(lines[n])
		if len(line) == 0 {
			continue
		}
		var action map[string]json.RawMessage
		if err := json.Unmarshal(line, &action); err != nil || len(action) != 1 {
			return nil, &esError{Type: "illegal_argument_exception",
				Reason: fmt.Sprintf("Malformed action/metadata line [%d], expected a simple JSON object with one action", n+1)}
		}
		it := &bulkItem{}
		var rawMeta json.RawMessage
		for it.action, rawMeta = range action {
		}
		switch it.action {
		case "index", "create", "delete":
		case "update":
			return nil, &esError{Type: "illegal_argument_exception",
				Reason: fmt.Sprintf("estest: action [update] on line [%d] is not supported", n+1)}
		default:
			return nil, &esError{Type: "illegal_argument_exception",
				Reason: fmt.Sprintf("Malformed action/metadata line [%d], expected field [create], [delete], [index] or [update] but found [%s]", n+1, it.action)}
		}
		var meta struct {
			Index *string `json:"_index"`
			ID    *string `json:"_id"`
		}
		if err := json.Unmarshal(rawMeta, &meta); err != nil {
			return nil, &esError{Type: "illegal_argument_exception",
				Reason: fmt.Sprintf("Malformed action/metadata line [%d], expected START_OBJECT: %v", n+1, err)}
		}
		it.index = defaultIndex
		if meta.Index != nil {
			it.index = *meta.Index
		}
		if meta.ID != nil {
			it.id = *meta.ID
		}
		if it.index == "" {
			invalid = append(invalid, "index is missing")
		}
		if len(it.id) > 512 {
			invalid = append(invalid, fmt.Sprintf("id [%s] is too long, must be no longer than 512 bytes but was: %d", it.id, len(it.id)))
		}
		if it.action == "delete" {
			if it.id == "" {
				invalid = append(invalid, "id is missing")
			}
		} else {
			n++
			if n >= len(lines) {
				return nil, &esError{Type: "illegal_argument_exception",
					Reason: fmt.Sprintf("The bulk request must be terminated by a newline [\\n]: no source line after action line [%d]", n)}
			}
			it.source = lines[n]
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return nil, &esError{Type: "action_request_validation_exception", Reason: "Validation Failed: 1: no requests added;"}
	}
	if len(invalid) > 0 {
		var b strings.Builder
		b.WriteString("Validation Failed: ")
		for i, msg := range invalid {
			fmt.Fprintf(&b, "%d: %s;", i+1, msg)
		}
		return nil, &esError{Type: "action_request_validation_exception", Reason: b.String()}
	}
	return items, nil
}

// apply performs one bulk action and returns its result object. The caller
// holds s.mu.
func (s *Server) apply(it *bulkItem) map[string]any {
	res := map[string]any{"_index": it.index, "_type": "_doc", "_id": it.id}
	fail := func(status int, e *esError) map[string]any {
		res["status"] = status
		res["error"] = e.json()
		return res
	}
	if it.id != "" {
		s.received[docKey{it.index, it.id}]++
	}
	if e := validIndexName(it.index); e != nil {
		return fail(http.StatusBadRequest, e)
	}
	ix := s.indices[it.index]
	shardExtra := func() map[string]any {
		uuid := "_na_"
		if ix != nil {
			uuid = ix.uuid
		}
		return map[string]any{"index_uuid": uuid, "shard": "0", "index": it.index}
	}
	if it.rejected {
		return fail(it.rejectStatus, &esError{Type: it.rejectType, Reason: it.rejectReason, Extra: shardExtra()})
	}

	if it.action == "delete" {
		if ix == nil {
			return fail(http.StatusNotFound, indexNotFound(it.index))
		}
		d := ix.docs[it.id]
		ix.seqNo++
		res["_shards"] = map[string]any{"total": 2, "successful": 1, "failed": 0}
		res["_seq_no"], res["_primary_term"] = ix.seqNo, 1
		if d == nil {
			res["_version"], res["result"], res["status"] = 1, "not_found", http.StatusNotFound
			return res
		}
		delete(ix.docs, it.id)
		res["_version"], res["result"], res["status"] = d.version+1, "deleted", http.StatusOK
		return res
	}

	if it.id == "" {
		s.nextID++
		it.id = fmt.Sprintf("estest-auto-%014d", s.nextID)
		res["_id"] = it.id
		s.received[docKey{it.index, it.id}]++
	}
	source, e := parseSource(it.source)
	if e != nil {
		e.Extra = shardExtra()
		return fail(http.StatusBadRequest, e)
	}
	var mapping *field
	if ix != nil {
		mapping = ix.mapping
	} else {
		mapping = newObject()
	}
	updated, e := mapDocument(mapping, source, it.id)
	if e != nil {
		e.Extra = shardExtra()
		return fail(http.StatusBadRequest, e)
	}
	if ix == nil { // auto-create, as with action.auto_create_index=true
		ix = s.newIndex(it.index, nil)
	}
	old := ix.docs[it.id]
	if it.action == "create" && old != nil {
		return fail(http.StatusConflict, &esError{
			Type:   "version_conflict_engine_exception",
			Reason: fmt.Sprintf("[%s]: version conflict, document already exists (current version [%d])", it.id, old.version),
			Extra:  shardExtra(),
		})
	}
	ix.mapping = updated
	ix.seqNo++
	s.order++
	d := &document{source: json.RawMessage(bytes.Clone(it.source)), version: 1, seqNo: ix.seqNo, order: s.order}
	status, result := http.StatusCreated, "created"
	if old != nil {
		d.version, d.order = old.version+1, old.order
		status, result = http.StatusOK, "updated"
	}
	ix.docs[it.id] = d
	res["_version"] = d.version
	res["result"] = result
	res["_shards"] = map[string]any{"total": 2, "successful": 1, "failed": 0}
	res["_seq_no"] = d.seqNo
	res["_primary_term"] = 1
	res["status"] = status
	return res
}

// parseSource decodes a document source, which must be a JSON object, the way
// Elasticsearch's failures read.
func parseSource(src []byte) (map[string]any, *esError) {
	trimmed := bytes.TrimSpace(src)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, &esError{
			Type: "mapper_parsing_exception", Reason: "failed to parse",
			CausedBy: &esError{Type: "not_x_content_exception",
				Reason: "Compressor detection can only be called on some xcontent bytes or compressed xcontent bytes"},
		}
	}
	if !utf8.Valid(trimmed) {
		return nil, &esError{
			Type: "mapper_parsing_exception", Reason: "failed to parse",
			CausedBy: &esError{Type: "json_parse_exception", Reason: "Invalid UTF-8 start byte"},
		}
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var doc map[string]any
	err := dec.Decode(&doc)
	if err == nil && dec.More() {
		err = fmt.Errorf("unexpected data after the document")
	}
	if err != nil {
		return nil, &esError{
			Type: "mapper_parsing_exception", Reason: "failed to parse",
			CausedBy: &esError{Type: "json_parse_exception", Reason: err.Error()},
		}
	}
	return doc, nil
}
