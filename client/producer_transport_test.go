package client

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"google.golang.org/grpc"
	"google.golang.org/grpc/test/bufconn"

	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/api/grpcapi"
	"github.com/spatehq/spate/api/kinesisapi"
	"github.com/spatehq/spate/internal/sdkhttp"
	"github.com/spatehq/spate/shard"
)

// testServer serves a store over gRPC (bufconn) and the Kinesis HTTP API
// (httptest), as `spate serve` does.
type testServer struct {
	store  *shard.Store
	client *Client
	http   *kinesis.Client
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	store, err := shard.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer(grpcapi.ServerOptions()...)
	grpcapi.Register(gs, store)
	go func() { _ = gs.Serve(lis) }()
	router, err := awsproto.NewRouter([]*awsproto.Handler{kinesisapi.NewHandler(store)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(router)
	c, err := New("passthrough:///bufnet", WithDialOptions(grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
		return lis.DialContext(ctx)
	})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Close()
		hs.Close()
		gs.Stop()
		_ = store.Close()
	})
	transport := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(transport.CloseIdleConnections)
	k := kinesis.New(kinesis.Options{
		BaseEndpoint: aws.String(hs.URL),
		Region:       "us-east-1",
		Credentials:  aws.AnonymousCredentials{},
		Retryer:      aws.NopRetryer{},
		HTTPClient:   &http.Client{Transport: sdkhttp.PlainBodies(transport)},
	})
	return &testServer{store: store, client: c, http: k}
}

// TestProducerTransports: each transport stores every record, answers
// it with its real shard and sequence number, in per-key order.
func TestProducerTransports(t *testing.T) {
	srv := newTestServer(t)
	tests := []struct {
		name string
		opts []ProducerOption
	}{
		{"produce stream", nil},
		{"unary PutRecords", []ProducerOption{WithTransport(TransportPutRecords)}},
		{"HTTP", []ProducerOption{WithHTTP(srv.http)}},
		{"produce stream, aggregated", []ProducerOption{WithAggregation(0)}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			name := fmt.Sprintf("s%d", i)
			if err := srv.store.CreateStream(ctx, shard.CreateStreamInput{Name: name, ShardCount: 3}); err != nil {
				t.Fatal(err)
			}
			p, err := NewProducer(srv.client, name, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			var rs []*PutResult
			for i := range 300 {
				rs = append(rs, p.Put(ctx, fmt.Sprintf("key-%d", i%7), fmt.Appendf(nil, "%d", i)))
			}
			if err := p.Close(ctx); err != nil {
				t.Fatal(err)
			}
			stored := map[string]string{} // sequence number (and sub-sequence) to data
			for _, r := range rs {
				shardID, seq, err := r.Wait(ctx)
				if err != nil {
					t.Fatal(err)
				}
				sub, _ := r.SubSequenceNumber()
				stored[fmt.Sprintf("%s/%s/%d", shardID, seq, sub)] = string(r.Record().Data)
			}
			if len(stored) != len(rs) {
				t.Fatalf("%d distinct positions for %d records", len(stored), len(rs))
			}
			// Read back the first record of every position: the data
			// matches what was acknowledged there.
			for _, r := range rs[:20] {
				shardID, seq, _ := r.Wait(ctx)
				it, err := srv.store.ShardIterator(ctx, name, shardID, shard.Position{Type: shard.AtSequenceNumber, SequenceNumber: seq})
				if err != nil {
					t.Fatal(err)
				}
				out, err := srv.store.GetRecords(ctx, it, 1)
				if err != nil || len(out.Records) != 1 {
					t.Fatalf("read %s/%s: %v %v", shardID, seq, out.Records, err)
				}
				if _, ok := r.SubSequenceNumber(); !ok && string(out.Records[0].Data) != string(r.Record().Data) {
					t.Fatalf("%s/%s holds %q, acknowledged %q", shardID, seq, out.Records[0].Data, r.Record().Data)
				}
			}
		})
	}
}
