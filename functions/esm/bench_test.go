package esm

import (
	"fmt"
	"testing"
	"time"

	"github.com/spatehq/spate/shard"
)

// BenchmarkEvent encodes the aws:kinesis event of a batch of 100 records
// of 1 KB: the CPU an invocation costs the poller.
func BenchmarkEvent(b *testing.B) {
	es := eventSource{identityARN: "arn:aws:iam::000000000000:role/r", region: "us-east-1",
		streamARN: "arn:aws:kinesis:us-east-1:000000000000:stream/s", shardID: "shardId-000000000000"}
	recs := make([]shard.Record, 100)
	for i := range recs {
		recs[i] = shard.Record{SequenceNumber: fmt.Sprintf("49%054d", i), ArrivalTime: time.UnixMilli(1700000000000 + int64(i)),
			PartitionKey: fmt.Sprintf("key-%d", i), Data: make([]byte, 1024)}
	}
	b.ReportAllocs()
	b.SetBytes(100 * 1024)
	for b.Loop() {
		_ = es.event(recs)
	}
}
