package grpcapi

import (
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spatehq/spate/apierr"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// TestGetRecordsReadBudget checks that a GetRecords reply gives the store's
// read budget back once it has been sent (a budget that fits one reply
// serves reads one after another), and that a read refused for memory is
// RESOURCE_EXHAUSTED with the AWS error type ProvisionedThroughputExceededException.
func TestGetRecordsReadBudget(t *testing.T) {
	f := newFixture(t, shard.WithReadBudget(8<<20, time.Millisecond))
	f.createStream(t, "s", 1)
	entries := make([]*spatev1.PutRecordsRequestEntry, 4)
	for i := range entries {
		entries[i] = &spatev1.PutRecordsRequestEntry{PartitionKey: "k", Data: make([]byte, 64<<10)}
	}
	if _, err := f.client.PutRecords(testContext(t), &spatev1.PutRecordsRequest{StreamName: "s", Records: entries}); err != nil {
		t.Fatal(err)
	}
	it, err := f.client.GetShardIterator(testContext(t), &spatev1.GetShardIteratorRequest{
		StreamName: "s", ShardId: "shardId-000000000000", ShardIteratorType: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		got, err := f.client.GetRecords(testContext(t), &spatev1.GetRecordsRequest{ShardIterator: it.GetShardIterator()})
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if len(got.GetRecords()) != 4 {
			t.Fatalf("read %d: %d records, want 4", i, len(got.GetRecords()))
		}
	}

	held, err := f.store.GetRecords(testContext(t), it.GetShardIterator(), 0) // the whole budget
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	_, err = f.client.GetRecords(testContext(t), &spatev1.GetRecordsRequest{ShardIterator: it.GetShardIterator()})
	if status.Code(err) != codes.ResourceExhausted || !isAPIError(err, apierr.ProvisionedThroughputExceeded) {
		t.Fatalf("read while the budget is held: %v, want RESOURCE_EXHAUSTED ProvisionedThroughputExceededException", err)
	}
}

func isAPIError(err error, code apierr.Code) bool {
	return apierr.CodeOf(FromStatus(err)) == code
}
