package shard

import (
	"context"
	"fmt"
)

// Flush writes what Pebble holds in memory (the memtables) to disk and
// waits until it is there, or until ctx is done. The records it holds stay
// readable throughout; afterwards reads come from the files on disk.
//
// A store never needs it: Pebble flushes on its own when a memtable fills.
// It lets a caller read from a settled store, with no flush running in the
// background, as spate-bench's catch-up measurement does.
func (s *Store) Flush(ctx context.Context) error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed.Load() {
		return errClosed
	}
	done, err := s.db.AsyncFlush()
	if err != nil {
		return fmt.Errorf("flush pebble: %w", err)
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("flush pebble: %w", ctx.Err())
	}
}
