package grpcapi

import (
	"context"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// The resharding RPCs (issue 13). The store checks them as the Kinesis
// API does and applies them atomically with the appends around them.

// SplitShard implements spatev1.StreamServiceServer.
func (s *Server) SplitShard(ctx context.Context, req *spatev1.SplitShardRequest) (*spatev1.SplitShardResponse, error) {
	name, err := s.store.ResolveStream(req.GetStreamName(), req.GetStreamArn())
	if err == nil {
		err = s.store.SplitShard(ctx, shard.SplitShardInput{
			Stream: name, ShardToSplit: req.GetShardToSplit(), NewStartingHashKey: req.GetNewStartingHashKey(),
		})
	}
	if err != nil {
		return nil, s.fail(ctx, "SplitShard", err)
	}
	return &spatev1.SplitShardResponse{}, nil
}

// MergeShards implements spatev1.StreamServiceServer.
func (s *Server) MergeShards(ctx context.Context, req *spatev1.MergeShardsRequest) (*spatev1.MergeShardsResponse, error) {
	name, err := s.store.ResolveStream(req.GetStreamName(), req.GetStreamArn())
	if err == nil {
		err = s.store.MergeShards(ctx, shard.MergeShardsInput{
			Stream: name, ShardToMerge: req.GetShardToMerge(), AdjacentShardToMerge: req.GetAdjacentShardToMerge(),
		})
	}
	if err != nil {
		return nil, s.fail(ctx, "MergeShards", err)
	}
	return &spatev1.MergeShardsResponse{}, nil
}

// UpdateShardCount implements spatev1.StreamServiceServer. An empty
// scaling type means UNIFORM_SCALING, the only one.
func (s *Server) UpdateShardCount(ctx context.Context, req *spatev1.UpdateShardCountRequest) (*spatev1.UpdateShardCountResponse, error) {
	typ := shard.ScalingType(req.GetScalingType())
	if typ == "" {
		typ = shard.UniformScaling
	}
	name, err := s.store.ResolveStream(req.GetStreamName(), req.GetStreamArn())
	var out shard.UpdateShardCountOutput
	if err == nil {
		out, err = s.store.UpdateShardCount(ctx, shard.UpdateShardCountInput{
			Stream: name, TargetShardCount: int(req.GetTargetShardCount()), ScalingType: typ,
		})
	}
	if err != nil {
		return nil, s.fail(ctx, "UpdateShardCount", err)
	}
	return &spatev1.UpdateShardCountResponse{
		StreamName: out.Stream, StreamArn: out.ARN,
		CurrentShardCount: int32(out.CurrentShardCount), TargetShardCount: int32(out.TargetShardCount),
	}, nil
}
