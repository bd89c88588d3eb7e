package analytics

import (
	"context"
	"fmt"
	"slices"

	"github.com/spatehq/spate/shard"
	"github.com/spatehq/spate/shard/lineage"
)

// follower is how a run follows the source's resharding. A shard becomes
// an input once each of its parents has been read to its end, so the rows
// of a partition key are processed in the order they were written. Its
// highest event time starts from its parents' (the lowest of them), so its
// first rows are not late against a watermark the parents never reached,
// and a parent keeps holding the watermark back until its children are
// inputs; then it is dropped.
//
// Children are learned from the last read of their parents
// (ReadResult.ChildShards), and at a start from the source's listing and
// the checkpoint's Finished shards.
type follower struct {
	lin *lineage.Lineage
	// pending holds the start positions of listed shards not yet inputs,
	// pinned at the start of the run and kept in checkpoints (Next).
	pending map[string]shard.Cursor
	// held is the highest event time of each finished shard, which its
	// children start from (checkpoint ShardMax).
	held     map[string]int64
	finished []string
	// last and max are the restored checkpoint's Last and ShardMax, for
	// the shards it names when they become inputs.
	last map[string]string
	max  map[string]int64
}

// startFollowing lists the source and makes inputs of the shards that may
// be read now. A shard starts at its checkpointed position; without one, a
// run's first start uses the start position, and a later one (haveCk) starts
// at TRIM_HORIZON: the shard is a child created since the checkpoint.
func (r *runner) startFollowing(ctx context.Context, ck checkpointHeader, haveCk bool) error {
	a := r.a
	shards, err := r.listShards(ctx)
	if err != nil {
		return err
	}
	f := &r.follow
	*f = follower{lin: lineage.New(), pending: map[string]shard.Cursor{}, held: map[string]int64{}, last: ck.Last, max: ck.ShardMax}
	listed := map[string]bool{}
	for _, sh := range shards {
		listed[sh.ID] = true
	}
	for _, id := range ck.Finished {
		if !listed[id] {
			continue // dropped by retention
		}
		f.lin.Finish(id, nil)
		f.finished = append(f.finished, id)
		if m, ok := ck.ShardMax[id]; ok {
			f.held[id] = m
		}
	}
	f.lin.Listed(shards)
	for _, sh := range shards {
		if f.lin.Finished(sh.ID) {
			continue
		}
		pos := shard.Position{Type: shard.IteratorType(a.plan.Settings.StartPosition)}
		if pos.Type == "" || haveCk {
			pos.Type = shard.TrimHorizon
		}
		if next, ok := ck.Next[sh.ID]; ok {
			pos = shard.Position{Type: shard.AtSequenceNumber, SequenceNumber: next}
		}
		c, err := r.store.Seek(ctx, a.plan.Source, sh.ID, pos)
		if err != nil {
			return fmt.Errorf("seek %s %s: %w", a.plan.Source, sh.ID, err)
		}
		f.pending[sh.ID] = c
	}
	return r.takeReady(ctx)
}

func (r *runner) listShards(ctx context.Context) ([]lineage.Shard, error) {
	shards, err := r.store.AllShards(ctx, r.a.plan.Source)
	if err != nil {
		return nil, fmt.Errorf("list shards of %s: %w", r.a.plan.Source, err)
	}
	return lineage.FromInfo(shards), nil
}

// end records that input i has been read to its end.
func (r *runner) end(i int, children []shard.ChildShard) {
	f := &r.follow
	id := r.shards[i]
	r.ended[i] = true
	for _, c := range children {
		r.kids[i] = append(r.kids[i], c.ShardID)
	}
	f.held[id] = r.p.shardMax[i]
	f.finished = append(f.finished, id)
	f.lin.Finish(id, lineage.FromChildren(children))
	r.dirty = true // the checkpoint records it
}

// takeReady makes inputs of the shards that may be read now, then drops the
// ended inputs whose children are all inputs.
func (r *runner) takeReady(ctx context.Context) error {
	f := &r.follow
	if err := f.lin.Refresh(func() ([]lineage.Shard, error) { return r.listShards(ctx) }); err != nil {
		return err
	}
	for _, id := range f.lin.Take() {
		c, ok := f.pending[id]
		if !ok {
			// A child learned at its parents' end: read from its start.
			var err error
			if c, err = r.store.Seek(ctx, r.a.plan.Source, id, shard.Position{Type: shard.TrimHorizon}); err != nil {
				return fmt.Errorf("seek %s %s: %w", r.a.plan.Source, id, err)
			}
		}
		delete(f.pending, id)
		m, ok := f.max[id]
		if !ok {
			m = f.inherited(id)
		}
		r.shards = append(r.shards, id)
		r.cursors = append(r.cursors, c)
		r.last = append(r.last, f.last[id])
		r.lag = append(r.lag, 0)
		r.lastRec = append(r.lastRec, r.a.svc.cfg.now())
		r.ended = append(r.ended, false)
		r.kids = append(r.kids, nil)
		r.p.addInput(m)
		r.dirty = true
	}
	r.prune()
	return nil
}

// prune drops the ended inputs whose children are all inputs (or
// finished): they no longer hold the watermark back.
func (r *runner) prune() {
	f := &r.follow
	for i := 0; i < len(r.shards); {
		waiting := slices.ContainsFunc(r.kids[i], func(k string) bool { return !f.lin.Started(k) })
		if !r.ended[i] || waiting {
			i++
			continue
		}
		r.shards = slices.Delete(r.shards, i, i+1)
		r.cursors = slices.Delete(r.cursors, i, i+1)
		r.last = slices.Delete(r.last, i, i+1)
		r.lag = slices.Delete(r.lag, i, i+1)
		r.lastRec = slices.Delete(r.lastRec, i, i+1)
		r.ended = slices.Delete(r.ended, i, i+1)
		r.kids = slices.Delete(r.kids, i, i+1)
		r.p.removeInput(i, r)
	}
}

// trimFinished drops from the finished list the shards that retention has
// dropped from the source once all their children are inputs (or
// finished): neither the children's start nor a restart needs them any
// more (a restart's listing counts a shard it no longer shows as
// finished), and the list would otherwise grow with every reshard of a
// long-running application. It lists the source only while such a
// shard is in the list; a failed listing keeps the list as it is (the next
// checkpoint tries again).
func (r *runner) trimFinished(ctx context.Context) {
	f := &r.follow
	var cands []string
	for _, id := range f.finished {
		kids := f.lin.Children(id)
		if len(kids) > 0 && !slices.ContainsFunc(kids, func(k string) bool { return !f.lin.Started(k) }) {
			cands = append(cands, id)
		}
	}
	if len(cands) == 0 {
		return
	}
	shards, err := r.listShards(ctx)
	if err != nil {
		return
	}
	listed := make(map[string]bool, len(shards))
	for _, sh := range shards {
		listed[sh.ID] = true
	}
	f.finished = slices.DeleteFunc(f.finished, func(id string) bool {
		if slices.Contains(cands, id) && !listed[id] {
			delete(f.held, id)
			return true
		}
		return false
	})
}

// inherited is the highest event time a child starts from: the lowest of
// its parents' that read any.
func (f *follower) inherited(id string) int64 {
	m := int64(noWatermark)
	for _, p := range f.lin.Parents(id) {
		if v, ok := f.held[p]; ok && v != noWatermark && (m == noWatermark || v < m) {
			m = v
		}
	}
	return m
}

// save adds the following state to a checkpoint: the pinned positions of
// shards not yet inputs, and the finished shards with their event times.
func (f *follower) save(h *checkpointHeader) {
	for id, c := range f.pending {
		h.Next[id] = c.SequenceNumber()
	}
	h.Finished = slices.Clone(f.finished)
	for _, id := range f.finished {
		if m, ok := f.held[id]; ok && m != noWatermark {
			h.ShardMax[id] = m
		}
	}
}
