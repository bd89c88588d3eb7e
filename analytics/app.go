package analytics

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/spatehq/spate/analytics/query"
	"github.com/spatehq/spate/analytics/value"
	"github.com/spatehq/spate/kpl"
	"github.com/spatehq/spate/shard"
)

// Read and checkpoint bounds of a running application.
const (
	readBatch       = 1000    // records per shard per read
	readBytes       = 4 << 20 // bytes per shard per read
	maxPendingRows  = 20000   // rows held for the next checkpoint before one is forced
	maxPendingBytes = 8 << 20

	// idleAfter is how long a caught-up shard must go without records
	// before it stops holding the watermark back. Less, and a shard read a
	// moment before a put commits would let the others' event times close
	// windows its own rows belong to.
	idleAfter = time.Second
)

// appMeta is an application as persisted under "app/<name>".
type appMeta struct {
	Name string `json:"name"`
	SQL  string `json:"sql"`
	// Defaults are the SET statements the source stream's tags added at
	// creation; they stay with the application, so its window state
	// always matches its settings.
	Defaults  string    `json:"defaults,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Stopped   bool      `json:"stopped,omitempty"`
}

// app is one application: its definition, and while it runs, the goroutine
// that runs it.
type app struct {
	svc       *Service
	meta      appMeta
	plan      *query.Plan
	temporary bool

	// life serializes Create's start, Stop, Start and Delete of the
	// application, so none of them can undo another halfway (a Start
	// after a Delete would run an application nothing can stop).
	life    sync.Mutex
	deleted bool          // guarded by life
	gone    chan struct{} // closed when the application is deleted

	mu      sync.Mutex // guards everything below
	status  string
	errMsg  string
	cancel  context.CancelFunc
	done    chan struct{} // closed when the run goroutine exits
	stats   appStats
	subs    map[*subscriber]struct{}
	subbed  chan struct{} // closed at the first subscriber (temporary apps wait for it)
	hadSubs bool
}

// appStats is the last published view of a running application.
type appStats struct {
	inputs                     []InputPosition
	rowsIn, rowsOut, late, bad int64
	watermark                  int64
}

// subscriber receives the rows of a bare SELECT.
type subscriber struct {
	ch  chan Row
	ctx context.Context
}

func newApp(s *Service, m appMeta, plan *query.Plan, temporary bool) *app {
	return &app{svc: s, meta: m, plan: plan, temporary: temporary, status: StatusStarting,
		gone: make(chan struct{}), subs: map[*subscriber]struct{}{}, subbed: make(chan struct{})}
}

func (a *app) stateKey() string { return "state/" + a.meta.Name }

// start launches the run goroutine. The caller holds no lock of a.
func (a *app) start() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(a.svc.ctx)
	a.cancel, a.done = cancel, make(chan struct{})
	a.status, a.errMsg = StatusStarting, ""
	done := a.done
	go func() {
		defer close(done)
		err := a.run(ctx)
		a.mu.Lock()
		defer a.mu.Unlock()
		switch {
		case err != nil && ctx.Err() == nil:
			a.status, a.errMsg = StatusFailed, err.Error()
			a.svc.cfg.logger.Error("analytics application failed", "application", a.meta.Name, "err", err)
		case err != nil:
			// The stop's final checkpoint failed: the next run starts
			// from the one before, which is consistent, but say so.
			a.status, a.errMsg = StatusStopped, err.Error()
			a.svc.cfg.logger.Error("analytics application stopped without its final checkpoint", "application", a.meta.Name, "err", err)
		default:
			a.status = StatusStopped
		}
	}()
}

// stop cancels the run goroutine and waits for its final checkpoint.
func (a *app) stop() {
	a.mu.Lock()
	cancel, done := a.cancel, a.done
	a.cancel = nil
	a.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

func (a *app) setStatus(s string) {
	a.mu.Lock()
	a.status = s
	a.mu.Unlock()
}

// runner is the state of one run of an application.
type runner struct {
	a      *app
	ctx    context.Context // the run's: ends at a stop
	store  *shard.Store
	target string // output stream ("" for a bare SELECT)
	late   string // late-rows stream, if any
	// The inputs, one per shard being read, by index (the pipeline's
	// inputs have the same indexes): added as resharding allows and
	// removed once read to their end and their children are inputs
	// (follow.go).
	shards  []string
	cursors []shard.Cursor
	last    []string
	lag     []int64
	lastRec []time.Time // when each shard last gave a row with an event time
	ended   []bool      // read to its end: no longer read, still holding the watermark
	kids    [][]string  // the children an ended input's last read named
	fresh   bool        // no checkpoint existed when the run began
	p       *pipeline
	follow  follower

	out        []shard.Entry
	lateOut    []shard.Entry
	outBytes   int
	dirty      bool // something changed since the last checkpoint
	lastCommit time.Time
}

func (r *runner) row(cols []value.Column, partitionKey string) {
	// Rows are output: the next checkpoint must commit them, even when no
	// record was read since the last one (a window fired by an idle shard
	// or by the clock).
	r.dirty = true
	if r.target == "" {
		r.a.publish(r.ctx, cols)
		return
	}
	data := value.AppendObject(nil, cols)
	r.out = append(r.out, shard.Entry{PartitionKey: partitionKey, Data: data})
	r.outBytes += len(data)
}

func (r *runner) lateRow(data []byte) {
	if r.late == "" {
		return
	}
	r.dirty = true
	r.lateOut = append(r.lateOut, shard.Entry{PartitionKey: r.a.meta.Name, Data: append([]byte(nil), data...)})
	r.outBytes += len(data)
}

// run runs the application until ctx ends (then it checkpoints and returns
// nil) or it fails.
func (a *app) run(ctx context.Context) error {
	// Reads under this name feed the iterator-age metric of this
	// application, not the anonymous consumer's.
	ctx = a.svc.store.WithConsumer(ctx, "analytics:"+a.meta.Name)
	if a.temporary {
		// A temporary application's rows go to subscribers only; wait for
		// the first so it sees rows from the start position on.
		select {
		case <-a.subbed:
		case <-ctx.Done():
			return nil
		}
	}
	r, err := a.newRunner(ctx)
	if err != nil {
		return err
	}
	if r.fresh {
		// Pin the start positions at once: a LATEST start that crashed
		// before its first checkpoint would otherwise seek LATEST again
		// and skip what arrived in between. It is small; a stop waits
		// for it.
		if err := r.checkpoint(context.WithoutCancel(ctx)); err != nil {
			return err
		}
	}
	a.setStatus(StatusRunning)
	r.publishStats()
	tick := a.svc.cfg.checkpointInterval
	for {
		n, err := r.readPass(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return r.finalCheckpoint()
			}
			return err
		}
		now := a.svc.cfg.now()
		r.p.flush(r)
		r.p.advanceClock(now.UnixMilli(), r)
		if r.dirty && (now.Sub(r.lastCommit) >= tick || len(r.out)+len(r.lateOut) >= maxPendingRows || r.outBytes >= maxPendingBytes) {
			if err := r.checkpoint(ctx); err != nil {
				if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
					// The stop came before the batch was handed to the
					// store, so nothing of it was written: the final
					// checkpoint commits it.
					return r.finalCheckpoint()
				}
				return err
			}
		}
		r.publishStats()
		if n > 0 {
			continue
		}
		if err := r.wait(ctx, min(tick, idleAfter)); err != nil {
			return r.finalCheckpoint()
		}
	}
}

func (a *app) newRunner(ctx context.Context) (*runner, error) {
	s := a.svc
	r := &runner{a: a, ctx: ctx, store: s.store, lastCommit: s.cfg.now()}
	var err error
	if a.plan.Target != "" {
		if r.target, err = s.resolveOutput(a.plan.Target); err != nil {
			return nil, err
		}
	}
	if a.plan.Settings.LateRows != "" {
		if r.late, err = s.resolveOutput(a.plan.Settings.LateRows); err != nil {
			return nil, err
		}
	}
	var ck checkpoint
	haveCk := false
	if !a.temporary {
		b, ok, err := s.store.GetValue(namespace, a.stateKey())
		if err != nil {
			return nil, err
		}
		if ok {
			if ck, err = decodeCheckpoint(b); err != nil {
				return nil, err
			}
		}
		r.fresh, haveCk = !ok, ok
	}
	if r.p, err = newPipeline(a.plan, 0, ck.window); err != nil {
		return nil, fmt.Errorf("restore window state: %w", err)
	}
	if err := r.startFollowing(ctx, ck.checkpointHeader, haveCk); err != nil {
		return nil, err
	}
	r.p.rowsIn, r.p.rowsOut, r.p.late, r.p.bad = ck.RowsIn, ck.RowsOut, ck.Late, ck.Bad
	return r, nil
}

// readPass reads one batch from every shard and processes it, returning how
// many records it read, plus one when a shard ended (its children are read
// next, without waiting).
func (r *runner) readPass(ctx context.Context) (int, error) {
	total := 0
	ended := false
	for i := range r.cursors {
		if r.ended[i] {
			continue
		}
		res, err := r.store.Read(ctx, r.cursors[i], readBatch, readBytes)
		if err != nil {
			return total, fmt.Errorf("read %s %s: %w", r.a.plan.Source, r.shards[i], err)
		}
		r.lag[i] = res.MillisBehindLatest
		now := r.a.svc.cfg.now()
		procMs := now.UnixMilli()
		timed := false
		for _, rec := range res.Records {
			if kpl.IsAggregated(rec.Data) {
				timed = r.processAggregate(i, rec, procMs) || timed
				continue
			}
			if r.p.process(i, rec.Data, rec.PartitionKey, rec.ArrivalTime.UnixMilli(), procMs, r) {
				timed = true
			}
		}
		// A shard is idle when it has given no row with an event time for
		// idleAfter: records that WHERE rejects, or that are bad, say
		// nothing of its event time, and must not hold the watermark
		// back for ever.
		if timed {
			r.lastRec[i] = now
		} else if now.Sub(r.lastRec[i]) >= idleAfter {
			r.p.idle(i, r)
		}
		if res.ShardEnded {
			r.end(i, res.ChildShards)
			ended = true
		}
		if len(res.Records) == 0 {
			continue
		}
		r.cursors[i] = res.Next
		r.last[i] = res.Records[len(res.Records)-1].SequenceNumber
		total += len(res.Records)
		r.dirty = true
	}
	if ended {
		// Children may be read now: the next pass reads them at once.
		if err := r.takeReady(ctx); err != nil {
			return total, err
		}
		total++
	}
	return total, nil
}

// wait blocks until any shard has a record, tick passes (processing-time
// windows and checkpoints move on with the clock), or ctx ends.
func (r *runner) wait(ctx context.Context, tick time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, tick)
	defer cancel()
	woke := make(chan struct{}, len(r.cursors))
	var wg sync.WaitGroup
	for i, c := range r.cursors {
		if r.ended[i] {
			continue // Wait would return at once
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r.store.Wait(wctx, c) == nil {
				woke <- struct{}{}
			}
		}()
	}
	select {
	case <-woke:
	case <-wctx.Done():
	}
	cancel()
	wg.Wait()
	return ctx.Err()
}

// checkpoint commits the pending output rows, late rows, window state and
// input positions in one batch.
func (r *runner) checkpoint(ctx context.Context) error {
	if r.a.temporary {
		r.out, r.lateOut, r.outBytes, r.dirty = r.out[:0], r.lateOut[:0], 0, false
		return nil
	}
	ck := checkpoint{checkpointHeader: checkpointHeader{
		Next: make(map[string]string, len(r.shards)), Last: make(map[string]string, len(r.shards)),
		ShardMax: make(map[string]int64, len(r.shards)),
		RowsIn:   r.p.rowsIn, RowsOut: r.p.rowsOut, Late: r.p.late, Bad: r.p.bad,
	}}
	for i, id := range r.shards {
		ck.Next[id] = r.cursors[i].SequenceNumber()
		if r.last[i] != "" {
			ck.Last[id] = r.last[i]
		}
		if r.p.shardMax[i] != noWatermark {
			ck.ShardMax[id] = r.p.shardMax[i]
		}
	}
	r.trimFinished(ctx)
	r.follow.save(&ck.checkpointHeader)
	if r.p.op != nil {
		ck.window = r.p.op.AppendBinary(nil)
	}
	state, err := ck.encode()
	if err != nil {
		return err
	}
	c := shard.Commit{Namespace: namespace, Values: []shard.ValueWrite{{Key: r.a.stateKey(), Value: state}}}
	if len(r.out) > 0 {
		c.Appends = append(c.Appends, shard.StreamAppend{Stream: r.target, Entries: r.out})
	}
	if len(r.lateOut) > 0 {
		c.Appends = append(c.Appends, shard.StreamAppend{Stream: r.late, Entries: r.lateOut})
	}
	start := time.Now()
	if err := r.commit(ctx, c); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	r.a.svc.metrics.checkpointSeconds.Observe(time.Since(start).Seconds())
	r.out, r.lateOut, r.outBytes, r.dirty = r.out[:0], r.lateOut[:0], 0, false
	r.lastCommit = r.a.svc.cfg.now()
	return nil
}

// Backoff of a checkpoint the store refuses because the disk is full.
const (
	diskFullRetryMin = 100 * time.Millisecond
	diskFullRetryMax = 5 * time.Second
)

// commit commits c, waiting with backoff while the store refuses it for a
// full disk: the application holds its output and input positions until
// space returns, then goes on where it was. A refused Commit wrote nothing,
// so committing the same c again keeps the output exactly once. It gives up
// when ctx ends (a stop; the final checkpoint tries again).
func (r *runner) commit(ctx context.Context, c shard.Commit) error {
	wait, waited := diskFullRetryMin, false
	for {
		_, err := r.store.Commit(ctx, c)
		if !shard.IsDiskFull(err) {
			if waited && err == nil {
				r.a.svc.cfg.logger.Info("analytics checkpoint written after the disk had room again", "application", r.a.meta.Name)
			}
			return err
		}
		if !waited {
			r.a.svc.cfg.logger.Warn("analytics checkpoint refused, the disk is full; retrying with backoff",
				"application", r.a.meta.Name, "err", err)
			waited = true
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		wait = min(2*wait, diskFullRetryMax)
	}
}

// finalCheckpoint is the checkpoint of a stop: it runs even though the
// run's context has ended.
func (r *runner) finalCheckpoint() error {
	r.p.flush(r)
	if !r.dirty {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return r.checkpoint(ctx)
}

// loadStats fills the stats of an application that is not running yet
// from its checkpoint, so that Describe of a stopped application shows
// where it stopped.
func (a *app) loadStats() error {
	b, ok, err := a.svc.store.GetValue(namespace, a.stateKey())
	if err != nil || !ok {
		return err
	}
	ck, err := decodeCheckpoint(b)
	if err != nil {
		return err
	}
	st := appStats{rowsIn: ck.RowsIn, rowsOut: ck.RowsOut, late: ck.Late, bad: ck.Bad, watermark: noWatermark}
	for id := range ck.Next {
		st.inputs = append(st.inputs, InputPosition{ShardID: id, SequenceNumber: ck.Last[id]})
	}
	sort.Slice(st.inputs, func(i, j int) bool { return st.inputs[i].ShardID < st.inputs[j].ShardID })
	a.mu.Lock()
	a.stats = st
	a.mu.Unlock()
	return nil
}

// publishStats copies the runner's counters where Describe reads them.
func (r *runner) publishStats() {
	st := appStats{rowsIn: r.p.rowsIn, rowsOut: r.p.rowsOut, late: r.p.late, bad: r.p.bad, watermark: noWatermark}
	if r.p.op != nil {
		st.watermark = r.p.op.Watermark()
	}
	for i, id := range r.shards {
		st.inputs = append(st.inputs, InputPosition{ShardID: id, SequenceNumber: r.last[i], LagMillis: r.lag[i]})
	}
	r.a.mu.Lock()
	r.a.stats = st
	r.a.mu.Unlock()
}

// publish hands a bare SELECT's row to every subscriber. A slow subscriber
// holds the application back (there is nowhere else for rows to go), but
// not its stop (ctx is the run's); one that has gone away is dropped.
func (a *app) publish(ctx context.Context, cols []value.Column) {
	a.mu.Lock()
	subs := make([]*subscriber, 0, len(a.subs))
	for s := range a.subs {
		subs = append(subs, s)
	}
	a.mu.Unlock()
	if len(subs) == 0 {
		return
	}
	row := append(Row(nil), cols...)
	for _, s := range subs {
		select {
		case s.ch <- row:
		case <-s.ctx.Done():
		case <-ctx.Done():
			return
		}
	}
}
