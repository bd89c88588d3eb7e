package analytics

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spatehq/spate/analytics/query"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/shard"
)

// Hash keys that route to the first and the last shard of a two-shard
// stream.
const (
	firstShardKey = "0"
	lastShardKey  = "340282366920938463463374607431768211455"
)

// putTo appends records to the shard of events that hashKey routes to.
func (f *fixture) putTo(hashKey string, records ...string) {
	f.t.Helper()
	entries := make([]shard.Entry, len(records))
	for i, r := range records {
		entries[i] = shard.Entry{PartitionKey: "pk", ExplicitHashKey: hashKey, Data: []byte(r)}
	}
	if _, err := f.store.Append(context.Background(), "events", entries); err != nil {
		f.t.Fatal(err)
	}
}

// within fails the test when fn does not return in a generous time: it
// guards against a hang, it does not measure anything.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s hung", what)
	}
}

// A window fired by an input shard going idle (no new record anywhere)
// must still be committed: its rows are output, not held until the next
// record happens by.
func TestWindowFiredByIdleShardIsCommitted(t *testing.T) {
	f := newFixture(t, 2)
	ctx := context.Background()
	sql := `INSERT INTO out SELECT COUNT(*) AS c FROM events GROUP BY TUMBLE(ts, INTERVAL '10' SECOND)`
	if _, err := f.svc.Create(ctx, CreateInput{Name: "idle", SQL: sql}); err != nil {
		t.Fatal(err)
	}
	// Only the first shard has records; the second holds the watermark
	// back until it counts as idle, then [0, 10 s) fires.
	f.putTo(firstShardKey, `{"ts":1000}`, `{"ts":2000}`, `{"ts":12000}`)
	f.waitFor("the window fired by the idle shard", func() bool { return len(f.read("out")) == 1 })
	if rows := f.read("out"); rows[0]["c"] != 2.0 {
		t.Fatalf("rows = %v", rows)
	}
}

// Records that WHERE rejects still mean their shard is busy, but they
// carry no event time: a shard that only gives such records must not hold
// the watermark back for ever.
func TestShardOfFilteredRowsDoesNotStallWatermark(t *testing.T) {
	f := newFixture(t, 2)
	ctx := context.Background()
	sql := `INSERT INTO out SELECT COUNT(*) AS c FROM events WHERE k = 'a' GROUP BY TUMBLE(ts, INTERVAL '10' SECOND)`
	if _, err := f.svc.Create(ctx, CreateInput{Name: "filtered", SQL: sql}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ts := 0; ; ts += 100 {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			f.putTo(lastShardKey, fmt.Sprintf(`{"k":"b","ts":%d}`, ts))
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	f.putTo(firstShardKey, `{"k":"a","ts":1000}`, `{"k":"a","ts":2000}`, `{"k":"a","ts":12000}`)
	f.waitFor("the window", func() bool { return len(f.read("out")) == 1 })
	if rows := f.read("out"); rows[0]["c"] != 2.0 {
		t.Fatalf("rows = %v", rows)
	}
}

// A stop that lands while a checkpoint is being committed must still end
// with the final checkpoint: what the run read is committed.
func TestStopDuringCheckpointStillCheckpoints(t *testing.T) {
	// Every reading of the clock is a second later, so every pass
	// checkpoints.
	var clock atomic.Int64
	f := newFixture(t, 1, WithClock(func() time.Time { return time.UnixMilli(clock.Add(1000)) }))
	plan, err := query.Compile(`INSERT INTO out SELECT v FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the stop has already come
	for i := range 20 {
		f.put(fmt.Sprintf(`{"v":%d}`, i))
		name := fmt.Sprintf("a%d", i)
		a := &app{svc: f.svc, meta: appMeta{Name: name}, plan: plan, subs: map[*subscriber]struct{}{}, subbed: make(chan struct{})}
		if err := a.run(ctx); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		b, ok, err := f.store.GetValue(namespace, a.stateKey())
		if err != nil || !ok {
			t.Fatalf("run %d left no checkpoint (%v)", i, err)
		}
		ck, err := decodeCheckpoint(b)
		if err != nil {
			t.Fatal(err)
		}
		if ck.RowsIn != int64(i+1) || ck.RowsOut != int64(i+1) {
			t.Fatalf("run %d: checkpoint of %d rows in, %d out; want %d", i, ck.RowsIn, ck.RowsOut, i+1)
		}
	}
}

// A subscriber that stops reading holds the application back, but it
// must not hold back Stop (nor Delete nor Close).
func TestSlowSubscriberDoesNotBlockStop(t *testing.T) {
	f := newFixture(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := f.svc.Create(ctx, CreateInput{Name: "sel", SQL: `SELECT v FROM events`}); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	results := make(chan error, 1)
	go func() {
		results <- f.svc.Results(ctx, "sel", func([]string) error { return nil }, func(Row) error {
			<-release
			return nil
		})
	}()
	a, _ := f.svc.lookup("sel")
	f.waitFor("the subscriber", func() bool { a.mu.Lock(); defer a.mu.Unlock(); return len(a.subs) == 1 })
	records := make([]string, 300)
	for i := range records {
		records[i] = fmt.Sprintf(`{"v":%d}`, i)
	}
	f.put(records...)
	f.waitFor("a full subscriber buffer", func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		for s := range a.subs {
			return len(s.ch) == cap(s.ch)
		}
		return false
	})
	within(t, "Stop with a subscriber that does not read", func() {
		if err := f.svc.Stop(context.Background(), "sel"); err != nil {
			t.Error(err)
		}
	})
	close(release)
	cancel()
	if err := <-results; err != nil {
		t.Fatal(err)
	}
}

// Deleting an application ends its subscribers' Results.
func TestResultsEndsWhenApplicationDeleted(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	if _, err := f.svc.Create(ctx, CreateInput{Name: "tmp", SQL: `SELECT v FROM events`, Temporary: true}); err != nil {
		t.Fatal(err)
	}
	subscribed := make(chan struct{})
	results := make(chan error, 1)
	go func() {
		results <- f.svc.Results(ctx, "tmp", func([]string) error { close(subscribed); return nil }, func(Row) error { return nil })
	}()
	<-subscribed
	a, _ := f.svc.lookup("tmp")
	f.waitFor("the subscriber", func() bool { a.mu.Lock(); defer a.mu.Unlock(); return len(a.subs) == 1 })
	if err := f.svc.Delete(ctx, "tmp"); err != nil {
		t.Fatal(err)
	}
	within(t, "Results of a deleted application", func() {
		if err := <-results; err != nil {
			t.Error(err)
		}
	})
}

// The last subscriber of a temporary application deletes that
// application, not a newer one that took its name.
func TestLeavingSubscriberDeletesOnlyItsApplication(t *testing.T) {
	f := newFixture(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := f.svc.Create(ctx, CreateInput{Name: "x", SQL: `SELECT v FROM events`, Temporary: true}); err != nil {
		t.Fatal(err)
	}
	results := make(chan error, 1)
	go func() {
		results <- f.svc.Results(ctx, "x", func([]string) error { return nil }, func(Row) error { return nil })
	}()
	a, _ := f.svc.lookup("x")
	f.waitFor("the subscriber", func() bool { a.mu.Lock(); defer a.mu.Unlock(); return len(a.subs) == 1 })
	bg := context.Background()
	if err := f.svc.Delete(bg, "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Create(bg, CreateInput{Name: "x", SQL: `INSERT INTO out SELECT v FROM events`}); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-results
	if _, err := f.svc.Describe(bg, "x"); err != nil {
		t.Fatalf("the new application x after the old one's subscriber left: %v", err)
	}
	if _, ok, _ := f.store.GetValue(namespace, "app/x"); !ok {
		t.Fatal("the new application x is no longer persisted")
	}
}

// Start racing Delete must not leave a run going that nothing can stop,
// nor the definition of a deleted application in the store.
func TestStartRacingDeleteLeavesNothing(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	for i := range 30 {
		name := fmt.Sprintf("r%d", i)
		if _, err := f.svc.Create(ctx, CreateInput{Name: name, SQL: `INSERT INTO out SELECT v FROM events`}); err != nil {
			t.Fatal(err)
		}
		a, _ := f.svc.lookup(name)
		var wg sync.WaitGroup
		var startErr, deleteErr error
		wg.Add(2)
		go func() { defer wg.Done(); startErr = f.svc.Start(ctx, name) }()
		go func() { defer wg.Done(); deleteErr = f.svc.Delete(ctx, name) }()
		wg.Wait()
		if deleteErr != nil {
			t.Fatal(deleteErr)
		}
		if startErr != nil && !apierr.Is(startErr, apierr.ResourceNotFound) {
			t.Fatal(startErr)
		}
		a.mu.Lock()
		running := a.cancel != nil
		a.mu.Unlock()
		if running {
			t.Fatalf("%s: a deleted application is still running", name)
		}
		if _, ok, _ := f.store.GetValue(namespace, "app/"+name); ok {
			t.Fatalf("%s: a deleted application is still persisted", name)
		}
	}
}

// While Create starts an application, it is STARTING, never STOPPED.
func TestCreatingApplicationIsNeverStopped(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	stop := make(chan struct{})
	var seen atomic.Value
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			list, _ := f.svc.List(ctx)
			for _, d := range list {
				if d.Status == StatusStopped {
					seen.Store(d.Name)
				}
			}
		}
	}()
	for i := range 20 {
		if _, err := f.svc.Create(ctx, CreateInput{Name: fmt.Sprintf("c%d", i), SQL: `INSERT INTO out SELECT v FROM events`}); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if name := seen.Load(); name != nil {
		t.Fatalf("application %v was STOPPED while it was being created", name)
	}
}

// After a restart, a stopped application still shows where it stopped.
func TestStoppedApplicationDescribesItsCheckpoint(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	if _, err := f.svc.Create(ctx, CreateInput{Name: "s", SQL: `INSERT INTO out SELECT v FROM events`}); err != nil {
		t.Fatal(err)
	}
	f.put(`{"v":1}`, `not json`)
	f.waitFor("the row", func() bool { return len(f.read("out")) == 1 })
	if err := f.svc.Stop(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	before, _ := f.svc.Describe(ctx, "s")
	f.close()
	f.open()
	d, err := f.svc.Describe(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != StatusStopped || d.RowsIn != 2 || d.RowsOut != 1 || d.BadRows != 1 ||
		len(d.Inputs) != 1 || d.Inputs[0].SequenceNumber == "" || d.Inputs[0].SequenceNumber != before.Inputs[0].SequenceNumber {
		t.Fatalf("after restart: %+v, before: %+v", d, before)
	}
}
