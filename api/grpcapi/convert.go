package grpcapi

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/spatehq/spate/apierr"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// Conversions between protobuf messages and shard types. Decoders return
// apierr values for input that has no shard equivalent (an unknown enum
// number, an invalid timestamp); everything else is the store's to judge.

var (
	statusToProto = map[shard.StreamStatus]spatev1.StreamStatus{
		shard.StatusCreating: spatev1.StreamStatus_STREAM_STATUS_CREATING,
		shard.StatusDeleting: spatev1.StreamStatus_STREAM_STATUS_DELETING,
		shard.StatusActive:   spatev1.StreamStatus_STREAM_STATUS_ACTIVE,
		shard.StatusUpdating: spatev1.StreamStatus_STREAM_STATUS_UPDATING,
	}
	modeToProto = map[shard.StreamMode]spatev1.StreamMode{
		shard.ModeProvisioned: spatev1.StreamMode_STREAM_MODE_PROVISIONED,
		shard.ModeOnDemand:    spatev1.StreamMode_STREAM_MODE_ON_DEMAND,
	}
	// UNSPECIFIED maps to "" so the store applies its default.
	modeFromProto = map[spatev1.StreamMode]shard.StreamMode{
		spatev1.StreamMode_STREAM_MODE_UNSPECIFIED: "",
		spatev1.StreamMode_STREAM_MODE_PROVISIONED: shard.ModeProvisioned,
		spatev1.StreamMode_STREAM_MODE_ON_DEMAND:   shard.ModeOnDemand,
	}
	iteratorTypeFromProto = map[spatev1.ShardIteratorType]shard.IteratorType{
		spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_AT_SEQUENCE_NUMBER:    shard.AtSequenceNumber,
		spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_AFTER_SEQUENCE_NUMBER: shard.AfterSequenceNumber,
		spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON:          shard.TrimHorizon,
		spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_LATEST:                shard.Latest,
		spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_AT_TIMESTAMP:          shard.AtTimestamp,
	}
	filterTypeFromProto = map[spatev1.ShardFilterType]shard.ShardFilterType{
		spatev1.ShardFilterType_SHARD_FILTER_TYPE_AFTER_SHARD_ID:    shard.FilterAfterShardID,
		spatev1.ShardFilterType_SHARD_FILTER_TYPE_AT_TRIM_HORIZON:   shard.FilterAtTrimHorizon,
		spatev1.ShardFilterType_SHARD_FILTER_TYPE_FROM_TRIM_HORIZON: shard.FilterFromTrimHorizon,
		spatev1.ShardFilterType_SHARD_FILTER_TYPE_AT_LATEST:         shard.FilterAtLatest,
		spatev1.ShardFilterType_SHARD_FILTER_TYPE_AT_TIMESTAMP:      shard.FilterAtTimestamp,
		spatev1.ShardFilterType_SHARD_FILTER_TYPE_FROM_TIMESTAMP:    shard.FilterFromTimestamp,
	}
)

func decodeMode(m spatev1.StreamMode) (shard.StreamMode, error) {
	if sm, ok := modeFromProto[m]; ok {
		return sm, nil
	}
	return "", apierr.New(apierr.InvalidArgument,
		"stream_mode %d is not a StreamMode: use STREAM_MODE_PROVISIONED or STREAM_MODE_ON_DEMAND", m)
}

// decodeTime returns the zero time for a nil timestamp.
func decodeTime(field string, ts *timestamppb.Timestamp) (time.Time, error) {
	if ts == nil {
		return time.Time{}, nil
	}
	if err := ts.CheckValid(); err != nil {
		return time.Time{}, apierr.New(apierr.InvalidArgument, "%s is not a valid timestamp: %v", field, err)
	}
	return ts.AsTime(), nil
}

// encodeTime returns nil for the zero time.
func encodeTime(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// decodePosition decodes GetShardIterator's and Subscribe's starting position.
func decodePosition(typ spatev1.ShardIteratorType, seq string, ts *timestamppb.Timestamp) (shard.Position, error) {
	it, ok := iteratorTypeFromProto[typ]
	if !ok {
		return shard.Position{}, apierr.New(apierr.InvalidArgument,
			"iterator type %s is invalid: use AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST or AT_TIMESTAMP", typ)
	}
	t, err := decodeTime("timestamp", ts)
	if err != nil {
		return shard.Position{}, err
	}
	return shard.Position{Type: it, SequenceNumber: seq, Timestamp: t}, nil
}

func decodeShardFilter(f *spatev1.ShardFilter) (*shard.ShardFilter, error) {
	if f == nil {
		return nil, nil
	}
	typ, ok := filterTypeFromProto[f.GetType()]
	if !ok {
		return nil, apierr.New(apierr.InvalidArgument,
			"shard_filter.type %s is invalid: use AFTER_SHARD_ID, AT_TRIM_HORIZON, FROM_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP or FROM_TIMESTAMP", f.GetType())
	}
	t, err := decodeTime("shard_filter.timestamp", f.GetTimestamp())
	if err != nil {
		return nil, err
	}
	return &shard.ShardFilter{Type: typ, ShardID: f.GetShardId(), Timestamp: t}, nil
}

func encodeShards(in []shard.ShardInfo) []*spatev1.Shard {
	out := make([]*spatev1.Shard, len(in))
	for i, s := range in {
		out[i] = &spatev1.Shard{
			ShardId:               s.ShardID,
			ParentShardId:         s.ParentShardID,
			AdjacentParentShardId: s.AdjacentParentShardID,
			HashKeyRange:          encodeHashKeyRange(s.HashKeyRange),
			SequenceNumberRange: &spatev1.SequenceNumberRange{
				StartingSequenceNumber: s.SequenceNumberRange.Start,
				EndingSequenceNumber:   s.SequenceNumberRange.End,
			},
		}
	}
	return out
}

func encodeHashKeyRange(r shard.HashKeyRange) *spatev1.HashKeyRange {
	return &spatev1.HashKeyRange{StartingHashKey: r.Start, EndingHashKey: r.End}
}

func encodeChildShards(in []shard.ChildShard) []*spatev1.ChildShard {
	if len(in) == 0 {
		return nil
	}
	out := make([]*spatev1.ChildShard, len(in))
	for i, c := range in {
		out[i] = &spatev1.ChildShard{
			ShardId:      c.ShardID,
			ParentShards: c.ParentShards,
			HashKeyRange: encodeHashKeyRange(c.HashKeyRange),
		}
	}
	return out
}

func encodeDescription(d shard.StreamDescription) *spatev1.StreamDescription {
	return &spatev1.StreamDescription{
		StreamName:              d.Name,
		StreamArn:               d.ARN,
		StreamStatus:            statusToProto[d.Status],
		StreamMode:              modeToProto[d.Mode],
		Shards:                  encodeShards(d.Shards),
		HasMoreShards:           d.HasMoreShards,
		RetentionPeriodHours:    int32(d.RetentionHours),
		StreamCreationTimestamp: encodeTime(d.CreatedAt),
		EncryptionType:          d.EncryptionType,
		ShardLevelMetrics:       shardLevelMetricNames(d.ShardLevelMetrics),
		KeyId:                   d.KeyID,
	}
}

func encodeSummary(d shard.StreamDescription) *spatev1.StreamDescriptionSummary {
	return &spatev1.StreamDescriptionSummary{
		StreamName:              d.Name,
		StreamArn:               d.ARN,
		StreamStatus:            statusToProto[d.Status],
		StreamMode:              modeToProto[d.Mode],
		RetentionPeriodHours:    int32(d.RetentionHours),
		StreamCreationTimestamp: encodeTime(d.CreatedAt),
		EncryptionType:          d.EncryptionType,
		OpenShardCount:          int32(d.OpenShardCount),
		ConsumerCount:           int32(d.ConsumerCount),
		ShardLevelMetrics:       shardLevelMetricNames(d.ShardLevelMetrics),
		MaxRecordSizeKib:        int32(d.MaxRecordSizeKiB),
		WarmThroughput:          encodeWarm(d.WarmThroughput),
		KeyId:                   d.KeyID,
	}
}
