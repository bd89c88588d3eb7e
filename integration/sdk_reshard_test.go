package integration

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestSDKReshard drives SplitShard, MergeShards and UpdateShardCount with
// aws-sdk-go-v2 against the server while producers write keyed records,
// then reads the stream the way the Kinesis Client Library does: from the
// shards open at the trim horizon, each closed shard to its end (no
// NextShardIterator, its ChildShards), a child once all its parents are
// read. Every acknowledged record is read exactly once, and each key's
// records in the order they were acknowledged.
func TestSDKReshard(t *testing.T) {
	t.Parallel()
	k := newKin(t, withArgs("--create-delay", "300ms"))
	ctx := testCtx(t)
	name := uniqueName(t)
	k.create(ctx, t, name, 2)

	var (
		mu    sync.Mutex
		acked = map[string][]string{} // data by partition key, in acknowledgement order
		total int
		stop  = make(chan struct{})
		wg    sync.WaitGroup
	)
	for p := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var entries []types.PutRecordsRequestEntry
				for j := range 5 {
					key := fmt.Sprintf("p%d-k%d", p, j)
					entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(key), Data: []byte(fmt.Sprintf("%s-%d", key, i))})
				}
				out, err := k.c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for j, r := range out.Records {
					if r.ErrorCode != nil {
						t.Errorf("entry %d: %s", j, aws.ToString(r.ErrorCode))
						continue
					}
					key := aws.ToString(entries[j].PartitionKey)
					acked[key] = append(acked[key], string(entries[j].Data))
					total++
				}
				mu.Unlock()
			}
		}()
	}
	progress := func(more int) {
		mu.Lock()
		want := total + more
		mu.Unlock()
		for {
			mu.Lock()
			n := total
			mu.Unlock()
			if n >= want {
				return
			}
			select {
			case <-ctx.Done():
				t.Fatalf("producers stalled at %d records", n)
			case <-time.After(5 * time.Millisecond):
			}
		}
	}

	progress(200)
	out, err := k.c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String(name), TargetShardCount: aws.Int32(4), ScalingType: types.ScalingTypeUniformScaling})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.CurrentShardCount) != 2 || aws.ToInt32(out.TargetShardCount) != 4 {
		t.Errorf("UpdateShardCount = %d -> %d", aws.ToInt32(out.CurrentShardCount), aws.ToInt32(out.TargetShardCount))
	}
	// UPDATING: a second reshard is refused, writes go on.
	if s := k.summary(ctx, t, name); s.StreamStatus != types.StreamStatusUpdating {
		t.Errorf("status %s right after UpdateShardCount, want UPDATING", s.StreamStatus)
	}
	open := openShards(ctx, t, k.c, name)
	_, err = k.c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(name), ShardToSplit: open[0].ShardId, NewStartingHashKey: aws.String(midHashKey(t, open[0]))})
	wantAPIError(t, err, "ResourceInUseException", "UPDATING")
	progress(200)
	k.waitActive(ctx, t, name)

	open = openShards(ctx, t, k.c, name)
	if _, err := k.c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(name), ShardToSplit: open[1].ShardId, NewStartingHashKey: aws.String(midHashKey(t, open[1]))}); err != nil {
		t.Fatal(err)
	}
	progress(200)
	k.waitActive(ctx, t, name)

	open = openShards(ctx, t, k.c, name)
	if _, err := k.c.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String(name), ShardToMerge: open[2].ShardId, AdjacentShardToMerge: open[3].ShardId}); err != nil {
		t.Fatal(err)
	}
	progress(200)
	k.waitActive(ctx, t, name)

	if _, err := k.c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String(name), TargetShardCount: aws.Int32(3), ScalingType: types.ScalingTypeUniformScaling}); err != nil {
		t.Fatal(err)
	}
	progress(200)
	k.waitActive(ctx, t, name)
	close(stop)
	wg.Wait()

	// DescribeStream and ListShards agree, and show the lineage.
	all := k.shards(ctx, t, name)
	desc, err := k.c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.StreamDescription.Shards) != len(all) {
		t.Errorf("DescribeStream lists %d shards, ListShards %d", len(desc.StreamDescription.Shards), len(all))
	}
	merged := false
	for _, sh := range all {
		merged = merged || sh.AdjacentParentShardId != nil
	}
	if !merged {
		t.Error("no shard names an AdjacentParentShardId after MergeShards")
	}
	if n := len(openShards(ctx, t, k.c, name)); n != 3 {
		t.Errorf("%d open shards, want 3", n)
	}
	atHorizon := listFiltered(ctx, t, k.c, name, &types.ShardFilter{Type: types.ShardFilterTypeAtTrimHorizon})
	if ids := shardIDs(atHorizon); !slices.Equal(ids, []string{shardID(0), shardID(1)}) {
		t.Errorf("AT_TRIM_HORIZON lists %v, want the two shards the stream was created with", ids)
	}
	if n := len(listFiltered(ctx, t, k.c, name, &types.ShardFilter{Type: types.ShardFilterTypeFromTrimHorizon})); n != len(all) {
		t.Errorf("FROM_TRIM_HORIZON lists %d shards, want all %d", n, len(all))
	}

	// Read parents before children, as the KCL does.
	read := map[string][]string{}
	done := map[string]bool{}
	parents := map[string][]string{}
	for _, sh := range all {
		for _, p := range []*string{sh.ParentShardId, sh.AdjacentParentShardId} {
			if p != nil {
				parents[*sh.ShardId] = append(parents[*sh.ShardId], *p)
			}
		}
	}
	queue := shardIDs(atHorizon)
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if done[id] {
			continue
		}
		ready := true
		for _, p := range parents[id] {
			ready = ready && done[p]
		}
		if !ready {
			queue = append(queue, id) // another parent first
			continue
		}
		recs, children := readToEnd(ctx, t, k.c, name, id)
		done[id] = true
		for _, r := range recs {
			key := aws.ToString(r.PartitionKey)
			read[key] = append(read[key], string(r.Data))
		}
		for _, c := range children {
			if !slices.Contains(c.ParentShards, id) {
				t.Errorf("child %s of %s names parents %v", aws.ToString(c.ShardId), id, c.ParentShards)
			}
			queue = append(queue, aws.ToString(c.ShardId))
		}
	}
	if len(done) != len(all) {
		t.Errorf("following children reached %d of %d shards", len(done), len(all))
	}
	for key, want := range acked {
		if !slices.Equal(read[key], want) {
			t.Errorf("key %s: read %d records, acknowledged %d, or in another order", key, len(read[key]), len(want))
		}
	}
	t.Logf("%d records in %d keys across %d shards", total, len(acked), len(all))
}

// readToEnd reads a shard from TRIM_HORIZON: a closed shard until GetRecords
// answers no NextShardIterator (it returns that answer's ChildShards), an
// open one until it is at the tip.
func readToEnd(ctx context.Context, t *testing.T, c *kinesis.Client, name, shardID string) ([]types.Record, []types.ChildShard) {
	t.Helper()
	it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String(shardID), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	iter := it.ShardIterator
	var recs []types.Record
	for range 10000 {
		out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			t.Fatalf("GetRecords(%s): %v", shardID, err)
		}
		recs = append(recs, out.Records...)
		if out.NextShardIterator == nil {
			if len(out.ChildShards) == 0 {
				t.Errorf("closed shard %s ends without ChildShards", shardID)
			}
			return recs, out.ChildShards
		}
		if len(out.ChildShards) != 0 {
			t.Errorf("shard %s: ChildShards %v with a NextShardIterator", shardID, out.ChildShards)
		}
		if len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
			return recs, nil // an open shard at its tip
		}
		iter = out.NextShardIterator
	}
	t.Fatalf("shard %s does not end", shardID)
	return nil, nil
}

// readClosedShard reads a closed shard to its end and returns its records
// and children.
func readClosedShard(ctx context.Context, t *testing.T, c *kinesis.Client, name, shardID string) ([]types.Record, []types.ChildShard) {
	t.Helper()
	recs, children := readToEnd(ctx, t, c, name, shardID)
	if children == nil {
		t.Fatalf("shard %s is open", shardID)
	}
	return recs, children
}

// listFiltered lists a stream's shards with a ShardFilter (one page).
func listFiltered(ctx context.Context, t *testing.T, c *kinesis.Client, name string, f *types.ShardFilter) []types.Shard {
	t.Helper()
	out, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name), ShardFilter: f})
	if err != nil {
		t.Fatalf("ListShards(%s, %s): %v", name, f.Type, err)
	}
	return out.Shards
}

// openShards returns the open shards (ListShards AT_LATEST) in hash-key order.
func openShards(ctx context.Context, t *testing.T, c *kinesis.Client, name string) []types.Shard {
	t.Helper()
	open := listFiltered(ctx, t, c, name, &types.ShardFilter{Type: types.ShardFilterTypeAtLatest})
	for _, sh := range open {
		if sh.SequenceNumberRange.EndingSequenceNumber != nil {
			t.Errorf("AT_LATEST lists closed shard %s", aws.ToString(sh.ShardId))
		}
	}
	slices.SortFunc(open, func(a, b types.Shard) int {
		return bigInt(t, aws.ToString(a.HashKeyRange.StartingHashKey)).Cmp(bigInt(t, aws.ToString(b.HashKeyRange.StartingHashKey)))
	})
	return open
}

// midHashKey is the middle of a shard's hash-key range, where `spate stream
// split` splits by default.
func midHashKey(t *testing.T, sh types.Shard) string {
	t.Helper()
	start, end := bigInt(t, aws.ToString(sh.HashKeyRange.StartingHashKey)), bigInt(t, aws.ToString(sh.HashKeyRange.EndingHashKey))
	mid := new(big.Int).Add(start, end)
	mid.Add(mid, big.NewInt(1))
	return mid.Rsh(mid, 1).String()
}
