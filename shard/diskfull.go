package shard

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dustin/go-humanize"

	"github.com/spatehq/spate/apierr"
)

// DefaultMinFreeDisk is the free space a store keeps on its file system by
// default: writes that would leave less are refused with a *DiskFullError.
//
// It is sized for what Pebble must still be able to write after the last
// accepted record: the WAL of a full memtable (64 MiB, pebbleOptions), the
// sstable its flush writes (at most as large again: records are mostly
// incompressible), the compaction that follows (which rewrites up to a
// level's worth before it deletes its inputs) and the WAL it recycles, with
// room to spare for MANIFEST rewrites and the small metadata writes (stream
// and delivery-stream settings, checkpoints) that the reserve does not gate.
// Pebble preallocates each new WAL at 1.1 × the memtable size (70 MiB), so
// a rotation takes that much at once. Four memtables' worth covers these
// with margin.
const DefaultMinFreeDisk = 256 << 20

// How the reserve decides without a statfs per record: the free-space
// figure is re-read once it is diskCheckInterval old or once
// diskCheckBytes have been admitted since, and every admitted byte counts
// against it in between, so a burst cannot overshoot the reserve. The
// figure is what will be free once every memtable is flushed: the live WAL
// bytes (the memtables' contents, which their flushes write again as
// sstables) are deducted from statfs's answer, and each admitted byte
// counts twice, once in the WAL and once in the sstable of its flush. So
// the reserve is never needed for flushing what was accepted, and a store
// that refuses writes can always flush, close and open again. A write
// that would cross the reserve re-reads the figure first (space may have
// been freed), at most once per diskRecheckInterval, so refusing a flood of
// writes costs at most a few statfs calls a second.
const (
	diskCheckInterval   = time.Second
	diskCheckBytes      = 32 << 20
	diskRecheckInterval = 100 * time.Millisecond
)

// DiskFullError is the refusal of a write that would leave less free space
// than the store's reserve (WithMinFreeDisk) on its file system. Its chain
// holds an *apierr.Error with code ServiceUnavailable, so the APIs answer
// it as the retryable 503 of AWS (Firehose translates it to its
// ServiceUnavailableException). Reads and deletions are never refused.
type DiskFullError struct {
	Dir     string
	Free    uint64 // bytes free once what was accepted is flushed, when the write was refused
	Reserve uint64 // the reserve, WithMinFreeDisk
	Need    uint64 // bytes the refused write needed
	// ReadOnly: the store started on a disk too full to open it for
	// writing (readonly.go); Reserve is then the free space it waits for
	// (not --min-free-disk, which applies once it is writable).
	ReadOnly bool
}

func (e *DiskFullError) msg() string {
	if e.ReadOnly {
		return fmt.Sprintf("the disk is full: the store started with %s free on the data directory's file system, too little to open it for writing, and serves reads only until %s are free to flush its log; free space and writes resume by themselves, as far as --min-free-disk allows",
			humanize.IBytes(e.Free), humanize.IBytes(e.Reserve))
	}
	return fmt.Sprintf("the disk is full: %s free on the data directory's file system, writes stop at %s (--min-free-disk); delete streams or free space, writes resume by themselves",
		humanize.IBytes(e.Free), humanize.IBytes(e.Reserve))
}

func (e *DiskFullError) Error() string { return e.msg() }

// Unwrap gives the API-facing error, so apierr.CodeOf(err) is
// apierr.ServiceUnavailable.
func (e *DiskFullError) Unwrap() error {
	return &apierr.Error{Code: apierr.ServiceUnavailable, Message: e.msg()}
}

// IsDiskFull reports whether err is (or wraps) a *DiskFullError.
func IsDiskFull(err error) bool {
	var e *DiskFullError
	return errors.As(err, &e)
}

// diskReserve refuses writes that would leave less than reserve bytes free
// on the file system of dir. Admit is called for every append with the
// bytes it adds; it is safe for concurrent use.
type diskReserve struct {
	dir     string
	reserve uint64
	fs      vfs.FS
	now     func() time.Time
	logger  *slog.Logger
	// unflushed returns the bytes of WAL not yet flushed (nil: none);
	// set once the database is open, before the first admit.
	unflushed func() uint64
	// readOnly refuses n bytes while the store is read-only (readonly.go);
	// set once at open.
	readOnly func(n uint64) error

	mu sync.Mutex
	// Invariant: avail - written is an under-estimate of the free space
	// now, as long as nothing but this store writes to the file system:
	// admitted bytes are deducted until the next statfs sees them.
	avail   uint64
	written uint64
	checked time.Time // of the last statfs; zero: never
	// unknown: the free space cannot be measured (an FS without statfs);
	// the reserve is then not enforced, and this was logged once.
	unknown bool
	// full is the last decision, so the transitions are logged once each
	// instead of once per refused write.
	full bool
}

func newDiskReserve(dir string, reserve uint64, fs vfs.FS, now func() time.Time, logger *slog.Logger) *diskReserve {
	return &diskReserve{dir: dir, reserve: reserve, fs: fs, now: now, logger: logger}
}

// refresh re-reads the free space. The caller holds r.mu.
func (r *diskReserve) refresh(now time.Time) {
	r.checked = now
	u, err := r.fs.GetDiskUsage(r.dir)
	if err != nil {
		if !r.unknown {
			r.logger.Warn("cannot measure free disk space; the free-space reserve is not enforced", "dir", r.dir, "err", err)
		}
		r.unknown = true
		return
	}
	r.unknown = false
	r.avail, r.written = u.AvailBytes, 0
	if r.unflushed != nil {
		r.avail -= min(r.avail, r.unflushed())
	}
}

// admit reserves n bytes for a write, or refuses it with a *DiskFullError
// when the write would leave less than the reserve free.
func (r *diskReserve) admit(n uint64) error {
	if r == nil {
		return nil
	}
	if r.readOnly != nil {
		if err := r.readOnly(n); err != nil {
			return err
		}
	}
	if r.reserve == 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if r.checked.IsZero() || now.Sub(r.checked) >= diskCheckInterval || r.written >= diskCheckBytes {
		r.refresh(now)
	} else if !r.fits(n) && now.Sub(r.checked) >= diskRecheckInterval {
		r.refresh(now) // space may have been freed since
	}
	if r.unknown || r.fits(n) {
		if r.full {
			r.full = false
			r.logger.Info("free disk space is above the reserve again; writes resume",
				"dir", r.dir, "free_bytes", r.free(), "reserve_bytes", r.reserve)
		}
		r.written += 2 * n // the WAL now, an sstable at the flush
		return nil
	}
	err := &DiskFullError{Dir: r.dir, Free: r.free(), Reserve: r.reserve, Need: n}
	if !r.full {
		r.full = true
		r.logger.Warn("free disk space is below the reserve; refusing writes until it returns",
			"dir", r.dir, "free_bytes", err.Free, "reserve_bytes", r.reserve)
	}
	return err
}

// free is the estimated free space. The caller holds r.mu.
func (r *diskReserve) free() uint64 {
	if r.written >= r.avail {
		return 0
	}
	return r.avail - r.written
}

// fits says whether n more bytes leave the reserve free. The caller holds r.mu.
func (r *diskReserve) fits(n uint64) bool {
	f := r.free()
	return f >= r.reserve && (f-r.reserve)/2 >= n
}
