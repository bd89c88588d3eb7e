package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/spatehq/spate/api/lambdaapi"
	"github.com/spatehq/spate/auth"
	"github.com/spatehq/spate/firehose"
	"github.com/spatehq/spate/firehose/s3store"
	"github.com/spatehq/spate/functions"
	"github.com/spatehq/spate/functions/destination"
	"github.com/spatehq/spate/functions/esm"
	"github.com/spatehq/spate/functions/runtime"
	"github.com/spatehq/spate/shard"
)

// functionFlags are the functions' flags.
type functionFlags struct {
	concurrency int
	asyncQueue  int
	profile     string // --function-profile
}

func addFunctionFlags(f *pflag.FlagSet, c *functionFlags) {
	f.IntVar(&c.concurrency, "function-concurrency", functions.DefaultUnreservedConcurrency,
		"how many invocations of one function may run at once unless PutFunctionConcurrency reserves another number: "+
			"each is a local process, so the default suits a laptop")
	f.IntVar(&c.asyncQueue, "function-async-queue", functions.DefaultAsyncQueue,
		"how many asynchronous (Event) invocations may wait, in memory; more are throttled (TooManyRequestsException)")
	f.StringVar(&c.profile, "function-profile", "",
		"the profile of --credentials whose keys function instances get (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) to call Spate back; "+
			"its --policies rules apply to them. Default: the file's [default] profile if it has one, else no keys "+
			"(without --credentials, instances get placeholder keys, which Spate does not check)")
}

// The keys function instances get when Spate checks no signatures.
const (
	placeholderAccessKeyID = "SPATEFUNCTION"
	placeholderSecretKey   = "spate-function-placeholder-secret"
)

// functionProfile picks the keys function instances get. With
// --credentials: --function-profile, else [default] when the file has it
// (a handler calling Spate back then works as the operator's own CLI
// does), else none, and a handler's calls are refused unless its
// Environment carries keys. Without --credentials: placeholder keys.
// ok is false when instances get no keys.
func functionProfile(cfg serveConfig, logger *slog.Logger) (p auth.Profile, ok bool, err error) {
	name, file := cfg.functions.profile, cfg.auth.credentials
	switch {
	case file == "" && name != "":
		return p, false, fmt.Errorf("--function-profile %s needs --credentials FILE: the profile's keys are read from it", name)
	case file == "":
		// Without --credentials Spate checks no signature, but Lambda
		// always hands a handler keys and an SDK refuses to sign without
		// any: placeholder keys let a handler call Spate back unchanged.
		return auth.Profile{Name: "placeholder", AccessKeyID: placeholderAccessKeyID, SecretAccessKey: placeholderSecretKey}, true, nil
	case name != "":
		if p, err = auth.ReadProfile(file, name); err != nil {
			return p, false, fmt.Errorf("--function-profile: %w", err)
		}
	default:
		if p, err = auth.ReadProfile(file, "default"); err != nil {
			logger.Warn("functions get no keys: --credentials has no [default] profile and --function-profile is not given; "+
				"a handler calling Spate's APIs (AWS_ENDPOINT_URL) is refused unless its Environment has keys", "credentials", file)
			return auth.Profile{}, false, nil
		}
	}
	logger.Info("function instances sign with a profile of --credentials", "profile", p.Name)
	return p, true, nil
}

// functionParts are the functions' services, built before the servers:
// the registry and its runtime (which Firehose transformations call too)
// and the event source mappings (which send failed batches to streams,
// delivery streams and buckets, so they start after Firehose).
type functionParts struct {
	exec     *runtime.Manager
	registry *functions.Service
	mappings *esm.Service
	// endpoint is Spate's own HTTP API URL, handed to function instances
	// as AWS_ENDPOINT_URL; known once --http-addr listens (it may be :0).
	endpoint atomic.Pointer[string]
}

// newFunctions opens the function registry of store (code under
// DATA-DIR/functions, instances' /tmp under DATA-DIR/functions-run) with
// the runtime that runs it, its metrics (spate_function_*) on reg. The
// caller closes the parts.
func newFunctions(store *shard.Store, reg prometheus.Registerer, cfg serveConfig, logger *slog.Logger) (*functionParts, error) {
	c := cfg.functions
	if c.concurrency == 0 { // a serveConfig built in code
		c.concurrency = functions.DefaultUnreservedConcurrency
	}
	if c.asyncQueue == 0 {
		c.asyncQueue = functions.DefaultAsyncQueue
	}
	if c.concurrency < 1 || c.asyncQueue < 1 {
		return nil, fmt.Errorf("--function-concurrency %d, --function-async-queue %d: must be at least 1", c.concurrency, c.asyncQueue)
	}
	// Instances' scratch directories a kill -9 left behind: the data
	// directory is this server's alone (the store holds its lock), so no
	// instance of another server can be using them.
	runDir := filepath.Join(cfg.dataDir, "functions-run")
	if err := os.RemoveAll(runDir); err != nil {
		return nil, fmt.Errorf("clear %s: %w", runDir, err)
	}
	prof, withKeys, err := functionProfile(cfg, logger)
	if err != nil {
		return nil, err
	}
	p := &functionParts{}
	opts := []runtime.Option{runtime.WithLogger(logger), runtime.WithRegion(cfg.region),
		runtime.WithWorkDir(runDir),
		runtime.WithUnreservedConcurrency(c.concurrency),
		runtime.WithEndpointFunc(func() string {
			if u := p.endpoint.Load(); u != nil {
				return *u
			}
			return ""
		})}
	if withKeys {
		opts = append(opts, runtime.WithCredentials(prof.AccessKeyID, prof.SecretAccessKey, prof.SessionToken))
	}
	p.exec = runtime.New(opts...)
	svc, err := functions.New(store, p.exec,
		functions.WithRegion(cfg.region), functions.WithAccountID(cfg.accountID),
		functions.WithCodeDir(filepath.Join(cfg.dataDir, "functions")),
		functions.WithUnreservedConcurrency(c.concurrency),
		functions.WithAsync(c.asyncQueue, functions.DefaultAsyncWorkers),
		functions.WithLogger(logger), functions.WithRegisterer(reg))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open functions: %w", err), p.exec.Close())
	}
	p.registry = svc
	return p, nil
}

// startMappings opens the event source mappings and runs their pollers;
// failed batches go to store's streams, fh's delivery streams, or the S3
// store of --s3-endpoint.
func (p *functionParts) startMappings(ctx context.Context, store *shard.Store, fh *firehose.Service, reg prometheus.Registerer, cfg serveConfig, logger *slog.Logger) error {
	destOpts := []destination.Option{destination.WithStore(store), destination.WithFirehose(fh)}
	if cfg.s3.Endpoint != "" {
		s3c, err := s3store.New(cfg.s3)
		if err != nil {
			return fmt.Errorf("S3 client: %w", err)
		}
		destOpts = append(destOpts, destination.WithS3(s3c))
	}
	m, err := esm.New(store, p.registry, esm.WithLogger(logger), esm.WithRegisterer(reg),
		esm.WithFailureSink(destination.New(destOpts...)))
	if err != nil {
		return err
	}
	if err := m.Start(ctx); err != nil {
		return errors.Join(err, m.Close())
	}
	p.mappings = m
	return nil
}

// listening records the URL of Spate's HTTP API once ln listens: an
// unspecified host becomes loopback, which instances can reach.
func (p *functionParts) listening(ln net.Listener, tls bool) {
	host, port, err := net.SplitHostPort(ln.Addr().String())
	if err != nil {
		return
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	u := scheme + "://" + net.JoinHostPort(host, port)
	p.endpoint.Store(&u)
}

// face is the Lambda API over the registry and the mappings.
func (p *functionParts) face(reg prometheus.Registerer, cfg serveConfig, logger *slog.Logger) (*lambdaapi.Handler, error) {
	opts := []lambdaapi.Option{lambdaapi.WithGuard(cfg.auth.analyticsGuard()),
		lambdaapi.WithLogger(logger), lambdaapi.WithRegisterer(reg)}
	if p.mappings != nil {
		opts = append(opts, lambdaapi.WithMappings(p.mappings))
	}
	return lambdaapi.NewHandler(p.registry, opts...)
}

// closeMappings stops the pollers: before Firehose closes, since they
// may be sending a failed batch to a delivery stream.
func (p *functionParts) closeMappings() error {
	if p.mappings == nil {
		return nil
	}
	return p.mappings.Close()
}

// close stops the registry's asynchronous invocations, then every
// function instance.
func (p *functionParts) close() error {
	p.registry.Close()
	return p.exec.Close()
}

// mountLambda serves the Lambda API's paths on mux.
func mountLambda(mux *http.ServeMux, h http.Handler) {
	for _, p := range lambdaapi.PathPrefixes {
		mux.Handle(p, h)
	}
}
