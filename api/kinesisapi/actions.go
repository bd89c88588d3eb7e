package kinesisapi

import (
	"context"
	"fmt"
	"time"

	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/shard"
)

// The actions. Each receives a request that has passed model validation,
// converts it to the store's types, calls the store and converts the answer.
// Semantic checks (does the stream exist, is the retention in range, ...)
// belong to the store, which answers with apierr values.

// encryptionNone is the EncryptionType of a stream or record that is not
// encrypted.
const encryptionNone = "NONE"

func (h *handler) resolve(ref streamRef) (string, error) {
	return h.store.ResolveStream(str(ref.StreamName), str(ref.StreamARN))
}

func (h *handler) createStream(ctx context.Context, in *createStreamRequest) (empty, error) {
	// WarmThroughputMiBps is accepted and ignored: Spate has no throughput
	// provisioning (UpdateStreamWarmThroughput records one).
	ci := shard.CreateStreamInput{
		Name:             str(in.StreamName),
		ShardCount:       num(in.ShardCount),
		Tags:             in.Tags,
		MaxRecordSizeKiB: num(in.MaxRecordSizeInKiB),
	}
	if in.StreamModeDetails != nil {
		ci.Mode = shard.StreamMode(str(in.StreamModeDetails.StreamMode))
	}
	return empty{}, h.store.CreateStream(ctx, ci)
}

func (h *handler) deleteStream(ctx context.Context, in *deleteStreamRequest) (empty, error) {
	name, err := h.resolve(in.streamRef)
	if err != nil {
		return empty{}, err
	}
	if err := h.store.DeleteStreamWithConsumers(ctx, name, in.EnforceConsumerDeletion != nil && *in.EnforceConsumerDeletion); err != nil {
		return empty{}, err
	}
	h.fanOut.endStream(h.store.StreamARN(name))
	return empty{}, nil
}

func (h *handler) describeStream(ctx context.Context, in *describeStreamRequest) (describeStreamReply, error) {
	name, err := h.resolve(in.streamRef)
	if err != nil {
		return describeStreamReply{}, err
	}
	d, err := h.store.DescribeStream(ctx, name, num(in.Limit), str(in.ExclusiveStartShardID))
	if err != nil {
		return describeStreamReply{}, err
	}
	return describeStreamReply{StreamDescription: streamDescription{
		StreamName:              d.Name,
		StreamARN:               d.ARN,
		StreamStatus:            string(d.Status),
		StreamModeDetails:       modeDetails(d.Mode),
		Shards:                  shardsOut(d.Shards),
		HasMoreShards:           d.HasMoreShards,
		RetentionPeriodHours:    d.RetentionHours,
		StreamCreationTimestamp: awsproto.EpochSeconds(d.CreatedAt),
		EnhancedMonitoring:      enhancedMonitoring(d.ShardLevelMetrics),
		EncryptionType:          encryptionType(d.EncryptionType),
		KeyID:                   d.KeyID,
	}}, nil
}

func (h *handler) describeStreamSummary(ctx context.Context, in *describeStreamSummaryRequest) (describeStreamSummaryReply, error) {
	name, err := h.resolve(in.streamRef)
	if err != nil {
		return describeStreamSummaryReply{}, err
	}
	d, err := h.store.DescribeStreamSummary(ctx, name)
	if err != nil {
		return describeStreamSummaryReply{}, err
	}
	return describeStreamSummaryReply{StreamDescriptionSummary: streamDescriptionSummary{
		StreamName:              d.Name,
		StreamARN:               d.ARN,
		StreamStatus:            string(d.Status),
		StreamModeDetails:       modeDetails(d.Mode),
		RetentionPeriodHours:    d.RetentionHours,
		StreamCreationTimestamp: awsproto.EpochSeconds(d.CreatedAt),
		EnhancedMonitoring:      enhancedMonitoring(d.ShardLevelMetrics),
		EncryptionType:          encryptionType(d.EncryptionType),
		KeyID:                   d.KeyID,
		OpenShardCount:          d.OpenShardCount,
		ConsumerCount:           d.ConsumerCount,
		MaxRecordSizeInKiB:      d.MaxRecordSizeKiB,
		WarmThroughput:          warmOut(d.WarmThroughput),
	}}, nil
}

func (h *handler) listStreams(ctx context.Context, in *listStreamsRequest) (listStreamsReply, error) {
	out, err := h.store.ListStreams(ctx, shard.ListStreamsInput{
		Limit:                    num(in.Limit),
		ExclusiveStartStreamName: str(in.ExclusiveStartStreamName),
		NextToken:                str(in.NextToken),
	})
	if err != nil {
		return listStreamsReply{}, err
	}
	reply := listStreamsReply{
		StreamNames:     make([]string, len(out.Streams)),
		HasMoreStreams:  out.HasMoreStreams,
		NextToken:       out.NextToken,
		StreamSummaries: make([]streamSummary, len(out.Streams)),
	}
	for i, s := range out.Streams {
		reply.StreamNames[i] = s.Name
		reply.StreamSummaries[i] = streamSummary{
			StreamName:        s.Name,
			StreamARN:         s.ARN,
			StreamStatus:      string(s.Status),
			StreamModeDetails: modeDetails(s.Mode),
		}
		if !s.CreatedAt.IsZero() {
			ts := awsproto.EpochSeconds(s.CreatedAt)
			reply.StreamSummaries[i].StreamCreationTimestamp = &ts
		}
	}
	return reply, nil
}

func (h *handler) listShards(ctx context.Context, in *listShardsRequest) (listShardsReply, error) {
	li := shard.ListShardsInput{
		ExclusiveStartShardID: str(in.ExclusiveStartShardID),
		MaxResults:            num(in.MaxResults),
	}
	if in.NextToken != nil {
		// The token names the stream and the position; AWS refuses the
		// parameters that would contradict it.
		for _, p := range []struct {
			set  bool
			name string
		}{
			{in.StreamName != nil, "StreamName"},
			{in.StreamARN != nil, "StreamARN"},
			{in.ExclusiveStartShardID != nil, "ExclusiveStartShardId"},
			{in.StreamCreationTimestamp != nil, "StreamCreationTimestamp"},
		} {
			if p.set {
				return listShardsReply{}, apierr.New(apierr.InvalidArgument,
					"NextToken and %s cannot be provided together.", p.name)
			}
		}
		li.NextToken = *in.NextToken
	} else {
		if in.StreamName == nil && in.StreamARN == nil {
			return listShardsReply{}, apierr.New(apierr.InvalidArgument,
				"Either NextToken or StreamName (or StreamARN) should be provided.")
		}
		name, err := h.resolve(in.streamRef)
		if err != nil {
			return listShardsReply{}, err
		}
		li.Stream = name
	}
	if in.StreamCreationTimestamp != nil {
		t := time.Time(*in.StreamCreationTimestamp)
		li.StreamCreatedAt = &t
	}
	if f := in.ShardFilter; f != nil {
		li.Filter = &shard.ShardFilter{Type: shard.ShardFilterType(str(f.Type)), ShardID: str(f.ShardID)}
		if f.Timestamp != nil {
			li.Filter.Timestamp = time.Time(*f.Timestamp)
		}
	}
	out, err := h.store.ListShards(ctx, li)
	if err != nil {
		return listShardsReply{}, err
	}
	return listShardsReply{Shards: shardsOut(out.Shards), NextToken: out.NextToken}, nil
}

func (h *handler) putRecord(ctx context.Context, in *putRecordRequest) (putRecordReply, error) {
	// SequenceNumberForOrdering is validated by the model and otherwise
	// ignored: a shard's sequence numbers always increase, so every record
	// already sorts after the records put before it.
	name, err := h.resolve(in.streamRef)
	if err != nil {
		return putRecordReply{}, err
	}
	res, err := h.store.Append(ctx, name, []shard.Entry{{
		PartitionKey:    str(in.PartitionKey),
		ExplicitHashKey: str(in.ExplicitHashKey),
		Data:            in.Data,
	}})
	if err != nil {
		return putRecordReply{}, err
	}
	if len(res) != 1 {
		return putRecordReply{}, errResultCount(len(res), 1)
	}
	if r := res[0]; r.ErrorCode != "" {
		// A per-entry failure of the only entry is the request's failure.
		return putRecordReply{}, &apierr.Error{Code: apierr.Code(r.ErrorCode), Message: r.ErrorMessage}
	}
	return putRecordReply{ShardID: res[0].ShardID, SequenceNumber: res[0].SequenceNumber, EncryptionType: shard.EncryptionTypeOf(res)}, nil
}

func (h *handler) putRecords(ctx context.Context, in *putRecordsRequest) (putRecordsReply, error) {
	name, err := h.resolve(in.streamRef)
	if err != nil {
		return putRecordsReply{}, err
	}
	entries := make([]shard.Entry, len(in.Records))
	for i, r := range in.Records {
		entries[i] = shard.Entry{PartitionKey: str(r.PartitionKey), ExplicitHashKey: str(r.ExplicitHashKey), Data: r.Data}
	}
	res, err := h.store.Append(ctx, name, entries)
	if err != nil {
		return putRecordsReply{}, err
	}
	if len(res) != len(entries) {
		return putRecordsReply{}, errResultCount(len(res), len(entries))
	}
	reply := putRecordsReply{Records: make([]putRecordsResult, len(res)), EncryptionType: shard.EncryptionTypeOf(res)}
	for i, r := range res {
		if r.ErrorCode != "" {
			reply.FailedRecordCount++
			reply.Records[i] = putRecordsResult{ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage}
			continue
		}
		reply.Records[i] = putRecordsResult{SequenceNumber: r.SequenceNumber, ShardID: r.ShardID}
	}
	return reply, nil
}

func errResultCount(got, want int) error {
	// Not an apierr: a broken store invariant is an internal failure.
	return &resultCountError{got: got, want: want}
}

type resultCountError struct{ got, want int }

func (e *resultCountError) Error() string {
	return fmt.Sprintf("store returned %d append results for %d entries", e.got, e.want)
}

func (h *handler) getShardIterator(ctx context.Context, in *getShardIteratorRequest) (getShardIteratorReply, error) {
	name, err := h.resolve(in.streamRef)
	if err != nil {
		return getShardIteratorReply{}, err
	}
	pos := shard.Position{
		Type:           shard.IteratorType(str(in.ShardIteratorType)),
		SequenceNumber: str(in.StartingSequenceNumber),
	}
	if in.Timestamp != nil {
		pos.Timestamp = time.Time(*in.Timestamp)
	}
	it, err := h.store.ShardIterator(ctx, name, str(in.ShardID), pos)
	if err != nil {
		return getShardIteratorReply{}, err
	}
	return getShardIteratorReply{ShardIterator: it}, nil
}

func (h *handler) getRecords(ctx context.Context, in *getRecordsRequest) (getRecordsReply, error) {
	records := h.blocks.get()
	out, err := h.store.GetRecordsInto(ctx, str(in.ShardIterator), num(in.Limit), records)
	if err != nil {
		h.blocks.put(records)
		return getRecordsReply{}, err
	}
	return getRecordsReply{
		Records:            records,
		NextShardIterator:  out.NextIterator,
		MillisBehindLatest: out.MillisBehindLatest,
		ChildShards:        toChildShardsOut(out.ChildShards),
		src:                out,
		blocks:             &h.blocks,
	}, nil
}

// toChildShardsOut is children as GetRecords and SubscribeToShard return
// them (nil for none: the member is left out).
func toChildShardsOut(children []shard.ChildShard) []childShardOut {
	var out []childShardOut
	for _, c := range children {
		out = append(out, childShardOut{
			ShardID:      c.ShardID,
			ParentShards: nonNil(c.ParentShards),
			HashKeyRange: hashKeyRange{StartingHashKey: c.HashKeyRange.Start, EndingHashKey: c.HashKeyRange.End},
		})
	}
	return out
}

func (h *handler) increaseRetention(ctx context.Context, in *retentionRequest) (empty, error) {
	name, err := h.resolve(in.streamRef)
	if err != nil {
		return empty{}, err
	}
	return empty{}, h.store.IncreaseRetention(ctx, name, num(in.RetentionPeriodHours))
}

func (h *handler) decreaseRetention(ctx context.Context, in *retentionRequest) (empty, error) {
	name, err := h.resolve(in.streamRef)
	if err != nil {
		return empty{}, err
	}
	return empty{}, h.store.DecreaseRetention(ctx, name, num(in.RetentionPeriodHours))
}

func (h *handler) addTagsToStream(ctx context.Context, in *addTagsRequest) (empty, error) {
	name, err := h.resolve(in.streamRef)
	if err != nil {
		return empty{}, err
	}
	return empty{}, h.store.AddTags(ctx, name, in.Tags)
}

func (h *handler) removeTagsFromStream(ctx context.Context, in *removeTagsRequest) (empty, error) {
	name, err := h.resolve(in.streamRef)
	if err != nil {
		return empty{}, err
	}
	return empty{}, h.store.RemoveTags(ctx, name, in.TagKeys)
}

func (h *handler) listTagsForStream(ctx context.Context, in *listTagsRequest) (listTagsReply, error) {
	name, err := h.resolve(in.streamRef)
	if err != nil {
		return listTagsReply{}, err
	}
	tags, more, err := h.store.ListTags(ctx, name, str(in.ExclusiveStartTagKey), num(in.Limit))
	if err != nil {
		return listTagsReply{}, err
	}
	reply := listTagsReply{Tags: make([]tagOut, len(tags)), HasMoreTags: more}
	for i, t := range tags {
		reply.Tags[i] = tagOut{Key: t.Key, Value: t.Value}
	}
	return reply, nil
}

func (h *handler) describeLimits(ctx context.Context, _ *describeLimitsRequest) (describeLimitsReply, error) {
	l, err := h.store.Limits(ctx)
	if err != nil {
		return describeLimitsReply{}, err
	}
	return describeLimitsReply{
		ShardLimit:               l.ShardLimit,
		OpenShardCount:           l.OpenShardCount,
		OnDemandStreamCount:      l.OnDemandStreamCount,
		OnDemandStreamCountLimit: l.OnDemandStreamCountLimit,
	}, nil
}

func shardsOut(in []shard.ShardInfo) []shardOut {
	out := make([]shardOut, len(in))
	for i, s := range in {
		out[i] = shardOut{
			ShardID:               s.ShardID,
			ParentShardID:         s.ParentShardID,
			AdjacentParentShardID: s.AdjacentParentShardID,
			HashKeyRange:          hashKeyRange{StartingHashKey: s.HashKeyRange.Start, EndingHashKey: s.HashKeyRange.End},
			SequenceNumberRange: sequenceNumberRange{
				StartingSequenceNumber: s.SequenceNumberRange.Start,
				EndingSequenceNumber:   s.SequenceNumberRange.End,
			},
		}
	}
	return out
}

func modeDetails(m shard.StreamMode) *streamModeDetails {
	if m == "" {
		return nil
	}
	return &streamModeDetails{StreamMode: string(m)}
}

// enhancedMonitoring is DescribeStream's EnhancedMonitoring: always one
// entry, whose list is empty for a stream without shard-level metrics (as
// AWS reports it).
func enhancedMonitoring(metrics []shard.ShardLevelMetric) []enhancedMetrics {
	return []enhancedMetrics{{ShardLevelMetrics: metricNames(metrics)}}
}

func encryptionType(t string) string {
	if t == "" {
		return encryptionNone
	}
	return t
}

// nonNil returns s, or an empty slice for nil: encoding/json writes nil as
// null, which clients read as a missing member.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
