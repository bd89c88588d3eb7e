package grpcapi

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// BenchmarkSubscribeCatchUp measures a Subscribe from TRIM_HORIZON reading
// 50,000 records of 100 B, server and client over bufconn, in ns per record
// of wall time (both sides run at once).
func BenchmarkSubscribeCatchUp(b *testing.B) {
	const records, batch = 50_000, 500
	f := newFixture(b)
	ctx := context.Background()
	if err := f.store.CreateStream(ctx, shard.CreateStreamInput{Name: "s", ShardCount: 1}); err != nil {
		b.Fatal(err)
	}
	entries := make([]shard.Entry, batch)
	for i := range entries {
		entries[i] = shard.Entry{PartitionKey: fmt.Sprintf("pk-%d", i), Data: bytes.Repeat([]byte{byte(i)}, 100)}
	}
	for range records / batch {
		if _, err := f.store.Append(ctx, "s", entries); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		sctx, cancel := context.WithCancel(ctx)
		stream, err := f.client.Subscribe(sctx, &spatev1.SubscribeRequest{StreamName: "s", ShardId: "shardId-000000000000",
			StartingPosition: &spatev1.StartingPosition{Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON}})
		if err != nil {
			b.Fatal(err)
		}
		for n := 0; n < records; {
			ev, err := stream.Recv()
			if err != nil {
				b.Fatal(err)
			}
			n += len(ev.GetRecords())
		}
		cancel()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*records), "ns/rec")
}
