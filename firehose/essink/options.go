package essink

import (
	"context"
	"net/http"
	"time"

	"github.com/spatehq/spate/internal/ctxsleep"
)

// The defaults of a Client, in one place.
const (
	// DefaultInitialBackoff is the wait before the first retry.
	DefaultInitialBackoff = 500 * time.Millisecond
	// DefaultMaxBackoff caps the wait between retries.
	DefaultMaxBackoff = 30 * time.Second
	// DefaultMaxBulkBytes bounds the body of one bulk request; larger batches
	// are split, since Firehose buffers reach 128 MiB while Elasticsearch's
	// default http.max_content_length is 100mb; 15 MiB is the top of the
	// 5-15 MB range long recommended for bulk requests.
	DefaultMaxBulkBytes = 15 << 20
)

type config struct {
	username, password string
	basicAuth          bool
	httpClient         *http.Client
	sniff              bool
	healthcheck        bool
	sleep              func(ctx context.Context, d time.Duration) error
	now                func() time.Time
	initialBackoff     time.Duration
	maxBackoff         time.Duration
	maxBulkBytes       int
	onRetry            func(pending int, first Failed)
}

func defaultConfig() config {
	return config{
		httpClient:     http.DefaultClient,
		sleep:          ctxsleep.Sleep,
		now:            time.Now,
		initialBackoff: DefaultInitialBackoff,
		maxBackoff:     DefaultMaxBackoff,
		maxBulkBytes:   DefaultMaxBulkBytes,
	}
}

// An Option configures a Client.
type Option func(*config)

// WithBasicAuth sends HTTP basic authentication with every request. Without
// it, credentials in the URL's user-info part are used, if any.
func WithBasicAuth(username, password string) Option {
	return func(c *config) { c.username, c.password, c.basicAuth = username, password, true }
}

// WithHTTPClient sets the HTTP client (for TLS settings, proxies, timeouts).
// The default is http.DefaultClient.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) {
		if hc != nil {
			c.httpClient = hc
		}
	}
}

// WithSniff turns olivere/elastic's node sniffing on or off (default off:
// the URL is used as given, which is what works behind load balancers,
// proxies and Docker port mappings). With it on, call Close.
func WithSniff(enabled bool) Option { return func(c *config) { c.sniff = enabled } }

// WithHealthcheck turns olivere/elastic's health checks on or off (default
// off). With it on, New fails if the cluster cannot be reached, and Close
// must be called to stop the background checker.
func WithHealthcheck(enabled bool) Option { return func(c *config) { c.healthcheck = enabled } }

// WithSleep replaces how Deliver waits between retries. sleep must return
// ctx.Err() if ctx ends first. Tests pair it with WithClock to run the
// backoff instantly.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *config) {
		if sleep != nil {
			c.sleep = sleep
		}
	}
}

// WithClock replaces the clock Deliver measures its retry duration with
// (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithOnRetry makes Deliver call f after each round that leaves documents
// pending when it will try again (the retry duration has not run out),
// with how many are pending and the first of them as it stands (its last
// error). It runs on Deliver's goroutine; f must not block. Without it a
// failure shows only in Deliver's Result, once the retries are spent.
func WithOnRetry(f func(pending int, first Failed)) Option {
	return func(c *config) { c.onRetry = f }
}

// WithBackoff sets the first wait between retries and its cap (defaults
// DefaultInitialBackoff and DefaultMaxBackoff). Each wait doubles the last,
// up to max, and is jittered to between half and all of that.
func WithBackoff(initial, max time.Duration) Option {
	return func(c *config) {
		if initial > 0 {
			c.initialBackoff = initial
		}
		if max > 0 {
			c.maxBackoff = max
		}
	}
}

// WithMaxBulkBytes bounds the size of one bulk request body (default
// DefaultMaxBulkBytes). A single document larger than this is sent alone.
func WithMaxBulkBytes(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxBulkBytes = n
		}
	}
}
