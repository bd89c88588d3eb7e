package esm

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spatehq/spate/functions/destination"
	"github.com/spatehq/spate/functions/filter"
	"github.com/spatehq/spate/shard"
)

// Defaults and limits, in one place.
const (
	DefaultBatchSize            = 100
	MaxBatchSize                = 10000
	MaxBatchingWindowSeconds    = 300
	MaxParallelizationFactor    = 10
	MaxRetryAttemptsLimit       = 10000
	MinRecordAgeSeconds         = 60
	MaxRecordAgeSeconds         = 604800
	MaxTumblingWindowSeconds    = 900
	MaxFilters                  = 5
	DefaultListMaxItems         = 100
	MaxListMaxItems             = 10000
	MaxPayloadBytes             = 6 << 20 // Lambda's synchronous invocation payload limit
	MaxWindowStateBytes         = 1 << 20 // beyond it Lambda ends a tumbling window early
	DefaultLeaseTimeout         = 30 * time.Second
	DefaultInvokeTimeout        = 15*time.Minute + 30*time.Second // Lambda's longest function timeout, and slack
	DefaultRetryMin             = 100 * time.Millisecond
	DefaultRetryMax             = 10 * time.Second
	ReportBatchItemFailures     = "ReportBatchItemFailures"
	DefaultInvokeIdentityFormat = "arn:aws:iam::%s:role/spate-event-source-mapping"
)

// Matcher decides whether a record passes a mapping's filters.
type Matcher func(r shard.Record) bool

// FilterCompiler compiles a mapping's filter patterns (Lambda's syntax)
// into a Matcher; an error refuses the mapping (its message is shown to the
// caller as InvalidParameterValueException).
type FilterCompiler func(patterns []string) (Matcher, error)

// FailureSink sends the invocation record of a batch that failed for good
// to an on-failure destination (a stream, a delivery stream or an S3
// bucket, by ARN). Send must be safe for concurrent use; the shard waits,
// retrying, until it succeeds. *destination.Sender is one; when the sink
// also has Check(ctx, arn) error (as *destination.Sender does), Create and
// Update check destinations with it.
type FailureSink interface {
	Send(ctx context.Context, destinationARN string, invocationRecord []byte, opts ...destination.SendOption) error
}

var _ FailureSink = (*destination.Sender)(nil)

// destinationChecker is the optional side of a FailureSink.
type destinationChecker interface {
	Check(ctx context.Context, destinationARN string) error
}

// LambdaFilters compiles filter patterns with package functions/filter:
// the default FilterCompiler.
func LambdaFilters(patterns []string) (Matcher, error) {
	set, err := filter.Compile(patterns)
	if err != nil {
		return nil, err
	}
	return func(r shard.Record) bool {
		return set.Match(filter.Record{PartitionKey: r.PartitionKey, SequenceNumber: r.SequenceNumber,
			Data: r.Data, ApproximateArrivalTimestamp: r.ArrivalTime})
	}, nil
}

// Option configures a Service.
type Option func(*config)

type config struct {
	logger        *slog.Logger
	now           func() time.Time
	reg           prometheus.Registerer
	compile       FilterCompiler
	sink          FailureSink
	leaseTimeout  time.Duration
	invokeTimeout time.Duration
	retryMin      time.Duration
	retryMax      time.Duration
	identityARN   string
	region        string
	account       string
}

func defaultConfig() config {
	return config{
		logger:        slog.Default(),
		now:           time.Now,
		compile:       LambdaFilters,
		leaseTimeout:  DefaultLeaseTimeout,
		invokeTimeout: DefaultInvokeTimeout,
		retryMin:      DefaultRetryMin,
		retryMax:      DefaultRetryMax,
	}
}

// WithLogger sets where pollers log. Default: slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithClock sets the clock used for record ages, windows and leases.
// Default: time.Now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithRegisterer registers the mappings' metrics. Default: none.
func WithRegisterer(reg prometheus.Registerer) Option { return func(c *config) { c.reg = reg } }

// WithFilterCompiler sets how FilterCriteria compile. Default:
// LambdaFilters; with nil, a mapping with FilterCriteria is refused.
func WithFilterCompiler(f FilterCompiler) Option { return func(c *config) { c.compile = f } }

// WithFailureSink sets where on-failure invocation records go. Without
// one, a mapping with DestinationConfig.OnFailure is refused.
func WithFailureSink(s FailureSink) Option { return func(c *config) { c.sink = s } }

// WithLeaseTimeout sets how long a poller's lease lives without a
// heartbeat before the poller is taken for stuck and replaced. Default:
// DefaultLeaseTimeout.
func WithLeaseTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.leaseTimeout = d
		}
	}
}

// WithInvokeTimeout bounds one invocation as the poller waits for it (the
// function's own timeout is the Invoker's business; this catches an
// Invoker that never answers). Default: DefaultInvokeTimeout.
func WithInvokeTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.invokeTimeout = d
		}
	}
}

// WithRetryBackoff sets the exponential backoff between retries of a
// failed or throttled batch. Defaults: DefaultRetryMin, DefaultRetryMax.
func WithRetryBackoff(minWait, maxWait time.Duration) Option {
	return func(c *config) {
		if minWait > 0 && maxWait >= minWait {
			c.retryMin, c.retryMax = minWait, maxWait
		}
	}
}

// WithInvokeIdentityARN sets the invokeIdentityArn of events (the role
// Lambda would read the stream with). Default: a role named
// spate-event-source-mapping in the store's account.
func WithInvokeIdentityARN(arn string) Option { return func(c *config) { c.identityARN = arn } }
