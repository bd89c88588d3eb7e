package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/spf13/pflag"
	"google.golang.org/grpc"

	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/api/grpcapi"
	"github.com/spatehq/spate/auth"
	"github.com/spatehq/spate/shard"
)

// The values of --auth.
const (
	authSigV4 = "sigv4" // the default with --credentials
	authNone  = "none"  // explicit: no authentication on any address
	// authLoopback is the default without --credentials: unsigned requests,
	// and only while every listener is on a loopback address.
	authLoopback = "loopback"
)

// authConfig is how `spate serve` authenticates: its flags, then the guard
// resolve builds from them.
type authConfig struct {
	mode        string // --auth; "" until resolved
	credentials string // --credentials
	policies    string // --policies

	guard *auth.Guard // nil: no authentication
}

func addAuthFlags(f *pflag.FlagSet, c *authConfig) {
	f.StringVar(&c.credentials, "credentials", "",
		"require SigV4 signatures made with the keys of this AWS shared-credentials file ([profile] sections with aws_access_key_id and aws_secret_access_key) on every API (see docs/security.md)")
	f.StringVar(&c.policies, "policies", "",
		"JSON file of an IAM-style policy per profile (needs --credentials; a profile without one may do nothing)")
	f.StringVar(&c.mode, "auth", "",
		"sigv4 (the default with --credentials) or none (no authentication, needed to serve a non-loopback address without --credentials)")
}

// resolve checks the flags against the listen addresses and builds the
// guard. Without --credentials the server takes unsigned requests only
// while every listener is on loopback, unless --auth none says otherwise.
func (c *authConfig) resolve(ctx context.Context, cfg serveConfig, logger *slog.Logger) error {
	switch c.mode {
	case "":
		c.mode = authLoopback
		if c.credentials != "" {
			c.mode = authSigV4
		}
	case authSigV4:
		if c.credentials == "" {
			return fmt.Errorf("--auth sigv4 needs --credentials FILE")
		}
	case authNone:
		if c.credentials != "" || c.policies != "" {
			return fmt.Errorf("--auth none turns authentication off: leave out --credentials and --policies")
		}
	default:
		return fmt.Errorf("--auth %q: want sigv4 or none", c.mode)
	}
	if c.policies != "" && c.credentials == "" {
		return fmt.Errorf("--policies needs --credentials: policies apply to the profiles that sign requests")
	}
	switch c.mode {
	case authNone:
		logger.Warn("authentication is off (--auth none): anyone who reaches the listeners may do anything")
		return nil
	case authLoopback:
		for _, l := range []struct{ flag, addr string }{
			{"--http-addr", cfg.httpAddr}, {"--grpc-addr", cfg.grpcAddr}, {"--metrics-addr", cfg.metricsAddr},
		} {
			if l.addr == "" {
				continue
			}
			if err := checkLoopback(ctx, l.addr); err != nil {
				return fmt.Errorf("%s %s: %w; give --credentials FILE to require signed requests, or --auth none to serve unauthenticated requests there anyway", l.flag, l.addr, err)
			}
		}
		logger.Warn("accepting unsigned requests: every listener is on a loopback address; give --credentials FILE to require SigV4 signatures")
		return nil
	}
	keys, err := auth.LoadKeys(c.credentials)
	if err != nil {
		return fmt.Errorf("--credentials: %w", err)
	}
	var policies auth.Policies
	if c.policies != "" {
		if policies, err = auth.LoadPolicies(c.policies); err != nil {
			return fmt.Errorf("--policies: %w", err)
		}
	}
	c.guard = auth.NewGuard(keys, policies, cfg.region, cfg.accountID)
	logger.Info("requests must be signed (SigV4)", "credentials", c.credentials,
		"profiles", keys.Profiles(), "policies", c.policies)
	return nil
}

// checkLoopback answers nil when addr's host is a loopback address (or a
// name that resolves only to loopback addresses).
func checkLoopback(ctx context.Context, addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "" {
		return fmt.Errorf("listens on every interface, not only on loopback")
	}
	if ip := net.ParseIP(host); ip != nil {
		if !ip.IsLoopback() {
			return fmt.Errorf("%s is not a loopback address", host)
		}
		return nil
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", host, err)
	}
	for _, ip := range ips {
		if !ip.IP.IsLoopback() {
			return fmt.Errorf("%s resolves to %s, not a loopback address", host, ip.IP)
		}
	}
	return nil
}

// useResourcePolicies makes the guard enforce the resource policies of
// store's streams (PutResourcePolicy) on every face.
func (c *authConfig) useResourcePolicies(store *shard.Store) {
	if c.guard != nil {
		c.guard = c.guard.WithResourcePolicies(store)
	}
}

// jsonGuard is the guard of the Kinesis and Firehose JSON APIs: nil (an
// untyped nil, which WithGuard ignores) when authentication is off.
func (c *authConfig) jsonGuard() awsproto.Guard {
	if c.guard == nil {
		return nil
	}
	return c.guard
}

// analyticsGuard is jsonGuard for the Analytics HTTP API.
func (c *authConfig) analyticsGuard() auth.HTTPGuard {
	if c.guard == nil {
		return nil
	}
	return c.guard
}

// grpcOptions are the gRPC server's authentication interceptors: none when
// authentication is off.
func (c *authConfig) grpcOptions(store *shard.Store) []grpc.ServerOption {
	if c.guard == nil {
		return nil
	}
	return grpcapi.AuthOptions(c.guard, store)
}
