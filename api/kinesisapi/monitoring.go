package kinesisapi

import (
	"context"

	"github.com/spatehq/spate/shard"
)

// Enhanced monitoring: the store keeps which shard-level metrics a stream
// exports; these actions change it and answer with the lists before and
// after, ALL expanded to the seven names (as AWS answers).

func (h *handler) enableEnhancedMonitoring(ctx context.Context, in *enhancedMonitoringRequest) (enhancedMonitoringReply, error) {
	return h.changeMonitoring(ctx, in, h.store.EnableEnhancedMonitoring)
}

func (h *handler) disableEnhancedMonitoring(ctx context.Context, in *enhancedMonitoringRequest) (enhancedMonitoringReply, error) {
	return h.changeMonitoring(ctx, in, h.store.DisableEnhancedMonitoring)
}

func (h *handler) changeMonitoring(ctx context.Context, in *enhancedMonitoringRequest,
	change func(context.Context, string, []shard.ShardLevelMetric) (shard.EnhancedMonitoringResult, error)) (enhancedMonitoringReply, error) {
	name, err := h.resolve(in.streamRef)
	if err != nil {
		return enhancedMonitoringReply{}, err
	}
	metrics := make([]shard.ShardLevelMetric, len(in.ShardLevelMetrics))
	for i, m := range in.ShardLevelMetrics {
		metrics[i] = shard.ShardLevelMetric(m)
	}
	res, err := change(ctx, name, metrics)
	if err != nil {
		return enhancedMonitoringReply{}, err
	}
	return enhancedMonitoringReply{
		StreamName:               res.Name,
		StreamARN:                res.ARN,
		CurrentShardLevelMetrics: metricNames(res.Current),
		DesiredShardLevelMetrics: metricNames(res.Desired),
	}, nil
}

// metricNames converts the store's metric list to the wire's, never nil:
// an empty list is sent as [] (AWS does), not left out.
func metricNames(in []shard.ShardLevelMetric) []string {
	out := make([]string, len(in))
	for i, m := range in {
		out[i] = string(m)
	}
	return out
}
