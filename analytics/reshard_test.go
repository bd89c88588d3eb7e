package analytics

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spatehq/spate/internal/reshardtest"
	"github.com/spatehq/spate/shard"
)

// restartService stops the service (each application checkpoints) and
// starts it again over the same store, as a step between reshards.
func (f *fixture) restartService(context.Context, *shard.Store, string) error {
	if err := f.svc.Close(); err != nil {
		return err
	}
	svc, err := New(context.Background(), f.store, append([]Option{WithCheckpointInterval(20 * time.Millisecond)}, f.opts...)...)
	f.svc = svc
	return err
}

// An application reading a source that is split and merged while records
// flow writes every record's row exactly once, the rows of each key in
// write order (a child shard after its parents), also when the service
// restarts in the middle of the reshards.
func TestApplicationFollowsReshard(t *testing.T) {
	for _, tt := range reshardtest.Cases() {
		t.Run(tt.Name, func(t *testing.T) {
			f := newFixture(t, tt.Shards)
			ctx := context.Background()
			if _, err := f.svc.Create(ctx, CreateInput{Name: "pass", SQL: `INSERT INTO out SELECT k, n FROM events`}); err != nil {
				t.Fatal(err)
			}
			steps := tt.Steps
			if tt.Restart {
				steps = reshardtest.WithRestarts(steps, 1, f.restartService)
			}
			const producers, keys, perKey = 4, 3, 30
			prod := reshardtest.Produce(ctx, t, f.store, "events", producers, keys, perKey, 40, steps, 0, time.Millisecond)
			f.waitFor("every row", func() bool { return len(f.read("out")) >= prod.Total() })
			check := reshardtest.NewChecker()
			for _, row := range f.read("out") {
				r := reshardtest.Record{Key: row["k"].(string), N: int(row["n"].(float64))}
				if err := check.Add(r); err != nil {
					t.Fatal(err)
				}
			}
			if err := check.Complete(prod); err != nil {
				t.Fatal(err)
			}
			if check.Count() != prod.Total() {
				t.Fatalf("%d rows, want %d", check.Count(), prod.Total())
			}
		})
	}
}

// Windows over a resharded source count every record once and no row is
// late, across a restart in the middle.
func TestWindowsAcrossReshard(t *testing.T) {
	f := newFixture(t, 2)
	ctx := context.Background()
	sql := `SET watermark_delay = INTERVAL '10' SECOND;
INSERT INTO out SELECT k, TUMBLE_START(t, INTERVAL '10' MILLISECOND) AS ws, COUNT(*) AS c
FROM events GROUP BY k, TUMBLE(t, INTERVAL '10' MILLISECOND)`
	if _, err := f.svc.Create(ctx, CreateInput{Name: "win", SQL: sql}); err != nil {
		t.Fatal(err)
	}
	steps := []reshardtest.Step{reshardtest.Scale(4), f.restartService, reshardtest.Scale(3), reshardtest.Scale(2), f.restartService, reshardtest.Scale(1)}
	const producers, keys, perKey = 3, 2, 40
	prod := reshardtest.Produce(ctx, t, f.store, "events", producers, keys, perKey, 30, steps, 0, time.Millisecond)
	// One record far in the future closes every window of the keys.
	var closers []shard.Entry
	for p := range producers {
		for k := range keys {
			closers = append(closers, shard.Entry{PartitionKey: fmt.Sprintf("p%d-k%d", p, k), Data: []byte(`{"k":"closer","n":0,"t":100000}`)})
		}
	}
	if _, err := f.store.Append(ctx, "events", closers); err != nil {
		t.Fatal(err)
	}
	// Per key: windows [0,10) hold n 1..9, [10,20) to [30,40) ten each,
	// [40,50) n 40.
	want := map[string]float64{}
	for p := range producers {
		for k := range keys {
			key := fmt.Sprintf("p%d-k%d", p, k)
			for n := 1; n <= perKey; n++ {
				want[fmt.Sprintf("%s@%d", key, n/10*10)]++
			}
		}
	}
	f.waitFor("every window", func() bool { return len(f.read("out")) >= len(want) })
	got := map[string]float64{}
	for _, row := range f.read("out") {
		ws, err := time.Parse(time.RFC3339Nano, row["ws"].(string))
		if err != nil {
			t.Fatal(err)
		}
		k := fmt.Sprintf("%s@%d", row["k"], ws.UnixMilli())
		if _, dup := got[k]; dup {
			t.Fatalf("window %s emitted twice", k)
		}
		got[k] = row["c"].(float64)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("windows = %v\nwant %v", got, want)
	}
	d, err := f.svc.Describe(ctx, "win")
	if err != nil || d.LateRows != 0 {
		t.Fatalf("describe = %+v, %v; want no late rows", d, err)
	}
	_ = prod
}

// upperHalf is an explicit hash key in the upper half of the key space:
// shard 1 of a stream of 2.
var upperHalf = new(big.Int).Lsh(big.NewInt(1), 127).String()

// A child shard becomes an input only once every parent is read to its
// end; it starts from the lowest highest event time of its parents, and a
// parent holds the watermark back until its children are inputs.
func TestChildInheritsWatermark(t *testing.T) {
	f := newFixture(t, 2)
	ctx := context.Background()
	sql := `INSERT INTO out SELECT k, TUMBLE_START(t, INTERVAL '1' SECOND) AS ws, COUNT(*) AS c
FROM events GROUP BY k, TUMBLE(t, INTERVAL '1' SECOND)`
	plan, _, err := f.svc.compileWithDefaults(ctx, sql)
	if err != nil {
		t.Fatal(err)
	}
	a := newApp(f.svc, appMeta{Name: "direct", SQL: sql}, plan, true)
	r, err := a.newRunner(ctx)
	if err != nil {
		t.Fatal(err)
	}
	put := func(hashKey string, n int, t0 int64) {
		t.Helper()
		for i := 0; i < n; i += shard.MaxPutRecordsEntries {
			var entries []shard.Entry
			for j := i; j < min(n, i+shard.MaxPutRecordsEntries); j++ {
				entries = append(entries, shard.Entry{PartitionKey: "k", ExplicitHashKey: hashKey, Data: fmt.Appendf(nil, `{"k":"k","t":%d}`, t0+int64(j))})
			}
			if _, err := f.store.Append(ctx, "events", entries); err != nil {
				t.Fatal(err)
			}
		}
	}
	pass := func() {
		t.Helper()
		if _, err := r.readPass(ctx); err != nil {
			t.Fatal(err)
		}
	}
	put("0", 1, 5000)                 // shard 0: max 5000
	put(upperHalf, readBatch+1, 3000) // shard 1: more than one pass reads
	if err := f.store.MergeShards(ctx, shard.MergeShardsInput{Stream: "events", ShardToMerge: shard.ShardID(0), AdjacentShardToMerge: shard.ShardID(1)}); err != nil {
		t.Fatal(err)
	}
	pass()
	// Shard 0 ended; shard 1 has one record left: the child waits, and
	// shard 0 still holds the watermark.
	if !slices.Equal(r.shards, []string{shard.ShardID(0), shard.ShardID(1)}) || !r.ended[0] || r.ended[1] {
		t.Fatalf("after one pass: inputs %v ended %v", r.shards, r.ended)
	}
	pass()
	child := shard.ShardID(2)
	if !slices.Equal(r.shards, []string{child}) {
		t.Fatalf("after both parents ended: inputs %v, want only %s", r.shards, child)
	}
	// The parents' highest event times were 5000 and 3000+readBatch.
	if got, want := r.p.shardMax[0], int64(3000+readBatch); got != want {
		t.Fatalf("child starts at event time %d, want %d (the lower parent's)", got, want)
	}
	// A split's children both start from their parent.
	put("0", 1, 9000)
	pass()
	if err := f.store.SplitShard(ctx, shard.SplitShardInput{Stream: "events", ShardToSplit: child, NewStartingHashKey: upperHalf}); err != nil {
		t.Fatal(err)
	}
	pass()
	pass()
	if !slices.Equal(r.shards, []string{shard.ShardID(3), shard.ShardID(4)}) || r.p.shardMax[0] != 9000 || r.p.shardMax[1] != 9000 {
		t.Fatalf("after the split: inputs %v at %v, want 3 and 4 at 9000", r.shards, r.p.shardMax)
	}
}

// putRange writes the records from..to of events, n%3 naming each one's
// key.
func (f *fixture) putRange(from, to int) {
	f.t.Helper()
	var entries []shard.Entry
	for n := from; n <= to; n++ {
		entries = append(entries, shard.Entry{PartitionKey: fmt.Sprintf("k%d", n%3), Data: fmt.Appendf(nil, `{"k":"k%d","n":%d}`, n%3, n)})
	}
	if _, err := f.store.Append(context.Background(), "events", entries); err != nil {
		f.t.Fatal(err)
	}
}

// A checkpoint from before the source was resharded (no finished shards,
// no children in Next) resumes the closed parent where it was and reads its
// children from their start, even under start_position LATEST: they were
// created after the checkpoint.
func TestCheckpointFromBeforeReshard(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	sql := "SET start_position = 'LATEST';\nINSERT INTO out SELECT k, n FROM events"
	if _, err := f.svc.Create(ctx, CreateInput{Name: "old", SQL: sql}); err != nil {
		t.Fatal(err)
	}
	put := f.putRange
	put(1, 30)
	f.waitFor("30 rows", func() bool { return len(f.read("out")) == 30 })
	if err := f.svc.Close(); err != nil {
		t.Fatal(err)
	}
	b, ok, err := f.store.GetValue(namespace, "state/old")
	if err != nil || !ok {
		t.Fatalf("checkpoint: %v %v", ok, err)
	}
	if ck, err := decodeCheckpoint(b); err != nil || len(ck.Finished) != 0 || len(ck.Next) != 1 {
		t.Fatalf("checkpoint before the reshard = %+v, %v; want one shard, none finished", ck.checkpointHeader, err)
	}
	put(31, 40) // in the parent, after the checkpoint
	if err := reshardtest.Split(0)(ctx, f.store, "events"); err != nil {
		t.Fatal(err)
	}
	put(41, 60) // in the children
	if err := f.restartService(ctx, f.store, "events"); err != nil {
		t.Fatal(err)
	}
	f.waitFor("60 rows", func() bool { return len(f.read("out")) >= 60 })
	check := reshardtest.NewChecker()
	for _, row := range f.read("out") {
		// n counts per key here: k0 has 3, 6, ...; renumber per key.
		key := row["k"].(string)
		if err := check.Add(reshardtest.Record{Key: key, N: (int(row["n"].(float64)) + 2) / 3}); err != nil {
			t.Fatal(err)
		}
	}
	if check.Count() != 60 {
		t.Fatalf("%d rows, want 60", check.Count())
	}
}

// The checkpoint's finished list forgets a shard once retention has dropped
// it from the source and its children are inputs, and a restart after that
// resumes the children exactly where they were.
func TestFinishedTrimmedAfterRetention(t *testing.T) {
	ctx := context.Background()
	var nowMs atomic.Int64
	nowMs.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	f := newFixture(t, 1)
	f.close()
	f.storeOpts = []shard.Option{shard.WithClock(func() time.Time { return time.UnixMilli(nowMs.Load()) }), shard.WithTrimInterval(time.Hour)}
	f.open()
	if _, err := f.svc.Create(ctx, CreateInput{Name: "pass", SQL: `INSERT INTO out SELECT k, n FROM events`}); err != nil {
		t.Fatal(err)
	}
	put := f.putRange
	finished := func() []string {
		b, ok, err := f.store.GetValue(namespace, "state/pass")
		if err != nil || !ok {
			t.Fatalf("checkpoint: %v %v", ok, err)
		}
		ck, err := decodeCheckpoint(b)
		if err != nil {
			t.Fatal(err)
		}
		return ck.Finished
	}
	// ns returns the n of the rows in out, sorted.
	ns := func() []int {
		var out []int
		for _, row := range f.read("out") {
			out = append(out, int(row["n"].(float64)))
		}
		slices.Sort(out)
		return out
	}
	put(1, 10)
	if err := reshardtest.Split(0)(ctx, f.store, "events"); err != nil {
		t.Fatal(err)
	}
	put(11, 20)
	f.waitFor("20 rows", func() bool { return len(f.read("out")) >= 20 })
	f.waitFor("the parent finished", func() bool { return slices.Equal(finished(), []string{shard.ShardID(0)}) })

	// Retention empties everything so far and drops the parent.
	nowMs.Add((25 * time.Hour).Milliseconds())
	if err := f.store.TrimExpired(ctx); err != nil {
		t.Fatal(err)
	}
	put(21, 30)
	f.waitFor("the dropped parent trimmed from the finished list", func() bool {
		return len(finished()) == 0 && len(f.read("out")) >= 10
	})
	if err := f.restartService(ctx, f.store, "events"); err != nil {
		t.Fatal(err)
	}
	put(31, 40)
	f.waitFor("40 rows", func() bool { return len(f.read("out")) >= 20 })
	want := make([]int, 0, 20)
	for n := 21; n <= 40; n++ {
		want = append(want, n)
	}
	if got := ns(); !slices.Equal(got, want) {
		t.Fatalf("rows after the trim: %v, want 21..40 once each", got)
	}
}
