package grpcapi

import (
	"slices"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/spatehq/spate/apierr"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

func TestEnhancedMonitoringAndStreamMetrics(t *testing.T) {
	f := newFixture(t)
	ctx := testContext(t)
	f.createStream(t, "orders", 2)

	on, err := f.client.EnableEnhancedMonitoring(ctx, &spatev1.EnableEnhancedMonitoringRequest{
		StreamName: "orders", ShardLevelMetrics: []string{"OutgoingRecords", "IncomingBytes"}})
	if err != nil {
		t.Fatalf("EnableEnhancedMonitoring: %v", err)
	}
	if on.GetStreamName() != "orders" || on.GetStreamArn() == "" || len(on.GetCurrentShardLevelMetrics()) != 0 ||
		!slices.Equal(on.GetDesiredShardLevelMetrics(), []string{"IncomingBytes", "OutgoingRecords"}) {
		t.Fatalf("enable reply = %v", on)
	}
	d, err := f.client.DescribeStream(ctx, &spatev1.DescribeStreamRequest{StreamName: "orders"})
	if err != nil {
		t.Fatalf("DescribeStream: %v", err)
	}
	if got := d.GetStreamDescription().GetShardLevelMetrics(); !slices.Equal(got, []string{"IncomingBytes", "OutgoingRecords"}) {
		t.Fatalf("described metrics = %v", got)
	}
	off, err := f.client.DisableEnhancedMonitoring(ctx, &spatev1.DisableEnhancedMonitoringRequest{
		StreamName: "orders", ShardLevelMetrics: []string{"ALL"}})
	if err != nil {
		t.Fatalf("DisableEnhancedMonitoring: %v", err)
	}
	if !slices.Equal(off.GetCurrentShardLevelMetrics(), []string{"IncomingBytes", "OutgoingRecords"}) || len(off.GetDesiredShardLevelMetrics()) != 0 {
		t.Fatalf("disable reply = %v", off)
	}
	sum, err := f.client.DescribeStreamSummary(ctx, &spatev1.DescribeStreamSummaryRequest{StreamName: "orders"})
	if err != nil {
		t.Fatalf("DescribeStreamSummary: %v", err)
	}
	if got := sum.GetStreamDescriptionSummary().GetShardLevelMetrics(); len(got) != 0 {
		t.Fatalf("summary metrics after disabling all = %v", got)
	}

	// Per-shard counters exist whatever is enabled.
	put, err := f.client.PutRecord(ctx, &spatev1.PutRecordRequest{StreamName: "orders", PartitionKey: "k", Data: []byte("hello")})
	if err != nil {
		t.Fatalf("PutRecord: %v", err)
	}
	m, err := f.client.GetStreamMetrics(ctx, &spatev1.GetStreamMetricsRequest{StreamName: "orders"})
	if err != nil {
		t.Fatalf("GetStreamMetrics: %v", err)
	}
	if m.GetStreamName() != "orders" || len(m.GetShards()) != 2 {
		t.Fatalf("GetStreamMetrics = %v", m)
	}
	for _, sh := range m.GetShards() {
		want := uint64(0)
		if sh.GetShardId() == put.GetShardId() {
			want = 1
		}
		if sh.GetIncomingRecords() != want || sh.GetIncomingBytes() != 6*want || sh.GetIteratorAgeMilliseconds() != -1 {
			t.Errorf("shard %s = %v, want %d record(s) of 6 bytes and no read", sh.GetShardId(), sh, want)
		}
	}
}

func TestEnhancedMonitoringErrors(t *testing.T) {
	f := newFixture(t)
	ctx := testContext(t)
	f.createStream(t, "orders", 1)
	tests := []struct {
		name    string
		stream  string
		metrics []string
		code    apierr.Code
		grpc    codes.Code
	}{
		{"no metrics", "orders", nil, apierr.Validation, codes.InvalidArgument},
		{"unknown metric", "orders", []string{"Bogus"}, apierr.Validation, codes.InvalidArgument},
		{"not found", "nope", []string{"ALL"}, apierr.ResourceNotFound, codes.NotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.client.EnableEnhancedMonitoring(ctx, &spatev1.EnableEnhancedMonitoringRequest{StreamName: tc.stream, ShardLevelMetrics: tc.metrics})
			wantAPIError(t, err, tc.code, tc.grpc, "")
			_, err = f.client.DisableEnhancedMonitoring(ctx, &spatev1.DisableEnhancedMonitoringRequest{StreamName: tc.stream, ShardLevelMetrics: tc.metrics})
			wantAPIError(t, err, tc.code, tc.grpc, "")
		})
	}
	_, err := f.client.GetStreamMetrics(ctx, &spatev1.GetStreamMetricsRequest{StreamName: "nope"})
	wantAPIError(t, err, apierr.ResourceNotFound, codes.NotFound, "nope")
}
