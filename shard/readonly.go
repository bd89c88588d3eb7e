package shard

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/dustin/go-humanize"
)

// A store opened on a disk too full to flush its WAL starts read-only.
//
// Opening Pebble read-write replays the WAL into a memtable and waits for
// its flush, which needs room for an sstable as large as the WAL: on a disk
// filled by something else the open never returned, and the server never
// listened. Read-only, Pebble replays the WAL into memory and writes
// nothing, so every acknowledged record is readable at once. Every write is
// refused with a *DiskFullError (ReadOnly set) before it reaches Pebble:
// appends and transactions by the reserve (diskReserve.admit), metadata and
// value writes by Writable; the trimmer skips its passes. A watcher polls
// the free space, and once the flush fits it upgrades the store to
// read-write in place (upgrade), so writes resume by themselves without a
// restart, as far as the reserve then allows.

// readOnlySlack is what a read-write open writes besides the flush's
// sstable: a MANIFEST rewrite, an OPTIONS file, the new WAL (preallocated
// at 1.1 × the first memtable, which starts small).
const readOnlySlack = 16 << 20

// readOnlyPoll is how often a read-only store re-reads the free space.
const readOnlyPoll = time.Second

// freeSpace is the free space on dir's file system; ok is false when it
// cannot be measured (a store that does not exist yet, an FS without
// statfs), and the store then opens read-write as before.
func freeSpace(cfg config, dir string) (free uint64, ok bool) {
	u, err := cfg.fs.GetDiskUsage(dir)
	if err != nil {
		return 0, false
	}
	return u.AvailBytes, true
}

// walFileBytes is the size of every WAL file in dir: an upper bound of
// what a read-write open flushes (an eighth more covers the sstables'
// overhead), since Pebble keeps obsolete WALs for recycling. When it shows
// enough room, the store opens read-write without a read-only probe.
func walFileBytes(cfg config, dir string) uint64 {
	names, err := cfg.fs.List(dir)
	if err != nil {
		return 0
	}
	var n uint64
	for _, name := range names {
		if !strings.HasSuffix(name, ".log") {
			continue
		}
		if fi, err := cfg.fs.Stat(cfg.fs.PathJoin(dir, name)); err == nil {
			n += uint64(fi.Size())
		}
	}
	return n
}

// openNeed is the free space a read-write open needs, given what it must
// flush: the flush writes the replayed memtables again as sstables. A
// read-only database knows their size exactly (its memtables' arenas, at
// least their contents); before one is open, the WAL files bound it.
//
// The reserve is not part of it: a store with room to open but less than
// the reserve free opens read-write, and the reserve refuses appends while
// deletions free space, as it does for a store that filled up running.
func openNeed(flush uint64) uint64 { return flush + readOnlySlack }

// roDBNeed is openNeed for the read-only database db.
func roDBNeed(db *pebble.DB) uint64 { return openNeed(db.Metrics().MemTable.Size) }

// readOnlyError is the refusal of a write while the store is read-only.
// Its figures are the watcher's last (roNeed, roFree), so refusing a flood
// of writes costs no statfs.
func (s *Store) readOnlyError(n uint64) error {
	return &DiskFullError{Dir: s.dir, Free: s.roFree.Load(), Reserve: s.roNeed.Load(), Need: n, ReadOnly: true}
}

// Writable refuses a metadata or value write while the store is
// read-only, with a *DiskFullError. A write that passes may use s.db: the
// store only ever turns read-write, and upgrade swaps s.db before it says
// so. Callers that change their own state before a write (deleting a
// delivery stream or an application) ask it first.
func (s *Store) Writable() error {
	if s.readOnly.Load() {
		return s.readOnlyError(0)
	}
	return nil
}

// ReadOnly reports whether the store serves reads only because the disk
// was too full to open it for writing (see upgrade).
func (s *Store) ReadOnly() bool { return s.readOnly.Load() }

// watchSpace runs while the store is read-only: it polls the free space
// and upgrades the store once a read-write open fits.
func (s *Store) watchSpace() {
	s.every(readOnlyPoll, func() bool {
		done, err := s.upgrade()
		if err != nil {
			s.cfg.logger.Error("reopening the store for writing failed; it stays read-only", "dir", s.dir, "err", err)
			return false
		}
		return done
	})
}

// upgrade reopens a read-only store read-write when the free space allows
// the flush of its WAL, and reports whether the store is read-write.
//
// It holds closeMu for writing throughout, as Close does: every read and
// every enqueue holds it for reading while it uses s.db, so none is in
// flight while the databases are swapped, and none holds an iterator
// across calls. Reads wait for the reopen (the flush of the WAL).
func (s *Store) upgrade() (bool, error) {
	// Only this goroutine replaces s.db, so it reads it without a lock.
	need := roDBNeed(s.db)
	free, _ := freeSpace(s.cfg, s.dir)
	s.roNeed.Store(need)
	s.roFree.Store(free)
	if free < need {
		return false, nil
	}
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed.Load() || !s.readOnly.Load() {
		return !s.closed.Load(), nil
	}
	s.cfg.logger.Info("free disk space has returned; reopening the store for writing",
		"dir", s.dir, "free_bytes", free, "needed_bytes", need)
	if err := s.db.Close(); err != nil {
		s.cfg.logger.Warn("closing the read-only database", "err", err)
	}
	db, err := pebble.Open(s.dir, s.popts(false))
	if err != nil {
		// Without a database the store cannot even read; reopen it
		// read-only so that reads go on.
		ro, roErr := pebble.Open(s.dir, s.popts(true))
		if roErr != nil {
			return false, fmt.Errorf("reopen %s read-only after a failed read-write open (%v): %w", s.dir, err, roErr)
		}
		s.db = ro
		return false, fmt.Errorf("open pebble in %s: %w", s.dir, err)
	}
	s.db = db
	s.mu.Lock()
	err = s.loadWrites()
	s.mu.Unlock()
	if err != nil {
		return false, err
	}
	s.readOnly.Store(false)
	s.wg.Add(1)
	go s.trimLoop()
	s.cfg.logger.Info("the store is writable again; writes resume", "dir", s.dir)
	return true, nil
}

// openReadOnly opens Pebble read-only when the disk is too full for a
// read-write open, logging why; ok is false when a read-write open should
// be tried instead (the store does not exist yet, or it has room).
func openReadOnly(ctx context.Context, cfg config, dir string, popts func(readOnly bool) *pebble.Options) (db *pebble.DB, need, free uint64, ok bool) {
	free, ok = freeSpace(cfg, dir)
	if wal := walFileBytes(cfg, dir); !ok || free >= openNeed(wal+wal/8) {
		return nil, 0, 0, false
	}
	// Perhaps short: a read-only open says what the flush needs.
	db, err := openPebble(ctx, dir, popts(true))
	if err != nil {
		cfg.logger.Debug("no store to open read-only", "dir", dir, "err", err)
		return nil, 0, 0, false
	}
	if need = roDBNeed(db); free >= need {
		_ = db.Close()
		return nil, 0, 0, false
	}
	cfg.logger.Warn("the disk is too full to open the store for writing; serving reads only until space is freed",
		"dir", dir, "free", humanize.IBytes(free), "needed", humanize.IBytes(need))
	return db, need, free, true
}
