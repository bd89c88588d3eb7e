package groups

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/spatehq/spate/shard"
)

// Defaults and bounds, in one place.
const (
	// DefaultLeaseTimeout is how long a lease and a worker stay live
	// without a heartbeat, unless the server (WithLeaseTimeout) or the
	// group (JoinInput.LeaseTimeout) says otherwise. Workers should
	// heartbeat at a third of it.
	DefaultLeaseTimeout = 10 * time.Second
	// MinLeaseTimeout and MaxLeaseTimeout bound a group's lease timeout.
	MinLeaseTimeout = time.Second
	MaxLeaseTimeout = 5 * time.Minute
	// DefaultMaxGroupsPerStream bounds the groups of one stream.
	DefaultMaxGroupsPerStream = 100
	// DefaultMaxWorkersPerGroup bounds the live workers of one group.
	DefaultMaxWorkersPerGroup = 256
	// MaxOutputRecords bounds the output records of one Checkpoint, as
	// PutRecords bounds a request.
	MaxOutputRecords = shard.MaxPutRecordsEntries
	// DefaultSweepInterval is how often Run removes the groups of deleted
	// streams and the records of dead workers and deleted groups.
	DefaultSweepInterval = time.Minute
	// maxAttempts bounds the retries of a change that lost races.
	maxAttempts = 32
)

// Store is what groups need of the stream store; *shard.Store is the
// implementation.
type Store interface {
	ResolveStream(name, arn string) (string, error)
	Positions(ctx context.Context, name string) (shard.StreamPositions, error)
	Lag(ctx context.Context, name, shardID, after string) (records, millis int64, err error)
	GetValue(ns, key string) ([]byte, bool, error)
	ScanValues(ns, prefix string, fn func(key string, value []byte) error) error
	Commit(ctx context.Context, c shard.Commit) ([][]shard.AppendResult, error)
}

var _ Store = (*shard.Store)(nil)

// Option configures a Service.
type Option func(*config)

type config struct {
	now           func() time.Time
	leaseTimeout  time.Duration
	maxGroups     int
	maxWorkers    int
	sweepInterval time.Duration
	logger        *slog.Logger
}

func defaultConfig() config {
	return config{
		now:           time.Now,
		leaseTimeout:  DefaultLeaseTimeout,
		maxGroups:     DefaultMaxGroupsPerStream,
		maxWorkers:    DefaultMaxWorkersPerGroup,
		sweepInterval: DefaultSweepInterval,
		logger:        slog.Default(),
	}
}

// WithClock sets the clock that judges expiry (tests use a fake one).
// Default: time.Now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithLeaseTimeout sets the lease timeout of groups created without one;
// it is clamped to [MinLeaseTimeout, MaxLeaseTimeout]. Default:
// DefaultLeaseTimeout.
func WithLeaseTimeout(d time.Duration) Option {
	return func(c *config) { c.leaseTimeout = min(max(d, MinLeaseTimeout), MaxLeaseTimeout) }
}

// WithLimits sets the most groups per stream and live workers per group
// (values below 1 keep the default). Defaults: DefaultMaxGroupsPerStream,
// DefaultMaxWorkersPerGroup.
func WithLimits(groupsPerStream, workersPerGroup int) Option {
	return func(c *config) {
		if groupsPerStream > 0 {
			c.maxGroups = groupsPerStream
		}
		if workersPerGroup > 0 {
			c.maxWorkers = workersPerGroup
		}
	}
}

// WithSweepInterval sets how often Run sweeps. Default:
// DefaultSweepInterval.
func WithSweepInterval(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.sweepInterval = d
		}
	}
}

// WithLogger sets where Run logs failed sweeps. Default: slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// Service holds the consumer groups of a store. All methods are safe for
// concurrent use; it keeps no group state in memory besides the rebalance
// counters, so any number of Services on one store agree.
type Service struct {
	store Store
	cfg   config

	countMu sync.Mutex
	counts  map[groupKey]*Counters
}

type groupKey struct{ stream, group string }

// New returns a Service on store.
func New(store Store, opts ...Option) *Service {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	return &Service{store: store, cfg: cfg, counts: map[groupKey]*Counters{}}
}

// Ref names a group: a stream, by name or ARN, and the group's name.
type Ref struct {
	Stream    string
	StreamARN string
	Group     string
}

// Position is where a group reads shards that have no checkpoint.
type Position struct {
	// Type is shard.TrimHorizon, shard.Latest or shard.AtTimestamp (and,
	// for Reset only, shard.AtSequenceNumber).
	Type      shard.IteratorType
	Timestamp time.Time
}

// Lease is one shard's lease in a group.
type Lease struct {
	ShardID string
	// Owner is the worker holding the lease; empty when free.
	Owner   string
	Counter uint64
	// Expires is when the lease lapses unless renewed; zero when free.
	Expires    time.Time
	Checkpoint string
	Finished   bool
	Parents    []string
	// LagRecords and MillisBehind are set by Describe only.
	LagRecords   int64
	MillisBehind int64
}

// Worker is a live member of a group.
type Worker struct {
	ID      string
	Expires time.Time
	Shards  []string
}

// Counters are a group's rebalance counters since the Service started.
type Counters struct {
	// Acquisitions counts leases taken (free, expired or stolen).
	Acquisitions uint64
	// Steals counts leases taken from a live owner.
	Steals uint64
	// Expiries counts leases taken after their owner let them lapse.
	Expiries uint64
}

// Group is a group's state.
type Group struct {
	Stream       string
	Name         string
	Initial      Position
	LeaseTimeout time.Duration
	// Workers are the live workers, by ID; Leases one per shard of the
	// stream (retention's dropped shards excluded), in shard order.
	Workers  []Worker
	Leases   []Lease
	Counters Counters
}

// JoinInput is a JoinGroup request.
type JoinInput struct {
	Ref    Ref
	Worker string
	// Initial and LeaseTimeout apply to a group created by this call
	// only; zero values are TRIM_HORIZON and the server's default.
	Initial      Position
	LeaseTimeout time.Duration
}

// LeaseInput names a worker's lease: AcquireLease (Counter is the
// expected counter of a steal) and ReleaseLease (the counter held).
type LeaseInput struct {
	Ref     Ref
	Worker  string
	ShardID string
	Counter uint64
}

// CheckpointInput is a Checkpoint request.
type CheckpointInput struct {
	Ref      Ref
	Worker   string
	ShardID  string
	Counter  uint64
	Sequence string
	ShardEnd bool
	// OutputStream and Output are records appended in the same atomic
	// batch as the checkpoint (exactly-once output).
	OutputStream string
	Output       []shard.Entry
}

// ResetInput is a ResetGroup request.
type ResetInput struct {
	Ref      Ref
	Position Position
	// ShardID and Sequence, with Position.Type AtSequenceNumber, move one
	// shard's checkpoint so that reading resumes at Sequence.
	ShardID  string
	Sequence string
}
