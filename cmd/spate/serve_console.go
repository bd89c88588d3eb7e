package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spatehq/spate/api/metricsapi"
	"github.com/spatehq/spate/console"
)

// mountConsole serves the web console at /console/ on the HTTP API's mux.
// It tells the page the region and account (for signing and ARNs) and
// whether requests must be signed; never a key. A browser opening the
// server's root (GET / asking for HTML) is sent to the console; every other
// request to / stays api's (the JSON APIs answer a GET there with their
// own error).
func mountConsole(mux *http.ServeMux, cfg serveConfig, api http.Handler) error {
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
	mux.Handle("GET /{$}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Accept"), "text/html") {
			http.Redirect(w, r, console.Prefix, http.StatusFound)
			return
		}
		api.ServeHTTP(w, r)
	}))
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
