package shard

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// trimLoop enforces retention every trim interval until the store closes.
func (s *Store) trimLoop() {
	s.every(s.cfg.trimInterval, func() bool {
		if err := s.TrimExpired(context.Background()); err != nil {
			s.cfg.logger.Error("retention trim failed", "err", err)
		}
		return false
	})
}

// every calls f once each d until the store closes or f reports done. It
// is the body of a background goroutine: it releases the count of s.wg the
// caller added before starting it.
func (s *Store) every(d time.Duration, f func() (done bool)) {
	defer s.wg.Done()
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-s.closing:
			return
		case <-t.C:
			if f() {
				return
			}
		}
	}
}

// TrimExpired removes every record older than its stream's retention
// period. It finds each shard's cut-off through the time index and removes
// records with DeleteRange, then compacts the removed span; it never scans
// records. The trimmer calls it periodically; it is exported for tests and
// operators.
func (s *Store) TrimExpired(ctx context.Context) error {
	if s.readOnly.Load() {
		return nil // a trim is a write; upgrade starts the trimmer once writable
	}
	type target struct {
		sh       *shardState
		cutoffMs int64
	}
	type streamCutoff struct {
		st       *stream
		cutoffMs int64
	}
	var targets []target
	var streams []streamCutoff
	now := s.cfg.now()
	s.mu.RLock()
	for _, st := range s.streams {
		cutoff := now.Add(-time.Duration(st.meta.RetentionHours) * time.Hour).UnixMilli()
		streams = append(streams, streamCutoff{st, cutoff})
		for _, sh := range st.shards {
			if !sh.gone.Load() {
				targets = append(targets, target{sh, cutoff})
			}
		}
	}
	s.mu.RUnlock()
	for _, tg := range targets {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.trimShard(ctx, tg.sh, tg.cutoffMs); err != nil {
			return err
		}
	}
	// Closed shards that are now empty leave the listings (reshard.go).
	for _, sc := range streams {
		if err := s.dropTrimmed(sc.st, sc.cutoffMs); err != nil {
			return err
		}
	}
	return nil
}

// trimShard deletes the records of sh that arrived before cutoffMs.
func (s *Store) trimShard(ctx context.Context, sh *shardState, cutoffMs int64) error {
	// Records below keep arrived before the cut-off: the time index entry at
	// or after the cut-off names the first record to keep.
	keep, err := s.counterAtTime(sh, cutoffMs)
	if err != nil {
		return err
	}
	first, ok, err := s.firstCounter(sh)
	if err != nil || !ok || first >= keep {
		return err
	}
	b := s.db.NewBatch()
	defer b.Close()
	recStart := recordKey(sh.streamID, sh.index, 0)
	recEnd := recordKey(sh.streamID, sh.index, keep)
	_ = b.DeleteRange(recStart, recEnd, nil)
	_ = b.DeleteRange(timeKey(sh.streamID, sh.index, 0), timeKey(sh.streamID, sh.index, cutoffMs), nil)
	// Losing a trim in a crash is harmless: the next pass repeats it.
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("trim %s: %w", sh.id, err)
	}
	if err := s.db.Compact(ctx, recStart, recEnd, false); err != nil {
		return fmt.Errorf("compact trimmed span of %s: %w", sh.id, err)
	}
	s.cfg.logger.Debug("trimmed expired records", "stream_id", sh.streamID, "shard", sh.id, "records", keep-first)
	return nil
}

// compactDeleted compacts the spans of a deleted stream's records and time
// index, in the background but started at once, so that their space is
// given back to the file system within seconds: a range deletion alone
// frees nothing until compactions happen to reach the span, which on a full
// disk is exactly when space is needed. Close cancels it. Only the writer
// calls it, after the deletion has committed.
func (s *Store) compactDeleted(st *stream) {
	s.wg.Add(1) // the writer holds a count, so Close's Wait has not returned
	go func() {
		defer s.wg.Done()
		for _, p := range []byte{prefixRecord, prefixTime} {
			start, end := streamSpan(p, st.id)
			if err := s.db.Compact(s.bg, start, end, false); err != nil {
				if s.bg.Err() == nil {
					s.cfg.logger.Warn("compacting the records of a deleted stream failed; retention compactions reclaim them later",
						"stream", st.name, "err", err)
				}
				return
			}
		}
		s.cfg.logger.Debug("compacted the records of a deleted stream", "stream", st.name)
	}()
}

// firstCounter returns the counter of the oldest stored record of sh.
func (s *Store) firstCounter(sh *shardState) (uint64, bool, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{
		LowerBound: recordKey(sh.streamID, sh.index, 0),
		UpperBound: recordKey(sh.streamID, sh.index+1, 0),
	})
	if err != nil {
		return 0, false, fmt.Errorf("find first record of %s: %w", sh.id, err)
	}
	defer it.Close()
	if !it.First() {
		return 0, false, it.Error()
	}
	return binary.BigEndian.Uint64(it.Key()[shardPrefixLen:]), true, nil
}
