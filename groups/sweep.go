package groups

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/shard"
)

// Run sweeps every WithSweepInterval until ctx ends: a deleted stream's
// groups go (they are unreachable at once, since keys carry the stream's
// ID, and gone from the store within an interval), and so do the records
// of deleted groups' earlier generations and of workers that lapsed.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.sweepInterval)
	defer t.Stop()
	for {
		if err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.cfg.logger.Warn("sweep consumer groups", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweepBatch bounds the deletions of one commit of a sweep.
const sweepBatch = 512

// Sweep removes what no group can reach: groups of deleted streams,
// records of other generations, and lapsed workers' records (a worker
// whose record is gone must JoinGroup again). Each deletion expects the
// record it read, so a record rewritten meanwhile stays.
func (s *Service) Sweep(ctx context.Context) error {
	type metaInfo struct {
		gen  int64
		live bool
	}
	metas := map[string]*metaInfo{} // by "streamID/group"
	var dels []shard.ValueExpect
	var scanErr error
	err := s.store.ScanValues(namespace, "m/", func(k string, v []byte) error {
		var m groupMeta
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("group record %s: %w", k, err)
		}
		metas[k[len("m/"):]] = &metaInfo{gen: m.Gen}
		dels = append(dels, shard.ValueExpect{Key: k, Value: append([]byte(nil), v...)}) // kept below if live
		return nil
	})
	if err != nil {
		return err
	}
	// Which streams still exist, by name then ID.
	kept := dels[:0]
	for _, d := range dels {
		var m groupMeta
		_ = json.Unmarshal(d.Value, &m)
		id := d.Key[len("m/"):]
		sid, _, _ := strings.Cut(id, "/")
		pos, err := s.store.Positions(ctx, m.Stream)
		switch {
		case err == nil && fmt.Sprintf("%08x", pos.ID) == sid:
			metas[id].live = true
			continue
		case err == nil || apierr.Is(err, apierr.ResourceNotFound):
			kept = append(kept, d) // its stream is gone
			// Counters are by name: forget them only when no stream of
			// the name exists (a new one may have a group of this name).
			if err != nil {
				_, group, _ := strings.Cut(id, "/")
				s.forget(m.Stream, group)
			}
		default:
			metas[id].live = true // unknown: keep it this time
			scanErr = err
		}
	}
	dels = kept
	now := s.cfg.now().UnixMilli()
	for _, prefix := range []string{"l/", "w/"} {
		err := s.store.ScanValues(namespace, prefix, func(k string, v []byte) error {
			rest := k[len(prefix):]
			i := strings.LastIndexByte(rest, '/')
			if i < 0 {
				return nil
			}
			var r struct {
				Gen       int64 `json:"gen"`
				ExpiresMs int64 `json:"expiresMs"`
			}
			_ = json.Unmarshal(v, &r)
			m := metas[rest[:i]]
			if m == nil || !m.live || m.gen != r.Gen || (prefix == "w/" && r.ExpiresMs <= now) {
				dels = append(dels, shard.ValueExpect{Key: k, Value: append([]byte(nil), v...)})
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for len(dels) > 0 {
		n := min(len(dels), sweepBatch)
		c := shard.Commit{Namespace: namespace, Expect: dels[:n], Sync: true}
		for _, d := range dels[:n] {
			c.Values = append(c.Values, shard.ValueWrite{Key: d.Key, Delete: true})
		}
		if _, err := s.store.Commit(ctx, c); err != nil && !shard.ConditionFailed(err) {
			return err // a record changed meanwhile: the next sweep sees it again
		}
		dels = dels[n:]
	}
	return scanErr
}
