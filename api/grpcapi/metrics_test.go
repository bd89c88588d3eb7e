package grpcapi

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

func TestActionOf(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/spate.v1.StreamService/PutRecords", "StreamService/PutRecords"},
		{"/spate.v1.FirehoseService/PutRecord", "FirehoseService/PutRecord"},
		{"/Plain/Method", "Plain/Method"},
		{"odd", "odd"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := actionOf(tt.in); got != tt.want {
				t.Errorf("actionOf(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestMetricsInterceptors makes unary and streaming calls through the
// interceptors and checks the label set each one is counted under.
func TestMetricsInterceptors(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	store, err := shard.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	client := spatev1.NewStreamServiceClient(serveWithMetrics(t, m, store))
	ctx := testContext(t)

	tests := []struct {
		name   string
		call   func() error
		labels map[string]string
	}{
		{"unary success", func() error {
			_, err := client.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: "s", ShardCount: 1})
			return err
		}, map[string]string{"protocol": "grpc", "action": "StreamService/CreateStream", "code": "OK"}},
		{"unary error", func() error {
			_, err := client.DescribeStreamSummary(ctx, &spatev1.DescribeStreamSummaryRequest{StreamName: "missing"})
			if status.Code(err) != codes.NotFound {
				return errors.Join(errors.New("want NotFound"), err)
			}
			return nil
		}, map[string]string{"protocol": "grpc", "action": "StreamService/DescribeStreamSummary", "code": "NotFound"}},
		{"stream error", func() error {
			sub, err := client.Subscribe(ctx, &spatev1.SubscribeRequest{
				StreamName: "missing", ShardId: "shardId-000000000000",
				StartingPosition: &spatev1.StartingPosition{Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON},
			})
			if err != nil {
				return err
			}
			if _, err := sub.Recv(); status.Code(err) != codes.NotFound {
				return errors.Join(errors.New("want NotFound"), err)
			}
			return nil
		}, map[string]string{"protocol": "grpc", "action": "StreamService/Subscribe", "code": "NotFound"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err != nil {
				t.Fatalf("call: %v", err)
			}
			// The interceptors observe before gRPC sends the reply or the
			// final status, so the client's answer implies the observation.
			if got := seriesCount(t, reg, tt.labels); got != 1 {
				t.Errorf("observations with labels %v = %d, want 1", tt.labels, got)
			}
		})
	}
}

// TestMetricsShareHistogram checks that the gRPC interceptors and a second
// registration on one registry share one histogram.
func TestMetricsShareHistogram(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewMetrics(reg)
	if err != nil {
		t.Fatalf("second NewMetrics on one registry: %v", err)
	}
	if a.vec != b.vec {
		t.Error("the two Metrics have different histograms")
	}
}

// serveWithMetrics serves store over bufconn with m's interceptors and
// returns a connection; both are stopped when the test ends.
func serveWithMetrics(t *testing.T, m *Metrics, store *shard.Store) *grpc.ClientConn {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer(
		grpc.ChainUnaryInterceptor(m.UnaryServerInterceptor()),
		grpc.ChainStreamInterceptor(m.StreamServerInterceptor()),
	)
	srv := Register(gs, store)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = gs.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Close()
		gs.Stop()
		<-served
	})
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// seriesCount is the observation count of the request-duration series
// with exactly labels.
func seriesCount(t *testing.T, reg prometheus.Gatherer, labels map[string]string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "spate_api_request_duration_seconds" {
			continue
		}
		if mf.GetType() != dto.MetricType_HISTOGRAM {
			t.Fatalf("spate_api_request_duration_seconds is a %v", mf.GetType())
		}
	series:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue series
				}
			}
			return m.GetHistogram().GetSampleCount()
		}
	}
	return 0
}

// TestMetricsObserveAllocs checks that timing a call allocates nothing once
// its method and code have been seen.
func TestMetricsObserveAllocs(t *testing.T) {
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	notFound := status.Error(codes.NotFound, "x")
	for _, err := range []error{nil, notFound} {
		m.observe("/spate.v1.StreamService/PutRecords", err, start)
		if n := testing.AllocsPerRun(100, func() { m.observe("/spate.v1.StreamService/PutRecords", err, start) }); n != 0 {
			t.Errorf("observe(%v) allocates %v times per call, want 0", err, n)
		}
	}
}
