package groupsapi

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/api/awsproto/awsprototest"
	"github.com/spatehq/spate/groups"
	"github.com/spatehq/spate/shard"
)

// recordingGuard lets everything through and records what it was asked.
type recordingGuard struct {
	mu    sync.Mutex
	calls [][]string // action, then resources
}

func (g *recordingGuard) AuthenticateHTTP(ctx context.Context, _ *http.Request, _ []byte, _ string) (context.Context, error) {
	return ctx, nil
}

func (g *recordingGuard) Authorize(_ context.Context, action string, resources ...string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls = append(g.calls, append([]string{action}, resources...))
	return nil
}

func (g *recordingGuard) ARN(service, resource string) string {
	return "arn:" + service + ":" + resource
}

// TestGuard checks what the HTTP face authorizes: kinesis:<Action> on
// the group's stream, and on a Checkpoint's output stream too.
func TestGuard(t *testing.T) {
	store, err := shard.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	g := &recordingGuard{}
	c := awsprototest.NewServer(t, NewHandler(groups.New(store), awsproto.WithGuard(g)), TargetPrefix)
	c.Call("JoinGroup", map[string]any{"StreamName": "in", "GroupName": "g", "WorkerId": "w"})
	c.Call("Checkpoint", map[string]any{"StreamName": "in", "GroupName": "g", "WorkerId": "w", "ShardId": "shardId-000000000000",
		"LeaseCounter": 1, "SequenceNumber": "1", "OutputStreamName": "out",
		"OutputRecords": []any{map[string]any{"PartitionKey": "p", "Data": "eQ=="}}})
	want := [][]string{
		{"kinesis:JoinGroup", "arn:kinesis:stream/in"},
		{"kinesis:Checkpoint", "arn:kinesis:stream/in", "arn:kinesis:stream/out"},
	}
	if len(g.calls) != len(want) {
		t.Fatalf("authorized %v, want %v", g.calls, want)
	}
	for i := range want {
		got := g.calls[i]
		slices.Sort(got[1:])
		if !slices.Equal(got, want[i]) {
			t.Errorf("call %d authorized %v, want %v", i, got, want[i])
		}
	}
}
