package grpcapi

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spatehq/spate/apierr"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

func TestAWSAction(t *testing.T) {
	tests := []struct{ method, api, action string }{
		{"/spate.v1.StreamService/PutRecords", "Kinesis", "PutRecords"},
		{"/spate.v1.FirehoseService/PutRecordBatch", "Firehose", "PutRecordBatch"},
		{"/spate.v1.AnalyticsService/CreateApplication", "", ""},
		{"/grpc.health.v1.Health/Check", "", ""},
		{"nonsense", "", ""},
	}
	for _, tt := range tests {
		api, action, ok := awsAction(tt.method)
		if api != tt.api || action != tt.action || ok != (tt.api != "") {
			t.Errorf("awsAction(%q) = %q, %q, %v", tt.method, api, action, ok)
		}
	}
}

// TestInterceptOption: the intercept's error answers the call with the
// status of its AWS error, and its context reaches the store (here: an
// injected record fault).
func TestInterceptOption(t *testing.T) {
	store, err := shard.Open(t.TempDir(), shard.WithFaultInjection(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	var seen []string
	intercept := func(ctx context.Context, api, action string) (context.Context, error) {
		seen = append(seen, api+"."+action)
		switch action {
		case "DescribeStream":
			return ctx, apierr.New(apierr.LimitExceeded, "Rate exceeded for DescribeStream.")
		case "PutRecords":
			return shard.WithFaults(ctx, shard.Faults{Record: func(i int) apierr.Code {
				if i == 0 {
					return apierr.ProvisionedThroughputExceeded
				}
				return ""
			}}), nil
		}
		return ctx, nil
	}
	conn := serveBufconn(t, func(gs *grpc.Server) { Register(gs, store) }, InterceptOption(intercept))
	c := spatev1.NewStreamServiceClient(conn)
	ctx := testContext(t)
	if _, err := c.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: "s", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeStream(ctx, &spatev1.DescribeStreamRequest{StreamName: "s"})
	if status.Code(err) != codes.ResourceExhausted || apierr.CodeOf(FromStatus(err)) != apierr.LimitExceeded {
		t.Fatalf("DescribeStream: %v, want RESOURCE_EXHAUSTED carrying LimitExceededException", err)
	}
	res, err := c.PutRecords(ctx, &spatev1.PutRecordsRequest{StreamName: "s", Records: []*spatev1.PutRecordsRequestEntry{
		{PartitionKey: "a", Data: []byte("a")}, {PartitionKey: "b", Data: []byte("b")}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.GetFailedRecordCount() != 1 || res.GetRecords()[0].GetErrorCode() != string(apierr.ProvisionedThroughputExceeded) ||
		res.GetRecords()[1].GetSequenceNumber() == "" {
		t.Fatalf("PutRecords: %v", res)
	}
	want := []string{"Kinesis.CreateStream", "Kinesis.DescribeStream", "Kinesis.PutRecords"}
	if len(seen) != len(want) {
		t.Fatalf("intercepted %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("intercepted %v, want %v", seen, want)
		}
	}
}
