package destination

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/firehose"
	"github.com/spatehq/spate/firehose/s3store"
	"github.com/spatehq/spate/firehose/s3store/s3test"
	"github.com/spatehq/spate/shard"
)

func TestMain(m *testing.M) { os.Exit(s3test.Main(m)) }

// record is an invocation record as Lambda writes it for a Kinesis batch.
const record = `{
  "requestContext": {"requestId": "c9b8fa9f-5a7f-4e9d-9b1a-0e3a1e2b3c4d", "functionArn": "arn:aws:lambda:us-east-1:000000000000:function:fn",
    "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 3},
  "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
  "version": "1.0",
  "timestamp": "2026-12-07T21:05:09.123Z",
  "KinesisBatchInfo": {"shardId": "shardId-000000000001", "startSequenceNumber": "1", "endSequenceNumber": "2",
    "approximateArrivalOfFirstRecord": "2026-12-07T21:05:01.000Z", "approximateArrivalOfLastRecord": "2026-12-07T21:05:02.000Z",
    "batchSize": 2, "streamArn": "arn:aws:kinesis:us-east-1:000000000000:stream/src"}
}`

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		arn  string
		want Target
		err  string // "" when valid
	}{
		{"arn:aws:kinesis:us-east-1:000000000000:stream/failures", Target{Stream, "failures"}, ""},
		{"arn:aws-cn:kinesis:cn-north-1:123456789012:stream/a.b-c_d", Target{Stream, "a.b-c_d"}, ""},
		{"arn:aws:firehose:us-east-1:000000000000:deliverystream/dlq", Target{DeliveryStream, "dlq"}, ""},
		{"arn:aws:s3:::my-dlq-bucket", Target{Bucket, "my-dlq-bucket"}, ""},
		{"", Target{}, "is empty"},
		{"not-an-arn", Target{}, "is not an ARN"},
		{"arn:aws:kinesis:us-east-1:000000000000:stream/", Target{}, "stream"},
		{"arn:aws:kinesis:us-east-1:000000000000:table/x", Target{}, "is not a stream ARN"},
		{"arn:aws:kinesis::000000000000:stream/x", Target{}, "is not a stream ARN"},
		{"arn:aws:kinesis:us-east-1::stream/x", Target{}, "is not a stream ARN"},
		{"arn:aws:kinesis:us-east-1:000000000000:stream/bad name", Target{}, "the destination"},
		{"arn:aws:firehose:us-east-1:000000000000:deliverystream/" + strings.Repeat("x", 65), Target{}, "is not a delivery stream ARN"},
		{"arn:aws:s3:::Bad_Bucket", Target{}, "is not a bucket ARN"},
		{"arn:aws:s3:us-east-1:000000000000:bucket", Target{}, "is not a bucket ARN"},
		{"arn:aws:sqs:us-east-2:123456789012:dlq", Target{}, "Spate has no SQS"},
		{"arn:aws:sns:us-east-2:123456789012:topic", Target{}, "Spate has no SNS"},
		{"arn:aws:lambda:us-east-2:123456789012:function:f", Target{}, `names the service "lambda"`},
		{"arn:aws:kinesis:us-east-1:000000000000:stream/" + strings.Repeat("x", 340), Target{}, "at most 350"},
	} {
		t.Run(tc.arn, func(t *testing.T) {
			got, err := Parse(tc.arn)
			if tc.err == "" {
				if err != nil || got != tc.want {
					t.Fatalf("Parse = %+v, %v; want %+v", got, err, tc.want)
				}
				if Validate(tc.arn) != nil {
					t.Fatal("Validate refuses what Parse accepts")
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse accepted it as %+v", got)
			}
			if !apierr.Is(err, apierr.InvalidParameterValue) || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v: want InvalidParameterValueException with %q", err, tc.err)
			}
			if Validate(tc.arn) == nil {
				t.Fatal("Validate accepts what Parse refuses")
			}
		})
	}
}

func openStore(t *testing.T) *shard.Store {
	t.Helper()
	st, err := shard.Open(t.TempDir(), shard.WithRegion("us-east-1"), shard.WithAccountID("000000000000"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// readAll returns every record of every shard of stream.
func readAll(t *testing.T, st *shard.Store, stream string) []shard.Record {
	t.Helper()
	ctx := context.Background()
	shards, err := st.AllShards(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	var out []shard.Record
	for _, sh := range shards {
		c, err := st.Seek(ctx, stream, sh.ShardID, shard.Position{Type: shard.TrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		res, err := st.Read(ctx, c, 1000, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res.Records...)
	}
	return out
}

func TestSendToStream(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	if err := st.CreateStream(ctx, shard.CreateStreamInput{Name: "failures", ShardCount: 2}); err != nil {
		t.Fatal(err)
	}
	s := New(WithStore(st))
	arn := st.StreamARN("failures")
	if err := s.Check(ctx, arn); err != nil {
		t.Fatalf("Check: %v", err)
	}
	for range 2 {
		if err := s.Send(ctx, arn, []byte(record)); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	got := readAll(t, st, "failures")
	if len(got) != 2 {
		t.Fatalf("the stream holds %d records, want 2", len(got))
	}
	for _, r := range got {
		if string(r.Data) != record {
			t.Fatalf("record %q, want the invocation record", r.Data)
		}
		// The source shard is the partition key: one source shard's
		// reports stay in order in one destination shard.
		if r.PartitionKey != "shardId-000000000001" {
			t.Fatalf("partition key %q, want the source shard ID", r.PartitionKey)
		}
	}

	// A stream that does not exist, or of another account, is refused.
	for _, bad := range []string{st.StreamARN("missing"), "arn:aws:kinesis:us-east-1:111111111111:stream/failures"} {
		if err := s.Check(ctx, bad); !apierr.Is(err, apierr.InvalidParameterValue) {
			t.Errorf("Check(%s) = %v, want InvalidParameterValueException", bad, err)
		}
		if err := s.Send(ctx, bad, []byte(record)); err == nil {
			t.Errorf("Send(%s) succeeded", bad)
		}
	}
}

func TestSendToDeliveryStream(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	cfg := s3test.Server(t)
	bucket := s3test.Bucket(t, cfg)
	fh, err := firehose.New(st, firehose.WithS3(cfg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fh.Close)
	interval := 900
	if _, err := fh.CreateDeliveryStream(ctx, firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: "dlq",
		ExtendedS3DestinationConfiguration: &firehose.ExtendedS3DestinationConfiguration{
			BucketARN:      "arn:aws:s3:::" + bucket,
			BufferingHints: &firehose.BufferingHints{IntervalInSeconds: &interval},
		},
	}); err != nil {
		t.Fatal(err)
	}
	s := New(WithFirehose(fh))
	arn := fh.ARN("dlq")
	if err := s.Check(ctx, arn); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if err := s.Send(ctx, arn, []byte(record)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	buffer, err := fh.DirectPutStream("dlq")
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, st, buffer)
	if len(got) != 1 || string(got[0].Data) != record+"\n" {
		t.Fatalf("the delivery stream holds %d records (%+v), want the record as one JSON line", len(got), got)
	}
	for _, bad := range []string{fh.ARN("missing"), "arn:aws:firehose:eu-west-1:000000000000:deliverystream/dlq"} {
		if err := s.Check(ctx, bad); !apierr.Is(err, apierr.InvalidParameterValue) {
			t.Errorf("Check(%s) = %v, want InvalidParameterValueException", bad, err)
		}
	}
}

func TestSendToBucket(t *testing.T) {
	ctx := context.Background()
	cfg := s3test.Server(t)
	bucket := s3test.Bucket(t, cfg)
	c, err := s3store.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := New(WithS3(c))
	arn := "arn:aws:s3:::" + bucket
	if err := s.Check(ctx, arn); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if !NeedsPayload(arn) || NeedsPayload("arn:aws:kinesis:us-east-1:000000000000:stream/x") {
		t.Fatal("NeedsPayload: only buckets carry the payload")
	}
	const uuid = "a1b2c3d4-5678-90ab-cdef-11111example"
	if err := s.Send(ctx, arn, []byte(record), MappingUUID(uuid)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	// Without the mapping's UUID the key carries one derived from the
	// function and stream, the same for every record of the mapping.
	for range 2 {
		if err := s.Send(ctx, arn, []byte(record)); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	objs, err := c.List(ctx, bucket, "aws/lambda/")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 3 {
		t.Fatalf("%d objects, want 3: %+v", len(objs), objs)
	}
	// aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<random UUID>
	key := regexp.MustCompile(`^aws/lambda/([0-9a-z-]+)/shardId-000000000001/2026/12/07/2026-12-07T21\.05\.09-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	mappings := map[string]int{}
	for _, o := range objs {
		m := key.FindStringSubmatch(o.Key)
		if m == nil {
			t.Fatalf("object key %s is not AWS's layout", o.Key)
		}
		mappings[m[1]]++
		body, err := c.Get(ctx, bucket, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		if string(body) != record {
			t.Fatalf("object %s holds %q", o.Key, body)
		}
	}
	derived := derivedUUID("arn:aws:lambda:us-east-1:000000000000:function:fn\narn:aws:kinesis:us-east-1:000000000000:stream/src")
	if mappings[uuid] != 1 || mappings[derived] != 2 {
		t.Fatalf("keys by mapping %v, want 1 under %s and 2 under %s", mappings, uuid, derived)
	}
}

func TestObjectKeyWithoutTimestamp(t *testing.T) {
	at := time.Date(2027, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600))
	s := New(WithClock(func() time.Time { return at }))
	var info recordInfo
	info.KinesisBatchInfo.ShardID = "shardId-000000000007"
	key := s.objectKey(info, sendOptions{mappingUUID: "m"})
	if !strings.HasPrefix(key, "aws/lambda/m/shardId-000000000007/2027/01/02/2027-01-02T02.04.05-") {
		t.Fatalf("key %s: want the clock's time in UTC", key)
	}
}

func TestUnconfiguredTargets(t *testing.T) {
	ctx := context.Background()
	s := New()
	for _, arn := range []string{
		"arn:aws:kinesis:us-east-1:000000000000:stream/x",
		"arn:aws:firehose:us-east-1:000000000000:deliverystream/x",
		"arn:aws:s3:::bucket",
	} {
		if err := s.Check(ctx, arn); !apierr.Is(err, apierr.InvalidParameterValue) {
			t.Errorf("Check(%s) = %v, want InvalidParameterValueException", arn, err)
		}
		if err := s.Send(ctx, arn, []byte(record)); err == nil {
			t.Errorf("Send(%s) succeeded without a target", arn)
		}
	}
	if err := s.Send(ctx, "arn:aws:s3:::bucket", []byte("not json")); err == nil || !strings.Contains(err.Error(), "not a JSON object") {
		t.Errorf("Send of a non-JSON record = %v", err)
	}
	var v map[string]any
	if json.Unmarshal([]byte(record), &v) != nil {
		t.Fatal("the test record is not JSON")
	}
}
