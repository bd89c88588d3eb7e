package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/net/netutil"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/spatehq/spate/api/grpcapi"
)

// Connection bounds of `spate serve`, written down once (see docs/tls.md,
// "Connection limits"). Every listener closes connections that are idle or
// slow, so that a crowd of slow or silent clients cannot hold file
// descriptors for ever, and caps how many it holds at once.
const (
	// defaultReadHeaderTimeout bounds the time from accept (or the end of
	// the previous request) to a request's last header byte, including the
	// TLS handshake; for gRPC it bounds the handshake. Clients send their
	// headers at once; a connection that sends nothing is closed after it.
	defaultReadHeaderTimeout = 10 * time.Second
	// defaultReadTimeout bounds reading a whole request, headers and body.
	// The largest body (a 12 MiB PutRecords) arrives in it at 200 KiB/s; a
	// body trickled more slowly is cut.
	defaultReadTimeout = time.Minute
	// defaultWriteTimeout bounds a response, counted (as net/http does)
	// from the end of the request's headers, so it covers reading the
	// body and the handler too: it is longer than defaultReadTimeout.
	// Results streams (GET /v1/applications/{name}/results) and
	// SubscribeToShard event streams lift it and bound each event's write
	// instead.
	defaultWriteTimeout = 90 * time.Second
	// defaultIdleTimeout is how long a keep-alive HTTP connection, or a
	// gRPC connection without an open call, is kept between requests.
	// AWS's endpoints and load balancers close idle connections after
	// about a minute, and the SDKs reconnect without a fuss.
	defaultIdleTimeout = time.Minute
	// defaultMaxConnections caps the connections each listener holds at
	// once; it is lowered to fit the open-file limit (fitConnLimit).
	defaultMaxConnections = 10000
	// fdReserve is the file descriptors kept out of the connection caps:
	// Pebble's table cache holds up to 1000 open sstables (its default
	// MaxOpenFiles), plus its WAL and manifest, Firehose's connections to
	// S3 and Elasticsearch, and the process's own.
	fdReserve = 2048
)

// listenConfig is how `spate serve` listens: timeouts, connection caps and
// TLS for every listener.
type listenConfig struct {
	readHeaderTimeout time.Duration
	readTimeout       time.Duration
	writeTimeout      time.Duration
	idleTimeout       time.Duration
	maxConns          int
	// maxConnsSet: --max-connections was given, so a value that does not
	// fit the open-file limit is refused rather than lowered.
	maxConnsSet bool
	tls         tlsFiles
}

// defaultListenConfig is listenConfig with every default (what the flags
// start from).
func defaultListenConfig() listenConfig {
	return listenConfig{
		readHeaderTimeout: defaultReadHeaderTimeout,
		readTimeout:       defaultReadTimeout,
		writeTimeout:      defaultWriteTimeout,
		idleTimeout:       defaultIdleTimeout,
		maxConns:          defaultMaxConnections,
	}
}

// addListenFlags registers the flags of c on f.
func addListenFlags(f *pflag.FlagSet, c *listenConfig) {
	f.DurationVar(&c.readHeaderTimeout, "read-header-timeout", defaultReadHeaderTimeout,
		"close a connection whose request headers (or TLS or HTTP/2 handshake) have not arrived within this")
	f.DurationVar(&c.readTimeout, "read-timeout", defaultReadTimeout,
		"close a connection whose whole HTTP request (headers and body) has not arrived within this")
	f.DurationVar(&c.writeTimeout, "write-timeout", defaultWriteTimeout,
		"bound an HTTP response (from the end of the request's headers); results streams and SubscribeToShard bound each event instead")
	f.DurationVar(&c.idleTimeout, "idle-timeout", defaultIdleTimeout,
		"close keep-alive HTTP connections, and gRPC connections with no open call, after this long idle")
	f.IntVar(&c.maxConns, "max-connections", defaultMaxConnections,
		"connections each listener holds at once; more wait to be accepted (default lowered to fit ulimit -n)")
	addTLSFlags(f, &c.tls)
}

// check validates c and fits the connection cap of n listeners to the
// process's open-file limit (see fitConnLimit).
func (c *listenConfig) check(n int, logger *slog.Logger) error {
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{
		{"--read-header-timeout", c.readHeaderTimeout},
		{"--read-timeout", c.readTimeout},
		{"--write-timeout", c.writeTimeout},
		{"--idle-timeout", c.idleTimeout},
	} {
		if d.v <= 0 {
			return fmt.Errorf("%s %v: must be positive", d.flag, d.v)
		}
	}
	if c.maxConns <= 0 {
		return fmt.Errorf("--max-connections %d: must be positive", c.maxConns)
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("read the open-file limit: %w", err)
	}
	fitted, err := fitConnLimit(c.maxConns, n, lim.Cur)
	switch {
	case err != nil && c.maxConnsSet:
		return fmt.Errorf("--max-connections %d: %w", c.maxConns, err)
	case err != nil:
		return err
	case fitted < c.maxConns && c.maxConnsSet:
		return fmt.Errorf("--max-connections %d: %d listeners need %d file descriptors with %d in reserve, but the open-file limit (ulimit -n) is %d: raise it or lower --max-connections to %d",
			c.maxConns, n, c.maxConns*n+fdReserve, fdReserve, lim.Cur, fitted)
	case fitted < c.maxConns:
		logger.Info("connection cap lowered to fit the open-file limit",
			"max_connections", fitted, "listeners", n, "nofile", lim.Cur)
		c.maxConns = fitted
	}
	return nil
}

// fitConnLimit is the largest per-listener cap, at most want, such that n
// listeners at their cap leave fdReserve descriptors of nofile free. (Go
// raises the soft limit to the hard one at start-up, so nofile is the most
// the process can have.)
func fitConnLimit(want, n int, nofile uint64) (int, error) {
	if nofile <= fdReserve+uint64(n) {
		return 0, fmt.Errorf("the open-file limit (ulimit -n) is %d; %d listeners need more than %d: raise it", nofile, n, fdReserve+n)
	}
	fit := (nofile - fdReserve) / uint64(n)
	if uint64(want) < fit {
		return want, nil
	}
	return int(fit), nil
}

// listen binds addr (flag names it in errors) and caps its connections.
//
// The cap is netutil.LimitListener: at the cap, Accept waits until a
// connection closes, so further clients wait in the kernel's backlog (and
// beyond it, their SYNs are retried) instead of taking descriptors. That is
// only safe because every connection is bounded in time: slow or silent
// clients are cut by the timeouts and free their slots.
func (c *listenConfig) listen(ctx context.Context, flag, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", flag, err)
	}
	return netutil.LimitListener(ln, c.maxConns), nil
}

// httpServer returns an http.Server for h with c's timeouts and, when TLS
// is on, its TLS configuration (with HTTP/2 offered by ALPN), serving HTTP/1.1
// and HTTP/2 (serve_http2.go); serve it with
// serveHTTP.
func (c *listenConfig) httpServer(h http.Handler, tlsConf *tls.Config, logger *slog.Logger) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: c.readHeaderTimeout,
		ReadTimeout:       c.readTimeout,
		WriteTimeout:      c.writeTimeout,
		IdleTimeout:       c.idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		// HTTP/1.1 and HTTP/2 (h2c, or h2 by ALPN): serve_http2.go.
		Protocols: httpProtocols(tlsConf != nil),
		HTTP2:     http2Config(),
		// A copy per server: net/http adds its HTTP/2 settings to it.
		TLSConfig: tlsConf.Clone(),
		ErrorLog:  slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if tlsConf == nil {
		srv.Handler = newH2CUpgrader(srv, h, logger)
	}
	return srv
}

// serveHTTP serves srv on ln, over TLS when srv has a TLS configuration.
// The TLS handshake happens on the connection's own goroutine, bounded by
// the shortest of srv's timeouts, so a silent client delays nobody; a
// plain-text request gets a 400 and is closed.
func serveHTTP(srv *http.Server, ln net.Listener) error {
	if srv.TLSConfig != nil {
		return srv.ServeTLS(ln, "", "") // the certificate comes from TLSConfig
	}
	return srv.Serve(ln)
}

// grpcOptions returns the gRPC server options of c: connection limits,
// keep-alive enforcement, and TLS credentials when tlsConf is not nil.
func (c *listenConfig) grpcOptions(tlsConf *tls.Config) []grpc.ServerOption {
	opts := grpcapi.ConnOptions(grpcapi.ConnLimits{
		Handshake: c.readHeaderTimeout,
		Idle:      c.idleTimeout,
	})
	if tlsConf != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tlsConf)))
	}
	return opts
}

// listenerCount is how many listeners serve opens for cfg.
func listenerCount(cfg serveConfig) int {
	if cfg.metricsAddr != "" {
		return 3
	}
	return 2
}
