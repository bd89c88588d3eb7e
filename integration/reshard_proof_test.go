package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// The resharding proofs of issue 13: 8 producers write keyed records with
// PutRecords while the stream is resharded 2 → 4 → 3 → 2 → 1 shards, and a
// reader that follows the lineage as the KCL does (readLineage) reads every
// acknowledged record exactly once and each key's records in the order they
// were acknowledged; then the same with the server killed (SIGKILL) in the
// middle of the split and restarted on its data directory.

const (
	proofProducers = 8
	proofKeys      = 4 // per producer
)

// keyedProducers put records of their own keys through the client that
// client returns (the server's ports change at a restart). A key's next
// record is only sent once the previous one is acknowledged, so a key's
// acknowledgement order is its send order; a record that fails (its
// ErrorCode, or the whole request) is sent again, with a new attempt
// number in its data: "key/index/attempt".
type keyedProducers struct {
	name   string
	client func() *kinesis.Client

	mu sync.Mutex
	// acked is each key's acknowledged data, in acknowledgement order.
	acked map[string][]string
	// sent is every data ever sent, acknowledged or not.
	sent  map[string]bool
	total atomic.Int64
	// failed counts failed entries and requests (retried).
	failed atomic.Int64
	// tolerate is set while request errors are expected (a kill).
	tolerate atomic.Bool

	stop chan struct{}
	wg   sync.WaitGroup
}

func startKeyedProducers(ctx context.Context, t *testing.T, name string, client func() *kinesis.Client) *keyedProducers {
	kp := &keyedProducers{name: name, client: client, acked: map[string][]string{}, sent: map[string]bool{}, stop: make(chan struct{})}
	for p := range proofProducers {
		kp.wg.Add(1)
		go kp.produce(ctx, t, p)
	}
	return kp
}

func (kp *keyedProducers) produce(ctx context.Context, t *testing.T, p int) {
	defer kp.wg.Done()
	index := make([]int, proofKeys)   // each key's next record
	attempt := make([]int, proofKeys) // its attempts so far
	for {
		select {
		case <-kp.stop:
			return
		case <-ctx.Done():
			return
		default:
		}
		entries := make([]types.PutRecordsRequestEntry, proofKeys)
		kp.mu.Lock()
		for j := range proofKeys {
			key := fmt.Sprintf("p%d-k%d", p, j)
			data := fmt.Sprintf("%s/%d/%d", key, index[j], attempt[j])
			kp.sent[data] = true
			entries[j] = types.PutRecordsRequestEntry{PartitionKey: aws.String(key), Data: []byte(data)}
		}
		kp.mu.Unlock()
		out, err := kp.client().PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(kp.name), Records: entries})
		if err != nil {
			if !kp.tolerate.Load() && ctx.Err() == nil {
				t.Errorf("producer %d: %v", p, err)
				return
			}
			kp.failed.Add(1)
			for j := range attempt {
				attempt[j]++ // its outcome is unknown: the next copy is told apart
			}
			time.Sleep(10 * time.Millisecond) // the server is restarting
			continue
		}
		kp.mu.Lock()
		for j, r := range out.Records {
			if r.ErrorCode != nil {
				kp.failed.Add(1)
				attempt[j]++
				continue
			}
			key := aws.ToString(entries[j].PartitionKey)
			kp.acked[key] = append(kp.acked[key], string(entries[j].Data))
			kp.total.Add(1)
			index[j]++
			attempt[j] = 0
		}
		kp.mu.Unlock()
	}
}

// progress waits until more records have been acknowledged.
func (kp *keyedProducers) progress(ctx context.Context, t *testing.T, more int64) {
	t.Helper()
	want := kp.total.Load() + more
	for kp.total.Load() < want {
		select {
		case <-ctx.Done():
			t.Fatalf("producers stalled at %d records", kp.total.Load())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (kp *keyedProducers) halt() {
	close(kp.stop)
	kp.wg.Wait()
}

// check compares what a reader read (data by key, in order) with what was
// acknowledged: every acknowledged record exactly once, each key's records
// in acknowledgement order (indexes never go back), and nothing that was
// never sent. A record whose request failed may also appear (it may have
// been stored before the failure), but never after a later record of its key.
func (kp *keyedProducers) check(t *testing.T, read map[string][]string) {
	t.Helper()
	kp.mu.Lock()
	defer kp.mu.Unlock()
	extra := 0
	for key, want := range kp.acked {
		got := read[key]
		seen := map[string]int{}
		last := -1
		for _, d := range got {
			seen[d]++
			if !kp.sent[d] {
				t.Errorf("key %s: read %q, which was never sent", key, d)
			}
			i, _ := strconv.Atoi(strings.Split(d, "/")[1])
			if i < last {
				t.Errorf("key %s: read %q after index %d", key, d, last)
			}
			last = i
		}
		for _, d := range want {
			if seen[d] != 1 {
				t.Errorf("key %s: acknowledged %q read %d times", key, d, seen[d])
			}
			delete(seen, d)
		}
		for _, n := range seen {
			extra += n
		}
	}
	t.Logf("%d records acknowledged in %d keys, %d failed entries or requests retried, %d unacknowledged copies read",
		kp.total.Load(), len(kp.acked), kp.failed.Load(), extra)
}

// proofStep is one reshard of the proofs: what it does to the open shards
// (in hash-key order) and how many are open after it.
type proofStep struct {
	what string
	want int
	do   func(k *kin, open []types.Shard) error
}

// proofSteps: 2 → 4 (UpdateShardCount: two splits) → 3 (MergeShards) → 2
// (MergeShards) → 1 (UpdateShardCount; it halves at most, so 3 → 1 takes
// two steps).
func proofSteps(ctx context.Context, name string) []proofStep {
	return []proofStep{
		{"UpdateShardCount 2 -> 4", 4, func(k *kin, _ []types.Shard) error { return updateShardCount(ctx, k.c, name, 4) }},
		{"MergeShards 4 -> 3", 3, func(k *kin, open []types.Shard) error { return mergeShards(ctx, k.c, name, open[1], open[2]) }},
		{"MergeShards 3 -> 2", 2, func(k *kin, open []types.Shard) error { return mergeShards(ctx, k.c, name, open[0], open[1]) }},
		{"UpdateShardCount 2 -> 1", 1, func(k *kin, _ []types.Shard) error { return updateShardCount(ctx, k.c, name, 1) }},
	}
}

// TestReshardProof runs proofSteps under 8 producers whose records fail at
// random (--fault-rate) and are retried.
func TestReshardProof(t *testing.T) {
	t.Parallel()
	k := newKin(t, withArgs("--create-delay", "200ms", "--fault-rate", "PutRecords=0.05"))
	ctx := testCtx(t)
	name := uniqueName(t)
	k.create(ctx, t, name, 2)
	kp := startKeyedProducers(ctx, t, name, func() *kinesis.Client { return k.c })
	kp.progress(ctx, t, 300)
	for _, step := range proofSteps(ctx, name) {
		k.waitActive(ctx, t, name)
		if err := step.do(k, openShards(ctx, t, k.c, name)); err != nil {
			t.Fatalf("%s: %v", step.what, err)
		}
		kp.progress(ctx, t, 300)
		if n := len(openShards(ctx, t, k.c, name)); n != step.want {
			t.Fatalf("%s: %d open shards, want %d", step.what, n, step.want)
		}
	}
	kp.halt()
	kp.check(t, mustReadLineage(ctx, t, k, name))
}

// TestReshardProofKill9 runs proofSteps with the server killed (SIGKILL)
// while each reshard is in flight, at a random moment up to 30 ms after the
// call is sent, and restarted on its data directory. A reshard either
// happened or not; one that did not is sent again after the restart.
func TestReshardProofKill9(t *testing.T) {
	t.Parallel()
	k := newKin(t, withArgs("--create-delay", "200ms"))
	ctx := testCtx(t)
	name := uniqueName(t)
	k.create(ctx, t, name, 2)
	var client atomic.Pointer[kinesis.Client]
	client.Store(k.c)
	kp := startKeyedProducers(ctx, t, name, client.Load)
	kp.progress(ctx, t, 500)

	before := 2
	survived := 0
	for _, step := range proofSteps(ctx, name) {
		k.waitActive(ctx, t, name)
		open := openShards(ctx, t, k.c, name)
		kp.tolerate.Store(true) // before the kill: every error from now on may be it
		done := make(chan error, 1)
		go func() { done <- step.do(k, open) }()
		time.Sleep(time.Duration(rand.IntN(30000)) * time.Microsecond) // before, during or after the commit: each run differs
		k.srv.Kill9(t)
		err := <-done
		k.restart(t)
		client.Store(k.c)
		kp.progress(ctx, t, 300)
		kp.tolerate.Store(false)

		k.waitActive(ctx, t, name)
		checkTiling(t, k.shards(ctx, t, name)) // the old layout or the new one, whole
		switch n := len(openShards(ctx, t, k.c, name)); n {
		case step.want:
			survived++
			t.Logf("%s: applied before the kill (call: %v)", step.what, err)
		case before:
			if err == nil {
				t.Fatalf("%s: acknowledged, yet not applied after the restart", step.what)
			}
			t.Logf("%s: not applied before the kill; sent again", step.what)
			if err := step.do(k, openShards(ctx, t, k.c, name)); err != nil {
				t.Fatalf("%s: %v", step.what, err)
			}
			kp.progress(ctx, t, 300)
			if n := len(openShards(ctx, t, k.c, name)); n != step.want {
				t.Fatalf("%s: %d open shards, want %d", step.what, n, step.want)
			}
		default:
			t.Fatalf("%s: %d open shards after the restart, want %d or %d", step.what, n, before, step.want)
		}
		before = step.want
	}
	kp.halt()
	t.Logf("%d of %d reshards were applied before their kill", survived, len(proofSteps(ctx, name)))
	kp.check(t, mustReadLineage(ctx, t, k, name))
}

func updateShardCount(ctx context.Context, c *kinesis.Client, name string, n int32) error {
	_, err := c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String(name), TargetShardCount: aws.Int32(n), ScalingType: types.ScalingTypeUniformScaling})
	return err
}

func mergeShards(ctx context.Context, c *kinesis.Client, name string, a, b types.Shard) error {
	_, err := c.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String(name), ShardToMerge: a.ShardId, AdjacentShardToMerge: b.ShardId})
	return err
}
