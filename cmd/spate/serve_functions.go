package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/spatehq/spate/api/lambdaapi"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/functions"
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

// newFunctions opens the function registry of store (code under
// DATA-DIR/functions) and its Lambda API face. The caller closes the
// registry.
func newFunctions(store *shard.Store, reg prometheus.Registerer, cfg serveConfig, logger *slog.Logger) (*functions.Service, *lambdaapi.Handler, error) {
	c := cfg.functions
	if c.concurrency == 0 { // a serveConfig built in code
		c.concurrency = functions.DefaultUnreservedConcurrency
	}
	if c.asyncQueue == 0 {
		c.asyncQueue = functions.DefaultAsyncQueue
	}
	if c.concurrency < 1 || c.asyncQueue < 1 {
		return nil, nil, fmt.Errorf("--function-concurrency %d, --function-async-queue %d: must be at least 1", c.concurrency, c.asyncQueue)
	}
	svc, err := functions.New(store, placeholderExecutor{},
		functions.WithRegion(cfg.region), functions.WithAccountID(cfg.accountID),
		functions.WithCodeDir(filepath.Join(cfg.dataDir, "functions")),
		functions.WithUnreservedConcurrency(c.concurrency),
		functions.WithAsync(c.asyncQueue, functions.DefaultAsyncWorkers),
		functions.WithLogger(logger))
	if err != nil {
		return nil, nil, fmt.Errorf("open functions: %w", err)
	}
	h, err := lambdaapi.NewHandler(svc, lambdaapi.WithGuard(cfg.auth.analyticsGuard()),
		lambdaapi.WithLogger(logger), lambdaapi.WithRegisterer(reg))
	if err != nil {
		svc.Close()
		return nil, nil, err
	}
	return svc, h, nil
}

// mountLambda serves the Lambda API's paths on mux.
func mountLambda(mux *http.ServeMux, h http.Handler) {
	for _, p := range lambdaapi.PathPrefixes {
		mux.Handle(p, h)
	}
}

// placeholderExecutor runs nothing: until package functions/runtime is
// wired, invocations answer InvalidRuntimeException.
type placeholderExecutor struct{}

func (placeholderExecutor) Execute(context.Context, functions.Config, functions.Invocation) (functions.Result, error) {
	return functions.Result{}, apierr.New(apierr.InvalidRuntime, "this Spate server does not run functions yet")
}
func (placeholderExecutor) Retire(string) {}
func (placeholderExecutor) Close() error  { return nil }
