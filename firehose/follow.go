package firehose

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/spatehq/spate/internal/ctxsleep"
	"github.com/spatehq/spate/shard"
	"github.com/spatehq/spate/shard/lineage"
)

// shardFollower runs one worker per source shard as resharding allows: a
// child shard's worker starts only once every parent's worker has delivered
// its parent to the end (checkpoint Finished), so the records of a
// partition key reach the destination in the order they were written
// across a split or a merge.
//
// Children are learned at the end of their parents (ReadResult.ChildShards)
// and, on a (re)start, from the source's listing together with the Finished
// flags of the checkpoints: a crash between the last delivery of a parent
// and its Finished flag reads the parent's end again, which delivers
// nothing, and then starts the children.
type shardFollower struct {
	mu      sync.Mutex
	lin     *lineage.Lineage
	workers []*worker
	wg      sync.WaitGroup
	// newWorker makes the worker of a shard; set once by startLocked.
	newWorker func(shardID string) *worker
}

// running returns the workers started so far.
func (f *shardFollower) running() []*worker {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*worker(nil), f.workers...)
}

// startReady starts the workers of the shards the lineage hands out. The
// caller holds f.mu.
func (f *shardFollower) startReady(ctx context.Context) {
	if ctx.Err() != nil {
		return // stopping: a restart starts them
	}
	for _, id := range f.lin.Take() {
		w := f.newWorker(id)
		f.workers = append(f.workers, w)
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			w.run(ctx)
		}()
	}
}

// shardEnd is what a worker learned at the end of its closed shard.
type shardEnd struct {
	children []shard.ChildShard
}

// ckKey is the key of a shard's checkpoint.
func ckKey(m dsMeta, shardID string) string {
	return fmt.Sprintf("ck/%s/%d/%s", m.Name, m.CreatedAtMs, shardID)
}

// startLocked starts the workers of m. The caller holds s.mu.
func (s *Service) startLocked(m dsMeta) error {
	errs := &errorLog{}
	out, hints, err := s.newDeliverer(m, errs)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(s.ctx)
	ds := &deliveryStream{meta: m, cancel: cancel, done: make(chan struct{}), errs: errs}
	shards, err := s.store.AllShards(ctx, m.SourceStream)
	if err != nil {
		cancel()
		return fmt.Errorf("list shards of source %s: %w", m.SourceStream, err)
	}
	f := &ds.follow
	f.lin = lineage.New()
	f.newWorker = func(id string) *worker {
		return &worker{
			s: s, ds: ds, meta: m, shardID: id, out: out, ckKey: ckKey(m, id),
			sizeMax:  *hints.SizeInMBs << 20,
			interval: time.Duration(*hints.IntervalInSeconds) * time.Second,
		}
	}
	for _, sh := range shards {
		if sh.SequenceNumberRange.End == "" {
			continue // open: not finished
		}
		v, ok, err := s.store.GetValue(valuesNS, ckKey(m, sh.ShardID))
		if err != nil {
			cancel()
			return fmt.Errorf("load checkpoint of %s: %w", sh.ShardID, err)
		}
		var ck checkpoint
		if ok && json.Unmarshal(v, &ck) == nil && ck.Finished {
			f.lin.Finish(sh.ShardID, nil)
		}
	}
	s.streams[m.Name] = ds
	f.mu.Lock()
	f.lin.Listed(lineage.FromInfo(shards))
	f.startReady(ctx)
	f.mu.Unlock()
	go func() {
		// Workers of finished shards return before ctx ends and start
		// their children first, so the group is never empty while a
		// worker may still be added.
		<-ctx.Done()
		f.wg.Wait()
		close(ds.done)
	}()
	return nil
}

// finish marks the worker's shard delivered to its end in its checkpoint
// and starts the children that may start now.
func (w *worker) finish(ctx context.Context, end *shardEnd) {
	w.ckMu.Lock()
	ck := checkpoint{Next: w.ck.Next, Finished: true}
	err := w.saveCheckpoint(ctx, ck)
	if err == nil {
		w.ck = ck
	}
	w.ckMu.Unlock()
	if err != nil {
		return // ctx is done; a restart reads the end again
	}
	w.log().Info("source shard delivered to its end; its children follow", "children", len(end.children))
	f := &w.ds.follow
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lin.Finish(w.shardID, lineage.FromChildren(end.children))
	// A merge's other parent may be a shard this delivery stream has not
	// met yet: the listing says whether it is still to be read.
	for ctx.Err() == nil {
		err := f.lin.Refresh(func() ([]lineage.Shard, error) {
			shards, err := w.s.store.AllShards(ctx, w.meta.SourceStream)
			return lineage.FromInfo(shards), err
		})
		if err == nil {
			break
		}
		w.log().Error("listing the source's shards failed; retrying", "err", err)
		_ = ctxsleep.Sleep(ctx, w.s.cfg.retryMax)
	}
	f.startReady(ctx)
}
