package grpcapi

import (
	"io"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/spatehq/spate/apierr"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// TestReshardRPCs: SplitShard, MergeShards and UpdateShardCount over gRPC,
// their errors, and the end of a closed shard in GetRecords and Subscribe.
func TestReshardRPCs(t *testing.T) {
	f := newFixture(t)
	ctx := testContext(t)
	c := f.client
	f.createStream(t, "s", 1)
	if _, err := c.PutRecord(ctx, &spatev1.PutRecordRequest{StreamName: "s", PartitionKey: "k", Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}

	_, err := c.SplitShard(ctx, &spatev1.SplitShardRequest{StreamName: "s", ShardToSplit: shard.ShardID(0), NewStartingHashKey: "0"})
	wantAPIError(t, err, apierr.InvalidArgument, codes.InvalidArgument, "NewStartingHashKey")
	_, err = c.MergeShards(ctx, &spatev1.MergeShardsRequest{StreamName: "s", ShardToMerge: shard.ShardID(0), AdjacentShardToMerge: shard.ShardID(1)})
	wantAPIError(t, err, apierr.ResourceNotFound, codes.NotFound, shard.ShardID(1))
	_, err = c.UpdateShardCount(ctx, &spatev1.UpdateShardCountRequest{StreamName: "s", TargetShardCount: 3})
	wantAPIError(t, err, apierr.LimitExceeded, codes.ResourceExhausted, "double")

	if _, err := c.SplitShard(ctx, &spatev1.SplitShardRequest{StreamName: "s", ShardToSplit: shard.ShardID(0), NewStartingHashKey: "1000"}); err != nil {
		t.Fatal(err)
	}
	// The parent reads to its end: no iterator, its children.
	it, err := c.GetShardIterator(ctx, &spatev1.GetShardIteratorRequest{StreamName: "s", ShardId: shard.ShardID(0),
		ShardIteratorType: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetRecords(ctx, &spatev1.GetRecordsRequest{ShardIterator: it.GetShardIterator()})
	if err != nil || len(got.GetRecords()) != 1 || got.GetNextShardIterator() != "" || len(got.GetChildShards()) != 2 {
		t.Fatalf("GetRecords at the end of the parent: %v, %v", got, err)
	}
	sub, err := c.Subscribe(ctx, &spatev1.SubscribeRequest{StreamName: "s", ShardId: shard.ShardID(0),
		StartingPosition: &spatev1.StartingPosition{Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON}})
	if err != nil {
		t.Fatal(err)
	}
	var last *spatev1.SubscribeResponse
	for {
		ev, err := sub.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		last = ev
	}
	if len(last.GetChildShards()) != 2 {
		t.Fatalf("the last Subscribe event of a closed shard names children %v", last.GetChildShards())
	}

	if _, err := c.MergeShards(ctx, &spatev1.MergeShardsRequest{StreamArn: f.store.StreamARN("s"), ShardToMerge: shard.ShardID(1), AdjacentShardToMerge: shard.ShardID(2)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.UpdateShardCount(ctx, &spatev1.UpdateShardCountRequest{StreamName: "s", TargetShardCount: 2})
	if err != nil {
		t.Fatal(err)
	}
	if out.GetCurrentShardCount() != 1 || out.GetTargetShardCount() != 2 || out.GetStreamArn() != f.store.StreamARN("s") {
		t.Errorf("UpdateShardCount = %v", out)
	}
	d, err := c.DescribeStream(ctx, &spatev1.DescribeStreamRequest{StreamName: "s"})
	if err != nil {
		t.Fatal(err)
	}
	shards := d.GetStreamDescription().GetShards()
	if len(shards) != 6 || shards[3].GetAdjacentParentShardId() != shard.ShardID(2) || shards[0].GetSequenceNumberRange().GetEndingSequenceNumber() == "" {
		t.Errorf("shards after the reshards: %v", shards)
	}
}

// TestReshardRPCUpdating: a reshard while the stream is UPDATING answers
// ResourceInUseException (FailedPrecondition).
func TestReshardRPCUpdating(t *testing.T) {
	f := newFixture(t, shard.WithUpdateDelay(time.Hour))
	ctx := testContext(t)
	f.createStream(t, "s", 2)
	if _, err := f.client.UpdateShardCount(ctx, &spatev1.UpdateShardCountRequest{StreamName: "s", TargetShardCount: 3, ScalingType: "UNIFORM_SCALING"}); err != nil {
		t.Fatal(err)
	}
	_, err := f.client.SplitShard(ctx, &spatev1.SplitShardRequest{StreamName: "s", ShardToSplit: shard.ShardID(2), NewStartingHashKey: "5"})
	wantAPIError(t, err, apierr.ResourceInUse, codes.FailedPrecondition, "UPDATING")
}
