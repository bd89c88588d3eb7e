package grpcapi

import (
	"math"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// The keep-alive contract between ServerOptions' server and DialOptions'
// clients. A client pings only while it has calls open (a quiet Subscribe
// or Results stream), at most every clientPingInterval; the server
// tolerates pings down to minClientPingInterval apart and answers faster
// ones with GOAWAY "too_many_pings". Invariant: clientPingInterval >
// minClientPingInterval, with room for timer jitter, so our own clients
// are never sent away.
const (
	clientPingInterval    = time.Minute
	clientPingTimeout     = 20 * time.Second
	minClientPingInterval = 30 * time.Second

	// serverPingInterval is how long a connection may be silent before the
	// server pings it, and serverPingTimeout how long it waits for the ack
	// before closing it: a client that vanished without a FIN (a crashed
	// host, a dropped NAT entry) is noticed within their sum even while its
	// Subscribe stream looks open.
	serverPingInterval = time.Minute
	serverPingTimeout  = 20 * time.Second

	// DefaultMaxConcurrentStreams bounds the calls open at once on one
	// connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS), so that one
	// client cannot hold unbounded server state through a single socket;
	// gRPC's own default is unlimited. A client that needs more opens more
	// connections, which the listener's connection cap bounds in turn.
	DefaultMaxConcurrentStreams = 1000
)

// ConnLimits are the per-connection bounds of a gRPC server.
type ConnLimits struct {
	// Handshake bounds the time from accept to a completed HTTP/2 (and TLS)
	// handshake; a client that connects and sends nothing is closed after
	// it. Zero: gRPC's default of 120 s.
	Handshake time.Duration
	// Idle is how long a connection with no open call is kept before the
	// server sends GOAWAY and closes it (keepalive MaxConnectionIdle); the
	// client reconnects on its next call. Zero: never.
	Idle time.Duration
	// MaxStreams bounds the calls open at once on a connection. Zero:
	// DefaultMaxConcurrentStreams.
	MaxStreams uint32
}

// ConnOptions returns the server options that enforce l and the keep-alive
// contract with DialOptions' clients. Long calls (Subscribe, Results) are
// not limited in duration: they keep their connection busy, so Idle does
// not apply, and the server's pings prove the peer is still there.
func ConnOptions(l ConnLimits) []grpc.ServerOption {
	idle := l.Idle
	if idle <= 0 {
		idle = time.Duration(math.MaxInt64) // keepalive's "infinity"
	}
	streams := l.MaxStreams
	if streams == 0 {
		streams = DefaultMaxConcurrentStreams
	}
	opts := []grpc.ServerOption{
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             minClientPingInterval,
			PermitWithoutStream: false, // an idle connection has no reason to ping
		}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			MaxConnectionIdle: idle,
			Time:              serverPingInterval,
			Timeout:           serverPingTimeout,
		}),
		grpc.MaxConcurrentStreams(streams),
	}
	if l.Handshake > 0 {
		opts = append(opts, grpc.ConnectionTimeout(l.Handshake))
	}
	return opts
}

// clientKeepalive is the client's half of the contract (see
// clientPingInterval).
func clientKeepalive() grpc.DialOption {
	return grpc.WithKeepaliveParams(keepalive.ClientParameters{
		Time:                clientPingInterval,
		Timeout:             clientPingTimeout,
		PermitWithoutStream: false,
	})
}
