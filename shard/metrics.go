package shard

import (
	"context"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// shardStats are a shard's traffic counters since Open (they are not
// persisted; Prometheus counters start again at a restart). The writer and
// the readers add to them with atomic operations and nothing else, so the
// hot paths take no lock and allocate nothing; Collector and StreamMetrics
// read them at scrape time.
//
// Bytes are data plus partition key, the size Kinesis counts against its
// limits.
type shardStats struct {
	incomingRecords atomic.Uint64
	incomingBytes   atomic.Uint64
	outgoingRecords atomic.Uint64
	outgoingBytes   atomic.Uint64
	// readThrottled counts GetRecords refused with
	// ProvisionedThroughputExceededException: for the read budget, the
	// throughput limits or an injected fault.
	readThrottled atomic.Uint64
	// writeThrottled counts records refused with
	// ProvisionedThroughputExceededException: for the throughput limits or
	// an injected fault (limits.go).
	writeThrottled atomic.Uint64
	// iteratorAgeMs is the MillisBehindLatest of the last read by a reader
	// that did not name itself (WithConsumer, AcquireConsumer); -1 before
	// the first such read.
	iteratorAgeMs atomic.Int64
}

// staged is what the batch the writer is building adds to a shard. It
// belongs to the writer goroutine alone; commitGroup moves it into the
// shard's stats once the batch has committed, so a failed commit counts
// nothing.
type staged struct {
	records uint64
	bytes   uint64
}

// stage notes one record of size bytes in the batch being built.
func (sh *shardState) stage(size int) {
	sh.staged.records++
	sh.staged.bytes += uint64(size)
}

// settle moves the staged counts into the stats when committed, and drops
// them when the batch failed.
func (sh *shardState) settle(committed bool) {
	if committed && sh.staged.records > 0 {
		sh.stats.incomingRecords.Add(sh.staged.records)
		sh.stats.incomingBytes.Add(sh.staged.bytes)
	}
	sh.staged = staged{}
}

// noteRead counts a successful Read: records and bytes out, and the
// iterator age, under the consumer's name when ctx carries one.
func (s *Store) noteRead(ctx context.Context, sh *shardState, records, bytes int, behindMs int64) {
	if records > 0 {
		sh.stats.outgoingRecords.Add(uint64(records))
		sh.stats.outgoingBytes.Add(uint64(bytes))
	}
	if c, ok := ctx.Value(consumerKey{}).(*consumer); ok && c.store == s {
		c.age(sh).Store(behindMs)
		return
	}
	sh.stats.iteratorAgeMs.Store(behindMs)
}

// consumerKey is the context key of a *consumer.
type consumerKey struct{}

// consumer is a reader that named itself: an in-process one with
// WithConsumer (a Firehose delivery stream, an Analytics application) or a
// subscription with AcquireConsumer (a gRPC subscriber's consumer_name). Its
// iterator age is kept per shard, apart from anonymous readers'.
type consumer struct {
	store *Store
	name  string
	// pinned and holders say who keeps the name registered, and are guarded
	// by the store's consumers.mu. Invariant: the consumer is in
	// consumers.byName exactly while pinned || holders > 0.
	pinned  bool // by WithConsumer, until ForgetConsumer
	holders int  // AcquireConsumer calls not yet released
	// ages maps *shardState to *atomic.Int64. Keys are pointers, so a
	// lookup allocates nothing; a shard's entry is made on its first read.
	ages sync.Map
}

func (c *consumer) age(sh *shardState) *atomic.Int64 {
	if v, ok := c.ages.Load(sh); ok {
		return v.(*atomic.Int64)
	}
	v, _ := c.ages.LoadOrStore(sh, new(atomic.Int64))
	return v.(*atomic.Int64)
}

// consumers is the store's registry of named consumers.
type consumers struct {
	mu     sync.Mutex
	byName map[string]*consumer
}

// lookup returns the registered consumer of that name, registering it if
// need be. The caller holds mu, and pins or holds the consumer before
// unlocking (the registry's invariant).
func (cs *consumers) lookup(s *Store, name string) *consumer {
	if cs.byName == nil {
		cs.byName = map[string]*consumer{}
	}
	c, ok := cs.byName[name]
	if !ok {
		// The registry may keep the name longer than the caller keeps what
		// it came from (a decoded request can alias its wire bytes).
		name = strings.Clone(name)
		c = &consumer{store: s, name: name}
		cs.byName[name] = c
	}
	return c
}

// dropIfUnused unregisters c once nothing keeps it. The caller holds mu.
func (cs *consumers) dropIfUnused(c *consumer) {
	if !c.pinned && c.holders == 0 && cs.byName[c.name] == c {
		delete(cs.byName, c.name)
	}
}

// WithConsumer returns a context under which Read reports the iterator age
// as the consumer name's: the series
// spate_shard_iterator_age_milliseconds{consumer="name"} (and the
// consumer's entry in StreamMetrics) instead of the anonymous one
// (consumer=""), which GetRecords and unnamed Subscribe callers update.
// In-process readers call it once per reading goroutine, with a name such
// as "firehose:orders" or "analytics:app"; the name stays registered until
// ForgetConsumer.
func (s *Store) WithConsumer(ctx context.Context, name string) context.Context {
	s.consumers.mu.Lock()
	defer s.consumers.mu.Unlock()
	c := s.consumers.lookup(s, name)
	c.pinned = true
	return context.WithValue(ctx, consumerKey{}, c)
}

// ForgetConsumer drops a consumer's iterator ages (a deleted delivery
// stream or application), so its series disappear. A name that
// AcquireConsumer holders still read under stays registered until the last
// of them releases it: its series are theirs too.
func (s *Store) ForgetConsumer(name string) {
	s.consumers.mu.Lock()
	defer s.consumers.mu.Unlock()
	if c, ok := s.consumers.byName[name]; ok {
		c.pinned = false
		s.consumers.dropIfUnused(c)
	}
}

// AcquireConsumer is WithConsumer for a reader that lives as long as
// something else does, such as a gRPC subscription that names its consumer:
// the returned context reads under the name, and release gives the name
// up. Holders of one name share its series (several subscriptions of one
// consumer, typically one per shard); when the last one releases, and
// WithConsumer has not pinned the name, the name's series disappear, the
// ages of every shard any holder read included. Until then a shard's age
// is that of its last read under the name.
//
// release is safe to call more than once and from any goroutine; calls
// after the first do nothing. The caller must call it, or the name stays
// registered.
func (s *Store) AcquireConsumer(ctx context.Context, name string) (_ context.Context, release func()) {
	s.consumers.mu.Lock()
	c := s.consumers.lookup(s, name)
	c.holders++
	s.consumers.mu.Unlock()
	var once sync.Once
	release = func() {
		once.Do(func() {
			s.consumers.mu.Lock()
			defer s.consumers.mu.Unlock()
			c.holders--
			s.consumers.dropIfUnused(c)
		})
	}
	return context.WithValue(ctx, consumerKey{}, c), release
}

// ShardMetrics is a shard's counters since the store was opened.
type ShardMetrics struct {
	ShardID         string
	IncomingRecords uint64
	IncomingBytes   uint64 // data plus partition keys
	OutgoingRecords uint64
	OutgoingBytes   uint64 // data plus partition keys
	// ReadThrottled counts GetRecords refused with
	// ProvisionedThroughputExceededException: the read budget was busy
	// (WithReadBudget), the shard's read throughput was spent
	// (WithThroughputLimits), or a fault was injected (WithFaults).
	ReadThrottled uint64
	// WriteThrottled counts records refused with
	// ProvisionedThroughputExceededException: the write throughput was
	// spent (WithThroughputLimits) or a fault was injected (WithFaults).
	WriteThrottled uint64
	// IteratorAgeMs is the MillisBehindLatest of the last anonymous read
	// (GetRecords, Subscribe without a consumer name); -1 before the first
	// one.
	IteratorAgeMs int64
	// ConsumerAgesMs holds the same for each registered named consumer that
	// has read the shard (WithConsumer, AcquireConsumer); nil when none has.
	ConsumerAgesMs map[string]int64
}

// MaxIteratorAgeMs is the largest iterator age of any reader of the shard,
// -1 when nobody has read it (what CloudWatch's Maximum statistic shows).
func (m ShardMetrics) MaxIteratorAgeMs() int64 {
	age := m.IteratorAgeMs
	for _, a := range m.ConsumerAgesMs {
		age = max(age, a)
	}
	return age
}

// StreamMetrics is a stream's per-shard counters, in shard order, and the
// shard-level metrics enabled for export (EnableEnhancedMonitoring).
type StreamMetrics struct {
	Stream            string
	ShardLevelMetrics []ShardLevelMetric
	Shards            []ShardMetrics
}

// StreamMetrics returns a stream's per-shard counters. Unlike the
// Prometheus series it covers every shard whatever metrics are enabled:
// `spate stats` shows them.
func (s *Store) StreamMetrics(ctx context.Context, name string) (StreamMetrics, error) {
	s.mu.RLock()
	st, err := s.lookup(name)
	if err != nil {
		s.mu.RUnlock()
		return StreamMetrics{}, err
	}
	out := StreamMetrics{Stream: st.name, ShardLevelMetrics: setOf(st.meta.ShardLevelMetrics).list()}
	shards := st.shards
	s.mu.RUnlock()
	ages := s.consumerAges()
	out.Shards = make([]ShardMetrics, 0, len(shards))
	for _, sh := range shards {
		if !sh.gone.Load() { // retention dropped it (reshard.go)
			out.Shards = append(out.Shards, sh.snapshot(ages[sh]))
		}
	}
	return out, nil
}

func (sh *shardState) snapshot(consumerAges map[string]int64) ShardMetrics {
	return ShardMetrics{
		ShardID:         sh.id,
		IncomingRecords: sh.stats.incomingRecords.Load(),
		IncomingBytes:   sh.stats.incomingBytes.Load(),
		OutgoingRecords: sh.stats.outgoingRecords.Load(),
		OutgoingBytes:   sh.stats.outgoingBytes.Load(),
		ReadThrottled:   sh.stats.readThrottled.Load(),
		WriteThrottled:  sh.stats.writeThrottled.Load(),
		IteratorAgeMs:   sh.stats.iteratorAgeMs.Load(),
		ConsumerAgesMs:  consumerAges,
	}
}

// consumerAges returns every named consumer's iterator age by shard.
func (s *Store) consumerAges() map[*shardState]map[string]int64 {
	s.consumers.mu.Lock()
	cs := make([]*consumer, 0, len(s.consumers.byName))
	for _, c := range s.consumers.byName {
		cs = append(cs, c)
	}
	s.consumers.mu.Unlock()
	out := map[*shardState]map[string]int64{}
	for _, c := range cs {
		c.ages.Range(func(k, v any) bool {
			sh := k.(*shardState)
			if out[sh] == nil {
				out[sh] = map[string]int64{}
			}
			out[sh][c.name] = v.(*atomic.Int64).Load()
			return true
		})
	}
	return out
}

// Collector returns a Prometheus collector of the store's stream metrics,
// read from the counters at scrape time.
//
// Stream-level series (label stream) always exist, for every stream,
// internal ones ("firehose:orders") included:
//
//	spate_stream_incoming_bytes_total, spate_stream_incoming_records_total,
//	spate_stream_outgoing_bytes_total, spate_stream_outgoing_records_total,
//	spate_stream_write_provisioned_throughput_exceeded_total,
//	spate_stream_read_provisioned_throughput_exceeded_total,
//	spate_stream_iterator_age_milliseconds (the largest of its shards'; only
//	once a shard has been read)
//
// Shard-level series (labels stream, shard) exist only for the metrics
// enabled on the stream with EnableEnhancedMonitoring:
//
//	IncomingBytes           spate_shard_incoming_bytes_total
//	IncomingRecords         spate_shard_incoming_records_total
//	OutgoingBytes           spate_shard_outgoing_bytes_total
//	OutgoingRecords         spate_shard_outgoing_records_total
//	WriteProvisionedThroughputExceeded spate_shard_write_provisioned_throughput_exceeded_total
//	ReadProvisionedThroughputExceeded  spate_shard_read_provisioned_throughput_exceeded_total
//	IteratorAgeMilliseconds spate_shard_iterator_age_milliseconds (also label consumer)
//
// The write throughput-exceeded counters count records refused with
// ProvisionedThroughputExceededException, which only happens under
// WithThroughputLimits or an injected fault (WithFaults); the read ones
// count GetRecords refused with it, under those or because the read budget
// was busy (WithReadBudget). The
// iterator age is a gauge: the MillisBehindLatest of the last read, per
// consumer; consumer is "" for GetRecords and unnamed Subscribe callers,
// and otherwise the name an in-process reader gave WithConsumer or a
// subscription gave AcquireConsumer (a gRPC subscriber's consumer_name). Take
// max by (stream, shard) for CloudWatch's Maximum.
func (s *Store) Collector() prometheus.Collector { return newStreamCollector(s) }

type streamCollector struct {
	s *Store

	streamIn, streamInRecs, streamOut, streamOutRecs, streamWriteExc, streamReadExc, streamAge *prometheus.Desc
	// shard holds the shard-level descriptors in AllShardLevelMetrics order.
	shard [7]*prometheus.Desc
}

func newStreamCollector(s *Store) *streamCollector {
	st := []string{"stream"}
	sh := []string{"stream", "shard"}
	d := prometheus.NewDesc
	return &streamCollector{
		s:              s,
		streamIn:       d("spate_stream_incoming_bytes_total", "Bytes (data plus partition keys) appended to the stream.", st, nil),
		streamInRecs:   d("spate_stream_incoming_records_total", "Records appended to the stream.", st, nil),
		streamOut:      d("spate_stream_outgoing_bytes_total", "Bytes (data plus partition keys) read from the stream.", st, nil),
		streamOutRecs:  d("spate_stream_outgoing_records_total", "Records read from the stream.", st, nil),
		streamWriteExc: d("spate_stream_write_provisioned_throughput_exceeded_total", "Records refused with ProvisionedThroughputExceededException (--enforce-limits, --fault-rate).", st, nil),
		streamReadExc:  d("spate_stream_read_provisioned_throughput_exceeded_total", "GetRecords refused with ProvisionedThroughputExceededException: read throughput spent (--enforce-limits), an injected fault (--fault-rate) or the server's read memory budget busy.", st, nil),
		streamAge:      d("spate_stream_iterator_age_milliseconds", "Largest MillisBehindLatest of the last reads of the stream's shards.", st, nil),
		shard: [7]*prometheus.Desc{
			d("spate_shard_incoming_bytes_total", "Bytes (data plus partition keys) appended to the shard (IncomingBytes).", sh, nil),
			d("spate_shard_incoming_records_total", "Records appended to the shard (IncomingRecords).", sh, nil),
			d("spate_shard_outgoing_bytes_total", "Bytes (data plus partition keys) read from the shard (OutgoingBytes).", sh, nil),
			d("spate_shard_outgoing_records_total", "Records read from the shard (OutgoingRecords).", sh, nil),
			d("spate_shard_write_provisioned_throughput_exceeded_total", "Records refused with ProvisionedThroughputExceededException by the shard (--enforce-limits, --fault-rate).", sh, nil),
			d("spate_shard_read_provisioned_throughput_exceeded_total", "GetRecords of the shard refused with ProvisionedThroughputExceededException: read throughput spent (--enforce-limits), an injected fault (--fault-rate) or the server's read memory budget busy.", sh, nil),
			d("spate_shard_iterator_age_milliseconds", "MillisBehindLatest of the last read of the shard, per consumer (\"\" for GetRecords and unnamed Subscribe callers).",
				[]string{"stream", "shard", "consumer"}, nil),
		},
	}
}

var _ prometheus.Collector = (*streamCollector)(nil)

func (c *streamCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.streamIn, c.streamInRecs, c.streamOut, c.streamOutRecs, c.streamWriteExc, c.streamReadExc, c.streamAge} {
		ch <- d
	}
	for _, d := range c.shard {
		ch <- d
	}
}

// scrapeStream is one stream as a scrape sees it.
type scrapeStream struct {
	name    string
	enabled metricSet
	shards  []*shardState
}

func (c *streamCollector) Collect(ch chan<- prometheus.Metric) {
	// Copy what is needed under the lock, and send without it: a slow
	// scrape never holds up stream changes.
	c.s.mu.RLock()
	streams := make([]scrapeStream, 0, len(c.s.streams))
	for _, st := range c.s.streams {
		streams = append(streams, scrapeStream{name: st.name, enabled: setOf(st.meta.ShardLevelMetrics), shards: st.shards})
	}
	c.s.mu.RUnlock()
	sort.Slice(streams, func(i, j int) bool { return strings.Compare(streams[i].name, streams[j].name) < 0 })
	ages := c.s.consumerAges()

	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for _, st := range streams {
		var total ShardMetrics
		streamAge := int64(-1)
		for _, sh := range st.shards {
			m := sh.snapshot(ages[sh])
			total.IncomingRecords += m.IncomingRecords
			total.IncomingBytes += m.IncomingBytes
			total.OutgoingRecords += m.OutgoingRecords
			total.OutgoingBytes += m.OutgoingBytes
			total.ReadThrottled += m.ReadThrottled
			total.WriteThrottled += m.WriteThrottled
			streamAge = max(streamAge, m.MaxIteratorAgeMs())

			values := [6]uint64{m.IncomingBytes, m.IncomingRecords, m.OutgoingBytes, m.OutgoingRecords, m.WriteThrottled, m.ReadThrottled}
			for i, v := range values {
				if st.enabled.has(AllShardLevelMetrics[i]) {
					counter(c.shard[i], v, st.name, m.ShardID)
				}
			}
			if st.enabled.has(MetricIteratorAgeMilliseconds) {
				age := c.shard[6]
				if m.IteratorAgeMs >= 0 {
					ch <- prometheus.MustNewConstMetric(age, prometheus.GaugeValue, float64(m.IteratorAgeMs), st.name, m.ShardID, "")
				}
				for name, a := range m.ConsumerAgesMs {
					ch <- prometheus.MustNewConstMetric(age, prometheus.GaugeValue, float64(a), st.name, m.ShardID, name)
				}
			}
		}
		counter(c.streamIn, total.IncomingBytes, st.name)
		counter(c.streamInRecs, total.IncomingRecords, st.name)
		counter(c.streamOut, total.OutgoingBytes, st.name)
		counter(c.streamOutRecs, total.OutgoingRecords, st.name)
		counter(c.streamWriteExc, total.WriteThrottled, st.name)
		counter(c.streamReadExc, total.ReadThrottled, st.name)
		if streamAge >= 0 {
			ch <- prometheus.MustNewConstMetric(c.streamAge, prometheus.GaugeValue, float64(streamAge), st.name)
		}
	}
}
