package essink_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spatehq/spate/firehose/essink"
	"github.com/spatehq/spate/firehose/essink/estest"
)

// target returns the cluster a test runs against: the one at ES_URL when it
// is set (fake is then nil; put credentials in the URL's user-info part),
// else a fresh in-process estest server.
func target(t *testing.T) (url string, fake *estest.Server) {
	t.Helper()
	if u := os.Getenv("ES_URL"); u != "" {
		return strings.TrimRight(u, "/"), nil
	}
	s := estest.New(t)
	return s.URL(), s
}

// needFake skips a test that injects faults when it runs against a real
// cluster.
func needFake(t *testing.T, fake *estest.Server) {
	t.Helper()
	if fake == nil {
		t.Skip("fault injection needs the estest server; ES_URL points at a real cluster, where faults cannot be injected")
	}
}

// testIndex returns an index name prefix unique to this test run and, on the
// way out, deletes every index whose name starts with it.
func testIndex(t *testing.T, url string) string {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-"))
	base := "essink-test-" + strings.Trim(name, "-") + "-" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		var got map[string]json.RawMessage
		status, body := do(t, url, "GET", "/"+base+"*", nil)
		if status != http.StatusOK {
			t.Errorf("list test indices: HTTP %d: %s", status, body)
			return
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Errorf("list test indices: %v", err)
			return
		}
		for name := range got {
			if status, body := do(t, url, "DELETE", "/"+name, nil); status != http.StatusOK {
				t.Errorf("delete index %s: HTTP %d: %s", name, status, body)
			}
		}
	})
	return base
}

// do makes one HTTP request to the cluster and returns the status and body.
func do(t *testing.T, url, method, path string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return res.StatusCode, out
}

// count refreshes an index and returns its document count.
func count(t *testing.T, url, index string) int {
	t.Helper()
	if status, body := do(t, url, "POST", "/"+index+"/_refresh", nil); status != http.StatusOK {
		t.Fatalf("refresh %s: HTTP %d: %s", index, status, body)
	}
	status, body := do(t, url, "GET", "/"+index+"/_count", nil)
	if status != http.StatusOK {
		t.Fatalf("count %s: HTTP %d: %s", index, status, body)
	}
	var res struct{ Count int }
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("count %s: %v: %s", index, err, body)
	}
	return res.Count
}

// source returns a stored document's _source.
func source(t *testing.T, url, index, id string) json.RawMessage {
	t.Helper()
	status, body := do(t, url, "GET", "/"+index+"/_doc/"+id, nil)
	if status != http.StatusOK {
		t.Fatalf("get %s/%s: HTTP %d: %s", index, id, status, body)
	}
	var res struct {
		Found  bool
		Source json.RawMessage `json:"_source"`
	}
	if err := json.Unmarshal(body, &res); err != nil || !res.Found {
		t.Fatalf("get %s/%s: found=%v err=%v: %s", index, id, res.Found, err, body)
	}
	return res.Source
}

// fakeClock is a clock that only moves when Deliver sleeps, so retry tests
// run instantly and do not depend on timing.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	slept  time.Duration
	sleeps int
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept += d
	c.sleeps++
	return nil
}

func (c *fakeClock) Slept() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.slept
}

// newClient returns a Client on url whose retries run on clock.
func newClient(t *testing.T, url string, clock *fakeClock, opts ...essink.Option) *essink.Client {
	t.Helper()
	opts = append([]essink.Option{essink.WithClock(clock.Now), essink.WithSleep(clock.Sleep)}, opts...)
	c, err := essink.New(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// docs returns n documents for index with IDs prefix-0 ... prefix-(n-1).
func docs(index, prefix string, n int) []essink.Doc {
	out := make([]essink.Doc, n)
	for i := range out {
		id := fmt.Sprintf("%s-%d", prefix, i)
		out[i] = essink.Doc{ID: id, Index: index, Body: fmt.Appendf(nil, `{"id":%q,"n":%d}`, id, i)}
	}
	return out
}
