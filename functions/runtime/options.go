package runtime

import (
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// Option configures a Manager.
type Option func(*config)

// config is the Manager's settings; defaults() writes down every default.
type config struct {
	logger       *slog.Logger
	region       string
	endpointURL  string
	endpointFunc func() string
	credentials  credentials
	idleTimeout  time.Duration
	initTimeout  time.Duration
	workDir      string
	// accountLimit caps the invocations running at once across every
	// function, and the instances alive (busy or idle).
	accountLimit int
	// unreserved is the limit a function without reserved concurrency
	// gets (0: not known).
	unreserved int
	httpClient *http.Client
}

type credentials struct {
	accessKeyID, secretAccessKey, sessionToken string
}

func defaults() config {
	return config{
		logger:       slog.New(slog.DiscardHandler),
		region:       "us-east-1",
		idleTimeout:  10 * time.Minute,
		initTimeout:  10 * time.Second, // Lambda's init phase limit
		workDir:      filepath.Join(os.TempDir(), "spate-functions"),
		accountLimit: 1000, // Lambda's default account concurrency
	}
}

// WithLogger sends the Manager's log and every line its instances write to
// stdout or stderr (with the function name and request id) to l.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithRegion is the region handlers see (AWS_REGION) when a function's ARN
// does not name one.
func WithRegion(region string) Option { return func(c *config) { c.region = region } }

// WithEndpoint is the URL of Spate's own HTTP API, given to handlers as
// AWS_ENDPOINT_URL so that an AWS SDK in a handler calls Spate back.
func WithEndpoint(url string) Option { return func(c *config) { c.endpointURL = url } }

// WithEndpointFunc is WithEndpoint for a URL known only later (a server
// listening on port 0): f is called as each instance starts, and "" sets
// no AWS_ENDPOINT_URL.
func WithEndpointFunc(f func() string) Option { return func(c *config) { c.endpointFunc = f } }

// WithCredentials are the AWS credentials handlers get (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN when token is not empty).
func WithCredentials(accessKeyID, secretAccessKey, token string) Option {
	return func(c *config) { c.credentials = credentials{accessKeyID, secretAccessKey, token} }
}

// WithIdleTimeout is how long an idle instance stays warm (10 minutes).
func WithIdleTimeout(d time.Duration) Option { return func(c *config) { c.idleTimeout = d } }

// WithInitTimeout is how long a new instance may take to ask for its first
// invocation (10 seconds, as Lambda's init phase).
func WithInitTimeout(d time.Duration) Option { return func(c *config) { c.initTimeout = d } }

// WithWorkDir is where instances get their scratch directory (TMPDIR),
// removed when the instance stops. Default: spate-functions in os.TempDir.
func WithWorkDir(dir string) Option { return func(c *config) { c.workDir = dir } }

// WithAccountConcurrency caps the invocations running at once across every
// function, and the instances kept alive (1000, Lambda's default account
// limit). Past it an invocation is throttled with
// ConcurrentInvocationLimitExceeded.
func WithAccountConcurrency(n int) Option { return func(c *config) { c.accountLimit = n } }

// WithUnreservedConcurrency tells the Manager the MaxConcurrency the
// registry gives functions without reserved concurrency, so that a
// throttled invocation of one is answered with ConcurrentInvocationLimitExceeded
// (the shared pool is used up) rather than
// ReservedFunctionConcurrentInvocationLimitExceeded. A function whose
// reserved concurrency equals it is taken for unreserved. Without this
// option, only a MaxConcurrency at or above the account limit is.
func WithUnreservedConcurrency(n int) Option { return func(c *config) { c.unreserved = n } }

// WithHTTPClient is the client HTTP-endpoint functions are called with (a
// client that never follows redirects by default).
func WithHTTPClient(h *http.Client) Option { return func(c *config) { c.httpClient = h } }
