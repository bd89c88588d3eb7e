package shard

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// pebbleOptions returns the Pebble configuration for a stream store. The
// listeners hear Pebble's events, in the order given (a store passes its
// writeStalls' listener, stall.go, and its background-error backoff), before
// Pebble's default handling of them.
func pebbleOptions(cfg config, listeners ...pebble.EventListener) *pebble.Options {
	logger := newPebbleLogger(cfg.logger, time.Now)
	o := &pebble.Options{
		// Larger memtables absorb ingest bursts with fewer flushes; records
		// are written once and read soon after, mostly from the memtable.
		// DefaultMinFreeDisk is sized from this.
		MemTableSize:                64 << 20,
		MemTableStopWritesThreshold: 4,
		L0CompactionThreshold:       4,
		L0StopWritesThreshold:       24,
		Logger:                      logger,
		FS:                          cfg.fs, // nil: the OS's file system
		CacheSize:                   cfg.blockCache,
	}
	// Records are read in long sequential runs (a GetRecords of up to
	// 10,000, a catch-up of a whole shard), not by point lookups, so the
	// files' blocks are 8 times Pebble's default of 4 KiB: a read from disk
	// loads, decompresses and caches an eighth as many blocks. Reading
	// 100 B records from a flushed store took about 1,090 ns per record
	// with 4 KiB blocks and 610 with these (BenchmarkReadIntoSettled); a
	// seek decodes one larger block, a few microseconds.
	for i := range o.Levels {
		o.Levels[i].BlockSize = pebbleBlockSize
	}
	// The block cache holds decompressed blocks. At Pebble's default of 8
	// MiB, a catch-up of anything larger than about 60,000 records of 100
	// B (a few seconds of one busy shard) found none of its blocks there:
	// every block was read again (pread from the page cache) and
	// decompressed, 13% of a gRPC catch-up's CPU, client included
	// (BenchmarkCatchUp/self-grpc, 200,000 records). A reader that follows
	// another over the same records (enhanced fan-out consumers, Firehose
	// and Analytics reading the same stream, a consumer group restarting)
	// now reads them from memory. Pebble allocates the cache outside the
	// Go heap as blocks come in; spate serve counts it in the memory it
	// leaves Pebble (cmd/spate/serve_memory.go).
	if len(listeners) > 0 {
		// Without a listener Pebble logs background errors through Logger
		// and exits on data corruption. TeeEventListener fills the handlers
		// a listener lacks with ones that do nothing, which would silence
		// those, so the defaults are set explicitly before composing.
		base := pebble.EventListener{}
		base.EnsureDefaults(logger)
		o.EventListener = &base
		// AddEventListener puts the listener it is given in front of the
		// ones already set, so adding them last to first makes Pebble call
		// them in the order given: a caller may rely on an earlier listener
		// having seen an event when a later one hears it.
		for i := len(listeners) - 1; i >= 0; i-- {
			o.AddEventListener(listeners[i])
		}
	}
	return o
}

// pebbleBlockSize is the uncompressed size of the blocks of the store's
// files (see pebbleOptions).
const pebbleBlockSize = 32 << 10

// pebbleLogger routes Pebble's own messages to the store's logger at debug
// level (Pebble is chatty about routine flushes) and errors at error level.
//
// Errors are rate-limited per message format: Pebble retries a failed flush
// or compaction at once and logs each failure, which on a full disk was
// thousands of identical lines a second. The first of a kind is logged, then
// at most one per pebbleErrorEvery, saying how many were suppressed.
type pebbleLogger struct {
	l   *slog.Logger
	now func() time.Time

	mu   sync.Mutex
	seen map[string]*errorSeen
}

type errorSeen struct {
	last       time.Time
	suppressed int
}

// pebbleErrorEvery is how often one kind of Pebble error is logged at most.
const pebbleErrorEvery = 10 * time.Second

func newPebbleLogger(l *slog.Logger, now func() time.Time) *pebbleLogger {
	return &pebbleLogger{l: l, now: now, seen: map[string]*errorSeen{}}
}

func (p *pebbleLogger) Infof(format string, args ...any) {
	p.l.Log(context.Background(), slog.LevelDebug, fmt.Sprintf(format, args...), "component", "pebble")
}

func (p *pebbleLogger) Errorf(format string, args ...any) {
	now := p.now()
	p.mu.Lock()
	s, ok := p.seen[format]
	if !ok {
		if len(p.seen) > 1000 { // formats are literals; bound it anyway
			clear(p.seen)
		}
		s = &errorSeen{}
		p.seen[format] = s
	}
	if ok && now.Sub(s.last) < pebbleErrorEvery {
		s.suppressed++
		p.mu.Unlock()
		return
	}
	suppressed := s.suppressed
	s.last, s.suppressed = now, 0
	p.mu.Unlock()
	attrs := []any{"component", "pebble"}
	if suppressed > 0 {
		attrs = append(attrs, "suppressed_since_last", suppressed)
	}
	p.l.Error(fmt.Sprintf(format, args...), attrs...)
}

func (p *pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
	os.Exit(1)
}

// backgroundBackoff slows Pebble's retries of failed flushes and
// compactions. Pebble (v2, DB.flush and handleCompactFailure: "TODO: count
// consecutive flush errors and backoff") reschedules a failed flush at once,
// so a disk that has no room for the flush's sstable made it spin: 60% of a
// core, and Open, which waits for the flush of the replayed WAL, never
// returned. BackgroundError is called on that retry path, so waiting in it
// is the backoff: from backoffMin doubling to backoffMax while failures
// follow each other, reset by the next flush or compaction that succeeds.
//
// The wait holds Pebble's DB.mu (flush calls BackgroundError under it), so
// commits and Close wait with it; reads do not. It is bounded by backoffMax
// and cut short when the store closes.
type backgroundBackoff struct {
	closing <-chan struct{}

	mu   sync.Mutex
	wait time.Duration
}

const (
	backoffMin = 10 * time.Millisecond
	backoffMax = time.Second
)

func (b *backgroundBackoff) eventListener() pebble.EventListener {
	return pebble.EventListener{
		BackgroundError: func(error) { b.fail() },
		FlushEnd: func(info pebble.FlushInfo) {
			if info.Err == nil {
				b.reset()
			}
		},
		CompactionEnd: func(info pebble.CompactionInfo) {
			if info.Err == nil {
				b.reset()
			}
		},
	}
}

func (b *backgroundBackoff) fail() {
	b.mu.Lock()
	b.wait = min(max(2*b.wait, backoffMin), backoffMax)
	d := b.wait
	b.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-b.closing:
	}
}

func (b *backgroundBackoff) reset() {
	b.mu.Lock()
	b.wait = 0
	b.mu.Unlock()
}
