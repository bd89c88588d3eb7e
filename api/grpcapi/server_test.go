package grpcapi

import (
	"bytes"
	"fmt"
	"math/big"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

func TestStreamAdministration(t *testing.T) {
	f := newFixture(t)
	c := f.client
	ctx := testContext(t)

	_, err := c.CreateStream(ctx, &spatev1.CreateStreamRequest{
		StreamName: "orders", ShardCount: 3, StreamMode: spatev1.StreamMode_STREAM_MODE_PROVISIONED,
		Tags: map[string]string{"team": "core"},
	})
	if err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	_, err = c.CreateStream(ctx, &spatev1.CreateStreamRequest{
		StreamName: "clicks", StreamMode: spatev1.StreamMode_STREAM_MODE_ON_DEMAND,
	})
	if err != nil {
		t.Fatalf("CreateStream on-demand: %v", err)
	}
	arn := f.store.StreamARN("orders")

	t.Run("DescribeStream pages shards", func(t *testing.T) {
		var ids []string
		start := ""
		for page := 0; ; page++ {
			resp, err := c.DescribeStream(ctx, &spatev1.DescribeStreamRequest{StreamName: "orders", Limit: 2, ExclusiveStartShardId: start})
			if err != nil {
				t.Fatalf("DescribeStream: %v", err)
			}
			d := resp.GetStreamDescription()
			if d.GetStreamName() != "orders" || d.GetStreamArn() != arn ||
				d.GetStreamStatus() != spatev1.StreamStatus_STREAM_STATUS_ACTIVE ||
				d.GetStreamMode() != spatev1.StreamMode_STREAM_MODE_PROVISIONED ||
				d.GetRetentionPeriodHours() != 24 || d.GetEncryptionType() != "NONE" || d.GetStreamCreationTimestamp() == nil {
				t.Fatalf("description = %v", d)
			}
			for _, s := range d.GetShards() {
				ids = append(ids, s.GetShardId())
				if s.GetHashKeyRange().GetStartingHashKey() == "" || s.GetSequenceNumberRange().GetStartingSequenceNumber() == "" {
					t.Errorf("shard %s lacks ranges: %v", s.GetShardId(), s)
				}
			}
			if !d.GetHasMoreShards() {
				break
			}
			if page > 3 {
				t.Fatal("DescribeStream pages never end")
			}
			start = ids[len(ids)-1]
		}
		want := []string{"shardId-000000000000", "shardId-000000000001", "shardId-000000000002"}
		if !slices.Equal(ids, want) {
			t.Errorf("shards = %v, want %v", ids, want)
		}
	})

	t.Run("DescribeStreamSummary by ARN", func(t *testing.T) {
		resp, err := c.DescribeStreamSummary(ctx, &spatev1.DescribeStreamSummaryRequest{StreamArn: arn})
		if err != nil {
			t.Fatalf("DescribeStreamSummary: %v", err)
		}
		s := resp.GetStreamDescriptionSummary()
		if s.GetStreamName() != "orders" || s.GetOpenShardCount() != 3 || s.GetStreamArn() != arn {
			t.Errorf("summary = %v", s)
		}
	})

	t.Run("ListStreams pages", func(t *testing.T) {
		first, err := c.ListStreams(ctx, &spatev1.ListStreamsRequest{Limit: 1})
		if err != nil {
			t.Fatalf("ListStreams: %v", err)
		}
		if !slices.Equal(first.GetStreamNames(), []string{"clicks"}) || !first.GetHasMoreStreams() || first.GetNextToken() == "" {
			t.Fatalf("first page = %v", first)
		}
		if s := first.GetStreamSummaries()[0]; s.GetStreamMode() != spatev1.StreamMode_STREAM_MODE_ON_DEMAND || s.GetStreamArn() != f.store.StreamARN("clicks") {
			t.Errorf("summary = %v", s)
		}
		second, err := c.ListStreams(ctx, &spatev1.ListStreamsRequest{NextToken: first.GetNextToken()})
		if err != nil {
			t.Fatalf("ListStreams next: %v", err)
		}
		if !slices.Equal(second.GetStreamNames(), []string{"orders"}) || second.GetHasMoreStreams() {
			t.Errorf("second page = %v", second)
		}
	})

	t.Run("ListShards pages with next_token only", func(t *testing.T) {
		first, err := c.ListShards(ctx, &spatev1.ListShardsRequest{StreamName: "orders", MaxResults: 2})
		if err != nil {
			t.Fatalf("ListShards: %v", err)
		}
		if len(first.GetShards()) != 2 || first.GetNextToken() == "" {
			t.Fatalf("first page = %v", first)
		}
		second, err := c.ListShards(ctx, &spatev1.ListShardsRequest{NextToken: first.GetNextToken()})
		if err != nil {
			t.Fatalf("ListShards next: %v", err)
		}
		if len(second.GetShards()) != 1 || second.GetShards()[0].GetShardId() != "shardId-000000000002" {
			t.Errorf("second page = %v", second)
		}
	})

	t.Run("ListShards filter and exclusive start", func(t *testing.T) {
		resp, err := c.ListShards(ctx, &spatev1.ListShardsRequest{
			StreamArn: arn,
			ShardFilter: &spatev1.ShardFilter{
				Type: spatev1.ShardFilterType_SHARD_FILTER_TYPE_AFTER_SHARD_ID, ShardId: "shardId-000000000000",
			},
		})
		if err != nil {
			t.Fatalf("ListShards: %v", err)
		}
		if got := len(resp.GetShards()); got != 2 {
			t.Errorf("AFTER_SHARD_ID shardId-000000000000 gave %d shards, want 2", got)
		}
		resp, err = c.ListShards(ctx, &spatev1.ListShardsRequest{StreamName: "orders", ExclusiveStartShardId: "shardId-000000000001"})
		if err != nil {
			t.Fatalf("ListShards: %v", err)
		}
		if got := len(resp.GetShards()); got != 1 {
			t.Errorf("after shardId-000000000001: %d shards, want 1", got)
		}
	})

	t.Run("retention", func(t *testing.T) {
		if _, err := c.IncreaseStreamRetentionPeriod(ctx, &spatev1.IncreaseStreamRetentionPeriodRequest{StreamName: "orders", RetentionPeriodHours: 48}); err != nil {
			t.Fatalf("Increase: %v", err)
		}
		if got := summary(t, f, "orders").GetRetentionPeriodHours(); got != 48 {
			t.Errorf("after increase: %d hours, want 48", got)
		}
		if _, err := c.DecreaseStreamRetentionPeriod(ctx, &spatev1.DecreaseStreamRetentionPeriodRequest{StreamArn: arn, RetentionPeriodHours: 36}); err != nil {
			t.Fatalf("Decrease: %v", err)
		}
		if got := summary(t, f, "orders").GetRetentionPeriodHours(); got != 36 {
			t.Errorf("after decrease: %d hours, want 36", got)
		}
	})

	t.Run("tags", func(t *testing.T) {
		if _, err := c.AddTagsToStream(ctx, &spatev1.AddTagsToStreamRequest{StreamName: "orders", Tags: map[string]string{"env": "dev", "owner": "ana"}}); err != nil {
			t.Fatalf("AddTags: %v", err)
		}
		page, err := c.ListTagsForStream(ctx, &spatev1.ListTagsForStreamRequest{StreamName: "orders", Limit: 2})
		if err != nil {
			t.Fatalf("ListTags: %v", err)
		}
		if got := tagString(page.GetTags()); got != "env=dev owner=ana" || !page.GetHasMoreTags() {
			t.Errorf("first page = %q more=%v", got, page.GetHasMoreTags())
		}
		page, err = c.ListTagsForStream(ctx, &spatev1.ListTagsForStreamRequest{StreamArn: arn, ExclusiveStartTagKey: "owner"})
		if err != nil {
			t.Fatalf("ListTags: %v", err)
		}
		if got := tagString(page.GetTags()); got != "team=core" || page.GetHasMoreTags() {
			t.Errorf("second page = %q more=%v", got, page.GetHasMoreTags())
		}
		if _, err := c.RemoveTagsFromStream(ctx, &spatev1.RemoveTagsFromStreamRequest{StreamName: "orders", TagKeys: []string{"env", "team"}}); err != nil {
			t.Fatalf("RemoveTags: %v", err)
		}
		page, err = c.ListTagsForStream(ctx, &spatev1.ListTagsForStreamRequest{StreamName: "orders"})
		if err != nil {
			t.Fatalf("ListTags: %v", err)
		}
		if got := tagString(page.GetTags()); got != "owner=ana" {
			t.Errorf("after remove = %q", got)
		}
	})

	t.Run("DescribeLimits", func(t *testing.T) {
		l, err := c.DescribeLimits(ctx, &spatev1.DescribeLimitsRequest{})
		if err != nil {
			t.Fatalf("DescribeLimits: %v", err)
		}
		if l.GetOpenShardCount() != 3+shard.OnDemandShardCount || l.GetOnDemandStreamCount() != 1 ||
			l.GetShardLimit() <= 0 || l.GetOnDemandStreamCountLimit() <= 0 {
			t.Errorf("limits = %v", l)
		}
	})

	t.Run("DeleteStream", func(t *testing.T) {
		if _, err := c.DeleteStream(ctx, &spatev1.DeleteStreamRequest{StreamName: "clicks"}); err != nil {
			t.Fatalf("DeleteStream: %v", err)
		}
		resp, err := c.ListStreams(ctx, &spatev1.ListStreamsRequest{})
		if err != nil {
			t.Fatalf("ListStreams: %v", err)
		}
		if !slices.Equal(resp.GetStreamNames(), []string{"orders"}) {
			t.Errorf("streams after delete = %v", resp.GetStreamNames())
		}
	})
}

func summary(t *testing.T, f *fixture, name string) *spatev1.StreamDescriptionSummary {
	t.Helper()
	resp, err := f.client.DescribeStreamSummary(testContext(t), &spatev1.DescribeStreamSummaryRequest{StreamName: name})
	if err != nil {
		t.Fatalf("DescribeStreamSummary: %v", err)
	}
	return resp.GetStreamDescriptionSummary()
}

func tagString(tags []*spatev1.Tag) string {
	var b bytes.Buffer
	for i, t := range tags {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%s", t.GetKey(), t.GetValue())
	}
	return b.String()
}

func TestPutAndRead(t *testing.T) {
	clock := newFakeClock()
	f := newFixture(t, clock.Option())
	c := f.client
	ctx := testContext(t)
	f.createStream(t, "s", 2)

	maxHash := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1)).String()
	binary := []byte{0, 0xff, 0xfe, '\n', 0x80} // not UTF-8, not base64: raw bytes travel as they are

	// One record to each end of the hash space.
	first, err := c.PutRecord(ctx, &spatev1.PutRecordRequest{StreamName: "s", Data: binary, PartitionKey: "k", ExplicitHashKey: "0"})
	if err != nil {
		t.Fatalf("PutRecord: %v", err)
	}
	if first.GetShardId() != "shardId-000000000000" || first.GetSequenceNumber() == "" || first.GetEncryptionType() != "NONE" {
		t.Errorf("PutRecord = %v", first)
	}
	last, err := c.PutRecord(ctx, &spatev1.PutRecordRequest{
		StreamArn: f.store.StreamARN("s"), Data: []byte("top"), PartitionKey: "k", ExplicitHashKey: maxHash,
		SequenceNumberForOrdering: first.GetSequenceNumber(),
	})
	if err != nil {
		t.Fatalf("PutRecord: %v", err)
	}
	if last.GetShardId() != "shardId-000000000001" {
		t.Errorf("hash key 2^128-1 went to %s, want shardId-000000000001", last.GetShardId())
	}

	clock.Advance(time.Second)
	batchTime := clock.Now()
	var entries []*spatev1.PutRecordsRequestEntry
	for i := range 5 {
		entries = append(entries, &spatev1.PutRecordsRequestEntry{Data: fmt.Appendf(nil, "r%d", i), PartitionKey: "p", ExplicitHashKey: "1"})
	}
	put, err := c.PutRecords(ctx, &spatev1.PutRecordsRequest{StreamName: "s", Records: entries})
	if err != nil {
		t.Fatalf("PutRecords: %v", err)
	}
	if put.GetFailedRecordCount() != 0 || len(put.GetRecords()) != 5 {
		t.Fatalf("PutRecords = %v", put)
	}
	for i, r := range put.GetRecords() {
		if r.GetShardId() != "shardId-000000000000" || r.GetErrorCode() != "" {
			t.Errorf("entry %d = %v", i, r)
		}
		if i > 0 && r.GetSequenceNumber() <= put.GetRecords()[i-1].GetSequenceNumber() {
			t.Errorf("sequence numbers not increasing: %v", put.GetRecords())
		}
	}

	read := func(t *testing.T, req *spatev1.GetShardIteratorRequest) []string {
		t.Helper()
		req.StreamName = "s"
		if req.ShardId == "" {
			req.ShardId = "shardId-000000000000"
		}
		it, err := c.GetShardIterator(ctx, req)
		if err != nil {
			t.Fatalf("GetShardIterator: %v", err)
		}
		resp, err := c.GetRecords(ctx, &spatev1.GetRecordsRequest{ShardIterator: it.GetShardIterator(), Limit: 100})
		if err != nil {
			t.Fatalf("GetRecords: %v", err)
		}
		if resp.GetNextShardIterator() == "" {
			t.Error("open shard gave no next iterator")
		}
		var got []string
		for _, r := range resp.GetRecords() {
			if r.GetApproximateArrivalTimestamp() == nil || r.GetPartitionKey() == "" {
				t.Errorf("record lacks fields: %v", r)
			}
			got = append(got, string(r.GetData()))
		}
		return got
	}
	all := []string{string(binary), "r0", "r1", "r2", "r3", "r4"}
	tests := []struct {
		name string
		req  *spatev1.GetShardIteratorRequest
		want []string
	}{
		{"trim horizon", &spatev1.GetShardIteratorRequest{ShardIteratorType: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON}, all},
		{"latest", &spatev1.GetShardIteratorRequest{ShardIteratorType: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_LATEST}, nil},
		{"at sequence number", &spatev1.GetShardIteratorRequest{
			ShardIteratorType:      spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_AT_SEQUENCE_NUMBER,
			StartingSequenceNumber: put.GetRecords()[2].GetSequenceNumber(),
		}, all[3:]},
		{"after sequence number", &spatev1.GetShardIteratorRequest{
			ShardIteratorType:      spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_AFTER_SEQUENCE_NUMBER,
			StartingSequenceNumber: put.GetRecords()[2].GetSequenceNumber(),
		}, all[4:]},
		{"at timestamp", &spatev1.GetShardIteratorRequest{
			ShardIteratorType: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_AT_TIMESTAMP,
			Timestamp:         timestamppb.New(batchTime),
		}, all[1:]},
		{"other shard", &spatev1.GetShardIteratorRequest{
			ShardId: "shardId-000000000001", ShardIteratorType: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON,
		}, []string{"top"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := read(t, tt.req); !slices.Equal(got, tt.want) {
				t.Errorf("records = %q, want %q", got, tt.want)
			}
		})
	}
}
