package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/spatehq/spate/api/lambdaapi"
	"github.com/spatehq/spate/functions"
	"github.com/spatehq/spate/functions/runtime"
	"github.com/spatehq/spate/shard"
)

// functionFlags are the functions' flags.
type functionFlags struct {
	concurrency int
	asyncQueue  int
}

func addFunctionFlags(f *pflag.FlagSet, c *functionFlags) {
	f.IntVar(&c.concurrency, "function-concurrency", functions.DefaultUnreservedConcurrency,
		"how many invocations of one function may run at once unless PutFunctionConcurrency reserves another number: "+
			"each is a local process, so the default suits a laptop")
	f.IntVar(&c.asyncQueue, "function-async-queue", functions.DefaultAsyncQueue,
		"how many asynchronous (Event) invocations may wait, in memory; more are throttled (TooManyRequestsException)")
}

// functionsServer is the function registry, the Executor running its
// code, and the Lambda API face.
type functionsServer struct {
	svc  *functions.Service
	exec *runtime.Manager
	http *lambdaapi.Handler
}

// newFunctions opens the function registry of store (code under
// DATA-DIR/functions), its Executor, whose handlers call Spate back at
// httpAddr (AWS_ENDPOINT_URL), and its Lambda API face. The caller closes
// it once the HTTP server has drained.
func newFunctions(store *shard.Store, reg prometheus.Registerer, cfg serveConfig, httpAddr net.Addr, tls bool, logger *slog.Logger) (*functionsServer, error) {
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
	scheme := "http://"
	if tls {
		scheme = "https://"
	}
	exec := runtime.New(runtime.WithLogger(logger), runtime.WithRegion(cfg.region),
		runtime.WithEndpoint(scheme+httpAddr.String()))
	svc, err := functions.New(store, exec,
		functions.WithRegion(cfg.region), functions.WithAccountID(cfg.accountID),
		functions.WithCodeDir(filepath.Join(cfg.dataDir, "functions")),
		functions.WithUnreservedConcurrency(c.concurrency),
		functions.WithAsync(c.asyncQueue, functions.DefaultAsyncWorkers),
		functions.WithLogger(logger))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open functions: %w", err), exec.Close())
	}
	h, err := lambdaapi.NewHandler(svc, lambdaapi.WithGuard(cfg.auth.analyticsGuard()),
		lambdaapi.WithLogger(logger), lambdaapi.WithRegisterer(reg))
	if err != nil {
		svc.Close()
		return nil, errors.Join(err, exec.Close())
	}
	return &functionsServer{svc: svc, exec: exec, http: h}, nil
}

// mount serves the Lambda API's paths on mux.
func (f *functionsServer) mount(mux *http.ServeMux) {
	for _, p := range lambdaapi.PathPrefixes {
		mux.Handle(p, f.http)
	}
}

// Close stops asynchronous invocations, then every function instance.
func (f *functionsServer) Close() {
	f.svc.Close()
	_ = f.exec.Close()
}

// closeListeners closes the listeners that are not nil.
func closeListeners(lns ...net.Listener) {
	for _, ln := range lns {
		if ln != nil {
			ln.Close()
		}
	}
}
