package kinesisapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spatehq/spate/api/awsproto/awsprototest"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/shard"
)

// newStoreServer serves a real store in a temporary directory.
func newStoreServer(t *testing.T, storeOpts []shard.Option, opts ...Option) *awsprototest.Client {
	t.Helper()
	st, err := shard.Open(t.TempDir(), storeOpts...)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return newTestServer(t, NewHandler(st, opts...))
}

func newTestServer(t *testing.T, h http.Handler) *awsprototest.Client {
	t.Helper()
	return awsprototest.NewServer(t, h, TargetPrefix)
}

func TestEnvelopeErrors(t *testing.T) {
	c := newTestServer(t, NewHandler(nil, WithMaxBodyBytes(1024)))
	target := "Kinesis_20131202.ListStreams"
	tests := []struct {
		name       string
		method     string
		path       string
		header     map[string]string
		body       string
		wantStatus int
		wantType   string
		wantInMsg  string
	}{
		{"GET", http.MethodGet, "/", nil, "", 405, "UnknownOperationException", "only POST"},
		{"wrong path", http.MethodPost, "/streams", map[string]string{"X-Amz-Target": target}, "{}", 404, "UnknownOperationException", "served at POST /"},
		{"no target", http.MethodPost, "/", nil, "{}", 400, "UnknownOperationException", "missing X-Amz-Target"},
		{"other service", http.MethodPost, "/", map[string]string{"X-Amz-Target": "Firehose_20150804.ListDeliveryStreams"}, "{}", 400, "UnknownOperationException", "unknown operation"},
		{"unknown action", http.MethodPost, "/", map[string]string{"X-Amz-Target": "Kinesis_20131202.Frobnicate"}, "{}", 400, "UnknownOperationException", "unknown operation"},
		// No action of the model is unserved any more: awsproto's tests
		// cover the "not supported by Spate yet" answer.
		{"content type", http.MethodPost, "/", map[string]string{"X-Amz-Target": target, "Content-Type": "text/plain"}, "{}", 400, "SerializationException", "send application/x-amz-json-1.1 or application/x-amz-cbor-1.1"},
		{"CBOR that is not a map, answered in CBOR", http.MethodPost, "/", map[string]string{"X-Amz-Target": target, "Content-Type": "application/x-amz-cbor-1.1"}, "{}", 400, "SerializationException", "must be a CBOR map"},
		{"bad JSON", http.MethodPost, "/", map[string]string{"X-Amz-Target": target}, "{", 400, "SerializationException", "not valid JSON"},
		{"bad base64", http.MethodPost, "/", map[string]string{"X-Amz-Target": "Kinesis_20131202.PutRecord"}, `{"StreamName":"s","PartitionKey":"k","Data":"***"}`, 400, "SerializationException", "Blob"},
		{"validation", http.MethodPost, "/", map[string]string{"X-Amz-Target": "Kinesis_20131202.DescribeStream"}, `{"StreamName":"a b"}`, 400, "ValidationException", "1 validation error detected: Value 'a b' at 'streamName'"},
		{"too large", http.MethodPost, "/", map[string]string{"X-Amz-Target": target}, `{"NextToken":"` + strings.Repeat("x", 2000) + `"}`, 413, "InvalidArgumentException", "exceeds 1024 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.Do(tt.method, tt.path, tt.header, tt.body)
			if r.Status != tt.wantStatus || r.ErrType() != tt.wantType || !strings.Contains(r.Message(), tt.wantInMsg) {
				t.Errorf("got %d %s, want %d %s with %q", r.Status, r.Raw, tt.wantStatus, tt.wantType, tt.wantInMsg)
			}
		})
	}
	t.Run("too large without Content-Length", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPost, c.URL+"/", io.MultiReader(strings.NewReader(`{"NextToken":"`+strings.Repeat("x", 2000)+`"}`)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Target", target)
		req.ContentLength = -1 // chunked
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("status = %d, want 413", resp.StatusCode)
		}
	})
}

func TestRequestIDsAreUnique(t *testing.T) {
	c := newTestServer(t, NewHandler(nil))
	seen := make(map[string]bool)
	for range 50 {
		r := c.Do(http.MethodGet, "/", nil, "")
		id := r.Header.Get("X-Amzn-Requestid")
		if seen[id] {
			t.Fatalf("request ID %s repeated", id)
		}
		seen[id] = true
	}
}

func TestStreamLifecycle(t *testing.T) {
	c := newStoreServer(t, nil)

	if got := c.OK("CreateStream", map[string]any{"StreamName": "orders", "ShardCount": 3, "Tags": map[string]string{"team": "a"}}); len(got) != 0 {
		t.Errorf("CreateStream reply = %v, want {}", got)
	}
	c.Fails("CreateStream", map[string]any{"StreamName": "orders", "ShardCount": 1}, 400, "ResourceInUseException")
	c.OK("CreateStream", map[string]any{"StreamName": "big", "ShardCount": 1, "MaxRecordSizeInKiB": 2048})
	if got := c.OK("DescribeStreamSummary", map[string]any{"StreamName": "big"})["StreamDescriptionSummary"].(map[string]any)["MaxRecordSizeInKiB"]; got != 2048.0 {
		t.Errorf("MaxRecordSizeInKiB of a stream created with 2048 = %v", got)
	}
	c.OK("DeleteStream", map[string]any{"StreamName": "big"})
	c.Fails("CreateStream", map[string]any{"StreamName": "huge", "ShardCount": 1, "MaxRecordSizeInKiB": 10241}, 400, "ValidationException")

	t.Run("DescribeStream", func(t *testing.T) {
		d := c.OK("DescribeStream", map[string]any{"StreamName": "orders", "Limit": 2})["StreamDescription"].(map[string]any)
		if d["StreamName"] != "orders" || d["StreamStatus"] != "ACTIVE" || d["HasMoreShards"] != true ||
			d["RetentionPeriodHours"] != 24.0 || d["EncryptionType"] != "NONE" {
			t.Errorf("StreamDescription = %v", d)
		}
		if arn, _ := d["StreamARN"].(string); !strings.HasPrefix(arn, "arn:aws:kinesis:") || !strings.HasSuffix(arn, ":stream/orders") {
			t.Errorf("StreamARN = %v", d["StreamARN"])
		}
		if mode := d["StreamModeDetails"].(map[string]any)["StreamMode"]; mode != "PROVISIONED" {
			t.Errorf("StreamMode = %v", mode)
		}
		if ts, ok := d["StreamCreationTimestamp"].(float64); !ok || ts < 1e9 {
			t.Errorf("StreamCreationTimestamp = %v, want epoch seconds", d["StreamCreationTimestamp"])
		}
		em := d["EnhancedMonitoring"].([]any)
		if len(em) != 1 || len(em[0].(map[string]any)["ShardLevelMetrics"].([]any)) != 0 {
			t.Errorf("EnhancedMonitoring = %v", em)
		}
		shards := d["Shards"].([]any)
		if len(shards) != 2 {
			t.Fatalf("got %d shards, want 2", len(shards))
		}
		s0 := shards[0].(map[string]any)
		if s0["ShardId"] != "shardId-000000000000" {
			t.Errorf("first shard = %v", s0)
		}
		if hk := s0["HashKeyRange"].(map[string]any); hk["StartingHashKey"] != "0" || hk["EndingHashKey"] != "113427455640312821154458202477256070484" {
			t.Errorf("HashKeyRange = %v", hk)
		}
		if _, ok := s0["ParentShardId"]; ok {
			t.Error("empty ParentShardId should be omitted")
		}
		sr := s0["SequenceNumberRange"].(map[string]any)
		if _, ok := sr["EndingSequenceNumber"]; ok || sr["StartingSequenceNumber"] == "" {
			t.Errorf("SequenceNumberRange of an open shard = %v", sr)
		}

		rest := c.OK("DescribeStream", map[string]any{"StreamName": "orders", "ExclusiveStartShardId": "shardId-000000000001"})["StreamDescription"].(map[string]any)
		if shards := rest["Shards"].([]any); len(shards) != 1 || shards[0].(map[string]any)["ShardId"] != "shardId-000000000002" || rest["HasMoreShards"] != false {
			t.Errorf("second page = %v", rest)
		}
	})

	t.Run("DescribeStreamSummary", func(t *testing.T) {
		arn := c.OK("DescribeStream", map[string]any{"StreamName": "orders"})["StreamDescription"].(map[string]any)["StreamARN"]
		s := c.OK("DescribeStreamSummary", map[string]any{"StreamARN": arn})["StreamDescriptionSummary"].(map[string]any)
		if s["StreamName"] != "orders" || s["OpenShardCount"] != 3.0 || s["ConsumerCount"] != 0.0 || s["EncryptionType"] != "NONE" {
			t.Errorf("StreamDescriptionSummary = %v", s)
		}
		if _, ok := s["Shards"]; ok {
			t.Error("summary should not list shards")
		}
	})

	t.Run("ListStreams", func(t *testing.T) {
		c.OK("CreateStream", map[string]any{"StreamName": "payments", "StreamModeDetails": map[string]any{"StreamMode": "ON_DEMAND"}})
		page := c.OK("ListStreams", map[string]any{"Limit": 1})
		if names := page["StreamNames"].([]any); len(names) != 1 || names[0] != "orders" || page["HasMoreStreams"] != true {
			t.Fatalf("first page = %v", page)
		}
		sum := page["StreamSummaries"].([]any)[0].(map[string]any)
		if sum["StreamName"] != "orders" || sum["StreamStatus"] != "ACTIVE" || sum["StreamARN"] == nil {
			t.Errorf("StreamSummaries[0] = %v", sum)
		}
		next := c.OK("ListStreams", map[string]any{"ExclusiveStartStreamName": "orders"})
		if names := next["StreamNames"].([]any); len(names) != 1 || names[0] != "payments" || next["HasMoreStreams"] != false {
			t.Errorf("second page = %v", next)
		}
		if tok, ok := page["NextToken"].(string); ok {
			byToken := c.OK("ListStreams", map[string]any{"NextToken": tok})
			if names := byToken["StreamNames"].([]any); len(names) != 1 || names[0] != "payments" {
				t.Errorf("page by NextToken = %v", byToken)
			}
		}
	})

	t.Run("ListShards", func(t *testing.T) {
		page := c.OK("ListShards", map[string]any{"StreamName": "orders", "MaxResults": 2})
		if shards := page["Shards"].([]any); len(shards) != 2 {
			t.Fatalf("first page = %v", page)
		}
		tok, ok := page["NextToken"].(string)
		if !ok {
			t.Fatalf("no NextToken in %v", page)
		}
		next := c.OK("ListShards", map[string]any{"NextToken": tok})
		if shards := next["Shards"].([]any); len(shards) != 1 || shards[0].(map[string]any)["ShardId"] != "shardId-000000000002" {
			t.Errorf("second page = %v", next)
		}
		if _, ok := next["NextToken"]; ok {
			t.Errorf("last page has a NextToken: %v", next)
		}
		r := c.Fails("ListShards", map[string]any{"NextToken": tok, "StreamName": "orders"}, 400, "InvalidArgumentException")
		if r.Message() != "NextToken and StreamName cannot be provided together." {
			t.Errorf("message = %q", r.Message())
		}
		c.Fails("ListShards", map[string]any{"NextToken": tok, "ExclusiveStartShardId": "shardId-000000000000"}, 400, "InvalidArgumentException")
		c.Fails("ListShards", map[string]any{}, 400, "InvalidArgumentException")
		after := c.OK("ListShards", map[string]any{"StreamName": "orders", "ShardFilter": map[string]any{"Type": "AFTER_SHARD_ID", "ShardId": "shardId-000000000001"}})
		if shards := after["Shards"].([]any); len(shards) != 1 {
			t.Errorf("AFTER_SHARD_ID = %v", after)
		}
		c.Fails("ListShards", map[string]any{"StreamName": "nope"}, 400, "ResourceNotFoundException")
	})

	t.Run("retention", func(t *testing.T) {
		c.OK("IncreaseStreamRetentionPeriod", map[string]any{"StreamName": "orders", "RetentionPeriodHours": 48})
		c.Fails("IncreaseStreamRetentionPeriod", map[string]any{"StreamName": "orders", "RetentionPeriodHours": 10000}, 400, "InvalidArgumentException")
		c.Fails("DecreaseStreamRetentionPeriod", map[string]any{"StreamName": "orders", "RetentionPeriodHours": 1}, 400, "InvalidArgumentException")
		c.OK("DecreaseStreamRetentionPeriod", map[string]any{"StreamName": "orders", "RetentionPeriodHours": 36})
		c.Fails("IncreaseStreamRetentionPeriod", map[string]any{"StreamName": "orders"}, 400, "ValidationException")
		s := c.OK("DescribeStreamSummary", map[string]any{"StreamName": "orders"})["StreamDescriptionSummary"].(map[string]any)
		if s["RetentionPeriodHours"] != 36.0 {
			t.Errorf("RetentionPeriodHours = %v, want 36", s["RetentionPeriodHours"])
		}
	})

	t.Run("tags", func(t *testing.T) {
		c.OK("AddTagsToStream", map[string]any{"StreamName": "orders", "Tags": map[string]string{"env": "prod", "owner": ""}})
		got := c.OK("ListTagsForStream", map[string]any{"StreamName": "orders", "Limit": 2})
		tags := got["Tags"].([]any)
		if len(tags) != 2 || got["HasMoreTags"] != true || tags[0].(map[string]any)["Key"] != "env" || tags[0].(map[string]any)["Value"] != "prod" {
			t.Errorf("ListTagsForStream = %v", got)
		}
		rest := c.OK("ListTagsForStream", map[string]any{"StreamName": "orders", "ExclusiveStartTagKey": "owner"})
		if tags := rest["Tags"].([]any); len(tags) != 1 || tags[0].(map[string]any)["Key"] != "team" || rest["HasMoreTags"] != false {
			t.Errorf("after owner = %v", rest)
		}
		c.OK("RemoveTagsFromStream", map[string]any{"StreamName": "orders", "TagKeys": []string{"env", "owner", "team"}})
		if tags := c.OK("ListTagsForStream", map[string]any{"StreamName": "orders"})["Tags"].([]any); len(tags) != 0 {
			t.Errorf("tags after removal = %v", tags)
		}
	})

	t.Run("DescribeLimits", func(t *testing.T) {
		l := c.OK("DescribeLimits", map[string]any{})
		if l["OpenShardCount"] != 7.0 || l["ShardLimit"].(float64) < 7 || l["OnDemandStreamCount"] != 1.0 || l["OnDemandStreamCountLimit"] == nil {
			t.Errorf("DescribeLimits = %v", l)
		}
	})

	t.Run("DeleteStream", func(t *testing.T) {
		if got := c.OK("DeleteStream", map[string]any{"StreamName": "payments", "EnforceConsumerDeletion": true}); len(got) != 0 {
			t.Errorf("DeleteStream reply = %v", got)
		}
		c.Fails("DescribeStream", map[string]any{"StreamName": "payments"}, 400, "ResourceNotFoundException")
		c.Fails("DeleteStream", map[string]any{"StreamName": "payments"}, 400, "ResourceNotFoundException")
		c.Fails("DeleteStream", map[string]any{}, 400, "InvalidArgumentException")
	})
}

func TestPutAndGetRecords(t *testing.T) {
	c := newStoreServer(t, nil)
	c.OK("CreateStream", map[string]any{"StreamName": "s", "ShardCount": 2})
	arn := c.OK("DescribeStreamSummary", map[string]any{"StreamName": "s"})["StreamDescriptionSummary"].(map[string]any)["StreamARN"].(string)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	before := float64(time.Now().Add(-time.Second).UnixMilli()) / 1000

	// Hash key 0 routes to the first shard, 2^128-1 to the last.
	put := c.OK("PutRecord", map[string]any{"StreamName": "s", "PartitionKey": "k", "Data": b64("one"), "ExplicitHashKey": "0", "SequenceNumberForOrdering": "1"})
	if put["ShardId"] != "shardId-000000000000" || put["EncryptionType"] != "NONE" || put["SequenceNumber"] == "" {
		t.Fatalf("PutRecord = %v", put)
	}
	put2 := c.OK("PutRecord", map[string]any{"StreamARN": arn, "PartitionKey": "k", "Data": b64("two"), "ExplicitHashKey": "0"})
	if put2["SequenceNumber"].(string) <= put["SequenceNumber"].(string) {
		t.Errorf("sequence numbers do not increase: %v then %v", put["SequenceNumber"], put2["SequenceNumber"])
	}
	batch := c.OK("PutRecords", map[string]any{"StreamName": "s", "Records": []map[string]any{
		{"PartitionKey": "a", "Data": b64("three"), "ExplicitHashKey": "0"},
		{"PartitionKey": "b", "Data": "", "ExplicitHashKey": "340282366920938463463374607431768211455"},
	}})
	recs := batch["Records"].([]any)
	if batch["FailedRecordCount"] != 0.0 || len(recs) != 2 || batch["EncryptionType"] != "NONE" {
		t.Fatalf("PutRecords = %v", batch)
	}
	if r := recs[1].(map[string]any); r["ShardId"] != "shardId-000000000001" || r["SequenceNumber"] == nil || r["ErrorCode"] != nil {
		t.Errorf("PutRecords result 2 = %v", r)
	}

	c.Fails("PutRecord", map[string]any{"StreamName": "nope", "PartitionKey": "k", "Data": ""}, 400, "ResourceNotFoundException")
	c.Fails("PutRecord", map[string]any{"StreamName": "s", "PartitionKey": "k", "Data": "", "ExplicitHashKey": "340282366920938463463374607431768211456"}, 400, "InvalidArgumentException")
	c.Fails("PutRecord", map[string]any{"StreamName": "s", "StreamARN": strings.Replace(arn, "/s", "/t", 1), "PartitionKey": "k", "Data": ""}, 400, "InvalidArgumentException")
	c.Fails("PutRecords", map[string]any{"StreamName": "s", "Records": []map[string]any{{"PartitionKey": "k", "Data": base64.StdEncoding.EncodeToString(make([]byte, shard.MaxRecordSize))}}}, 400, "InvalidArgumentException")

	it := c.OK("GetShardIterator", map[string]any{"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"].(string)
	got := c.OK("GetRecords", map[string]any{"ShardIterator": it, "Limit": 2})
	records := got["Records"].([]any)
	if len(records) != 2 {
		t.Fatalf("GetRecords = %v", got)
	}
	r0 := records[0].(map[string]any)
	if r0["Data"] != b64("one") || r0["PartitionKey"] != "k" || r0["SequenceNumber"] != put["SequenceNumber"] {
		t.Errorf("record 0 = %v", r0)
	}
	if ts, ok := r0["ApproximateArrivalTimestamp"].(float64); !ok || ts < before || ts > float64(time.Now().Add(time.Second).UnixMilli())/1000 {
		t.Errorf("ApproximateArrivalTimestamp = %v, want epoch seconds near now", r0["ApproximateArrivalTimestamp"])
	}
	if _, ok := got["MillisBehindLatest"].(float64); !ok {
		t.Errorf("MillisBehindLatest missing: %v", got)
	}
	next, ok := got["NextShardIterator"].(string)
	if !ok {
		t.Fatalf("NextShardIterator missing: %v", got)
	}
	rest := c.OK("GetRecords", map[string]any{"ShardIterator": next})
	if records := rest["Records"].([]any); len(records) != 1 || records[0].(map[string]any)["Data"] != b64("three") {
		t.Errorf("second read = %v", rest)
	}
	if _, ok := rest["ChildShards"]; ok {
		t.Errorf("open shard reports ChildShards: %v", rest)
	}

	t.Run("iterator types", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			req  map[string]any
			want []string
		}{
			{"AT_SEQUENCE_NUMBER", map[string]any{"ShardIteratorType": "AT_SEQUENCE_NUMBER", "StartingSequenceNumber": put2["SequenceNumber"]}, []string{"two", "three"}},
			{"AFTER_SEQUENCE_NUMBER", map[string]any{"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": put2["SequenceNumber"]}, []string{"three"}},
			{"LATEST", map[string]any{"ShardIteratorType": "LATEST"}, nil},
			{"AT_TIMESTAMP", map[string]any{"ShardIteratorType": "AT_TIMESTAMP", "Timestamp": before}, []string{"one", "two", "three"}},
			{"AT_TIMESTAMP as string", map[string]any{"ShardIteratorType": "AT_TIMESTAMP", "Timestamp": fmt.Sprint(before + 3600)}, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				tt.req["StreamName"] = "s"
				tt.req["ShardId"] = "shardId-000000000000"
				it := c.OK("GetShardIterator", tt.req)["ShardIterator"].(string)
				var data []string
				for _, r := range c.OK("GetRecords", map[string]any{"ShardIterator": it})["Records"].([]any) {
					d, _ := base64.StdEncoding.DecodeString(r.(map[string]any)["Data"].(string))
					data = append(data, string(d))
				}
				if fmt.Sprint(data) != fmt.Sprint(tt.want) {
					t.Errorf("read %v, want %v", data, tt.want)
				}
			})
		}
	})

	c.Fails("GetShardIterator", map[string]any{"StreamName": "s", "ShardId": "shardId-000000000009", "ShardIteratorType": "LATEST"}, 400, "ResourceNotFoundException")
	c.Fails("GetShardIterator", map[string]any{"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_SEQUENCE_NUMBER"}, 400, "InvalidArgumentException")
	c.Fails("GetRecords", map[string]any{"ShardIterator": "garbage"}, 400, "InvalidArgumentException")
	c.Fails("GetRecords", map[string]any{"ShardIterator": it, "Limit": 0}, 400, "ValidationException")
}

func TestExpiredIterator(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	c := newStoreServer(t, []shard.Option{shard.WithClock(clock)})
	c.OK("CreateStream", map[string]any{"StreamName": "s", "ShardCount": 1})
	it := c.OK("GetShardIterator", map[string]any{"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]
	mu.Lock()
	now = now.Add(shard.IteratorTTL + time.Minute)
	mu.Unlock()
	c.Fails("GetRecords", map[string]any{"ShardIterator": it}, 400, "ExpiredIteratorException")
}

// fakeStore lets a test stand in for the methods it overrides; the others
// are nil and panic if called.
type fakeStore struct {
	streamStore
	resolve    func(name, arn string) (string, error)
	append     func(ctx context.Context, stream string, entries []shard.Entry) ([]shard.AppendResult, error)
	getRecords func(ctx context.Context, iterator string, limit int) (shard.GetRecordsOutput, error)
}

func (f *fakeStore) ResolveStream(name, arn string) (string, error) { return f.resolve(name, arn) }
func (f *fakeStore) Append(ctx context.Context, stream string, entries []shard.Entry) ([]shard.AppendResult, error) {
	return f.append(ctx, stream, entries)
}

// GetRecordsInto hands getRecords' records to sink, as the store's read does.
func (f *fakeStore) GetRecordsInto(ctx context.Context, iterator string, limit int, sink shard.RecordSink) (shard.GetRecordsOutput, error) {
	out, err := f.getRecords(ctx, iterator, limit)
	if err != nil {
		return out, err
	}
	for i, r := range out.Records {
		v := shard.RecordView{
			SequenceNumber: []byte(r.SequenceNumber), ArrivalMs: r.ArrivalTime.UnixMilli(), PartitionKey: []byte(r.PartitionKey),
			Data: r.Data, Encrypted: r.Encrypted, RecordsLeft: len(out.Records) - i, BytesLeft: shard.MaxGetRecordsBytes, ValueLen: len(r.Data) + 16,
		}
		if err := sink.AppendRecord(&v); err != nil {
			return shard.GetRecordsOutput{}, err
		}
	}
	out.Records = nil
	return out, nil
}

func TestInternalFailureIsLoggedNotShown(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	fs := &fakeStore{
		resolve: func(name, _ string) (string, error) { return name, nil },
		append: func(context.Context, string, []shard.Entry) ([]shard.AppendResult, error) {
			return nil, fmt.Errorf("append: %w", errors.New("disk on fire"))
		},
	}
	c := newTestServer(t, newHandler(fs, WithLogger(logger)))
	r := c.Fails("PutRecord", map[string]any{"StreamName": "s", "PartitionKey": "k", "Data": ""}, 500, "InternalFailure")
	if strings.Contains(r.Raw, "fire") {
		t.Errorf("reply leaks the internal error: %s", r.Raw)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "disk on fire") || !strings.Contains(logs.String(), r.Header.Get("X-Amzn-Requestid")) {
		t.Errorf("log lacks the error or the request ID: %s", logs.String())
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestPerRecordFailures(t *testing.T) {
	fs := &fakeStore{
		resolve: func(name, _ string) (string, error) { return name, nil },
		append: func(_ context.Context, _ string, entries []shard.Entry) ([]shard.AppendResult, error) {
			res := make([]shard.AppendResult, len(entries))
			for i, e := range entries {
				if e.PartitionKey == "b" {
					res[i] = shard.AppendResult{ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: "slow down"}
				} else {
					res[i] = shard.AppendResult{ShardID: "shardId-000000000000", SequenceNumber: fmt.Sprint(i + 1)}
				}
			}
			return res, nil
		},
	}
	c := newTestServer(t, newHandler(fs))
	got := c.Call("PutRecords", map[string]any{"StreamName": "s", "Records": []map[string]any{
		{"PartitionKey": "a", "Data": ""}, {"PartitionKey": "b", "Data": ""}, {"PartitionKey": "c", "Data": ""},
	}})
	want := `{"FailedRecordCount":1,"Records":[{"SequenceNumber":"1","ShardId":"shardId-000000000000"},` +
		`{"ErrorCode":"ProvisionedThroughputExceededException","ErrorMessage":"slow down"},` +
		`{"SequenceNumber":"3","ShardId":"shardId-000000000000"}],"EncryptionType":"NONE"}`
	if got.Status != 200 || got.Raw != want {
		t.Errorf("PutRecords reply\n got: %s\nwant: %s", got.Raw, want)
	}
	// The only entry of a PutRecord failing is the request failing.
	r := c.Fails("PutRecord", map[string]any{"StreamName": "s", "PartitionKey": "b", "Data": ""}, 400, "ProvisionedThroughputExceededException")
	if r.Message() != "slow down" {
		t.Errorf("message = %q", r.Message())
	}
}

func TestGetRecordsEncoding(t *testing.T) {
	fs := &fakeStore{
		getRecords: func(context.Context, string, int) (shard.GetRecordsOutput, error) {
			return shard.GetRecordsOutput{
				Records: []shard.Record{{SequenceNumber: "7", ArrivalTime: time.UnixMilli(1700000000123), PartitionKey: "k", Data: []byte("hi")}},
				ChildShards: []shard.ChildShard{{ShardID: "shardId-000000000002", ParentShards: []string{"shardId-000000000000"},
					HashKeyRange: shard.HashKeyRange{Start: "0", End: "9"}}},
			}, nil
		},
	}
	c := newTestServer(t, newHandler(fs))
	got := c.Call("GetRecords", map[string]any{"ShardIterator": "x"})
	want := `{"Records":[{"SequenceNumber":"7","ApproximateArrivalTimestamp":1700000000.123,"Data":"aGk=","PartitionKey":"k"}],` +
		`"MillisBehindLatest":0,"ChildShards":[{"ShardId":"shardId-000000000002","ParentShards":["shardId-000000000000"],` +
		`"HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"9"}}]}`
	if got.Status != 200 || got.Raw != want {
		t.Errorf("GetRecords reply\n got: %s\nwant: %s", got.Raw, want)
	}
}

func TestErrorReplyShape(t *testing.T) {
	fs := &fakeStore{resolve: func(name, _ string) (string, error) {
		return "", apierr.New(apierr.ResourceNotFound, "Stream %s under account 000000000000 not found.", name)
	}}
	c := newTestServer(t, newHandler(fs))
	r := c.Call("DescribeStreamSummary", map[string]any{"StreamName": "x"})
	want := `{"__type":"ResourceNotFoundException","message":"Stream x under account 000000000000 not found."}`
	if r.Status != 400 || r.Raw != want {
		t.Errorf("got %d %s, want 400 %s", r.Status, r.Raw, want)
	}
}

func TestPanicAnswersInternalFailure(t *testing.T) {
	// append is nil, so the store call panics.
	fs := &fakeStore{resolve: func(name, _ string) (string, error) { return name, nil }}
	c := newTestServer(t, newHandler(fs, WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))))
	c.Fails("PutRecord", map[string]any{"StreamName": "s", "PartitionKey": "k", "Data": ""}, 500, "InternalFailure")
}
