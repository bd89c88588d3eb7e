package esm

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/internal/ctxsleep"
	"github.com/spatehq/spate/shard"
	"github.com/spatehq/spate/shard/lineage"
)

// poller handles one shard of a mapping: the reader (its run goroutine)
// reads records and hands each to a lane by partition key; each lane
// batches its records and delivers the batches one at a time, in order
// (deliver.go). With ParallelizationFactor 1 there is one lane, so the
// shard is delivered strictly in order; with N lanes up to N batches run
// at once and a partition key's records are always in one lane, so order
// per key holds.
//
// Invariant: the checkpoint only moves past records that are handled
// (invoked successfully, filtered out or reported as failed) together with
// every record before them in the shard (tracker), so a restart resumes at
// the oldest record some lane had not finished: at least once, never
// backwards.
type poller struct {
	s       *Service
	r       *runner
	shardID string
	id      string
	ctx     context.Context
	cancel  context.CancelFunc
	set     runSettings
	es      eventSource

	life  liveness // the reader's
	lanes []*lane
	track tracker

	leaseMu  sync.Mutex
	leaseVal []byte // the lease value last written; nil once lost

	// ckMu serializes checkpoint writes; ck is the last one written.
	ckMu sync.Mutex
	ck   checkpoint

	// tipAt is when the last read reached the shard's tip (zero when it
	// did not): a tumbling window closes once the reader found the tip
	// after the window's end and windowGrace (lane.next). Guarded by tipMu.
	tipAt time.Time
	tipMu sync.Mutex
}

func (p *poller) now() time.Time { return p.s.cfg.now() }

func (p *poller) log() *slog.Logger {
	return p.s.cfg.logger.With("mapping", p.r.uuid, "shard", p.shardID, "poller", p.id)
}

// alive reports whether every goroutine of the poller shows life.
func (p *poller) alive(now time.Time) bool {
	to := p.s.cfg.leaseTimeout
	if !p.life.alive(now, to) {
		return false
	}
	for _, l := range p.lanes {
		if !l.life.alive(now, to) {
			return false
		}
	}
	return true
}

// consumerName is the name a mapping's reads go by in the store's
// iterator-age metrics (spate_shard_iterator_age_milliseconds).
func consumerName(uuid string) string { return "lambda:" + uuid }

// beatEvery is how often a waiting goroutine wakes to show life.
func (p *poller) beatEvery() time.Duration { return p.s.cfg.leaseTimeout / 4 }

func (p *poller) run() {
	defer p.cancel()
	ctx := p.s.store.WithConsumer(p.ctx, consumerName(p.r.uuid))
	if err := p.acquire(ctx); err != nil {
		if ctx.Err() == nil {
			p.log().Error("cannot take the shard's lease", "err", err)
		}
		return
	}
	defer p.release()
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		p.heartbeat(ctx)
	}()
	defer func() { p.cancel(); <-hbDone }()

	ck, err := p.s.loadCheckpoint(p.r.uuid, p.shardID)
	for err != nil {
		p.log().Error("cannot load the checkpoint; retrying", "err", err)
		if ctxsleep.Sleep(ctx, p.s.cfg.retryMax) != nil {
			return
		}
		ck, err = p.s.loadCheckpoint(p.r.uuid, p.shardID)
	}
	p.ck = ck
	if ck.Finished {
		return // the runner knows it from the checkpoint
	}
	if p.set.tumbling > 0 {
		p.lanes[0].win = ck.Window
	}
	var wg sync.WaitGroup
	for _, l := range p.lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.run(ctx)
		}()
	}
	children, ended := p.read(ctx, ck)
	for _, l := range p.lanes {
		l.end()
	}
	wg.Wait()
	if !ended || ctx.Err() != nil || !p.track.empty() {
		return
	}
	p.ckMu.Lock()
	next := p.ck
	next.Finished, next.Window = true, nil
	err = p.saveCheckpoint(ctx, next)
	p.ckMu.Unlock()
	if err != nil {
		return // stopping; a restart reads the end again
	}
	p.log().Info("shard handled to its end; its children follow", "children", len(children))
	p.r.finished(p, children)
}

// read reads the shard from the checkpoint on and hands the records to the
// lanes, until ctx ends or the shard ends (then it returns the children).
func (p *poller) read(ctx context.Context, ck checkpoint) ([]shard.ChildShard, bool) {
	pos := shard.Position{Type: shard.TrimHorizon}
	switch {
	case ck.After != "":
		pos = shard.Position{Type: shard.AfterSequenceNumber, SequenceNumber: ck.After}
	case ck.Next != "":
		pos = shard.Position{Type: shard.AtSequenceNumber, SequenceNumber: ck.Next}
	}
	var cursor shard.Cursor
	for {
		p.life.stamp(p.now())
		c, err := p.s.store.Seek(ctx, p.r.rec.Stream, p.shardID, pos)
		if err == nil {
			cursor = c
			break
		}
		if children, gone := p.dropped(ctx, err); gone {
			return children, true
		}
		if ctx.Err() != nil {
			return nil, false
		}
		p.log().Error("cannot position the shard; retrying", "err", err)
		if p.wait(ctx, p.s.cfg.retryMax) != nil {
			return nil, false
		}
	}
	// Read ahead at most two batches per lane (records and bytes).
	maxRecs := 2 * p.set.batchSize * len(p.lanes)
	maxBytes := 2 * MaxPayloadBytes * len(p.lanes)
	for ctx.Err() == nil {
		p.life.stamp(p.now())
		room := p.track.room(maxRecs, maxBytes)
		if room == 0 {
			select {
			case <-p.track.freed():
			case <-ctx.Done():
			case <-time.After(p.beatEvery()):
			}
			continue
		}
		res, err := p.s.store.Read(ctx, cursor, min(room, p.set.batchSize), shard.MaxGetRecordsBytes)
		if err != nil {
			if children, gone := p.dropped(ctx, err); gone {
				return children, true
			}
			if ctx.Err() == nil {
				p.r.problem("PROBLEM: Stream not readable", err)
				_ = p.wait(ctx, p.s.cfg.retryMax)
			}
			continue
		}
		p.dispatch(ctx, res.Records)
		cursor = res.Next
		p.tipMu.Lock()
		p.tipAt = time.Time{}
		if res.MillisBehindLatest == 0 {
			p.tipAt = p.now()
		}
		p.tipMu.Unlock()
		if res.ShardEnded {
			return res.ChildShards, true
		}
		if len(res.Records) > 0 && res.MillisBehindLatest > 0 {
			continue
		}
		if len(res.Records) == 0 {
			wait := p.beatEvery()
			if p.set.tumbling > 0 {
				wait = min(wait, windowGrace) // look at the tip again soon: a window may close
			}
			wctx, cancel := context.WithTimeout(ctx, wait)
			err := p.s.store.Wait(wctx, cursor)
			cancel()
			if err != nil && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
				p.log().Error("waiting for records failed; retrying", "err", err)
				_ = p.wait(ctx, p.s.cfg.retryMax)
			}
		}
	}
	return nil, false
}

// wait sleeps d, showing life.
func (p *poller) wait(ctx context.Context, d time.Duration) error {
	p.life.busy(p.now(), d)
	defer p.life.idle(p.now())
	return ctxsleep.Sleep(ctx, d)
}

// tipSeenAfter reports whether the reader found the shard's tip at or
// after t.
func (p *poller) tipSeenAfter(t time.Time) bool {
	p.tipMu.Lock()
	defer p.tipMu.Unlock()
	return !p.tipAt.IsZero() && !p.tipAt.Before(t)
}

// dispatch hands records to their lanes; those the filters reject are
// handled at once (checkpointed, never invoked), as Lambda does.
func (p *poller) dispatch(ctx context.Context, recs []shard.Record) {
	if len(recs) == 0 {
		return
	}
	skipped := false
	// A read goes to each lane in one push, so a lane batches it whole.
	perLane := make([][]item, len(p.lanes))
	for _, rec := range recs {
		size := p.es.recordSize(rec)
		pass := p.set.match == nil || p.set.match(rec)
		idx := p.track.add(rec.SequenceNumber, size, !pass)
		if !pass {
			skipped = true
			continue
		}
		i := 0
		if len(p.lanes) > 1 {
			h := fnv.New32a()
			_, _ = h.Write([]byte(rec.PartitionKey))
			i = int(h.Sum32() % uint32(len(p.lanes)))
		}
		perLane[i] = append(perLane[i], item{rec: rec, idx: idx, size: size})
	}
	for i, items := range perLane {
		if len(items) > 0 {
			p.lanes[i].push(items)
		}
	}
	if skipped {
		_ = p.progress(ctx, nil, nil, false)
	}
}

// progress marks records handled and writes the checkpoint when it moves
// (or when a lane's window state changed: setWin).
func (p *poller) progress(ctx context.Context, idxs []int64, win *windowState, setWin bool) error {
	p.ckMu.Lock()
	defer p.ckMu.Unlock()
	after := p.track.done(idxs)
	next := p.ck
	changed := false
	if after != "" && after > next.After { // same-length sequence numbers compare as strings
		next.After, next.Next = after, ""
		changed = true
	}
	if setWin || (p.set.tumbling == 0 && next.Window != nil) {
		// (An update that turned tumbling windows off drops the state.)
		next.Window = win
		changed = true
	}
	if !changed {
		return nil
	}
	return p.saveCheckpoint(ctx, next)
}

// saveCheckpoint writes ck, fenced by the lease. The caller holds ckMu.
func (p *poller) saveCheckpoint(ctx context.Context, ck checkpoint) error {
	v, _ := json.Marshal(ck)
	for {
		err := p.commitFenced(ctx, []shard.ValueWrite{{Key: checkpointKey(p.r.uuid, p.shardID), Value: v}}, false)
		if err == nil {
			p.ck = ck
			return nil
		}
		if errors.Is(err, errLeaseLost) || ctx.Err() != nil {
			return err
		}
		p.log().Error("saving the checkpoint failed; retrying", "err", err)
		if ctxsleep.Sleep(ctx, p.s.cfg.retryMax) != nil {
			return ctx.Err()
		}
	}
}

// dropped reports whether err says the shard is gone because retention
// dropped it (closed and emptied), and then returns the children the
// listing names for it.
func (p *poller) dropped(ctx context.Context, err error) ([]shard.ChildShard, bool) {
	if !apierr.Is(err, apierr.ResourceNotFound) || ctx.Err() != nil {
		return nil, false
	}
	shards, lerr := p.s.store.AllShards(ctx, p.r.rec.Stream)
	if lerr != nil {
		return nil, false
	}
	var children []shard.ChildShard
	for _, sh := range shards {
		if sh.ShardID == p.shardID {
			return nil, false
		}
		if sh.ParentShardID == p.shardID || sh.AdjacentParentShardID == p.shardID {
			ps := lineage.FromInfo([]shard.ShardInfo{sh})[0].Parents
			children = append(children, shard.ChildShard{ShardID: sh.ShardID, ParentShards: ps, HashKeyRange: sh.HashKeyRange})
		}
	}
	return children, true
}

// tracker follows the records read but not yet handled, in shard order,
// to tell how far the checkpoint may move.
type tracker struct {
	mu    sync.Mutex
	recs  []tracked // from absolute index base on
	base  int64
	bytes int
	free  chan struct{} // cap 1: signalled when room frees up
}

type tracked struct {
	seq  string
	size int
	done bool
}

// freed is signalled when done frees room. Made with the tracker
// (newTracker), so no signal is lost between room and a wait on it.
func (t *tracker) freed() <-chan struct{} { return t.free }

func newTracker() tracker { return tracker{free: make(chan struct{}, 1)} }

// room is how many more records may be read ahead.
func (t *tracker) room(maxRecs, maxBytes int) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.recs) >= maxRecs || t.bytes >= maxBytes {
		return 0
	}
	return maxRecs - len(t.recs)
}

func (t *tracker) empty() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.recs) == 0
}

// add appends a record and returns its absolute index.
func (t *tracker) add(seq string, size int, done bool) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.recs = append(t.recs, tracked{seq: seq, size: size, done: done})
	t.bytes += size
	return t.base + int64(len(t.recs)) - 1
}

// done marks records handled and drops the handled head; it returns the
// sequence number of the last record dropped ("" when none).
func (t *tracker) done(idxs []int64) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, i := range idxs {
		t.recs[i-t.base].done = true
	}
	n := 0
	for n < len(t.recs) && t.recs[n].done {
		t.bytes -= t.recs[n].size
		n++
	}
	if n == 0 {
		return ""
	}
	last := t.recs[n-1].seq
	t.recs = append(t.recs[:0:0], t.recs[n:]...)
	t.base += int64(n)
	select {
	case t.free <- struct{}{}:
	default:
	}
	return last
}
