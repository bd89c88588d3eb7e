package groups

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/shard"
)

// TestStress runs workers that join, heartbeat, acquire, steal, checkpoint
// with output, release and leave at random while the clock jumps, then
// checks the invariants from the server's records: one output record per
// acknowledged checkpoint (none twice, none lost), and every shard's
// checkpoint is the largest acknowledged (none went backwards).
func TestStress(t *testing.T) {
	const workers, shards, steps = 6, 4, 60
	f := newFixture(t, shards, WithLeaseTimeout(2*time.Second))
	f.create("out", 1)
	// Records to checkpoint in every shard.
	pos, _ := f.store.Positions(f.ctx, "s")
	for i := range pos.Shards {
		for j := 0; j < steps; j++ {
			if _, err := f.store.Append(f.ctx, "s", []shard.Entry{{PartitionKey: "k", ExplicitHashKey: hashKeyOf(i, shards), Data: []byte("x")}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	pos, _ = f.store.Positions(f.ctx, "s")
	var (
		mu      sync.Mutex
		outputs int                   // output records acknowledged
		best    = map[string]string{} // highest acknowledged checkpoint per shard
	)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(w), 7))
			id := fmt.Sprint("w", w)
			held := map[string]uint64{}
			for step := 0; step < steps; step++ {
				switch op := rnd.IntN(10); {
				case op == 0:
					f.clk.advance(time.Duration(rnd.IntN(1500)) * time.Millisecond)
				case op == 1:
					_ = f.svc.Leave(f.ctx, ref, id)
					held = map[string]uint64{}
				case op <= 3:
					if _, err := f.svc.Join(f.ctx, JoinInput{Ref: ref, Worker: id}); err != nil {
						t.Error(err)
					}
				case op <= 5:
					sh := pos.Shards[rnd.IntN(shards)].ShardID
					g, err := f.svc.Heartbeat(f.ctx, ref, id)
					if err != nil {
						continue
					}
					var counter uint64
					for _, l := range g.Leases {
						if l.ShardID == sh {
							counter = l.Counter
						}
					}
					if l, err := f.svc.Acquire(f.ctx, LeaseInput{Ref: ref, Worker: id, ShardID: sh, Counter: counter}); err == nil {
						held[sh] = l.Counter
					}
				default:
					for sh, counter := range held {
						sp, _ := shard.ParseSequenceNumber(pos.Shards[0].Latest)
						for _, p := range pos.Shards {
							if p.ShardID == sh {
								sp, _ = shard.ParseSequenceNumber(p.Latest)
							}
						}
						sp.Counter = uint64(1 + rnd.IntN(steps))
						seq := shard.FormatSequenceNumber(sp)
						_, err := f.svc.Checkpoint(f.ctx, CheckpointInput{Ref: ref, Worker: id, ShardID: sh, Counter: counter, Sequence: seq,
							OutputStream: "out", Output: []shard.Entry{{PartitionKey: id, Data: []byte(seq)}}})
						switch {
						case err == nil:
							mu.Lock()
							outputs++
							best[sh] = max(best[sh], seq)
							mu.Unlock()
						case apierr.Is(err, apierr.LeaseLost):
							delete(held, sh)
						case apierr.Is(err, apierr.InvalidArgument): // backwards or equal: refused
						default:
							t.Error(err)
						}
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	n, _, err := f.store.Lag(f.ctx, "out", shard0, "")
	if err != nil {
		t.Fatal(err)
	}
	g, _ := f.svc.Describe(f.ctx, ref)
	for _, l := range g.Leases {
		if l.Checkpoint != best[l.ShardID] {
			t.Errorf("shard %s checkpointed at %q, the last acknowledged was %q", l.ShardID, l.Checkpoint, best[l.ShardID])
		}
	}
	if int(n) != outputs || outputs == 0 {
		t.Fatalf("%d output records for %d acknowledged checkpoints; counters %+v", n, outputs, g.Counters)
	}
}

// hashKeyOf returns a hash key inside shard i of n equal shards.
func hashKeyOf(i, n int) string {
	k := new(big.Int).Lsh(big.NewInt(1), 128)
	k.Div(k, big.NewInt(int64(n)))
	k.Mul(k, big.NewInt(int64(i)))
	return k.Add(k, big.NewInt(1)).String()
}
