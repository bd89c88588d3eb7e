package shard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/spatehq/spate/apierr"
)

// scrape gathers s's collector into "name{label=value,...}" → value, labels
// in name order.
func scrapeStreams(t *testing.T, s *Store) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(s.Collector()); err != nil {
		t.Fatalf("register collector: %v", err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%s", l.GetName(), l.GetValue()))
			}
			key := f.GetName() + "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

// names returns the metric names with a series in got.
func seriesNames(got map[string]float64, prefix string) []string {
	var out []string
	for k := range got {
		if name, _, _ := strings.Cut(k, "{"); strings.HasPrefix(name, prefix) && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func TestCountersCountCommittedAndReadRecords(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "")
	mustCreate(t, s, "orders", 1)
	// Two appends of two records: 3+2 and 4+2 bytes of data plus key each.
	for range 2 {
		if _, err := s.Append(ctx, "orders", []Entry{
			{PartitionKey: "pk", Data: []byte("abc")},
			{PartitionKey: "pk", Data: []byte("abcd")},
		}); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	// A rejected append counts nothing.
	if _, err := s.Append(ctx, "orders", []Entry{{PartitionKey: "", Data: []byte("x")}}); err == nil {
		t.Fatal("Append without a partition key succeeded")
	}
	c, err := s.Seek(ctx, "orders", ShardID(0), Position{Type: TrimHorizon})
	if err != nil {
		t.Fatalf("Seek: %v", err)
	}
	res, err := s.Read(ctx, c, 3, MaxGetRecordsBytes) // three of four records
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(res.Records) != 3 {
		t.Fatalf("Read returned %d records, want 3", len(res.Records))
	}
	m, err := s.StreamMetrics(ctx, "orders")
	if err != nil {
		t.Fatalf("StreamMetrics: %v", err)
	}
	got := m.Shards[0]
	want := ShardMetrics{
		ShardID:         ShardID(0),
		IncomingRecords: 4, IncomingBytes: 2 * (5 + 6),
		OutgoingRecords: 3, OutgoingBytes: 5 + 6 + 5,
		IteratorAgeMs: res.MillisBehindLatest,
	}
	if got.ShardID != want.ShardID || got.IncomingRecords != want.IncomingRecords || got.IncomingBytes != want.IncomingBytes ||
		got.OutgoingRecords != want.OutgoingRecords || got.OutgoingBytes != want.OutgoingBytes || got.IteratorAgeMs != want.IteratorAgeMs {
		t.Fatalf("shard metrics = %+v, want %+v", got, want)
	}
	if len(m.ShardLevelMetrics) != 0 || m.ShardLevelMetrics == nil {
		t.Fatalf("ShardLevelMetrics = %#v, want an empty list", m.ShardLevelMetrics)
	}
}

func TestIteratorAgeIsTheLastReadsPerConsumer(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{}
	clock.ms.Store(1_000_000)
	s := openTest(t, "", WithClock(clock.now))
	mustCreate(t, s, "orders", 1)
	for range 3 {
		if _, err := s.Append(ctx, "orders", []Entry{{PartitionKey: "pk", Data: []byte("x")}}); err != nil {
			t.Fatalf("Append: %v", err)
		}
		clock.advance(time.Second)
	}
	if got := mustGet(s.StreamMetrics(ctx, "orders")).Shards[0].IteratorAgeMs; got != -1 {
		t.Fatalf("iterator age before any read = %d, want -1", got)
	}
	// The firehose reads one record: two are left, the oldest 2 s old (it
	// arrived at 1001000 and the clock reads 1003000).
	fctx := s.WithConsumer(ctx, "firehose:orders")
	c := mustGet(s.Seek(ctx, "orders", ShardID(0), Position{Type: TrimHorizon}))
	if _, err := s.Read(fctx, c, 1, MaxGetRecordsBytes); err != nil {
		t.Fatalf("Read: %v", err)
	}
	// An anonymous reader reads everything: it is at the tip.
	if _, err := s.Read(ctx, c, MaxGetRecordsLimit, MaxGetRecordsBytes); err != nil {
		t.Fatalf("Read: %v", err)
	}
	m := mustGet(s.StreamMetrics(ctx, "orders")).Shards[0]
	if m.IteratorAgeMs != 0 || m.ConsumerAgesMs["firehose:orders"] != 2000 || m.MaxIteratorAgeMs() != 2000 {
		t.Fatalf("ages = anonymous %d, consumers %v, max %d; want 0, firehose:orders 2000, 2000",
			m.IteratorAgeMs, m.ConsumerAgesMs, m.MaxIteratorAgeMs())
	}

	if _, err := s.EnableEnhancedMonitoring(ctx, "orders", []ShardLevelMetric{MetricIteratorAgeMilliseconds}); err != nil {
		t.Fatalf("EnableEnhancedMonitoring: %v", err)
	}
	got := scrapeStreams(t, s)
	for key, want := range map[string]float64{
		`spate_shard_iterator_age_milliseconds{consumer=,shard=shardId-000000000000,stream=orders}`:                0,
		`spate_shard_iterator_age_milliseconds{consumer=firehose:orders,shard=shardId-000000000000,stream=orders}`: 2000,
		`spate_stream_iterator_age_milliseconds{stream=orders}`:                                                    2000,
	} {
		if v, ok := got[key]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", key, v, ok, want)
		}
	}

	s.ForgetConsumer("firehose:orders")
	if _, ok := scrapeStreams(t, s)[`spate_shard_iterator_age_milliseconds{consumer=firehose:orders,shard=shardId-000000000000,stream=orders}`]; ok {
		t.Error("a forgotten consumer's series is still scraped")
	}
}

func mustGet[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestEnhancedMonitoringGatesShardSeries(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "")
	mustCreate(t, s, "a", 2)
	mustCreate(t, s, "b", 1)
	if _, err := s.Append(ctx, "a", []Entry{{PartitionKey: "pk", Data: []byte("data")}}); err != nil {
		t.Fatalf("Append: %v", err)
	}
	shardLevel := func() []string { return seriesNames(scrapeStreams(t, s), "spate_shard_") }
	streamLevel := []string{
		"spate_stream_incoming_bytes_total", "spate_stream_incoming_records_total",
		"spate_stream_outgoing_bytes_total", "spate_stream_outgoing_records_total",
		"spate_stream_read_provisioned_throughput_exceeded_total",
		"spate_stream_write_provisioned_throughput_exceeded_total",
	}

	got := scrapeStreams(t, s)
	if sl := seriesNames(got, "spate_shard_"); len(sl) != 0 {
		t.Fatalf("shard-level series without enhanced monitoring: %v", sl)
	}
	if sl := seriesNames(got, "spate_stream_"); !slices.Equal(sl, streamLevel) {
		t.Fatalf("stream-level series = %v, want %v", sl, streamLevel)
	}
	if got["spate_stream_incoming_records_total{stream=a}"] != 1 || got["spate_stream_incoming_bytes_total{stream=a}"] != 6 {
		t.Fatalf("stream a totals: records %v bytes %v, want 1 and 6",
			got["spate_stream_incoming_records_total{stream=a}"], got["spate_stream_incoming_bytes_total{stream=a}"])
	}
	if _, ok := got["spate_stream_incoming_records_total{stream=b}"]; !ok {
		t.Fatal("stream b has no stream-level series")
	}

	steps := []struct {
		name    string
		enable  bool
		metrics []ShardLevelMetric
		current []ShardLevelMetric
		desired []ShardLevelMetric
		series  []string
	}{
		{
			name: "enable two", enable: true,
			metrics: []ShardLevelMetric{MetricIncomingRecords, MetricIncomingBytes, MetricIncomingRecords},
			current: []ShardLevelMetric{},
			desired: []ShardLevelMetric{MetricIncomingBytes, MetricIncomingRecords},
			series:  []string{"spate_shard_incoming_bytes_total", "spate_shard_incoming_records_total"},
		},
		{
			name: "enable all", enable: true,
			metrics: []ShardLevelMetric{MetricAll},
			current: []ShardLevelMetric{MetricIncomingBytes, MetricIncomingRecords},
			desired: AllShardLevelMetrics,
			series: []string{
				"spate_shard_incoming_bytes_total", "spate_shard_incoming_records_total",
				"spate_shard_outgoing_bytes_total", "spate_shard_outgoing_records_total",
				"spate_shard_read_provisioned_throughput_exceeded_total",
				"spate_shard_write_provisioned_throughput_exceeded_total",
			}, // no iterator age: nobody has read
		},
		{
			name: "disable some", enable: false,
			metrics: []ShardLevelMetric{MetricOutgoingBytes, MetricOutgoingRecords, MetricIteratorAgeMilliseconds, MetricWriteProvisionedThroughputExceeded},
			current: AllShardLevelMetrics,
			desired: []ShardLevelMetric{MetricIncomingBytes, MetricIncomingRecords, MetricReadProvisionedThroughputExceeded},
			series: []string{"spate_shard_incoming_bytes_total", "spate_shard_incoming_records_total",
				"spate_shard_read_provisioned_throughput_exceeded_total"},
		},
		{
			name: "disable all", enable: false,
			metrics: []ShardLevelMetric{MetricAll},
			current: []ShardLevelMetric{MetricIncomingBytes, MetricIncomingRecords, MetricReadProvisionedThroughputExceeded},
			desired: []ShardLevelMetric{},
		},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			change := s.DisableEnhancedMonitoring
			if step.enable {
				change = s.EnableEnhancedMonitoring
			}
			res, err := change(ctx, "a", step.metrics)
			if err != nil {
				t.Fatalf("change: %v", err)
			}
			if res.Name != "a" || res.ARN != s.StreamARN("a") || !slices.Equal(res.Current, step.current) || !slices.Equal(res.Desired, step.desired) {
				t.Fatalf("result = %+v, want current %v desired %v", res, step.current, step.desired)
			}
			if got := shardLevel(); !slices.Equal(got, step.series) {
				t.Fatalf("shard-level series = %v, want %v", got, step.series)
			}
			d, err := s.DescribeStreamSummary(ctx, "a")
			if err != nil {
				t.Fatalf("DescribeStreamSummary: %v", err)
			}
			if !slices.Equal(d.ShardLevelMetrics, step.desired) {
				t.Fatalf("described metrics = %v, want %v", d.ShardLevelMetrics, step.desired)
			}
			// Only stream a's shards, both of them.
			for k := range scrapeStreams(t, s) {
				if strings.HasPrefix(k, "spate_shard_") && !strings.Contains(k, "stream=a}") {
					t.Fatalf("series %s belongs to a stream without enhanced monitoring", k)
				}
			}
		})
	}
}

func TestEnhancedMonitoringSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	mustCreate(t, s, "a", 1)
	if _, err := s.EnableEnhancedMonitoring(ctx, "a", []ShardLevelMetric{MetricOutgoingBytes, MetricIncomingBytes}); err != nil {
		t.Fatalf("EnableEnhancedMonitoring: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s = openTest(t, dir)
	d, err := s.DescribeStream(ctx, "a", 0, "")
	if err != nil {
		t.Fatalf("DescribeStream: %v", err)
	}
	if want := []ShardLevelMetric{MetricIncomingBytes, MetricOutgoingBytes}; !slices.Equal(d.ShardLevelMetrics, want) {
		t.Fatalf("after restart: %v, want %v", d.ShardLevelMetrics, want)
	}
}

func TestEnhancedMonitoringErrors(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{}
	clock.ms.Store(1_000_000)
	s := openTest(t, "", WithClock(clock.now), WithCreateDelay(time.Minute))
	if err := s.CreateStream(ctx, CreateStreamInput{Name: "creating", ShardCount: 1}); err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	tests := []struct {
		name    string
		stream  string
		metrics []ShardLevelMetric
		code    apierr.Code
	}{
		{"no metrics", "creating", nil, apierr.Validation},
		{"too many", "creating", slices.Repeat([]ShardLevelMetric{MetricAll}, 8), apierr.Validation},
		{"unknown metric", "creating", []ShardLevelMetric{"IncomingBits"}, apierr.Validation},
		{"no such stream", "nope", []ShardLevelMetric{MetricAll}, apierr.ResourceNotFound},
		{"not active", "creating", []ShardLevelMetric{MetricAll}, apierr.ResourceInUse},
	}
	for _, tc := range tests {
		for _, op := range []struct {
			name string
			fn   func(context.Context, string, []ShardLevelMetric) (EnhancedMonitoringResult, error)
		}{{"enable", s.EnableEnhancedMonitoring}, {"disable", s.DisableEnhancedMonitoring}} {
			t.Run(tc.name+"/"+op.name, func(t *testing.T) {
				_, err := op.fn(ctx, tc.stream, tc.metrics)
				wantCode(t, err, tc.code)
				var ae *apierr.Error
				if !errors.As(err, &ae) {
					t.Fatalf("%v is not an *apierr.Error", err)
				}
			})
		}
	}
}

func TestCollectorPassesLint(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "")
	mustCreate(t, s, "a", 1)
	if _, err := s.EnableEnhancedMonitoring(ctx, "a", []ShardLevelMetric{MetricAll}); err != nil {
		t.Fatalf("EnableEnhancedMonitoring: %v", err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(s.Collector())
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	problems, err := promlint.NewWithMetricFamilies(families).Lint()
	if err != nil {
		t.Fatalf("lint: %v", err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// The hot paths stay allocation-free: counting a committed batch and a
// read adds atomics only, named consumers included.
func TestCountingAllocatesNothing(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "")
	mustCreate(t, s, "a", 1)
	sh := s.streams["a"].shards[0]
	cctx := s.WithConsumer(ctx, "analytics:app")
	s.noteRead(cctx, sh, 1, 1, 1) // the consumer's first read of the shard makes its entry
	allocs := testing.AllocsPerRun(100, func() {
		sh.stage(10)
		sh.settle(true)
		s.noteRead(ctx, sh, 2, 20, 5)
		s.noteRead(cctx, sh, 2, 20, 7)
	})
	if allocs != 0 {
		t.Fatalf("counting allocates %v times per run, want 0", allocs)
	}
}

// AcquireConsumer counts its holders: a name's series stay while any holder
// or a WithConsumer pin keeps it, and go when the last one lets go.
func TestAcquireConsumerCountsHolders(t *testing.T) {
	const name, series = "app", `spate_shard_iterator_age_milliseconds{consumer=app,shard=shardId-000000000000,stream=orders}`
	type step struct {
		op     string // acquire, release, read (under holder), with, forget
		holder int    // acquire, release, read: which holder; -1 reads under the WithConsumer context
		want   bool   // whether the name has an age after the step
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"two holders, release one then the other", []step{
			{op: "acquire", holder: 0}, {op: "acquire", holder: 1},
			{op: "read", holder: 0, want: true},
			{op: "release", holder: 0, want: true},
			{op: "release", holder: 1, want: false},
		}},
		{"a second release by one holder does nothing", []step{
			{op: "acquire", holder: 0}, {op: "acquire", holder: 1},
			{op: "read", holder: 1, want: true},
			{op: "release", holder: 0, want: true},
			{op: "release", holder: 0, want: true},
			{op: "release", holder: 1, want: false},
		}},
		{"a WithConsumer pin outlives the holders", []step{
			{op: "with"}, {op: "acquire", holder: 0},
			{op: "read", holder: 0, want: true},
			{op: "release", holder: 0, want: true},
			{op: "forget", want: false},
		}},
		{"ForgetConsumer keeps a held name until its release", []step{
			{op: "acquire", holder: 0}, {op: "with"},
			{op: "read", holder: -1, want: true},
			{op: "forget", want: true},
			{op: "release", holder: 0, want: false},
		}},
		{"a name acquired again starts without ages", []step{
			{op: "acquire", holder: 0},
			{op: "read", holder: 0, want: true},
			{op: "release", holder: 0, want: false},
			{op: "acquire", holder: 1, want: false},
			// A released context reads under no registered name.
			{op: "read", holder: 0, want: false},
			{op: "read", holder: 1, want: true},
			{op: "release", holder: 1, want: false},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := openTest(t, "")
			mustCreate(t, s, "orders", 1)
			if _, err := s.EnableEnhancedMonitoring(ctx, "orders", []ShardLevelMetric{MetricIteratorAgeMilliseconds}); err != nil {
				t.Fatalf("EnableEnhancedMonitoring: %v", err)
			}
			cur := mustGet(s.Seek(ctx, "orders", ShardID(0), Position{Type: TrimHorizon}))
			ctxs := map[int]context.Context{}
			releases := map[int]func(){}
			for i, st := range tc.steps {
				switch st.op {
				case "acquire":
					ctxs[st.holder], releases[st.holder] = s.AcquireConsumer(ctx, name)
				case "release":
					releases[st.holder]()
				case "with":
					ctxs[-1] = s.WithConsumer(ctx, name)
				case "forget":
					s.ForgetConsumer(name)
				case "read":
					if _, err := s.Read(ctxs[st.holder], cur, 1, MaxGetRecordsBytes); err != nil {
						t.Fatalf("step %d: Read: %v", i, err)
					}
				}
				m := mustGet(s.StreamMetrics(ctx, "orders")).Shards[0]
				_, inMetrics := m.ConsumerAgesMs[name]
				_, scraped := scrapeStreams(t, s)[series]
				if inMetrics != st.want || scraped != st.want {
					t.Fatalf("step %d (%s %d): age in StreamMetrics %v, scraped %v; want %v", i, st.op, st.holder, inMetrics, scraped, st.want)
				}
				if m.IteratorAgeMs != -1 {
					t.Fatalf("step %d: a named read moved the anonymous age to %d", i, m.IteratorAgeMs)
				}
			}
			s.consumers.mu.Lock()
			left := len(s.consumers.byName)
			s.consumers.mu.Unlock()
			if left != 0 {
				t.Fatalf("%d names still registered after every holder let go", left)
			}
		})
	}
}

// Holders come and go concurrently (run with -race): a name one of them
// keeps holding never disappears, and nothing is left once all are gone.
func TestAcquireConsumerConcurrently(t *testing.T) {
	const name = "app"
	ctx := context.Background()
	s := openTest(t, "")
	mustCreate(t, s, "orders", 2)
	cur := func(shard uint32) Cursor {
		return mustGet(s.Seek(ctx, "orders", ShardID(shard), Position{Type: TrimHorizon}))
	}
	keeper, releaseKeeper := s.AcquireConsumer(ctx, name)
	if _, err := s.Read(keeper, cur(0), 1, MaxGetRecordsBytes); err != nil {
		t.Fatalf("Read: %v", err)
	}

	const workers, rounds = 8, 200
	stop := make(chan struct{})
	watched := make(chan error, 1)
	go func() { // watches the keeper's name while the others churn
		for {
			select {
			case <-stop:
				watched <- nil
				return
			default:
			}
			m, err := s.StreamMetrics(ctx, "orders")
			if err != nil {
				watched <- err
				return
			}
			if _, ok := m.Shards[0].ConsumerAgesMs[name]; !ok {
				watched <- errors.New("the held name lost its shard-0 age while others released it")
				return
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := cur(uint32(w % 2))
			for range rounds {
				hctx, release := s.AcquireConsumer(ctx, name)
				if _, err := s.Read(hctx, c, 1, MaxGetRecordsBytes); err != nil {
					errs <- err
					return
				}
				// Another name, pinned and forgotten, shares the registry.
				s.ForgetConsumer("firehose:" + name)
				_ = s.WithConsumer(ctx, "firehose:"+name)
				release()
				release()
			}
		}()
	}
	wg.Wait()
	close(stop)
	if err := <-watched; err != nil {
		t.Fatal(err)
	}
	close(errs)
	for err := range errs {
		t.Fatalf("worker: %v", err)
	}

	m := mustGet(s.StreamMetrics(ctx, "orders"))
	if _, ok := m.Shards[1].ConsumerAgesMs[name]; !ok {
		t.Fatal("the workers' reads of shard 1 left no age under the held name")
	}
	releaseKeeper()
	s.ForgetConsumer("firehose:" + name)
	m = mustGet(s.StreamMetrics(ctx, "orders"))
	for _, sh := range m.Shards {
		if len(sh.ConsumerAgesMs) != 0 {
			t.Fatalf("shard %s still has consumer ages %v after every holder released", sh.ShardID, sh.ConsumerAgesMs)
		}
	}
}
