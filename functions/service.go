package functions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/shard"
)

// namespace is the store's value namespace of the registry. Key layout:
//
//	"f/" + name → record (JSON)
//
// Invariant: the namespace is written only by this Service, through
// shard.Store.Commit, under Service.mu; the in-memory map fns is the same
// set of records (loaded at New, changed only after a commit succeeds).
const namespace = "functions"

func recordKey(name string) string { return "f/" + name }

// Defaults, written down once.
const (
	DefaultUnreservedConcurrency = 10
	DefaultTimeout               = 3   // seconds, as AWS
	DefaultMemorySize            = 128 // MB, as AWS
	DefaultAsyncQueue            = 1000
	DefaultAsyncWorkers          = 4
	// DefaultAsyncBytes bounds the payload bytes of the asynchronous
	// invocations held in memory (DefaultAsyncQueue events of 1 MB would
	// take a GB).
	DefaultAsyncBytes int64 = 64 << 20
	// MaxReservedConcurrency bounds PutFunctionConcurrency: AWS's default
	// account concurrency.
	MaxReservedConcurrency = 1000
	// DefaultCodeStorage is AWS's code storage quota (75 GB of zips).
	DefaultCodeStorage int64 = 75 << 30
)

// AWS's limits on requests and code.
const (
	MaxZipBytes       = 50 << 20        // a zip uploaded directly
	MaxUnzippedBytes  = 250 << 20       // a function's unzipped code
	MaxZipFiles       = 20000           // Spate's own bound: a zip bomb of empty files
	MaxSyncPayload    = 6 * 1024 * 1024 // RequestResponse request and response
	MaxAsyncPayload   = 1024 * 1024     // Event (1 MB since 2025)
	maxEnvBytes       = 4096            // the variables as JSON
	maxTags           = 50
	defaultListItems  = 50
	maxListItems      = 10000
	minTimeout        = 1
	maxTimeout        = 900
	minMemory         = 128
	maxMemory         = 10240
	maxDescriptionLen = 256
)

// record is one function as stored.
type record struct {
	Name         string            `json:"name"`
	Runtime      string            `json:"runtime"`
	Role         string            `json:"role"`
	Handler      string            `json:"handler,omitempty"`
	Description  string            `json:"description,omitempty"`
	Timeout      int               `json:"timeout"`
	MemorySize   int               `json:"memory"`
	Environment  map[string]string `json:"env,omitempty"`
	Architecture string            `json:"arch"`
	CodeSha256   string            `json:"sha256"`
	CodeSize     int64             `json:"codeSize"`
	// CodeDir is the directory under the code root holding this
	// revision's unzipped code, relative ("NAME/CODEREV"); "" when the
	// function has no code (an HTTP endpoint created without a zip).
	CodeDir      string            `json:"codeDir,omitempty"`
	UnzippedSize int64             `json:"unzipped,omitempty"`
	RevisionID   string            `json:"revision"`
	LastModified time.Time         `json:"modified"`
	Tags         map[string]string `json:"tags,omitempty"`
	Reserved     *int              `json:"reserved,omitempty"`
}

// Service is the function registry and its Invoker. Its methods are safe
// for concurrent use.
type Service struct {
	cfg   config
	store *shard.Store
	exec  Executor

	// mu serializes changes (a commit and the map after it); reads of
	// fns take it shared.
	mu  sync.RWMutex
	fns map[string]*record // records are never changed in place

	async   *asyncQueue
	metrics *metrics

	// pinMu guards pins and doomed. Invariant: a code directory with pins
	// (running invocations) is not removed; removeCode marks it doomed and
	// the last unpin removes it, so an update or delete does not pull the
	// code from under an invocation that read the record before it.
	pinMu  sync.Mutex
	pins   map[string]int
	doomed map[string]bool
}

var _ Invoker = (*Service)(nil)

type config struct {
	region, accountID string
	codeRoot          string
	unreserved        int
	codeStorage       int64
	asyncQueue        int
	asyncWorkers      int
	asyncBytes        int64
	asyncRetryDelays  []time.Duration
	zip               zipLimits
	logger            *slog.Logger
	now               func() time.Time
	reg               prometheus.Registerer
}

// Option configures a Service.
type Option func(*config)

// WithRegion sets the region of function ARNs (default us-east-1).
func WithRegion(region string) Option { return func(c *config) { c.region = region } }

// WithAccountID sets the account of function ARNs (default 000000000000).
func WithAccountID(id string) Option { return func(c *config) { c.accountID = id } }

// WithCodeDir sets the directory functions' code is unzipped under
// (DIR/NAME/REVISION/). Required.
func WithCodeDir(dir string) Option { return func(c *config) { c.codeRoot = dir } }

// WithUnreservedConcurrency sets how many invocations of a function
// without reserved concurrency may run at once (default
// DefaultUnreservedConcurrency).
func WithUnreservedConcurrency(n int) Option { return func(c *config) { c.unreserved = n } }

// WithCodeStorage bounds the total size of the functions' zips (default
// DefaultCodeStorage); a create or update over it fails with
// CodeStorageExceededException.
func WithCodeStorage(bytes int64) Option { return func(c *config) { c.codeStorage = bytes } }

// WithAsync sets the asynchronous (Event) invocations' queue length, how
// many run at once, and the delays before each retry of a failed one
// (default DefaultAsyncQueue, DefaultAsyncWorkers, and 1 and 2 minutes:
// two retries, as AWS).
func WithAsync(queue, workers int, retryDelays ...time.Duration) Option {
	return func(c *config) {
		c.asyncQueue, c.asyncWorkers = queue, workers
		if retryDelays != nil {
			c.asyncRetryDelays = retryDelays
		}
	}
}

// WithAsyncBytes bounds the payload bytes of the asynchronous invocations
// queued, running or waiting to retry (default DefaultAsyncBytes); an Event
// invocation over it is throttled (TooManyRequestsException).
func WithAsyncBytes(n int64) Option { return func(c *config) { c.asyncBytes = n } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// withZipLimits sets the unzipped size and file count limits (tests).
func withZipLimits(bytes int64, files int) Option {
	return func(c *config) { c.zip = zipLimits{bytes: bytes, files: files} }
}

// New opens the registry kept in store, with exec running the functions'
// code. Call Close to stop asynchronous invocations (it does not close exec
// or store).
func New(store *shard.Store, exec Executor, opts ...Option) (*Service, error) {
	cfg := config{
		region: "us-east-1", accountID: "000000000000",
		unreserved:       DefaultUnreservedConcurrency,
		codeStorage:      DefaultCodeStorage,
		asyncQueue:       DefaultAsyncQueue,
		asyncWorkers:     DefaultAsyncWorkers,
		asyncBytes:       DefaultAsyncBytes,
		asyncRetryDelays: []time.Duration{time.Minute, 2 * time.Minute},
		zip:              awsZipLimits,
		logger:           slog.Default(),
		now:              time.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case store == nil || exec == nil:
		return nil, errors.New("functions: New needs a store and an executor")
	case cfg.codeRoot == "":
		return nil, errors.New("functions: New needs WithCodeDir")
	case cfg.unreserved < 1:
		return nil, fmt.Errorf("functions: unreserved concurrency %d: must be at least 1", cfg.unreserved)
	case cfg.asyncQueue < 1 || cfg.asyncWorkers < 1:
		return nil, fmt.Errorf("functions: async queue %d and workers %d: must be at least 1", cfg.asyncQueue, cfg.asyncWorkers)
	case cfg.asyncBytes < MaxAsyncPayload:
		return nil, fmt.Errorf("functions: async bytes %d: must be at least %d (one Event payload)", cfg.asyncBytes, MaxAsyncPayload)
	}
	if err := os.MkdirAll(cfg.codeRoot, 0o700); err != nil {
		return nil, fmt.Errorf("functions: create code directory: %w", err)
	}
	m, err := newMetrics(cfg.reg)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, store: store, exec: exec, fns: map[string]*record{},
		pins: map[string]int{}, doomed: map[string]bool{}, metrics: m}
	err = store.ScanValues(namespace, "f/", func(k string, v []byte) error {
		var r record
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("functions: decode %s: %w", k, err)
		}
		s.fns[r.Name] = &r
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.sweepCode()
	s.async = newAsyncQueue(s, cfg.asyncQueue, cfg.asyncWorkers, cfg.asyncBytes, cfg.asyncRetryDelays)
	return s, nil
}

// Close stops the asynchronous invocations: queued ones are dropped (they
// are kept in memory only) and running ones are cancelled.
func (s *Service) Close() { s.async.close() }

// sweepCode removes code directories no record names: left by a crash
// between unzipping and committing, or after a commit before the old
// revision's removal.
func (s *Service) sweepCode() {
	keep := map[string]bool{}
	for _, r := range s.fns {
		if r.CodeDir != "" {
			keep[filepath.FromSlash(r.CodeDir)] = true
		}
	}
	fnDirs, err := os.ReadDir(s.cfg.codeRoot)
	if err != nil {
		s.cfg.logger.Warn("functions: list code directory", "err", err)
		return
	}
	for _, fd := range fnDirs {
		revs, err := os.ReadDir(filepath.Join(s.cfg.codeRoot, fd.Name()))
		if err != nil {
			continue
		}
		left := 0
		for _, rd := range revs {
			rel := filepath.Join(fd.Name(), rd.Name())
			if keep[rel] {
				left++
				continue
			}
			if err := os.RemoveAll(filepath.Join(s.cfg.codeRoot, rel)); err != nil {
				s.cfg.logger.Warn("functions: remove stale code", "dir", rel, "err", err)
			}
		}
		if left == 0 {
			_ = os.Remove(filepath.Join(s.cfg.codeRoot, fd.Name()))
		}
	}
}

// get returns the record of a function reference, which may carry only
// the $LATEST qualifier.
func (s *Service) get(ref string) (*record, error) {
	r, err := s.resolve(ref)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	rec := s.fns[r.Name]
	s.mu.RUnlock()
	if rec == nil {
		return nil, apierr.New(apierr.ResourceNotFound, "Function not found: %s", s.ARN(r.Name))
	}
	if r.Qualifier != "" && r.Qualifier != LatestVersion {
		return nil, apierr.New(apierr.ResourceNotFound,
			"Function not found: %s:%s (Spate keeps only $LATEST)", s.ARN(r.Name), r.Qualifier)
	}
	return rec, nil
}

// pinned is get that also pins the record's code directory until the
// returned unpin is called: for an invocation, which must find the code it
// was given even if the function is updated or deleted meanwhile.
func (s *Service) pinned(ref string) (*record, func(), error) {
	for {
		rec, err := s.get(ref)
		if err != nil {
			return nil, nil, err
		}
		s.mu.RLock()
		current := s.fns[rec.Name] == rec // else changed since: read it again
		if current && rec.CodeDir != "" {
			s.pinMu.Lock()
			s.pins[rec.CodeDir]++
			s.pinMu.Unlock()
		}
		s.mu.RUnlock()
		if current {
			return rec, func() { s.unpin(rec.CodeDir) }, nil
		}
	}
}

func (s *Service) unpin(rel string) {
	if rel == "" {
		return
	}
	s.pinMu.Lock()
	s.pins[rel]--
	last := s.pins[rel] == 0
	remove := last && s.doomed[rel]
	if last {
		delete(s.pins, rel)
		delete(s.doomed, rel)
	}
	s.pinMu.Unlock()
	if remove {
		s.removeDir(rel)
	}
}

// put commits rec as the function's record (nil deletes it), expecting
// the function's current record to be old (nil: absent), and updates the
// map. The caller holds s.mu.
func (s *Service) put(ctx context.Context, name string, old, rec *record) error {
	c := shard.Commit{Namespace: namespace, Sync: true}
	if old == nil {
		c.Expect = []shard.ValueExpect{{Key: recordKey(name), Absent: true}}
	} else {
		raw, err := json.Marshal(old)
		if err != nil {
			return err
		}
		c.Expect = []shard.ValueExpect{{Key: recordKey(name), Value: raw}}
	}
	if rec == nil {
		c.Values = []shard.ValueWrite{{Key: recordKey(name), Delete: true}}
	} else {
		raw, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		c.Values = []shard.ValueWrite{{Key: recordKey(name), Value: raw}}
	}
	if _, err := s.store.Commit(ctx, c); err != nil {
		if shard.ConditionFailed(err) {
			return apierr.New(apierr.ResourceConflict, "function %s changed under this request; retry", name)
		}
		return fmt.Errorf("commit function %s: %w", name, err)
	}
	if rec == nil {
		delete(s.fns, name)
	} else {
		s.fns[name] = rec
	}
	return nil
}

// names returns the functions' names in order.
func (s *Service) names() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.fns))
	for n := range s.fns {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
