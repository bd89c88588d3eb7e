package integration

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/spatehq/spate/api/grpcapi"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/firehose/compress"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// rateMessage is AWS's message for a record or a read refused by a shard.
func rateMessage(stream, shard string) string {
	return fmt.Sprintf("Rate exceeded for shard %s in stream %s under account 000000000000.", shard, stream)
}

// failedEntries checks that the failed entries of a PutRecords reply carry
// code and no sequence number, and returns how many there are.
func failedEntries(t *testing.T, out *kinesis.PutRecordsOutput, code string, message func(i int) string) int {
	t.Helper()
	n := 0
	for i, r := range out.Records {
		if r.ErrorCode == nil {
			if r.SequenceNumber == nil || r.ShardId == nil {
				t.Fatalf("entry %d neither failed nor stored: %+v", i, r)
			}
			continue
		}
		n++
		if *r.ErrorCode != code || r.SequenceNumber != nil {
			t.Fatalf("entry %d: %s %q, want %s without a sequence number", i, *r.ErrorCode, aws.ToString(r.ErrorMessage), code)
		}
		if want := message(i); want != "" && aws.ToString(r.ErrorMessage) != want {
			t.Fatalf("entry %d: message %q, want %q", i, aws.ToString(r.ErrorMessage), want)
		}
	}
	if got := int(aws.ToInt32(out.FailedRecordCount)); got != n {
		t.Fatalf("FailedRecordCount %d, but %d entries failed", got, n)
	}
	return n
}

// metricValue returns a series' value from /metrics, 0 when absent.
func metricValue(ctx context.Context, t *testing.T, s *server, series string) int {
	t.Helper()
	v, ok := scrapeMetrics(ctx, t, s)[series]
	if !ok {
		return 0
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		t.Fatalf("%s = %q", series, v)
	}
	return int(f)
}

// TestEnforceLimits drives a server under --enforce-limits with
// aws-sdk-go-v2 (retries off) and gRPC: traffic within the limits passes,
// traffic beyond them gets AWS's errors, per record in PutRecords, and the
// throttle metrics count them.
func TestEnforceLimits(t *testing.T) {
	ctx := testCtx(t)
	k := newKin(t, withArgs("--enforce-limits"))
	const name = "limited"
	k.create(ctx, t, name, 1)
	shard0 := shardID(0)
	throttledRecords := 0
	// Checks read with a client that retries: a read of a few MiB holds
	// the shard's reads back for a while.
	reader := &kin{srv: k.srv, c: retryingKinesis(t, k.srv, 50, 200*time.Millisecond, nil)}

	t.Run("within the limits everything passes", func(t *testing.T) {
		entries := make([]types.PutRecordsRequestEntry, 100)
		for i := range entries {
			entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: []byte("small")}
		}
		if res := k.putRecords(ctx, t, name, entries); len(res) != 100 {
			t.Fatalf("%d results", len(res))
		}
		k.put(ctx, t, name, "k", []byte("one"))
		if got := reader.readShard(ctx, t, name, shard0); len(got) != 101 {
			t.Fatalf("read %d records, want 101", len(got))
		}
	})

	t.Run("1 MiB a second per shard: the records over it fail alone", func(t *testing.T) {
		// Five records of 1,000 KiB in one request: the shard's bucket
		// holds one second, 1 MiB, so at most the first passes and the
		// next four cannot (a request takes far less than the 4 s they
		// would need).
		stored := len(reader.readShard(ctx, t, name, shard0))
		big := make([]types.PutRecordsRequestEntry, 5)
		for i := range big {
			big[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: make([]byte, 1000<<10)}
		}
		put := func() {
			t.Helper()
			out, err := k.c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: big})
			if err != nil {
				t.Fatalf("PutRecords over the limit must succeed with per-record failures: %v", err)
			}
			failed := failedEntries(t, out, "ProvisionedThroughputExceededException", func(int) string { return rateMessage(name, shard0) })
			if failed < 4 {
				t.Fatalf("%d of 5 failed, want at least 4 refused", failed)
			}
			throttledRecords += failed
			stored += 5 - failed
		}
		put()
		// A PutRecord over the limit fails as a whole. It is refused when
		// it comes within 0.95 s of the PutRecords that emptied the
		// bucket: try a few times, so that a loaded machine cannot make
		// the test fail.
		var pte *types.ProvisionedThroughputExceededException
		for try := 0; try < 10; try++ {
			put()
			_, err := k.c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: make([]byte, 1000<<10)})
			if err == nil {
				stored++
				continue
			}
			if !errors.As(err, &pte) || aws.ToString(pte.Message) != rateMessage(name, shard0) {
				t.Fatalf("PutRecord over the limit: %v, want ProvisionedThroughputExceededException %q", err, rateMessage(name, shard0))
			}
			throttledRecords++
			break
		}
		if pte == nil {
			t.Fatal("10 PutRecords of 1,000 KiB right after emptying the shard's bucket all passed")
		}
		// The refused records changed nothing.
		if got := len(reader.readShard(ctx, t, name, shard0)); got != stored {
			t.Fatalf("the shard holds %d records, want the %d acknowledged", got, stored)
		}
	})

	t.Run("1,000 records a second per shard", func(t *testing.T) {
		// Back-to-back requests of 500 records: a refusal must come
		// long before 10,000 records, unless each request took half a
		// second.
		entries := make([]types.PutRecordsRequestEntry, 500)
		for i := range entries {
			entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: []byte("r")}
		}
		failed := 0
		for i := 0; i < 20 && failed == 0; i++ {
			out, err := k.c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
			if err != nil {
				t.Fatal(err)
			}
			failed = failedEntries(t, out, "ProvisionedThroughputExceededException", func(int) string { return rateMessage(name, shard0) })
		}
		if failed == 0 {
			t.Fatal("10,000 records went into one shard without a refusal")
		}
		throttledRecords += failed
	})

	t.Run("an on-demand stream takes 4,000 records a second into one shard", func(t *testing.T) {
		k.createOnDemand(ctx, t, "od")
		entries := make([]types.PutRecordsRequestEntry, 500)
		for i := range entries {
			entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String("hot"), Data: []byte("r")}
		}
		// 2,000 records of one key: a provisioned shard would refuse
		// half; the on-demand stream's bucket holds 4,000.
		for i := range 4 {
			out, err := k.c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("od"), Records: entries})
			if err != nil {
				t.Fatal(err)
			}
			if n := aws.ToInt32(out.FailedRecordCount); n != 0 {
				t.Fatalf("batch %d: %d records refused", i, n)
			}
		}
	})

	t.Run("5 GetRecords calls a second per shard", func(t *testing.T) {
		it := k.iterator(ctx, t, name, shard0, types.ShardIteratorTypeLatest, "", nil)
		var err error
		for i := 0; i < 50 && err == nil; i++ {
			_, err = k.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
		}
		var pte *types.ProvisionedThroughputExceededException
		if !errors.As(err, &pte) || aws.ToString(pte.Message) != rateMessage(name, shard0) {
			t.Fatalf("50 GetRecords calls: %v, want ProvisionedThroughputExceededException %q", err, rateMessage(name, shard0))
		}
	})

	t.Run("gRPC obeys the same limits", func(t *testing.T) {
		conn, err := grpc.NewClient(k.srv.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		c := spatev1.NewStreamServiceClient(conn)
		it, err := c.GetShardIterator(ctx, &spatev1.GetShardIteratorRequest{StreamName: name, ShardId: shard0, ShardIteratorType: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_LATEST})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 50 && err == nil; i++ {
			_, err = c.GetRecords(ctx, &spatev1.GetRecordsRequest{ShardIterator: it.GetShardIterator()})
		}
		if status.Code(err) != codes.ResourceExhausted || apierr.CodeOf(grpcapi.FromStatus(err)) != apierr.ProvisionedThroughputExceeded {
			t.Fatalf("50 gRPC GetRecords: %v, want RESOURCE_EXHAUSTED carrying ProvisionedThroughputExceededException", err)
		}
	})

	t.Run("control-plane rates answer LimitExceededException", func(t *testing.T) {
		var err error
		for i := 0; i < 100 && err == nil; i++ { // DescribeStream: 10 a second
			_, err = k.c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)})
		}
		wantAPIError(t, err, "LimitExceededException", "DescribeStream", "10 calls per second")
	})

	t.Run("the throttle metrics count the refusals", func(t *testing.T) {
		stream := fmt.Sprintf("{stream=%q}", name)
		if got := metricValue(ctx, t, k.srv, "spate_stream_write_provisioned_throughput_exceeded_total"+stream); got != throttledRecords {
			t.Errorf("write throttles %d, want the %d refused records", got, throttledRecords)
		}
		if got := metricValue(ctx, t, k.srv, "spate_stream_read_provisioned_throughput_exceeded_total"+stream); got < 2 {
			t.Errorf("read throttles %d, want at least the 2 refused calls (JSON and gRPC)", got)
		}
		if _, err := k.c.EnableEnhancedMonitoring(ctx, &kinesis.EnableEnhancedMonitoringInput{
			StreamName: aws.String(name), ShardLevelMetrics: []types.MetricsName{types.MetricsNameAll}}); err != nil {
			t.Fatal(err)
		}
		shardSeries := fmt.Sprintf("{shard=%q,stream=%q}", shard0, name)
		if got := metricValue(ctx, t, k.srv, "spate_shard_write_provisioned_throughput_exceeded_total"+shardSeries); got != throttledRecords {
			t.Errorf("shard write throttles %d, want %d", got, throttledRecords)
		}
	})
}

// countingTransport counts the requests that reach the server.
type countingTransport struct {
	next http.RoundTripper
	n    atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// retryingKinesis is a Kinesis client with the SDK's standard retryer, up
// to attempts, backing off at most maxBackoff, sending through transport
// (nil: the default).
func retryingKinesis(t *testing.T, s *server, attempts int, maxBackoff time.Duration, transport http.RoundTripper) *kinesis.Client {
	t.Helper()
	if transport == nil {
		transport = http.DefaultTransport
	}
	return kinesis.New(kinesis.Options{
		BaseEndpoint: aws.String(s.Endpoint()), Region: "us-east-1", Credentials: s.Kinesis(t).Options().Credentials,
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts, o.MaxBackoff = attempts, maxBackoff
			o.RateLimiter = ratelimit.None // the client-side retry quota would stop a test that retries a lot
		}),
		HTTPClient: &http.Client{Transport: transport},
	})
}

// TestFaultRate drives a server under --fault-rate (seeded) with
// aws-sdk-go-v2: injected faults have AWS's shapes (per record in
// PutRecords and PutRecordBatch, whole for the others), the SDK's standard
// retryer retries them, and a failed record or request changes nothing.
func TestFaultRate(t *testing.T) {
	ctx := testCtx(t)
	f := newFH(t, withArgs("--fault-seed", "42", "--fault-rate",
		"PutRecords=0.3,Kinesis.PutRecord=1,GetRecords:internal=0.5,DescribeStream=1,Firehose.PutRecordBatch=0.5,Firehose.PutRecordBatch:internal=0.2"))
	k := &kin{srv: f.srv, c: f.kin}
	const name = "faulty"
	k.create(ctx, t, name, 2)
	throttled := 0

	t.Run("PutRecords fails per record and stores the rest", func(t *testing.T) {
		entries := make([]types.PutRecordsRequestEntry, 200)
		for i := range entries {
			entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(strconv.Itoa(i)), Data: []byte(strconv.Itoa(i))}
		}
		out, err := k.c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
		if err != nil {
			t.Fatal(err)
		}
		failed := failedEntries(t, out, "ProvisionedThroughputExceededException", func(i int) string { return "" })
		if failed == 0 || failed == 200 {
			t.Fatalf("%d of 200 failed at 0.3", failed)
		}
		for i, r := range out.Records {
			if r.ErrorCode != nil && !strings.HasPrefix(aws.ToString(r.ErrorMessage), "Rate exceeded for shard shardId-") {
				t.Fatalf("entry %d: message %q", i, aws.ToString(r.ErrorMessage))
			}
		}
		throttled += failed
		stored := 0
		// Reads fail half the time: read with a client that retries.
		reader := &kin{srv: k.srv, c: retryingKinesis(t, k.srv, 20, time.Millisecond, nil)}
		for _, recs := range reader.readAll(ctx, t, name) {
			stored += len(recs)
		}
		if stored != 200-failed {
			t.Fatalf("stored %d, want the %d that did not fail", stored, 200-failed)
		}
	})

	t.Run("PutRecord fails whole and the SDK retries it", func(t *testing.T) {
		_, err := k.c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("x")})
		wantAPIError(t, err, "ProvisionedThroughputExceededException", "Rate exceeded for shard")
		throttled++
		// The standard retryer (3 attempts) retries the throttle.
		counter := &countingTransport{next: http.DefaultTransport}
		c := retryingKinesis(t, k.srv, 3, time.Millisecond, counter)
		_, err = c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("x")})
		wantAPIError(t, err, "ProvisionedThroughputExceededException")
		if n := counter.n.Load(); n != 3 {
			t.Fatalf("the SDK sent %d attempts, want 3", n)
		}
		throttled += 3
	})

	t.Run("GetRecords fails with InternalFailure and reads again", func(t *testing.T) {
		it := k.iterator(ctx, t, name, shardID(0), types.ShardIteratorTypeTrimHorizon, "", nil)
		var ok, internal int
		for range 20 {
			out, err := k.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
			if err == nil {
				ok++
				continue
			}
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InternalFailure" {
				t.Fatalf("GetRecords: %v, want InternalFailure", err)
			}
			var re interface{ HTTPStatusCode() int }
			if errors.As(err, &re) && re.HTTPStatusCode() != http.StatusInternalServerError {
				t.Fatalf("InternalFailure with HTTP %d", re.HTTPStatusCode())
			}
			internal++
			_ = out
		}
		if ok == 0 || internal == 0 {
			t.Fatalf("%d reads passed and %d failed at 0.5", ok, internal)
		}
	})

	t.Run("DescribeStream fails before it runs", func(t *testing.T) {
		_, err := k.c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)})
		wantAPIError(t, err, "LimitExceededException")
		// Not named: untouched.
		if _, err := k.c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("gRPC gets the same faults", func(t *testing.T) {
		conn, err := grpc.NewClient(f.srv.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		c := spatev1.NewStreamServiceClient(conn)
		_, err = c.DescribeStream(ctx, &spatev1.DescribeStreamRequest{StreamName: name})
		if status.Code(err) != codes.ResourceExhausted || apierr.CodeOf(grpcapi.FromStatus(err)) != apierr.LimitExceeded {
			t.Fatalf("gRPC DescribeStream: %v, want RESOURCE_EXHAUSTED carrying LimitExceededException", err)
		}
		_, err = c.PutRecord(ctx, &spatev1.PutRecordRequest{StreamName: name, PartitionKey: "k", Data: []byte("x")})
		if status.Code(err) != codes.ResourceExhausted || apierr.CodeOf(grpcapi.FromStatus(err)) != apierr.ProvisionedThroughputExceeded {
			t.Fatalf("gRPC PutRecord: %v, want RESOURCE_EXHAUSTED carrying ProvisionedThroughputExceededException", err)
		}
		throttled++
	})

	t.Run("Firehose PutRecordBatch fails per record", func(t *testing.T) {
		f.createS3(ctx, t, "fh", compress.Uncompressed)
		records := make([]fhtypes.Record, 100)
		for i := range records {
			records[i] = fhtypes.Record{Data: []byte(fmt.Sprintf("line %d", i))}
		}
		out, err := f.c.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("fh"), Records: records})
		if err != nil {
			t.Fatal(err)
		}
		codes := map[string]int{}
		for i, r := range out.RequestResponses {
			if r.ErrorCode == nil {
				if r.RecordId == nil {
					t.Fatalf("entry %d has neither a RecordId nor an error", i)
				}
				continue
			}
			codes[*r.ErrorCode]++
		}
		if codes["ServiceUnavailableException"] == 0 || codes["InternalFailure"] == 0 ||
			len(codes) != 2 || int(aws.ToInt32(out.FailedPutCount)) != codes["ServiceUnavailableException"]+codes["InternalFailure"] {
			t.Fatalf("failures %v, FailedPutCount %d", codes, aws.ToInt32(out.FailedPutCount))
		}
		// Only the records that did not fail are delivered.
		want := 100 - int(aws.ToInt32(out.FailedPutCount))
		if got := f.waitLines(ctx, t, "fh/", compress.Uncompressed, want); len(got) != want {
			t.Fatalf("delivered %d lines, want %d", len(got), want)
		}
	})

	t.Run("injected throttles count in the metrics", func(t *testing.T) {
		series := fmt.Sprintf("spate_stream_write_provisioned_throughput_exceeded_total{stream=%q}", name)
		if got := metricValue(ctx, t, k.srv, series); got != throttled {
			t.Errorf("%s = %d, want %d", series, got, throttled)
		}
	})
}
