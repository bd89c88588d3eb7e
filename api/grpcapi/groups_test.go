package grpcapi

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/auth"
	"github.com/spatehq/spate/groups"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

func TestGroupService(t *testing.T) {
	clk := newFakeClock()
	store, err := shard.Open(t.TempDir(), clk.Option())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	svc := groups.New(store, groups.WithClock(clk.Now))
	conn := serveBufconn(t, func(gs *grpc.Server) {
		Register(gs, store)
		RegisterGroups(gs, svc)
	})
	streams, c := spatev1.NewStreamServiceClient(conn), spatev1.NewGroupServiceClient(conn)
	ctx := testContext(t)
	for _, name := range []string{"in", "out"} {
		if _, err := streams.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: name, ShardCount: 1}); err != nil {
			t.Fatal(err)
		}
	}
	put, err := streams.PutRecord(ctx, &spatev1.PutRecordRequest{StreamName: "in", PartitionKey: "k", Data: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	ref := &spatev1.GroupRef{StreamName: "in", Group: "g"}

	ts := timestamppb.New(clk.Now().Add(-time.Hour))
	joined, err := c.JoinGroup(ctx, &spatev1.JoinGroupRequest{Group: ref, WorkerId: "w1",
		InitialPosition: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_AT_TIMESTAMP, InitialTimestamp: ts, LeaseTimeoutMillis: 2000})
	if err != nil {
		t.Fatal(err)
	}
	g := joined.GetGroup()
	if g.GetLeaseTimeoutMillis() != 2000 || g.GetInitialPosition() != spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_AT_TIMESTAMP ||
		!g.GetInitialTimestamp().AsTime().Equal(ts.AsTime()) || len(g.GetWorkers()) != 1 || len(g.GetLeases()) != 1 {
		t.Fatalf("joined group %v", g)
	}
	shardID := g.GetLeases()[0].GetShardId()
	acq, err := c.AcquireLease(ctx, &spatev1.AcquireLeaseRequest{Group: ref, WorkerId: "w1", ShardId: shardID})
	if err != nil || acq.GetLease().GetLeaseCounter() != 1 || acq.GetLease().GetOwner() != "w1" {
		t.Fatalf("acquire: %v, %v", acq, err)
	}
	cp, err := c.Checkpoint(ctx, &spatev1.CheckpointRequest{Group: ref, WorkerId: "w1", ShardId: shardID, LeaseCounter: 1,
		SequenceNumber: put.GetSequenceNumber(), OutputStreamName: "out",
		OutputRecords: []*spatev1.PutRecordsRequestEntry{{PartitionKey: "p", Data: []byte("y")}}})
	if err != nil || len(cp.GetOutputRecords()) != 1 || cp.GetOutputRecords()[0].GetSequenceNumber() == "" {
		t.Fatalf("checkpoint: %v, %v", cp, err)
	}
	hb, err := c.Heartbeat(ctx, &spatev1.HeartbeatRequest{Group: ref, WorkerId: "w1"})
	if err != nil || hb.GetGroup().GetLeases()[0].GetCheckpoint() != put.GetSequenceNumber() ||
		len(hb.GetGroup().GetWorkers()[0].GetShardIds()) != 1 {
		t.Fatalf("heartbeat: %v, %v", hb, err)
	}
	list, err := c.ListGroups(ctx, &spatev1.ListGroupsRequest{StreamName: "in"})
	if err != nil || len(list.GetGroups()) != 1 || list.GetGroups()[0] != "g" {
		t.Fatalf("list: %v, %v", list, err)
	}

	// Errors and their codes.
	_, err = c.Checkpoint(ctx, &spatev1.CheckpointRequest{Group: ref, WorkerId: "w2", ShardId: shardID, LeaseCounter: 1, SequenceNumber: put.GetSequenceNumber()})
	wantAPIError(t, err, apierr.LeaseLost, codes.FailedPrecondition, "does not hold the lease")
	_, err = c.AcquireLease(ctx, &spatev1.AcquireLeaseRequest{Group: &spatev1.GroupRef{StreamName: "in", Group: "nope"}, WorkerId: "w1", ShardId: shardID})
	wantAPIError(t, err, apierr.ResourceNotFound, codes.NotFound, "group nope")
	_, err = c.JoinGroup(ctx, &spatev1.JoinGroupRequest{Group: &spatev1.GroupRef{StreamName: "in", Group: "bad name"}, WorkerId: "w1"})
	wantAPIError(t, err, apierr.InvalidArgument, codes.InvalidArgument, "group")
	_, err = c.ResetGroup(ctx, &spatev1.ResetGroupRequest{Group: ref, Position: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON})
	wantAPIError(t, err, apierr.ResourceInUse, codes.FailedPrecondition, "live workers")
	for _, ms := range []int64{-1, 300001, 18446744075110} { // the last wraps to 1.4 s as a Duration
		_, err = c.JoinGroup(ctx, &spatev1.JoinGroupRequest{Group: ref, WorkerId: "w9", LeaseTimeoutMillis: ms})
		wantAPIError(t, err, apierr.InvalidArgument, codes.InvalidArgument, "out of range")
	}

	if _, err := c.LeaveGroup(ctx, &spatev1.LeaveGroupRequest{Group: ref, WorkerId: "w1"}); err != nil {
		t.Fatal(err)
	}
	reset, err := c.ResetGroup(ctx, &spatev1.ResetGroupRequest{Group: ref, Position: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_LATEST})
	if err != nil || reset.GetGroup().GetLeases()[0].GetCheckpoint() != put.GetSequenceNumber() || reset.GetGroup().GetLeases()[0].GetLeaseCounter() != 2 {
		t.Fatalf("reset: %v, %v", reset, err)
	}
	d, err := c.DescribeGroup(ctx, &spatev1.DescribeGroupRequest{Group: ref})
	if err != nil || d.GetGroup().GetLeaseAcquisitions() != 1 || d.GetGroup().GetLeases()[0].GetLagRecords() != 0 {
		t.Fatalf("describe: %v, %v", d, err)
	}
	if _, err := c.DeleteGroup(ctx, &spatev1.DeleteGroupRequest{Group: ref}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeGroup(ctx, &spatev1.DescribeGroupRequest{Group: ref})
	wantAPIError(t, err, apierr.ResourceNotFound, codes.NotFound, "not found")
}

// TestGroupServiceAuth checks that group calls are authorized as
// kinesis:<Method> on the stream their GroupRef names, and a Checkpoint's
// on its output stream too.
func TestGroupServiceAuth(t *testing.T) {
	keys, err := auth.ParseKeys([]byte("[admin]\naws_access_key_id = A\naws_secret_access_key = a\n[worker]\naws_access_key_id = W\naws_secret_access_key = w\n"))
	if err != nil {
		t.Fatal(err)
	}
	policies, err := auth.ParsePolicies([]byte(`{
		"admin": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
		"worker": {"Statement": [
			{"Effect": "Allow", "Action": ["kinesis:JoinGroup", "kinesis:Checkpoint"], "Resource": "arn:aws:kinesis:*:*:stream/in"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	store, err := shard.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	g := auth.NewGuard(keys, policies, "us-east-1", "000000000000")
	conn := serveBufconn(t, func(gs *grpc.Server) {
		Register(gs, store)
		RegisterGroups(gs, groups.New(store))
	}, AuthOptions(g, store)...)
	streams, c := spatev1.NewStreamServiceClient(conn), spatev1.NewGroupServiceClient(conn)
	admin, worker := auth.Profile{AccessKeyID: "A", SecretAccessKey: "a"}, auth.Profile{AccessKeyID: "W", SecretAccessKey: "w"}
	ctx := testContext(t)
	for _, name := range []string{"in", "other"} {
		if _, err := streams.CreateStream(signedAs(t, ctx, admin, "/spate.v1.StreamService/CreateStream"), &spatev1.CreateStreamRequest{StreamName: name, ShardCount: 1}); err != nil {
			t.Fatal(err)
		}
	}
	const join, checkpoint = "/spate.v1.GroupService/JoinGroup", "/spate.v1.GroupService/Checkpoint"
	cases := []struct {
		name string
		call func() error
		code codes.Code
	}{
		{"join in", func() error {
			_, err := c.JoinGroup(signedAs(t, ctx, worker, join), &spatev1.JoinGroupRequest{Group: &spatev1.GroupRef{StreamName: "in", Group: "g"}, WorkerId: "w"})
			return err
		}, codes.OK},
		{"join other", func() error {
			_, err := c.JoinGroup(signedAs(t, ctx, worker, join), &spatev1.JoinGroupRequest{Group: &spatev1.GroupRef{StreamName: "other", Group: "g"}, WorkerId: "w"})
			return err
		}, codes.PermissionDenied},
		{"unsigned", func() error {
			_, err := c.JoinGroup(ctx, &spatev1.JoinGroupRequest{Group: &spatev1.GroupRef{StreamName: "in", Group: "g"}, WorkerId: "w"})
			return err
		}, codes.Unauthenticated},
		{"checkpoint output to other", func() error {
			_, err := c.Checkpoint(signedAs(t, ctx, worker, checkpoint), &spatev1.CheckpointRequest{Group: &spatev1.GroupRef{StreamName: "in", Group: "g"},
				WorkerId: "w", ShardId: "shardId-000000000000", LeaseCounter: 1, SequenceNumber: "1", OutputStreamName: "other",
				OutputRecords: []*spatev1.PutRecordsRequestEntry{{PartitionKey: "p", Data: []byte("x")}}})
			return err
		}, codes.PermissionDenied},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); status.Code(err) != tc.code {
				t.Fatalf("err %v, want %s", err, tc.code)
			}
		})
	}
}

// TestGroupServiceBounds checks the size bounds of group requests on the
// gRPC face (groupsapi's model bounds the HTTP face).
func TestGroupServiceBounds(t *testing.T) {
	store, err := shard.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	conn := serveBufconn(t, func(gs *grpc.Server) {
		Register(gs, store)
		RegisterGroups(gs, groups.New(store))
	})
	streams, c := spatev1.NewStreamServiceClient(conn), spatev1.NewGroupServiceClient(conn)
	ctx := testContext(t)
	for _, name := range []string{"in", "out"} {
		if _, err := streams.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: name, ShardCount: 1}); err != nil {
			t.Fatal(err)
		}
	}
	ref := &spatev1.GroupRef{StreamName: "in", Group: "g"}
	long := strings.Repeat("a", 129)

	_, err = c.JoinGroup(ctx, &spatev1.JoinGroupRequest{Group: &spatev1.GroupRef{StreamName: "in", Group: long}, WorkerId: "w1"})
	wantAPIError(t, err, apierr.InvalidArgument, codes.InvalidArgument, "group must be 1 to 128 characters")
	_, err = c.JoinGroup(ctx, &spatev1.JoinGroupRequest{Group: ref, WorkerId: long})
	wantAPIError(t, err, apierr.InvalidArgument, codes.InvalidArgument, "worker_id must be 1 to 128 characters")
	if _, err := c.JoinGroup(ctx, &spatev1.JoinGroupRequest{Group: ref, WorkerId: strings.Repeat("w", 128)}); err != nil {
		t.Fatalf("a 128-character worker_id: %v", err)
	}
	_, err = c.AcquireLease(ctx, &spatev1.AcquireLeaseRequest{Group: ref, WorkerId: "w1", ShardId: long})
	wantAPIError(t, err, apierr.InvalidArgument, codes.InvalidArgument, "shard_id must be at most 128 characters")
	_, err = c.ResetGroup(ctx, &spatev1.ResetGroupRequest{Group: ref, Position: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_AT_SEQUENCE_NUMBER, ShardId: long})
	wantAPIError(t, err, apierr.InvalidArgument, codes.InvalidArgument, "shard_id must be at most 128 characters")
	out := make([]*spatev1.PutRecordsRequestEntry, groups.MaxOutputRecords+1)
	for i := range out {
		out[i] = &spatev1.PutRecordsRequestEntry{PartitionKey: "k", Data: []byte("x")}
	}
	_, err = c.Checkpoint(ctx, &spatev1.CheckpointRequest{Group: ref, WorkerId: "w1", ShardId: "shardId-000000000000",
		LeaseCounter: 1, ShardEnd: true, OutputStreamName: "out", OutputRecords: out})
	wantAPIError(t, err, apierr.InvalidArgument, codes.InvalidArgument, "at most 500 output records")
}
