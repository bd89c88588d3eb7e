package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/spatehq/spate/firehose/compress"
	"github.com/spatehq/spate/firehose/essink/estest"
	"github.com/spatehq/spate/firehose/s3store"
	"github.com/spatehq/spate/firehose/s3store/s3test"
	"github.com/spatehq/spate/internal/sdkhttp"
)

// Firehose returns an aws-sdk-go-v2 Firehose client for the server, set up
// like Kinesis (no retries, sdkhttp.PlainBodies).
func (s *server) Firehose(t *testing.T) *firehose.Client {
	t.Helper()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(transport.CloseIdleConnections)
	return firehose.New(firehose.Options{
		BaseEndpoint: aws.String(s.Endpoint()),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		Retryer:      retry.AddWithMaxAttempts(retry.NewStandard(), 1),
		HTTPClient:   &http.Client{Transport: sdkhttp.PlainBodies(transport)},
	})
}

// fh is a server with S3 wired to a real S3 server, its clients and a
// bucket of its own.
type fh struct {
	srv    *server
	c      *firehose.Client
	kin    *kinesis.Client
	s3     *s3store.Client
	bucket string
}

func s3Args(cfg s3store.Config) []string {
	return []string{"--s3-endpoint", cfg.Endpoint, "--s3-access-key", cfg.AccessKey,
		"--s3-secret-key", cfg.SecretKey, "--s3-region", cfg.Region}
}

func newFH(t *testing.T, opts ...serverOption) *fh {
	t.Helper()
	cfg := s3test.Server(t)
	client, err := s3store.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	bucket := strings.ToLower(uniqueName(t))
	bucket = strings.NewReplacer("_", "-", ".", "-").Replace(bucket)
	if len(bucket) > 60 {
		bucket = bucket[len(bucket)-60:]
	}
	bucket = "b" + strings.Trim(bucket, "-")
	if err := client.EnsureBucket(context.Background(), bucket); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, append([]serverOption{withArgs(s3Args(cfg)...)}, opts...)...)
	return &fh{srv: srv, c: srv.Firehose(t), kin: srv.Kinesis(t), s3: client, bucket: bucket}
}

func (f *fh) restart(t *testing.T) {
	f.srv.Restart(t)
	f.c, f.kin = f.srv.Firehose(t), f.srv.Kinesis(t)
}

func (f *fh) bucketARN() *string { return aws.String("arn:aws:s3:::" + f.bucket) }

// lines returns the records in every object under prefix, decompressed and
// split on newlines.
func (f *fh) lines(ctx context.Context, t *testing.T, prefix string, format compress.Format) []string {
	t.Helper()
	infos, err := f.s3.List(ctx, f.bucket, prefix)
	if err != nil {
		t.Fatalf("list s3://%s/%s: %v", f.bucket, prefix, err)
	}
	var out []string
	for _, o := range infos {
		body, err := f.s3.Get(ctx, f.bucket, o.Key)
		if err != nil {
			t.Fatalf("get %s: %v", o.Key, err)
		}
		raw, err := compress.Decompress(format, body)
		if err != nil {
			t.Fatalf("decompress %s as %s: %v", o.Key, format, err)
		}
		for _, l := range strings.Split(string(raw), "\n") {
			if l != "" {
				out = append(out, l)
			}
		}
	}
	sort.Strings(out)
	return out
}

// waitLines waits until the objects under prefix hold at least n records.
func (f *fh) waitLines(ctx context.Context, t *testing.T, prefix string, format compress.Format, n int) []string {
	t.Helper()
	for {
		got := f.lines(ctx, t, prefix, format)
		if len(got) >= n {
			return got
		}
		select {
		case <-ctx.Done():
			t.Fatalf("objects under %s hold %d records, want %d: %v", prefix, len(got), n, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (f *fh) createS3(ctx context.Context, t *testing.T, name string, format compress.Format) {
	t.Helper()
	_, err := f.c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(name),
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			RoleARN: aws.String("arn:aws:iam::000000000000:role/firehose"), BucketARN: f.bucketARN(),
			Prefix: aws.String(name + "/"), CompressionFormat: fhtypes.CompressionFormat(format),
			BufferingHints: &fhtypes.BufferingHints{IntervalInSeconds: aws.Int32(0), SizeInMBs: aws.Int32(1)},
			ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true),
				Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeAppendDelimiterToRecord}}},
		},
	})
	if err != nil {
		t.Fatalf("CreateDeliveryStream %s: %v", name, err)
	}
}

func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`{"%s":%d}`, prefix, i)
	}
	sort.Strings(out)
	return out
}

func TestFirehoseSDK(t *testing.T) {
	f := newFH(t)
	ctx := testCtx(t)

	// N records in, and the objects decompress to exactly those N records,
	// for every compression format (ZSTD is a Spate extension; the SDK's
	// enum accepts any string).
	for _, format := range compress.Formats() {
		t.Run("compression "+string(format), func(t *testing.T) {
			name := "sdk-" + strings.ToLower(strings.ReplaceAll(string(format), "_", "-"))
			f.createS3(ctx, t, name, format)
			var records []fhtypes.Record
			for i := 0; i < 120; i++ {
				records = append(records, fhtypes.Record{Data: fmt.Appendf(nil, `{"%s":%d}`, name, i)})
			}
			out, err := f.c.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(name), Records: records})
			if err != nil || aws.ToInt32(out.FailedPutCount) != 0 || len(out.RequestResponses) != 120 {
				t.Fatalf("PutRecordBatch: %+v, %v", out, err)
			}
			for i, r := range out.RequestResponses {
				if aws.ToString(r.RecordId) == "" {
					t.Fatalf("response %d has no RecordId", i)
				}
			}
			one, err := f.c.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String(name),
				Record: &fhtypes.Record{Data: fmt.Appendf(nil, `{"%s":%d}`, name, 120)}})
			if err != nil || aws.ToString(one.RecordId) == "" {
				t.Fatalf("PutRecord: %+v, %v", one, err)
			}
			got := f.waitLines(ctx, t, name+"/", format, 121)
			if want := numbered(name, 121); strings.Join(got, "|") != strings.Join(want, "|") {
				t.Fatalf("objects hold %d records, want exactly the 121 put", len(got))
			}
		})
	}

	t.Run("describe list tag update delete", func(t *testing.T) {
		name := "sdk-admin"
		f.createS3(ctx, t, name, compress.Gzip)
		d, err := f.c.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		desc := d.DeliveryStreamDescription
		if desc.DeliveryStreamStatus != fhtypes.DeliveryStreamStatusActive || aws.ToString(desc.VersionId) != "1" ||
			!strings.HasSuffix(aws.ToString(desc.DeliveryStreamARN), ":deliverystream/"+name) || len(desc.Destinations) != 1 {
			t.Fatalf("description %+v", desc)
		}
		s3 := desc.Destinations[0].ExtendedS3DestinationDescription
		if s3 == nil || s3.CompressionFormat != fhtypes.CompressionFormatGzip || aws.ToInt32(s3.BufferingHints.SizeInMBs) != 1 {
			t.Fatalf("destination %+v", desc.Destinations[0])
		}
		list, err := f.c.ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{})
		if err != nil || !containsString(list.DeliveryStreamNames, name) {
			t.Fatalf("ListDeliveryStreams = %v, %v", list, err)
		}
		if _, err := f.c.TagDeliveryStream(ctx, &firehose.TagDeliveryStreamInput{DeliveryStreamName: aws.String(name),
			Tags: []fhtypes.Tag{{Key: aws.String("team"), Value: aws.String("data")}, {Key: aws.String("env"), Value: aws.String("test")}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.c.UntagDeliveryStream(ctx, &firehose.UntagDeliveryStreamInput{DeliveryStreamName: aws.String(name), TagKeys: []string{"env"}}); err != nil {
			t.Fatal(err)
		}
		tags, err := f.c.ListTagsForDeliveryStream(ctx, &firehose.ListTagsForDeliveryStreamInput{DeliveryStreamName: aws.String(name)})
		if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" {
			t.Fatalf("tags %+v, %v", tags, err)
		}
		_, err = f.c.UpdateDestination(ctx, &firehose.UpdateDestinationInput{
			DeliveryStreamName: aws.String(name), CurrentDeliveryStreamVersionId: aws.String("1"),
			DestinationId:               desc.Destinations[0].DestinationId,
			ExtendedS3DestinationUpdate: &fhtypes.ExtendedS3DestinationUpdate{Prefix: aws.String(name + "-v2/")},
		})
		if err != nil {
			t.Fatal(err)
		}
		d, err = f.c.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(name)})
		if err != nil || aws.ToString(d.DeliveryStreamDescription.VersionId) != "2" ||
			aws.ToString(d.DeliveryStreamDescription.Destinations[0].ExtendedS3DestinationDescription.Prefix) != name+"-v2/" {
			t.Fatalf("after UpdateDestination: %+v, %v", d, err)
		}
		if _, err := f.c.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String(name),
			Record: &fhtypes.Record{Data: []byte(`{"v":2}`)}}); err != nil {
			t.Fatal(err)
		}
		if got := f.waitLines(ctx, t, name+"-v2/", compress.Gzip, 1); len(got) != 1 || got[0] != `{"v":2}` {
			t.Fatalf("after the update the record went to %v", got)
		}
		if _, err := f.c.DeleteDeliveryStream(ctx, &firehose.DeleteDeliveryStreamInput{DeliveryStreamName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		_, err = f.c.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(name)})
		var nf *fhtypes.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("Describe after delete: %v, want ResourceNotFoundException", err)
		}
	})

	t.Run("bad configurations", func(t *testing.T) {
		base := func() *fhtypes.ExtendedS3DestinationConfiguration {
			return &fhtypes.ExtendedS3DestinationConfiguration{
				RoleARN: aws.String("arn:aws:iam::000000000000:role/firehose"), BucketARN: f.bucketARN()}
		}
		tests := []struct {
			name    string
			mod     func(*fhtypes.ExtendedS3DestinationConfiguration)
			mention string
		}{
			{"bucket ARN of another service", func(c *fhtypes.ExtendedS3DestinationConfiguration) {
				c.BucketARN = aws.String("arn:aws:s3:::UPPER_case")
			}, "BucketARN"},
			{"hints out of range", func(c *fhtypes.ExtendedS3DestinationConfiguration) {
				c.BufferingHints = &fhtypes.BufferingHints{SizeInMBs: aws.Int32(129)}
			}, "SizeInMBs"},
			{"unknown compression", func(c *fhtypes.ExtendedS3DestinationConfiguration) {
				c.CompressionFormat = "LZ4"
			}, "CompressionFormat"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := base()
				tt.mod(c)
				_, err := f.c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
					DeliveryStreamName: aws.String("bad"), ExtendedS3DestinationConfiguration: c})
				var ia *fhtypes.InvalidArgumentException
				if !errors.As(err, &ia) || !strings.Contains(aws.ToString(ia.Message), tt.mention) {
					t.Fatalf("got %v, want InvalidArgumentException mentioning %s", err, tt.mention)
				}
			})
		}
		list, err := f.c.ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{})
		if err != nil || containsString(list.DeliveryStreamNames, "bad") {
			t.Fatalf("a rejected CreateDeliveryStream left a delivery stream: %v %v", list, err)
		}
	})
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestFirehoseKinesisSource: two delivery streams read one Kinesis stream
// independently, each delivering every record once.
func TestFirehoseKinesisSource(t *testing.T) {
	f := newFH(t)
	ctx := testCtx(t)
	k := &kin{srv: f.srv, c: f.kin}
	stream := uniqueName(t)
	k.create(ctx, t, stream, 3)
	arn := k.summary(ctx, t, stream).StreamARN
	for _, name := range []string{"src-a", "src-b"} {
		_, err := f.c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
			DeliveryStreamName: aws.String(name), DeliveryStreamType: fhtypes.DeliveryStreamTypeKinesisStreamAsSource,
			KinesisStreamSourceConfiguration: &fhtypes.KinesisStreamSourceConfiguration{
				KinesisStreamARN: arn, RoleARN: aws.String("arn:aws:iam::000000000000:role/firehose")},
			ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
				RoleARN: aws.String("arn:aws:iam::000000000000:role/firehose"), BucketARN: f.bucketARN(),
				Prefix: aws.String(name + "/"), CompressionFormat: fhtypes.CompressionFormatSnappy,
				BufferingHints: &fhtypes.BufferingHints{IntervalInSeconds: aws.Int32(0)},
				ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true),
					Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeAppendDelimiterToRecord}}},
			},
		})
		if err != nil {
			t.Fatalf("CreateDeliveryStream %s: %v", name, err)
		}
	}
	var entries []ktypes.PutRecordsRequestEntry
	for i := 0; i < 400; i++ {
		entries = append(entries, ktypes.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint(i)), Data: fmt.Appendf(nil, `{"k":%d}`, i)})
	}
	k.putRecords(ctx, t, stream, entries)
	for _, name := range []string{"src-a", "src-b"} {
		got := f.waitLines(ctx, t, name+"/", compress.Snappy, 400)
		if want := numbered("k", 400); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("%s delivered %d records, want exactly the 400 put", name, len(got))
		}
	}
}

// TestFirehoseCrash: producers put concurrently while delivery runs, the
// server gets SIGKILL, restarts, and every acknowledged record is in S3
// exactly once.
func TestFirehoseCrash(t *testing.T) {
	f := newFH(t)
	ctx := testCtx(t)
	const name = "crash"
	f.createS3(ctx, t, name, compress.Gzip)

	var mu sync.Mutex
	acked := map[string]bool{}
	var n atomic.Int64
	putCtx, stopPuts := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for p := 0; p < 4; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; putCtx.Err() == nil; i++ {
				var records []fhtypes.Record
				var data []string
				for j := 0; j < 25; j++ {
					d := fmt.Sprintf(`{"p":%d,"i":%d,"j":%d}`, p, i, j)
					data = append(data, d)
					records = append(records, fhtypes.Record{Data: []byte(d)})
				}
				out, err := f.c.PutRecordBatch(putCtx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(name), Records: records})
				if err != nil {
					return // the server died under us: this batch was not acknowledged
				}
				if aws.ToInt32(out.FailedPutCount) != 0 {
					t.Errorf("PutRecordBatch failed %d records", aws.ToInt32(out.FailedPutCount))
					return
				}
				mu.Lock()
				for _, d := range data {
					acked[d] = true
				}
				mu.Unlock()
				n.Add(int64(len(data)))
			}
		}()
	}
	// Kill once some records are acknowledged and some already delivered,
	// so the kill lands while delivery is running.
	for n.Load() < 3000 || len(f.lines(ctx, t, name+"/", compress.Gzip)) == 0 {
		if ctx.Err() != nil {
			t.Fatal(ctx.Err())
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.srv.Kill9(t)
	stopPuts()
	wg.Wait()
	f.restart(t)

	mu.Lock()
	want := len(acked)
	mu.Unlock()
	got := f.waitLines(ctx, t, name+"/", compress.Gzip, want)
	wantEachOnce(t, got, acked, "record")
	t.Logf("%d records acknowledged before the kill; %d records in S3 after the restart", want, len(got))
}

// TestFirehoseElasticsearch delivers to the Elasticsearch test server (or a
// real cluster at ES_URL): good documents are indexed, rejected ones are
// retried, then backed up to S3 with the error.
func TestFirehoseElasticsearch(t *testing.T) {
	es := estest.New(t)
	f := newFH(t)
	ctx := testCtx(t)
	es.RejectDocs(func(index, id string, body []byte) (int, string, string, bool) {
		if bytes.Contains(body, []byte(`"reject"`)) {
			return 400, "mapper_parsing_exception", "failed to parse field [v] of type [long]", true
		}
		return 0, "", "", false
	})
	_, err := f.c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("to-es"),
		ElasticsearchDestinationConfiguration: &fhtypes.ElasticsearchDestinationConfiguration{
			RoleARN: aws.String("arn:aws:iam::000000000000:role/firehose"), ClusterEndpoint: aws.String(es.URL()), // http: a Spate extension (the model wants https)
			IndexName: aws.String("orders"), IndexRotationPeriod: fhtypes.ElasticsearchIndexRotationPeriodOneMonth,
			BufferingHints: &fhtypes.ElasticsearchBufferingHints{IntervalInSeconds: aws.Int32(0)},
			RetryOptions:   &fhtypes.ElasticsearchRetryOptions{DurationInSeconds: aws.Int32(1)},
			S3BackupMode:   fhtypes.ElasticsearchS3BackupModeFailedDocumentsOnly,
			S3Configuration: &fhtypes.S3DestinationConfiguration{RoleARN: aws.String("arn:aws:iam::000000000000:role/firehose"),
				BucketARN: f.bucketARN(), ErrorOutputPrefix: aws.String("es-failed/")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var records []fhtypes.Record
	for i := 0; i < 30; i++ {
		records = append(records, fhtypes.Record{Data: fmt.Appendf(nil, `{"v":%d}`, i)})
	}
	records = append(records, fhtypes.Record{Data: []byte(`{"v":"reject"}`)})
	if _, err := f.c.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("to-es"), Records: records}); err != nil {
		t.Fatal(err)
	}
	index := "orders-" + time.Now().UTC().Format("2006-01")
	for es.Count(index) < 30 {
		select {
		case <-ctx.Done():
			t.Fatalf("index %s holds %d documents, want 30 (indices %v)", index, es.Count(index), es.Indices())
		case <-time.After(50 * time.Millisecond):
		}
	}
	failed := f.waitLines(ctx, t, "es-failed/", compress.Uncompressed, 1)
	if len(failed) != 1 || !strings.Contains(failed[0], "mapper_parsing_exception") {
		t.Fatalf("backed-up failures %v, want the rejected document with its error", failed)
	}
}

// wantEachOnce fails t unless every line of got is there at most once and
// every acknowledged record is among them: what a crash must leave in S3.
// Records put by a call the kill interrupted may or may not be there.
func wantEachOnce(t *testing.T, got []string, acked map[string]bool, what string) {
	t.Helper()
	seen := map[string]int{}
	for _, l := range got {
		seen[l]++
	}
	for d, c := range seen {
		if c > 1 {
			t.Errorf("%s %s delivered %d times", what, d, c)
		}
	}
	missing := 0
	for d := range acked {
		if seen[d] == 0 {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged %ss are not in S3", missing, len(acked), what)
	}
}
