package integration

import (
	"context"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestReshardKill9 is TestCrashKill9 with the stream resharded back and
// forth (UpdateShardCount 4 -> 6 -> 3 -> 6 ...) while the producers put,
// and SIGKILL while a reshard may be in flight. After the restart the
// layout is whole, the old one or the new one (the open shards tile the
// hash-key space, every parent is closed), no reshard that returned is
// lost, no closed shard holds a record beyond its EndingSequenceNumber, and
// the records are as TestCrashKill9 wants them.
func TestReshardKill9(t *testing.T) {
	eachDurability(t, func(t *testing.T, durability string) {
		k := newKin(t, withArgs("--durability", durability, "--shard-count-updates", "0"))
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		stream := uniqueName(t)
		k.create(ctx, t, stream, crashShards)

		ledger := &crashLedger{records: make(map[string]*sentRecord)}
		var killed atomic.Bool
		var reshards, shardsAfter atomic.Int64 // completed reshards; shards listed after the last one
		enough := make(chan struct{})
		var enoughOnce sync.Once
		check := func() {
			if ledger.acked.Load() >= crashKillAfter && reshards.Load() >= 3 {
				enoughOnce.Do(func() { close(enough) })
			}
		}
		var wg sync.WaitGroup
		for p := range crashProducers / 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := produce(ctx, k.c, stream, p, ledger, check); !killed.Load() {
					t.Errorf("producer %d failed before the kill: %v", p, err)
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				target := []int32{6, 3}[i%2]
				_, err := k.c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String(stream),
					TargetShardCount: aws.Int32(target), ScalingType: types.ScalingTypeUniformScaling})
				if err == nil {
					var out *kinesis.ListShardsOutput
					out, err = k.c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream), MaxResults: aws.Int32(10000)})
					if err == nil {
						shardsAfter.Store(int64(len(out.Shards)))
						reshards.Add(1)
						check()
						continue
					}
				}
				if !killed.Load() {
					t.Errorf("reshard %d failed before the kill: %v", i, err)
				}
				return
			}
		}()
		done := make(chan struct{})
		go func() {
			wg.Wait()
			close(done)
		}()
		select {
		case <-enough:
		case <-done:
			t.Fatal("producers and resharder stopped before the kill")
		case <-ctx.Done():
			t.Fatalf("waiting for %d records and 3 reshards: %v", crashKillAfter, ctx.Err())
		}
		killed.Store(true)
		k.srv.Kill9(t)
		<-done

		k.restart(t)
		all := k.shards(ctx, t, stream)
		if int64(len(all)) < shardsAfter.Load() {
			t.Errorf("%d shards after the restart; %d were listed after the last reshard that returned", len(all), shardsAfter.Load())
		}
		checkTiling(t, all)
		got := k.readAll(ctx, t, stream)
		for _, sh := range all {
			end := aws.ToString(sh.SequenceNumberRange.EndingSequenceNumber)
			for _, r := range got[aws.ToString(sh.ShardId)] {
				if end != "" && aws.ToString(r.SequenceNumber) > end {
					t.Errorf("closed shard %s holds %s beyond its end %s", aws.ToString(sh.ShardId), aws.ToString(r.SequenceNumber), end)
				}
			}
		}
		checkCrashRecovery(t, durability, ledger, got)
		t.Logf("%d reshards returned before the kill; %d shards after the restart", reshards.Load(), len(all))

		// The restarted server reshards and takes puts.
		if _, err := k.c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String(stream),
			TargetShardCount: aws.Int32(4), ScalingType: types.ScalingTypeUniformScaling}); err != nil {
			t.Fatal(err)
		}
		k.put(ctx, t, stream, "after", []byte("after the restart"))
	})
}

// checkTiling fails unless the open shards tile the hash-key space and every
// parent a shard names is closed.
func checkTiling(t *testing.T, shards []types.Shard) {
	t.Helper()
	open := map[string]bool{}
	starts := map[string]string{} // start -> end of the open shards
	for _, sh := range shards {
		if sh.SequenceNumberRange.EndingSequenceNumber == nil {
			open[aws.ToString(sh.ShardId)] = true
			starts[aws.ToString(sh.HashKeyRange.StartingHashKey)] = aws.ToString(sh.HashKeyRange.EndingHashKey)
		}
	}
	for _, sh := range shards {
		for _, p := range []*string{sh.ParentShardId, sh.AdjacentParentShardId} {
			if p != nil && open[*p] {
				t.Errorf("shard %s names parent %s, which is open", aws.ToString(sh.ShardId), *p)
			}
		}
	}
	next := big.NewInt(0)
	for n := 0; n < len(starts); n++ {
		end, ok := starts[next.String()]
		if !ok {
			t.Fatalf("no open shard starts at hash key %s: %v", next, starts)
		}
		next = new(big.Int).Add(bigInt(t, end), big.NewInt(1))
	}
	if next.Cmp(two128) != 0 {
		t.Fatalf("the open shards end at %s, not 2^128-1", next)
	}
}
