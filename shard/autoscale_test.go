package shard

import (
	"context"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/spatehq/spate/apierr"
)

// testScaler returns a store whose own scaling loop is off and a scaler of
// it with cfg, which the test drives with sample at times of its choosing.
func testScaler(t *testing.T, cfg AutoScaling, opts ...Option) (*Store, *scaler) {
	t.Helper()
	s := openTest(t, "", append(opts, WithAutoScaling(AutoScaling{Off: true}))...)
	return s, newScaler(s, cfg.WithDefaults())
}

// keysIn returns n distinct partition keys whose hashes fall in [start, end].
func keysIn(n int, start, end string) []string {
	lo, hi := bigOf(start), bigOf(end)
	var keys []string
	for i := 0; len(keys) < n; i++ {
		k := fmt.Sprintf("key-%d", i)
		if h := partitionHash(k).big(); h.Cmp(lo) >= 0 && h.Cmp(hi) <= 0 {
			keys = append(keys, k)
		}
	}
	return keys
}

// put appends one record of each key, rounds times.
func put(t *testing.T, s *Store, stream string, keys []string, rounds int) {
	t.Helper()
	for r := range rounds {
		var entries []Entry
		for _, k := range keys {
			entries = append(entries, Entry{PartitionKey: k, Data: []byte(fmt.Sprint(r))})
			if len(entries) == MaxPutRecordsEntries {
				if _, err := s.Append(context.Background(), stream, entries); err != nil {
					t.Fatal(err)
				}
				entries = nil
			}
		}
		if len(entries) > 0 {
			if _, err := s.Append(context.Background(), stream, entries); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestAutoScaleSplitsHotShard(t *testing.T) {
	ctx := context.Background()
	cfg := AutoScaling{SplitRecordsPerSec: 100, SplitAfter: 2 * time.Second}
	cases := []struct {
		name string
		// seconds are the sample times; before each sample but the first,
		// hot[i] says whether shard 0 took 200 records in the second (or
		// none).
		hot       []bool
		wantSplit bool
	}{
		{"hot for SplitAfter", []bool{true, true}, true},
		{"hot for less", []bool{true}, false},
		{"hot, a cool second, hot", []bool{true, false, true}, false},
		{"cool, then hot for SplitAfter", []bool{false, true, true}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, sc := testScaler(t, cfg)
			if err := s.CreateStream(ctx, CreateStreamInput{Name: "s", Mode: ModeOnDemand}); err != nil {
				t.Fatal(err)
			}
			sh0 := shardByID(t, mustDescribe(t, s, "s"), ShardID(0))
			keys := keysIn(50, sh0.HashKeyRange.Start, sh0.HashKeyRange.End)
			t0 := time.Unix(1000, 0)
			sc.sample(ctx, t0)
			for i, hot := range tc.hot {
				if hot {
					put(t, s, "s", keys, 4)
				}
				sc.sample(ctx, t0.Add(time.Duration(i+1)*time.Second))
			}
			d := mustDescribe(t, s, "s")
			checkLayout(t, d)
			m, err := s.StreamMetrics(ctx, "s")
			if err != nil {
				t.Fatal(err)
			}
			if !tc.wantSplit {
				if d.OpenShardCount != 4 || m.AutoSplits != 0 {
					t.Fatalf("%d open shards, %d automatic splits; want no split", d.OpenShardCount, m.AutoSplits)
				}
				return
			}
			if d.OpenShardCount != 5 || m.AutoSplits != 1 {
				t.Fatalf("%d open shards, %d automatic splits; want shard 0 split", d.OpenShardCount, m.AutoSplits)
			}
			if shardByID(t, d, ShardID(0)).SequenceNumberRange.End == "" {
				t.Fatal("shard 0 is still open")
			}
			// The split halves the keys' traffic (each key took as many
			// records), rather than the range.
			at := bigOf(shardByID(t, d, ShardID(5)).HashKeyRange.Start)
			below := 0
			for _, k := range keys {
				if partitionHash(k).big().Cmp(at) < 0 {
					below++
				}
			}
			if below != len(keys)/2 {
				t.Errorf("split at %s leaves %d of %d keys below, want half", at, below, len(keys))
			}
		})
	}
}

// TestAutoScaleSplitPoint: the middle of the range when the records cannot
// tell, no split when they all share one key.
func TestAutoScaleSplitPoint(t *testing.T) {
	ctx := context.Background()
	s, sc := testScaler(t, AutoScaling{})
	if err := s.CreateStream(ctx, CreateStreamInput{Name: "s", Mode: ModeOnDemand, ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	sh := func() *shardState {
		s.mu.RLock()
		defer s.mu.RUnlock()
		return s.streams["s"].shards[0]
	}()
	mid := new(big.Int).Lsh(big.NewInt(1), 127)
	if at := s.splitPoint(sh, sc.cfg); at == nil || at.Cmp(mid) != 0 {
		t.Errorf("empty shard: split at %v, want the middle %v", at, mid)
	}
	put(t, s, "s", []string{"one-key"}, 100)
	if at := s.splitPoint(sh, sc.cfg); at != nil {
		t.Errorf("one key: split at %v, want none", at)
	}
	// Explicit hash keys are not stored: records routed by one do not
	// count, and too few others leave the middle.
	if err := s.CreateStream(ctx, CreateStreamInput{Name: "two", Mode: ModeOnDemand, ShardCount: 2}); err != nil {
		t.Fatal(err)
	}
	d := mustDescribe(t, s, "two")
	var entries []Entry
	for _, k := range keysIn(100, shardByID(t, d, ShardID(1)).HashKeyRange.Start, maxHashKey.String()) {
		entries = append(entries, Entry{PartitionKey: k, ExplicitHashKey: "7", Data: []byte("x")})
	}
	if _, err := s.Append(ctx, "two", entries); err != nil {
		t.Fatal(err)
	}
	sh0 := func() *shardState {
		s.mu.RLock()
		defer s.mu.RUnlock()
		return s.streams["two"].shards[0]
	}()
	mid = new(big.Int).Lsh(big.NewInt(1), 126)
	if at := s.splitPoint(sh0, sc.cfg); at == nil || at.Cmp(mid) != 0 {
		t.Errorf("records routed by explicit hash keys: split at %v, want the middle %v", at, mid)
	}
}

func TestAutoScaleMergesColdShards(t *testing.T) {
	ctx := context.Background()
	s, sc := testScaler(t, AutoScaling{MergeRecordsPerSec: 10, MergeAfter: 10 * time.Second})
	if err := s.CreateStream(ctx, CreateStreamInput{Name: "s", Mode: ModeOnDemand, ShardCount: 7}); err != nil {
		t.Fatal(err)
	}
	d := mustDescribe(t, s, "s")
	// Shard 6 stays warm: it is never merged.
	warm := keysIn(20, shardByID(t, d, ShardID(6)).HashKeyRange.Start, shardByID(t, d, ShardID(6)).HashKeyRange.End)
	t0 := time.Unix(1000, 0)
	for i := range 10 {
		put(t, s, "s", warm, 5) // 100 records in 5 s
		sc.sample(ctx, t0.Add(time.Duration(5*i)*time.Second))
	}
	d = mustDescribe(t, s, "s")
	checkLayout(t, d)
	if d.OpenShardCount != 4 {
		t.Fatalf("%d open shards after the merges, want the minimum 4", d.OpenShardCount)
	}
	if shardByID(t, d, ShardID(6)).SequenceNumberRange.End != "" {
		t.Error("the warm shard 6 was merged")
	}
	m, err := s.StreamMetrics(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	if m.AutoMerges != 3 {
		t.Errorf("%d automatic merges, want 3", m.AutoMerges)
	}
}

// TestAutoScaleLeavesOthersAlone: a PROVISIONED stream and an UPDATING
// ON_DEMAND one are not resharded, however hot.
func TestAutoScaleLeavesOthersAlone(t *testing.T) {
	ctx := context.Background()
	s, sc := testScaler(t, AutoScaling{SplitRecordsPerSec: 10, SplitAfter: time.Second}, WithUpdateDelay(time.Hour))
	mustCreate(t, s, "p", 1)
	mustCreate(t, s, "u", 1)
	if err := s.UpdateStreamMode(ctx, "u", ModeOnDemand, nil); err != nil { // UPDATING for an hour
		t.Fatal(err)
	}
	if err := s.autoSplit(ctx, "p", 0, big.NewInt(10)); !apierr.Is(err, apierr.ResourceInUse) {
		t.Errorf("autoSplit of a PROVISIONED stream: %v, want ResourceInUseException", err)
	}
	t0 := time.Unix(1000, 0)
	for i := range 4 {
		put(t, s, "p", keysIn(50, "0", maxHashKey.String()), 1)
		put(t, s, "u", keysIn(50, "0", maxHashKey.String()), 1)
		sc.sample(ctx, t0.Add(time.Duration(i)*time.Second))
	}
	for _, name := range []string{"p", "u"} {
		if d := mustDescribe(t, s, name); d.OpenShardCount != 1 {
			t.Errorf("stream %s has %d open shards, want 1", name, d.OpenShardCount)
		}
	}
}

// TestAutoScaleLoop: the store's own loop splits a hot ON_DEMAND shard.
func TestAutoScaleLoop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := openTest(t, "", WithAutoScaling(AutoScaling{Interval: 10 * time.Millisecond, SplitRecordsPerSec: 1, SplitAfter: 30 * time.Millisecond}))
	if err := s.CreateStream(ctx, CreateStreamInput{Name: "s", Mode: ModeOnDemand, ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	keys := keysIn(20, "0", maxHashKey.String())
	for mustDescribe(t, s, "s").OpenShardCount < 2 {
		if ctx.Err() != nil {
			t.Fatal("no automatic split")
		}
		put(t, s, "s", keys, 1)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestAutoScalingDefaults(t *testing.T) {
	got := AutoScaling{SplitAfter: time.Second}.WithDefaults()
	want := DefaultAutoScaling()
	want.SplitAfter = time.Second
	if got != want {
		t.Errorf("withDefaults = %+v, want %+v", got, want)
	}
}

// TestAutoScaleRespectsShardLimit: a hot shard is not split beyond the
// account's open-shard limit.
func TestAutoScaleRespectsShardLimit(t *testing.T) {
	ctx := context.Background()
	s, sc := testScaler(t, AutoScaling{SplitRecordsPerSec: 10, SplitAfter: time.Second}, WithShardLimit(4))
	if err := s.CreateStream(ctx, CreateStreamInput{Name: "s", Mode: ModeOnDemand}); err != nil {
		t.Fatal(err)
	}
	keys := keysIn(100, "0", maxHashKey.String())
	t0 := time.Unix(1000, 0)
	for i := range 4 {
		put(t, s, "s", keys, 1)
		sc.sample(ctx, t0.Add(time.Duration(i)*time.Second))
	}
	if d := mustDescribe(t, s, "s"); d.OpenShardCount != 4 {
		t.Errorf("%d open shards, want 4: the account's limit", d.OpenShardCount)
	}
	if len(sc.failed) != 1 {
		t.Errorf("failures noted: %v, want the stream's LimitExceededException", sc.failed)
	}
}

// TestAutoScaleSkipsOneKeyShard: the hottest shard takes one key, which no
// split spreads; the next hot shard is split instead of waiting behind it.
func TestAutoScaleSkipsOneKeyShard(t *testing.T) {
	ctx := context.Background()
	s, sc := testScaler(t, AutoScaling{SplitRecordsPerSec: 10, SplitAfter: time.Second})
	if err := s.CreateStream(ctx, CreateStreamInput{Name: "s", Mode: ModeOnDemand}); err != nil {
		t.Fatal(err)
	}
	d := mustDescribe(t, s, "s")
	one := keysIn(1, shardByID(t, d, ShardID(0)).HashKeyRange.Start, shardByID(t, d, ShardID(0)).HashKeyRange.End)
	many := keysIn(20, shardByID(t, d, ShardID(1)).HashKeyRange.Start, shardByID(t, d, ShardID(1)).HashKeyRange.End)
	t0 := time.Unix(1000, 0)
	for i := range 4 {
		put(t, s, "s", one, 100)
		put(t, s, "s", many, 2)
		sc.sample(ctx, t0.Add(time.Duration(i)*time.Second))
	}
	d = mustDescribe(t, s, "s")
	if shardByID(t, d, ShardID(0)).SequenceNumberRange.End != "" {
		t.Error("the one-key shard 0 was split")
	}
	if shardByID(t, d, ShardID(1)).SequenceNumberRange.End == "" {
		t.Error("the hot shard 1 was not split")
	}
}

// TestAutoReshardLeavesStreamActive: a user's reshard makes the stream
// UPDATING for the update delay; the scaler's does not.
func TestAutoReshardLeavesStreamActive(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "", WithUpdateDelay(time.Hour), WithAutoScaling(AutoScaling{Off: true}))
	if err := s.CreateStream(ctx, CreateStreamInput{Name: "s", Mode: ModeOnDemand}); err != nil {
		t.Fatal(err)
	}
	if err := s.autoSplit(ctx, "s", 0, big.NewInt(10)); err != nil {
		t.Fatal(err)
	}
	if d := mustDescribe(t, s, "s"); d.Status != StatusActive {
		t.Errorf("status %s after an automatic split, want ACTIVE", d.Status)
	}
	if err := s.autoMerge(ctx, "s", 4, 5); err != nil {
		t.Errorf("a second automatic reshard at once: %v", err)
	}
}
