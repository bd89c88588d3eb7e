package kinesisapi

import (
	"context"

	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/shard"
)

// The resharding actions of issue 13: SplitShard, MergeShards and
// UpdateShardCount. The store applies them atomically with the appends
// around them (shard/reshard.go).

// reshardStore is what these actions need of the store.
type reshardStore interface {
	SplitShard(ctx context.Context, in shard.SplitShardInput) error
	MergeShards(ctx context.Context, in shard.MergeShardsInput) error
	UpdateShardCount(ctx context.Context, in shard.UpdateShardCountInput) (shard.UpdateShardCountOutput, error)
}

// reshardOperations are the actions of this file, for NewHandler.
func (h *handler) reshardOperations() []*awsproto.Operation {
	return []*awsproto.Operation{
		awsproto.Action("MergeShards", h.mergeShards),
		awsproto.Action("SplitShard", h.splitShard),
		awsproto.Action("UpdateShardCount", h.updateShardCount),
	}
}

// Request and reply structs (see wire.go for the conventions).

type splitShardRequest struct {
	streamRef
	ShardToSplit       *string `json:"ShardToSplit"`
	NewStartingHashKey *string `json:"NewStartingHashKey"`
}

type mergeShardsRequest struct {
	streamRef
	ShardToMerge         *string `json:"ShardToMerge"`
	AdjacentShardToMerge *string `json:"AdjacentShardToMerge"`
}

type updateShardCountRequest struct {
	streamRef
	TargetShardCount *int32  `json:"TargetShardCount"`
	ScalingType      *string `json:"ScalingType"`
}

type updateShardCountReply struct {
	StreamName        string `json:"StreamName"`
	StreamARN         string `json:"StreamARN"`
	CurrentShardCount int    `json:"CurrentShardCount"`
	TargetShardCount  int    `json:"TargetShardCount"`
}

// The actions.

func (h *handler) splitShard(ctx context.Context, in *splitShardRequest) (empty, error) {
	name, err := h.resolve(in.streamRef)
	if err != nil {
		return empty{}, err
	}
	return empty{}, h.store.SplitShard(ctx, shard.SplitShardInput{
		Stream: name, ShardToSplit: str(in.ShardToSplit), NewStartingHashKey: str(in.NewStartingHashKey),
	})
}

func (h *handler) mergeShards(ctx context.Context, in *mergeShardsRequest) (empty, error) {
	name, err := h.resolve(in.streamRef)
	if err != nil {
		return empty{}, err
	}
	return empty{}, h.store.MergeShards(ctx, shard.MergeShardsInput{
		Stream: name, ShardToMerge: str(in.ShardToMerge), AdjacentShardToMerge: str(in.AdjacentShardToMerge),
	})
}

func (h *handler) updateShardCount(ctx context.Context, in *updateShardCountRequest) (updateShardCountReply, error) {
	name, err := h.resolve(in.streamRef)
	if err != nil {
		return updateShardCountReply{}, err
	}
	out, err := h.store.UpdateShardCount(ctx, shard.UpdateShardCountInput{
		Stream: name, TargetShardCount: num(in.TargetShardCount), ScalingType: shard.ScalingType(str(in.ScalingType)),
	})
	if err != nil {
		return updateShardCountReply{}, err
	}
	return updateShardCountReply{
		StreamName: out.Stream, StreamARN: out.ARN,
		CurrentShardCount: out.CurrentShardCount, TargetShardCount: out.TargetShardCount,
	}, nil
}
