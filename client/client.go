package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/spatehq/spate/api/grpcapi"
	"github.com/spatehq/spate/auth"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// DefaultAddress is where `spate serve` listens for gRPC by default.
const DefaultAddress = "127.0.0.1:4568"

// Client is a connection to one Spate server.
type Client struct {
	target string
	conn   *grpc.ClientConn
	opts   options

	// Streams and Groups are the generated gRPC clients, for calls the SDK
	// does not wrap.
	Streams spatev1.StreamServiceClient
	Groups  spatev1.GroupServiceClient
}

// options are the knobs of New; see the With* functions for the defaults.
type options struct {
	tls         *tls.Config
	profile     *auth.Profile
	region      string
	dialOptions []grpc.DialOption
}

// Option configures a Client.
type Option func(*options)

// WithTLS connects over TLS with cfg. Default: plain text, which is what
// `spate serve` offers on loopback unless its --tls flags are set.
func WithTLS(cfg *tls.Config) Option { return func(o *options) { o.tls = cfg } }

// WithCredentials signs every call with SigV4 under the access key, as a
// server started with --credentials requires. region goes into the
// credential scope (the server accepts any). Default: unsigned calls.
func WithCredentials(accessKeyID, secretAccessKey, region string) Option {
	return func(o *options) {
		o.profile = &auth.Profile{Name: "client", AccessKeyID: accessKeyID, SecretAccessKey: secretAccessKey}
		o.region = region
	}
}

// WithDialOptions adds gRPC dial options after the SDK's own.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dialOptions = append(o.dialOptions, opts...) }
}

// New prepares a Client for the gRPC API at target (host:port; empty means
// DefaultAddress). Like grpc.NewClient it does not connect: the first call
// does, and a server that is down shows as that call's Unavailable error.
func New(target string, opts ...Option) (*Client, error) {
	if target == "" {
		target = DefaultAddress
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	var creds credentials.TransportCredentials = insecure.NewCredentials()
	if o.tls != nil {
		creds = credentials.NewTLS(o.tls)
	}
	dial := append(grpcapi.DialOptions(), grpc.WithTransportCredentials(creds))
	if o.profile != nil {
		if o.profile.AccessKeyID == "" || o.profile.SecretAccessKey == "" {
			return nil, errors.New("client: WithCredentials needs an access key ID and a secret access key")
		}
		dial = append(dial, grpc.WithPerRPCCredentials(SigV4(*o.profile, o.region)))
	}
	conn, err := grpc.NewClient(target, append(dial, o.dialOptions...)...)
	if err != nil {
		return nil, fmt.Errorf("client: %q: %w", target, err)
	}
	return &Client{
		target:  target,
		conn:    conn,
		opts:    o,
		Streams: spatev1.NewStreamServiceClient(conn),
		Groups:  spatev1.NewGroupServiceClient(conn),
	}, nil
}

// Target is the address the Client was made for.
func (c *Client) Target() string { return c.target }

// Close closes the connection. Calls in flight fail with Canceled.
func (c *Client) Close() error { return c.conn.Close() }

// SigV4 returns per-call credentials that sign each gRPC call with p's key
// (auth.SignGRPC): the secret stays in the process, only the signature
// travels. region goes into the credential scope.
func SigV4(p auth.Profile, region string) credentials.PerRPCCredentials {
	return sigv4{p: p, region: region}
}

type sigv4 struct {
	p      auth.Profile
	region string
}

func (s sigv4) GetRequestMetadata(ctx context.Context, _ ...string) (map[string]string, error) {
	ri, ok := credentials.RequestInfoFromContext(ctx)
	if !ok {
		return nil, errors.New("sign gRPC call: no method in the context")
	}
	return auth.SignGRPC(s.p, ri.Method, s.region, time.Now())
}

// RequireTransportSecurity is false: a signature reveals no secret.
func (sigv4) RequireTransportSecurity() bool { return false }
