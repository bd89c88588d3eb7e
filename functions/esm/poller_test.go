package esm

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/functions"
	"github.com/spatehq/spate/functions/destination"
	"github.com/spatehq/spate/shard"
)

func TestTumblingWindowsCarryState(t *testing.T) {
	f := newFixture(t)
	arn := f.stream("src", 1)
	type final struct {
		start time.Time
		count int
	}
	var mu sync.Mutex
	var finals []final
	arrivals := map[string]time.Time{} // data → arrival
	var badState atomic.Value
	f.inv.set("fn", func(ctx context.Context, ev testEvent) (functions.Result, error) {
		var st struct {
			Count int `json:"count"`
		}
		if err := json.Unmarshal(ev.State, &st); err != nil || ev.Window == nil || ev.ShardID != "shardId-000000000000" {
			badState.Store(fmt.Sprintf("event without window or state: %+v", ev))
			return fnError("bad event")
		}
		mu.Lock()
		defer mu.Unlock()
		if ev.IsFinalInvokeForWindow {
			if len(ev.Records) != 0 {
				badState.Store("a final invocation with records")
			}
			finals = append(finals, final{ev.Window.Start, st.Count})
			return ok(`{}`)
		}
		for _, r := range ev.Records {
			at := time.UnixMilli(int64(r.Kinesis.ApproximateArrivalTimestamp*1000 + 0.5))
			arrivals[string(r.Kinesis.Data)] = at
			if at.Before(ev.Window.Start) || !at.Before(ev.Window.End) {
				badState.Store(fmt.Sprintf("record at %v outside its window %v-%v", at, ev.Window.Start, ev.Window.End))
			}
		}
		return ok(fmt.Sprintf(`{"state":{"count":%d}}`, st.Count+len(ev.Records)))
	})
	m := f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON",
		BatchSize: intp(1), TumblingWindowInSeconds: intp(1)})
	for i := range 6 {
		f.put("src", "a", strconv.Itoa(i))
	}
	// Every record's window closes with a final invocation carrying the
	// count the state built up, batch by batch (BatchSize 1).
	eventually(t, "the windows to close", func() bool {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, fi := range finals {
			n += fi.count
		}
		return n == 6
	})
	// The final invocation's success is checkpointed: no window stays open.
	eventually(t, "the checkpoint without a window", func() bool {
		return f.checkpoint(m.UUID, "shardId-000000000000").Window == nil
	})
	if v := badState.Load(); v != nil {
		t.Fatal(v)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, fi := range finals {
		want := 0
		for _, at := range arrivals {
			if !at.Before(fi.start) && at.Before(fi.start.Add(time.Second)) {
				want++
			}
		}
		if fi.count != want {
			t.Fatalf("window %v closed with count %d; %d records arrived in it", fi.start, fi.count, want)
		}
	}
}

func TestTumblingWindowRequiresState(t *testing.T) {
	f := newFixture(t)
	arn := f.stream("src", 1)
	var calls atomic.Int32
	f.inv.set("fn", func(ctx context.Context, ev testEvent) (functions.Result, error) {
		if ev.IsFinalInvokeForWindow {
			return ok(`{}`)
		}
		if calls.Add(1) == 1 {
			return ok(`{"batchItemFailures":[]}`) // no state: a failure
		}
		return ok(`{"state":{"n":"1"}}`)
	})
	f.put("src", "a", "x")
	m := f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON", TumblingWindowInSeconds: intp(900)})
	eventually(t, "a retry after the stateless answer", func() bool { return calls.Load() >= 2 })
	eventually(t, "the state in the checkpoint", func() bool {
		ck := f.checkpoint(m.UUID, "shardId-000000000000")
		return ck.Window != nil && string(ck.Window.State) == `{"n":"1"}` && ck.After != ""
	})
	// The window's state survives a restart and goes to the next invocation.
	f.restart()
	f.put("src", "a", "y")
	eventually(t, "the next invocation", func() bool {
		for _, ev := range f.inv.history() {
			if len(ev.Records) == 1 && string(ev.Records[0].Kinesis.Data) == "y" {
				return true
			}
		}
		return false
	})
	for _, ev := range f.inv.history() {
		if len(ev.Records) == 1 && string(ev.Records[0].Kinesis.Data) == "y" && string(ev.State) != `{"n":"1"}` {
			t.Fatalf("after a restart the window's state is %s; want {\"n\":\"1\"}", ev.State)
		}
	}
}

// A window state too large for any later invocation to carry (a hostile
// or buggy function) is a failed invocation, not a state kept: kept, it
// made every later invocation of the window, the final one included, too
// large for the payload limit, and the final one is retried forever.
func TestTumblingWindowStateTooLargeFails(t *testing.T) {
	f := newFixture(t)
	arn := f.stream("src", 1)
	var calls atomic.Int32
	rec := newRecorder()
	huge := `{"s":"` + strings.Repeat("x", MaxPayloadBytes-100) + `"}`
	f.inv.set("fn", func(ctx context.Context, ev testEvent) (functions.Result, error) {
		if len(ev.State) > MaxPayloadBytes-1000 {
			// What the registry answers a payload over the limit.
			return functions.Result{}, apierr.New(apierr.RequestTooLarge, "Request must be smaller than 6291456 bytes for the Invoke operation")
		}
		if ev.IsFinalInvokeForWindow {
			return ok(`{}`)
		}
		if calls.Add(1) == 1 {
			return ok(`{"state":` + huge + `}`)
		}
		rec.note(ev)
		return ok(`{"state":{"n":"1"}}`)
	})
	f.put("src", "a", "x")
	m := f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON", TumblingWindowInSeconds: intp(900)})
	f.put("src", "a", "y")
	eventually(t, "both records", func() bool { return strings.Join(rec.perKey()["a"], ",") == "x,y" || rec.count() >= 2 })
	if got := strings.Join(rec.perKey()["a"], ","); got != "x,y" {
		t.Fatalf("delivered %s; want x,y", got)
	}
	if ck := f.checkpoint(m.UUID, "shardId-000000000000"); ck.Window != nil && len(ck.Window.State) > MaxWindowStateBytes {
		t.Fatalf("a state of %d bytes kept", len(ck.Window.State))
	}
}

// laneOf is the lane a key takes among n.
func laneOf(key string, n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}

func TestParallelizationKeepsOrderPerKey(t *testing.T) {
	f := newFixture(t)
	arn := f.stream("src", 1)
	// Two keys in different lanes, so two batches can run at once.
	keys := []string{"k0"}
	for i := 1; len(keys) < 2; i++ {
		k := fmt.Sprintf("k%d", i)
		if laneOf(k, 4) != laneOf(keys[0], 4) {
			keys = append(keys, k)
		}
	}
	rec := newRecorder()
	var running, peak atomic.Int32
	both := make(chan struct{})
	var once sync.Once
	f.inv.set("fn", func(ctx context.Context, ev testEvent) (functions.Result, error) {
		n := running.Add(1)
		defer running.Add(-1)
		if n > peak.Load() {
			peak.Store(n)
		}
		if n >= 2 {
			once.Do(func() { close(both) })
		}
		// The first batches wait for each other: proof that two lanes run
		// at once (a single lane would time out here and fail the test).
		select {
		case <-both:
		case <-time.After(20 * time.Second):
		}
		rec.note(ev)
		return ok(`{}`)
	})
	want := map[string][]string{}
	var kv []string
	for i := range 200 {
		k := keys[i%2]
		d := fmt.Sprintf("%s:%d", k, i)
		kv = append(kv, k, d)
		want[k] = append(want[k], d)
	}
	f.put("src", kv...)
	m := f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON",
		BatchSize: intp(10), ParallelizationFactor: intp(4)})
	eventually(t, "200 records", func() bool { return rec.count() >= 200 })
	checkExact(t, rec.perKey(), want)
	if peak.Load() < 2 {
		t.Fatalf("at most %d invocations ran at once; want 2 with ParallelizationFactor 4", peak.Load())
	}
	eventually(t, "the checkpoint at the end", func() bool {
		return strings.HasSuffix(f.checkpoint(m.UUID, "shardId-000000000000").After, fmt.Sprintf("%032d", 200))
	})
}

func TestTrackerCheckpointsOnlyWhatEveryLaneFinished(t *testing.T) {
	tr := newTracker()
	a := tr.add("s1", 1, false)
	b := tr.add("s2", 1, false)
	c := tr.add("s3", 1, true) // filtered
	d := tr.add("s4", 1, false)
	if got := tr.done([]int64{b}); got != "" {
		t.Fatalf("after s2 alone the checkpoint moved to %q; s1 is pending", got)
	}
	if got := tr.done([]int64{a}); got != "s3" {
		t.Fatalf("after s1 the checkpoint is %q; want s3 (s2 done, s3 filtered)", got)
	}
	_ = c
	if got := tr.done([]int64{d}); got != "s4" || !tr.empty() {
		t.Fatalf("after s4: %q, empty %v", got, tr.empty())
	}
}

func TestReshardParentsBeforeChildren(t *testing.T) {
	f := newFixture(t)
	arn := f.stream("src", 1)
	var mu sync.Mutex
	var order []string // data in invocation order
	block := make(chan struct{})
	f.inv.set("fn", func(ctx context.Context, ev testEvent) (functions.Result, error) {
		if len(ev.Records) > 0 && strings.HasPrefix(string(ev.Records[0].Kinesis.Data), "p") {
			<-block // hold the parent while the children fill
		}
		mu.Lock()
		order = append(order, ev.datas()...)
		mu.Unlock()
		return ok(`{}`)
	})
	var kv []string
	for i := range 20 {
		kv = append(kv, fmt.Sprintf("k%d", i), fmt.Sprintf("p%d", i))
	}
	f.put("src", kv...)
	m := f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON", BatchSize: intp(5)})
	ctx := context.Background()
	if err := f.store.SplitShard(ctx, shard.SplitShardInput{Stream: "src", ShardToSplit: "shardId-000000000000",
		NewStartingHashKey: "170141183460469231731687303715884105728"}); err != nil {
		t.Fatal(err)
	}
	kv = kv[:0]
	for i := range 20 {
		kv = append(kv, fmt.Sprintf("k%d", i), fmt.Sprintf("c%d", i))
	}
	f.put("src", kv...)
	close(block)
	eventually(t, "40 records", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(order) >= 40
	})
	mu.Lock()
	defer mu.Unlock()
	for i, d := range order[:20] {
		if d != fmt.Sprintf("p%d", i) {
			t.Fatalf("record %d delivered is %s; the parent's 20 records come first, in order: %v", i, d, order)
		}
	}
	eventually(t, "the parent's checkpoint finished", func() bool {
		return f.checkpoint(m.UUID, "shardId-000000000000").Finished
	})
	// After a restart the finished parent is not read again.
	calls := len(f.inv.history())
	f.restart()
	f.put("src", "k1", "late")
	eventually(t, "the late record", func() bool { return len(f.inv.history()) > calls })
	for _, ev := range f.inv.history()[calls:] {
		for _, d := range ev.datas() {
			if strings.HasPrefix(d, "p") {
				t.Fatalf("parent record %s delivered again after a restart", d)
			}
		}
	}
}

// A shard handled to its end drops its IteratorAge series, so a mapping
// over a stream resharded for months does not keep one per shard it ever
// had.
func TestFinishedShardDropsItsSeries(t *testing.T) {
	f := newFixture(t)
	arn := f.stream("src", 1)
	rec := f.recording("fn")
	f.put("src", "k", "p")
	m := f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON"})
	eventually(t, "the parent's record", func() bool { return rec.count() == 1 })
	if err := f.store.SplitShard(context.Background(), shard.SplitShardInput{Stream: "src", ShardToSplit: "shardId-000000000000",
		NewStartingHashKey: "170141183460469231731687303715884105728"}); err != nil {
		t.Fatal(err)
	}
	f.put("src", "k", "c")
	eventually(t, "the child's record", func() bool { return rec.count() == 2 })
	eventually(t, "the parent's checkpoint finished", func() bool {
		return f.checkpoint(m.UUID, "shardId-000000000000").Finished
	})
	shards := func() []string {
		ch := make(chan prometheus.Metric, 16)
		f.svc.metrics.iteratorAge.Collect(ch)
		close(ch)
		var out []string
		for mt := range ch {
			var d dto.Metric
			_ = mt.Write(&d)
			for _, l := range d.GetLabel() {
				if l.GetName() == "shard" {
					out = append(out, l.GetValue())
				}
			}
		}
		return out
	}
	eventually(t, "the parent's series gone", func() bool { return !slices.Contains(shards(), "shardId-000000000000") })
	if got := shards(); len(got) != 1 {
		t.Fatalf("iterator age series of shards %v; want the child's only", got)
	}
}

// value reads a counter or gauge.
func value(c prometheus.Metric) float64 {
	var m dto.Metric
	_ = c.Write(&m)
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

func TestDisableEnable(t *testing.T) {
	f := newFixture(t)
	arn := f.stream("src", 1)
	rec := f.recording("fn")
	ctx := context.Background()
	m := f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "LATEST"})
	eventually(t, "Enabled", func() bool { g, _ := f.svc.Get(ctx, m.UUID); return g.State == StateEnabled })
	f.put("src", "a", "1")
	eventually(t, "the first record", func() bool { return rec.count() == 1 })
	if u, err := f.svc.Update(ctx, UpdateInput{UUID: m.UUID, Enabled: boolp(false)}); err != nil || u.State != StateDisabling {
		t.Fatalf("disable: %v, State %s; want Disabling", err, u.State)
	}
	eventually(t, "Disabled", func() bool { g, _ := f.svc.Get(ctx, m.UUID); return g.State == StateDisabled })
	f.svc.mu.Lock()
	running := len(f.svc.runners)
	f.svc.mu.Unlock()
	if running != 0 {
		t.Fatalf("%d runners after disabling", running)
	}
	f.put("src", "a", "2")
	calls := len(f.inv.history())
	if u, err := f.svc.Update(ctx, UpdateInput{UUID: m.UUID, Enabled: boolp(true)}); err != nil || u.State != StateEnabling {
		t.Fatalf("enable: %v, State %s; want Enabling", err, u.State)
	}
	eventually(t, "the record written while disabled", func() bool { return rec.count() == 2 })
	if got := strings.Join(rec.perKey()["a"], ","); got != "1,2" || calls != 1 {
		t.Fatalf("got %s with %d calls before enabling", got, calls)
	}
	eventually(t, "Enabled", func() bool { g, _ := f.svc.Get(ctx, m.UUID); return g.State == StateEnabled })

	// An update restarts the pollers with the new settings, from the
	// checkpoint.
	if _, err := f.svc.Update(ctx, UpdateInput{UUID: m.UUID, BatchSize: intp(2)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Enabled after the update", func() bool { g, _ := f.svc.Get(ctx, m.UUID); return g.State == StateEnabled })
	calls = len(f.inv.history())
	f.put("src", "a", "3", "a", "4", "a", "5", "a", "6", "a", "7")
	eventually(t, "the records after the update", func() bool { return rec.count() == 7 })
	for _, ev := range f.inv.history()[calls:] {
		if len(ev.Records) > 2 {
			t.Fatalf("a batch of %d records after BatchSize became 2", len(ev.Records))
		}
	}
	if got := strings.Join(rec.perKey()["a"], ","); got != "1,2,3,4,5,6,7" {
		t.Fatalf("got %s", got)
	}
}

func TestStartAtTimestamp(t *testing.T) {
	f := &fixture{t: t, dir: t.TempDir(), inv: newFakeInvoker(), sink: &memSink{}}
	var offset atomic.Int64
	f.sopts = []shard.Option{shard.WithClock(func() time.Time { return time.Now().Add(time.Duration(offset.Load())) })}
	f.opts = []Option{WithRetryBackoff(time.Millisecond, 20*time.Millisecond)}
	f.open()
	t.Cleanup(f.close)
	arn := f.stream("src", 1)
	rec := f.recording("fn")
	f.put("src", "a", "old1", "a", "old2")
	offset.Store(int64(10 * time.Second))
	f.put("src", "a", "new1")
	at := float64(time.Now().Add(5*time.Second).UnixMilli()) / 1000
	f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "AT_TIMESTAMP", StartingPositionTimestamp: &at})
	f.put("src", "a", "new2")
	eventually(t, "the records from the timestamp on", func() bool { return rec.count() >= 2 })
	if got := strings.Join(rec.perKey()["a"], ","); got != "new1,new2" {
		t.Fatalf("AT_TIMESTAMP delivered %s; want new1,new2", got)
	}
}

func TestDeleteStopsPollers(t *testing.T) {
	f := newFixture(t)
	arn := f.stream("src", 2)
	started := make(chan struct{}, 10)
	f.inv.set("fn", func(ctx context.Context, ev testEvent) (functions.Result, error) {
		started <- struct{}{}
		return fnError("keep retrying") // infinite retries: only Delete stops it
	})
	ctx := context.Background()
	if _, err := f.store.EnableEnhancedMonitoring(ctx, "src", []shard.ShardLevelMetric{shard.MetricIteratorAgeMilliseconds}); err != nil {
		t.Fatal(err)
	}
	f.put("src", "a", "1", "b", "2")
	m := f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON"})
	<-started
	reg := prometheus.NewRegistry()
	reg.MustRegister(f.store.Collector())
	if !hasConsumer(t, reg, consumerName(m.UUID)) {
		t.Fatal("no iterator-age series under the mapping's consumer name")
	}
	if _, err := f.svc.Delete(ctx, m.UUID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the mapping gone", func() bool {
		_, err := f.svc.Get(ctx, m.UUID)
		return apierr.Is(err, apierr.ResourceNotFound)
	})
	f.svc.mu.Lock()
	running := len(f.svc.runners)
	f.svc.mu.Unlock()
	if running != 0 {
		t.Fatalf("%d runners after delete", running)
	}
	if hasConsumer(t, reg, consumerName(m.UUID)) {
		t.Fatal("the deleted mapping's iterator-age series remain")
	}
	// The runner was stopped (and waited for) before the record went: no
	// invocation can come any more.
	n := len(f.inv.history())
	f.close()
	if m := len(f.inv.history()); m != n {
		t.Fatalf("%d invocations after the mapping was deleted", m-n)
	}
}

func TestRestartDuringFailuresLosesNothing(t *testing.T) {
	f := newFixture(t)
	arn := f.stream("src", 1)
	var failing atomic.Bool
	failing.Store(true)
	rec := newRecorder()
	f.inv.set("fn", func(ctx context.Context, ev testEvent) (functions.Result, error) {
		if failing.Load() && len(ev.Records) > 0 && string(ev.Records[0].Kinesis.Data) == "3" {
			return fnError("down")
		}
		rec.note(ev)
		return ok(`{}`)
	})
	var kv []string
	for i := range 10 {
		kv = append(kv, "k", strconv.Itoa(i))
	}
	f.put("src", kv...)
	m := f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON", BatchSize: intp(3)})
	eventually(t, "the failing batch retried", func() bool { return len(f.inv.history()) >= 3 })
	before := f.checkpoint(m.UUID, "shardId-000000000000").After
	f.close() // stops mid-retry, like a kill: the failing batch is not checkpointed
	if before == "" || !strings.HasSuffix(before, fmt.Sprintf("%032d", 3)) {
		t.Fatalf("checkpoint before the restart %q; want the third record's", before)
	}
	failing.Store(false)
	f.open()
	eventually(t, "every record", func() bool { return rec.count() >= 10 })
	if got := strings.Join(rec.perKey()["k"], ","); got != "0,1,2,3,4,5,6,7,8,9" {
		t.Fatalf("delivered %s", got)
	}
	if after := f.checkpoint(m.UUID, "shardId-000000000000").After; after < before {
		t.Fatalf("checkpoint went back from %s to %s", before, after)
	}
}

func TestThrottlesRetryWithoutCountingAttempts(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := newFixture(t, WithRegisterer(reg))
	arn := f.stream("src", 1)
	var calls atomic.Int32
	f.inv.set("fn", func(ctx context.Context, ev testEvent) (functions.Result, error) {
		if calls.Add(1) <= 5 {
			return functions.Result{}, apierr.New(apierr.TooManyRequests, "Rate Exceeded.")
		}
		return ok(`{}`)
	})
	f.put("src", "a", "1")
	m := f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON", MaximumRetryAttempts: intp(0)})
	eventually(t, "the record delivered", func() bool { return f.checkpoint(m.UUID, "shardId-000000000000").After != "" })
	if len(f.sink.records()) != 0 {
		t.Fatalf("a throttled batch was given up: %+v", f.sink.records())
	}
	if got := value(f.svc.metrics.throttles.WithLabelValues(m.UUID)); got != 5 {
		t.Fatalf("throttles %v; want 5", got)
	}
	if got := value(f.svc.metrics.invocations.WithLabelValues(m.UUID)); got != 6 {
		t.Fatalf("invocations %v; want 6", got)
	}
	if got := value(f.svc.metrics.errors.WithLabelValues(m.UUID)); got != 0 {
		t.Fatalf("errors %v; want 0", got)
	}
	fams, err := reg.Gather()
	names := map[string]bool{}
	for _, mf := range fams {
		names[mf.GetName()] = true
	}
	if err != nil || !names["spate_esm_invocations_total"] || !names["spate_esm_iterator_age_milliseconds"] || !names["spate_esm_throttles_total"] {
		t.Fatalf("registered series: %v, %v", names, err)
	}
}

// An invocation that did not run (the function gone for a while, the
// service failing) is retried as a throttle is: no attempt counted, no
// bisecting, nothing given up while the records are young enough, as
// Lambda's "Before invocation" rule says.
func TestInvokeErrorsRetryWithoutCountingAttempts(t *testing.T) {
	f := newFixture(t)
	arn := f.stream("src", 1)
	rec := newRecorder()
	var calls atomic.Int32
	f.inv.set("fn", func(ctx context.Context, ev testEvent) (functions.Result, error) {
		switch calls.Add(1) {
		case 1, 2:
			return functions.Result{}, apierr.New(apierr.ResourceNotFound, "Function not found")
		case 3:
			return functions.Result{}, apierr.New(apierr.Service, "boom")
		}
		rec.note(ev)
		return ok(`{}`)
	})
	f.put("src", "a", "1")
	f.put("src", "a", "2")
	f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON", MaximumRetryAttempts: intp(0),
		BisectBatchOnFunctionError: boolp(true),
		DestinationConfig:          &DestinationConfig{OnFailure: &Destination{Destination: "arn:aws:kinesis:us-east-1:000000000000:stream/dlq"}}})
	eventually(t, "both records delivered", func() bool { return rec.count() == 2 })
	if got := f.sink.records(); len(got) != 0 {
		t.Fatalf("records given up on an invoke error: %+v", got)
	}
	if got := strings.Join(rec.perKey()["a"], ","); got != "1,2" {
		t.Fatalf("delivered %s", got)
	}
}

func TestOnFailureDestinationRetriedUntilItTakes(t *testing.T) {
	f := newFixture(t)
	f.sink.fail = 3
	arn := f.stream("src", 1)
	rec := newRecorder()
	f.inv.set("fn", func(ctx context.Context, ev testEvent) (functions.Result, error) {
		if ev.datas()[0] == "bad" {
			return fnError("boom")
		}
		rec.note(ev)
		return ok(`{}`)
	})
	f.put("src", "a", "bad")
	m := f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON", MaximumRetryAttempts: intp(0),
		DestinationConfig: &DestinationConfig{OnFailure: &Destination{Destination: "arn:aws:kinesis:us-east-1:000000000000:stream/dlq"}}})
	eventually(t, "the report", func() bool { return len(f.sink.records()) == 1 })
	r := f.sink.records()[0].rec
	if r.ResponseContext.StatusCode != 200 || r.ResponseContext.FunctionError != "Unhandled" {
		t.Fatalf("a function error's report: %+v", r.ResponseContext)
	}
	f.put("src", "a", "good")
	eventually(t, "the next record", func() bool { return rec.count() == 1 })
	if got := value(f.svc.metrics.onFailure.WithLabelValues(m.UUID, ConditionRetriesExhausted)); got != 1 {
		t.Fatalf("on-failure count %v", got)
	}
}

func TestFencedCheckpointAfterLeaseMovedOn(t *testing.T) {
	f := newFixture(t, WithLeaseTimeout(time.Hour))
	arn := f.stream("src", 1)
	f.inv.set("fn", func(ctx context.Context, ev testEvent) (functions.Result, error) { return ok(`{}`) })
	m := f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON", Enabled: boolp(false)})
	eventually(t, "Disabled", func() bool { g, _ := f.svc.Get(context.Background(), m.UUID); return g.State == StateDisabled })
	r, _, _, _ := f.svc.loadRecord(m.UUID)
	run := f.svc.newRunner(r)
	defer run.stop()
	go func() { <-run.ctx.Done(); close(run.done) }()
	a := run.newPoller("shardId-000000000000")
	b := run.newPoller("shardId-000000000000")
	ctx := context.Background()
	if err := a.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	// b waits while a's lease lives; a foreign owner (an earlier process)
	// would not hold it. Expire a's lease by hand, as a stuck a would.
	a.leaseMu.Lock()
	var l lease
	_ = json.Unmarshal(a.leaseVal, &l)
	l.ExpiresMs = 1
	v, _ := json.Marshal(l)
	if err := f.store.WriteValues(ctx, valuesNS, shard.ValueWrite{Key: leaseKey(m.UUID, "shardId-000000000000"), Value: v}); err != nil {
		t.Fatal(err)
	}
	a.leaseVal = v
	a.leaseMu.Unlock()
	if err := b.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	a.ckMu.Lock()
	err := a.saveCheckpoint(ctx, checkpoint{After: "x"})
	a.ckMu.Unlock()
	if err != errLeaseLost || a.ctx.Err() == nil {
		t.Fatalf("a's checkpoint after b took the lease: %v (a stopped: %v)", err, a.ctx.Err() != nil)
	}
	b.ckMu.Lock()
	err = b.saveCheckpoint(ctx, checkpoint{After: "y"})
	b.ckMu.Unlock()
	if err != nil {
		t.Fatalf("b's checkpoint: %v", err)
	}
	if ck := f.checkpoint(m.UUID, "shardId-000000000000"); ck.After != "y" {
		t.Fatalf("checkpoint %q; want b's", ck.After)
	}
}

func TestStuckPollerReplaced(t *testing.T) {
	f := newFixture(t, WithLeaseTimeout(200*time.Millisecond), WithInvokeTimeout(300*time.Millisecond))
	arn := f.stream("src", 1)
	release := make(chan struct{})
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(free) // runs before the fixture's Close, which waits for the stuck call
	var calls atomic.Int32
	f.inv.set("fn", func(ctx context.Context, ev testEvent) (functions.Result, error) {
		if calls.Add(1) == 1 {
			<-release // an invoker that ignores its context
			return ok(`{}`)
		}
		return ok(`{}`)
	})
	seqs := f.put("src", "a", "1")
	m := f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON"})
	eventually(t, "a replacement poller's invocation", func() bool { return calls.Load() >= 2 })
	eventually(t, "the replacement's checkpoint", func() bool {
		return f.checkpoint(m.UUID, "shardId-000000000000").After == seqs[0]
	})
	v, _, _ := f.store.GetValue(valuesNS, leaseKey(m.UUID, "shardId-000000000000"))
	var l lease
	_ = json.Unmarshal(v, &l)
	if l.Counter < 2 {
		t.Fatalf("lease counter %d; the replacement should have taken it over", l.Counter)
	}
	free()
}

// The proof, in process: 10,000 records over four shards, a
// poison record bisected, retried and reported to a Spate stream through
// the real destination sender, the rest of its shard processed after it,
// every other record at least once and in order per key.
func TestTenThousandRecordsWithPoison(t *testing.T) {
	f := &fixture{t: t, dir: t.TempDir(), inv: newFakeInvoker()}
	var sender *destination.Sender
	f.opts = []Option{WithRetryBackoff(time.Millisecond, 20*time.Millisecond),
		WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}
	f.open()
	t.Cleanup(f.close)
	// The sender needs the store, which open made: reopen with it.
	sender = destination.New(destination.WithStore(f.store))
	_ = f.svc.Close()
	svc, err := New(f.store, f.inv, append(f.opts, WithFailureSink(sender))...)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.svc = svc

	arn := f.stream("src", 4)
	dlq := f.stream("dlq", 1)
	rec := newRecorder()
	f.inv.set("fn", func(ctx context.Context, ev testEvent) (functions.Result, error) {
		for _, d := range ev.datas() {
			if strings.HasSuffix(d, ":poison") {
				return fnError("cannot parse")
			}
		}
		rec.note(ev)
		return ok(`{}`)
	})
	const n = 10000
	want := map[string][]string{}
	var kv []string
	poison := ""
	for i := range n {
		k := fmt.Sprintf("k%d", i%50)
		d := fmt.Sprintf("%s:%d", k, i)
		if i == 4321 {
			d, poison = k+":poison", k
		} else {
			want[k] = append(want[k], d)
		}
		kv = append(kv, k, d)
	}
	for len(kv) > 0 {
		c := min(len(kv), 1000)
		f.put("src", kv[:c]...)
		kv = kv[c:]
	}
	start := time.Now()
	m := f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON",
		BisectBatchOnFunctionError: boolp(true), MaximumRetryAttempts: intp(2),
		DestinationConfig: &DestinationConfig{OnFailure: &Destination{Destination: dlq}}})
	eventually(t, "every good record", func() bool { return rec.count() >= n-1 })
	t.Logf("%d records through 4 shards in %v, %d invocations", n, time.Since(start), len(f.inv.history()))
	checkExact(t, rec.perKey(), want)
	_ = poison

	// The report is in the dlq stream, naming the poison record alone.
	var got []shard.Record
	eventually(t, "the report in the dlq stream", func() bool {
		c, err := f.store.Seek(context.Background(), "dlq", "shardId-000000000000", shard.Position{Type: shard.TrimHorizon})
		if err != nil {
			return false
		}
		res, err := f.store.Read(context.Background(), c, 10, 1<<20)
		got = res.Records
		return err == nil && len(got) == 1
	})
	var r invocationRecord
	if err := json.Unmarshal(got[0].Data, &r); err != nil || r.BatchInfo.BatchSize != 1 ||
		r.BatchInfo.StartSequenceNumber != r.BatchInfo.EndSequenceNumber || r.RequestContext.ApproximateInvokeCount != 3 ||
		r.RequestContext.Condition != ConditionRetriesExhausted {
		t.Fatalf("report %s: %v", got[0].Data, err)
	}
	for _, sh := range []string{"shardId-000000000000", "shardId-000000000001", "shardId-000000000002", "shardId-000000000003"} {
		if f.checkpoint(m.UUID, sh).After == "" {
			t.Fatalf("shard %s has no checkpoint", sh)
		}
	}
}

// A process killed while invoking leaves its lease behind; the next
// process (another Service on the store) takes the shard over at once and
// resumes from the checkpoint, and should the old one wake, its checkpoint
// is refused: checkpoints never go back.
func TestTakeoverFencesTheOldProcess(t *testing.T) {
	f := newFixture(t, WithLeaseTimeout(time.Hour))
	arn := f.stream("src", 1)
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free)
	started := make(chan struct{}, 1)
	f.inv.set("fn", func(ctx context.Context, ev testEvent) (functions.Result, error) {
		select {
		case started <- struct{}{}:
		default:
		}
		<-release // the "dead" process never answers until the test says so
		return ok(`{}`)
	})
	seqs := f.put("src", "a", "1", "a", "2")
	m := f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON"})
	<-started

	inv2 := newFakeInvoker()
	rec := newRecorder()
	inv2.set("fn", func(ctx context.Context, ev testEvent) (functions.Result, error) {
		rec.note(ev)
		return ok(`{}`)
	})
	svc2, err := New(f.store, inv2, WithRetryBackoff(time.Millisecond, 20*time.Millisecond),
		WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	if err := svc2.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer svc2.Close()
	eventually(t, "the new process to deliver", func() bool { return rec.count() == 2 })
	eventually(t, "its checkpoint", func() bool { return f.checkpoint(m.UUID, "shardId-000000000000").After == seqs[1] })
	// A new record moves the checkpoint further on.
	seqs = f.put("src", "a", "3")
	eventually(t, "the next checkpoint", func() bool { return f.checkpoint(m.UUID, "shardId-000000000000").After == seqs[0] })

	// The old process wakes: its checkpoint is fenced and it stops.
	f.svc.mu.Lock()
	old := f.svc.runners[m.UUID]
	f.svc.mu.Unlock()
	old.mu.Lock()
	p := old.polls["shardId-000000000000"]
	old.mu.Unlock()
	free()
	eventually(t, "the old poller to stop", func() bool { return p.ctx.Err() != nil })
	if ck := f.checkpoint(m.UUID, "shardId-000000000000"); ck.After != seqs[0] {
		t.Fatalf("checkpoint %s after the old process woke; want %s", ck.After, seqs[0])
	}
}

// hasConsumer reports whether the store's metrics have a series of the
// named consumer.
func hasConsumer(t *testing.T, reg *prometheus.Registry, name string) bool {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range fams {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "consumer" && l.GetValue() == name {
					return true
				}
			}
		}
	}
	return false
}

func TestTurningWindowsOffDropsTheState(t *testing.T) {
	f := newFixture(t)
	arn := f.stream("src", 1)
	f.inv.set("fn", func(ctx context.Context, ev testEvent) (functions.Result, error) { return ok(`{"state":{"n":"1"}}`) })
	f.put("src", "a", "1")
	m := f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON", TumblingWindowInSeconds: intp(900)})
	eventually(t, "the window's state checkpointed", func() bool { return f.checkpoint(m.UUID, "shardId-000000000000").Window != nil })
	ctx := context.Background()
	eventually(t, "Enabled", func() bool { g, _ := f.svc.Get(ctx, m.UUID); return g.State == StateEnabled })
	if _, err := f.svc.Update(ctx, UpdateInput{UUID: m.UUID, TumblingWindowInSeconds: intp(0)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Enabled again", func() bool { g, _ := f.svc.Get(ctx, m.UUID); return g.State == StateEnabled })
	seqs := f.put("src", "a", "2")
	eventually(t, "the checkpoint past the new record, without a window", func() bool {
		ck := f.checkpoint(m.UUID, "shardId-000000000000")
		return ck.After == seqs[0] && ck.Window == nil
	})
	last := f.inv.history()[len(f.inv.history())-1]
	if last.Window != nil || len(last.State) != 0 {
		t.Fatalf("an invocation after windows were turned off carries a window: %+v", last)
	}
}

// A window's final invocation follows the mapping's retry policy, as
// Lambda's tumbling windows do: a function failing it more than
// MaximumRetryAttempts times does not hold the shard forever.
func TestFailingFinalInvocationGivenUp(t *testing.T) {
	f := newFixture(t)
	arn := f.stream("src", 1)
	rec := newRecorder()
	var finals atomic.Int32
	f.inv.set("fn", func(ctx context.Context, ev testEvent) (functions.Result, error) {
		if ev.IsFinalInvokeForWindow {
			finals.Add(1)
			return fnError("cannot close")
		}
		rec.note(ev)
		return ok(`{"state":{}}`)
	})
	f.put("src", "a", "x")
	f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON",
		TumblingWindowInSeconds: intp(1), MaximumRetryAttempts: intp(1)})
	eventually(t, "the first window's final invocation retried", func() bool { return finals.Load() >= 2 })
	f.put("src", "a", "y")
	eventually(t, "the next window's record", func() bool { return rec.count() == 2 })
	if got := strings.Join(rec.perKey()["a"], ","); got != "x,y" {
		t.Fatalf("delivered %s", got)
	}
}
