package essink_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spatehq/spate/firehose/essink"
	"github.com/spatehq/spate/firehose/essink/estest"
)

// checkResult compares the counters of a Result.
func checkResult(t *testing.T, got essink.Result, succeeded, failed, attempts, retried int) {
	t.Helper()
	if got.Succeeded != succeeded || len(got.Failed) != failed || got.Attempts != attempts || got.Retried != retried {
		t.Errorf("Result: succeeded=%d failed=%d attempts=%d retried=%d, want %d, %d, %d, %d (failed: %+v)",
			got.Succeeded, len(got.Failed), got.Attempts, got.Retried, succeeded, failed, attempts, retried, got.Failed)
	}
}

func TestDeliverHappyPath(t *testing.T) {
	url, fake := target(t)
	base := testIndex(t, url)
	c := newClient(t, url, newFakeClock())

	day1 := essink.IndexName(base, essink.OneDay, time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC))
	day2 := essink.IndexName(base, essink.OneDay, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	batch := append(docs(day1, "a", 3), docs(day2, "b", 2)...)
	// A pretty-printed record must survive the newline-delimited bulk body.
	batch = append(batch, essink.Doc{ID: "pretty", Index: day2, Body: []byte("{\n  \"msg\": \"two\\nlines\",\n  \"n\": 7\n}\n")})

	res, err := c.Deliver(t.Context(), batch, 300*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, 6, 0, 1, 0)
	if res.Requests != 1 {
		t.Errorf("Requests = %d, want 1", res.Requests)
	}
	if got := count(t, url, day1); got != 3 {
		t.Errorf("count(%s) = %d, want 3", day1, got)
	}
	if got := count(t, url, day2); got != 3 {
		t.Errorf("count(%s) = %d, want 3", day2, got)
	}
	if got, want := string(source(t, url, day2, "pretty")), `{"msg":"two\nlines","n":7}`; got != want {
		t.Errorf("stored source = %s, want %s", got, want)
	}
	if got, want := string(source(t, url, day1, "a-1")), `{"id":"a-1","n":1}`; got != want {
		t.Errorf("stored source = %s, want %s", got, want)
	}
	if fake != nil {
		if n := fake.BulkRequests(); n != 1 {
			t.Errorf("bulk requests = %d, want 1", n)
		}
		for _, d := range batch {
			if n := fake.Received(d.Index, d.ID); n != 1 {
				t.Errorf("document %s received %d times, want 1", d.ID, n)
			}
		}
	}
}

func TestDeliverEmpty(t *testing.T) {
	url, fake := target(t)
	c := newClient(t, url, newFakeClock())
	res, err := c.Deliver(t.Context(), nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, 0, 0, 0, 0)
	if fake != nil && fake.BulkRequests() != 0 {
		t.Errorf("bulk requests = %d, want 0", fake.BulkRequests())
	}
}

// TestDeliverIdempotent delivers a batch twice, as after a crash before the
// checkpoint moved: the documents are overwritten, not duplicated.
func TestDeliverIdempotent(t *testing.T) {
	url, fake := target(t)
	index := testIndex(t, url)
	c := newClient(t, url, newFakeClock())
	batch := docs(index, "rec", 10)
	for round := 1; round <= 2; round++ {
		res, err := c.Deliver(t.Context(), batch, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, res, 10, 0, 1, 0)
		if got := count(t, url, index); got != 10 {
			t.Fatalf("after delivery %d: count = %d, want 10", round, got)
		}
	}
	if fake != nil {
		if n := fake.Received(index, "rec-3"); n != 2 {
			t.Errorf("rec-3 received %d times, want 2", n)
		}
	}
}

// TestDeliverInvalidJSON: records that are not UTF-8 JSON objects fail with
// ValidateJSONObject's error, without being sent, and do not stop the rest.
func TestDeliverInvalidJSON(t *testing.T) {
	url, fake := target(t)
	index := testIndex(t, url)
	c := newClient(t, url, newFakeClock())
	batch := []essink.Doc{
		{ID: "text", Index: index, Body: []byte("plain text")},
		{ID: "good", Index: index, Body: []byte(`{"ok":true}`)},
		{ID: "array", Index: index, Body: []byte(`[1,2]`)},
		{ID: "latin1", Index: index, Body: []byte("{\"a\":\"caf\xe9\"}")},
		{ID: "truncated", Index: index, Body: []byte(`{"a":`)},
	}
	res, err := c.Deliver(t.Context(), batch, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, 1, 4, 1, 0)
	wantIDs := []string{"text", "array", "latin1", "truncated"}
	for i, f := range res.Failed {
		if f.Doc.ID != wantIDs[i] {
			t.Errorf("Failed[%d] is %s, want %s (input order)", i, f.Doc.ID, wantIDs[i])
		}
		want := essink.ValidateJSONObject(f.Doc.Body).Error()
		if f.Error != want || f.Status != 0 || f.Attempts != 0 || f.Type != "" {
			t.Errorf("Failed[%d] = %+v, want error %q, status 0, no attempts", i, f, want)
		}
	}
	if got := count(t, url, index); got != 1 {
		t.Errorf("count = %d, want 1", got)
	}
	if fake != nil {
		for _, id := range wantIDs {
			if n := fake.Received(index, id); n != 0 {
				t.Errorf("invalid document %s was sent %d times", id, n)
			}
		}
	}
}

// TestDeliverAllInvalid sends nothing when no document is valid.
func TestDeliverAllInvalid(t *testing.T) {
	url, fake := target(t)
	c := newClient(t, url, newFakeClock())
	res, err := c.Deliver(t.Context(), []essink.Doc{{ID: "x", Index: "whatever", Body: []byte("nope")}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, 0, 1, 0, 0)
	if fake != nil && fake.BulkRequests() != 0 {
		t.Errorf("bulk requests = %d, want 0", fake.BulkRequests())
	}
}

// TestDeliverMappingConflict causes a real mapping error (a string in a long
// field), which works against a real cluster as well: the document is retried
// until the retry duration ends, then returned with the error Elasticsearch
// gave; the other documents are delivered once.
func TestDeliverMappingConflict(t *testing.T) {
	for _, retryFor := range []time.Duration{0, 20 * time.Second} {
		t.Run(fmt.Sprintf("retry %v", retryFor), func(t *testing.T) {
			url, fake := target(t)
			index := testIndex(t, url)
			if status, body := do(t, url, "PUT", "/"+index, []byte(`{"mappings":{"properties":{"n":{"type":"long"}}}}`)); status != http.StatusOK {
				t.Fatalf("create index: HTTP %d: %s", status, body)
			}
			clock := newFakeClock()
			c := newClient(t, url, clock)
			batch := []essink.Doc{
				{ID: "ok-1", Index: index, Body: []byte(`{"n":1}`)},
				{ID: "bad", Index: index, Body: []byte(`{"n":"not a number"}`)},
				{ID: "ok-2", Index: index, Body: []byte(`{"n":"2"}`)}, // coerced, as Elasticsearch does
			}
			res, err := c.Deliver(t.Context(), batch, retryFor)
			if err != nil {
				t.Fatal(err)
			}
			if res.Succeeded != 2 || len(res.Failed) != 1 {
				t.Fatalf("Result = %+v, want 2 succeeded and 1 failed", res)
			}
			f := res.Failed[0]
			if f.Doc.ID != "bad" || f.Status != http.StatusBadRequest || f.Type != "mapper_parsing_exception" ||
				!strings.HasPrefix(f.Error, "mapper_parsing_exception: failed to parse field [n] of type [long]") {
				t.Errorf("Failed[0] = %+v, want doc bad, status 400, mapper_parsing_exception on field [n]", f)
			}
			if f.Attempts != res.Attempts {
				t.Errorf("failed document sent %d times, want once per attempt (%d)", f.Attempts, res.Attempts)
			}
			if retryFor == 0 {
				checkResult(t, res, 2, 1, 1, 0)
			} else {
				if res.Attempts < 3 {
					t.Errorf("Attempts = %d, want retries for %v", res.Attempts, retryFor)
				}
				if res.Retried != res.Attempts-1 {
					t.Errorf("Retried = %d, want %d (only the failed document re-sent)", res.Retried, res.Attempts-1)
				}
			}
			// Retrying stops exactly when the duration is up.
			if got := clock.Slept(); got != retryFor {
				t.Errorf("waited %v in all, want %v", got, retryFor)
			}
			if got := count(t, url, index); got != 2 {
				t.Errorf("count = %d, want 2", got)
			}
			if fake != nil {
				for id, want := range map[string]int{"ok-1": 1, "ok-2": 1, "bad": res.Attempts} {
					if n := fake.Received(index, id); n != want {
						t.Errorf("%s received %d times, want %d", id, n, want)
					}
				}
			}
		})
	}
}

// TestDeliverInvalidIndexName: an index Elasticsearch refuses to create fails
// each of its documents, on a real cluster too.
func TestDeliverInvalidIndexName(t *testing.T) {
	url, _ := target(t)
	index := testIndex(t, url)
	c := newClient(t, url, newFakeClock())
	batch := []essink.Doc{
		{ID: "1", Index: index, Body: []byte(`{"a":1}`)},
		{ID: "2", Index: strings.ToUpper(index), Body: []byte(`{"a":2}`)},
	}
	res, err := c.Deliver(t.Context(), batch, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Succeeded != 1 || len(res.Failed) != 1 || res.Failed[0].Doc.ID != "2" ||
		res.Failed[0].Status != http.StatusBadRequest || res.Failed[0].Type != "invalid_index_name_exception" {
		t.Fatalf("Result = %+v, want document 2 failed with invalid_index_name_exception", res)
	}
}

// rejectFirst returns a RejectFunc that rejects the listed documents the
// given number of times each, then accepts them.
func rejectFirst(times int, status int, errType, reason string, ids ...string) estest.RejectFunc {
	var mu sync.Mutex
	left := make(map[string]int)
	for _, id := range ids {
		left[id] = times
	}
	return func(_, id string, _ []byte) (int, string, string, bool) {
		mu.Lock()
		defer mu.Unlock()
		if left[id] > 0 {
			left[id]--
			return status, errType, reason, true
		}
		return 0, "", "", false
	}
}

func TestDeliverPartialFailureRetried(t *testing.T) {
	url, fake := target(t)
	needFake(t, fake)
	index := testIndex(t, url)
	fake.RejectDocs(rejectFirst(2, http.StatusBadRequest, "mapper_parsing_exception", "failed to parse", "rec-1", "rec-3"))
	c := newClient(t, url, newFakeClock())

	res, err := c.Deliver(t.Context(), docs(index, "rec", 5), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, 5, 0, 3, 4) // two documents re-sent twice
	if got := fake.BulkRequests(); got != 3 {
		t.Errorf("bulk requests = %d, want 3", got)
	}
	// Never re-send a document that succeeded.
	for id, want := range map[string]int{"rec-0": 1, "rec-1": 3, "rec-2": 1, "rec-3": 3, "rec-4": 1} {
		if n := fake.Received(index, id); n != want {
			t.Errorf("%s received %d times, want %d", id, n, want)
		}
	}
	if got := count(t, url, index); got != 5 {
		t.Errorf("count = %d, want 5", got)
	}
}

func TestDeliverPersistentRejection(t *testing.T) {
	url, fake := target(t)
	needFake(t, fake)
	index := testIndex(t, url)
	const reason = "failed to parse field [level] of type [long] in document with id 'rec-2'"
	fake.RejectDocs(func(_, id string, _ []byte) (int, string, string, bool) {
		return http.StatusBadRequest, "mapper_parsing_exception", reason, id == "rec-2"
	})
	clock := newFakeClock()
	c := newClient(t, url, clock)
	const retryFor = 300 * time.Second

	res, err := c.Deliver(t.Context(), docs(index, "rec", 4), retryFor)
	if err != nil {
		t.Fatal(err)
	}
	if res.Succeeded != 3 || len(res.Failed) != 1 {
		t.Fatalf("Result = %+v, want 3 succeeded, 1 failed", res)
	}
	f := res.Failed[0]
	want := essink.Failed{
		Doc: docs(index, "rec", 4)[2], Status: 400, Type: "mapper_parsing_exception",
		Error: "mapper_parsing_exception: " + reason, Attempts: res.Attempts,
	}
	if f.Doc.ID != want.Doc.ID || string(f.Doc.Body) != string(want.Doc.Body) || f.Status != want.Status ||
		f.Type != want.Type || f.Error != want.Error || f.Attempts != want.Attempts {
		t.Errorf("Failed[0] = %+v\nwant        %+v", f, want)
	}
	if got := clock.Slept(); got != retryFor {
		t.Errorf("retried for %v, want %v", got, retryFor)
	}
	if res.Attempts < 5 || res.Retried != res.Attempts-1 {
		t.Errorf("Attempts = %d, Retried = %d: want several attempts, each re-sending only the failed document", res.Attempts, res.Retried)
	}
	for _, id := range []string{"rec-0", "rec-1", "rec-3"} {
		if n := fake.Received(index, id); n != 1 {
			t.Errorf("%s received %d times, want 1", id, n)
		}
	}
}

func TestDeliverItem429ThenSuccess(t *testing.T) {
	url, fake := target(t)
	needFake(t, fake)
	index := testIndex(t, url)
	batch := docs(index, "rec", 6)
	ids := make([]string, len(batch))
	for i, d := range batch {
		ids[i] = d.ID
	}
	fake.RejectDocs(rejectFirst(1, http.StatusTooManyRequests, "es_rejected_execution_exception",
		"rejected execution of coordinating operation", ids[1:4]...))
	c := newClient(t, url, newFakeClock())

	res, err := c.Deliver(t.Context(), batch, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, 6, 0, 2, 3)
	if got := count(t, url, index); got != 6 {
		t.Errorf("count = %d, want 6", got)
	}
	for i, id := range ids {
		want := 1
		if i >= 1 && i < 4 {
			want = 2
		}
		if n := fake.Received(index, id); n != want {
			t.Errorf("%s received %d times, want %d", id, n, want)
		}
	}
}

func TestDeliverWholeRequestFailureThenSuccess(t *testing.T) {
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusInternalServerError} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			url, fake := target(t)
			needFake(t, fake)
			index := testIndex(t, url)
			fake.FailRequests(2, status)
			c := newClient(t, url, newFakeClock())

			res, err := c.Deliver(t.Context(), docs(index, "rec", 4), time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, res, 4, 0, 3, 8)
			if got := fake.BulkRequests(); got != 3 {
				t.Errorf("bulk requests = %d, want 3", got)
			}
			if got := count(t, url, index); got != 4 {
				t.Errorf("count = %d, want 4", got)
			}
		})
	}
}

func TestDeliverWholeRequestFailurePersists(t *testing.T) {
	url, fake := target(t)
	needFake(t, fake)
	index := testIndex(t, url)
	fake.FailRequests(1_000_000, http.StatusServiceUnavailable)
	clock := newFakeClock()
	c := newClient(t, url, clock)

	res, err := c.Deliver(t.Context(), docs(index, "rec", 3), 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Succeeded != 0 || len(res.Failed) != 3 {
		t.Fatalf("Result = %+v, want all 3 failed", res)
	}
	for _, f := range res.Failed {
		if f.Status != http.StatusServiceUnavailable || f.Type != "cluster_block_exception" ||
			!strings.HasPrefix(f.Error, "cluster_block_exception: ") || f.Attempts != res.Attempts {
			t.Errorf("Failed = %+v, want status 503 with the cluster's error, sent on every attempt", f)
		}
	}
	if got := clock.Slept(); got != 60*time.Second {
		t.Errorf("retried for %v, want 60s", got)
	}
	if got := fake.BulkRequests(); got != res.Attempts {
		t.Errorf("bulk requests = %d, want one per attempt (%d)", got, res.Attempts)
	}
}

// TestDeliverAfterTransportError: a dropped connection fails the attempt; the
// next attempt must reach the server (olivere would otherwise answer it with
// "no Elasticsearch node available" without sending it).
func TestDeliverAfterTransportError(t *testing.T) {
	fake := estest.New(t)
	var mu sync.Mutex
	drops := 1
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		drop := drops > 0 && strings.HasSuffix(r.URL.Path, "/_bulk")
		if drop {
			drops--
		}
		mu.Unlock()
		if drop {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			conn.Close()
			return
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	c := newClient(t, proxy.URL, newFakeClock())

	res, err := c.Deliver(t.Context(), docs("idx", "rec", 3), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, 3, 0, 2, 3)
	if res.Requests != 2 {
		t.Errorf("Requests = %d, want 2", res.Requests)
	}
	if got := fake.Count("idx"); got != 3 {
		t.Errorf("count = %d, want 3", got)
	}
}

func TestDeliverConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	clock := newFakeClock()
	c := newClient(t, url, clock)

	res, err := c.Deliver(t.Context(), docs("idx", "rec", 2), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Succeeded != 0 || len(res.Failed) != 2 || res.Attempts < 2 {
		t.Fatalf("Result = %+v, want both failed after retries", res)
	}
	for _, f := range res.Failed {
		if f.Status != 0 || f.Type != "" || !strings.Contains(f.Error, "connection refused") {
			t.Errorf("Failed = %+v, want status 0 and a connection refused error", f)
		}
	}
	if got := clock.Slept(); got != 10*time.Second {
		t.Errorf("retried for %v, want 10s", got)
	}
}

func TestDeliverSplitsLargeBatches(t *testing.T) {
	url, fake := target(t)
	index := testIndex(t, url)
	c := newClient(t, url, newFakeClock(), essink.WithMaxBulkBytes(400))
	batch := docs(index, "rec", 20) // ~100 bytes each with the action line

	res, err := c.Deliver(t.Context(), batch, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, 20, 0, 1, 0)
	if res.Requests < 4 {
		t.Errorf("Requests = %d, want the batch split into several bulk requests", res.Requests)
	}
	if fake != nil && fake.BulkRequests() != res.Requests {
		t.Errorf("bulk requests = %d, want %d", fake.BulkRequests(), res.Requests)
	}
	if got := count(t, url, index); got != 20 {
		t.Errorf("count = %d, want 20", got)
	}
}

func TestDeliverContextCanceled(t *testing.T) {
	url, fake := target(t)
	needFake(t, fake)
	index := testIndex(t, url)

	t.Run("before sending", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		c := newClient(t, url, newFakeClock())
		before := fake.BulkRequests()
		_, err := c.Deliver(ctx, docs(index, "a", 2), time.Minute)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Deliver error = %v, want context.Canceled", err)
		}
		if fake.BulkRequests() != before {
			t.Error("a bulk request was sent with a canceled context")
		}
	})

	t.Run("while waiting to retry", func(t *testing.T) {
		fake.RejectDocs(func(_, id string, _ []byte) (int, string, string, bool) {
			return http.StatusTooManyRequests, "es_rejected_execution_exception", "busy", true
		})
		defer fake.RejectDocs(nil)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		clock := newFakeClock()
		c := newClient(t, url, clock, essink.WithSleep(func(ctx context.Context, d time.Duration) error {
			cancel()
			return clock.Sleep(ctx, d)
		}))
		res, err := c.Deliver(ctx, docs(index, "b", 2), time.Minute)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Deliver error = %v, want context.Canceled", err)
		}
		if res.Attempts != 1 || res.Succeeded != 0 {
			t.Errorf("Result = %+v, want the one attempt made", res)
		}
	})
}

func TestDeliverMalformedCall(t *testing.T) {
	url, fake := target(t)
	c := newClient(t, url, newFakeClock())
	tests := []struct {
		name     string
		docs     []essink.Doc
		retryFor time.Duration
	}{
		{"no ID", []essink.Doc{{ID: "ok", Index: "i", Body: []byte(`{}`)}, {Index: "i", Body: []byte(`{}`)}}, time.Minute},
		{"no index", []essink.Doc{{ID: "x", Body: []byte(`{}`)}}, time.Minute},
		{"negative retry", []essink.Doc{{ID: "x", Index: "i", Body: []byte(`{}`)}}, -time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Deliver(t.Context(), tt.docs, tt.retryFor)
			if err == nil {
				t.Fatalf("Deliver succeeded with %+v", res)
			}
			if fake != nil && fake.BulkRequests() != 0 {
				t.Errorf("bulk requests = %d, want nothing sent", fake.BulkRequests())
			}
		})
	}
}

func TestDeliverBasicAuth(t *testing.T) {
	fake := estest.New(t)
	guarded := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "elastic" || p != "s3cret" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"root_cause":[{"type":"security_exception","reason":"missing authentication credentials"}],"type":"security_exception","reason":"missing authentication credentials"},"status":401}`)
			return
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(guarded.Close)

	tests := []struct {
		name   string
		url    string
		opts   []essink.Option
		wantOK bool
	}{
		{"option", guarded.URL, []essink.Option{essink.WithBasicAuth("elastic", "s3cret")}, true},
		{"url user-info", strings.Replace(guarded.URL, "http://", "http://elastic:s3cret@", 1), nil, true},
		{"wrong password", guarded.URL, []essink.Option{essink.WithBasicAuth("elastic", "nope")}, false},
		{"none", guarded.URL, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, tt.url, newFakeClock(), tt.opts...)
			res, err := c.Deliver(t.Context(), docs("auth", tt.name, 1), 0)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantOK {
				checkResult(t, res, 1, 0, 1, 0)
				return
			}
			if len(res.Failed) != 1 || res.Failed[0].Status != http.StatusUnauthorized || res.Failed[0].Type != "security_exception" {
				t.Errorf("Result = %+v, want the document failed with 401 security_exception", res)
			}
		})
	}
}

func TestNew(t *testing.T) {
	fake := estest.New(t)
	var mu sync.Mutex
	var seen []string
	spy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path)
		mu.Unlock()
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(spy.Close)

	tests := []struct {
		name     string
		url      string
		opts     []essink.Option
		wantErr  bool
		wantSeen string // a request New must make; "" means none at all
	}{
		{"does not contact the cluster by default", spy.URL, nil, false, ""},
		{"custom http client", spy.URL, []essink.Option{essink.WithHTTPClient(&http.Client{Timeout: time.Minute})}, false, ""},
		{"healthcheck", spy.URL, []essink.Option{essink.WithHealthcheck(true)}, false, "HEAD /"},
		{"sniff", spy.URL, []essink.Option{essink.WithSniff(true)}, false, "GET /_nodes/http"},
		{"empty url", "", nil, true, ""},
		{"no scheme", "localhost:9200", nil, true, ""},
		{"not a url", "http://[::1", nil, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			seen = nil
			mu.Unlock()
			c, err := essink.New(tt.url, tt.opts...)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New(%q) error = %v, want error %v", tt.url, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			defer c.Close()
			mu.Lock()
			got := append([]string(nil), seen...)
			mu.Unlock()
			if tt.wantSeen == "" && len(got) > 0 {
				t.Errorf("New made requests %q, want none", got)
			}
			if tt.wantSeen != "" && !slices.Contains(got, tt.wantSeen) {
				t.Errorf("New made requests %q, want %q among them", got, tt.wantSeen)
			}
			// Whatever the options, the client delivers.
			res, err := c.Deliver(t.Context(), docs("new", strings.ReplaceAll(tt.name, " ", "-"), 1), 0)
			if err != nil || res.Succeeded != 1 {
				t.Errorf("Deliver = %+v, %v; want 1 succeeded", res, err)
			}
		})
	}
}

func TestNewRedactsPassword(t *testing.T) {
	_, err := essink.New("localhost:9200://elastic:hunter2@", essink.WithHealthcheck(true))
	if err == nil {
		t.Fatal("New succeeded")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %q shows the password", err)
	}
}

// TestDeliverOnRetry: WithOnRetry hears of each round that leaves
// documents to retry, with the first one's error, and not of the last
// round, whose failures the Result carries.
func TestDeliverOnRetry(t *testing.T) {
	url, fake := target(t)
	needFake(t, fake)
	index := testIndex(t, url)
	batch := docs(index, "rec", 4)
	fake.RejectDocs(rejectFirst(2, http.StatusTooManyRequests, "es_rejected_execution_exception", "queue full", batch[2].ID, batch[3].ID))
	type call struct {
		pending int
		first   essink.Failed
	}
	var calls []call
	c := newClient(t, url, newFakeClock(), essink.WithOnRetry(func(pending int, first essink.Failed) {
		calls = append(calls, call{pending, first})
	}))
	res, err := c.Deliver(t.Context(), batch, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, 4, 0, 3, 4)
	if len(calls) != 2 {
		t.Fatalf("OnRetry called %d times (%+v), want after each of the 2 failed rounds", len(calls), calls)
	}
	for i, c := range calls {
		if c.pending != 2 || c.first.Doc.ID != batch[2].ID || c.first.Status != http.StatusTooManyRequests ||
			c.first.Type != "es_rejected_execution_exception" || c.first.Attempts != i+1 {
			t.Errorf("call %d = %+v, want 2 pending, the first %s rejected with 429 after %d attempts", i, c, batch[2].ID, i+1)
		}
	}

	// Spent retries: the last round is not a retry; its failure is in the
	// Result only.
	calls = nil
	fake.RejectDocs(rejectFirst(100, http.StatusBadRequest, "mapper_parsing_exception", "bad", batch[0].ID))
	res, err = c.Deliver(t.Context(), batch[:1], 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 1 || len(calls) != 0 {
		t.Errorf("with no retry duration: %d failed, OnRetry called %d times; want 1 and 0", len(res.Failed), len(calls))
	}
}
