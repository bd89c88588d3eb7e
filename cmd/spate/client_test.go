package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/spatehq/spate/api/grpcapi"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// clientTestTimeout bounds each client test; generous, so slow machines pass.
const clientTestTimeout = 60 * time.Second

// apiServer is a store served over gRPC on a free loopback port, for the
// client commands to talk to.
type apiServer struct {
	addr  string
	api   spatev1.StreamServiceClient // a direct client, to set up and check
	store *shard.Store                // the server's store, for what the API does not serve (resharding)
}

func startAPIServer(t *testing.T) *apiServer {
	t.Helper()
	return startAPIServerWith(t)
}

// startAPIServerWith is startAPIServer with store options.
func startAPIServerWith(t *testing.T, opts ...shard.Option) *apiServer {
	t.Helper()
	store, err := shard.Open(t.TempDir(), opts...)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	gs := grpc.NewServer(grpc.MaxRecvMsgSize(grpcapi.MaxMessageSize))
	srv := grpcapi.Register(gs, store)
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
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return &apiServer{addr: lis.Addr().String(), api: spatev1.NewStreamServiceClient(cc), store: store}
}

// run runs `spate ARGS --grpc-addr <server>` with stdin and returns what it
// printed.
func (s *apiServer) run(ctx context.Context, stdin io.Reader, args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	err = s.runTo(ctx, stdin, &out, &errOut, args...)
	return out.String(), errOut.String(), err
}

func (s *apiServer) runTo(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args ...string) error {
	root := newRootCmd()
	if stdin == nil {
		stdin = bytes.NewReader(nil)
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetArgs(append(args, "--grpc-addr", s.addr))
	return root.ExecuteContext(ctx)
}

func clientTestContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientTestTimeout)
	t.Cleanup(cancel)
	return ctx
}
