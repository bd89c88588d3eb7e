package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spatehq/spate/api/awsproto/awsprototest"
	"github.com/spatehq/spate/api/grpcapi"
	"github.com/spatehq/spate/apierr"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// groupsCall sends one action of the consumer groups' HTTP API
// (X-Amz-Target SpateGroups_20261207.<action>) as JSON, or as CBOR, and
// returns the status and the decoded reply.
func groupsCall(ctx context.Context, t *testing.T, s *server, action string, body map[string]any, cbor bool) (int, map[string]any) {
	t.Helper()
	var raw []byte
	var err error
	contentType := "application/x-amz-json-1.1"
	if cbor {
		raw, err = awsprototest.EncodeCBOR(body)
		contentType = cborContentType
	} else {
		raw, err = json.Marshal(body)
	}
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Endpoint()+"/", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Amz-Target", "SpateGroups_20261207."+action)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	defer resp.Body.Close()
	if got := resp.Header.Get("Content-Type"); got != contentType {
		t.Fatalf("%s: Content-Type %q, want %q", action, got, contentType)
	}
	if cbor {
		return resp.StatusCode, nil
	}
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("%s: %d, body: %v", action, resp.StatusCode, err)
	}
	return resp.StatusCode, m
}

func wantGroupErr(t *testing.T, err error, code apierr.Code, grpcCode codes.Code) {
	t.Helper()
	if status.Code(err) != grpcCode || apierr.CodeOf(grpcapi.FromStatus(err)) != code {
		t.Fatalf("err = %v, want %s (%s)", err, code, grpcCode)
	}
}

// TestGroups drives the consumer groups of the real server over gRPC and
// HTTP: a race for one lease, fencing, exactly-once output, expiry by the
// server's clock, the error types of both faces, durability across kill -9,
// /metrics, and a deleted stream taking its groups along.
func TestGroups(t *testing.T) {
	k := newKin(t, withArgs("--group-lease-timeout", "1s"))
	ctx := testCtx(t)
	stream, out := uniqueName(t), uniqueName(t)+"-out"
	k.create(ctx, t, stream, 2)
	k.create(ctx, t, out, 1)
	var last string
	for i := 0; i < 3; i++ {
		res, err := k.c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String("k"),
			ExplicitHashKey: aws.String("0"), Data: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		last = aws.ToString(res.SequenceNumber)
	}
	c := spatev1.NewGroupServiceClient(grpcConn(t, k.srv))
	ref := &spatev1.GroupRef{StreamName: stream, Group: "g"}
	const shard0 = "shardId-000000000000"
	for _, w := range []string{"w1", "w2"} {
		if _, err := c.JoinGroup(ctx, &spatev1.JoinGroupRequest{Group: ref, WorkerId: w, LeaseTimeoutMillis: 1000}); err != nil {
			t.Fatal(err)
		}
	}

	// Two workers race for one lease: exactly one wins.
	var wg sync.WaitGroup
	leases := make([]*spatev1.Lease, 2)
	errs := make([]error, 2)
	for i, w := range []string{"w1", "w2"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := c.AcquireLease(ctx, &spatev1.AcquireLeaseRequest{Group: ref, WorkerId: w, ShardId: shard0})
			leases[i], errs[i] = r.GetLease(), err
		}()
	}
	wg.Wait()
	win, lose := 0, 1
	if errs[0] != nil {
		win, lose = 1, 0
	}
	if errs[win] != nil || leases[win].GetLeaseCounter() != 1 {
		t.Fatalf("race: %v / %v", errs[0], errs[1])
	}
	wantGroupErr(t, errs[lose], apierr.ResourceInUse, codes.FailedPrecondition)
	winner, loser := []string{"w1", "w2"}[win], []string{"w1", "w2"}[lose]

	// The holder checkpoints with output; the other is fenced.
	cp, err := c.Checkpoint(ctx, &spatev1.CheckpointRequest{Group: ref, WorkerId: winner, ShardId: shard0, LeaseCounter: 1,
		SequenceNumber: last, OutputStreamName: out, OutputRecords: []*spatev1.PutRecordsRequestEntry{{PartitionKey: "p", Data: []byte("y")}}})
	if err != nil || len(cp.GetOutputRecords()) != 1 {
		t.Fatalf("checkpoint: %v, %v", cp, err)
	}
	_, err = c.Checkpoint(ctx, &spatev1.CheckpointRequest{Group: ref, WorkerId: loser, ShardId: shard0, LeaseCounter: 1, SequenceNumber: last})
	wantGroupErr(t, err, apierr.LeaseLost, codes.FailedPrecondition)

	// The HTTP face: the same group, its errors, CBOR.
	status, body := groupsCall(ctx, t, k.srv, "DescribeGroup", map[string]any{"StreamName": stream, "GroupName": "g"}, false)
	leasesJSON, _ := body["Group"].(map[string]any)["Leases"].([]any)
	if status != 200 || len(leasesJSON) != 2 || leasesJSON[0].(map[string]any)["Checkpoint"] != last {
		t.Fatalf("DescribeGroup: %d %v", status, body)
	}
	for _, tc := range []struct {
		action string
		body   map[string]any
		want   string
	}{
		{"Checkpoint", map[string]any{"StreamName": stream, "GroupName": "g", "WorkerId": loser, "ShardId": shard0, "LeaseCounter": 1, "SequenceNumber": last}, "LeaseLostException"},
		{"JoinGroup", map[string]any{"StreamName": stream, "GroupName": "no/slash", "WorkerId": "w"}, "InvalidArgumentException"},
		{"DescribeGroup", map[string]any{"StreamName": stream, "GroupName": "none"}, "ResourceNotFoundException"},
		{"ListGroups", map[string]any{"StreamName": "no-such-stream"}, "ResourceNotFoundException"},
		{"ResetGroup", map[string]any{"StreamName": stream, "GroupName": "g", "Position": "LATEST"}, "ResourceInUseException"},
	} {
		status, body := groupsCall(ctx, t, k.srv, tc.action, tc.body, false)
		if status != 400 || body["__type"] != tc.want {
			t.Errorf("%s: %d %v, want 400 %s", tc.action, status, body, tc.want)
		}
	}
	if status, _ := groupsCall(ctx, t, k.srv, "DescribeGroup", map[string]any{"StreamName": stream, "GroupName": "g"}, true); status != 200 {
		t.Fatalf("CBOR DescribeGroup: %d", status)
	}

	// The winner stops; once its lease lapses by the server's clock the
	// loser takes it without naming a counter.
	var taken *spatev1.Lease
	for taken == nil {
		if _, err := c.Heartbeat(ctx, &spatev1.HeartbeatRequest{Group: ref, WorkerId: loser}); err != nil {
			t.Fatal(err)
		}
		r, err := c.AcquireLease(ctx, &spatev1.AcquireLeaseRequest{Group: ref, WorkerId: loser, ShardId: shard0})
		switch {
		case err == nil:
			taken = r.GetLease()
		case apierr.CodeOf(grpcapi.FromStatus(err)) != apierr.ResourceInUse:
			t.Fatal(err)
		default:
			select {
			case <-ctx.Done():
				t.Fatal("the lease never lapsed")
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	if taken.GetLeaseCounter() != 2 || taken.GetCheckpoint() != last {
		t.Fatalf("taken lease %v", taken)
	}
	series := scrapeMetrics(ctx, t, k.srv)
	if series[`spate_group_lease_expiries_total{group="g",stream="`+stream+`"}`] != "1" ||
		series[`spate_group_lease_acquisitions_total{group="g",stream="`+stream+`"}`] != "2" {
		t.Errorf("group series: %v", series)
	}

	// kill -9: the lease and the checkpoint are durable.
	k.srv.Kill9(t)
	k.srv.Restart(t)
	k.c = k.srv.Kinesis(t)
	c = spatev1.NewGroupServiceClient(grpcConn(t, k.srv))
	d, err := c.DescribeGroup(ctx, &spatev1.DescribeGroupRequest{Group: ref})
	if err != nil {
		t.Fatal(err)
	}
	if l := d.GetGroup().GetLeases()[0]; l.GetLeaseCounter() != 2 || l.GetCheckpoint() != last {
		t.Fatalf("after kill -9: %v", l)
	}

	// Deleting the stream deletes its groups: a new stream of the same
	// name has none.
	if _, err := k.c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(stream)}); err != nil {
		t.Fatal(err)
	}
	k.create(ctx, t, stream, 1)
	list, err := c.ListGroups(ctx, &spatev1.ListGroupsRequest{StreamName: stream})
	if err != nil || len(list.GetGroups()) != 0 {
		t.Fatalf("groups of the new stream: %v, %v", list, err)
	}
}

// TestGroupsAuth: with --credentials, group calls are authorized as
// kinesis:<Action> on the stream, over the HTTP face (SigV4-signed
// requests) and over gRPC (spate group, signed per call).
func TestGroupsAuth(t *testing.T) {
	s := startAuthServer(t)
	ctx := testCtx(t)
	stream := uniqueName(t)
	admin := &kin{srv: s.server, c: s.kinesisAs(t, "AKIDADMIN", "admin-secret")}
	admin.create(ctx, t, stream, 1)
	signed := func(id, secret, action string, body map[string]any) (int, string) {
		t.Helper()
		raw, _ := json.Marshal(body)
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Endpoint()+"/", bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		r.Header.Set("X-Amz-Target", "SpateGroups_20261207."+action)
		sum := sha256.Sum256(raw)
		if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, r,
			hex.EncodeToString(sum[:]), "kinesis", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		typ, _ := m["__type"].(string)
		return resp.StatusCode, typ
	}
	join := map[string]any{"StreamName": stream, "GroupName": "g", "WorkerId": "w"}
	if code, typ := signed("AKIDREADER", "reader-secret", "JoinGroup", join); code != 400 || typ != "AccessDeniedException" {
		t.Fatalf("reader JoinGroup: %d %s, want AccessDeniedException", code, typ)
	}
	if code, typ := signed("AKIDADMIN", "admin-secret", "JoinGroup", join); code != 200 {
		t.Fatalf("admin JoinGroup: %d %s", code, typ)
	}
	if code, typ := signed("AKIDADMIN", "wrong", "DescribeGroup", join); code != 400 || typ != "InvalidSignatureException" {
		t.Fatalf("bad signature: %d %s", code, typ)
	}

	home := t.TempDir()
	env := append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "HOME=")
	}), "HOME="+home, "AWS_SHARED_CREDENTIALS_FILE="+s.credentials)
	spate := func(profile string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, spateBin, append([]string{"--grpc-addr", s.GRPCAddr, "--profile", profile}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := spate("reader", "group", "describe", stream, "g"); err != nil || !strings.Contains(out, "Group: g") {
		t.Fatalf("reader describes: %v\n%s", err, out)
	}
	if out, err := spate("writer", "group", "list", stream); err == nil || !strings.Contains(out, "AccessDeniedException") {
		t.Fatalf("writer lists: %v\n%s", err, out)
	}
	if out, err := spate("reader", "group", "delete", stream, "g"); err == nil || !strings.Contains(out, "AccessDeniedException") {
		t.Fatalf("reader deletes: %v\n%s", err, out)
	}
}

// TestGroupsExactlyOnceKill9: a worker checkpoints record after record
// with one output record each while the server is killed with SIGKILL.
// After the restart the output stream holds exactly one record per
// checkpoint up to the stored one, none beyond it: a checkpoint and its
// output commit together or not at all, and an acknowledged one stays.
func TestGroupsExactlyOnceKill9(t *testing.T) {
	k := newKin(t)
	ctx := testCtx(t)
	stream, out := uniqueName(t), uniqueName(t)+"-out"
	k.create(ctx, t, stream, 1)
	k.create(ctx, t, out, 1)
	const n = 300
	seqs := make([]string, n)
	for i := range seqs {
		seqs[i] = aws.ToString(k.put(ctx, t, stream, "k", []byte("x")).SequenceNumber)
	}
	const shard0 = "shardId-000000000000"
	c := spatev1.NewGroupServiceClient(grpcConn(t, k.srv))
	ref := &spatev1.GroupRef{StreamName: stream, Group: "g"}
	if _, err := c.JoinGroup(ctx, &spatev1.JoinGroupRequest{Group: ref, WorkerId: "w", LeaseTimeoutMillis: 300000}); err != nil {
		t.Fatal(err)
	}
	l, err := c.AcquireLease(ctx, &spatev1.AcquireLeaseRequest{Group: ref, WorkerId: "w", ShardId: shard0})
	if err != nil {
		t.Fatal(err)
	}
	acked := make(chan int) // indexes of acknowledged checkpoints; unbuffered, so the kill lands mid-run
	go func() {
		defer close(acked)
		for i, seq := range seqs {
			_, err := c.Checkpoint(ctx, &spatev1.CheckpointRequest{Group: ref, WorkerId: "w", ShardId: shard0,
				LeaseCounter: l.GetLease().GetLeaseCounter(), SequenceNumber: seq, OutputStreamName: out,
				OutputRecords: []*spatev1.PutRecordsRequestEntry{{PartitionKey: "p", Data: []byte(seq)}}})
			if err != nil {
				return // the server is gone
			}
			acked <- i
		}
	}()
	last := -1
	for i := range acked {
		last = i
		if i == n/3 {
			k.srv.Kill9(t)
		}
	}
	if last < n/3 || last == n-1 {
		t.Fatalf("last acknowledged checkpoint %d: the kill did not land mid-run", last)
	}
	k.srv.Restart(t)
	k.c = k.srv.Kinesis(t)
	c = spatev1.NewGroupServiceClient(grpcConn(t, k.srv))
	d, err := c.DescribeGroup(ctx, &spatev1.DescribeGroupRequest{Group: ref})
	if err != nil {
		t.Fatal(err)
	}
	stored := slices.Index(seqs, d.GetGroup().GetLeases()[0].GetCheckpoint())
	if stored < last {
		t.Fatalf("checkpoint %d after the restart, but %d was acknowledged", stored, last)
	}
	recs := k.readShard(ctx, t, out, shard0)
	if len(recs) != stored+1 {
		t.Fatalf("%d output records for checkpoints 0..%d", len(recs), stored)
	}
	for i, r := range recs {
		if string(r.Data) != seqs[i] {
			t.Fatalf("output %d is %s, want %s", i, r.Data, seqs[i])
		}
	}
}
