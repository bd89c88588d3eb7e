package kinesisapi

import (
	"reflect"
	"testing"
	"time"

	"github.com/spatehq/spate/shard"
)

// TestReshardActions drives SplitShard, MergeShards and UpdateShardCount
// over HTTP: the wire shapes, GetRecords' end of a closed shard, and AWS's
// error types for refused requests, which change nothing.
func TestReshardActions(t *testing.T) {
	c := newStoreServer(t, nil)
	c.OK("CreateStream", map[string]any{"StreamName": "s", "ShardCount": 2})
	c.OK("PutRecord", map[string]any{"StreamName": "s", "PartitionKey": "k", "ExplicitHashKey": "5", "Data": "eA=="})
	describe := func() map[string]any {
		return c.OK("DescribeStream", map[string]any{"StreamName": "s"})["StreamDescription"].(map[string]any)
	}

	fails := []struct {
		name, action string
		body         map[string]any
		errType      string
		msg          string
	}{
		{"split: no hash key", "SplitShard", map[string]any{"StreamName": "s", "ShardToSplit": "shardId-000000000000"}, "ValidationException", "newStartingHashKey"},
		{"split: hash key pattern", "SplitShard", map[string]any{"StreamName": "s", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "01"}, "ValidationException", ""},
		{"split: outside the shard", "SplitShard", map[string]any{"StreamName": "s", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "0"}, "InvalidArgumentException", "NewStartingHashKey"},
		{"split: no shard", "SplitShard", map[string]any{"StreamName": "s", "ShardToSplit": "shardId-000000000009", "NewStartingHashKey": "10"}, "ResourceNotFoundException", "shardId-000000000009"},
		{"split: no stream", "SplitShard", map[string]any{"StreamName": "nope", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "10"}, "ResourceNotFoundException", "nope"},
		{"merge: same shard", "MergeShards", map[string]any{"StreamName": "s", "ShardToMerge": "shardId-000000000000", "AdjacentShardToMerge": "shardId-000000000000"}, "InvalidArgumentException", "adjacent"},
		{"merge: no adjacent", "MergeShards", map[string]any{"StreamName": "s", "ShardToMerge": "shardId-000000000000"}, "ValidationException", "adjacentShardToMerge"},
		{"scale: more than double", "UpdateShardCount", map[string]any{"StreamName": "s", "TargetShardCount": 5, "ScalingType": "UNIFORM_SCALING"}, "LimitExceededException", "double"},
		{"scale: zero", "UpdateShardCount", map[string]any{"StreamName": "s", "TargetShardCount": 0, "ScalingType": "UNIFORM_SCALING"}, "ValidationException", "targetShardCount"},
		{"scale: scaling type", "UpdateShardCount", map[string]any{"StreamName": "s", "TargetShardCount": 3, "ScalingType": "LINEAR"}, "ValidationException", "scalingType"},
		{"scale: no stream named", "UpdateShardCount", map[string]any{"TargetShardCount": 3, "ScalingType": "UNIFORM_SCALING"}, "InvalidArgumentException", "StreamName"},
	}
	before := describe()
	for _, f := range fails {
		t.Log(f.name)
		c.FailsWith(f.action, f.body, 400, f.errType, f.msg)
	}
	if after := describe(); !reflect.DeepEqual(before, after) {
		t.Errorf("refused requests changed the stream:\n%v\n%v", before, after)
	}

	c.OK("SplitShard", map[string]any{"StreamName": "s", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "1000"})
	c.OK("MergeShards", map[string]any{"StreamARN": testARN + "s", "ShardToMerge": "shardId-000000000003", "AdjacentShardToMerge": "shardId-000000000001"})
	out := c.OK("UpdateShardCount", map[string]any{"StreamName": "s", "TargetShardCount": 4, "ScalingType": "UNIFORM_SCALING"})
	if want := map[string]any{"StreamName": "s", "StreamARN": testARN + "s", "CurrentShardCount": 2.0, "TargetShardCount": 4.0}; !reflect.DeepEqual(out, want) {
		t.Errorf("UpdateShardCount = %v, want %v", out, want)
	}
	shards := describe()["Shards"].([]any)
	parent := shards[0].(map[string]any)
	if _, ok := parent["SequenceNumberRange"].(map[string]any)["EndingSequenceNumber"]; !ok {
		t.Errorf("split parent has no EndingSequenceNumber: %v", parent)
	}
	merged := shards[4].(map[string]any)
	if merged["ShardId"] != "shardId-000000000004" || merged["ParentShardId"] != "shardId-000000000003" || merged["AdjacentParentShardId"] != "shardId-000000000001" {
		t.Errorf("merged shard = %v", merged)
	}

	// GetRecords at the end of the split parent: its record, no iterator, the children.
	it := c.OK("GetShardIterator", map[string]any{"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]
	res := c.OK("GetRecords", map[string]any{"ShardIterator": it})
	if _, ok := res["NextShardIterator"]; ok {
		t.Errorf("closed shard read to its end has a NextShardIterator: %v", res)
	}
	want := []any{
		map[string]any{"ShardId": "shardId-000000000002", "ParentShards": []any{"shardId-000000000000"}, "HashKeyRange": map[string]any{"StartingHashKey": "0", "EndingHashKey": "999"}},
		map[string]any{"ShardId": "shardId-000000000003", "ParentShards": []any{"shardId-000000000000"}, "HashKeyRange": map[string]any{"StartingHashKey": "1000", "EndingHashKey": parent["HashKeyRange"].(map[string]any)["EndingHashKey"]}},
	}
	if recs := res["Records"].([]any); len(recs) != 1 || !reflect.DeepEqual(res["ChildShards"], want) {
		t.Errorf("GetRecords at the end of the parent = %v", res)
	}
	list := c.OK("ListShards", map[string]any{"StreamName": "s", "ShardFilter": map[string]any{"Type": "AT_LATEST"}})["Shards"].([]any)
	if len(list) != 4 {
		t.Errorf("AT_LATEST lists %d shards, want 4", len(list))
	}
}

// TestReshardUpdating: a second reshard while the first keeps the stream
// UPDATING answers ResourceInUseException.
func TestReshardUpdating(t *testing.T) {
	c := newStoreServer(t, []shard.Option{shard.WithUpdateDelay(time.Hour)})
	c.OK("CreateStream", map[string]any{"StreamName": "s", "ShardCount": 1})
	c.OK("UpdateShardCount", map[string]any{"StreamName": "s", "TargetShardCount": 2, "ScalingType": "UNIFORM_SCALING"})
	if st := c.OK("DescribeStreamSummary", map[string]any{"StreamName": "s"})["StreamDescriptionSummary"].(map[string]any)["StreamStatus"]; st != "UPDATING" {
		t.Fatalf("status after UpdateShardCount = %v", st)
	}
	c.FailsWith("MergeShards", map[string]any{"StreamName": "s", "ShardToMerge": "shardId-000000000001", "AdjacentShardToMerge": "shardId-000000000002"}, 400, "ResourceInUseException", "UPDATING")
}
