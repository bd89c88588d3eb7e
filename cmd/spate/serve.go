package main

import (
	"os"

	"context"
	"errors"
	"fmt"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spatehq/spate/firehose/s3store"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	"github.com/spatehq/spate/analytics"
	"github.com/spatehq/spate/api/analyticsapi"
	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/api/firehoseapi"
	"github.com/spatehq/spate/api/groupsapi"
	"github.com/spatehq/spate/api/grpcapi"
	"github.com/spatehq/spate/api/kinesisapi"
	"github.com/spatehq/spate/firehose"
	"github.com/spatehq/spate/shard"
)

// Defaults of `spate serve`, written down once.
const (
	defaultDataDir   = "./spate-data"
	defaultHTTPAddr  = "127.0.0.1:4567"
	defaultRegion    = "us-east-1"
	defaultAccountID = "000000000000"

	// shutdownTimeout bounds the drain on SIGTERM: in-flight HTTP requests
	// and gRPC calls that have not finished by then are cut.
	shutdownTimeout = 10 * time.Second
)

// serveConfig is everything `spate serve` is configured with.
type serveConfig struct {
	dataDir     string
	httpAddr    string
	grpcAddr    string
	metricsAddr string // "": /metrics is on httpAddr
	durability  string
	createDelay time.Duration
	iteratorTTL time.Duration
	region      string
	accountID   string
	logLevel    string
	logFormat   string
	s3          s3store.Config // Firehose S3 destinations; Endpoint "" means none
	esURL       string         // default Elasticsearch cluster of Firehose
	memory      memoryFlags    // serve_memory.go
	auth        authConfig     // --auth, --credentials, --policies (serve_auth.go)
	listen      listenConfig   // timeouts, connection caps, TLS (serve_listen.go)
	minFreeDisk byteSize       // free-space reserve (serve_disk.go)
	limits      limitsConfig   // --enforce-limits, --fault-rate (serve_limits.go)
	kmsKeys     string         // --kms-keys keyring file (serve_kms.go)
	reshard     reshardFlags   // --shard-count-updates, --on-demand-* (serve_reshard.go)
	groups      groupFlags     // --group-* (serve_groups.go)
	functions   functionFlags  // --function-* (serve_functions.go)
}

func newServeCmd() *cobra.Command {
	var cfg serveConfig
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Spate server (Kinesis, Firehose, Analytics, Lambda, the web console, gRPC)",
		Long: `Run the Spate server: one Pebble database in --data-dir, the Kinesis Data
Streams and Firehose JSON APIs on --http-addr (routed by X-Amz-Target), the
Analytics API under /v1/ and the Lambda API on the same address, and the
gRPC API on --grpc-addr. The web console is at /console/ on --http-addr.
Prometheus metrics are at GET /metrics on --http-addr, or on --metrics-addr
when it is given.

Logs go to stderr. An address with port 0 binds a free port; the
"spate serving" log line shows the bound addresses. SIGTERM or SIGINT
drains in-flight requests, closes the database and exits 0.

Without --credentials, requests need no signature, and every listener must
be on a loopback address unless --auth none is given; with --credentials,
every API wants SigV4 signatures made with its keys (see docs/security.md).

Every listener closes idle, silent and slow connections, caps how many it
holds, and serves TLS with --tls-cert and --tls-key (docs/tls.md).`,
		Example: `  spate serve
  spate serve --data-dir /var/lib/spate --http-addr 0.0.0.0:4567 --grpc-addr 0.0.0.0:4568 \
    --credentials /etc/spate/credentials --policies /etc/spate/policies.json
  spate serve --durability relaxed --log-format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			addr, err := cmd.Flags().GetString("grpc-addr")
			if err != nil {
				return err
			}
			cfg.grpcAddr = addr
			cfg.listen.maxConnsSet = cmd.Flags().Changed("max-connections")
			return serve(cmd.Context(), cfg, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.dataDir, "data-dir", defaultDataDir, "directory of the Pebble database (created if missing)")
	f.StringVar(&cfg.httpAddr, "http-addr", defaultHTTPAddr, "address of the Kinesis and Firehose JSON APIs")
	f.StringVar(&cfg.metricsAddr, "metrics-addr", "",
		"serve Prometheus metrics (GET /metrics) on this address instead of on --http-addr (see docs/metrics.md)")
	f.StringVar(&cfg.durability, "durability", "sync",
		"sync: fsync the WAL before acknowledging a put; relaxed: acknowledge before (see docs/durability.md)")
	f.DurationVar(&cfg.createDelay, "create-delay", 0, "how long new streams stay CREATING, and streams whose mode, warm throughput or encryption changes UPDATING, before ACTIVE")
	f.DurationVar(&cfg.iteratorTTL, "iterator-ttl", shard.IteratorTTL,
		"how long shard iterators stay valid (Kinesis: 5m; shorter values are for tests)")
	f.StringVar(&cfg.region, "region", defaultRegion, "region shown in stream ARNs")
	f.StringVar(&cfg.accountID, "account-id", defaultAccountID, "account id shown in stream ARNs")
	f.StringVar(&cfg.logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&cfg.logFormat, "log-format", "text", "text or json")
	f.StringVar(&cfg.s3.Endpoint, "s3-endpoint", os.Getenv("SPATE_S3_ENDPOINT"),
		"URL of the S3-compatible store Firehose delivers to (env SPATE_S3_ENDPOINT)")
	f.StringVar(&cfg.s3.AccessKey, "s3-access-key", os.Getenv("SPATE_S3_ACCESS_KEY"), "S3 access key (env SPATE_S3_ACCESS_KEY)")
	f.StringVar(&cfg.s3.SecretKey, "s3-secret-key", os.Getenv("SPATE_S3_SECRET_KEY"), "S3 secret key (env SPATE_S3_SECRET_KEY)")
	f.StringVar(&cfg.s3.Region, "s3-region", envOr("SPATE_S3_REGION", defaultRegion), "S3 region (env SPATE_S3_REGION)")
	f.StringVar(&cfg.esURL, "es-url", os.Getenv("SPATE_ES_URL"),
		"Elasticsearch cluster for Firehose destinations without a ClusterEndpoint (env SPATE_ES_URL)")
	addMemoryFlags(f, &cfg.memory)
	addAuthFlags(f, &cfg.auth)
	addListenFlags(f, &cfg.listen)
	addDiskFlags(f, &cfg)
	addLimitsFlags(f, &cfg.limits)
	addKMSFlags(f, &cfg)
	addReshardFlags(f, &cfg.reshard)
	addGroupFlags(f, &cfg.groups)
	addFunctionFlags(f, &cfg.functions)
	return cmd
}

// serve runs the server until ctx is cancelled (a signal) or a listener
// fails, then shuts down gracefully. Logs are written to logOut.
func serve(ctx context.Context, cfg serveConfig, logOut io.Writer) error {
	logger, err := newLogger(logOut, cfg.logLevel, cfg.logFormat)
	if err != nil {
		return err
	}
	durability, err := shard.ParseDurability(cfg.durability)
	if err != nil {
		return fmt.Errorf("--durability: %w", err)
	}
	cfg.durability = durability.String() // as logged: "" becomes "sync"
	if err := cfg.auth.resolve(ctx, cfg, logger); err != nil {
		return err
	}
	if cfg.createDelay < 0 {
		return fmt.Errorf("--create-delay %v: must not be negative", cfg.createDelay)
	}
	if cfg.iteratorTTL <= 0 {
		return fmt.Errorf("--iterator-ttl %v: must be positive", cfg.iteratorTTL)
	}

	if err := cfg.limits.resolve(cfg.accountID, logger); err != nil {
		return err
	}
	memory, err := applyMemoryFlags(cfg.memory, logger)
	if err != nil {
		return err
	}
	keys, err := openKeyring(cfg, logger)
	if err != nil {
		return err
	}
	reshard, err := reshardOptions(cfg.reshard)
	if err != nil {
		return err
	}
	store, err := shard.OpenContext(ctx, cfg.dataDir, append(append(reshard, memory...), keys,
		shard.WithMinFreeDisk(uint64(cfg.minFreeDisk)),
		shard.WithDurability(durability),
		shard.WithCreateDelay(cfg.createDelay),
		shard.WithUpdateDelay(cfg.createDelay),
		shard.WithIteratorTTL(cfg.iteratorTTL),
		shard.WithRegion(cfg.region),
		shard.WithAccountID(cfg.accountID),
		shard.WithLogger(logger),
		shard.WithThroughputLimits(cfg.limits.storeLimits()),
		shard.WithFaultInjection(cfg.limits.storeFaults()),
	)...)
	if err != nil {
		return fmt.Errorf("open store in %s: %w", cfg.dataDir, err)
	}
	cfg.auth.useResourcePolicies(store)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(store.HealthCollector()) // scraped only while the servers run, before store.Close
	reg.MustRegister(store.Collector())       // per-stream and per-shard traffic (EnableEnhancedMonitoring)
	fhOpts := []firehose.Option{
		firehose.WithRegion(cfg.region),
		firehose.WithAccountID(cfg.accountID),
		firehose.WithLogger(logger),
		firehose.WithRegisterer(reg),
	}
	if cfg.s3.Endpoint != "" {
		fhOpts = append(fhOpts, firehose.WithS3(cfg.s3))
	}
	if cfg.esURL != "" {
		fhOpts = append(fhOpts, firehose.WithElasticsearchURL(cfg.esURL))
	}
	fn, err := newFunctions(store, reg, cfg, logger)
	if err != nil {
		return errors.Join(err, store.Close())
	}
	fhOpts = append(fhOpts, firehose.WithInvoker(fn.registry)) // Lambda processors
	fh, err := firehose.New(store, fhOpts...)
	if err != nil {
		return errors.Join(fmt.Errorf("start firehose: %w", err), fn.close(), store.Close())
	}
	if err := fn.startMappings(ctx, store, fh, reg, cfg, logger); err != nil {
		fh.Close()
		return errors.Join(fmt.Errorf("start event source mappings: %w", err), fn.close(), store.Close())
	}
	an, err := analytics.New(ctx, store, analytics.WithLogger(logger), analytics.WithRegisterer(reg), analytics.WithOutputs(fh))
	if err != nil {
		fh.Close()
		return errors.Join(fmt.Errorf("start analytics: %w", err), fn.closeMappings(), fn.close(), store.Close())
	}
	err = serveStore(ctx, store, fh, an, fn, reg, cfg, logger)
	an.Close() // before firehose and the store: applications write to both
	// Mappings before firehose: pollers may send a failed batch to it.
	if cerr := fn.closeMappings(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close event source mappings: %w", cerr))
	}
	fh.Close() // before the store: its workers read from it
	// Functions after firehose: its transformations invoke them.
	if cerr := fn.close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close functions: %w", cerr))
	}
	if cerr := store.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close store: %w", cerr))
	}
	if err != nil {
		return err
	}
	logger.Info("spate stopped")
	return nil
}

// serveStore serves store, fh and an over HTTP (the Kinesis and Firehose
// JSON APIs on one port, the Analytics API under /v1/) and gRPC until ctx
// is done or a server fails, and returns once both have drained. It closes
// none of store, fh and an.
func serveStore(ctx context.Context, store *shard.Store, fh *firehose.Service, an *analytics.Service, fn *functionParts, reg *prometheus.Registry, cfg serveConfig, logger *slog.Logger) error {
	// The API metrics are registered before anything listens, so that a
	// failure leaves nothing to close.
	grpcMetrics, err := grpcapi.NewMetrics(reg)
	if err != nil {
		return fmt.Errorf("register gRPC metrics: %w", err)
	}
	groupSvc, err := newGroups(store, reg, cfg.groups, logger)
	if err != nil {
		return err
	}
	lambdaHTTP, err := fn.face(reg, cfg, logger)
	if err != nil {
		return err
	}
	router, err := awsproto.NewRouter([]*awsproto.Handler{
		kinesisapi.NewHandler(store, kinesisapi.WithLogger(logger), awsproto.WithGuard(cfg.auth.jsonGuard()), awsproto.WithIntercept(cfg.limits.intercept),
			awsproto.WithEventWriteTimeout(cfg.listen.writeTimeout)),
		firehoseapi.NewHandler(fh, firehoseapi.WithLogger(logger), awsproto.WithGuard(cfg.auth.jsonGuard()), awsproto.WithIntercept(cfg.limits.intercept)),
		groupsapi.NewHandler(groupSvc, awsproto.WithLogger(logger), awsproto.WithGuard(cfg.auth.jsonGuard()), awsproto.WithIntercept(cfg.limits.intercept)),
	}, awsproto.WithRegisterer(reg))
	if err != nil {
		return err
	}
	if err := cfg.listen.check(listenerCount(cfg), logger); err != nil {
		return err
	}
	tlsConf, err := cfg.listen.tls.load(logger)
	if err != nil {
		return err
	}
	httpLn, err := cfg.listen.listen(ctx, "--http-addr", cfg.httpAddr)
	if err != nil {
		return err
	}
	fn.listening(httpLn, tlsConf.http != nil)
	grpcLn, err := cfg.listen.listen(ctx, "--grpc-addr", cfg.grpcAddr)
	if err != nil {
		httpLn.Close()
		return err
	}
	// With --metrics-addr, /metrics has a listener of its own (a port that
	// can be kept apart from the APIs) and is not on --http-addr.
	var metricsLn net.Listener
	if cfg.metricsAddr != "" {
		if metricsLn, err = cfg.listen.listen(ctx, "--metrics-addr", cfg.metricsAddr); err != nil {
			httpLn.Close()
			grpcLn.Close()
			return err
		}
	}

	metricsHTTP := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	mux := http.NewServeMux()
	if metricsLn == nil {
		mux.Handle("GET /metrics", metricsHTTP)
	}
	analyticsHTTP := analyticsapi.NewHandler(an, store, analyticsapi.WithLogger(logger),
		analyticsapi.WithWriteTimeout(cfg.listen.writeTimeout), analyticsapi.WithGuard(cfg.auth.analyticsGuard()))
	mux.Handle("/v1/", analyticsHTTP)
	mountMetricsAPI(mux, reg, cfg, logger) // GET /v1/metrics: more specific than /v1/
	mux.Handle("/", router)
	mountLambda(mux, lambdaHTTP)
	if err := mountConsole(mux, cfg, router); err != nil {
		httpLn.Close()
		grpcLn.Close()
		if metricsLn != nil {
			metricsLn.Close()
		}
		return err
	}
	httpSrv := cfg.listen.httpServer(mux, tlsConf.http, logger)
	// Results streams never end on their own: end them when the drain
	// starts.
	httpSrv.RegisterOnShutdown(analyticsHTTP.Close)
	httpSrv.RegisterOnShutdown(router.Close) // SubscribeToShard streams last up to 5 minutes
	grpcOpts := append(grpcapi.ServerOptions(), cfg.listen.grpcOptions(tlsConf.grpc)...)
	grpcOpts = append(grpcOpts,
		grpc.ChainUnaryInterceptor(grpcMetrics.UnaryServerInterceptor()),
		grpc.ChainStreamInterceptor(grpcMetrics.StreamServerInterceptor()))
	grpcOpts = append(grpcOpts, cfg.auth.grpcOptions(store)...)
	grpcSrv := grpc.NewServer(append(grpcOpts, cfg.limits.grpcOptions()...)...)
	api := grpcapi.Register(grpcSrv, store, grpcapi.WithLogger(logger))
	grpcapi.RegisterFirehose(grpcSrv, fh, grpcapi.WithLogger(logger))
	analyticsAPI := grpcapi.RegisterAnalytics(grpcSrv, an, store, grpcapi.WithLogger(logger))
	grpcapi.RegisterGroups(grpcSrv, groupSvc, grpcapi.WithLogger(logger))

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := serveHTTP(httpSrv, httpLn); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		// ErrServerStopped: a signal arrived before Serve started.
		if err := grpcSrv.Serve(grpcLn); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			return fmt.Errorf("grpc server: %w", err)
		}
		return nil
	})
	g.Go(func() error { groupSvc.Run(gctx); return nil }) // sweeps deleted streams' groups
	var metricsSrv *http.Server
	if metricsLn != nil {
		metricsMux := http.NewServeMux()
		metricsMux.Handle("GET /metrics", metricsHTTP)
		metricsSrv = cfg.listen.httpServer(metricsMux, tlsConf.http, logger)
		g.Go(func() error {
			if err := serveHTTP(metricsSrv, metricsLn); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("metrics server: %w", err)
			}
			return nil
		})
	}
	g.Go(func() error {
		<-gctx.Done()
		logger.Info("spate shutting down")
		analyticsAPI.Close() // Results calls never end on their own
		// The demo producers append to the store: stop them before it closes.
		analyticsHTTP.Close()
		err := shutdown(httpSrv, grpcSrv, api, logger)
		if metricsSrv != nil {
			err = errors.Join(err, shutdownMetrics(metricsSrv))
		}
		return err
	})
	logger.Info("spate serving",
		"http_addr", httpLn.Addr().String(),
		"grpc_addr", grpcLn.Addr().String(),
		"metrics_addr", addrOf(metricsLn, httpLn),
		"data_dir", cfg.dataDir,
		"durability", cfg.durability,
		"s3_endpoint", cfg.s3.Endpoint,
		"es_url", cfg.esURL,
		"auth", cfg.auth.mode,
		"tls", tlsConf.http != nil,
		"max_connections", cfg.listen.maxConns,
	)
	return g.Wait()
}

// shutdown stops both servers from accepting at once, then drains them
// within shutdownTimeout: HTTP requests finish or their connections are
// closed; gRPC calls finish or are cancelled (GracefulStop, then Stop).
// Subscribe streams never end on their own, so they are ended first.
func shutdown(httpSrv *http.Server, grpcSrv *grpc.Server, api *grpcapi.Server, logger *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	api.Close()
	grpcStopped := make(chan struct{})
	go func() {
		grpcSrv.GracefulStop()
		close(grpcStopped)
	}()

	var err error
	if herr := httpSrv.Shutdown(ctx); herr != nil {
		logger.Warn("http drain incomplete; closing connections", "err", herr)
		if cerr := httpSrv.Close(); cerr != nil {
			err = fmt.Errorf("close http server: %w", cerr)
		}
	}
	select {
	case <-grpcStopped:
	case <-ctx.Done():
		logger.Warn("grpc drain incomplete; cancelling open calls")
		grpcSrv.Stop()
		<-grpcStopped
	}
	return err
}

// shutdownMetrics drains the --metrics-addr server: a scrape in flight
// reads the store, which is closed after serveStore returns.
func shutdownMetrics(srv *http.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return errors.Join(fmt.Errorf("drain metrics server: %w", err), srv.Close())
	}
	return nil
}

// addrOf is ln's address, or fallback's when ln is nil.
func addrOf(ln, fallback net.Listener) string {
	if ln == nil {
		ln = fallback
	}
	return ln.Addr().String()
}

// newLogger builds the slog logger serve logs with.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// envOr returns the environment variable key, or def when it is unset.
func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}
