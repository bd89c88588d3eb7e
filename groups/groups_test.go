package groups

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/shard"
)

// clock is a fake clock both the store and the groups read.
type clock struct{ ms atomic.Int64 }

func (c *clock) now() time.Time          { return time.UnixMilli(c.ms.Load()) }
func (c *clock) advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

type fixture struct {
	t     testing.TB
	ctx   context.Context
	clk   *clock
	store *shard.Store
	svc   *Service
	dir   string
}

func newFixture(t testing.TB, shards int, opts ...Option) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), clk: &clock{}, dir: t.TempDir()}
	f.clk.ms.Store(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC).UnixMilli())
	f.open(opts...)
	f.create("s", shards)
	return f
}

func (f *fixture) create(name string, shards int) {
	f.t.Helper()
	if err := f.store.CreateStream(f.ctx, shard.CreateStreamInput{Name: name, ShardCount: shards}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) open(opts ...Option) {
	f.t.Helper()
	st, err := shard.Open(f.dir, shard.WithClock(f.clk.now), shard.WithTrimInterval(time.Hour))
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = st.Close() })
	f.store = st
	f.svc = New(st, append([]Option{WithClock(f.clk.now)}, opts...)...)
}

var ref = Ref{Stream: "s", Group: "g"}

func (f *fixture) join(worker string) Group {
	f.t.Helper()
	g, err := f.svc.Join(f.ctx, JoinInput{Ref: ref, Worker: worker})
	if err != nil {
		f.t.Fatalf("join %s: %v", worker, err)
	}
	return g
}

func (f *fixture) acquire(worker, shardID string, counter uint64) Lease {
	f.t.Helper()
	l, err := f.svc.Acquire(f.ctx, LeaseInput{Ref: ref, Worker: worker, ShardID: shardID, Counter: counter})
	if err != nil {
		f.t.Fatalf("acquire %s by %s: %v", shardID, worker, err)
	}
	return l
}

// put appends n records to shardId-000000000000 (explicit hash key 0)
// and returns the last sequence number.
func (f *fixture) put(stream string, n int) string {
	f.t.Helper()
	var last string
	for i := 0; i < n; i++ {
		res, err := f.store.Append(f.ctx, stream, []shard.Entry{{PartitionKey: "k", ExplicitHashKey: "0", Data: []byte(fmt.Sprint(i))}})
		if err != nil {
			f.t.Fatal(err)
		}
		last = res[0].SequenceNumber
	}
	return last
}

func wantCode(t *testing.T, err error, code apierr.Code) {
	t.Helper()
	if !apierr.Is(err, code) {
		t.Fatalf("err = %v, want %s", err, code)
	}
}

const shard0, shard1 = "shardId-000000000000", "shardId-000000000001"

func TestJoinValidation(t *testing.T) {
	f := newFixture(t, 1, WithLimits(2, 2))
	ts := time.UnixMilli(1)
	tests := []struct {
		name string
		in   JoinInput
		code apierr.Code
	}{
		{"empty group", JoinInput{Ref: Ref{Stream: "s"}, Worker: "w"}, apierr.InvalidArgument},
		{"bad group", JoinInput{Ref: Ref{Stream: "s", Group: "a/b"}, Worker: "w"}, apierr.InvalidArgument},
		{"long group", JoinInput{Ref: Ref{Stream: "s", Group: string(make([]byte, 129))}, Worker: "w"}, apierr.InvalidArgument},
		{"empty worker", JoinInput{Ref: ref}, apierr.InvalidArgument},
		{"bad worker", JoinInput{Ref: ref, Worker: "w/1"}, apierr.InvalidArgument},
		{"no stream", JoinInput{Ref: Ref{Stream: "missing", Group: "g"}, Worker: "w"}, apierr.ResourceNotFound},
		{"bad position", JoinInput{Ref: ref, Worker: "w", Initial: Position{Type: shard.AtSequenceNumber}}, apierr.InvalidArgument},
		{"timestamp without AT_TIMESTAMP", JoinInput{Ref: ref, Worker: "w", Initial: Position{Type: shard.Latest, Timestamp: ts}}, apierr.InvalidArgument},
		{"AT_TIMESTAMP without timestamp", JoinInput{Ref: ref, Worker: "w", Initial: Position{Type: shard.AtTimestamp}}, apierr.InvalidArgument},
		{"timeout too short", JoinInput{Ref: ref, Worker: "w", LeaseTimeout: 999 * time.Millisecond}, apierr.InvalidArgument},
		{"timeout too long", JoinInput{Ref: ref, Worker: "w", LeaseTimeout: MaxLeaseTimeout + time.Millisecond}, apierr.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.Join(f.ctx, tt.in)
			wantCode(t, err, tt.code)
			names, err := f.svc.List(f.ctx, "s", "")
			if err != nil || len(names) != 0 {
				t.Fatalf("a refused join left groups %v (%v)", names, err)
			}
		})
	}
	t.Run("worker ID with colon", func(t *testing.T) {
		g, err := f.svc.Join(f.ctx, JoinInput{Ref: ref, Worker: "host:1", LeaseTimeout: 2 * time.Second, Initial: Position{Type: shard.AtTimestamp, Timestamp: ts}})
		if err != nil || g.LeaseTimeout != 2*time.Second || g.Initial.Type != shard.AtTimestamp || !g.Initial.Timestamp.Equal(ts) {
			t.Fatalf("join: %+v, %v", g, err)
		}
	})
	t.Run("limits", func(t *testing.T) {
		f.join("w2")
		_, err := f.svc.Join(f.ctx, JoinInput{Ref: ref, Worker: "w3"})
		wantCode(t, err, apierr.LimitExceeded)
		// A lapsed worker does not count, and its record goes.
		f.clk.advance(3 * time.Second)
		f.join("w3")
		if _, err := f.svc.Join(f.ctx, JoinInput{Ref: Ref{Stream: "s", Group: "g2"}, Worker: "w"}); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Join(f.ctx, JoinInput{Ref: Ref{Stream: "s", Group: "g3"}, Worker: "w"})
		wantCode(t, err, apierr.LimitExceeded)
	})
}

// TestConcurrentAcquire has workers race for one lease: exactly one wins.
func TestConcurrentAcquire(t *testing.T) {
	f := newFixture(t, 1)
	const n = 8
	for i := 0; i < n; i++ {
		f.join(fmt.Sprint("w", i))
	}
	owner := ""
	for round := 0; round < 5; round++ {
		var wins atomic.Int32
		var wg sync.WaitGroup
		counter := uint64(round) // a steal names the current counter: only one may win
		for i := 0; i < n; i++ {
			if fmt.Sprint("w", i) == owner {
				continue // its call would be a renewal
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.svc.Acquire(f.ctx, LeaseInput{Ref: ref, Worker: fmt.Sprint("w", i), ShardID: shard0, Counter: counter})
				switch {
				case err == nil:
					wins.Add(1)
				case !apierr.Is(err, apierr.ResourceInUse):
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		g, err := f.svc.Describe(f.ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if wins.Load() != 1 || g.Leases[0].Counter != uint64(round+1) {
			t.Fatalf("round %d: %d winners, counter %d; want 1 winner, counter %d", round, wins.Load(), g.Leases[0].Counter, round+1)
		}
		owner = g.Leases[0].Owner
	}
}

func TestStealAndFencing(t *testing.T) {
	f := newFixture(t, 1)
	f.join("a")
	f.join("b")
	seq := f.put("s", 3)
	la := f.acquire("a", shard0, 0)
	if la.Owner != "a" || la.Counter != 1 {
		t.Fatalf("lease %+v", la)
	}
	// Re-acquiring one's own lease renews it; the counter stays.
	if l := f.acquire("a", shard0, 0); l.Counter != 1 {
		t.Fatalf("renewal moved the counter: %+v", l)
	}
	_, err := f.svc.Acquire(f.ctx, LeaseInput{Ref: ref, Worker: "b", ShardID: shard0, Counter: 7})
	wantCode(t, err, apierr.ResourceInUse)
	lb := f.acquire("b", shard0, 1)
	if lb.Owner != "b" || lb.Counter != 2 {
		t.Fatalf("stolen lease %+v", lb)
	}
	// a's calls name counter 1: fenced.
	_, err = f.svc.Checkpoint(f.ctx, CheckpointInput{Ref: ref, Worker: "a", ShardID: shard0, Counter: 1, Sequence: seq})
	wantCode(t, err, apierr.LeaseLost)
	err = f.svc.Release(f.ctx, LeaseInput{Ref: ref, Worker: "a", ShardID: shard0, Counter: 1})
	wantCode(t, err, apierr.LeaseLost)
	g, _ := f.svc.Describe(f.ctx, ref)
	if l := g.Leases[0]; l.Owner != "b" || l.Checkpoint != "" || g.Counters.Steals != 1 || g.Counters.Acquisitions != 2 {
		t.Fatalf("after fenced calls: %+v, counters %+v", l, g.Counters)
	}
	// b releases, keeping its checkpoint; releasing again is a no-op.
	if _, err := f.svc.Checkpoint(f.ctx, CheckpointInput{Ref: ref, Worker: "b", ShardID: shard0, Counter: 2, Sequence: seq}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := f.svc.Release(f.ctx, LeaseInput{Ref: ref, Worker: "b", ShardID: shard0, Counter: 2}); err != nil {
			t.Fatal(err)
		}
	}
	g, _ = f.svc.Describe(f.ctx, ref)
	if l := g.Leases[0]; l.Owner != "" || l.Checkpoint != seq || l.Counter != 2 {
		t.Fatalf("after release: %+v", l)
	}
}

func TestExpiry(t *testing.T) {
	f := newFixture(t, 2)
	f.join("a")
	f.join("b")
	f.acquire("a", shard0, 0)
	f.acquire("a", shard1, 0)
	// a heartbeats within the timeout: its leases stay.
	f.clk.advance(DefaultLeaseTimeout - time.Second)
	for _, w := range []string{"a", "b"} {
		if _, err := f.svc.Heartbeat(f.ctx, ref, w); err != nil {
			t.Fatal(err)
		}
	}
	f.clk.advance(DefaultLeaseTimeout - time.Second)
	_, err := f.svc.Acquire(f.ctx, LeaseInput{Ref: ref, Worker: "b", ShardID: shard0})
	wantCode(t, err, apierr.ResourceInUse)
	if _, err := f.svc.Heartbeat(f.ctx, ref, "b"); err != nil {
		t.Fatal(err)
	}
	// a stops; its leases lapse and b takes one without naming a counter.
	f.clk.advance(DefaultLeaseTimeout)
	g, err := f.svc.Heartbeat(f.ctx, ref, "b")
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Workers) != 1 || g.Workers[0].ID != "b" || g.Leases[0].Owner != "" {
		t.Fatalf("after a lapsed: %+v", g)
	}
	if l := f.acquire("b", shard0, 0); l.Counter != 2 {
		t.Fatalf("lease %+v", l)
	}
	// a comes back: its heartbeat renews what nobody took (shard1), not
	// shard0.
	g, err = f.svc.Heartbeat(f.ctx, ref, "a")
	if err != nil {
		t.Fatal(err)
	}
	if g.Leases[0].Owner != "b" || g.Leases[1].Owner != "a" {
		t.Fatalf("after a's return: %+v", g.Leases)
	}
	g, _ = f.svc.Describe(f.ctx, ref)
	if g.Counters.Expiries != 1 || g.Counters.Acquisitions != 3 {
		t.Fatalf("counters %+v", g.Counters)
	}
	// An expired worker must join again before it takes a lease.
	f.clk.advance(DefaultLeaseTimeout)
	_, err = f.svc.Acquire(f.ctx, LeaseInput{Ref: ref, Worker: "a", ShardID: shard0})
	wantCode(t, err, apierr.ResourceNotFound)
	_, err = f.svc.Heartbeat(f.ctx, ref, "nobody")
	wantCode(t, err, apierr.ResourceNotFound)
}

func TestCheckpoint(t *testing.T) {
	f := newFixture(t, 2)
	f.join("a")
	first := f.put("s", 1)
	mid := f.put("s", 4)
	last := f.put("s", 1)
	l := f.acquire("a", shard0, 0)
	cp := func(seq string, end bool) error {
		_, err := f.svc.Checkpoint(f.ctx, CheckpointInput{Ref: ref, Worker: "a", ShardID: shard0, Counter: l.Counter, Sequence: seq, ShardEnd: end})
		return err
	}
	if err := cp(mid, false); err != nil {
		t.Fatal(err)
	}
	other, _ := f.store.Positions(f.ctx, "s")
	tests := []struct {
		name string
		seq  string
		end  bool
		code apierr.Code
	}{
		{"backwards", first, false, apierr.InvalidArgument},
		{"not a sequence number", "12", false, apierr.InvalidArgument},
		{"another shard's", other.Shards[1].Latest, false, apierr.InvalidArgument},
		{"not written yet", shard.FormatSequenceNumber(shard.SequencePosition{StreamID: other.ID, Shard: shard0, Counter: 99}), false, apierr.InvalidArgument},
		{"missing", "", false, apierr.InvalidArgument},
		{"shard end of an open shard", "", true, apierr.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, cp(tt.seq, tt.end), tt.code)
			g, _ := f.svc.Describe(f.ctx, ref)
			if g.Leases[0].Checkpoint != mid {
				t.Fatalf("a refused checkpoint moved it to %s", g.Leases[0].Checkpoint)
			}
		})
	}
	if err := cp(mid, false); err != nil { // the same again: fine
		t.Fatal(err)
	}
	if err := cp(last, false); err != nil {
		t.Fatal(err)
	}
	g, _ := f.svc.Describe(f.ctx, ref)
	if g.Leases[0].LagRecords != 0 || g.Leases[1].LagRecords != 0 {
		t.Fatalf("lag %+v", g.Leases)
	}
}

func TestLag(t *testing.T) {
	f := newFixture(t, 1)
	f.join("a")
	first := f.put("s", 1)
	f.clk.advance(5 * time.Second)
	f.put("s", 9)
	f.clk.advance(time.Second)
	g, _ := f.svc.Describe(f.ctx, ref)
	if l := g.Leases[0]; l.LagRecords != 10 || l.MillisBehind != 6000 {
		t.Fatalf("lag before a checkpoint: %+v", l)
	}
	l := f.acquire("a", shard0, 0)
	if _, err := f.svc.Checkpoint(f.ctx, CheckpointInput{Ref: ref, Worker: "a", ShardID: shard0, Counter: l.Counter, Sequence: first}); err != nil {
		t.Fatal(err)
	}
	g, _ = f.svc.Describe(f.ctx, ref)
	if l := g.Leases[0]; l.LagRecords != 9 || l.MillisBehind != 1000 {
		t.Fatalf("lag after a checkpoint: %+v", l)
	}
}

// TestExactlyOnce checks that output records commit with the checkpoint
// or not at all.
func TestExactlyOnce(t *testing.T) {
	f := newFixture(t, 1)
	f.create("out", 1)
	f.join("a")
	f.join("b")
	s1 := f.put("s", 1)
	s2 := f.put("s", 1)
	l := f.acquire("a", shard0, 0)
	out := []shard.Entry{{PartitionKey: "p", Data: []byte("x")}, {PartitionKey: "p", Data: []byte("y")}}
	cp := func(worker string, counter uint64, seq, stream string) ([]shard.AppendResult, error) {
		return f.svc.Checkpoint(f.ctx, CheckpointInput{Ref: ref, Worker: worker, ShardID: shard0, Counter: counter, Sequence: seq, OutputStream: stream, Output: out})
	}
	outputs := func() int64 {
		n, _, err := f.store.Lag(f.ctx, "out", shard0, "")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	res, err := cp("a", l.Counter, s1, "out")
	if err != nil || len(res) != 2 || res[0].SequenceNumber == "" {
		t.Fatalf("checkpoint: %+v, %v", res, err)
	}
	// A retry of the same checkpoint writes nothing again.
	_, err = cp("a", l.Counter, s1, "out")
	wantCode(t, err, apierr.InvalidArgument)
	// A checkpoint whose output stream is missing writes no checkpoint.
	_, err = cp("a", l.Counter, s2, "missing")
	wantCode(t, err, apierr.ResourceNotFound)
	// A fenced worker's output is not written either.
	f.clk.advance(DefaultLeaseTimeout + time.Second)
	f.join("b")
	f.acquire("b", shard0, 0)
	_, err = cp("a", l.Counter, s2, "out")
	wantCode(t, err, apierr.LeaseLost)
	g, _ := f.svc.Describe(f.ctx, ref)
	if n := outputs(); n != 2 || g.Leases[0].Checkpoint != s1 {
		t.Fatalf("%d output records and checkpoint %s, want 2 and %s", n, g.Leases[0].Checkpoint, s1)
	}
	_, err = f.svc.Checkpoint(f.ctx, CheckpointInput{Ref: ref, Worker: "b", ShardID: shard0, Counter: 2, Sequence: s2, Output: out})
	wantCode(t, err, apierr.InvalidArgument) // no output stream
}

// TestExactlyOnceRace has a worker checkpoint with output while another
// steals its lease: whatever the order, the output is written exactly when
// the checkpoint is.
func TestExactlyOnceRace(t *testing.T) {
	f := newFixture(t, 1)
	f.create("out", 1)
	f.join("a")
	f.join("b")
	committed := 0
	for round := 0; round < 20; round++ {
		last := f.put("s", 1)
		g, _ := f.svc.Heartbeat(f.ctx, ref, "a")
		la := g.Leases[0]
		if la.Owner != "a" {
			la = f.acquire("a", shard0, la.Counter)
		}
		var wg sync.WaitGroup
		wg.Add(2)
		var errA error
		go func() {
			defer wg.Done()
			_, errA = f.svc.Checkpoint(f.ctx, CheckpointInput{Ref: ref, Worker: "a", ShardID: shard0, Counter: la.Counter, Sequence: last,
				OutputStream: "out", Output: []shard.Entry{{PartitionKey: "a", Data: []byte("a")}}})
		}()
		go func() {
			defer wg.Done()
			_, _ = f.svc.Acquire(f.ctx, LeaseInput{Ref: ref, Worker: "b", ShardID: shard0, Counter: la.Counter})
		}()
		wg.Wait()
		if errA != nil && !apierr.Is(errA, apierr.LeaseLost) {
			t.Fatal(errA)
		}
		if errA == nil {
			committed++
		}
		n, _, _ := f.store.Lag(f.ctx, "out", shard0, "")
		g, _ = f.svc.Describe(f.ctx, ref)
		if (g.Leases[0].Checkpoint == last) != (errA == nil) || n != int64(committed) {
			t.Fatalf("round %d: err %v, checkpoint %s (want %s), %d outputs, want %d", round, errA, g.Leases[0].Checkpoint, last, n, committed)
		}
		if errA != nil { // b holds it: let it write the checkpoint a could not
			if _, err := f.svc.Checkpoint(f.ctx, CheckpointInput{Ref: ref, Worker: "b", ShardID: shard0, Counter: la.Counter + 1, Sequence: last}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestReshardLineage(t *testing.T) {
	f := newFixture(t, 1)
	f.join("a")
	f.put("s", 2)
	if err := f.store.SplitShard(f.ctx, shard.SplitShardInput{Stream: "s", ShardToSplit: shard0,
		NewStartingHashKey: "170141183460469231731687303715884105728"}); err != nil {
		t.Fatal(err)
	}
	g, err := f.svc.Heartbeat(f.ctx, ref, "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Leases) != 3 || len(g.Leases[1].Parents) != 1 || g.Leases[1].Parents[0] != shard0 {
		t.Fatalf("leases after a split: %+v", g.Leases)
	}
	child := g.Leases[1].ShardID
	_, err = f.svc.Acquire(f.ctx, LeaseInput{Ref: ref, Worker: "a", ShardID: child})
	wantCode(t, err, apierr.ResourceInUse)
	l := f.acquire("a", shard0, 0)
	if _, err := f.svc.Checkpoint(f.ctx, CheckpointInput{Ref: ref, Worker: "a", ShardID: shard0, Counter: l.Counter, ShardEnd: true}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Acquire(f.ctx, LeaseInput{Ref: ref, Worker: "a", ShardID: shard0})
	wantCode(t, err, apierr.ResourceInUse) // finished
	if l := f.acquire("a", child, 0); l.Owner != "a" {
		t.Fatalf("child lease %+v", l)
	}
	g, _ = f.svc.Describe(f.ctx, ref)
	if !g.Leases[0].Finished || g.Leases[0].Owner != "" || g.Leases[0].LagRecords != 0 {
		t.Fatalf("finished parent %+v", g.Leases[0])
	}
}

func TestLatestGroup(t *testing.T) {
	f := newFixture(t, 1)
	tip := f.put("s", 3)
	g, err := f.svc.Join(f.ctx, JoinInput{Ref: ref, Worker: "a", Initial: Position{Type: shard.Latest}})
	if err != nil {
		t.Fatal(err)
	}
	if g.Leases[0].Checkpoint != tip {
		t.Fatalf("LATEST checkpoint %q, want the tip %s", g.Leases[0].Checkpoint, tip)
	}
	if err := f.store.SplitShard(f.ctx, shard.SplitShardInput{Stream: "s", ShardToSplit: shard0,
		NewStartingHashKey: "170141183460469231731687303715884105728"}); err != nil {
		t.Fatal(err)
	}
	g, _ = f.svc.Describe(f.ctx, ref)
	for _, l := range g.Leases[1:] {
		sp, err := shard.ParseSequenceNumber(l.Checkpoint)
		if err != nil || sp.Counter != 0 || sp.Shard != l.ShardID {
			t.Fatalf("child %s checkpoint %q, want its start", l.ShardID, l.Checkpoint)
		}
	}
}

func TestReset(t *testing.T) {
	f := newFixture(t, 2)
	f.join("a")
	f.put("s", 5)
	l := f.acquire("a", shard0, 0)
	pos, _ := f.store.Positions(f.ctx, "s")
	if _, err := f.svc.Checkpoint(f.ctx, CheckpointInput{Ref: ref, Worker: "a", ShardID: shard0, Counter: l.Counter, Sequence: pos.Shards[0].Latest}); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.Reset(f.ctx, ResetInput{Ref: ref, Position: Position{Type: shard.TrimHorizon}})
	wantCode(t, err, apierr.ResourceInUse)
	f.clk.advance(DefaultLeaseTimeout + time.Millisecond)
	bad := []ResetInput{
		{Ref: ref, Position: Position{Type: "NOWHERE"}},
		{Ref: ref, Position: Position{Type: shard.AtTimestamp}},
		{Ref: ref, Position: Position{Type: shard.TrimHorizon}, ShardID: shard0},
		{Ref: ref, Position: Position{Type: shard.AtSequenceNumber}, ShardID: shard0, Sequence: pos.Shards[1].Latest},
		{Ref: Ref{Stream: "s", Group: "none"}, Position: Position{Type: shard.TrimHorizon}},
	}
	for i, in := range bad {
		if _, err := f.svc.Reset(f.ctx, in); err == nil {
			t.Fatalf("bad reset %d accepted", i)
		}
	}
	g, err := f.svc.Reset(f.ctx, ResetInput{Ref: ref, Position: Position{Type: shard.TrimHorizon}})
	if err != nil {
		t.Fatal(err)
	}
	if g.Leases[0].Checkpoint != "" || g.Leases[0].Counter != 2 || g.Leases[0].Owner != "" {
		t.Fatalf("after reset to TRIM_HORIZON: %+v", g.Leases[0])
	}
	// The fenced worker cannot write its old position back.
	_, err = f.svc.Checkpoint(f.ctx, CheckpointInput{Ref: ref, Worker: "a", ShardID: shard0, Counter: l.Counter, Sequence: pos.Shards[0].Latest})
	wantCode(t, err, apierr.LeaseLost)
	g, err = f.svc.Reset(f.ctx, ResetInput{Ref: ref, Position: Position{Type: shard.Latest}})
	if err != nil || g.Leases[0].Checkpoint != pos.Shards[0].Latest || g.Initial.Type != shard.Latest {
		t.Fatalf("after reset to LATEST: %+v, %v", g, err)
	}
	sp, _ := shard.ParseSequenceNumber(pos.Shards[0].Latest)
	sp.Counter = 2
	g, err = f.svc.Reset(f.ctx, ResetInput{Ref: ref, Position: Position{Type: shard.AtSequenceNumber}, ShardID: shard0, Sequence: shard.FormatSequenceNumber(sp)})
	sp.Counter = 1
	if err != nil || g.Leases[0].Checkpoint != shard.FormatSequenceNumber(sp) {
		t.Fatalf("after reset AT_SEQUENCE_NUMBER: %+v, %v", g.Leases[0], err)
	}
}

func TestDeleteAndStreamDeletion(t *testing.T) {
	f := newFixture(t, 1)
	f.join("a")
	f.acquire("a", shard0, 0)
	if err := f.svc.Delete(f.ctx, ref); err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.svc.Delete(f.ctx, ref), apierr.ResourceNotFound)
	_, err := f.svc.Describe(f.ctx, ref)
	wantCode(t, err, apierr.ResourceNotFound)
	_, err = f.svc.Heartbeat(f.ctx, ref, "a")
	wantCode(t, err, apierr.ResourceNotFound)
	// Created again, the group starts afresh.
	g := f.join("a")
	if g.Leases[0].Counter != 0 || len(g.Workers) != 1 {
		t.Fatalf("recreated group %+v", g)
	}
	f.acquire("a", shard0, 0)

	// Deleting the stream makes its groups unreachable at once; a new
	// stream of the same name has none; the sweep removes the records.
	if err := f.store.DeleteStream(f.ctx, "s"); err != nil {
		t.Fatal(err)
	}
	f.create("s", 1)
	if names, err := f.svc.List(f.ctx, "s", ""); err != nil || len(names) != 0 {
		t.Fatalf("groups of the new stream: %v, %v", names, err)
	}
	f.join("b") // a group on the new stream stays
	if err := f.svc.Sweep(f.ctx); err != nil {
		t.Fatal(err)
	}
	keys := 0
	_ = f.store.ScanValues(namespace, "", func(string, []byte) error { keys++; return nil })
	if keys != 2 { // the new group's meta and worker
		t.Fatalf("%d records after the sweep, want 2", keys)
	}
	if _, err := f.svc.Describe(f.ctx, ref); err != nil {
		t.Fatal(err)
	}
}

// TestDurable checks that leases and checkpoints survive a restart of
// the store (they commit fsynced, like records).
func TestDurable(t *testing.T) {
	f := newFixture(t, 1)
	f.join("a")
	seq := f.put("s", 2)
	l := f.acquire("a", shard0, 0)
	if _, err := f.svc.Checkpoint(f.ctx, CheckpointInput{Ref: ref, Worker: "a", ShardID: shard0, Counter: l.Counter, Sequence: seq}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Close(); err != nil {
		t.Fatal(err)
	}
	f.open()
	g, err := f.svc.Describe(f.ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if l := g.Leases[0]; l.Owner != "a" || l.Counter != 1 || l.Checkpoint != seq {
		t.Fatalf("after restart: %+v", l)
	}
}

func TestLeave(t *testing.T) {
	f := newFixture(t, 2)
	f.join("a")
	f.acquire("a", shard0, 0)
	f.acquire("a", shard1, 0)
	if err := f.svc.Leave(f.ctx, ref, "a"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Leave(f.ctx, ref, "a"); err != nil {
		t.Fatal(err)
	}
	g, _ := f.svc.Describe(f.ctx, ref)
	if len(g.Workers) != 0 || g.Leases[0].Owner != "" || g.Leases[1].Owner != "" || g.Leases[0].Counter != 1 {
		t.Fatalf("after leave: %+v", g)
	}
	var ae *apierr.Error
	if err := f.svc.Leave(f.ctx, Ref{Stream: "s", Group: "none"}, "a"); !errors.As(err, &ae) {
		t.Fatalf("leave of a missing group: %v", err)
	}
}

func TestCollector(t *testing.T) {
	f := newFixture(t, 1)
	f.join("a")
	f.put("s", 4)
	f.clk.advance(1500 * time.Millisecond)
	f.acquire("a", shard0, 0)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(f.svc.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := ""
			for _, l := range m.GetLabel() {
				labels += l.GetName() + "=" + l.GetValue() + ","
			}
			if labels != "group=g,stream=s," {
				t.Errorf("%s labels %s", mf.GetName(), labels)
			}
			got[mf.GetName()] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{
		"spate_group_behind_latest_seconds":    1.5,
		"spate_group_lag_records":              4,
		"spate_group_lease_acquisitions_total": 1,
		"spate_group_lease_steals_total":       0,
		"spate_group_lease_expiries_total":     0,
		"spate_group_workers":                  1,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("metrics %v, want %v", got, want)
	}
}

// TestMergeLineage: a merge's child waits for both parents.
func TestMergeLineage(t *testing.T) {
	f := newFixture(t, 2)
	f.join("a")
	if err := f.store.MergeShards(f.ctx, shard.MergeShardsInput{Stream: "s", ShardToMerge: shard0, AdjacentShardToMerge: shard1}); err != nil {
		t.Fatal(err)
	}
	g, _ := f.svc.Describe(f.ctx, ref)
	child := g.Leases[2]
	if len(child.Parents) != 2 {
		t.Fatalf("merged child %+v", child)
	}
	for i, parent := range []string{shard0, shard1} {
		_, err := f.svc.Acquire(f.ctx, LeaseInput{Ref: ref, Worker: "a", ShardID: child.ShardID})
		wantCode(t, err, apierr.ResourceInUse)
		l := f.acquire("a", parent, 0)
		if _, err := f.svc.Checkpoint(f.ctx, CheckpointInput{Ref: ref, Worker: "a", ShardID: parent, Counter: l.Counter, ShardEnd: true}); err != nil {
			t.Fatalf("finish parent %d: %v", i, err)
		}
	}
	f.acquire("a", child.ShardID, 0)
}

// TestDroppedParent: a parent that retention dropped is gone from the
// leases and no longer holds its children back.
func TestDroppedParent(t *testing.T) {
	f := newFixture(t, 1)
	f.join("a")
	f.put("s", 2)
	if err := f.store.SplitShard(f.ctx, shard.SplitShardInput{Stream: "s", ShardToSplit: shard0,
		NewStartingHashKey: "170141183460469231731687303715884105728"}); err != nil {
		t.Fatal(err)
	}
	f.clk.advance(25 * time.Hour)
	if err := f.store.TrimExpired(f.ctx); err != nil {
		t.Fatal(err)
	}
	g := f.join("a")
	if len(g.Leases) != 2 || g.Leases[0].ShardID == shard0 {
		t.Fatalf("leases after the parent was dropped: %+v", g.Leases)
	}
	f.acquire("a", g.Leases[0].ShardID, 0)
}
