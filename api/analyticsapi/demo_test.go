package analyticsapi

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/shard"
)

func TestDemoProducer(t *testing.T) {
	f := newFixture(t, WithMaxDemoProducers(2))
	status, got := f.do("POST", "/v1/demo", `{"stream":"ticks","rate":50}`)
	if status != http.StatusCreated || got["stream"] != "ticks" || got["rate"] != 50.0 || got["started_at"] == nil {
		t.Fatalf("POST /v1/demo = %d %v", status, got)
	}
	// The stream was created and fills without any client.
	f.waitFor("demo records", func() bool { return countRecords(t, f.store, "ticks") >= 10 })
	if status, got := f.do("POST", "/v1/demo", `{"stream":"ticks"}`); status != http.StatusOK || got["rate"] != 50.0 {
		t.Fatalf("POST /v1/demo again = %d %v, want 200 and the running producer", status, got)
	}
	// An existing stream is fed too.
	if status, _ := f.do("POST", "/v1/demo", `{"stream":"events"}`); status != http.StatusCreated {
		t.Fatalf("POST /v1/demo on an existing stream = %d", status)
	}
	status, got = f.do("GET", "/v1/demo", "")
	if list, _ := got["producers"].([]any); status != http.StatusOK || len(list) != 2 || list[0].(map[string]any)["stream"] != "events" {
		t.Fatalf("GET /v1/demo = %d %v", status, got)
	}
	if status, _ := f.do("DELETE", "/v1/demo/ticks", ""); status != http.StatusNoContent {
		t.Fatalf("DELETE /v1/demo/ticks = %d", status)
	}
	if _, got := f.do("GET", "/v1/demo", ""); len(got["producers"].([]any)) != 1 {
		t.Fatalf("GET /v1/demo after DELETE = %v", got)
	}
	// Close (the server's shutdown) stops the rest.
	f.handler.Close()
	if got := f.handler.demo.List(); len(got) != 0 {
		t.Fatalf("producers after Close: %+v", got)
	}
}

func TestDemoErrors(t *testing.T) {
	f := newFixture(t, WithMaxDemoProducers(1))
	if status, _ := f.do("POST", "/v1/demo", `{"stream":"one"}`); status != http.StatusCreated {
		t.Fatalf("first producer: %d", status)
	}
	tests := []struct {
		name, method, path, body string
		status                   int
		typ                      string
	}{
		{"rate too high", "POST", "/v1/demo", `{"stream":"s","rate":1000}`, 400, "InvalidArgumentException"},
		{"unknown field", "POST", "/v1/demo", `{"stream":"s","shards":2}`, 400, "SerializationException"},
		{"internal stream", "POST", "/v1/demo", `{"stream":"firehose:orders"}`, 400, "ValidationException"},
		{"no name", "POST", "/v1/demo", `{}`, 400, "ValidationException"},
		{"too many", "POST", "/v1/demo", `{"stream":"two"}`, 429, "LimitExceededException"},
		{"stop what does not run", "DELETE", "/v1/demo/nothing", "", 404, "ResourceNotFoundException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := f.do(tt.method, tt.path, tt.body)
			if status != tt.status || got["__type"] != tt.typ {
				t.Fatalf("%s %s %s = %d %v, want %d %s", tt.method, tt.path, tt.body, status, got, tt.status, tt.typ)
			}
		})
	}
	if _, err := f.store.DescribeStreamSummary(context.Background(), "two"); !apierr.Is(err, apierr.ResourceNotFound) {
		t.Errorf("a refused producer created its stream: %v", err)
	}
}

// fakeGuard lets every signature through and records what is authorized,
// refusing the actions in deny.
type fakeGuard struct {
	mu   sync.Mutex
	seen []string // "action resource"
	deny map[string]bool
}

func (g *fakeGuard) AuthenticateHTTP(ctx context.Context, _ *http.Request, _ []byte, _ string) (context.Context, error) {
	return ctx, nil
}

func (g *fakeGuard) Authorize(_ context.Context, action string, resources ...string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	res := "*"
	if len(resources) > 0 {
		res = resources[0]
	}
	g.seen = append(g.seen, action+" "+res)
	if g.deny[action] {
		return apierr.New(apierr.AccessDenied, "not allowed: %s", action)
	}
	return nil
}

func (g *fakeGuard) ARN(service, resource string) string { return "arn:" + service + ":" + resource }

func (g *fakeGuard) take() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.seen
	g.seen = nil
	return s
}

// The demo producer is authorized as a PutRecords on its stream, and as a
// CreateStream when the stream must be created.
func TestDemoAuthorization(t *testing.T) {
	g := &fakeGuard{deny: map[string]bool{}}
	f := newFixture(t, WithGuard(g))
	tests := []struct {
		name, method, path, body string
		deny                     string
		status                   int
		want                     []string
	}{
		{"existing stream", "POST", "/v1/demo", `{"stream":"events"}`, "", 201,
			[]string{"kinesis:PutRecords arn:kinesis:stream/events"}},
		{"new stream", "POST", "/v1/demo", `{"stream":"fresh"}`, "", 201,
			[]string{"kinesis:PutRecords arn:kinesis:stream/fresh", "kinesis:CreateStream arn:kinesis:stream/fresh"}},
		{"new stream, CreateStream denied", "POST", "/v1/demo", `{"stream":"denied"}`, "kinesis:CreateStream", 403,
			[]string{"kinesis:PutRecords arn:kinesis:stream/denied", "kinesis:CreateStream arn:kinesis:stream/denied"}},
		{"PutRecords denied", "POST", "/v1/demo", `{"stream":"events"}`, "kinesis:PutRecords", 403,
			[]string{"kinesis:PutRecords arn:kinesis:stream/events"}},
		{"list", "GET", "/v1/demo", "", "", 200, []string{"kinesis:ListStreams *"}},
		{"stop", "DELETE", "/v1/demo/events", "", "", 204, []string{"kinesis:PutRecords arn:kinesis:stream/events"}},
		{"stop denied", "DELETE", "/v1/demo/fresh", "", "kinesis:PutRecords", 403, []string{"kinesis:PutRecords arn:kinesis:stream/fresh"}},
		{"application actions keep their prefix", "GET", "/v1/applications", "", "", 200, []string{"kinesisanalytics:ListApplications *"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g.deny = map[string]bool{tt.deny: tt.deny != ""}
			status, got := f.do(tt.method, tt.path, tt.body)
			if status != tt.status {
				t.Fatalf("%s %s %s = %d %v, want %d", tt.method, tt.path, tt.body, status, got, tt.status)
			}
			if seen := g.take(); !slices.Equal(seen, tt.want) {
				t.Fatalf("authorized %q, want %q", seen, tt.want)
			}
		})
	}
	if _, err := f.store.DescribeStreamSummary(context.Background(), "denied"); !apierr.Is(err, apierr.ResourceNotFound) {
		t.Errorf("a producer denied CreateStream created its stream: %v", err)
	}
	if got := f.handler.demo.List(); len(got) != 1 || got[0].Stream != "fresh" {
		t.Errorf("producers = %+v, want only fresh's", got)
	}
}

// countRecords counts the records of a one-shard stream.
func countRecords(t *testing.T, store *shard.Store, stream string) int {
	t.Helper()
	ctx := context.Background()
	c, err := store.Seek(ctx, stream, "shardId-000000000000", shard.Position{Type: shard.TrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		res, err := store.Read(ctx, c, 1000, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Records) == 0 {
			return n
		}
		n += len(res.Records)
		c = res.Next
	}
}
