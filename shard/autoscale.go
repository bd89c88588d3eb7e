package shard

import (
	"cmp"
	"context"
	"errors"
	"math"
	"math/big"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/spatehq/spate/apierr"
)

// Automatic scaling of ON_DEMAND streams.
//
// Kinesis sizes an on-demand stream itself: it adds shards when the write
// traffic grows and, much later, removes them when it falls. The store's
// scaler does the same with the shards' own traffic counters (metrics.go).
// Every AutoScaling.Interval it samples each open shard of each ACTIVE
// ON_DEMAND stream:
//
//   - A shard whose write rate stayed above SplitRecordsPerSec or
//     SplitBytesPerSec (a provisioned shard's limit: 1,000 records or 1 MiB
//     per second) at every sample for SplitAfter is split, at the hash key
//     that halves the traffic of its latest records (the weighted median of
//     their partition keys' hashes), or at the middle of its range when that
//     cannot be told (sealed records, explicit hash keys). A shard whose
//     recent records all hash to one key is not split: no split spreads
//     one key's traffic.
//   - Two adjacent open shards that both stayed below MergeRecordsPerSec
//     and MergeBytesPerSec for MergeAfter are merged, while the stream has
//     more open shards than its minimum: MinShards (4, what CreateStream
//     gives an ON_DEMAND stream), or one shard per MiB/s of its warm
//     throughput when that is more.
//
// At most one reshard per stream per interval. The scaler reshards
// through the same path as SplitShard and MergeShards (the writer applies
// it in batch order, routing moves atomically, the account's shard limit
// holds), except that the stream stays ACTIVE (no update delay), as an
// on-demand stream does in Kinesis; a stream that is UPDATING or has a
// reshard queued is skipped until its next sample, and a shard the scaler
// finds closed is simply gone from the next one. Counts of the scaler's splits and merges are
// the series spate_stream_auto_splits_total and
// spate_stream_auto_merges_total (Collector) and StreamMetrics' AutoSplits
// and AutoMerges.

// AutoScaling configures the scaling of ON_DEMAND streams
// (WithAutoScaling). A zero field takes its default (DefaultAutoScaling).
type AutoScaling struct {
	// Off turns automatic scaling off: ON_DEMAND streams keep their shards.
	Off bool
	// Interval is how often the shards' write rates are sampled.
	Interval time.Duration
	// A shard is hot while it takes more than SplitRecordsPerSec records or
	// SplitBytesPerSec bytes (data plus partition key) per second, and is
	// split once it has been hot for SplitAfter.
	SplitRecordsPerSec float64
	SplitBytesPerSec   float64
	SplitAfter         time.Duration
	// A shard is cold while it takes fewer than MergeRecordsPerSec records
	// and MergeBytesPerSec bytes per second; two adjacent shards cold for
	// MergeAfter are merged.
	MergeRecordsPerSec float64
	MergeBytesPerSec   float64
	MergeAfter         time.Duration
	// MinShards is the fewest open shards merges leave a stream with.
	MinShards int
}

// DefaultAutoScaling returns the defaults: sample every 5 s; split a shard
// above 1,000 records/s or 1 MiB/s for 30 s; merge two neighbours below
// 100 records/s and 100 KiB/s each for 15 minutes; never below 4 open
// shards.
func DefaultAutoScaling() AutoScaling {
	return AutoScaling{
		Interval:           5 * time.Second,
		SplitRecordsPerSec: 1000,
		SplitBytesPerSec:   1 << 20,
		SplitAfter:         30 * time.Second,
		MergeRecordsPerSec: 100,
		MergeBytesPerSec:   100 << 10,
		MergeAfter:         15 * time.Minute,
		MinShards:          OnDemandShardCount,
	}
}

// WithDefaults returns a with its zero fields set from DefaultAutoScaling.
func (a AutoScaling) WithDefaults() AutoScaling {
	d := DefaultAutoScaling()
	set := func(v *float64, def float64) {
		if *v <= 0 {
			*v = def
		}
	}
	setD := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	setD(&a.Interval, d.Interval)
	set(&a.SplitRecordsPerSec, d.SplitRecordsPerSec)
	set(&a.SplitBytesPerSec, d.SplitBytesPerSec)
	setD(&a.SplitAfter, d.SplitAfter)
	set(&a.MergeRecordsPerSec, d.MergeRecordsPerSec)
	set(&a.MergeBytesPerSec, d.MergeBytesPerSec)
	setD(&a.MergeAfter, d.MergeAfter)
	if a.MinShards <= 0 {
		a.MinShards = d.MinShards
	}
	return a
}

// WithAutoScaling configures the scaling of ON_DEMAND streams (spate serve
// --on-demand-* flags). Default: on, with DefaultAutoScaling.
func WithAutoScaling(a AutoScaling) Option {
	return func(c *config) { c.autoScaling = a.WithDefaults() }
}

// splitSamples is how many of a hot shard's latest records the scaler
// reads to find the key that halves its traffic; minSplitSamples the
// fewest usable ones it trusts over the middle of the range.
const (
	splitSamples    = 1000
	minSplitSamples = 16
)

// autoCounts are a stream's automatic reshards since Open.
type autoCounts struct {
	splits, merges atomic.Uint64
}

// scaler is the state of the scaling loop; it belongs to its goroutine.
type scaler struct {
	s   *Store
	cfg AutoScaling
	// shards holds the last sample of every open shard of an ON_DEMAND
	// stream; shards that closed or whose stream left the mode drop out at
	// the next sample.
	shards map[*shardState]*shardSample
	// failed is the last error a stream's reshard failed with, so that a
	// failure that repeats at every sample (the account's shard limit) is
	// logged once.
	failed map[*stream]string
}

// shardSample is a shard's counters at its last sample and how long it
// has been hot or cold.
type shardSample struct {
	at                time.Time
	records, bytes    uint64
	recRate, byteRate float64
	// hotSince and coldSince are the start of the interval since which
	// every sample was hot (cold); zero while the last one was not.
	hotSince, coldSince time.Time
}

func newScaler(s *Store, cfg AutoScaling) *scaler {
	return &scaler{s: s, cfg: cfg, shards: map[*shardState]*shardSample{}, failed: map[*stream]string{}}
}

// scaleLoop samples every cfg.Interval until Close.
func (s *Store) scaleLoop() {
	sc := newScaler(s, s.cfg.autoScaling)
	s.every(sc.cfg.Interval, func() bool {
		sc.sample(s.bg, time.Now())
		return false
	})
}

// scaleCandidate is an ON_DEMAND stream as the scaler sees it.
type scaleCandidate struct {
	st   *stream
	open []*shardState // sorted by hash-key start
	min  int           // the fewest open shards merges leave
	// busy is set for a stream that is UPDATING or has a reshard queued:
	// it is sampled, not resharded.
	busy bool
}

// sample takes one sample of every ON_DEMAND stream at now and reshards
// the ones due. now is the caller's clock (a monotonic one in scaleLoop),
// so tests drive it with times of their choosing.
func (sc *scaler) sample(ctx context.Context, now time.Time) {
	s := sc.s
	s.mu.RLock()
	var cands []scaleCandidate
	for _, st := range s.streams {
		if st.meta.Mode != ModeOnDemand || st.meta.Internal {
			continue
		}
		c := scaleCandidate{st: st, open: st.open, min: sc.cfg.MinShards}
		if w := int(math.Ceil(float64(st.meta.WarmMiBps) * (1 << 20) / sc.cfg.SplitBytesPerSec)); w > c.min {
			c.min = w
		}
		c.busy = s.status(&st.meta) != StatusActive || st.resharding
		cands = append(cands, c)
	}
	s.mu.RUnlock()

	seen := make(map[*shardState]bool, len(sc.shards))
	for _, c := range cands {
		for _, sh := range c.open {
			seen[sh] = true
			sc.observe(sh, now)
		}
	}
	for sh := range sc.shards {
		if !seen[sh] {
			delete(sc.shards, sh)
		}
	}
	for st := range sc.failed {
		if st.deleted.Load() {
			delete(sc.failed, st)
		}
	}
	for _, c := range cands {
		if !c.busy && ctx.Err() == nil {
			sc.scale(ctx, c, now)
		}
	}
}

// observe updates sh's sample at now.
func (sc *scaler) observe(sh *shardState, now time.Time) {
	recs, bytes := sh.stats.incomingRecords.Load(), sh.stats.incomingBytes.Load()
	p, ok := sc.shards[sh]
	if !ok {
		// The first sample only sets the baseline: a rate needs two.
		sc.shards[sh] = &shardSample{at: now, records: recs, bytes: bytes}
		return
	}
	dt := now.Sub(p.at).Seconds()
	if dt <= 0 {
		return
	}
	p.recRate, p.byteRate = float64(recs-p.records)/dt, float64(bytes-p.bytes)/dt
	hot := p.recRate > sc.cfg.SplitRecordsPerSec || p.byteRate > sc.cfg.SplitBytesPerSec
	cold := p.recRate < sc.cfg.MergeRecordsPerSec && p.byteRate < sc.cfg.MergeBytesPerSec
	switch {
	case !hot:
		p.hotSince = time.Time{}
	case p.hotSince.IsZero():
		p.hotSince = p.at
	}
	switch {
	case !cold:
		p.coldSince = time.Time{}
	case p.coldSince.IsZero():
		p.coldSince = p.at
	}
	p.at, p.records, p.bytes = now, recs, bytes
}

// load is a shard's last rate as a share of the split thresholds.
func (sc *scaler) load(p *shardSample) float64 {
	return max(p.recRate/sc.cfg.SplitRecordsPerSec, p.byteRate/sc.cfg.SplitBytesPerSec)
}

// scale splits c's hottest shard that is due, or else merges its coldest
// pair of neighbours that is due.
func (sc *scaler) scale(ctx context.Context, c scaleCandidate, now time.Time) {
	var due []*shardState
	for _, sh := range c.open {
		if p := sc.shards[sh]; p != nil && !p.hotSince.IsZero() && now.Sub(p.hotSince) >= sc.cfg.SplitAfter {
			due = append(due, sh)
		}
	}
	// The hottest first; one that no split helps (a single hot key) leaves
	// the turn to the next.
	slices.SortFunc(due, func(a, b *shardState) int { return cmp.Compare(sc.load(sc.shards[b]), sc.load(sc.shards[a])) })
	for _, sh := range due {
		if at := sc.s.splitPoint(sh, sc.cfg); at != nil {
			err := sc.s.autoSplit(ctx, c.st.name, sh.index, at)
			sc.done(c.st, "split", sh.id, err, &c.st.auto.splits)
			return
		}
	}
	if len(due) > 0 {
		return // hot: no time to merge
	}
	if len(c.open) <= c.min {
		return
	}
	best := -1
	var bestLoad float64
	for i := 0; i+1 < len(c.open); i++ {
		a, b := sc.shards[c.open[i]], sc.shards[c.open[i+1]]
		if !sc.coldFor(a, now) || !sc.coldFor(b, now) {
			continue
		}
		if l := sc.load(a) + sc.load(b); best < 0 || l < bestLoad {
			best, bestLoad = i, l
		}
	}
	if best >= 0 {
		a, b := c.open[best], c.open[best+1]
		err := sc.s.autoMerge(ctx, c.st.name, a.index, b.index)
		sc.done(c.st, "merge", a.id+"+"+b.id, err, &c.st.auto.merges)
	}
}

func (sc *scaler) coldFor(p *shardSample, now time.Time) bool {
	return p != nil && !p.coldSince.IsZero() && now.Sub(p.coldSince) >= sc.cfg.MergeAfter
}

// done counts and logs the outcome of an automatic reshard. A reshard the
// stream refused for now (a user's UpdateStreamMode or another reshard got
// there first, the account's shard limit) is tried again at a later sample
// if it is still due.
func (sc *scaler) done(st *stream, verb, shards string, err error, n *atomic.Uint64) {
	log := sc.s.cfg.logger
	var ae *apierr.Error
	switch {
	case err == nil:
		n.Add(1)
		delete(sc.failed, st)
		log.Info("on-demand scaling", "stream", st.name, "action", verb, "shards", shards)
	case errors.As(err, &ae) && (ae.Code == apierr.ResourceInUse || ae.Code == apierr.ResourceNotFound):
		log.Debug("on-demand scaling deferred", "stream", st.name, "action", verb, "shards", shards, "err", err)
	case sc.failed[st] != err.Error():
		sc.failed[st] = err.Error()
		log.Warn("on-demand scaling failed; retried while due, logged again when the error changes", "stream", st.name, "action", verb, "shards", shards, "err", err)
	}
}

// splitPoint returns where to split sh: the weighted median of the hash
// keys of its latest records, each weighing its share of the split
// thresholds, or the middle of its range when too few of them can be
// hashed. It returns nil when sh should not be split: its range is one key,
// or its recent records all hash to one key.
func (s *Store) splitPoint(sh *shardState, cfg AutoScaling) *big.Int {
	start, end := sh.hashStart.big(), sh.hashEnd.big()
	if start.Cmp(end) >= 0 {
		return nil
	}
	mid := new(big.Int).Add(start, end)
	mid.Add(mid, big.NewInt(1)).Rsh(mid, 1)
	type sample struct {
		h hashKey
		w float64
	}
	var samples []sample
	it, err := s.db.NewIter(&pebble.IterOptions{
		LowerBound: recordKey(sh.streamID, sh.index, 0),
		UpperBound: recordKey(sh.streamID, sh.index+1, 0),
	})
	if err != nil {
		return mid
	}
	for ok := it.Last(); ok && len(samples) < splitSamples; ok = it.Prev() {
		v := it.Value()
		if isSealed(v) {
			continue // its partition key is sealed
		}
		_, pk, data, err := decodeRecordView(v)
		if err != nil {
			continue
		}
		h := partitionHash(pk)
		if h.less(sh.hashStart) || sh.hashEnd.less(h) {
			continue // routed by an explicit hash key, which is not stored
		}
		samples = append(samples, sample{h, 1/cfg.SplitRecordsPerSec + float64(len(pk)+len(data))/cfg.SplitBytesPerSec})
	}
	_ = it.Close()
	if len(samples) < minSplitSamples {
		return mid
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i].h.less(samples[j].h) })
	total := 0.0
	for _, x := range samples {
		total += x.w
	}
	// The upper child starts at the first key where half the weight lies
	// below; it must leave the lower child at least the lowest key.
	acc, k := 0.0, 0
	for k = range samples {
		if acc+samples[k].w > total/2 {
			break
		}
		acc += samples[k].w
	}
	if samples[k].h == samples[0].h {
		k = slices.IndexFunc(samples, func(x sample) bool { return x.h != samples[0].h })
		if k < 0 {
			return nil // one key: no split spreads it
		}
	}
	return samples[k].h.big()
}
