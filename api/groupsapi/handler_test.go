package groupsapi

import (
	"context"
	"strings"
	"testing"

	"github.com/spatehq/spate/api/awsproto/awsprototest"
	"github.com/spatehq/spate/groups"
	"github.com/spatehq/spate/shard"
)

func newClient(t *testing.T) (*awsprototest.Client, *shard.Store) {
	t.Helper()
	store, err := shard.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	for _, name := range []string{"in", "out"} {
		if err := store.CreateStream(context.Background(), shard.CreateStreamInput{Name: name, ShardCount: 1}); err != nil {
			t.Fatal(err)
		}
	}
	return awsprototest.NewServer(t, NewHandler(groups.New(store)), TargetPrefix), store
}

func TestActions(t *testing.T) {
	c, store := newClient(t)
	res, err := store.Append(context.Background(), "in", []shard.Entry{{PartitionKey: "k", Data: []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	seq := res[0].SequenceNumber
	ref := map[string]any{"StreamName": "in", "GroupName": "g"}
	with := func(kv ...any) map[string]any {
		m := map[string]any{}
		for k, v := range ref {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	g := c.OK("JoinGroup", with("WorkerId", "w:1", "InitialPosition", "TRIM_HORIZON", "LeaseTimeoutMillis", 5000))["Group"].(map[string]any)
	if g["LeaseTimeoutMillis"].(float64) != 5000 || g["InitialPosition"] != "TRIM_HORIZON" || len(g["Leases"].([]any)) != 1 {
		t.Fatalf("group %v", g)
	}
	l := c.OK("AcquireLease", with("WorkerId", "w:1", "ShardId", "shardId-000000000000"))["Lease"].(map[string]any)
	if l["Owner"] != "w:1" || l["LeaseCounter"].(float64) != 1 || l["Expires"] == nil {
		t.Fatalf("lease %v", l)
	}
	out := c.OK("Checkpoint", with("WorkerId", "w:1", "ShardId", "shardId-000000000000", "LeaseCounter", 1, "SequenceNumber", seq,
		"OutputStreamName", "out", "OutputRecords", []any{map[string]any{"PartitionKey": "p", "Data": "eQ=="}}))
	if recs := out["OutputRecords"].([]any); len(recs) != 1 || recs[0].(map[string]any)["SequenceNumber"] == "" {
		t.Fatalf("checkpoint reply %v", out)
	}
	g = c.OK("Heartbeat", with("WorkerId", "w:1"))["Group"].(map[string]any)
	if g["Leases"].([]any)[0].(map[string]any)["Checkpoint"] != seq {
		t.Fatalf("heartbeat %v", g)
	}
	if groups := c.OK("ListGroups", map[string]any{"StreamName": "in"})["Groups"].([]any); len(groups) != 1 || groups[0] != "g" {
		t.Fatalf("groups %v", groups)
	}
	// CBOR too.
	if r := c.CallCBOR("DescribeGroup", ref); r.Status != 200 {
		t.Fatalf("CBOR describe: %d %s", r.Status, r.Raw)
	}

	c.FailsWith("Checkpoint", with("WorkerId", "w2", "ShardId", "shardId-000000000000", "LeaseCounter", 1, "SequenceNumber", seq),
		400, "LeaseLostException", "does not hold the lease")
	c.FailsWith("ResetGroup", with("Position", "TRIM_HORIZON"), 400, "ResourceInUseException", "live workers")
	c.Fails("JoinGroup", with("WorkerId", "w/1"), 400, "InvalidArgumentException")
	c.Fails("JoinGroup", with("WorkerId", "w", "LeaseTimeoutMillis", 300001), 400, "InvalidArgumentException")
	c.Fails("DescribeGroup", map[string]any{"StreamName": "in", "GroupName": "none"}, 400, "ResourceNotFoundException")
	c.Fails("DescribeGroup", map[string]any{"StreamName": "nostream", "GroupName": "g"}, 400, "ResourceNotFoundException")

	c.OK("LeaveGroup", with("WorkerId", "w:1"))
	g = c.OK("ResetGroup", with("Position", "AT_SEQUENCE_NUMBER", "ShardId", "shardId-000000000000", "SequenceNumber", seq))["Group"].(map[string]any)
	if g["Leases"].([]any)[0].(map[string]any)["LagRecords"].(float64) != 0 {
		t.Fatalf("reset %v", g)
	}
	c.OK("DeleteGroup", ref)
	c.Fails("DeleteGroup", ref, 400, "ResourceNotFoundException")
}

// TestBounds checks the size bounds of group requests on the HTTP face.
func TestBounds(t *testing.T) {
	c, _ := newClient(t)
	long := strings.Repeat("a", 129)
	c.Fails("JoinGroup", map[string]any{"StreamName": "in", "GroupName": long, "WorkerId": "w"}, 400, "InvalidArgumentException")
	c.Fails("JoinGroup", map[string]any{"StreamName": "in", "GroupName": "g", "WorkerId": long}, 400, "InvalidArgumentException")
	c.Fails("AcquireLease", map[string]any{"StreamName": "in", "GroupName": "g", "WorkerId": "w", "ShardId": long}, 400, "InvalidArgumentException")
	c.OK("JoinGroup", map[string]any{"StreamName": "in", "GroupName": "g", "WorkerId": strings.Repeat("w", 128)})
	out := make([]any, groups.MaxOutputRecords+1)
	for i := range out {
		out[i] = map[string]any{"PartitionKey": "k", "Data": "eQ=="}
	}
	c.Fails("Checkpoint", map[string]any{"StreamName": "in", "GroupName": "g", "WorkerId": "w", "ShardId": "shardId-000000000000",
		"LeaseCounter": 1, "ShardEnd": true, "OutputStreamName": "out", "OutputRecords": out}, 400, "InvalidArgumentException")
}
