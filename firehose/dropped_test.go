package firehose

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spatehq/spate/shard"
)

// A worker far behind on a closed shard that retention drops between two
// of its batches counts the shard as finished (the rest is lost to
// retention, as in Kinesis) and starts the children, instead of failing to
// reopen the shard forever.
func TestWorkerFinishesShardDroppedByRetention(t *testing.T) {
	ctx := context.Background()
	var nowMs atomic.Int64
	nowMs.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	clock := func() time.Time { return time.UnixMilli(nowMs.Load()) }

	// The first delivery blocks until released, so the worker stops
	// between batches with most of the parent unread.
	shipping, release := make(chan struct{}), make(chan struct{})
	childDelivered := make(chan struct{})
	var once, childOnce sync.Once
	hook := func(c *config) {
		c.shipped = func(shardID string, _ []shard.Record) {
			if shardID == shard.ShardID(0) {
				once.Do(func() { close(shipping); <-release })
				return
			}
			childOnce.Do(func() { close(childDelivered) })
		}
	}
	f := newFixture(t, hook)
	f.storeOpts = []shard.Option{shard.WithClock(clock), shard.WithTrimInterval(time.Hour)}
	f.restart()
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(unblock) // before the fixture's close, which waits for the workers

	if err := f.store.CreateStream(ctx, shard.CreateStreamInput{Name: "src", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "ds", DeliveryStreamType: TypeKinesisStreamAsSource,
		KinesisStreamSourceConfiguration: &KinesisStreamSourceConfiguration{KinesisStreamARN: f.store.StreamARN("src")},
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
			BucketARN: f.bucketARN(), Prefix: "ds/",
			BufferingHints: &BufferingHints{SizeInMBs: intp(1), IntervalInSeconds: intp(0)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Records of 700 KB with 1 MB buffers: one record per batch.
	big := bytes.Repeat([]byte("x"), 700<<10)
	for range 5 {
		if _, err := f.store.Append(ctx, "src", []shard.Entry{{PartitionKey: "a", Data: big}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.store.SplitShard(ctx, shard.SplitShardInput{Stream: "src", ShardToSplit: shard.ShardID(0), NewStartingHashKey: "1000"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-shipping:
	case <-time.After(30 * time.Second):
		t.Fatal("the parent's first batch was never delivered")
	}
	// Retention empties the parent and drops it while the worker waits.
	nowMs.Add((25 * time.Hour).Milliseconds())
	if err := f.store.TrimExpired(ctx); err != nil {
		t.Fatal(err)
	}
	if out, err := f.store.ListShards(ctx, shard.ListShardsInput{Stream: "src"}); err != nil || len(out.Shards) != 2 {
		t.Fatalf("the parent was not dropped: %+v, %v", out, err)
	}
	if _, err := f.store.Append(ctx, "src", []shard.Entry{{PartitionKey: "a", Data: []byte("child")}}); err != nil {
		t.Fatal(err)
	}
	unblock()
	select {
	case <-childDelivered:
	case <-time.After(30 * time.Second):
		t.Fatal("the children of the dropped shard were never delivered")
	}
}
