package shard

import (
	"fmt"
	"github.com/cockroachdb/pebble/v2/vfs"
	"io"
	"log/slog"
	"time"
)

// Durability says whether appends are fsynced before they are acknowledged.
type Durability int

const (
	// DurabilitySync fsyncs the WAL before an append returns. Concurrent
	// appends share fsyncs (group commit).
	DurabilitySync Durability = iota
	// DurabilityRelaxed acknowledges appends before the WAL is written and
	// fsynced: a crash of the process or the machine can lose the records
	// acknowledged in the last moments (see docs/durability.md).
	DurabilityRelaxed
)

func (d Durability) String() string {
	if d == DurabilityRelaxed {
		return "relaxed"
	}
	return "sync"
}

// ParseDurability parses "sync" or "relaxed".
func ParseDurability(s string) (Durability, error) {
	switch s {
	case "sync", "":
		return DurabilitySync, nil
	case "relaxed":
		return DurabilityRelaxed, nil
	}
	return 0, fmt.Errorf("durability %q: want sync or relaxed", s)
}

// Option configures Open.
type Option func(*config)

// config holds every knob of a Store; defaults live in defaultConfig.
type config struct {
	durability   Durability
	createDelay  time.Duration
	updateDelay  time.Duration // WithUpdateDelay
	region       string
	accountID    string
	shardLimit   int
	onDemandMax  int
	logger       *slog.Logger
	trimInterval time.Duration
	iteratorTTL  time.Duration
	now          func() time.Time
	// minFreeDisk is the free-space reserve (WithMinFreeDisk); 0 turns
	// it off.
	minFreeDisk uint64
	// fs replaces the disk in tests (withFS); nil is the OS's file system
	// (through privateFS).
	fs vfs.FS
	// readBudget bounds the bytes reads hold (WithReadBudget); <= 0: none.
	readBudget int64
	readWait   time.Duration
	// diskNow is the reserve's clock (withDiskClock), apart from now so
	// that tests of retention, which freeze now, still see it tick.
	diskNow func() time.Time
	// limits enforces the throughput limits; gated is set when limits or
	// injected faults may refuse records (limits.go).
	limits, gated bool
	// keys wraps the data keys of encrypted streams (WithKeys).
	keys Keys
	// shardCountUpdates is the UpdateShardCount calls a stream takes per
	// ShardCountUpdateWindow (WithShardCountUpdates); <= 0: no limit.
	shardCountUpdates int
	// autoScaling scales ON_DEMAND streams (WithAutoScaling, autoscale.go).
	autoScaling AutoScaling
	// blockCache is the size of Pebble's block cache (WithBlockCache).
	blockCache int64
}

func defaultConfig() config {
	return config{
		durability:   DurabilitySync,
		region:       "us-east-1",
		accountID:    "000000000000",
		shardLimit:   500,
		onDemandMax:  50,
		logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		trimInterval: time.Minute,
		iteratorTTL:  IteratorTTL,
		now:          time.Now,
		minFreeDisk:  DefaultMinFreeDisk,
		diskNow:      time.Now,
		blockCache:   DefaultBlockCache,

		shardCountUpdates: DefaultShardCountUpdates,
		autoScaling:       DefaultAutoScaling(),
	}
}

// WithDurability sets whether appends are fsynced before they return.
func WithDurability(d Durability) Option { return func(c *config) { c.durability = d } }

// WithCreateDelay keeps new streams in CREATING for d before they become
// ACTIVE (Kinesis takes a while; tests of CREATING behaviour need it). Zero,
// the default, makes streams ACTIVE at once.
func WithCreateDelay(d time.Duration) Option { return func(c *config) { c.createDelay = d } }

// WithRegion sets the region shown in ARNs (default us-east-1).
func WithRegion(region string) Option { return func(c *config) { c.region = region } }

// WithAccountID sets the account shown in ARNs and messages (default 000000000000).
func WithAccountID(account string) Option { return func(c *config) { c.accountID = account } }

// WithShardLimit sets the account-wide limit of open shards (default 500).
func WithShardLimit(n int) Option { return func(c *config) { c.shardLimit = n } }

// WithLogger sets the logger for background work (trimming, failures).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithTrimInterval sets how often the retention trimmer runs (default 1 minute).
func WithTrimInterval(d time.Duration) Option { return func(c *config) { c.trimInterval = d } }

// WithIteratorTTL sets how long shard iterators stay valid (default 5
// minutes, as in Kinesis). Tests shorten it to reach ExpiredIteratorException.
func WithIteratorTTL(d time.Duration) Option { return func(c *config) { c.iteratorTTL = d } }

// WithClock replaces time.Now, for tests of retention and timestamps.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithMinFreeDisk sets the free-space reserve: an append or Commit that
// would leave less than bytes free on the data directory's file system is
// refused with a *DiskFullError (apierr.ServiceUnavailable) instead of
// filling the disk, which Pebble does not survive. Reads, deletions and
// metadata changes are not refused. Default DefaultMinFreeDisk; 0 turns the
// reserve off.
func WithMinFreeDisk(bytes uint64) Option { return func(c *config) { c.minFreeDisk = bytes } }

// DefaultBlockCache is the size of the store's block cache unless
// WithBlockCache sets another (see pebbleOptions).
const DefaultBlockCache = 128 << 20

// WithBlockCache sets the size in bytes of the cache of decompressed blocks
// of the store's files (Pebble's block cache), which reads of records that
// are no longer in a memtable go through. It is allocated outside the Go
// heap as blocks are read, up to this size. Default DefaultBlockCache;
// values below 1 MiB are raised to it.
func WithBlockCache(bytes int64) Option {
	return func(c *config) { c.blockCache = max(bytes, minBlockCache) }
}

// minBlockCache is the smallest block cache WithBlockCache sets: a few of
// the store's 32 KiB blocks per reader.
const minBlockCache = 1 << 20

// withDiskClock replaces the clock that paces free-space checks, for tests.
func withDiskClock(now func() time.Time) Option { return func(c *config) { c.diskNow = now } }

// withFS runs the store on fs instead of the disk: tests use Pebble's
// crashable in-memory file system to check what survives a power loss.
func withFS(fs vfs.FS) Option { return func(c *config) { c.fs = fs } }
