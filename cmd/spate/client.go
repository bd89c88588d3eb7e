package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spatehq/spate/api/grpcapi"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// apiConn is a client connection to the gRPC API of a Spate server.
type apiConn struct {
	addr string
	cc   *grpc.ClientConn
	api  spatev1.StreamServiceClient
}

// dial prepares a connection to --grpc-addr; gRPC connects on the first call.
// Calls are signed when credentials are found (client_auth.go). The
// connection is plain text unless the --tls* flags ask for TLS
// (client_tls.go).
func dial(cmd *cobra.Command) (*apiConn, error) {
	addr, conn, err := connOptions(cmd)
	if err != nil {
		return nil, err
	}
	cc, err := grpc.NewClient(addr, append(grpcapi.DialOptions(), conn...)...)
	if err != nil {
		return nil, fmt.Errorf("--grpc-addr %q: %w", addr, err)
	}
	return &apiConn{addr: addr, cc: cc, api: spatev1.NewStreamServiceClient(cc)}, nil
}

// connOptions returns --grpc-addr and the dial options that the client
// flags ask for: the transport credentials (client_tls.go), then signing
// (client_auth.go).
func connOptions(cmd *cobra.Command) (string, []grpc.DialOption, error) {
	addr, err := cmd.Flags().GetString("grpc-addr")
	if err != nil {
		return "", nil, err
	}
	signing, err := clientAuthOptions(cmd)
	if err != nil {
		return "", nil, fmt.Errorf("credentials: %w", err)
	}
	creds, err := clientTransportCredentials(cmd)
	if err != nil {
		return "", nil, err
	}
	return addr, append([]grpc.DialOption{grpc.WithTransportCredentials(creds)}, signing...), nil
}

func (c *apiConn) Close() error { return c.cc.Close() }

// fail turns an RPC error into what a command reports: the API error
// ("ResourceNotFoundException: ...") when the server sent one, or a hint when
// the server cannot be reached.
func (c *apiConn) fail(op string, err error) error {
	return rpcError(op, c.addr, err)
}

func rpcError(op, addr string, err error) error {
	if status.Code(err) == codes.Unavailable {
		return fmt.Errorf("%s: the Spate server at %s is unavailable (is 'spate serve' running there? see --grpc-addr): %w", op, addr, err)
	}
	return fmt.Errorf("%s: %w", op, grpcapi.FromStatus(err))
}
