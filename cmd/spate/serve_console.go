package main

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spatehq/spate/api/metricsapi"
	"github.com/spatehq/spate/console"
)

// mountConsole serves the web console at /console/ on the HTTP API's mux.
// It tells the page the region and account (for signing and ARNs) and
// whether requests must be signed; never a key.
func mountConsole(mux *http.ServeMux, cfg serveConfig) error {
	h, err := console.New(console.Settings{
		Region:    cfg.region,
		AccountID: cfg.accountID,
		Auth:      cfg.auth.mode,
	})
	if err != nil {
		return fmt.Errorf("web console: %w", err)
	}
	mux.Handle("GET /console", h)
	mux.Handle("GET "+console.Prefix, h)
	return nil
}

// mountMetricsAPI serves GET /v1/metrics (package metricsapi), the JSON
// snapshot the console's charts read, on the HTTP API's mux. It reads reg
// itself, so it answers whether /metrics is on --http-addr or on
// --metrics-addr; it is signed and authorized like the other APIs
// (signing name monitoring, cloudwatch:GetMetricData).
func mountMetricsAPI(mux *http.ServeMux, reg prometheus.Gatherer, cfg serveConfig, logger *slog.Logger) {
	mux.Handle(metricsapi.Pattern, metricsapi.NewHandler(reg,
		metricsapi.WithLogger(logger), metricsapi.WithGuard(cfg.auth.analyticsGuard())))
}
