package integration

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestOnDemandAutoScaling: with short thresholds (--on-demand-*), an
// ON_DEMAND stream under a write load above the per-shard limit is split
// by the server, the records keep their per-key order across the splits,
// and once the load stops the cold shards are merged back to the minimum
// of 4. The scaler's reshards are counted in the metrics.
func TestOnDemandAutoScaling(t *testing.T) {
	t.Parallel()
	k := newKin(t, withArgs(
		"--on-demand-interval", "100ms",
		"--on-demand-split-records", "20",
		"--on-demand-split-after", "300ms",
		"--on-demand-merge-records", "5",
		"--on-demand-merge-bytes", "500",
		"--on-demand-merge-after", "1s",
	))
	ctx := testCtx(t)
	name := uniqueName(t)
	k.createOnDemand(ctx, t, name)
	if n := len(openShards(ctx, t, k.c, name)); n != 4 {
		t.Fatalf("a new ON_DEMAND stream has %d open shards, want 4", n)
	}

	kp := startKeyedProducers(ctx, t, name, func() *kinesis.Client { return k.c })
	for len(openShards(ctx, t, k.c, name)) < 6 {
		kp.progress(ctx, t, 100) // fails the test if the producers stall
	}
	kp.halt()
	splits := k.autoScaleCount(ctx, t, name, "splits")
	if splits < 2 {
		t.Errorf("spate_stream_auto_splits_total = %d with 6 open shards, want at least 2", splits)
	}
	if _, err := k.c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(name), ShardToSplit: aws.String(shardID(0)), NewStartingHashKey: aws.String("1")}); err == nil {
		t.Error("SplitShard of an ON_DEMAND stream succeeded")
	} else {
		wantAPIError(t, err, "ValidationException", "ON_DEMAND")
	}

	// Cold: merged back down to the minimum, never below.
	for len(openShards(ctx, t, k.c, name)) > 4 {
		select {
		case <-ctx.Done():
			t.Fatalf("the cold stream still has %d open shards", len(openShards(ctx, t, k.c, name)))
		case <-time.After(50 * time.Millisecond):
		}
	}
	merges := k.autoScaleCount(ctx, t, name, "merges")
	if merges < 2 {
		t.Errorf("spate_stream_auto_merges_total = %d, want at least 2", merges)
	}
	// spate stats shows the same counts (GetStreamMetrics).
	want := fmt.Sprintf("splits %d, merges %d", k.autoScaleCount(ctx, t, name, "splits"), merges)
	if out := spateCLI(ctx, t, k.srv.GRPCAddr)("", "stats", name); !strings.Contains(out, want) {
		t.Errorf("spate stats %s printed no %q:\n%s", name, want, out)
	}
	kp.check(t, mustReadLineage(ctx, t, k, name))
	if n := len(openShards(ctx, t, k.c, name)); n != 4 {
		t.Errorf("%d open shards, want the minimum 4", n)
	}
	s := k.summary(ctx, t, name)
	if s.StreamModeDetails.StreamMode != types.StreamModeOnDemand {
		t.Errorf("mode %s, want ON_DEMAND", s.StreamModeDetails.StreamMode)
	}
}

// mustReadLineage is readLineage that checks every shard was reached.
func mustReadLineage(ctx context.Context, t *testing.T, k *kin, name string) map[string][]string {
	t.Helper()
	read, reached := readLineage(ctx, t, k.c, name)
	if all := len(k.shards(ctx, t, name)); reached != all {
		t.Errorf("the reader reached %d of %d shards", reached, all)
	}
	return read
}

// autoScaleCount reads spate_stream_auto_<what>_total of a stream from
// /metrics; the series must be there (the stream is ON_DEMAND).
func (k *kin) autoScaleCount(ctx context.Context, t *testing.T, name, what string) int {
	t.Helper()
	series := fmt.Sprintf("spate_stream_auto_%s_total{stream=%q}", what, name)
	v, ok := scrapeMetrics(ctx, t, k.srv)[series]
	if !ok {
		t.Fatalf("/metrics has no %s", series)
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil {
		t.Fatalf("%s = %q", series, v)
	}
	return int(n)
}
