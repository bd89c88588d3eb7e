package main

import (
	"context"
	"strings"
	"testing"
	"time"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

func TestFormatStats(t *testing.T) {
	cur := &spatev1.GetStreamMetricsResponse{
		StreamName: "orders", ShardLevelMetrics: []string{"IncomingBytes", "IteratorAgeMilliseconds"},
		Shards: []*spatev1.ShardMetrics{
			{ShardId: "shardId-000000000000", IncomingRecords: 30, IncomingBytes: 300, OutgoingRecords: 20, OutgoingBytes: 200,
				IteratorAgeMilliseconds: 5, ConsumerIteratorAgeMilliseconds: map[string]int64{"firehose:orders": 1500}},
			{ShardId: "shardId-000000000001", IncomingRecords: 10, IncomingBytes: 100, IteratorAgeMilliseconds: -1},
		},
	}
	scaled := &spatev1.GetStreamMetricsResponse{StreamName: "clicks", AutoSplits: 3, AutoMerges: 1,
		Shards: []*spatev1.ShardMetrics{{ShardId: "shardId-000000000004", IteratorAgeMilliseconds: -1}}}
	prev := &spatev1.GetStreamMetricsResponse{
		StreamName: "orders",
		Shards: []*spatev1.ShardMetrics{
			{ShardId: "shardId-000000000000", IncomingRecords: 10, IncomingBytes: 100, OutgoingRecords: 20, OutgoingBytes: 200},
			{ShardId: "shardId-000000000001", IncomingRecords: 50, IncomingBytes: 500}, // the server restarted
		},
	}
	tests := []struct {
		name    string
		cur     *spatev1.GetStreamMetricsResponse
		prev    *spatev1.GetStreamMetricsResponse
		elapsed time.Duration
		want    string
	}{
		{"totals", cur, nil, 0, `Stream: orders
Enhanced monitoring (shard-level series in /metrics): IncomingBytes, IteratorAgeMilliseconds

SHARD                 IN RECORDS  IN BYTES  OUT RECORDS  OUT BYTES  ITERATOR AGE
shardId-000000000000  30          300       20           200        1500 ms
shardId-000000000001  10          100       0            0          -
TOTAL                 40          400       20           200        1500 ms
`},
		{"rates", cur, prev, 2 * time.Second, `Stream: orders
Enhanced monitoring (shard-level series in /metrics): IncomingBytes, IteratorAgeMilliseconds

SHARD                 IN RECORDS  IN REC/S  IN BYTES  IN B/S  OUT RECORDS  OUT REC/S  OUT BYTES  OUT B/S  ITERATOR AGE
shardId-000000000000  30          10.0      300       100.0   20           0.0        200        0.0      1500 ms
shardId-000000000001  10          -         100       -       0            0.0        0          0.0      -
TOTAL                 40          -         400       -       20           0.0        200        0.0      1500 ms
`},
		{"auto resharding", scaled, nil, 0, `Stream: clicks
Enhanced monitoring (shard-level series in /metrics): none
Automatic resharding (ON_DEMAND) since the server started: splits 3, merges 1

SHARD                 IN RECORDS  IN BYTES  OUT RECORDS  OUT BYTES  ITERATOR AGE
shardId-000000000004  0           0         0            0          -
`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := formatStats(&b, tc.cur, tc.prev, tc.elapsed); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tc.want)
			}
		})
	}
}

func TestStatsCommand(t *testing.T) {
	s := startAPIServer(t)
	ctx := clientTestContext(t)
	if _, err := s.api.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: "orders", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.api.PutRecord(ctx, &spatev1.PutRecordRequest{StreamName: "orders", PartitionKey: "k", Data: []byte("hello")}); err != nil {
		t.Fatal(err)
	}

	out, _, err := s.run(ctx, nil, "stats", "orders")
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	if !strings.Contains(out, "Enhanced monitoring (shard-level series in /metrics): none") ||
		!strings.Contains(out, "shardId-000000000000  1           6         0            0          -") {
		t.Errorf("stats printed:\n%s", out)
	}

	_, _, err = s.run(ctx, nil, "stats", "nope")
	if err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Errorf("stats of a missing stream: %v, want ResourceNotFoundException", err)
	}

	t.Run("watch", func(t *testing.T) {
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var out syncBuffer
		done := make(chan error, 1)
		go func() {
			done <- s.runTo(wctx, nil, &out, &out, "stats", "orders", "--watch", "--interval", "10ms")
		}()
		// The second sample has rates; a put between samples shows in them.
		waitFor(t, "a first table", func() bool { return strings.Contains(out.String(), "ITERATOR AGE") })
		if _, err := s.api.PutRecord(ctx, &spatev1.PutRecordRequest{StreamName: "orders", PartitionKey: "k", Data: []byte("hello")}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "a table with rates and the second record", func() bool {
			o := out.String()
			return strings.Contains(o, "IN REC/S") && strings.Contains(o, "shardId-000000000000  2 ")
		})
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("stats --watch ended with %v, want nil on interrupt", err)
		}
	})
}
