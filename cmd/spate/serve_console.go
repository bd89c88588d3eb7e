package main

import (
	"fmt"
	"net/http"

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
