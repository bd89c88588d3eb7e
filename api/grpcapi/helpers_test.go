package grpcapi

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// testTimeout bounds every call of a test; generous, so slow machines pass.
const testTimeout = 30 * time.Second

// fakeClock is a settable clock for the store.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time            { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration)   { c.ns.Add(int64(d)) }
func (c *fakeClock) Option() shard.Option      { return shard.WithClock(c.Now) }
func testContext(t *testing.T) context.Context { return testContextFrom(t, context.Background()) }

func testContextFrom(t *testing.T, parent context.Context) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(parent, testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// fixture is a store served over an in-memory gRPC connection.
type fixture struct {
	store  *shard.Store
	server *Server
	client spatev1.StreamServiceClient
}

// newFixture opens a store in a temporary directory and serves it over
// bufconn; everything is closed when the test ends.
func newFixture(t testing.TB, opts ...shard.Option) *fixture {
	t.Helper()
	store, err := shard.Open(t.TempDir(), opts...)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := store.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})

	var srv *Server
	conn := serveBufconn(t, func(gs *grpc.Server) { srv = Register(gs, store) })
	return &fixture{store: store, server: srv, client: spatev1.NewStreamServiceClient(conn)}
}

// serveBufconn starts a gRPC server with the services register registers,
// on an in-memory listener, and returns a connection to it; both are
// stopped when the test ends. opts are added to ServerOptions.
func serveBufconn(t testing.TB, register func(*grpc.Server), opts ...grpc.ServerOption) *grpc.ClientConn {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer(append(ServerOptions(), opts...)...) // as `spate serve` does
	register(gs)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = gs.Serve(lis)
	}()
	t.Cleanup(func() {
		gs.Stop()
		<-served
	})

	conn, err := grpc.NewClient("passthrough:///bufconn", append(DialOptions(),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// createStream creates an active stream of n shards.
func (f *fixture) createStream(t *testing.T, name string, n int) {
	t.Helper()
	_, err := f.client.CreateStream(testContext(t), &spatev1.CreateStreamRequest{StreamName: name, ShardCount: int32(n)})
	if err != nil {
		t.Fatalf("create stream %s: %v", name, err)
	}
}
