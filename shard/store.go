package shard

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/internal/membudget"
	"github.com/spatehq/spate/internal/throttle"
)

// Store is a Kinesis-style stream store in one Pebble database. All methods
// are safe for concurrent use.
type Store struct {
	cfg config
	dir string
	db  *pebble.DB
	// popts returns the Pebble options, read-only or not.
	popts func(readOnly bool) *pebble.Options
	// readOnly is set while the disk is too full to open the database for
	// writing (readonly.go); it only ever turns false, after db is swapped.
	readOnly atomic.Bool
	// roNeed and roFree are the free space a read-write open needs and
	// the free space last seen, for the refusals of a read-only store.
	roNeed, roFree atomic.Uint64

	iterSecret []byte
	// epoch is the nonce epoch of sealed records (encryption.go, newEpoch);
	// it belongs to the writer goroutine.
	epoch uint32

	// mu guards streams, byID, nextStreamID and every stream's meta.
	// Metadata changes hold it for writing while they persist the new meta.
	mu           sync.RWMutex
	streams      map[string]*stream
	byID         map[uint32]*stream
	nextStreamID uint32
	// stagedOpen is how many open shards the reshards the writer has
	// staged but not yet installed add, so that the next one in its group
	// sees the account's limit right (reshard.go). Guarded by s.mu.
	stagedOpen int
	// crashGap is added to every shard's counter at load when the last run
	// did not close cleanly (see load).
	crashGap uint64

	writeCh chan *writeOp
	closing chan struct{}
	// writerDone is closed when the writer has committed its last batch;
	// the relaxed-mode syncer then makes a final pass and exits.
	writerDone chan struct{}

	// Relaxed durability: the writer commits without fsync and leaves the
	// shards' new high-water marks here; the syncer fsyncs the WAL and only
	// then publishes them, so readers never see a record a crash can take
	// back. syncMu guards unsynced.
	syncMu   sync.Mutex
	unsynced map[*shardState]published
	syncKick chan struct{}
	closed   atomic.Bool
	wg       sync.WaitGroup
	// closeMu orders Close against in-flight enqueues: enqueuers hold it for
	// reading, Close takes it for writing before it stops the writer.
	closeMu sync.RWMutex

	// consumers names readers (in-process ones, named subscriptions) for the
	// iterator-age metric (metrics.go).
	consumers consumers

	// stalls counts Pebble's write stalls for HealthCollector (stall.go).
	stalls *writeStalls

	// budget bounds the bytes reads hold (readbudget.go); nil: no bound.
	budget *membudget.Budget
	// disk refuses appends that would eat into the free-space reserve
	// (diskfull.go).
	disk *diskReserve
	// bg is cancelled by Close: it stops background compactions of
	// deleted streams (compactDeleted).
	bg     context.Context
	stopBG context.CancelFunc
}

// stream is the in-memory state of one stream.
type stream struct {
	// id and name never change; read them, not meta's copies, outside
	// s.mu (meta is replaced whole under s.mu).
	id     uint32
	name   string
	meta   streamMeta
	shards []*shardState // by shard index
	open   []*shardState // open shards, sorted by hash-key start (routing)
	// shards and open are replaced whole, never changed in place, under
	// s.mu held for writing (reshard.go); readers copy them under s.mu.
	// resharding is set, under s.mu, while a reshard is queued for the
	// writer: a second one is refused until it is applied.
	resharding bool
	// deleted is set by DeleteStream once the metadata is gone; the writer
	// fails appends to a deleted stream that are still queued.
	deleted atomic.Bool
	// meter is an on-demand stream's throughput (limits.go); nil until used.
	meter atomic.Pointer[throttle.Meter]
	// largestRecord bounds the stored size of the stream's records for the
	// read budget (streamconfig.go).
	largestRecord atomic.Int64
	// keys caches the stream's unwrapped data keys (encryption.go).
	keys streamKeys
}

// streamMeta is the persisted metadata of a stream ("m" + name).
type streamMeta struct {
	Name           string            `json:"name"`
	ID             uint32            `json:"id"`
	CreatedAtMs    int64             `json:"createdAtMs"`
	ActiveAtMs     int64             `json:"activeAtMs"`
	RetentionHours int               `json:"retentionHours"`
	Mode           StreamMode        `json:"mode"`
	Tags           map[string]string `json:"tags,omitempty"`
	Shards         []shardMeta       `json:"shards"`
	Internal       bool              `json:"internal,omitempty"`
	// ShardLevelMetrics are the metrics EnableEnhancedMonitoring turned
	// on, in AllShardLevelMetrics order; empty when none are.
	ShardLevelMetrics []ShardLevelMetric `json:"shardLevelMetrics,omitempty"`
	// Settings of the update actions (streamconfig.go, policy.go).
	streamSettings
	// Encryption is the server-side encryption state (encryption.go);
	// nil for a stream that was never encrypted.
	Encryption *encryptionMeta `json:"encryption,omitempty"`
	// Consumers are the registered stream consumers (consumers.go).
	Consumers []consumerMeta `json:"consumers,omitempty"`
	// ShardCountUpdatesMs are the times of the stream's UpdateShardCount
	// calls within the last ShardCountUpdateWindow, oldest first (reshard.go).
	ShardCountUpdatesMs []int64 `json:"shardCountUpdatesMs,omitempty"`
}

// shardMeta is a shard's persisted metadata. It is shaped for resharding: a
// closed parent keeps its EndingCounter and ClosedAtMs; children name their
// parents.
type shardMeta struct {
	Index          uint32  `json:"index"`
	Parent         *uint32 `json:"parent,omitempty"`
	AdjacentParent *uint32 `json:"adjacentParent,omitempty"`
	HashStart      string  `json:"hashStart"`
	HashEnd        string  `json:"hashEnd"`
	CreatedAtMs    int64   `json:"createdAtMs"`
	ClosedAtMs     int64   `json:"closedAtMs,omitempty"`
	EndingCounter  uint64  `json:"endingCounter,omitempty"`
}

func (m shardMeta) closed() bool { return m.ClosedAtMs != 0 }

// shardState is the in-memory state of one shard.
type shardState struct {
	streamID  uint32
	index     uint32
	id        string
	hashStart hashKey
	hashEnd   hashKey
	// end is the shard's EndingCounter plus one once it is closed, 0 while
	// it is open; a reshard sets it after its batch commits (reshard.go).
	end atomic.Uint64
	// gone is set once retention has emptied a closed shard and its
	// metadata is deleted (reshard.go, dropTrimmed).
	gone atomic.Bool
	// succ are the shards that continue this one once a reshard closed it
	// in the writer; the writer re-routes appends queued for it by hash
	// key (reshard.go). It belongs to the writer goroutine.
	succ []*shardState

	// next is the first counter not yet readable: every record with a
	// smaller counter is committed. Written only by the writer goroutine,
	// after its batch commits.
	next          atomic.Uint64
	lastArrivalMs atomic.Int64

	// assign and lastIndexedMs belong to the writer goroutine alone.
	assign        uint64
	lastIndexedMs int64

	notifyMu sync.Mutex
	notify   chan struct{} // closed and replaced when next advances

	// stats are the traffic counters of the metrics (metrics.go); staged
	// belongs to the writer goroutine, like assign.
	stats  shardStats
	staged staged
	// meter is the shard's throughput (limits.go); nil until used.
	meter atomic.Pointer[throttle.Meter]
}

func newShardState(streamID uint32, m shardMeta) (*shardState, error) {
	start, err := parseExplicitHashKey(m.HashStart)
	if err != nil {
		return nil, fmt.Errorf("shard %d hash start: %w", m.Index, err)
	}
	end, err := parseExplicitHashKey(m.HashEnd)
	if err != nil {
		return nil, fmt.Errorf("shard %d hash end: %w", m.Index, err)
	}
	sh := &shardState{
		streamID: streamID, index: m.Index, id: ShardID(m.Index),
		hashStart: start, hashEnd: end,
		notify: make(chan struct{}),
	}
	if m.closed() {
		sh.end.Store(m.EndingCounter + 1)
	}
	sh.stats.iteratorAgeMs.Store(-1) // not read yet
	return sh, nil
}

// waitCh returns a channel that is closed when the shard's readable
// high-water mark next advances.
func (sh *shardState) waitCh() <-chan struct{} {
	sh.notifyMu.Lock()
	defer sh.notifyMu.Unlock()
	return sh.notify
}

func (sh *shardState) broadcast() {
	sh.notifyMu.Lock()
	close(sh.notify)
	sh.notify = make(chan struct{})
	sh.notifyMu.Unlock()
}

// Open opens (creating if needed) the store in dir. See OpenContext.
func Open(dir string, opts ...Option) (*Store, error) {
	return OpenContext(context.Background(), dir, opts...)
}

// OpenContext opens (creating if needed) the store in dir, or gives up when
// ctx is done first. Opening replays Pebble's WAL and flushes it, which
// waits for disk space when there is none (retrying with backoff); a
// process that is told to stop meanwhile must not hang. When OpenContext
// gives up, the abandoned open goes on in the background and closes the
// database if it ever completes.
//
// On the OS's file system, dir is made 0700 and every file in it 0600
// (privateFS, tightenDir).
func OpenContext(ctx context.Context, dir string, opts ...Option) (*Store, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.fs == nil {
		if err := tightenDir(dir); err != nil {
			return nil, fmt.Errorf("make data directory %s private: %w", dir, err)
		}
		cfg.fs = privateFS{vfs.Default}
	}
	s, err := openStore(ctx, cfg, dir, true)
	if errors.Is(err, errReadOnlyLoad) {
		// A store that was never fully initialised cannot start read-only.
		s, err = openStore(ctx, cfg, dir, false)
	}
	return s, err
}

// errReadOnlyLoad is load's refusal to initialise a read-only store.
var errReadOnlyLoad = errors.New("the store needs initialising, which a read-only store cannot do")

// openStore is OpenContext after the options, opening read-only when
// allowed and the disk is too full (readonly.go).
func openStore(ctx context.Context, cfg config, dir string, allowReadOnly bool) (*Store, error) {
	closing := make(chan struct{})
	stalls := newWriteStalls(cfg.now)
	backoff := &backgroundBackoff{closing: closing}
	popts := func(readOnly bool) *pebble.Options {
		o := pebbleOptions(cfg, stalls.eventListener(), backoff.eventListener())
		o.ReadOnly = readOnly
		return o
	}
	var db *pebble.DB
	var roNeed, roFree uint64
	readOnly := false
	if allowReadOnly {
		db, roNeed, roFree, readOnly = openReadOnly(ctx, cfg, dir, popts)
	}
	if !readOnly {
		var err error
		if db, err = openPebble(ctx, dir, popts(false)); err != nil {
			return nil, err
		}
	}
	bg, stopBG := context.WithCancel(context.Background())
	s := &Store{
		cfg: cfg, dir: dir, db: db, popts: popts, stalls: stalls, budget: newReadBudget(cfg),
		disk:    newDiskReserve(dir, cfg.minFreeDisk, cfg.fs, cfg.diskNow, cfg.logger),
		bg:      bg,
		stopBG:  stopBG,
		streams: map[string]*stream{}, byID: map[uint32]*stream{},
		writeCh:    make(chan *writeOp, 4096),
		closing:    closing,
		writerDone: make(chan struct{}),
		unsynced:   map[*shardState]published{},
		syncKick:   make(chan struct{}, 1),
		epoch:      newEpoch(),
	}
	s.readOnly.Store(readOnly)
	s.roNeed.Store(roNeed)
	s.roFree.Store(roFree)
	s.disk.readOnly = func(n uint64) error {
		if s.readOnly.Load() {
			return s.readOnlyError(n)
		}
		return nil
	}
	s.disk.unflushed = func() uint64 { return s.db.Metrics().WAL.Size }
	err := s.load()
	if err == nil && !readOnly {
		err = s.loadWrites()
	}
	if err != nil {
		stopBG()
		_ = s.db.Close()
		return nil, err
	}
	s.wg.Add(3)
	go s.writeLoop()
	go s.syncLoop()
	if readOnly {
		go s.watchSpace()
	} else {
		go s.trimLoop()
	}
	return s, nil
}

// openPebble opens Pebble, or gives up when ctx is done first (see
// OpenContext).
func openPebble(ctx context.Context, dir string, popts *pebble.Options) (*pebble.DB, error) {
	type opened struct {
		db  *pebble.DB
		err error
	}
	ch := make(chan opened, 1)
	abandoned := make(chan struct{})
	go func() {
		db, err := pebble.Open(dir, popts)
		select {
		case ch <- opened{db, err}:
		case <-abandoned:
			if err == nil {
				_ = db.Close()
			}
		}
	}()
	select {
	case o := <-ch:
		if o.err != nil {
			return nil, fmt.Errorf("open pebble in %s: %w", dir, o.err)
		}
		return o.db, nil
	case <-ctx.Done():
		// The abandoned open keeps its backoff: closing stays open, or
		// its retries would spin again.
		close(abandoned)
		return nil, fmt.Errorf("open pebble in %s: %w", dir, context.Cause(ctx))
	}
}

// load reads settings, stream metadata and shard high-water marks.
func (s *Store) load() error {
	secret, err := s.getOrInitSetting("iterator-secret", func() []byte {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return b
	})
	if err != nil {
		return err
	}
	s.iterSecret = secret
	next, err := s.getOrInitSetting("next-stream-id", func() []byte { return []byte{0, 0, 0, 1} })
	if err != nil {
		return err
	}
	s.nextStreamID = binary.BigEndian.Uint32(next)

	// A clean Close leaves a marker; without it the last run crashed, and
	// with relaxed durability it may have acknowledged records that are now
	// lost. Their counters must never be handed out again (a consumer may
	// have seen the acknowledgement), so every shard skips ahead.
	_, closer, err := s.db.Get(settingKey("clean-shutdown"))
	switch {
	case err == nil:
		_ = closer.Close()
	case errors.Is(err, pebble.ErrNotFound):
		s.crashGap = counterGapAfterCrash
	default:
		return fmt.Errorf("read clean-shutdown marker: %w", err)
	}

	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixMeta}, UpperBound: []byte{prefixMeta + 1}})
	if err != nil {
		return fmt.Errorf("load streams: %w", err)
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		var m streamMeta
		if err := json.Unmarshal(it.Value(), &m); err != nil {
			return fmt.Errorf("load stream %q: %w", it.Key()[1:], err)
		}
		st, err := newStream(m)
		if err != nil {
			return fmt.Errorf("load stream %q: %w", m.Name, err)
		}
		for _, sh := range st.shards {
			if sh.gone.Load() {
				continue
			}
			if err := s.loadHighWater(sh); err != nil {
				return err
			}
		}
		s.streams[m.Name] = st
		s.byID[m.ID] = st
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("load streams: %w", err)
	}
	return nil
}

// loadWrites finishes load with its writes, which a read-only store
// defers until it turns read-write (upgrade): the clean-shutdown marker is
// cleared, raised counters are persisted, orphaned records are swept. Until
// then nothing is appended, so no counter is handed out and no stream ID
// reused.
func (s *Store) loadWrites() error {
	if err := s.db.Delete(settingKey("clean-shutdown"), pebble.Sync); err != nil {
		return fmt.Errorf("clear clean-shutdown marker: %w", err)
	}
	if err := s.persistCrashGap(); err != nil {
		return err
	}
	return s.sweepOrphans()
}

// persistCrashGap writes the raised high-water marks after an unclean
// shutdown before anything is appended: otherwise a second crash that lost
// this run's only appends to a shard would start the shard at the same
// raised counter again and hand out numbers this run acknowledged.
func (s *Store) persistCrashGap() error {
	if s.crashGap == 0 {
		return nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	for _, st := range s.streams {
		for _, sh := range st.shards {
			if sh.gone.Load() {
				continue
			}
			var v [16]byte
			binary.BigEndian.PutUint64(v[:8], sh.assign)
			binary.BigEndian.PutUint64(v[8:], uint64(sh.lastIndexedMs))
			_ = b.Set(highKey(sh.streamID, sh.index), v[:], nil)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("persist counters raised after a crash: %w", err)
	}
	return nil
}

// sweepOrphans removes the records of streams whose metadata is gone: a
// DeleteStream removes the metadata first and the records after, so a crash
// in between leaves records no stream can reach. Every shard that ever took
// a record has an "h" key, so scanning those (one per shard) finds them.
func (s *Store) sweepOrphans() error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixHigh}, UpperBound: []byte{prefixHigh + 1}})
	if err != nil {
		return fmt.Errorf("sweep orphaned records: %w", err)
	}
	var orphans []uint32
	for it.First(); it.Valid(); it.Next() {
		id := binary.BigEndian.Uint32(it.Key()[1:5])
		if _, ok := s.byID[id]; !ok && (len(orphans) == 0 || orphans[len(orphans)-1] != id) {
			orphans = append(orphans, id)
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("sweep orphaned records: %w", err)
	}
	for _, id := range orphans {
		for _, p := range []byte{prefixRecord, prefixTime, prefixHigh} {
			start, end := streamSpan(p, id)
			if err := s.db.DeleteRange(start, end, pebble.Sync); err != nil {
				return fmt.Errorf("remove records of deleted stream %d: %w", id, err)
			}
		}
		s.cfg.logger.Info("removed records of a stream deleted before a crash", "stream_id", id)
	}
	return nil
}

func (s *Store) getOrInitSetting(name string, init func() []byte) ([]byte, error) {
	v, closer, err := s.db.Get(settingKey(name))
	if err == nil {
		out := append([]byte(nil), v...)
		return out, closer.Close()
	}
	if !errors.Is(err, pebble.ErrNotFound) {
		return nil, fmt.Errorf("read setting %s: %w", name, err)
	}
	if s.readOnly.Load() {
		return nil, fmt.Errorf("setting %s: %w", name, errReadOnlyLoad)
	}
	out := init()
	if err := s.db.Set(settingKey(name), out, pebble.Sync); err != nil {
		return nil, fmt.Errorf("init setting %s: %w", name, err)
	}
	return out, nil
}

func (s *Store) loadHighWater(sh *shardState) error {
	v, closer, err := s.db.Get(highKey(sh.streamID, sh.index))
	next, lastMs := uint64(1), int64(0)
	switch {
	case err == nil:
		next = binary.BigEndian.Uint64(v)
		lastMs = int64(binary.BigEndian.Uint64(v[8:]))
		_ = closer.Close()
	case !errors.Is(err, pebble.ErrNotFound):
		return fmt.Errorf("read high-water mark of %s: %w", sh.id, err)
	}
	// Even a shard without a high-water mark gets the gap: in relaxed mode
	// its first records, and the mark, may have been acknowledged and lost.
	next += s.crashGap
	sh.next.Store(next)
	sh.assign = next
	sh.lastArrivalMs.Store(lastMs)
	sh.lastIndexedMs = lastMs
	return nil
}

func newStream(m streamMeta) (*stream, error) {
	st := &stream{id: m.ID, name: m.Name, meta: m}
	st.largestRecord.Store(int64(m.largestRecordSize()))
	for _, sm := range m.Shards {
		sh, err := newShardState(m.ID, sm)
		if err != nil {
			return nil, err
		}
		// Shards that retention emptied leave holes (reshard.go).
		for uint32(len(st.shards)) < sm.Index {
			st.shards = append(st.shards, goneShard(m.ID, uint32(len(st.shards))))
		}
		st.shards = append(st.shards, sh)
	}
	st.open = openShards(st.shards)
	return st, nil
}

// Close stops background work, waits for queued appends, and closes Pebble.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closed.Swap(true) {
		s.closeMu.Unlock()
		return nil
	}
	close(s.closing)
	s.stopBG()
	s.closeMu.Unlock()
	s.wg.Wait()
	if s.readOnly.Load() {
		// Nothing was written: the WAL is replayed again at the next open,
		// and the marker (if any) still says how the last writer ended.
		return s.db.Close()
	}
	if err := s.db.Flush(); err != nil {
		_ = s.db.Close()
		return fmt.Errorf("flush pebble: %w", err)
	}
	if err := s.db.Set(settingKey("clean-shutdown"), []byte{1}, pebble.Sync); err != nil {
		_ = s.db.Close()
		return fmt.Errorf("mark clean shutdown: %w", err)
	}
	return s.db.Close()
}

// counterGapAfterCrash is how far every shard's counter skips after an
// unclean shutdown: more than any number of records one run could have
// acknowledged without making durable, and small enough for 2^32 crashes.
const counterGapAfterCrash = 1 << 32

var errClosed = apierr.New(apierr.InternalFailure, "the store is shutting down")

// StreamARN returns the ARN of a stream name in this store's region and account.
func (s *Store) StreamARN(name string) string {
	return fmt.Sprintf("arn:aws:kinesis:%s:%s:stream/%s", s.cfg.region, s.cfg.accountID, name)
}

// ResolveStream returns the stream name that a request's StreamName and/or
// StreamARN designate. At least one must be set; when both are, they must
// agree.
func (s *Store) ResolveStream(name, arn string) (string, error) {
	if arn == "" {
		if name == "" {
			return "", apierr.New(apierr.InvalidArgument, "either StreamName or StreamARN must be provided")
		}
		return name, validateStreamName(name)
	}
	m := arnRE.FindStringSubmatch(arn)
	if m == nil {
		return "", apierr.New(apierr.InvalidArgument,
			"StreamARN %q is invalid: expected arn:aws:kinesis:<region>:<12-digit account>:stream/<name>", arn)
	}
	if m[1] != s.cfg.region || m[2] != s.cfg.accountID {
		return "", apierr.New(apierr.ResourceNotFound,
			"Stream %s under account %s not found (this server serves region %s, account %s)", m[3], m[2], s.cfg.region, s.cfg.accountID)
	}
	if name != "" && name != m[3] {
		return "", apierr.New(apierr.InvalidArgument,
			"StreamName %q and StreamARN %q name different streams; give one, or both naming the same stream", name, arn)
	}
	return m[3], nil
}

func (s *Store) notFound(name string) error {
	return apierr.New(apierr.ResourceNotFound, "Stream %s under account %s not found.", name, s.cfg.accountID)
}

// status computes a stream's status (CREATING until its activation time).
func (s *Store) status(m *streamMeta) StreamStatus {
	// ActiveAtMs is 0 without a create delay, so a clock that steps back
	// never makes an ACTIVE stream CREATING again.
	if m.ActiveAtMs != 0 && s.cfg.now().UnixMilli() < m.ActiveAtMs {
		return StatusCreating
	}
	if now := s.cfg.now().UnixMilli(); (m.UpdatingUntilMs != 0 && now < m.UpdatingUntilMs) || encryptionUpdating(m, now) {
		return StatusUpdating
	}
	return StatusActive
}

// lookup returns a stream by name. The caller holds s.mu (read or write).
func (s *Store) lookup(name string) (*stream, error) {
	if err := validateLookupName(name); err != nil {
		return nil, err
	}
	st, ok := s.streams[name]
	if !ok {
		return nil, s.notFound(name)
	}
	return st, nil
}

// lookupActive returns a stream that is ACTIVE (or UPDATING: records can be
// read and written while an update runs), or ResourceNotFound as Kinesis
// answers data-plane calls on a stream still being created.
func (s *Store) lookupActive(name string) (*stream, error) {
	st, err := s.lookup(name)
	if err != nil {
		return nil, err
	}
	if s.status(&st.meta) == StatusCreating { // UPDATING streams serve reads and writes
		return nil, apierr.New(apierr.ResourceNotFound,
			"Stream %s under account %s is %s, not ACTIVE; wait until DescribeStreamSummary shows ACTIVE", name, s.cfg.accountID, StatusCreating)
	}
	return st, nil
}

// mutateActive applies change to a copy of an ACTIVE stream's metadata,
// persists it, and installs it. A failed change or write leaves everything
// as it was.
func (s *Store) mutateActive(name string, change func(m *streamMeta) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.lookup(name)
	if err != nil {
		return err
	}
	if s.status(&st.meta) != StatusActive {
		return apierr.New(apierr.ResourceInUse,
			"Stream %s under account %s is not ACTIVE (it is %s); retry once it is ACTIVE", name, s.cfg.accountID, s.status(&st.meta))
	}
	m := st.meta
	m.Tags = cloneTags(st.meta.Tags)
	if err := change(&m); err != nil {
		return err
	}
	if err := s.putMeta(&m); err != nil {
		return err
	}
	st.meta = m
	return nil
}

func (s *Store) putMeta(m *streamMeta) error {
	if err := s.Writable(); err != nil {
		return err
	}
	v, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode metadata of %s: %w", m.Name, err)
	}
	if err := s.db.Set(metaKey(m.Name), v, pebble.Sync); err != nil {
		return fmt.Errorf("persist metadata of %s: %w", m.Name, err)
	}
	return nil
}

// mergeTags adds or overwrites tags in dst, which it makes when nil, and
// returns it.
func mergeTags(dst, tags map[string]string) map[string]string {
	if dst == nil {
		dst = make(map[string]string, len(tags))
	}
	for k, v := range tags {
		dst[k] = v
	}
	return dst
}

func cloneTags(t map[string]string) map[string]string {
	if len(t) == 0 {
		return nil
	}
	out := make(map[string]string, len(t))
	for k, v := range t {
		out[k] = v
	}
	return out
}

func (s *Store) openShardCount() (total, onDemandStreams int) {
	for _, st := range s.streams {
		if st.meta.Internal {
			continue
		}
		total += len(st.open)
		if st.meta.Mode == ModeOnDemand {
			onDemandStreams++
		}
	}
	return total, onDemandStreams
}

// CreateStream creates a stream of in.ShardCount shards whose hash-key
// ranges split the 128-bit space evenly, as Kinesis does.
func (s *Store) CreateStream(ctx context.Context, in CreateStreamInput) error {
	validName := validateStreamName
	if in.Internal {
		validName = func(name string) error {
			if !internalNameRE.MatchString(name) {
				return apierr.New(apierr.Validation, "internal stream name %q must look like owner:name", name)
			}
			return nil
		}
	}
	if err := validName(in.Name); err != nil {
		return err
	}
	mode := in.Mode
	if mode == "" {
		mode = ModeProvisioned
	}
	n := in.ShardCount
	switch mode {
	case ModeProvisioned:
		if n < 1 {
			return apierr.New(apierr.InvalidArgument,
				"ShardCount is required for a PROVISIONED stream and must be at least 1 (got %d)", n)
		}
	case ModeOnDemand:
		if n == 0 {
			n = OnDemandShardCount
		}
		if n < 1 {
			return apierr.New(apierr.InvalidArgument, "ShardCount must be at least 1 (got %d)", n)
		}
	default:
		return apierr.New(apierr.InvalidArgument, "StreamMode %q is invalid: use PROVISIONED or ON_DEMAND", mode)
	}
	if k := in.MaxRecordSizeKiB; k != 0 && (k < MinMaxRecordSizeKiB || k > MaxMaxRecordSizeKiB) {
		return apierr.New(apierr.InvalidArgument, "MaxRecordSizeInKiB %d is out of range: use %d to %d", k, MinMaxRecordSizeKiB, MaxMaxRecordSizeKiB)
	}
	if len(in.Tags) > MaxTagsPerStream {
		return apierr.New(apierr.InvalidArgument, "a stream can have at most %d tags; %d given", MaxTagsPerStream, len(in.Tags))
	}
	if err := validateTags(in.Tags); err != nil {
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.streams[in.Name]; ok {
		return apierr.New(apierr.ResourceInUse, "Stream %s under account %s already exists.", in.Name, s.cfg.accountID)
	}
	open, onDemand := s.openShardCount()
	if !in.Internal && open+n > s.cfg.shardLimit {
		return apierr.New(apierr.LimitExceeded,
			"This request would exceed the shard limit for the account %s in %s. Current limit of shards is %d, %d are open; the request asked for %d more. Use fewer shards or delete streams.",
			s.cfg.accountID, s.cfg.region, s.cfg.shardLimit, open, n)
	}
	if mode == ModeOnDemand && onDemand+1 > s.cfg.onDemandMax {
		return apierr.New(apierr.LimitExceeded,
			"This request would exceed the limit of %d ON_DEMAND streams for the account %s", s.cfg.onDemandMax, s.cfg.accountID)
	}

	now := s.cfg.now().UnixMilli()
	m := streamMeta{
		Name: in.Name, ID: s.nextStreamID,
		CreatedAtMs:    now,
		RetentionHours: DefaultRetentionHours, Mode: mode, Tags: cloneTags(in.Tags),
		Internal: in.Internal,
	}
	m.MaxRecordKiB, m.LargestRecordKiB = in.MaxRecordSizeKiB, in.MaxRecordSizeKiB
	if s.cfg.createDelay > 0 && !in.Internal { // internal streams serve their owner at once
		m.ActiveAtMs = now + s.cfg.createDelay.Milliseconds()
	}
	for i, r := range splitHashSpace(n) {
		m.Shards = append(m.Shards, shardMeta{
			Index: uint32(i), HashStart: r[0].String(), HashEnd: r[1].String(), CreatedAtMs: now,
		})
	}
	st, err := newStream(m)
	if err != nil {
		return err
	}
	for _, sh := range st.shards {
		sh.next.Store(1)
		sh.assign = 1
	}
	if err := s.Writable(); err != nil {
		return err
	}
	// The stream ID counter and the metadata commit together, so an ID is
	// never handed out twice.
	b := s.db.NewBatch()
	defer b.Close()
	var idBuf [4]byte
	binary.BigEndian.PutUint32(idBuf[:], m.ID+1)
	v, err := json.Marshal(&m)
	if err != nil {
		return fmt.Errorf("encode metadata of %s: %w", m.Name, err)
	}
	_ = b.Set(settingKey("next-stream-id"), idBuf[:], nil)
	_ = b.Set(metaKey(m.Name), v, nil)
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("create stream %s: %w", m.Name, err)
	}
	s.nextStreamID++
	s.streams[m.Name] = st
	s.byID[m.ID] = st
	return nil
}

// DeleteStream deletes a stream and all its records. Appends already
// committed are removed with it; appends still queued fail with
// ResourceNotFoundException (they were never acknowledged).
func (s *Store) DeleteStream(ctx context.Context, name string) error {
	return s.deleteStream(ctx, name, true)
}

// deleteStream deletes a stream; unless enforceConsumerDeletion, a stream
// with registered consumers answers ResourceInUseException.
func (s *Store) deleteStream(ctx context.Context, name string, enforceConsumerDeletion bool) error {
	s.mu.Lock()
	st, err := s.lookup(name)
	if err == nil && s.status(&st.meta) == StatusCreating {
		err = apierr.New(apierr.ResourceInUse,
			"Stream %s under account %s is CREATING; delete it once it is ACTIVE", name, s.cfg.accountID)
	}
	if err == nil && !enforceConsumerDeletion {
		err = s.refuseConsumers(&st.meta)
	}
	if err == nil {
		err = s.Writable()
	}
	if err != nil {
		s.mu.Unlock()
		return err
	}
	// The metadata goes first, under the lock, so that a stream created
	// again with this name never races with the deletion; the records are
	// removed by the writer, after every append queued before this point.
	if err := s.db.Delete(metaKey(name), pebble.Sync); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("delete stream %s: %w", name, err)
	}
	delete(s.streams, name)
	delete(s.byID, st.id)
	st.deleted.Store(true)
	s.mu.Unlock()
	// The stream is gone once its metadata is. If the records cannot be
	// removed now (the store is closing), the next Open sweeps them.
	if err := s.enqueue(context.WithoutCancel(ctx), &writeOp{st: st, del: true}); err != nil {
		s.cfg.logger.Warn("records of a deleted stream are removed at the next open", "stream", name, "err", err)
	}
	for _, sh := range st.shards {
		sh.broadcast() // wake readers so they see the deletion
	}
	return nil
}

func (s *Store) describe(st *stream) StreamDescription {
	m := &st.meta
	encType, keyID := describeEncryption(m)
	return StreamDescription{
		Name: m.Name, ARN: s.StreamARN(m.Name), Status: s.status(m), Mode: m.Mode,
		CreatedAt: fromMillis(m.CreatedAtMs), RetentionHours: m.RetentionHours,
		EncryptionType: encType, KeyID: keyID, OpenShardCount: len(st.open),
		ShardLevelMetrics: setOf(m.ShardLevelMetrics).list(),
		MaxRecordSizeKiB:  m.maxRecordSize() >> 10,
		WarmThroughput:    s.warmThroughput(m),
		ConsumerCount:     s.consumerCount(m),
	}
}

func (s *Store) shardInfo(st *stream, sm shardMeta) ShardInfo {
	info := ShardInfo{
		ShardID:             ShardID(sm.Index),
		HashKeyRange:        HashKeyRange{Start: sm.HashStart, End: sm.HashEnd},
		SequenceNumberRange: SequenceNumberRange{Start: formatSeq(st.id, sm.Index, 0)},
	}
	if sm.Parent != nil {
		info.ParentShardID = ShardID(*sm.Parent)
	}
	if sm.AdjacentParent != nil {
		info.AdjacentParentShardID = ShardID(*sm.AdjacentParent)
	}
	if sm.closed() {
		info.SequenceNumberRange.End = formatSeq(st.id, sm.Index, sm.EndingCounter)
	}
	return info
}

// DescribeStream describes a stream with one page of its shards: at most
// limit (default 100) shards after exclusiveStartShardID.
func (s *Store) DescribeStream(ctx context.Context, name string, limit int, exclusiveStartShardID string) (StreamDescription, error) {
	if limit == 0 {
		limit = DefaultDescribeLimit
	}
	if limit < 1 || limit > MaxListLimit {
		return StreamDescription{}, apierr.New(apierr.InvalidArgument, "Limit must be 1 to %d (got %d)", MaxListLimit, limit)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, err := s.lookup(name)
	if err != nil {
		return StreamDescription{}, err
	}
	d := s.describe(st)
	after := -1
	if exclusiveStartShardID != "" {
		idx, ok := parseShardID(exclusiveStartShardID)
		if !ok {
			return StreamDescription{}, apierr.New(apierr.InvalidArgument,
				"ExclusiveStartShardId %q is not a shard id such as shardId-000000000000", exclusiveStartShardID)
		}
		after = int(idx)
	}
	for _, sm := range st.meta.Shards {
		if int(sm.Index) <= after {
			continue
		}
		if len(d.Shards) == limit {
			d.HasMoreShards = true
			break
		}
		d.Shards = append(d.Shards, s.shardInfo(st, sm))
	}
	return d, nil
}

// DescribeStreamSummary describes a stream without its shards.
func (s *Store) DescribeStreamSummary(ctx context.Context, name string) (StreamDescription, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, err := s.lookup(name)
	if err != nil {
		return StreamDescription{}, err
	}
	return s.describe(st), nil
}

func validateRetention(hours int) error {
	if hours < MinRetentionHours {
		return apierr.New(apierr.InvalidArgument,
			"Minimum allowed retention period is %d hours. Requested retention period (%d hours) is too short.", MinRetentionHours, hours)
	}
	if hours > MaxRetentionHours {
		return apierr.New(apierr.InvalidArgument,
			"Maximum allowed retention period is %d hours. Requested retention period (%d hours) is too long.", MaxRetentionHours, hours)
	}
	return nil
}

// IncreaseRetention raises a stream's retention period to hours.
func (s *Store) IncreaseRetention(ctx context.Context, name string, hours int) error {
	if err := validateRetention(hours); err != nil {
		return err
	}
	return s.mutateActive(name, func(m *streamMeta) error {
		if hours < m.RetentionHours {
			return apierr.New(apierr.InvalidArgument,
				"Requested retention period (%d hours) for stream %s can not be shorter than existing retention period (%d hours). Use DecreaseStreamRetentionPeriod API.",
				hours, name, m.RetentionHours)
		}
		m.RetentionHours = hours
		return nil
	})
}

// DecreaseRetention lowers a stream's retention period to hours; the trimmer
// removes records older than that on its next pass.
func (s *Store) DecreaseRetention(ctx context.Context, name string, hours int) error {
	if err := validateRetention(hours); err != nil {
		return err
	}
	return s.mutateActive(name, func(m *streamMeta) error {
		if hours > m.RetentionHours {
			return apierr.New(apierr.InvalidArgument,
				"Requested retention period (%d hours) for stream %s can not be longer than existing retention period (%d hours). Use IncreaseStreamRetentionPeriod API.",
				hours, name, m.RetentionHours)
		}
		m.RetentionHours = hours
		return nil
	})
}

// AddTags adds or overwrites tags; a stream holds at most 50.
func (s *Store) AddTags(ctx context.Context, name string, tags map[string]string) error {
	if len(tags) == 0 {
		return apierr.New(apierr.InvalidArgument, "Tags must hold at least one tag")
	}
	if err := validateTags(tags); err != nil {
		return err
	}
	return s.mutateActive(name, func(m *streamMeta) error {
		if m.Tags = mergeTags(m.Tags, tags); len(m.Tags) > MaxTagsPerStream {
			return apierr.New(apierr.InvalidArgument,
				"Failed to add tags to stream %s under account %s because a given stream cannot have more than %d tags associated with it.",
				name, s.cfg.accountID, MaxTagsPerStream)
		}
		return nil
	})
}

// RemoveTags removes the given tag keys; absent keys are ignored.
func (s *Store) RemoveTags(ctx context.Context, name string, keys []string) error {
	if len(keys) == 0 || len(keys) > MaxTagsPerStream {
		return apierr.New(apierr.InvalidArgument, "TagKeys must hold 1 to %d keys (got %d)", MaxTagsPerStream, len(keys))
	}
	return s.mutateActive(name, func(m *streamMeta) error {
		for _, k := range keys {
			delete(m.Tags, k)
		}
		return nil
	})
}

// Tag is a stream tag.
type Tag struct{ Key, Value string }

// ListTags lists a stream's tags in key order after exclusiveStartKey, at
// most limit (0 means all).
func (s *Store) ListTags(ctx context.Context, name, exclusiveStartKey string, limit int) ([]Tag, bool, error) {
	if limit < 0 || limit > MaxTagsPerStream {
		return nil, false, apierr.New(apierr.InvalidArgument, "Limit must be 1 to %d (got %d)", MaxTagsPerStream, limit)
	}
	if limit == 0 {
		limit = MaxTagsPerStream
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, err := s.lookup(name)
	if err != nil {
		return nil, false, err
	}
	keys := make([]string, 0, len(st.meta.Tags))
	for k := range st.meta.Tags {
		if k > exclusiveStartKey {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	more := len(keys) > limit
	if more {
		keys = keys[:limit]
	}
	tags := make([]Tag, len(keys))
	for i, k := range keys {
		tags[i] = Tag{Key: k, Value: st.meta.Tags[k]}
	}
	return tags, more, nil
}

// Limits reports the account's shard limit and usage (DescribeLimits).
func (s *Store) Limits(ctx context.Context) (Limits, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	open, onDemand := s.openShardCount()
	return Limits{
		ShardLimit: s.cfg.shardLimit, OpenShardCount: open,
		OnDemandStreamCount: onDemand, OnDemandStreamCountLimit: s.cfg.onDemandMax,
	}, nil
}
