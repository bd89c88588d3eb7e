package groups

import (
	"fmt"
	"testing"
)

// BenchmarkHeartbeat measures one worker's heartbeat in a group of 8
// workers over 32 shards, each holding 4 leases: the read of the group,
// the compare-and-set commit of the worker and its leases, fsynced.
func BenchmarkHeartbeat(b *testing.B) {
	f := newFixture(b, 32)
	for w := 0; w < 8; w++ {
		f.join(fmt.Sprint("w", w))
		for i := 0; i < 4; i++ {
			f.acquire(fmt.Sprint("w", w), fmt.Sprintf("shardId-%012d", w*4+i), 0)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.svc.Heartbeat(f.ctx, ref, "w0"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckpoint measures a checkpoint of one lease (no output).
func BenchmarkCheckpoint(b *testing.B) {
	f := newFixture(b, 32)
	f.join("w")
	l := f.acquire("w", shard0, 0)
	seq := f.put("s", 1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.svc.Checkpoint(f.ctx, CheckpointInput{Ref: ref, Worker: "w", ShardID: shard0, Counter: l.Counter, Sequence: seq}); err != nil {
			b.Fatal(err)
		}
	}
}
