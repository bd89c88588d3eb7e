package grpcapi

import (
	"context"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// Enhanced monitoring and the per-shard counters `spate stats` shows. The
// store validates the metric names (1 to 7 of the Kinesis enum), so both
// APIs answer the same errors.

// EnableEnhancedMonitoring implements spatev1.StreamServiceServer.
func (s *Server) EnableEnhancedMonitoring(ctx context.Context, req *spatev1.EnableEnhancedMonitoringRequest) (*spatev1.EnableEnhancedMonitoringResponse, error) {
	res, err := s.changeMonitoring(ctx, req.GetStreamName(), req.GetStreamArn(), req.GetShardLevelMetrics(), s.store.EnableEnhancedMonitoring)
	if err != nil {
		return nil, s.fail(ctx, "EnableEnhancedMonitoring", err)
	}
	return &spatev1.EnableEnhancedMonitoringResponse{
		StreamName: res.Name, StreamArn: res.ARN,
		CurrentShardLevelMetrics: shardLevelMetricNames(res.Current), DesiredShardLevelMetrics: shardLevelMetricNames(res.Desired),
	}, nil
}

// DisableEnhancedMonitoring implements spatev1.StreamServiceServer.
func (s *Server) DisableEnhancedMonitoring(ctx context.Context, req *spatev1.DisableEnhancedMonitoringRequest) (*spatev1.DisableEnhancedMonitoringResponse, error) {
	res, err := s.changeMonitoring(ctx, req.GetStreamName(), req.GetStreamArn(), req.GetShardLevelMetrics(), s.store.DisableEnhancedMonitoring)
	if err != nil {
		return nil, s.fail(ctx, "DisableEnhancedMonitoring", err)
	}
	return &spatev1.DisableEnhancedMonitoringResponse{
		StreamName: res.Name, StreamArn: res.ARN,
		CurrentShardLevelMetrics: shardLevelMetricNames(res.Current), DesiredShardLevelMetrics: shardLevelMetricNames(res.Desired),
	}, nil
}

func (s *Server) changeMonitoring(ctx context.Context, name, arn string, names []string,
	change func(context.Context, string, []shard.ShardLevelMetric) (shard.EnhancedMonitoringResult, error)) (shard.EnhancedMonitoringResult, error) {
	name, err := s.store.ResolveStream(name, arn)
	if err != nil {
		return shard.EnhancedMonitoringResult{}, err
	}
	metrics := make([]shard.ShardLevelMetric, len(names))
	for i, n := range names {
		metrics[i] = shard.ShardLevelMetric(n)
	}
	return change(ctx, name, metrics)
}

// GetStreamMetrics implements spatev1.StreamServiceServer.
func (s *Server) GetStreamMetrics(ctx context.Context, req *spatev1.GetStreamMetricsRequest) (*spatev1.GetStreamMetricsResponse, error) {
	name, err := s.store.ResolveStream(req.GetStreamName(), req.GetStreamArn())
	if err != nil {
		return nil, s.fail(ctx, "GetStreamMetrics", err)
	}
	m, err := s.store.StreamMetrics(ctx, name)
	if err != nil {
		return nil, s.fail(ctx, "GetStreamMetrics", err)
	}
	resp := &spatev1.GetStreamMetricsResponse{
		StreamName:        m.Stream,
		ShardLevelMetrics: shardLevelMetricNames(m.ShardLevelMetrics),
		Shards:            make([]*spatev1.ShardMetrics, len(m.Shards)),
		AutoSplits:        m.AutoSplits,
		AutoMerges:        m.AutoMerges,
	}
	for i, sh := range m.Shards {
		resp.Shards[i] = &spatev1.ShardMetrics{
			ShardId:                         sh.ShardID,
			IncomingRecords:                 sh.IncomingRecords,
			IncomingBytes:                   sh.IncomingBytes,
			OutgoingRecords:                 sh.OutgoingRecords,
			OutgoingBytes:                   sh.OutgoingBytes,
			IteratorAgeMilliseconds:         sh.IteratorAgeMs,
			ConsumerIteratorAgeMilliseconds: sh.ConsumerAgesMs,
		}
	}
	return resp, nil
}

func shardLevelMetricNames(in []shard.ShardLevelMetric) []string {
	out := make([]string, len(in))
	for i, m := range in {
		out[i] = string(m)
	}
	return out
}
