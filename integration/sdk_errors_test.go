package integration

// Compatibility tests of the error answers with aws-sdk-go-v2 and raw JSON
// 1.1 requests: every error type with an input that causes it, a message
// that names the offending thing, and no change from a rejected request.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// errCase is one bad request and the error it must get.
type errCase struct {
	name     string
	call     func(ctx context.Context) error
	code     string   // the error type; or
	codes    []string // any of these, where Kinesis' answer is not pinned down
	mentions []string // substrings the message must hold (case-insensitive)
}

// errOf adapts an SDK operation and its input to errCase.call: calling it
// sends in (built once, with the case table) and returns only the error.
func errOf[In, Out any](op func(context.Context, In, ...func(*kinesis.Options)) (Out, error), in In) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := op(ctx, in)
		return err
	}
}

func (c errCase) check(t *testing.T, err error) {
	t.Helper()
	if c.codes != nil {
		wantAnyAPIError(t, err, c.codes, c.mentions...)
		return
	}
	wantAPIError(t, err, c.code, c.mentions...)
}

// TestSDKErrors drives every error type of the Kinesis API on one server and
// checks after each rejected request that the fixture stream is unchanged.
func TestSDKErrors(t *testing.T) {
	t.Parallel()
	k := newKin(t)
	ctx := testCtx(t)

	// The fixture: 2 shards, one record in each, retention 48 h, one tag.
	name := uniqueName(t)
	k.createWith(ctx, t, &kinesis.CreateStreamInput{
		StreamName: aws.String(name), ShardCount: aws.Int32(2), Tags: map[string]string{"keep": "me"},
	})
	if _, err := k.c.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String(name), RetentionPeriodHours: aws.Int32(48)}); err != nil {
		t.Fatalf("IncreaseStreamRetentionPeriod: %v", err)
	}
	seq := make([]string, 2) // seq[i] is the record in shard i
	for i := range 2 {
		start, _ := hashRange(i, 2)
		out, err := k.c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("p"), ExplicitHashKey: aws.String(start.String()), Data: []byte("fixture")})
		if err != nil {
			t.Fatalf("PutRecord: %v", err)
		}
		seq[i] = aws.ToString(out.SequenceNumber)
	}
	unchanged := func(ctx context.Context, t *testing.T) {
		t.Helper()
		sum := k.summary(ctx, t, name)
		if got := aws.ToInt32(sum.RetentionPeriodHours); got != 48 {
			t.Errorf("a rejected request changed the retention to %d", got)
		}
		if got := aws.ToInt32(sum.OpenShardCount); got != 2 {
			t.Errorf("a rejected request changed the open shard count to %d", got)
		}
		tags, err := k.c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatalf("ListTagsForStream: %v", err)
		}
		if got := tagMap(tags.Tags); !maps.Equal(got, map[string]string{"keep": "me"}) {
			t.Errorf("a rejected request changed the tags to %v", got)
		}
		for i := range 2 {
			if got := recordSeqs(k.readShard(ctx, t, name, shardID(i))); len(got) != 1 || got[0] != seq[i] {
				t.Errorf("a rejected request changed shard %d's records to %v, want [%s]", i, got, seq[i])
			}
		}
	}
	unchanged(ctx, t)

	str := aws.String
	tooBig := two128.String()
	entry := func(pk string) types.PutRecordsRequestEntry {
		return types.PutRecordsRequestEntry{PartitionKey: str(pk), Data: []byte("x")}
	}
	entriesWith := func(bad types.PutRecordsRequestEntry) []types.PutRecordsRequestEntry {
		es := []types.PutRecordsRequestEntry{entry("a"), entry("b"), entry("c"), bad, entry("d")}
		return es
	}
	c := k.c

	t.Run("InvalidArgumentException", func(t *testing.T) {
		badHashKey := entry("bad")
		badHashKey.ExplicitHashKey = str(tooBig)
		over1MiB := types.PutRecordsRequestEntry{PartitionKey: str("pk"), Data: bytes.Repeat([]byte("x"), 1<<20-1)}
		cases := []errCase{
			{name: "IncreaseRetentionAboveMax", code: "InvalidArgumentException", mentions: []string{"8761"},
				call: errOf(c.IncreaseStreamRetentionPeriod, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: str(name), RetentionPeriodHours: aws.Int32(8761)})},
			{name: "DecreaseRetentionBelowMin", code: "InvalidArgumentException", mentions: []string{"23"},
				call: errOf(c.DecreaseStreamRetentionPeriod, &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: str(name), RetentionPeriodHours: aws.Int32(23)})},
			{name: "IncreaseRetentionBelowMin", code: "InvalidArgumentException", mentions: []string{"23"},
				call: errOf(c.IncreaseStreamRetentionPeriod, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: str(name), RetentionPeriodHours: aws.Int32(23)})},
			{name: "IncreaseRetentionToSmaller", code: "InvalidArgumentException", mentions: []string{"30"},
				call: errOf(c.IncreaseStreamRetentionPeriod, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: str(name), RetentionPeriodHours: aws.Int32(30)})},
			{name: "DecreaseRetentionToLarger", code: "InvalidArgumentException", mentions: []string{"100"},
				call: errOf(c.DecreaseStreamRetentionPeriod, &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: str(name), RetentionPeriodHours: aws.Int32(100)})},
			{name: "AtSequenceNumberFromAnotherShard", code: "InvalidArgumentException", mentions: []string{"sequence"},
				call: errOf(c.GetShardIterator, &kinesis.GetShardIteratorInput{StreamName: str(name), ShardId: str(shardID(0)), ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: str(seq[1])})},
			{name: "AfterSequenceNumberFromAnotherShard", code: "InvalidArgumentException", mentions: []string{"sequence"},
				call: errOf(c.GetShardIterator, &kinesis.GetShardIteratorInput{StreamName: str(name), ShardId: str(shardID(1)), ShardIteratorType: types.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: str(seq[0])})},
			{name: "AtSequenceNumberWithoutOne", code: "InvalidArgumentException", mentions: []string{"StartingSequenceNumber"},
				call: errOf(c.GetShardIterator, &kinesis.GetShardIteratorInput{StreamName: str(name), ShardId: str(shardID(0)), ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber})},
			{name: "TrimHorizonWithSequenceNumber", code: "InvalidArgumentException", mentions: []string{"StartingSequenceNumber"},
				call: errOf(c.GetShardIterator, &kinesis.GetShardIteratorInput{StreamName: str(name), ShardId: str(shardID(0)), ShardIteratorType: types.ShardIteratorTypeTrimHorizon, StartingSequenceNumber: str(seq[0])})},
			{name: "AtTimestampWithoutOne", code: "InvalidArgumentException", mentions: []string{"timestamp"},
				call: errOf(c.GetShardIterator, &kinesis.GetShardIteratorInput{StreamName: str(name), ShardId: str(shardID(0)), ShardIteratorType: types.ShardIteratorTypeAtTimestamp})},
			{name: "BadIteratorString", code: "InvalidArgumentException", mentions: []string{"iterator"},
				call: errOf(c.GetRecords, &kinesis.GetRecordsInput{ShardIterator: str("not-an-iterator")})},
			{name: "PutRecordExplicitHashKey2^128", code: "InvalidArgumentException", mentions: []string{"ExplicitHashKey"},
				call: errOf(c.PutRecord, &kinesis.PutRecordInput{StreamName: str(name), PartitionKey: str("p"), ExplicitHashKey: str(tooBig), Data: []byte("x")})},
			{name: "PutRecordsOneExplicitHashKey2^128", code: "InvalidArgumentException", mentions: []string{"ExplicitHashKey"},
				call: errOf(c.PutRecords, &kinesis.PutRecordsInput{StreamName: str(name), Records: entriesWith(badHashKey)})},
			{name: "PutRecordOver1MiB", codes: []string{"InvalidArgumentException", "ValidationException"},
				call: errOf(c.PutRecord, &kinesis.PutRecordInput{StreamName: str(name), PartitionKey: str("pk"), Data: bytes.Repeat([]byte("x"), 1<<20-1)})},
			{name: "PutRecordsOneEntryOver1MiB", codes: []string{"InvalidArgumentException", "ValidationException"},
				call: errOf(c.PutRecords, &kinesis.PutRecordsInput{StreamName: str(name), Records: entriesWith(over1MiB)})},
			{name: "PutRecordsOver10MiB", codes: []string{"InvalidArgumentException", "ValidationException"},
				// Eleven entries of exactly 1 MiB (key "k" and 1 MiB-1 of data).
				call: errOf(c.PutRecords, &kinesis.PutRecordsInput{StreamName: str(name), Records: slices.Repeat([]types.PutRecordsRequestEntry{
					{PartitionKey: str("k"), Data: bytes.Repeat([]byte{'a'}, 1<<20-1)},
				}, 11)})},
			{name: "ListShardsNextTokenWithStreamName", code: "InvalidArgumentException", mentions: []string{"NextToken"},
				call: func(ctx context.Context) error {
					page, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: str(name), MaxResults: aws.Int32(1)})
					if err != nil {
						return fmt.Errorf("first page: %w", err)
					}
					if page.NextToken == nil {
						return fmt.Errorf("first page of 1 of 2 shards has no NextToken")
					}
					_, err = c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: str(name), NextToken: page.NextToken})
					return err
				}},
			{name: "ListShardsAfterShardIdWithoutShardId", code: "InvalidArgumentException", mentions: []string{"ShardId"},
				call: errOf(c.ListShards, &kinesis.ListShardsInput{StreamName: str(name), ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeAfterShardId}})},
			{name: "TooManyTags", codes: []string{"InvalidArgumentException", "LimitExceededException"}, mentions: []string{"50"},
				call: func(ctx context.Context) error {
					tags := map[string]string{}
					for i := range 50 { // 50 new tags plus "keep" is 51
						tags[fmt.Sprintf("t%02d", i)] = "v"
					}
					_, err := c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: str(name), Tags: tags})
					return err
				}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ctx := testCtx(t)
				tc.check(t, tc.call(ctx))
				unchanged(ctx, t)
			})
		}
	})

	t.Run("ValidationException", func(t *testing.T) {
		long := strings.Repeat("s", 129)
		// getRecordsWithLimit reads shard 0 from TRIM_HORIZON with limit.
		getRecordsWithLimit := func(limit int32) func(context.Context) error {
			return func(ctx context.Context) error {
				it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: str(name), ShardId: str(shardID(0)), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
				if err != nil {
					return fmt.Errorf("GetShardIterator: %w", err)
				}
				_, err = c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(limit)})
				return err
			}
		}
		cases := []errCase{
			{name: "CreateStreamNameWithSpace", code: "ValidationException", mentions: []string{"streamName"},
				call: errOf(c.CreateStream, &kinesis.CreateStreamInput{StreamName: str("has space"), ShardCount: aws.Int32(1)})},
			{name: "CreateStreamName129Chars", code: "ValidationException", mentions: []string{"streamName"},
				call: errOf(c.CreateStream, &kinesis.CreateStreamInput{StreamName: str(long), ShardCount: aws.Int32(1)})},
			{name: "CreateStreamEmptyName", code: "ValidationException", mentions: []string{"streamName"},
				call: errOf(c.CreateStream, &kinesis.CreateStreamInput{StreamName: str(""), ShardCount: aws.Int32(1)})},
			{name: "DescribeStreamSummaryNameWithSpace", code: "ValidationException", mentions: []string{"streamName"},
				call: errOf(c.DescribeStreamSummary, &kinesis.DescribeStreamSummaryInput{StreamName: str(name + " x")})},
			{name: "PutRecordNameWithSlash", code: "ValidationException", mentions: []string{"streamName"},
				call: errOf(c.PutRecord, &kinesis.PutRecordInput{StreamName: str("a/b"), PartitionKey: str("p"), Data: []byte("x")})},
			{name: "PartitionKey257Chars", code: "ValidationException", mentions: []string{"partitionKey"},
				call: errOf(c.PutRecord, &kinesis.PutRecordInput{StreamName: str(name), PartitionKey: str(strings.Repeat("k", 257)), Data: []byte("x")})},
			{name: "PartitionKeyEmpty", code: "ValidationException", mentions: []string{"partitionKey"},
				call: errOf(c.PutRecord, &kinesis.PutRecordInput{StreamName: str(name), PartitionKey: str(""), Data: []byte("x")})},
			{name: "PutRecordsOnePartitionKey257Chars", code: "ValidationException", mentions: []string{"partitionKey"},
				call: errOf(c.PutRecords, &kinesis.PutRecordsInput{StreamName: str(name), Records: entriesWith(entry(strings.Repeat("k", 257)))})},
			{name: "PutRecordsOneEmptyPartitionKey", code: "ValidationException", mentions: []string{"partitionKey"},
				call: errOf(c.PutRecords, &kinesis.PutRecordsInput{StreamName: str(name), Records: entriesWith(entry(""))})},
			{name: "PutRecords501Entries", code: "ValidationException", mentions: []string{"records"},
				call: func(ctx context.Context) error {
					es := make([]types.PutRecordsRequestEntry, 501)
					for i := range es {
						es[i] = entry(fmt.Sprint(i))
					}
					_, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: str(name), Records: es})
					return err
				}},
			{name: "PutRecordsNoEntries", code: "ValidationException", mentions: []string{"records"},
				call: errOf(c.PutRecords, &kinesis.PutRecordsInput{StreamName: str(name), Records: []types.PutRecordsRequestEntry{}})},
			{name: "ExplicitHashKeyNotDecimal", codes: []string{"ValidationException", "InvalidArgumentException"}, mentions: []string{"ExplicitHashKey"},
				call: errOf(c.PutRecord, &kinesis.PutRecordInput{StreamName: str(name), PartitionKey: str("p"), ExplicitHashKey: str("-1"), Data: []byte("x")})},
			{name: "GetRecordsLimit10001", code: "ValidationException", mentions: []string{"limit"}, call: getRecordsWithLimit(10001)},
			{name: "GetRecordsLimit0", code: "ValidationException", mentions: []string{"limit"}, call: getRecordsWithLimit(0)},
			{name: "TagKey129Chars", codes: []string{"ValidationException", "InvalidArgumentException"},
				call: errOf(c.AddTagsToStream, &kinesis.AddTagsToStreamInput{StreamName: str(name), Tags: map[string]string{"ok": "1", long: "v"}})},
			{name: "TagValue257Chars", codes: []string{"ValidationException", "InvalidArgumentException"},
				call: errOf(c.AddTagsToStream, &kinesis.AddTagsToStreamInput{StreamName: str(name), Tags: map[string]string{"ok": "1", "big": strings.Repeat("v", 257)}})},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ctx := testCtx(t)
				tc.check(t, tc.call(ctx))
				unchanged(ctx, t)
			})
		}
		// A rejected CreateStream creates nothing.
		names := k.streamNames(testCtx(t), t)
		for _, bad := range []string{"has space", long} {
			if slices.Contains(names, bad) {
				t.Errorf("rejected CreateStream(%q) created the stream", bad)
			}
		}
	})

	t.Run("ResourceNotFoundException", func(t *testing.T) {
		missing := uniqueName(t) + "-missing"
		m := str(missing)
		cases := []errCase{
			{name: "DeleteStream", call: errOf(c.DeleteStream, &kinesis.DeleteStreamInput{StreamName: m})},
			{name: "DescribeStream", call: errOf(c.DescribeStream, &kinesis.DescribeStreamInput{StreamName: m})},
			{name: "DescribeStreamSummary", call: errOf(c.DescribeStreamSummary, &kinesis.DescribeStreamSummaryInput{StreamName: m})},
			{name: "ListShards", call: errOf(c.ListShards, &kinesis.ListShardsInput{StreamName: m})},
			{name: "PutRecord", call: errOf(c.PutRecord, &kinesis.PutRecordInput{StreamName: m, PartitionKey: str("p"), Data: []byte("x")})},
			{name: "PutRecords", call: errOf(c.PutRecords, &kinesis.PutRecordsInput{StreamName: m, Records: []types.PutRecordsRequestEntry{entry("p")}})},
			{name: "GetShardIterator", call: errOf(c.GetShardIterator, &kinesis.GetShardIteratorInput{StreamName: m, ShardId: str(shardID(0)), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})},
			{name: "IncreaseStreamRetentionPeriod", call: errOf(c.IncreaseStreamRetentionPeriod, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: m, RetentionPeriodHours: aws.Int32(48)})},
			{name: "DecreaseStreamRetentionPeriod", call: errOf(c.DecreaseStreamRetentionPeriod, &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: m, RetentionPeriodHours: aws.Int32(24)})},
			{name: "AddTagsToStream", call: errOf(c.AddTagsToStream, &kinesis.AddTagsToStreamInput{StreamName: m, Tags: map[string]string{"a": "b"}})},
			{name: "RemoveTagsFromStream", call: errOf(c.RemoveTagsFromStream, &kinesis.RemoveTagsFromStreamInput{StreamName: m, TagKeys: []string{"a"}})},
			{name: "ListTagsForStream", call: errOf(c.ListTagsForStream, &kinesis.ListTagsForStreamInput{StreamName: m})},
		}
		for _, tc := range cases {
			tc.code, tc.mentions = "ResourceNotFoundException", []string{missing}
			t.Run(tc.name, func(t *testing.T) {
				ctx := testCtx(t)
				tc.check(t, tc.call(ctx))
			})
		}
		t.Run("NothingCreated", func(t *testing.T) {
			ctx := testCtx(t)
			_, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: m})
			wantAPIError(t, err, "ResourceNotFoundException", missing)
		})
		t.Run("UnknownShard", func(t *testing.T) {
			ctx := testCtx(t)
			_, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: str(name), ShardId: str(shardID(7)), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
			wantAPIError(t, err, "ResourceNotFoundException", shardID(7))
		})
		t.Run("GetRecordsOnDeletedStream", func(t *testing.T) {
			ctx := testCtx(t)
			gone := uniqueName(t)
			k.create(ctx, t, gone, 1)
			it := k.iterator(ctx, t, gone, shardID(0), types.ShardIteratorTypeTrimHorizon, "", nil)
			if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: str(gone)}); err != nil {
				t.Fatalf("DeleteStream: %v", err)
			}
			k.waitGone(ctx, t, gone)
			_, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: str(it)})
			wantAPIError(t, err, "ResourceNotFoundException", shardID(0))
		})
	})

	t.Run("ResourceInUseException", func(t *testing.T) {
		ctx := testCtx(t)
		_, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: str(name), ShardCount: aws.Int32(5)})
		wantAPIError(t, err, "ResourceInUseException", name)
		unchanged(ctx, t)
		_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: str(name), StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}})
		wantAPIError(t, err, "ResourceInUseException", name)
		unchanged(ctx, t)
	})

	t.Run("SerializationException", func(t *testing.T) {
		cases := []struct {
			name, target, body string
		}{
			{"MalformedJSON", "DescribeStreamSummary", `{"StreamName": "` + name},
			{"NotAnObject", "DescribeStreamSummary", `["` + name + `"]`},
			{"WrongTypeStreamName", "DescribeStreamSummary", `{"StreamName": 12}`},
			{"WrongTypeShardCount", "CreateStream", `{"StreamName": "` + name + `-ser", "ShardCount": "three"}`},
			{"WrongTypeRetention", "IncreaseStreamRetentionPeriod", `{"StreamName": "` + name + `", "RetentionPeriodHours": "72"}`},
			{"BadBase64PutRecord", "PutRecord", `{"StreamName": "` + name + `", "PartitionKey": "p", "Data": "!!!not base64!!!"}`},
			{"BadBase64PutRecords", "PutRecords", `{"StreamName": "` + name + `", "Records": [{"PartitionKey": "p", "Data": "eA=="}, {"PartitionKey": "q", "Data": "%%%"}]}`},
			{"DataNotAString", "PutRecord", `{"StreamName": "` + name + `", "PartitionKey": "p", "Data": 5}`},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ctx := testCtx(t)
				rawCall(ctx, t, k.srv, tc.target, tc.body).wantError(t, "SerializationException")
				unchanged(ctx, t)
			})
		}
		ctx := testCtx(t)
		_, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: str(name + "-ser")})
		wantAPIError(t, err, "ResourceNotFoundException", name+"-ser")
	})

	t.Run("UnknownOperationException", func(t *testing.T) {
		ctx := testCtx(t)
		rawCall(ctx, t, k.srv, "Kinesis_20131202.Nope", `{}`).wantError(t, "UnknownOperationException", "Nope")
		rawCall(ctx, t, k.srv, "Kinesis_20131202.SplitShardz", `{}`).wantError(t, "UnknownOperationException", "SplitShardz")
		rawCall(ctx, t, k.srv, "Firehose_20150804.ListStreams", `{}`).wantError(t, "UnknownOperationException")
	})

	t.Run("WireFormat", func(t *testing.T) {
		ctx := testCtx(t)
		name := uniqueName(t)
		k.create(ctx, t, name, 1)
		r := rawCall(ctx, t, k.srv, "ListStreams", `{}`)
		r.wantOK(t, nil)
		if !strings.HasPrefix(r.ContentType, "application/x-amz-json-1.1") {
			t.Errorf("Content-Type = %q, want application/x-amz-json-1.1", r.ContentType)
		}
		data := []byte{0, 1, 2, 0xfe, 0xff, '"', '\\'}
		var put struct{ ShardId, SequenceNumber string }
		rawCall(ctx, t, k.srv, "PutRecord", mustJSON(t, map[string]any{
			"StreamName": name, "PartitionKey": "wire", "ExplicitHashKey": "0", "Data": base64.StdEncoding.EncodeToString(data),
		})).wantOK(t, &put)
		if put.ShardId != shardID(0) || !decimal.MatchString(put.SequenceNumber) {
			t.Fatalf("PutRecord reply %+v", put)
		}
		var it struct{ ShardIterator string }
		rawCall(ctx, t, k.srv, "GetShardIterator", mustJSON(t, map[string]any{
			"StreamName": name, "ShardId": shardID(0), "ShardIteratorType": "AT_SEQUENCE_NUMBER", "StartingSequenceNumber": put.SequenceNumber,
		})).wantOK(t, &it)
		var got struct {
			Records []struct {
				SequenceNumber              string
				ApproximateArrivalTimestamp json.Number
				Data                        string
				PartitionKey                string
			}
			NextShardIterator  string
			MillisBehindLatest *int64
		}
		rawCall(ctx, t, k.srv, "GetRecords", mustJSON(t, map[string]any{"ShardIterator": it.ShardIterator})).wantOK(t, &got)
		if len(got.Records) != 1 {
			t.Fatalf("GetRecords: %d records, want 1", len(got.Records))
		}
		rec := got.Records[0]
		if rec.Data != base64.StdEncoding.EncodeToString(data) || rec.PartitionKey != "wire" || rec.SequenceNumber != put.SequenceNumber {
			t.Errorf("record = %+v, want data %q base64, key wire, sequence %s", rec, base64.StdEncoding.EncodeToString(data), put.SequenceNumber)
		}
		if _, err := rec.ApproximateArrivalTimestamp.Float64(); err != nil || rec.ApproximateArrivalTimestamp == "" {
			t.Errorf("ApproximateArrivalTimestamp %q is not epoch seconds as a JSON number", rec.ApproximateArrivalTimestamp)
		}
		if got.NextShardIterator == "" || got.MillisBehindLatest == nil {
			t.Errorf("GetRecords reply lacks NextShardIterator or MillisBehindLatest: %+v", got)
		}
	})

	// LimitExceededException goes last: it fills the account's shard limit.
	t.Run("LimitExceededException", func(t *testing.T) {
		ctx := testCtx(t)
		big501 := uniqueName(t)
		_, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: str(big501), ShardCount: aws.Int32(501)})
		wantAPIError(t, err, "LimitExceededException", "500")
		_, err = c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: str(big501)})
		wantAPIError(t, err, "ResourceNotFoundException", big501)

		limits, err := c.DescribeLimits(ctx, &kinesis.DescribeLimitsInput{})
		if err != nil {
			t.Fatalf("DescribeLimits: %v", err)
		}
		free := aws.ToInt32(limits.ShardLimit) - aws.ToInt32(limits.OpenShardCount)
		if free < 2 {
			t.Fatalf("only %d shards free before the test", free)
		}
		over := uniqueName(t)
		_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: str(over), ShardCount: aws.Int32(free + 1)})
		wantAPIError(t, err, "LimitExceededException")
		fill := uniqueName(t)
		k.create(ctx, t, fill, free)
		one := uniqueName(t)
		_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: str(one), ShardCount: aws.Int32(1)})
		wantAPIError(t, err, "LimitExceededException")
		_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: str(one), StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}})
		wantAPIError(t, err, "LimitExceededException")
		after, err := c.DescribeLimits(ctx, &kinesis.DescribeLimitsInput{})
		if err != nil {
			t.Fatalf("DescribeLimits: %v", err)
		}
		if aws.ToInt32(after.OpenShardCount) != aws.ToInt32(after.ShardLimit) {
			t.Errorf("OpenShardCount = %d, want the limit %d", aws.ToInt32(after.OpenShardCount), aws.ToInt32(after.ShardLimit))
		}
		// Deleting frees the shards.
		if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: str(fill)}); err != nil {
			t.Fatalf("DeleteStream: %v", err)
		}
		k.waitGone(ctx, t, fill)
		k.create(ctx, t, one, 1)
	})
}

// TestSDKCreatingStream checks the answers for a stream that is still
// CREATING, on a server whose streams stay CREATING for an hour.
func TestSDKCreatingStream(t *testing.T) {
	t.Parallel()
	k := newKin(t, withArgs("--create-delay", "1h"))
	ctx := testCtx(t)
	name := uniqueName(t)
	if _, err := k.c.CreateStream(ctx, &kinesis.CreateStreamInput{
		StreamName: aws.String(name), ShardCount: aws.Int32(2), Tags: map[string]string{"born": "creating"},
	}); err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	n := aws.String(name)

	t.Run("Describe", func(t *testing.T) {
		ctx := testCtx(t)
		if st := k.summary(ctx, t, name).StreamStatus; st != types.StreamStatusCreating {
			t.Errorf("DescribeStreamSummary status = %s, want CREATING", st)
		}
		d, err := k.c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: n})
		if err != nil {
			t.Fatalf("DescribeStream: %v", err)
		}
		if st := d.StreamDescription.StreamStatus; st != types.StreamStatusCreating {
			t.Errorf("DescribeStream status = %s, want CREATING", st)
		}
		ls, err := k.c.ListStreams(ctx, &kinesis.ListStreamsInput{})
		if err != nil {
			t.Fatalf("ListStreams: %v", err)
		}
		found := false
		for _, s := range ls.StreamSummaries {
			if aws.ToString(s.StreamName) == name {
				found = true
				if s.StreamStatus != types.StreamStatusCreating {
					t.Errorf("ListStreams status = %s, want CREATING", s.StreamStatus)
				}
			}
		}
		if !found {
			t.Errorf("ListStreams does not list the CREATING stream")
		}
		tags, err := k.c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: n})
		if err != nil {
			t.Fatalf("ListTagsForStream on a CREATING stream: %v", err)
		}
		if got := tagMap(tags.Tags); !maps.Equal(got, map[string]string{"born": "creating"}) {
			t.Errorf("tags = %v, want the ones given at creation", got)
		}
	})

	inUse := []errCase{
		{name: "CreateStream", call: errOf(k.c.CreateStream, &kinesis.CreateStreamInput{StreamName: n, ShardCount: aws.Int32(1)})},
		{name: "DeleteStream", call: errOf(k.c.DeleteStream, &kinesis.DeleteStreamInput{StreamName: n})},
		{name: "ListShards", call: errOf(k.c.ListShards, &kinesis.ListShardsInput{StreamName: n})},
		{name: "IncreaseStreamRetentionPeriod", call: errOf(k.c.IncreaseStreamRetentionPeriod, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: n, RetentionPeriodHours: aws.Int32(48)})},
		{name: "DecreaseStreamRetentionPeriod", call: errOf(k.c.DecreaseStreamRetentionPeriod, &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: n, RetentionPeriodHours: aws.Int32(24)})},
		{name: "AddTagsToStream", call: errOf(k.c.AddTagsToStream, &kinesis.AddTagsToStreamInput{StreamName: n, Tags: map[string]string{"a": "b"}})},
		{name: "RemoveTagsFromStream", call: errOf(k.c.RemoveTagsFromStream, &kinesis.RemoveTagsFromStreamInput{StreamName: n, TagKeys: []string{"born"}})},
	}
	for _, tc := range inUse {
		tc.code, tc.mentions = "ResourceInUseException", []string{name}
		t.Run("InUse_"+tc.name, func(t *testing.T) {
			tc.check(t, tc.call(testCtx(t)))
		})
	}
	// The data plane needs an ACTIVE stream; Kinesis answers
	// ResourceNotFoundException here (kinesalite agrees), ResourceInUse is
	// accepted too.
	notReady := []errCase{
		{name: "PutRecord", call: errOf(k.c.PutRecord, &kinesis.PutRecordInput{StreamName: n, PartitionKey: aws.String("p"), Data: []byte("x")})},
		{name: "PutRecords", call: errOf(k.c.PutRecords, &kinesis.PutRecordsInput{StreamName: n, Records: []types.PutRecordsRequestEntry{{PartitionKey: aws.String("p"), Data: []byte("x")}}})},
		{name: "GetShardIterator", call: errOf(k.c.GetShardIterator, &kinesis.GetShardIteratorInput{StreamName: n, ShardId: aws.String(shardID(0)), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})},
	}
	for _, tc := range notReady {
		tc.codes, tc.mentions = []string{"ResourceNotFoundException", "ResourceInUseException"}, []string{name}
		t.Run("NotReady_"+tc.name, func(t *testing.T) {
			tc.check(t, tc.call(testCtx(t)))
		})
	}
	t.Run("StillCreatingAndUnchanged", func(t *testing.T) {
		ctx := testCtx(t)
		sum := k.summary(ctx, t, name)
		if sum.StreamStatus != types.StreamStatusCreating || aws.ToInt32(sum.RetentionPeriodHours) != 24 {
			t.Errorf("after rejected requests: status %s, retention %d; want CREATING, 24", sum.StreamStatus, aws.ToInt32(sum.RetentionPeriodHours))
		}
		tags, err := k.c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: n})
		if err != nil {
			t.Fatalf("ListTagsForStream: %v", err)
		}
		if got := tagMap(tags.Tags); !maps.Equal(got, map[string]string{"born": "creating"}) {
			t.Errorf("tags = %v after rejected tag changes", got)
		}
	})
}

// TestSDKCreateDelayEnds checks that a stream created with a delay goes from
// CREATING to ACTIVE and then works.
func TestSDKCreateDelayEnds(t *testing.T) {
	t.Parallel()
	k := newKin(t, withArgs("--create-delay", "1s"))
	ctx := testCtx(t)
	name := uniqueName(t)
	if _, err := k.c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	k.waitActive(ctx, t, name) // asserts CREATING until ACTIVE
	out := k.put(ctx, t, name, "p", []byte("x"))
	if got := recordSeqs(k.readShard(ctx, t, name, shardID(0))); len(got) != 1 || got[0] != aws.ToString(out.SequenceNumber) {
		t.Errorf("read %v, want [%s]", got, aws.ToString(out.SequenceNumber))
	}
}

// TestSDKExpiredIterator uses the server's --iterator-ttl to make iterators
// expire after a second instead of five minutes.
func TestSDKExpiredIterator(t *testing.T) {
	t.Parallel()
	k := newKin(t, withArgs("--iterator-ttl", "1s"))
	ctx := testCtx(t)
	name := uniqueName(t)
	k.create(ctx, t, name, 1)
	put := k.put(ctx, t, name, "p", []byte("x"))
	it := k.iterator(ctx, t, name, shardID(0), types.ShardIteratorTypeTrimHorizon, "", nil)
	time.Sleep(2 * time.Second) // twice the TTL
	_, err := k.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
	wantAPIError(t, err, "ExpiredIteratorException", "expire")

	// A fresh iterator still reads the record. Retry a few times in case
	// this machine is slow enough that the fresh one expires too.
	for attempt := 0; ; attempt++ {
		fresh := k.iterator(ctx, t, name, shardID(0), types.ShardIteratorTypeTrimHorizon, "", nil)
		out, err := k.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(fresh)})
		if err != nil && attempt < 5 && typedAs(err, "ExpiredIteratorException") {
			continue
		}
		if err != nil {
			t.Fatalf("GetRecords with a fresh iterator: %v", err)
		}
		if got := recordSeqs(out.Records); len(got) != 1 || got[0] != aws.ToString(put.SequenceNumber) {
			t.Errorf("fresh iterator read %v, want [%s]", got, aws.ToString(put.SequenceNumber))
		}
		// NextShardIterator expires the same way.
		time.Sleep(2 * time.Second)
		_, err = k.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: out.NextShardIterator})
		wantAPIError(t, err, "ExpiredIteratorException", "expire")
		return
	}
}
