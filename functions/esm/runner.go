package esm

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/internal/ctxsleep"
	"github.com/spatehq/spate/shard"
	"github.com/spatehq/spate/shard/lineage"
)

// runSettings are a mapping's settings as pollers use them.
type runSettings struct {
	fn         string
	batchSize  int
	batching   time.Duration // MaximumBatchingWindowInSeconds
	lanes      int           // ParallelizationFactor (1 with a tumbling window)
	maxAge     time.Duration // 0: infinite
	maxRetries int           // -1: infinite
	bisect     bool
	rbif       bool
	tumbling   time.Duration // 0: none
	match      Matcher       // nil: every record
	onFailure  string        // destination ARN, "" for none
}

func (s *Service) runSettings(r record) (runSettings, error) {
	m := r.Mapping
	rs := runSettings{fn: m.FunctionArn, batchSize: m.BatchSize, lanes: max(1, m.ParallelizationFactor), maxRetries: -1}
	if v := m.MaximumBatchingWindowInSeconds; v != nil {
		rs.batching = time.Duration(*v) * time.Second
	}
	if v := m.MaximumRecordAgeInSeconds; v != nil && *v > 0 {
		rs.maxAge = time.Duration(*v) * time.Second
	}
	if v := m.MaximumRetryAttempts; v != nil {
		rs.maxRetries = *v
	}
	rs.bisect = m.BisectBatchOnFunctionError != nil && *m.BisectBatchOnFunctionError
	for _, t := range m.FunctionResponseTypes {
		rs.rbif = rs.rbif || t == ReportBatchItemFailures
	}
	if v := m.TumblingWindowInSeconds; v != nil && *v > 0 {
		rs.tumbling = time.Duration(*v) * time.Second
		// A window's state is one per shard: its batches run one at a
		// time, in order.
		rs.lanes = 1
	}
	if m.DestinationConfig != nil && m.DestinationConfig.OnFailure != nil {
		rs.onFailure = m.DestinationConfig.OnFailure.Destination
	}
	if fc := m.FilterCriteria; fc != nil && len(fc.Filters) > 0 {
		if s.cfg.compile == nil {
			return rs, fmt.Errorf("the mapping has FilterCriteria but no filter engine is configured")
		}
		patterns := make([]string, len(fc.Filters))
		for i, f := range fc.Filters {
			patterns[i] = f.Pattern
		}
		match, err := s.cfg.compile(patterns)
		if err != nil {
			return rs, fmt.Errorf("compile filters: %w", err)
		}
		rs.match = match
	}
	return rs, nil
}

// runner runs one enabled mapping: a poller per shard that lineage allows
// (parents to their end before children), and a supervisor that replaces
// pollers that stopped showing life.
type runner struct {
	s    *Service
	rec  record
	uuid string
	ctx  context.Context
	stop func() // cancels ctx and waits for run to return
	done chan struct{}

	set   runSettings
	es    eventSource // shardID filled per poller
	pseq  atomic.Int64
	mu    sync.Mutex
	lin   *lineage.Lineage
	polls map[string]*poller // by shard: the current poller
	wg    sync.WaitGroup     // every poller goroutine, replaced ones too
}

func (s *Service) newRunner(r record) *runner {
	ctx, cancel := context.WithCancel(s.ctx)
	run := &runner{s: s, rec: r, uuid: r.Mapping.UUID, ctx: ctx, done: make(chan struct{}),
		lin: lineage.New(), polls: map[string]*poller{},
		es: eventSource{identityARN: s.cfg.identityARN, region: s.cfg.region, streamARN: r.Mapping.EventSourceArn}}
	run.stop = func() {
		cancel()
		<-run.done
	}
	return run
}

func (r *runner) log() *slog.Logger { return r.s.cfg.logger.With("mapping", r.uuid) }

// run starts the pollers and supervises them until the runner stops.
func (r *runner) run() {
	defer close(r.done)
	defer r.wg.Wait()
	set, err := r.s.runSettings(r.rec)
	for err != nil {
		r.problem("PROBLEM: "+err.Error(), err)
		if ctxsleep.Sleep(r.ctx, r.s.cfg.retryMax) != nil {
			return
		}
		set, err = r.s.runSettings(r.rec)
	}
	r.set = set
	for r.ctx.Err() == nil {
		if err := r.start(); err != nil {
			r.problem("PROBLEM: Stream not found or not readable", err)
			if ctxsleep.Sleep(r.ctx, r.s.cfg.retryMax) != nil {
				return
			}
			continue
		}
		break
	}
	t := time.NewTicker(r.s.cfg.leaseTimeout / 4)
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
			r.supervise()
		}
	}
}

func (r *runner) problem(result string, err error) {
	r.s.setResult(r.uuid, result)
	r.log().Error("event source mapping cannot run; retrying", "err", err)
}

// start lists the stream and starts the pollers of the shards that may
// be read now.
func (r *runner) start() error {
	pos, err := r.s.store.Positions(r.ctx, r.rec.Stream)
	if err != nil {
		return err
	}
	if pos.ID != r.rec.StreamID {
		return apierr.New(apierr.ResourceNotFound, "stream %s was deleted and created again; this mapping belonged to the earlier one", r.rec.Stream)
	}
	shards, err := r.s.store.AllShards(r.ctx, r.rec.Stream)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, sh := range shards {
		if sh.SequenceNumberRange.End == "" {
			continue
		}
		ck, err := r.s.loadCheckpoint(r.uuid, sh.ShardID)
		if err != nil {
			return err
		}
		if ck.Finished {
			r.lin.Finish(sh.ShardID, nil)
		}
	}
	r.lin.Listed(lineage.FromInfo(shards))
	r.startReadyLocked()
	return nil
}

// startReadyLocked starts the pollers of the shards lineage hands out.
// The caller holds r.mu.
func (r *runner) startReadyLocked() {
	if r.ctx.Err() != nil {
		return
	}
	for _, id := range r.lin.Take() {
		r.startPollerLocked(id)
	}
}

func (r *runner) startPollerLocked(shardID string) {
	p := r.newPoller(shardID)
	r.polls[shardID] = p
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		p.run()
	}()
}

// supervise replaces the pollers that stopped showing life (see lease.go).
func (r *runner) supervise() {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.s.cfg.now()
	for id, p := range r.polls {
		if p.ctx.Err() != nil || p.alive(now) {
			continue
		}
		r.log().Warn("poller stopped showing life; replacing it", "shard", id, "poller", p.id)
		p.cancel()
		r.startPollerLocked(id)
	}
}

// finished is called by a poller that handled its shard to the end: the
// shard's children may start.
func (r *runner) finished(p *poller, children []shard.ChildShard) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.polls[p.shardID] == p {
		delete(r.polls, p.shardID)
	}
	// The shard is never read again: its series goes, so a mapping does
	// not keep one for every shard its stream ever had.
	r.s.metrics.iteratorAge.DeleteLabelValues(r.uuid, p.shardID)
	r.lin.Finish(p.shardID, lineage.FromChildren(children))
	for r.ctx.Err() == nil {
		err := r.lin.Refresh(func() ([]lineage.Shard, error) {
			shards, err := r.s.store.AllShards(r.ctx, r.rec.Stream)
			return lineage.FromInfo(shards), err
		})
		if err == nil {
			break
		}
		r.log().Error("listing the stream's shards failed; retrying", "err", err)
		_ = ctxsleep.Sleep(r.ctx, r.s.cfg.retryMax)
	}
	r.startReadyLocked()
}

// loadCheckpoint reads a shard's checkpoint (zero when none).
func (s *Service) loadCheckpoint(uuid, shardID string) (checkpoint, error) {
	v, ok, err := s.store.GetValue(valuesNS, checkpointKey(uuid, shardID))
	if err != nil || !ok {
		return checkpoint{}, err
	}
	var ck checkpoint
	if err := json.Unmarshal(v, &ck); err != nil {
		return checkpoint{}, fmt.Errorf("decode checkpoint of %s: %w", shardID, err)
	}
	return ck, nil
}

func (r *runner) newPoller(shardID string) *poller {
	ctx, cancel := context.WithCancel(r.ctx)
	es := r.es
	es.shardID = shardID
	p := &poller{s: r.s, r: r, shardID: shardID, id: strconv.FormatInt(r.pseq.Add(1), 10),
		ctx: ctx, cancel: cancel, set: r.set, es: es, track: newTracker()}
	now := r.s.cfg.now()
	p.life.stamp(now)
	for i := range r.set.lanes {
		l := &lane{p: p, idx: i, wake: make(chan struct{}, 1)}
		l.life.stamp(now)
		p.lanes = append(p.lanes, l)
	}
	return p
}
