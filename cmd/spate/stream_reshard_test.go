package main

import (
	"testing"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

func TestStreamReshardCommands(t *testing.T) {
	s := startAPIServer(t)
	runSteps(t, s, []cliStep{
		{"create", []string{"stream", "create", "orders", "--shards", "1"}, []string{"created stream orders"}, ""},
		// The middle of [0, 2^128-1] is 2^127.
		{"split in the middle", []string{"stream", "split", "orders", "0"},
			[]string{"split shard 0 of stream orders at hash key 170141183460469231731687303715884105728"}, ""},
		{"split closed", []string{"stream", "split", "orders", "shardId-000000000000"}, nil, "ResourceInUseException"},
		{"split at a key", []string{"stream", "split", "orders", "shardId-000000000002", "--hash-key", "170141183460469231731687303715884105729"},
			[]string{"at hash key 170141183460469231731687303715884105729"}, ""},
		{"split outside", []string{"stream", "split", "orders", "shardId-000000000001", "--hash-key", "0"}, nil, "InvalidArgumentException"},
		{"split unknown shard", []string{"stream", "split", "orders", "shardId-000000000009"}, nil, "no shard shardId-000000000009"},
		{"merge", []string{"stream", "merge", "orders", "shardId-000000000003", "shardId-000000000004"},
			[]string{"merged shards shardId-000000000003 and shardId-000000000004 of stream orders"}, ""},
		{"merge not adjacent", []string{"stream", "merge", "orders", "shardId-000000000001", "shardId-000000000001"}, nil, "InvalidArgumentException"},
		{"scale", []string{"stream", "scale", "orders", "--shards", "4"}, []string{"scaled stream orders from 2 to 4 shards"}, ""},
		{"scale too far", []string{"stream", "scale", "orders", "--shards", "9"}, nil, "LimitExceededException"},
		{"scale without --shards", []string{"stream", "scale", "orders"}, nil, "--shards"},
		{"describe", []string{"stream", "describe", "orders"},
			[]string{"Shards:     10 (4 open)", "shardId-000000000005  closed  shardId-000000000003,shardId-000000000004"}, ""},
	})
}

func TestMidpoint(t *testing.T) {
	d := &spatev1.StreamDescription{StreamName: "s", Shards: []*spatev1.Shard{
		{ShardId: "shardId-000000000000", HashKeyRange: &spatev1.HashKeyRange{StartingHashKey: "10", EndingHashKey: "13"}},
		{ShardId: "shardId-000000000001", HashKeyRange: &spatev1.HashKeyRange{StartingHashKey: "14", EndingHashKey: "16"}},
	}}
	tests := []struct{ shard, want, err string }{
		{"shardId-000000000000", "12", ""}, // 10..11 and 12..13
		{"0", "12", ""},
		{"shardId-000000000001", "15", ""}, // 14 and 15..16
		{"1", "15", ""},
		{"01", "", "no shard 01"},
		{"shardId-000000000002", "", "no shard"},
	}
	for _, tt := range tests {
		got, err := midpoint(d, tt.shard)
		if got != tt.want || (err == nil) != (tt.err == "") {
			t.Errorf("midpoint(%s) = %q, %v; want %q, %q", tt.shard, got, err, tt.want, tt.err)
		}
	}
}
