package shard

import (
	"context"
	"fmt"
	"math/big"
	mrand "math/rand"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/spatehq/spate/apierr"
)

func mustDescribe(t *testing.T, s *Store, name string) StreamDescription {
	t.Helper()
	d, err := s.DescribeStream(context.Background(), name, MaxListLimit, "")
	if err != nil {
		t.Fatalf("DescribeStream(%s): %v", name, err)
	}
	return d
}

func shardByID(t *testing.T, d StreamDescription, id string) ShardInfo {
	t.Helper()
	for _, sh := range d.Shards {
		if sh.ShardID == id {
			return sh
		}
	}
	t.Fatalf("stream %s has no shard %s", d.Name, id)
	return ShardInfo{}
}

// checkLayout checks the invariants of a stream's shards: the open shards
// tile the hash-key space, every parent named is closed, and every closed
// shard's children cover its range.
func checkLayout(t *testing.T, d StreamDescription) {
	t.Helper()
	byID := map[string]ShardInfo{}
	var open []ShardInfo
	for _, sh := range d.Shards {
		byID[sh.ShardID] = sh
		if sh.SequenceNumberRange.End == "" {
			open = append(open, sh)
		}
	}
	next := big.NewInt(0)
	for len(open) > 0 {
		found := false
		for i, sh := range open {
			if bigOf(sh.HashKeyRange.Start).Cmp(next) == 0 {
				next = new(big.Int).Add(bigOf(sh.HashKeyRange.End), big.NewInt(1))
				open = append(open[:i], open[i+1:]...)
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("open shards of %s do not tile the hash-key space: none starts at %s (%+v)", d.Name, next, d.Shards)
		}
	}
	if next.Cmp(new(big.Int).Lsh(big.NewInt(1), 128)) != 0 {
		t.Fatalf("open shards of %s end at %s, not 2^128-1", d.Name, next)
	}
	for _, sh := range d.Shards {
		for _, p := range []string{sh.ParentShardID, sh.AdjacentParentShardID} {
			if parent, ok := byID[p]; ok && parent.SequenceNumberRange.End == "" {
				t.Fatalf("shard %s names parent %s, which is open", sh.ShardID, p)
			}
		}
	}
}

func TestSplitShard(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "")
	mustCreate(t, s, "s", 1)
	before := mustAppend(t, s, ctx, "s", []Entry{{PartitionKey: "a", Data: []byte("1")}, {PartitionKey: "b", Data: []byte("2")}})
	mid := new(big.Int).Lsh(big.NewInt(1), 127).String()
	if err := s.SplitShard(ctx, SplitShardInput{Stream: "s", ShardToSplit: "shardId-000000000000", NewStartingHashKey: mid}); err != nil {
		t.Fatal(err)
	}
	d := mustDescribe(t, s, "s")
	checkLayout(t, d)
	if len(d.Shards) != 3 || d.OpenShardCount != 2 {
		t.Fatalf("got %d shards, %d open; want 3, 2", len(d.Shards), d.OpenShardCount)
	}
	parent := shardByID(t, d, ShardID(0))
	if want := formatSeq(1, 0, 2); parent.SequenceNumberRange.End != want {
		t.Fatalf("parent ends at %s, want %s (its last record)", parent.SequenceNumberRange.End, want)
	}
	lo, hi := shardByID(t, d, ShardID(1)), shardByID(t, d, ShardID(2))
	if lo.ParentShardID != ShardID(0) || hi.ParentShardID != ShardID(0) || lo.AdjacentParentShardID != "" {
		t.Fatalf("children's parents: %+v %+v", lo, hi)
	}
	if hi.HashKeyRange.Start != mid || bigOf(lo.HashKeyRange.End).Cmp(new(big.Int).Sub(bigOf(mid), big.NewInt(1))) != 0 {
		t.Fatalf("children's ranges: %+v %+v", lo.HashKeyRange, hi.HashKeyRange)
	}

	after := mustAppend(t, s, ctx, "s", []Entry{{PartitionKey: "a", Data: []byte("3")}, {PartitionKey: "b", Data: []byte("4")}})
	for i, r := range after {
		if r.ShardID == ShardID(0) {
			t.Fatalf("record %d went to the closed parent", i)
		}
		// Children number after their parent: sequence numbers of one
		// key keep growing across the split.
		if r.SequenceNumber <= before[i].SequenceNumber {
			t.Fatalf("key %d: %s after the split is not above %s before it", i, r.SequenceNumber, before[i].SequenceNumber)
		}
	}

	// The parent reads to its end, then names its children and no iterator.
	it, err := s.ShardIterator(ctx, "s", ShardID(0), Position{Type: TrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.GetRecords(ctx, it, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Records) != 2 || out.NextIterator != "" || len(out.ChildShards) != 2 {
		t.Fatalf("GetRecords at the parent's end: %d records, next %q, children %+v", len(out.Records), out.NextIterator, out.ChildShards)
	}
	for _, c := range out.ChildShards {
		if !reflect.DeepEqual(c.ParentShards, []string{ShardID(0)}) {
			t.Fatalf("child %s names parents %v", c.ShardID, c.ParentShards)
		}
	}
	// LATEST on a closed shard is at its end too.
	it, _ = s.ShardIterator(ctx, "s", ShardID(0), Position{Type: Latest})
	if out, err = s.GetRecords(ctx, it, 0); err != nil || out.NextIterator != "" || len(out.ChildShards) != 2 {
		t.Fatalf("LATEST on the parent: %+v, %v", out, err)
	}
}

func TestSplitEmptyShardEndsAtItsStart(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "")
	mustCreate(t, s, "s", 2)
	if err := s.SplitShard(ctx, SplitShardInput{Stream: "s", ShardToSplit: ShardID(1), NewStartingHashKey: new(big.Int).Lsh(big.NewInt(3), 126).String()}); err != nil {
		t.Fatal(err)
	}
	sh := shardByID(t, mustDescribe(t, s, "s"), ShardID(1))
	if sh.SequenceNumberRange.End != sh.SequenceNumberRange.Start {
		t.Fatalf("an empty parent ends at %s, want its start %s", sh.SequenceNumberRange.End, sh.SequenceNumberRange.Start)
	}
	c, err := s.Seek(ctx, "s", ShardID(1), Position{Type: TrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Read(ctx, c, 10, MaxGetRecordsBytes)
	if err != nil || !res.ShardEnded || len(res.ChildShards) != 2 {
		t.Fatalf("read of an empty closed shard: %+v, %v", res, err)
	}
	// AFTER_SEQUENCE_NUMBER at the end is at the end.
	c, err = s.Seek(ctx, "s", ShardID(1), Position{Type: AfterSequenceNumber, SequenceNumber: sh.SequenceNumberRange.End})
	if err != nil {
		t.Fatal(err)
	}
	if res, err = s.Read(ctx, c, 10, MaxGetRecordsBytes); err != nil || !res.ShardEnded {
		t.Fatalf("read after the ending sequence number: %+v, %v", res, err)
	}
}

func TestMergeShards(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "")
	mustCreate(t, s, "s", 3)
	mustAppend(t, s, ctx, "s", []Entry{{PartitionKey: "x", ExplicitHashKey: "0", Data: []byte("a")}})
	// The upper shard first: the child's parent is ShardToMerge whatever its side.
	if err := s.MergeShards(ctx, MergeShardsInput{Stream: "s", ShardToMerge: ShardID(1), AdjacentShardToMerge: ShardID(0)}); err != nil {
		t.Fatal(err)
	}
	d := mustDescribe(t, s, "s")
	checkLayout(t, d)
	child := shardByID(t, d, ShardID(3))
	if child.ParentShardID != ShardID(1) || child.AdjacentParentShardID != ShardID(0) || child.HashKeyRange.Start != "0" ||
		child.HashKeyRange.End != shardByID(t, d, ShardID(1)).HashKeyRange.End {
		t.Fatalf("merged child: %+v", child)
	}
	if d.OpenShardCount != 2 {
		t.Fatalf("%d open shards, want 2", d.OpenShardCount)
	}
	if r := mustAppend(t, s, ctx, "s", []Entry{{PartitionKey: "x", ExplicitHashKey: "0", Data: []byte("b")}}); r[0].ShardID != ShardID(3) {
		t.Fatalf("append after the merge went to %s", r[0].ShardID)
	}
	for _, p := range []string{ShardID(0), ShardID(1)} {
		c, _ := s.Seek(ctx, "s", p, Position{Type: TrimHorizon})
		res := readToEnd(t, s, c)
		if len(res.ChildShards) != 1 || res.ChildShards[0].ShardID != ShardID(3) ||
			!reflect.DeepEqual(res.ChildShards[0].ParentShards, []string{ShardID(1), ShardID(0)}) {
			t.Fatalf("children of %s: %+v", p, res.ChildShards)
		}
	}
}

// readToEnd reads from c until the shard ends and returns the last result
// with every record read.
func readToEnd(t *testing.T, s *Store, c Cursor) ReadResult {
	t.Helper()
	var all []Record
	for range 1000 {
		res, err := s.Read(context.Background(), c, 100, MaxGetRecordsBytes)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, res.Records...)
		if res.ShardEnded {
			res.Records = all
			return res
		}
		if len(res.Records) == 0 {
			t.Fatalf("shard %s has not ended", c.ShardID)
		}
		c = res.Next
	}
	t.Fatal("read does not end")
	return ReadResult{}
}

func openRanges(d StreamDescription) [][2]string {
	var out [][2]string
	for _, sh := range d.Shards {
		if sh.SequenceNumberRange.End == "" {
			out = append(out, [2]string{sh.HashKeyRange.Start, sh.HashKeyRange.End})
		}
	}
	return out
}

func TestUpdateShardCount(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "")
	mustCreate(t, s, "s", 2)
	for _, step := range []struct{ from, to int }{{2, 4}, {4, 3}, {3, 5}, {5, 3}, {3, 2}, {2, 1}, {1, 1}} {
		out, err := s.UpdateShardCount(ctx, UpdateShardCountInput{Stream: "s", TargetShardCount: step.to, ScalingType: UniformScaling})
		if err != nil {
			t.Fatalf("%d -> %d: %v", step.from, step.to, err)
		}
		if out.CurrentShardCount != step.from || out.TargetShardCount != step.to || out.Stream != "s" || out.ARN != s.StreamARN("s") {
			t.Fatalf("%d -> %d: output %+v", step.from, step.to, out)
		}
		d := mustDescribe(t, s, "s")
		checkLayout(t, d)
		var want [][2]string
		for _, r := range splitHashSpace(step.to) {
			want = append(want, [2]string{r[0].String(), r[1].String()})
		}
		got := openRanges(d)
		// open shards are listed by index; sort them by start for the comparison
		for i := range got {
			for j := i + 1; j < len(got); j++ {
				if bigOf(got[j][0]).Cmp(bigOf(got[i][0])) < 0 {
					got[i], got[j] = got[j], got[i]
				}
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%d -> %d: open ranges %v, want %v", step.from, step.to, got, want)
		}
		// Every closed shard leads to children that cover its range.
		for _, sh := range d.Shards {
			if sh.SequenceNumberRange.End == "" {
				continue
			}
			c, err := s.Seek(ctx, "s", sh.ShardID, Position{Type: Latest})
			if err != nil {
				t.Fatal(err)
			}
			res := readToEnd(t, s, c)
			covered := new(big.Int).Set(bigOf(sh.HashKeyRange.Start))
			for _, ch := range res.ChildShards {
				if bigOf(ch.HashKeyRange.Start).Cmp(bigOf(sh.HashKeyRange.End)) <= 0 && bigOf(ch.HashKeyRange.End).Cmp(covered) >= 0 {
					covered = new(big.Int).Add(bigOf(ch.HashKeyRange.End), big.NewInt(1))
				}
			}
			if covered.Cmp(bigOf(sh.HashKeyRange.End)) <= 0 {
				t.Fatalf("%d -> %d: children %+v of %s do not cover %+v", step.from, step.to, res.ChildShards, sh.ShardID, sh.HashKeyRange)
			}
		}
	}
}

func TestReshardErrors(t *testing.T) {
	ctx := context.Background()
	mid := new(big.Int).Lsh(big.NewInt(1), 127)
	split := func(stream, shard, key string) func(*Store) error {
		return func(s *Store) error {
			return s.SplitShard(ctx, SplitShardInput{Stream: stream, ShardToSplit: shard, NewStartingHashKey: key})
		}
	}
	merge := func(a, b string) func(*Store) error {
		return func(s *Store) error {
			return s.MergeShards(ctx, MergeShardsInput{Stream: "s", ShardToMerge: a, AdjacentShardToMerge: b})
		}
	}
	scale := func(n int, typ ScalingType) func(*Store) error {
		return func(s *Store) error {
			_, err := s.UpdateShardCount(ctx, UpdateShardCountInput{Stream: "s", TargetShardCount: n, ScalingType: typ})
			return err
		}
	}
	// Stream "s" starts with shards 0 and 1; setup may reshard it first.
	tests := []struct {
		name  string
		opts  []Option
		setup func(*testing.T, *Store)
		call  func(*Store) error
		want  apierr.Code
	}{
		{"split: no stream", nil, nil, split("nope", ShardID(0), "1"), apierr.ResourceNotFound},
		{"split: no shard", nil, nil, split("s", ShardID(9), "1"), apierr.ResourceNotFound},
		{"split: malformed shard", nil, nil, split("s", "shardId-x", "1"), apierr.ResourceNotFound},
		{"split: missing hash key", nil, nil, split("s", ShardID(0), ""), apierr.Validation},
		{"split: hash key not a number", nil, nil, split("s", ShardID(0), "12a"), apierr.InvalidArgument},
		{"split: hash key above 2^128-1", nil, nil, split("s", ShardID(1), new(big.Int).Lsh(big.NewInt(1), 128).String()), apierr.InvalidArgument},
		{"split: hash key at the shard's start", nil, nil, split("s", ShardID(0), "0"), apierr.InvalidArgument},
		{"split: hash key in another shard", nil, nil, split("s", ShardID(0), new(big.Int).Add(mid, big.NewInt(1)).String()), apierr.InvalidArgument},
		{"split: hash key at the next shard's start", nil, nil, split("s", ShardID(0), mid.String()), apierr.InvalidArgument},
		{"split: closed shard", nil, func(t *testing.T, s *Store) {
			if err := split("s", ShardID(0), "5")(s); err != nil {
				t.Fatal(err)
			}
		}, split("s", ShardID(0), "7"), apierr.ResourceInUse},
		{"split: account shard limit", []Option{WithShardLimit(2)}, nil, split("s", ShardID(0), "5"), apierr.LimitExceeded},
		{"split: UPDATING", []Option{WithUpdateDelay(time.Hour)}, func(t *testing.T, s *Store) {
			if err := merge(ShardID(0), ShardID(1))(s); err != nil {
				t.Fatal(err)
			}
		}, split("s", ShardID(2), "5"), apierr.ResourceInUse},
		{"split: CREATING", []Option{WithCreateDelay(time.Hour)}, nil, split("s", ShardID(0), "5"), apierr.ResourceInUse},
		{"split: ON_DEMAND", nil, func(t *testing.T, s *Store) {
			if err := s.UpdateStreamMode(ctx, "s", ModeOnDemand, nil); err != nil {
				t.Fatal(err)
			}
		}, split("s", ShardID(0), "5"), apierr.Validation},
		{"merge: no shard", nil, nil, merge(ShardID(0), ShardID(7)), apierr.ResourceNotFound},
		{"merge: same shard", nil, nil, merge(ShardID(0), ShardID(0)), apierr.InvalidArgument},
		{"merge: not adjacent", nil, func(t *testing.T, s *Store) {
			if err := split("s", ShardID(1), new(big.Int).Lsh(big.NewInt(3), 126).String())(s); err != nil {
				t.Fatal(err)
			}
		}, merge(ShardID(0), ShardID(3)), apierr.InvalidArgument},
		{"merge: closed shard", nil, func(t *testing.T, s *Store) {
			if err := split("s", ShardID(1), new(big.Int).Lsh(big.NewInt(3), 126).String())(s); err != nil {
				t.Fatal(err)
			}
		}, merge(ShardID(0), ShardID(1)), apierr.ResourceInUse},
		{"merge: UPDATING", []Option{WithUpdateDelay(time.Hour)}, func(t *testing.T, s *Store) {
			if err := split("s", ShardID(0), "5")(s); err != nil {
				t.Fatal(err)
			}
		}, merge(ShardID(2), ShardID(3)), apierr.ResourceInUse},
		{"merge: ON_DEMAND", nil, func(t *testing.T, s *Store) {
			if err := s.UpdateStreamMode(ctx, "s", ModeOnDemand, nil); err != nil {
				t.Fatal(err)
			}
		}, merge(ShardID(0), ShardID(1)), apierr.Validation},
		{"scale: more than double", nil, nil, scale(5, UniformScaling), apierr.LimitExceeded},
		{"scale: below half", nil, func(t *testing.T, s *Store) {
			if err := scale(4, UniformScaling)(s); err != nil {
				t.Fatal(err)
			}
		}, scale(1, UniformScaling), apierr.LimitExceeded},
		{"scale: zero", nil, nil, scale(0, UniformScaling), apierr.Validation},
		{"scale: no scaling type", nil, nil, scale(2, ""), apierr.Validation},
		{"scale: unknown scaling type", nil, nil, scale(2, "LINEAR"), apierr.Validation},
		{"scale: calls per day", []Option{WithShardCountUpdates(2)}, func(t *testing.T, s *Store) {
			for _, n := range []int{3, 2} {
				if err := scale(n, UniformScaling)(s); err != nil {
					t.Fatal(err)
				}
			}
		}, scale(3, UniformScaling), apierr.LimitExceeded},
		// 2 -> 3 splits both shards before merging two pieces: 4 open at the peak.
		{"scale: account limit counts short-lived shards", []Option{WithShardLimit(3)}, nil, scale(3, UniformScaling), apierr.LimitExceeded},
		{"scale: UPDATING", []Option{WithUpdateDelay(time.Hour)}, func(t *testing.T, s *Store) {
			if err := scale(3, UniformScaling)(s); err != nil {
				t.Fatal(err)
			}
		}, scale(2, UniformScaling), apierr.ResourceInUse},
		{"scale: no stream", nil, nil, func(s *Store) error {
			_, err := s.UpdateShardCount(ctx, UpdateShardCountInput{Stream: "nope", TargetShardCount: 2, ScalingType: UniformScaling})
			return err
		}, apierr.ResourceNotFound},
		{"scale: ON_DEMAND", nil, func(t *testing.T, s *Store) {
			if err := s.UpdateStreamMode(ctx, "s", ModeOnDemand, nil); err != nil {
				t.Fatal(err)
			}
		}, scale(4, UniformScaling), apierr.Validation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, "", tc.opts...)
			if err := s.CreateStream(ctx, CreateStreamInput{Name: "s", ShardCount: 2}); err != nil {
				t.Fatal(err)
			}
			if tc.setup != nil {
				tc.setup(t, s)
			}
			before, err := s.DescribeStream(ctx, "s", MaxListLimit, "")
			if err != nil && !apierr.Is(err, apierr.ResourceNotFound) {
				t.Fatal(err)
			}
			wantCode(t, tc.call(s), tc.want)
			after, _ := s.DescribeStream(ctx, "s", MaxListLimit, "")
			if !reflect.DeepEqual(before, after) {
				t.Fatalf("a refused request changed the stream:\n%+v\n%+v", before, after)
			}
			s.mu.RLock()
			pending := s.streams["s"].resharding
			s.mu.RUnlock()
			if pending {
				t.Fatal("a refused reshard left the stream marked as resharding")
			}
		})
	}
}

func TestReshardStatus(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	s := openTest(t, "", WithClock(clock.now), WithUpdateDelay(time.Minute))
	mustCreate(t, s, "s", 1)
	if err := s.SplitShard(ctx, SplitShardInput{Stream: "s", ShardToSplit: ShardID(0), NewStartingHashKey: "100"}); err != nil {
		t.Fatal(err)
	}
	if d := mustDescribe(t, s, "s"); d.Status != StatusUpdating {
		t.Fatalf("status %s right after SplitShard, want UPDATING", d.Status)
	}
	// Writes and reads go on while UPDATING.
	r := mustAppend(t, s, ctx, "s", []Entry{{PartitionKey: "k", ExplicitHashKey: "100", Data: []byte("x")}})
	if r[0].ShardID != ShardID(2) {
		t.Fatalf("append while UPDATING went to %s", r[0].ShardID)
	}
	if got := readAll(t, s, "s", ShardID(2), Position{Type: TrimHorizon}); len(got) != 1 {
		t.Fatalf("read %d records while UPDATING", len(got))
	}
	clock.advance(time.Minute)
	if d := mustDescribe(t, s, "s"); d.Status != StatusActive {
		t.Fatalf("status %s after the update delay, want ACTIVE", d.Status)
	}
	if err := s.MergeShards(ctx, MergeShardsInput{Stream: "s", ShardToMerge: ShardID(1), AdjacentShardToMerge: ShardID(2)}); err != nil {
		t.Fatal(err)
	}
}

// TestReshardUnderLoad: producers write keyed records while the stream is
// split, merged and scaled. Every acknowledged record is read exactly once,
// in the shard it was acknowledged in, no closed shard holds a record
// beyond its end, and each key's sequence numbers grow in the order its
// records were acknowledged, across parents and children.
func TestReshardUnderLoad(t *testing.T) {
	for _, d := range []Durability{DurabilitySync, DurabilityRelaxed} {
		t.Run(d.String(), func(t *testing.T) { testReshardUnderLoad(t, d) })
	}
}

// untilStopped calls fn(0), fn(1), ... in a goroutine until stop is closed
// or fn fails.
func untilStopped(t *testing.T, wg *sync.WaitGroup, stop <-chan struct{}, fn func(i int) error) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := fn(i); err != nil {
				t.Error(err)
				return
			}
		}
	}()
}

func testReshardUnderLoad(t *testing.T, durability Durability) {
	ctx := context.Background()
	s := openTest(t, "", WithDurability(durability))
	mustCreate(t, s, "s", 2)
	type ack struct{ shard, seq, data string }
	var (
		mu    sync.Mutex
		acks  = map[string][]ack{} // by partition key, in acknowledgement order
		stop  = make(chan struct{})
		wg    sync.WaitGroup
		total int
	)
	const producers = 8
	for p := range producers {
		untilStopped(t, &wg, stop, func(i int) error {
			var entries []Entry
			for k := range 3 {
				key := fmt.Sprintf("p%d-k%d", p, k)
				entries = append(entries, Entry{PartitionKey: key, Data: []byte(fmt.Sprintf("%s-%d", key, i))})
			}
			res, err := s.Append(ctx, "s", entries)
			if err != nil {
				return err
			}
			mu.Lock()
			for j, r := range res {
				acks[entries[j].PartitionKey] = append(acks[entries[j].PartitionKey], ack{r.ShardID, r.SequenceNumber, string(entries[j].Data)})
			}
			total += len(res)
			mu.Unlock()
			return nil
		})
	}
	// A Commit writer too: its appends are routed and re-routed the same way.
	untilStopped(t, &wg, stop, func(i int) error {
		data := fmt.Sprintf("txn-%d", i)
		res, err := s.Commit(ctx, Commit{Appends: []StreamAppend{{Stream: "s", Entries: []Entry{{PartitionKey: "txn", Data: []byte(data)}}}}})
		if err != nil {
			return err
		}
		mu.Lock()
		acks["txn"] = append(acks["txn"], ack{res[0][0].ShardID, res[0][0].SequenceNumber, data})
		total++
		mu.Unlock()
		return nil
	})
	// A reader reads every shard meanwhile, under the race detector.
	untilStopped(t, &wg, stop, func(int) error {
		d, err := s.DescribeStream(ctx, "s", MaxListLimit, "")
		if err != nil {
			return err
		}
		for _, sh := range d.Shards {
			c, err := s.Seek(ctx, "s", sh.ShardID, Position{Type: TrimHorizon})
			if err != nil {
				return err
			}
			if _, err := s.Read(ctx, c, 100, MaxGetRecordsBytes); err != nil {
				return err
			}
		}
		return nil
	})
	waitFor := func(n int) {
		for {
			mu.Lock()
			got := total
			mu.Unlock()
			if got >= n {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	steps := []func() error{
		func() error { // 2 -> 3: split shard 0 in the middle of its range
			return s.SplitShard(ctx, SplitShardInput{Stream: "s", ShardToSplit: ShardID(0), NewStartingHashKey: new(big.Int).Lsh(big.NewInt(1), 126).String()})
		},
		func() error { // 3 -> 2
			return s.MergeShards(ctx, MergeShardsInput{Stream: "s", ShardToMerge: ShardID(3), AdjacentShardToMerge: ShardID(1)})
		},
		func() error {
			_, err := s.UpdateShardCount(ctx, UpdateShardCountInput{Stream: "s", TargetShardCount: 4, ScalingType: UniformScaling})
			return err
		},
		func() error {
			_, err := s.UpdateShardCount(ctx, UpdateShardCountInput{Stream: "s", TargetShardCount: 3, ScalingType: UniformScaling})
			return err
		},
		func() error {
			_, err := s.UpdateShardCount(ctx, UpdateShardCountInput{Stream: "s", TargetShardCount: 2, ScalingType: UniformScaling})
			return err
		},
		func() error {
			_, err := s.UpdateShardCount(ctx, UpdateShardCountInput{Stream: "s", TargetShardCount: 1, ScalingType: UniformScaling})
			return err
		},
	}
	for i, step := range steps {
		waitFor((i + 1) * 300)
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	waitFor((len(steps) + 1) * 300)
	close(stop)
	wg.Wait()

	d := mustDescribe(t, s, "s")
	checkLayout(t, d)
	read := map[string]string{}    // sequence number -> data
	inShard := map[string]string{} // sequence number -> shard
	for _, sh := range d.Shards {
		c, err := s.Seek(ctx, "s", sh.ShardID, Position{Type: TrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		var recs []Record
		if sh.SequenceNumberRange.End != "" {
			recs = readToEnd(t, s, c).Records
		} else {
			recs = readAll(t, s, "s", sh.ShardID, Position{Type: TrimHorizon})
		}
		for _, r := range recs {
			if _, dup := read[r.SequenceNumber]; dup {
				t.Fatalf("record %s read twice", r.SequenceNumber)
			}
			if end := sh.SequenceNumberRange.End; end != "" && r.SequenceNumber > end {
				t.Fatalf("closed shard %s holds %s beyond its end %s", sh.ShardID, r.SequenceNumber, end)
			}
			read[r.SequenceNumber] = string(r.Data)
			inShard[r.SequenceNumber] = sh.ShardID
		}
	}
	n := 0
	for key, list := range acks {
		for i, a := range list {
			n++
			if read[a.seq] != a.data || inShard[a.seq] != a.shard {
				t.Fatalf("acknowledged %s (%q in %s) read as %q in %s", a.seq, a.data, a.shard, read[a.seq], inShard[a.seq])
			}
			if i > 0 && a.seq <= list[i-1].seq {
				t.Fatalf("key %s: %s acknowledged after %s has a smaller sequence number", key, a.seq, list[i-1].seq)
			}
		}
	}
	if n != len(read) {
		t.Fatalf("read %d records, %d acknowledged", len(read), n)
	}
}

// TestSubscribeEndsAtSplit: a subscriber waiting at the tip of a shard
// is woken by the split and told the children.
func TestSubscribeEndsAtSplit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := openTest(t, "")
	mustCreate(t, s, "s", 1)
	mustAppend(t, s, ctx, "s", []Entry{{PartitionKey: "a", Data: []byte("1")}})
	done := make(chan ReadResult, 1)
	first := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- s.Subscribe(ctx, "s", ShardID(0), Position{Type: TrimHorizon}, func(r ReadResult) error {
			if r.ShardEnded {
				done <- r
			} else {
				close(first) // then it waits at the tip
			}
			return nil
		})
	}()
	<-first
	if err := s.SplitShard(ctx, SplitShardInput{Stream: "s", ShardToSplit: ShardID(0), NewStartingHashKey: "1000"}); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if len(r.ChildShards) != 2 {
		t.Fatalf("the last event names %d children", len(r.ChildShards))
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func TestReshardSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "s", 2)
	mustAppend(t, s, ctx, "s", []Entry{{PartitionKey: "a", Data: []byte("1")}})
	if _, err := s.UpdateShardCount(ctx, UpdateShardCountInput{Stream: "s", TargetShardCount: 3, ScalingType: UniformScaling}); err != nil {
		t.Fatal(err)
	}
	before := mustDescribe(t, s, "s")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	after := mustDescribe(t, s, "s")
	if !reflect.DeepEqual(before.Shards, after.Shards) {
		t.Fatalf("shards after a restart:\n%+v\nwant\n%+v", after.Shards, before.Shards)
	}
	r := mustAppend(t, s, ctx, "s", []Entry{{PartitionKey: "a", Data: []byte("2")}})
	if sh := shardByID(t, after, r[0].ShardID); sh.SequenceNumberRange.End != "" {
		t.Fatalf("append after a restart went to closed shard %s", r[0].ShardID)
	}
	// The update count survives too.
	s.mu.RLock()
	n := len(s.streams["s"].meta.ShardCountUpdatesMs)
	s.mu.RUnlock()
	if n != 1 {
		t.Fatalf("%d shard-count updates remembered, want 1", n)
	}
}

// TestReshardPowerLoss: a power loss at any moment while splits and merges
// run under appends leaves the old layout or the new one, each consistent:
// the open shards tile the hash-key space, every parent is closed, no
// closed shard holds a record beyond its end.
func TestReshardPowerLoss(t *testing.T) {
	ctx := context.Background()
	fs := vfs.NewCrashableMem()
	s, err := Open("db", withFS(fs))
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "s", 2)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for p := range 4 {
		untilStopped(t, &wg, stop, func(i int) error {
			_, err := s.Append(ctx, "s", []Entry{{PartitionKey: fmt.Sprintf("%d-%d", p, i), Data: []byte("x")}})
			return err
		})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var clones []*vfs.MemFS
	for i := range 6 {
		n := 3 + i%2 // 2 -> 3 -> 4 -> 3 -> ...
		if _, err := s.UpdateShardCount(ctx, UpdateShardCountInput{Stream: "s", TargetShardCount: n, ScalingType: UniformScaling}); err != nil {
			t.Fatal(err)
		}
		clones = append(clones, fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 50, RNG: rng}))
	}
	close(stop)
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for i, c := range clones {
		s, err := Open("db", withFS(c))
		if err != nil {
			t.Fatalf("clone %d: %v", i, err)
		}
		d := mustDescribe(t, s, "s")
		checkLayout(t, d)
		for _, sh := range d.Shards {
			if sh.SequenceNumberRange.End == "" {
				continue
			}
			c, err := s.Seek(ctx, "s", sh.ShardID, Position{Type: TrimHorizon})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range readToEnd(t, s, c).Records {
				if r.SequenceNumber > sh.SequenceNumberRange.End {
					t.Fatalf("clone %d: closed shard %s holds %s beyond its end %s", i, sh.ShardID, r.SequenceNumber, sh.SequenceNumberRange.End)
				}
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestListShardsFiltersWithClosedShards(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	s := openTest(t, "", WithClock(clock.now))
	mustCreate(t, s, "s", 1)
	t0 := clock.now()
	clock.advance(time.Hour)
	split := func(shard uint32, key string) time.Time {
		if err := s.SplitShard(ctx, SplitShardInput{Stream: "s", ShardToSplit: ShardID(shard), NewStartingHashKey: key}); err != nil {
			t.Fatal(err)
		}
		return clock.now()
	}
	t1 := split(0, new(big.Int).Lsh(big.NewInt(1), 127).String()) // 0 -> 1, 2
	clock.advance(time.Hour)
	t2 := split(1, "1000") // 1 -> 3, 4
	clock.advance(time.Hour)
	ids := func(f *ShardFilter) []string {
		out, err := s.ListShards(ctx, ListShardsInput{Stream: "s", Filter: f})
		if err != nil {
			t.Fatalf("ListShards(%+v): %v", f, err)
		}
		var got []string
		for _, sh := range out.Shards {
			got = append(got, sh.ShardID[len(sh.ShardID)-1:])
		}
		return got
	}
	// Retention is 24 h: the trim horizon is t0 - 21 h, before everything.
	tests := []struct {
		name string
		f    *ShardFilter
		want []string
	}{
		{"none", nil, []string{"0", "1", "2", "3", "4"}},
		{"AFTER_SHARD_ID", &ShardFilter{Type: FilterAfterShardID, ShardID: ShardID(2)}, []string{"3", "4"}},
		{"AT_TRIM_HORIZON", &ShardFilter{Type: FilterAtTrimHorizon}, []string{"0"}},
		{"FROM_TRIM_HORIZON", &ShardFilter{Type: FilterFromTrimHorizon}, []string{"0", "1", "2", "3", "4"}},
		{"AT_LATEST", &ShardFilter{Type: FilterAtLatest}, []string{"2", "3", "4"}},
		{"AT_TIMESTAMP before the first split", &ShardFilter{Type: FilterAtTimestamp, Timestamp: t0}, []string{"0"}},
		{"AT_TIMESTAMP at the first split", &ShardFilter{Type: FilterAtTimestamp, Timestamp: t1}, []string{"0", "1", "2"}},
		{"AT_TIMESTAMP between the splits", &ShardFilter{Type: FilterAtTimestamp, Timestamp: t1.Add(time.Minute)}, []string{"1", "2"}},
		{"AT_TIMESTAMP after the splits", &ShardFilter{Type: FilterAtTimestamp, Timestamp: t2.Add(time.Minute)}, []string{"2", "3", "4"}},
		{"FROM_TIMESTAMP before the first split", &ShardFilter{Type: FilterFromTimestamp, Timestamp: t0}, []string{"0", "1", "2", "3", "4"}},
		{"FROM_TIMESTAMP between the splits", &ShardFilter{Type: FilterFromTimestamp, Timestamp: t1.Add(time.Minute)}, []string{"1", "2", "3", "4"}},
		{"FROM_TIMESTAMP after the splits", &ShardFilter{Type: FilterFromTimestamp, Timestamp: t2.Add(time.Minute)}, []string{"2", "3", "4"}},
	}
	for _, tc := range tests {
		if got := ids(tc.f); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	// Once the trim horizon passes the first split, shard 0 is no longer
	// open at it, and FROM_TIMESTAMP before it is corrected to it.
	clock.advance(22*time.Hour + 30*time.Minute) // the horizon is now between t1 and t2
	if got := ids(&ShardFilter{Type: FilterAtTrimHorizon}); !reflect.DeepEqual(got, []string{"1", "2"}) {
		t.Errorf("AT_TRIM_HORIZON later: %v", got)
	}
	if got := ids(&ShardFilter{Type: FilterFromTimestamp, Timestamp: t0}); !reflect.DeepEqual(got, []string{"1", "2", "3", "4"}) {
		t.Errorf("FROM_TIMESTAMP before the trim horizon: %v", got)
	}
}

// TestTrimDropsEmptiedShards: once retention has trimmed every record of a
// closed shard it leaves DescribeStream and ListShards, its keys are
// deleted, and a restart keeps it gone without reusing its index.
func TestTrimDropsEmptiedShards(t *testing.T) {
	ctx := context.Background()
	clock := newClock()
	dir := t.TempDir()
	s, err := Open(dir, WithClock(clock.now), WithTrimInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "s", 1)
	mustAppend(t, s, ctx, "s", []Entry{{PartitionKey: "a", Data: []byte("1")}})
	if err := s.SplitShard(ctx, SplitShardInput{Stream: "s", ShardToSplit: ShardID(0), NewStartingHashKey: "1000"}); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, ctx, "s", []Entry{{PartitionKey: "a", Data: []byte("2")}})
	clock.advance(23 * time.Hour)
	if err := s.TrimExpired(ctx); err != nil {
		t.Fatal(err)
	}
	if d := mustDescribe(t, s, "s"); len(d.Shards) != 3 {
		t.Fatalf("a closed shard with records in retention was dropped: %+v", d.Shards)
	}
	clock.advance(2 * time.Hour)
	if err := s.TrimExpired(ctx); err != nil {
		t.Fatal(err)
	}
	check := func(s *Store) {
		t.Helper()
		d := mustDescribe(t, s, "s")
		if len(d.Shards) != 2 || d.Shards[0].ShardID != ShardID(1) || d.Shards[0].ParentShardID != ShardID(0) {
			t.Fatalf("shards after the parent was trimmed away: %+v", d.Shards)
		}
		out, err := s.ListShards(ctx, ListShardsInput{Stream: "s"})
		if err != nil || len(out.Shards) != 2 {
			t.Fatalf("ListShards: %+v, %v", out, err)
		}
		_, err = s.ShardIterator(ctx, "s", ShardID(0), Position{Type: TrimHorizon})
		wantCode(t, err, apierr.ResourceNotFound)
		if m, err := s.StreamMetrics(ctx, "s"); err != nil || len(m.Shards) != 2 {
			t.Fatalf("StreamMetrics lists %d shards (%v), want the 2 left", len(m.Shards), err)
		}
		_, closer, err := s.db.Get(highKey(1, 0))
		if err == nil {
			_ = closer.Close()
			t.Fatal("the dropped shard's high-water mark is still there")
		}
		if err != pebble.ErrNotFound {
			t.Fatal(err)
		}
	}
	// An iterator of the dropped shard, issued before the drop, reaches
	// its end at once, across a restart too.
	it, err := s.ShardIterator(ctx, "s", ShardID(1), Position{Type: TrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.decodeIterator(it)
	if err != nil {
		t.Fatal(err)
	}
	c.shard, c.next = 0, 0
	old := s.encodeIterator(c, clock.now().UnixMilli())
	ends := func(s *Store) {
		t.Helper()
		out, err := s.GetRecords(ctx, old, 0)
		if err != nil || out.NextIterator != "" || len(out.ChildShards) != 2 {
			t.Fatalf("GetRecords of the dropped shard: %+v, %v", out, err)
		}
	}
	check(s)
	ends(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir, WithClock(clock.now))
	check(s)
	ends(s)
	if err := s.SplitShard(ctx, SplitShardInput{Stream: "s", ShardToSplit: ShardID(1), NewStartingHashKey: "10"}); err != nil {
		t.Fatal(err)
	}
	d := mustDescribe(t, s, "s")
	if last := d.Shards[len(d.Shards)-1].ShardID; last != ShardID(4) {
		t.Fatalf("the next split created %s, want shardId-000000000004", last)
	}
	checkLayout(t, d)
}

// TestAutoReshardOnDemand: the store's own scaling reshards an ON_DEMAND
// stream, which the API refuses.
func TestAutoReshardOnDemand(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "")
	if err := s.CreateStream(ctx, CreateStreamInput{Name: "s", Mode: ModeOnDemand}); err != nil {
		t.Fatal(err)
	}
	if err := s.autoSplit(ctx, "s", 0, big.NewInt(10)); err != nil {
		t.Fatal(err)
	}
	if err := s.autoMerge(ctx, "s", 4, 5); err != nil {
		t.Fatal(err)
	}
	d := mustDescribe(t, s, "s")
	checkLayout(t, d)
	if d.OpenShardCount != 4 || len(d.Shards) != 7 {
		t.Fatalf("%d open of %d shards, want 4 of 7", d.OpenShardCount, len(d.Shards))
	}
}

// TestPlanUniform: from uneven layouts (random splits), uniform(n) leaves
// exactly the n ranges CreateStream would give, closes only shards it
// replaces, and counts its splits.
func TestPlanUniform(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	bigRNG := mrand.New(mrand.NewSource(7)) // big.Int.Rand takes math/rand's
	for trial := range 200 {
		m := &streamMeta{}
		start := 1 + rng.IntN(6)
		for i, r := range splitHashSpace(start) {
			m.Shards = append(m.Shards, shardMeta{Index: uint32(i), HashStart: r[0].String(), HashEnd: r[1].String()})
		}
		p := newPlan(m, 1)
		for range rng.IntN(5) {
			open := p.open()
			i := open[rng.IntN(len(open))]
			lo, hi := bigOf(p.shards[i].HashStart), bigOf(p.shards[i].HashEnd)
			span := new(big.Int).Sub(hi, lo)
			at := new(big.Int).Add(lo, new(big.Int).Add(big.NewInt(1), new(big.Int).Rand(bigRNG, span)))
			p.split(i, at)
		}
		m.Shards = p.shards
		for i := range m.Shards {
			if p.closed[m.Shards[i].Index] {
				m.Shards[i].ClosedAtMs = 1
			}
		}
		before := len(p.open())
		n := (before+1)/2 + rng.IntN(2*before-(before+1)/2+1)
		q := newPlan(m, 2)
		q.uniform(n)
		var got [][2]string
		for _, i := range q.open() {
			got = append(got, [2]string{q.shards[i].HashStart, q.shards[i].HashEnd})
		}
		var want [][2]string
		for _, r := range splitHashSpace(n) {
			want = append(want, [2]string{r[0].String(), r[1].String()})
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d: %d -> %d: open ranges %v, want %v", trial, before, n, got, want)
		}
		for _, sm := range q.shards[len(m.Shards):] {
			if sm.Parent != nil && !q.closed[*sm.Parent] || sm.AdjacentParent != nil && !q.closed[*sm.AdjacentParent] {
				t.Fatalf("trial %d: new shard %d names a parent the plan did not close", trial, sm.Index)
			}
		}
	}
}

// TestReshardLimitRace: two streams split at once with room for one more
// shard. Whether the second is refused when it is called or when the
// writer applies it, exactly one succeeds, the account's limit holds, and
// neither stream is left marked as resharding.
func TestReshardLimitRace(t *testing.T) {
	ctx := context.Background()
	for range 10 {
		s := openTest(t, "", WithShardLimit(3))
		mustCreate(t, s, "a", 1)
		mustCreate(t, s, "b", 1)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, name := range []string{"a", "b"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.SplitShard(ctx, SplitShardInput{Stream: name, ShardToSplit: ShardID(0), NewStartingHashKey: "1000"})
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else {
				wantCode(t, err, apierr.LimitExceeded)
			}
		}
		l, _ := s.Limits(ctx)
		if won != 1 || l.OpenShardCount != 3 {
			t.Fatalf("%d splits succeeded, %d shards open; want 1, 3 (errors %v)", won, l.OpenShardCount, errs)
		}
		s.mu.RLock()
		pending := s.streams["a"].resharding || s.streams["b"].resharding
		s.mu.RUnlock()
		if pending {
			t.Fatal("a stream is left marked as resharding")
		}
	}
}

// AllShards follows ListShards' pages: a stream at the 10,000-shard limit
// with one split lists 10,002 shards, more than one page holds.
func TestAllShardsPastOnePage(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "", WithShardLimit(MaxListLimit+2))
	mustCreate(t, s, "s", MaxListLimit)
	if err := s.SplitShard(ctx, SplitShardInput{Stream: "s", ShardToSplit: ShardID(0), NewStartingHashKey: "1000"}); err != nil {
		t.Fatal(err)
	}
	all, err := s.AllShards(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != MaxListLimit+2 {
		t.Fatalf("AllShards listed %d shards, want %d", len(all), MaxListLimit+2)
	}
	for i, sh := range all {
		if sh.ShardID != ShardID(uint32(i)) {
			t.Fatalf("shard %d is %s, want %s", i, sh.ShardID, ShardID(uint32(i)))
		}
	}
	if _, err := s.AllShards(ctx, "missing"); err == nil {
		t.Error("AllShards of a missing stream: no error")
	}
}
