package shard

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/spatehq/spate/apierr"
)

// Limits of the resharding actions, as the Kinesis API reference documents
// them.
const (
	// MaxShardsPerStream is the most open shards UpdateShardCount scales a
	// stream to.
	MaxShardsPerStream = 10000
	// DefaultShardCountUpdates is how many UpdateShardCount calls a stream
	// takes within ShardCountUpdateWindow (see WithShardCountUpdates).
	DefaultShardCountUpdates = 10
	ShardCountUpdateWindow   = 24 * time.Hour
)

// ScalingType is UpdateShardCount's scaling type.
type ScalingType string

// UniformScaling is the only scaling type: shards of equal hash-key ranges.
const UniformScaling ScalingType = "UNIFORM_SCALING"

// SplitShardInput names the shard to split and where.
type SplitShardInput struct {
	Stream       string
	ShardToSplit string
	// NewStartingHashKey is the decimal hash key where the upper child
	// starts; the lower child ends just below it. It must lie inside the
	// parent's range and above its first key, so both children are
	// non-empty.
	NewStartingHashKey string
}

// MergeShardsInput names two adjacent open shards to merge. The child's
// ParentShardId is ShardToMerge and its AdjacentParentShardId is
// AdjacentShardToMerge.
type MergeShardsInput struct {
	Stream               string
	ShardToMerge         string
	AdjacentShardToMerge string
}

// UpdateShardCountInput asks for a number of open shards of equal ranges.
type UpdateShardCountInput struct {
	Stream           string
	TargetShardCount int
	ScalingType      ScalingType
}

// UpdateShardCountOutput is UpdateShardCount's answer.
type UpdateShardCountOutput struct {
	Stream            string
	ARN               string
	CurrentShardCount int // open shards before the update
	TargetShardCount  int
}

// WithShardCountUpdates sets how many UpdateShardCount calls a stream takes
// within ShardCountUpdateWindow (default DefaultShardCountUpdates, as
// Kinesis); the next one answers LimitExceededException. 0 or less means no
// limit.
func WithShardCountUpdates(n int) Option { return func(c *config) { c.shardCountUpdates = n } }

// reshardKind says what a reshardOp does.
type reshardKind int

const (
	reshardSplit reshardKind = iota
	reshardMerge
	reshardScale
)

// reshardOp is a split, merge or shard-count update on its way to the
// writer, which applies it in batch order with the appends around it.
type reshardOp struct {
	st   *stream
	kind reshardKind
	// split: a shard and the new starting hash key; merge: a and b.
	a, b   uint32
	at     *big.Int
	target int
	// auto is set for the store's own scaling of ON_DEMAND streams, which
	// the API refuses.
	auto bool
	// out is UpdateShardCount's answer.
	out UpdateShardCountOutput

	// seen is set by the writer, which then clears the stream's
	// resharding mark itself (installReshards).
	seen bool
	// Set by stageReshard for installReshards once the batch commits.
	staged  bool
	meta    streamMeta
	shards  []*shardState
	closing []closingShard
}

// closingShard is a shard a staged reshard closes and its ending counter.
type closingShard struct {
	sh  *shardState
	ctr uint64
}

// ending returns the shard's EndingCounter and whether it is closed.
func (sh *shardState) ending() (uint64, bool) {
	e := sh.end.Load()
	if e == 0 {
		return 0, false
	}
	return e - 1, true
}

// drained reports whether the shard is closed and every record up to its
// ending counter is readable: a reader at the tip has reached its end.
func (sh *shardState) drained() bool {
	end, closed := sh.ending()
	return closed && sh.next.Load() > end
}

// goneShard stands for a shard index whose metadata retention removed, so
// that a stream's shards stay indexed by shard index.
func goneShard(streamID, index uint32) *shardState {
	sh := &shardState{streamID: streamID, index: index, id: ShardID(index), notify: make(chan struct{}), assign: 1}
	// Closed and drained: a reader of an iterator issued before the shard
	// was dropped reaches its end at once (and its children).
	sh.next.Store(1)
	sh.end.Store(1)
	sh.gone.Store(true)
	sh.stats.iteratorAgeMs.Store(-1)
	return sh
}

// openShards returns the open shards of shards, sorted by hash-key start
// (the routing table).
func openShards(shards []*shardState) []*shardState {
	var open []*shardState
	for _, sh := range shards {
		if _, closed := sh.ending(); !closed {
			open = append(open, sh)
		}
	}
	slices.SortFunc(open, func(a, b *shardState) int {
		switch {
		case a.hashStart.less(b.hashStart):
			return -1
		case b.hashStart.less(a.hashStart):
			return 1
		}
		return 0
	})
	return open
}

// entryHash is the hash key an entry routes by.
func entryHash(e Entry) hashKey {
	if e.ExplicitHashKey != "" {
		h, _ := parseExplicitHashKey(e.ExplicitHashKey) // validated by Append
		return h
	}
	return partitionHash(e.PartitionKey)
}

// reroute follows sh's successors to the open shard that takes e now: an
// append routed before a reshard closed sh is stored in the child that
// holds its hash key. Only the writer calls it.
func reroute(sh *shardState, e Entry) *shardState {
	h := entryHash(e)
	for sh.succ != nil {
		next := sh.succ[0]
		for _, c := range sh.succ {
			if !h.less(c.hashStart) && !c.hashEnd.less(h) {
				next = c
			}
		}
		sh = next
	}
	return sh
}

// SplitShard splits an open shard in two at in.NewStartingHashKey. The
// children take the next two shard indexes (the lower range first) and
// name the parent; routing moves to them atomically with the appends
// around the call, and the parent keeps its records, readable until
// retention trims them. The stream is UPDATING for the store's update
// delay afterwards.
func (s *Store) SplitShard(ctx context.Context, in SplitShardInput) error {
	if in.NewStartingHashKey == "" {
		return apierr.New(apierr.Validation,
			"1 validation error detected: Value null at 'newStartingHashKey' failed to satisfy constraint: Member must not be null")
	}
	h, err := parseExplicitHashKey(in.NewStartingHashKey)
	if err != nil {
		return apierr.New(apierr.InvalidArgument,
			"NewStartingHashKey %q is invalid: it must be a decimal integer from 0 to 2^128-1 inside the range of shard %s", in.NewStartingHashKey, in.ShardToSplit)
	}
	idx, err := s.shardArg(in.Stream, in.ShardToSplit)
	if err != nil {
		return err
	}
	return s.reshard(ctx, in.Stream, &reshardOp{kind: reshardSplit, a: idx, at: h.big()})
}

// MergeShards merges two adjacent open shards (their hash-key ranges
// contiguous) into a child that takes the next shard index.
func (s *Store) MergeShards(ctx context.Context, in MergeShardsInput) error {
	a, err := s.shardArg(in.Stream, in.ShardToMerge)
	if err != nil {
		return err
	}
	b, err := s.shardArg(in.Stream, in.AdjacentShardToMerge)
	if err != nil {
		return err
	}
	return s.reshard(ctx, in.Stream, &reshardOp{kind: reshardMerge, a: a, b: b})
}

// UpdateShardCount scales a PROVISIONED stream to in.TargetShardCount open
// shards of equal hash-key ranges, by splits and merges applied at once:
// shards it both creates and closes (short-lived, as in Kinesis) stay in
// the listing, closed and empty, so the lineage from every old shard to the
// new ones is parent by parent. At most double or half the open shards per
// call, at most the store's number of calls per stream within
// ShardCountUpdateWindow.
func (s *Store) UpdateShardCount(ctx context.Context, in UpdateShardCountInput) (UpdateShardCountOutput, error) {
	if in.ScalingType != UniformScaling {
		return UpdateShardCountOutput{}, apierr.New(apierr.Validation,
			"1 validation error detected: Value '%s' at 'scalingType' failed to satisfy constraint: Member must satisfy enum value set: [%s]", in.ScalingType, UniformScaling)
	}
	if in.TargetShardCount < 1 {
		return UpdateShardCountOutput{}, apierr.New(apierr.Validation,
			"1 validation error detected: Value '%d' at 'targetShardCount' failed to satisfy constraint: Member must have value greater than or equal to 1", in.TargetShardCount)
	}
	op := &reshardOp{kind: reshardScale, target: in.TargetShardCount}
	err := s.reshard(ctx, in.Stream, op)
	return op.out, err
}

// shardArg parses a shard ID argument of a reshard.
func (s *Store) shardArg(stream, id string) (uint32, error) {
	idx, ok := parseShardID(id)
	if !ok {
		return 0, apierr.New(apierr.ResourceNotFound,
			"Could not find shard %s in stream %s under account %s.", id, stream, s.cfg.accountID)
	}
	return idx, nil
}

// reshard checks r against the stream, marks the stream as resharding and
// hands r to the writer, which checks it again and applies it.
func (s *Store) reshard(ctx context.Context, name string, r *reshardOp) error {
	s.mu.Lock()
	st, err := s.lookup(name)
	if err == nil {
		err = s.checkReshard(st, r, st.resharding)
	}
	if err == nil {
		_, err = s.planReshard(st, r, s.cfg.now().UnixMilli())
	}
	if err == nil {
		err = s.Writable()
	}
	if err != nil {
		s.mu.Unlock()
		return err
	}
	r.st = st
	st.resharding = true
	s.mu.Unlock()
	err = s.enqueue(ctx, &writeOp{st: st, reshard: r})
	if err != nil && !r.seen {
		// Never handed over: nothing changed.
		s.mu.Lock()
		st.resharding = false
		s.mu.Unlock()
	}
	return err
}

// checkReshard refuses a reshard of a stream that is not ACTIVE (busy: it
// has a reshard queued) or is ON_DEMAND. The caller holds s.mu.
func (s *Store) checkReshard(st *stream, r *reshardOp, busy bool) error {
	if status := s.status(&st.meta); status != StatusActive || busy {
		if status == StatusActive {
			status = StatusUpdating
		}
		return apierr.New(apierr.ResourceInUse,
			"Stream %s under account %s is %s, not ACTIVE; reshard it once it is ACTIVE", st.name, s.cfg.accountID, status)
	}
	if st.meta.Mode == ModeOnDemand && !r.auto {
		return apierr.New(apierr.Validation,
			"Stream %s under account %s is in ON_DEMAND mode: SplitShard, MergeShards and UpdateShardCount are only supported for PROVISIONED streams",
			st.name, s.cfg.accountID)
	}
	return nil
}

// plan is a reshard worked out on a copy of a stream's shard metadata.
type plan struct {
	shards []shardMeta // sorted by index; new shards appended
	closed map[uint32]bool
	next   uint32
	now    int64
	splits int // shards the plan splits: its peak open count is the old one plus this
}

func newPlan(m *streamMeta, now int64) *plan {
	p := &plan{shards: slices.Clone(m.Shards), closed: map[uint32]bool{}, now: now}
	if n := len(p.shards); n > 0 {
		p.next = p.shards[n-1].Index + 1
	}
	return p
}

func (p *plan) pos(idx uint32) int {
	for i, m := range p.shards {
		if m.Index == idx {
			return i
		}
	}
	return -1
}

func (p *plan) isOpen(i int) bool { return !p.shards[i].closed() && !p.closed[p.shards[i].Index] }

// open returns the positions of the open shards in hash-key order.
func (p *plan) open() []int {
	var out []int
	for i := range p.shards {
		if p.isOpen(i) {
			out = append(out, i)
		}
	}
	slices.SortFunc(out, func(a, b int) int { return bigOf(p.shards[a].HashStart).Cmp(bigOf(p.shards[b].HashStart)) })
	return out
}

func bigOf(dec string) *big.Int {
	v, _ := new(big.Int).SetString(dec, 10) // metadata holds valid keys
	return v
}

func (p *plan) add(start, end *big.Int, parent, adjacent *uint32) int {
	p.shards = append(p.shards, shardMeta{
		Index: p.next, Parent: parent, AdjacentParent: adjacent,
		HashStart: start.String(), HashEnd: end.String(), CreatedAtMs: p.now,
	})
	p.next++
	return len(p.shards) - 1
}

// split closes the shard at position i and adds its children: [start,
// at-1] and [at, end], whose positions it returns. at must be inside
// (start, end].
func (p *plan) split(i int, at *big.Int) (lo, hi int) {
	parent := p.shards[i].Index
	p.closed[parent] = true
	p.splits++
	start, end := bigOf(p.shards[i].HashStart), bigOf(p.shards[i].HashEnd)
	return p.add(start, new(big.Int).Sub(at, big.NewInt(1)), &parent, nil), p.add(at, end, &parent, nil)
}

// merge closes the shards at positions i and j, adjacent, and adds their
// child (parent i, adjacent parent j); it returns the child's position.
func (p *plan) merge(i, j int) int {
	a, b := p.shards[i].Index, p.shards[j].Index
	p.closed[a], p.closed[b] = true, true
	start := bigOf(p.shards[i].HashStart)
	if s2 := bigOf(p.shards[j].HashStart); s2.Cmp(start) < 0 {
		start = s2
	}
	end := bigOf(p.shards[i].HashEnd)
	if e2 := bigOf(p.shards[j].HashEnd); e2.Cmp(end) > 0 {
		end = e2
	}
	return p.add(start, end, &a, &b)
}

// adjacent reports whether the ranges at positions i and j are contiguous.
func (p *plan) adjacent(i, j int) bool {
	one := big.NewInt(1)
	next := func(a, b int) bool {
		return new(big.Int).Add(bigOf(p.shards[a].HashEnd), one).Cmp(bigOf(p.shards[b].HashStart)) == 0
	}
	return next(i, j) || next(j, i)
}

// uniform turns the open shards into n shards of equal ranges
// (splitHashSpace): first every boundary that falls inside a shard splits
// it, then the pieces of each target range merge left to right. It walks
// the open shards and the boundaries once, both in hash-key order: the
// writer runs it holding s.mu.
func (p *plan) uniform(n int) {
	bounds := splitHashSpace(n)
	type piece struct {
		pos        int
		start, end *big.Int
	}
	var pieces []piece
	for _, i := range p.open() {
		pieces = append(pieces, piece{i, bigOf(p.shards[i].HashStart), bigOf(p.shards[i].HashEnd)})
	}
	var cut []piece
	k := 1
	for _, pc := range pieces {
		for ; k < n && bounds[k][0].Cmp(pc.end) <= 0; k++ {
			if b := bounds[k][0]; pc.start.Cmp(b) < 0 {
				lo, hi := p.split(pc.pos, b)
				cut = append(cut, piece{lo, pc.start, new(big.Int).Sub(b, big.NewInt(1))})
				pc = piece{hi, b, pc.end}
			}
		}
		cut = append(cut, pc)
	}
	// Every piece now lies inside one target range; merge each range's.
	k = 0
	for i := 0; i < len(cut); {
		for cut[i].start.Cmp(bounds[k][1]) > 0 {
			k++
		}
		acc := cut[i].pos
		j := i + 1
		for ; j < len(cut) && cut[j].end.Cmp(bounds[k][1]) <= 0; j++ {
			acc = p.merge(acc, cut[j].pos)
		}
		i = j
	}
}

// planReshard checks r against st's shards and limits and works out the
// new layout. The caller holds s.mu; the writer calls it again before it
// applies r, for the account's limits may have changed since.
func (s *Store) planReshard(st *stream, r *reshardOp, now int64) (*plan, error) {
	p := newPlan(&st.meta, now)
	openNow := len(st.open)
	account, _ := s.openShardCount()
	if !st.meta.Internal {
		account += s.stagedOpen // reshards of other streams earlier in the writer's group
	}
	shardNotFound := func(idx uint32) error {
		return apierr.New(apierr.ResourceNotFound,
			"Could not find shard %s in stream %s under account %s.", ShardID(idx), st.name, s.cfg.accountID)
	}
	openShard := func(idx uint32, verb string) (int, error) {
		i := p.pos(idx)
		if i < 0 {
			return 0, shardNotFound(idx)
		}
		if !p.isOpen(i) {
			return 0, apierr.New(apierr.ResourceInUse,
				"Shard %s in stream %s under account %s has already been merged or split, and thus is not eligible for %s.",
				ShardID(idx), st.name, s.cfg.accountID, verb)
		}
		return i, nil
	}
	accountLimit := func(peak int) error {
		if st.meta.Internal || account-openNow+peak <= s.cfg.shardLimit {
			return nil
		}
		return apierr.New(apierr.LimitExceeded,
			"This request would exceed the shard limit for the account %s in %s. Current limit of shards is %d, %d are open; the request needs %d more.",
			s.cfg.accountID, s.cfg.region, s.cfg.shardLimit, account, peak-openNow)
	}
	switch r.kind {
	case reshardSplit:
		i, err := openShard(r.a, "splitting")
		if err != nil {
			return nil, err
		}
		start, end := bigOf(p.shards[i].HashStart), bigOf(p.shards[i].HashEnd)
		if r.at.Cmp(start) <= 0 || r.at.Cmp(end) > 0 {
			return nil, apierr.New(apierr.InvalidArgument,
				"NewStartingHashKey %s used in SplitShard() on shard %s in stream %s under account %s is not both greater than one plus the shard's StartingHashKey %s and less than the shard's EndingHashKey %s.",
				r.at, ShardID(r.a), st.name, s.cfg.accountID, start, end)
		}
		if err := accountLimit(openNow + 1); err != nil {
			return nil, err
		}
		p.split(i, r.at)
	case reshardMerge:
		i, err := openShard(r.a, "merging")
		if err != nil {
			return nil, err
		}
		j, err := openShard(r.b, "merging")
		if err != nil {
			return nil, err
		}
		if i == j || !p.adjacent(i, j) {
			return nil, apierr.New(apierr.InvalidArgument,
				"Shards %s and %s in stream %s under account %s are not an adjacent pair of shards eligible for merging",
				ShardID(r.a), ShardID(r.b), st.name, s.cfg.accountID)
		}
		p.merge(i, j)
	case reshardScale:
		n := r.target
		switch {
		case n > 2*openNow:
			return nil, apierr.New(apierr.LimitExceeded,
				"UpdateShardCount of stream %s under account %s to %d shards would more than double its %d open shards; scale in steps of at most double",
				st.name, s.cfg.accountID, n, openNow)
		case 2*n < openNow:
			return nil, apierr.New(apierr.LimitExceeded,
				"UpdateShardCount of stream %s under account %s to %d shards would go below half its %d open shards; scale in steps of at most half",
				st.name, s.cfg.accountID, n, openNow)
		case n > MaxShardsPerStream:
			return nil, apierr.New(apierr.LimitExceeded,
				"UpdateShardCount of stream %s under account %s to %d shards exceeds the limit of %d shards per stream",
				st.name, s.cfg.accountID, n, MaxShardsPerStream)
		}
		if recent := recentUpdates(st.meta.ShardCountUpdatesMs, now); s.cfg.shardCountUpdates > 0 && len(recent) >= s.cfg.shardCountUpdates {
			return nil, apierr.New(apierr.LimitExceeded,
				"Stream %s under account %s has had its shard count updated %d times in the last %v, the most allowed; the next update is possible at %s",
				st.name, s.cfg.accountID, len(recent), ShardCountUpdateWindow, fromMillis(recent[0]).Add(ShardCountUpdateWindow).Format(time.RFC3339))
		}
		p.uniform(n)
		if err := accountLimit(openNow + p.splits); err != nil {
			return nil, err
		}
		r.out = UpdateShardCountOutput{Stream: st.name, ARN: s.StreamARN(st.name), CurrentShardCount: openNow, TargetShardCount: n}
	}
	return p, nil
}

// recentUpdates returns the times of ms within ShardCountUpdateWindow of now.
func recentUpdates(ms []int64, now int64) []int64 {
	out := make([]int64, 0, len(ms)+1)
	for _, t := range ms {
		if now-t < ShardCountUpdateWindow.Milliseconds() {
			out = append(out, t)
		}
	}
	return out
}

// stageReshard applies a reshard in the writer, in batch order: the shards
// it closes end at the last counter the writer assigned them, appends
// staged after this point (in this group or later ones) that were routed to
// them go to their children (reroute), and the new metadata joins the
// batch. installReshards makes it visible once the batch commits. The
// writer holds s.mu for writing.
func (s *Store) stageReshard(b *pebble.Batch, op *writeOp, now int64) {
	r := op.reshard
	st := r.st
	r.seen = true
	if st.deleted.Load() {
		op.err = s.notFound(st.name)
		return
	}
	// Checked again: an update (UpdateStreamMode, say) may have come
	// between the call's checks and this point.
	err := s.checkReshard(st, r, false)
	var p *plan
	if err == nil {
		p, err = s.planReshard(st, r, now)
	}
	if err != nil {
		op.err = err
		return
	}
	shards := slices.Clone(st.shards)
	for _, m := range p.shards {
		if int(m.Index) < len(shards) {
			continue
		}
		sh, err := newShardState(st.id, m)
		if err != nil {
			op.err = fmt.Errorf("reshard %s: %w", st.name, err)
			return
		}
		sh.next.Store(1)
		sh.assign = 1
		shards = append(shards, sh)
	}
	m := st.meta
	m.Shards = p.shards
	for i := range m.Shards {
		sm := &m.Shards[i]
		if !p.closed[sm.Index] {
			continue
		}
		sh := shards[sm.Index]
		// The last counter assigned; a shard that took no record ends
		// where it starts (below its first counter).
		sm.ClosedAtMs, sm.EndingCounter = now, sh.assign-1
		r.closing = append(r.closing, closingShard{sh, sm.EndingCounter})
	}
	if r.kind == reshardScale {
		m.ShardCountUpdatesMs = append(recentUpdates(m.ShardCountUpdatesMs, now), now)
	}
	s.startUpdate(&m)
	v, err := json.Marshal(&m)
	if err != nil {
		op.err = fmt.Errorf("encode metadata of %s: %w", m.Name, err)
		return
	}
	_ = b.Set(metaKey(m.Name), v, nil)
	for _, c := range r.closing {
		for _, sm := range m.Shards {
			if (sm.Parent != nil && *sm.Parent == c.sh.index) || (sm.AdjacentParent != nil && *sm.AdjacentParent == c.sh.index) {
				c.sh.succ = append(c.sh.succ, shards[sm.Index])
			}
		}
	}
	r.staged, r.meta, r.shards = true, m, shards
	if !m.Internal {
		s.stagedOpen += len(p.open()) - len(st.open)
	}
}

// installReshards makes the reshards of a committed group visible (or,
// when the commit failed, forgets them) and releases s.mu, which the
// writer took at the first of them.
func (s *Store) installReshards(ops []*writeOp, err error) {
	var wake []*shardState
	s.stagedOpen = 0
	for _, op := range ops {
		r := op.reshard
		if r == nil {
			continue
		}
		r.st.resharding = false
		if !r.staged {
			continue
		}
		if err != nil {
			for _, c := range r.closing {
				c.sh.succ = nil
			}
			r.staged = false
			continue
		}
		for _, c := range r.closing {
			c.sh.end.Store(c.ctr + 1)
			wake = append(wake, c.sh)
		}
		r.st.meta = r.meta
		r.st.shards = r.shards
		r.st.open = openShards(r.shards)
	}
	s.mu.Unlock()
	for _, sh := range wake {
		sh.broadcast() // readers waiting at the tip see the end
	}
}

// dropTrimmed removes the metadata, high-water mark and any remaining keys
// of closed shards of st that retention has emptied: closed before cutoffMs
// and holding no record. ListShards and DescribeStream stop listing them;
// their children still name them as parents, as in Kinesis.
func (s *Store) dropTrimmed(st *stream, cutoffMs int64) error {
	s.mu.RLock()
	var cands []*shardState
	for _, sm := range st.meta.Shards {
		if sm.closed() && sm.ClosedAtMs < cutoffMs {
			cands = append(cands, st.shards[sm.Index])
		}
	}
	s.mu.RUnlock()
	var empty []*shardState
	for _, sh := range cands {
		_, ok, err := s.firstCounter(sh)
		if err != nil {
			return err
		}
		if !ok {
			empty = append(empty, sh)
		}
	}
	if len(empty) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.deleted.Load() || s.streams[st.name] != st {
		return nil
	}
	drop := map[uint32]bool{}
	for _, sh := range empty {
		drop[sh.index] = true
	}
	m := st.meta
	m.Shards = slices.DeleteFunc(slices.Clone(m.Shards), func(sm shardMeta) bool { return drop[sm.Index] && sm.closed() })
	b := s.db.NewBatch()
	defer b.Close()
	v, err := json.Marshal(&m)
	if err != nil {
		return fmt.Errorf("encode metadata of %s: %w", m.Name, err)
	}
	_ = b.Set(metaKey(m.Name), v, nil)
	for _, sh := range empty {
		_ = b.Delete(highKey(sh.streamID, sh.index), nil)
		_ = b.DeleteRange(recordKey(sh.streamID, sh.index, 0), recordKey(sh.streamID, sh.index+1, 0)[:shardPrefixLen], nil)
		_ = b.DeleteRange(timeKey(sh.streamID, sh.index, 0), timeKey(sh.streamID, sh.index+1, 0)[:shardPrefixLen], nil)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("drop trimmed shards of %s: %w", m.Name, err)
	}
	st.meta = m
	for _, sh := range empty {
		sh.gone.Store(true)
	}
	s.cfg.logger.Debug("dropped closed shards emptied by retention", "stream", m.Name, "shards", len(empty))
	return nil
}

// autoSplit and autoMerge are SplitShard and MergeShards for the store's
// own scaling of ON_DEMAND streams, which the API refuses for them; they
// take shard indexes and are otherwise checked and applied the same way.
func (s *Store) autoSplit(ctx context.Context, name string, shard uint32, at *big.Int) error {
	return s.reshard(ctx, name, &reshardOp{kind: reshardSplit, a: shard, at: at, auto: true})
}

func (s *Store) autoMerge(ctx context.Context, name string, shard, adjacent uint32) error {
	return s.reshard(ctx, name, &reshardOp{kind: reshardMerge, a: shard, b: adjacent, auto: true})
}
