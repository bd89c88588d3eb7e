package firehose

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/firehose/compress"
	"github.com/spatehq/spate/firehose/essink/estest"
	"github.com/spatehq/spate/firehose/s3store"
	"github.com/spatehq/spate/firehose/s3store/s3test"
	"github.com/spatehq/spate/functions"
	"github.com/spatehq/spate/shard"
)

// fixture is a store, a real S3 server and a Service over them.
type fixture struct {
	t      *testing.T
	dir    string
	store  *shard.Store
	svc    *Service
	s3cfg  s3store.Config
	s3     *s3store.Client
	bucket string
	opts   []Option
	// storeOpts are the store's options at the next open.
	storeOpts []shard.Option
}

func newFixture(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir(), s3cfg: s3test.Server(t)}
	c, err := s3store.New(f.s3cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.s3 = c
	f.bucket = strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	if len(f.bucket) > 50 {
		f.bucket = f.bucket[:50]
	}
	f.bucket = strings.Trim(f.bucket, "-") + fmt.Sprintf("-%d", time.Now().UnixNano()%100000)
	if err := c.EnsureBucket(context.Background(), f.bucket); err != nil {
		t.Fatal(err)
	}
	f.opts = append([]Option{WithS3(f.s3cfg), WithRetryBackoff(10*time.Millisecond, 100*time.Millisecond)}, opts...)
	f.open()
	t.Cleanup(f.close)
	return f
}

func (f *fixture) open() {
	f.t.Helper()
	st, err := shard.Open(f.dir, f.storeOpts...)
	if err != nil {
		f.t.Fatal(err)
	}
	svc, err := New(st, f.opts...)
	if err != nil {
		f.t.Fatal(err)
	}
	f.store, f.svc = st, svc
}

func (f *fixture) close() {
	if f.svc != nil {
		f.svc.Close()
		_ = f.store.Close()
		f.svc = nil
	}
}

func (f *fixture) restart() {
	f.close()
	f.open()
}

func (f *fixture) bucketARN() string { return "arn:aws:s3:::" + f.bucket }

func intervalZero() *BufferingHints { return &BufferingHints{IntervalInSeconds: intp(0)} }

// objects returns every object under prefix, by key.
func (f *fixture) objects(prefix string) map[string][]byte {
	f.t.Helper()
	ctx := context.Background()
	infos, err := f.s3.List(ctx, f.bucket, prefix)
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, o := range infos {
		b, err := f.s3.Get(ctx, f.bucket, o.Key)
		if err != nil {
			f.t.Fatal(err)
		}
		out[o.Key] = b
	}
	return out
}

// waitLines waits until the objects under prefix, decompressed, hold n
// lines, and returns them sorted.
func (f *fixture) waitLines(prefix string, format compress.Format, n int) []string {
	f.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var lines []string
	for time.Now().Before(deadline) {
		lines = lines[:0]
		for key, body := range f.objects(prefix) {
			raw, err := compress.Decompress(format, body)
			if err != nil {
				f.t.Fatalf("decompress %s: %v", key, err)
			}
			for _, l := range strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n") {
				if l != "" {
					lines = append(lines, l)
				}
			}
		}
		if len(lines) >= n {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	sort.Strings(lines)
	return lines
}

func wantLines(t *testing.T, got []string, n int, prefix string) {
	t.Helper()
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf(`{"%s":%d}`, prefix, i)
	}
	sort.Strings(want)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("delivered %d lines, want exactly the %d records put (first got: %.200v)", len(got), n, got)
	}
}

func delimiter() *ProcessingConfiguration {
	return &ProcessingConfiguration{Enabled: boolp(true), Processors: []Processor{{Type: "AppendDelimiterToRecord"}}}
}

func boolp(b bool) *bool { return &b }

func (f *fixture) putN(name string, n int, key string) {
	f.t.Helper()
	var batch [][]byte
	for i := 0; i < n; i++ {
		batch = append(batch, []byte(fmt.Sprintf(`{"%s":%d}`, key, i)))
		if len(batch) == 100 || i == n-1 {
			out, err := f.svc.PutRecordBatch(context.Background(), name, batch)
			if err != nil || out.FailedPutCount != 0 {
				f.t.Fatalf("PutRecordBatch: %+v %v", out, err)
			}
			batch = nil
		}
	}
}

func TestDirectPutToS3EveryCompression(t *testing.T) {
	f := newFixture(t)
	for _, format := range compress.Formats() {
		t.Run(string(format), func(t *testing.T) {
			name := "fmt-" + strings.ToLower(strings.ReplaceAll(string(format), "_", "-"))
			_, err := f.svc.CreateDeliveryStream(context.Background(), CreateDeliveryStreamInput{
				DeliveryStreamName: name,
				ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
					BucketARN: f.bucketARN(), Prefix: name + "/", CompressionFormat: string(format),
					BufferingHints: intervalZero(), ProcessingConfiguration: delimiter(),
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			f.putN(name, 250, name)
			got := f.waitLines(name+"/", format, 250)
			wantLines(t, got, 250, name)
			for key := range f.objects(name + "/") {
				if !strings.HasSuffix(key, format.Extension()) || !strings.Contains(key, "/"+name+"-1-") {
					t.Errorf("object name %s does not follow <prefix><name>-<version>-<time>-<id>%s", key, format.Extension())
				}
			}
		})
	}
}

func TestBufferingBySizeAndInterval(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// Size: 1 MiB buffers, a long interval. A buffer is delivered once it
	// holds 1 MiB, so 100 KiB records go 11 to an object: 34 records fill
	// three buffers without waiting for the interval (the 34th waits).
	_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "by-size",
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
			BucketARN: f.bucketARN(), Prefix: "size/",
			BufferingHints: &BufferingHints{SizeInMBs: intp(1), IntervalInSeconds: intp(900)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := bytes.Repeat([]byte("x"), 100<<10)
	for i := 0; i < 34; i++ {
		if _, err := f.svc.PutRecord(ctx, "by-size", rec); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	var objs map[string][]byte
	for time.Now().Before(deadline) {
		if objs = f.objects("size/"); len(objs) >= 3 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(objs) < 3 {
		t.Fatalf("%d objects after 34 records of 100 KiB with 1 MiB buffers, want 3", len(objs))
	}
	for k, b := range objs {
		if len(b) < 1<<20 || len(b) > 1<<20+len(rec) {
			t.Errorf("object %s is %d bytes; a size-triggered buffer holds 1 MiB to 1 MiB plus one record", k, len(b))
		}
	}
	// Interval: a 1 s interval and a large size deliver a small buffer.
	_, err = f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "by-interval",
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
			BucketARN: f.bucketARN(), Prefix: "interval/", ProcessingConfiguration: delimiter(),
			BufferingHints: &BufferingHints{SizeInMBs: intp(128), IntervalInSeconds: intp(1)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.putN("by-interval", 10, "iv")
	wantLines(t, f.waitLines("interval/", compress.Uncompressed, 10), 10, "iv")
}

func TestKinesisSourceTwoDeliveryStreams(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.store.CreateStream(ctx, shard.CreateStreamInput{Name: "src", ShardCount: 3}); err != nil {
		t.Fatal(err)
	}
	// Records put before the delivery streams exist are not delivered:
	// Firehose starts a Kinesis source at LATEST.
	if _, err := f.store.Append(ctx, "src", []shard.Entry{{PartitionKey: "early", Data: []byte(`{"early":1}`)}}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"fan-a", "fan-b"} {
		_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
			DeliveryStreamName: name, DeliveryStreamType: TypeKinesisStreamAsSource,
			KinesisStreamSourceConfiguration: &KinesisStreamSourceConfiguration{KinesisStreamARN: f.store.StreamARN("src")},
			ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
				BucketARN: f.bucketARN(), Prefix: name + "/", CompressionFormat: "GZIP",
				BufferingHints: intervalZero(), ProcessingConfiguration: delimiter(),
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var entries []shard.Entry
	for i := 0; i < 300; i++ {
		entries = append(entries, shard.Entry{PartitionKey: fmt.Sprint(i), Data: []byte(fmt.Sprintf(`{"k":%d}`, i))})
	}
	if _, err := f.store.Append(ctx, "src", entries); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"fan-a", "fan-b"} {
		wantLines(t, f.waitLines(name+"/", compress.Gzip, 300), 300, "k")
	}
	_, err := f.svc.PutRecord(ctx, "fan-a", []byte("x"))
	if apierr.CodeOf(err) != apierr.InvalidArgument {
		t.Fatalf("PutRecord on a KinesisStreamAsSource delivery stream: %v, want InvalidArgumentException", err)
	}
}

// TestRedeliveryIsExactlyOnce simulates a crash after two batches were
// uploaded and before their intents were cleared: the intents are put back,
// the service restarts, delivers both again in order, and every object is
// rewritten with the same name and bytes.
//
// With a Lambda processor the batches are transformed again: a
// deterministic function gives the same objects.
func TestRedeliveryIsExactlyOnce(t *testing.T) {
	t.Run("plain", func(t *testing.T) { testRedelivery(t, delimiter()) })
	t.Run("Lambda", func(t *testing.T) {
		inv := &fakeInvoker{handle: func(ev fhTestEvent, _ int) (functions.Result, error) {
			return respond(ev, func(d []byte) (string, []byte, map[string]string) { return "Ok", d, nil })
		}}
		testRedelivery(t, lambdaProcessing(testFunctionARN), WithInvoker(inv))
		// Two batches, both again, and the one after.
		if n := len(inv.calls()); n != 5 {
			t.Errorf("%d invocations, want 5: each delivery transforms its batch", n)
		}
	})
}

func testRedelivery(t *testing.T, processing *ProcessingConfiguration, opts ...Option) {
	f := newFixture(t, opts...)
	ctx := context.Background()
	_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "once",
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
			BucketARN: f.bucketARN(), Prefix: "once/", CompressionFormat: "GZIP",
			BufferingHints: intervalZero(), ProcessingConfiguration: processing,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Each PutRecordBatch is one atomic append, read as one batch once the
	// previous one is delivered: two batches, two objects.
	f.putN("once", 50, "once")
	f.waitLines("once/", compress.Gzip, 50)
	f.putN("once", 50, "twice")
	f.waitLines("once/", compress.Gzip, 100)
	before := f.objects("once/")
	if len(before) != 2 {
		t.Fatalf("%d objects for two delivered PutRecordBatch calls, want 2", len(before))
	}
	f.close()

	// Put both batches back as undelivered intents.
	st, err := shard.Open(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.Seek(ctx, "firehose:once", "shardId-000000000000", shard.Position{Type: shard.TrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Read(ctx, c, 1000, 1<<20)
	if err != nil || len(res.Records) != 100 {
		t.Fatalf("read back %d records: %v", len(res.Records), err)
	}
	var cks []string
	_ = st.ScanValues(valuesNS, "ck/once/", func(k string, _ []byte) error { cks = append(cks, k); return nil })
	if len(cks) != 1 {
		t.Fatalf("checkpoints %v, want one", cks)
	}
	r := res.Records
	v, _ := json.Marshal(checkpoint{Next: res.Next.SequenceNumber(), Intents: []intent{
		{First: r[0].SequenceNumber, Last: r[49].SequenceNumber},
		{First: r[50].SequenceNumber, Last: r[99].SequenceNumber},
	}})
	if err := st.WriteValues(ctx, valuesNS, shard.ValueWrite{Key: cks[0], Value: v}); err != nil {
		t.Fatal(err)
	}
	_ = st.Close()
	f.open()
	f.putN("once", 1, "after") // a later record proves the replay finished
	f.waitLines("once/", compress.Gzip, 101)
	after := f.objects("once/")
	for k, b := range before {
		if !bytes.Equal(after[k], b) {
			t.Errorf("object %s changed on re-delivery", k)
		}
	}
	if len(after) != len(before)+1 {
		t.Errorf("%d objects after re-delivery and one more put, want %d", len(after), len(before)+1)
	}
	if lines := f.waitLines("once/", compress.Gzip, 101); len(lines) != 101 {
		t.Errorf("%d records in S3 after re-delivery, want 101 (each once)", len(lines))
	}
}

func TestBadConfigurations(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s3 := func(mod func(*ExtendedS3DestinationConfiguration)) *ExtendedS3DestinationConfiguration {
		c := &ExtendedS3DestinationConfiguration{BucketARN: f.bucketARN()}
		mod(c)
		return c
	}
	tests := []struct {
		name string
		in   CreateDeliveryStreamInput
		want string // in the message
	}{
		{"bad bucket ARN", CreateDeliveryStreamInput{ExtendedS3DestinationConfiguration: s3(func(c *ExtendedS3DestinationConfiguration) { c.BucketARN = "arn:aws:s3:::" })}, "BucketARN"},
		{"size too big", CreateDeliveryStreamInput{ExtendedS3DestinationConfiguration: s3(func(c *ExtendedS3DestinationConfiguration) {
			c.BufferingHints = &BufferingHints{SizeInMBs: intp(129)}
		})}, "SizeInMBs"},
		{"interval too long", CreateDeliveryStreamInput{ExtendedS3DestinationConfiguration: s3(func(c *ExtendedS3DestinationConfiguration) {
			c.BufferingHints = &BufferingHints{IntervalInSeconds: intp(901)}
		})}, "IntervalInSeconds"},
		{"unknown compression", CreateDeliveryStreamInput{ExtendedS3DestinationConfiguration: s3(func(c *ExtendedS3DestinationConfiguration) { c.CompressionFormat = "LZ4" })}, "CompressionFormat"},
		{"no destination", CreateDeliveryStreamInput{}, "exactly one destination"},
		{"unsupported processor", CreateDeliveryStreamInput{ExtendedS3DestinationConfiguration: s3(func(c *ExtendedS3DestinationConfiguration) {
			c.ProcessingConfiguration = &ProcessingConfiguration{Enabled: boolp(true), Processors: []Processor{{Type: "Decompression"}}}
		})}, "Decompression"},
		{"missing source stream", CreateDeliveryStreamInput{DeliveryStreamType: TypeKinesisStreamAsSource,
			KinesisStreamSourceConfiguration:   &KinesisStreamSourceConfiguration{KinesisStreamARN: "arn:aws:kinesis:us-east-1:000000000000:stream/nope"},
			ExtendedS3DestinationConfiguration: s3(func(*ExtendedS3DestinationConfiguration) {})}, "nope"},
		{"es without endpoint", CreateDeliveryStreamInput{ElasticsearchDestinationConfiguration: &ElasticsearchDestinationConfiguration{
			IndexName: "i", S3Configuration: &S3DestinationConfiguration{BucketARN: f.bucketARN()}}}, "ClusterEndpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.DeliveryStreamName = "bad"
			_, err := f.svc.CreateDeliveryStream(ctx, tt.in)
			if apierr.CodeOf(err) != apierr.InvalidArgument || !strings.Contains(apierr.MessageOf(err), tt.want) {
				t.Fatalf("got %v, want InvalidArgumentException mentioning %q", err, tt.want)
			}
			if names, _, _ := f.svc.ListDeliveryStreams(ctx, 0, "", ""); len(names) != 0 {
				t.Fatalf("a rejected create left %v behind", names)
			}
		})
	}
}

func TestUnreachableS3RetriesThenDelivers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// A delivery stream whose bucket does not exist yet fails every upload:
	// nothing is lost, DataFreshness grows, and delivery resumes once the
	// bucket is there.
	missing := f.bucket + "-later"
	_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "later",
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
			BucketARN: "arn:aws:s3:::" + missing, BufferingHints: intervalZero(), ProcessingConfiguration: delimiter(),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.putN("later", 20, "l")
	deadline := time.Now().Add(30 * time.Second)
	var fresh time.Duration
	for time.Now().Before(deadline) {
		fresh, _ = f.svc.DataFreshness("later")
		if fresh > 200*time.Millisecond {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if fresh <= 0 {
		t.Fatalf("DataFreshness %v while the bucket is missing, want it growing", fresh)
	}
	if err := f.s3.EnsureBucket(ctx, missing); err != nil {
		t.Fatal(err)
	}
	f.bucket = missing
	wantLines(t, f.waitLines("", compress.Uncompressed, 20), 20, "l")
	deadline = time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if fresh, _ = f.svc.DataFreshness("later"); fresh == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if fresh != 0 {
		t.Fatalf("DataFreshness %v after delivery, want 0", fresh)
	}
}

func TestElasticsearchPartialFailureBackedUp(t *testing.T) {
	es := estest.New(t)
	f := newFixture(t)
	ctx := context.Background()
	es.RejectDocs(func(index, id string, body []byte) (int, string, string, bool) {
		if bytes.Contains(body, []byte(`"bad"`)) {
			return 400, "mapper_parsing_exception", "failed to parse field [v]", true
		}
		return 0, "", "", false
	})
	_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "es",
		ElasticsearchDestinationConfiguration: &ElasticsearchDestinationConfiguration{
			ClusterEndpoint: es.URL(), IndexName: "logs", IndexRotationPeriod: "NoRotation",
			BufferingHints: &BufferingHints{IntervalInSeconds: intp(0)}, RetryOptions: &RetryOptions{DurationInSeconds: intp(0)},
			S3Configuration: &S3DestinationConfiguration{BucketARN: f.bucketARN(), ErrorOutputPrefix: "es-errors/"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var batch [][]byte
	for i := 0; i < 20; i++ {
		batch = append(batch, []byte(fmt.Sprintf(`{"v":%d}`, i)))
	}
	batch = append(batch, []byte(`{"v":"bad"}`), []byte(`not json`))
	if _, err := f.svc.PutRecordBatch(ctx, "es", batch); err != nil {
		t.Fatal(err)
	}
	lines := f.waitLines("es-errors/", compress.Uncompressed, 2)
	if len(lines) != 2 {
		t.Fatalf("backed up %d failed documents, want 2: %v", len(lines), lines)
	}
	var sawMapping, sawInvalid bool
	for _, l := range lines {
		var e errorRecord
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("error record %q: %v", l, err)
		}
		sawMapping = sawMapping || strings.Contains(e.ErrorMessage, "mapper_parsing_exception")
		sawInvalid = sawInvalid || e.ErrorCode == "InvalidDocument"
	}
	if !sawMapping || !sawInvalid {
		t.Fatalf("error records %v lack the Elasticsearch error or the invalid-document error", lines)
	}
	if n := es.Count("logs"); n != 20 {
		t.Fatalf("index holds %d documents, want 20", n)
	}
	// The rejection is a delivery error of the Elasticsearch destination
	// (the invalid document never reached it), until a batch goes through
	// whole.
	errs, err := f.svc.DeliveryErrors("es")
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 || errs[0].Destination != ErrorDestinationElasticsearch || errs[0].ErrorCode != "ES.mapper_parsing_exception" ||
		!strings.Contains(errs[0].ErrorMessage, "1 of 21 documents") || !strings.Contains(errs[0].ErrorMessage, "failed to parse field [v]") {
		t.Fatalf("delivery errors %+v, want one ES.mapper_parsing_exception for 1 of 21 documents", errs)
	}
	if _, err := f.svc.PutRecordBatch(ctx, "es", [][]byte{[]byte(`{"v":100}`)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(errs) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		errs, _ = f.svc.DeliveryErrors("es")
	}
	if len(errs) != 0 {
		t.Fatalf("delivery errors %+v after a batch was indexed whole, want none", errs)
	}
}

// TestDirectPutStreamIsTheBuffer checks the stream DirectPutStream names:
// records appended to it (as Analytics does in its checkpoint batch) are
// delivered like PutRecordBatch's.
func TestDirectPutStreamIsTheBuffer(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "dp",
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
			BucketARN: f.bucketARN(), Prefix: "dp/", BufferingHints: intervalZero(), ProcessingConfiguration: delimiter(),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	stream, err := f.svc.DirectPutStream("dp")
	if err != nil {
		t.Fatal(err)
	}
	var entries []shard.Entry
	for i := 0; i < 20; i++ {
		entries = append(entries, shard.Entry{PartitionKey: "a", Data: []byte(fmt.Sprintf(`{"k":%d}`, i))})
	}
	if _, err := f.store.Append(ctx, stream, entries); err != nil {
		t.Fatal(err)
	}
	wantLines(t, f.waitLines("dp/", compress.Uncompressed, 20), 20, "k")
	// The worker reads as the named consumer firehose:dp, so its iterator
	// age has its own series.
	m, err := f.store.StreamMetrics(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Shards[0].ConsumerAgesMs["firehose:dp"]; !ok {
		t.Fatalf("iterator ages of %s: %v, want one for consumer firehose:dp", stream, m.Shards[0].ConsumerAgesMs)
	}

	if err := f.store.CreateStream(ctx, shard.CreateStreamInput{Name: "src", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "from-src", DeliveryStreamType: TypeKinesisStreamAsSource,
		KinesisStreamSourceConfiguration:   &KinesisStreamSourceConfiguration{KinesisStreamARN: f.store.StreamARN("src")},
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{BucketARN: f.bucketARN(), Prefix: "src/"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.DirectPutStream("from-src"); apierr.CodeOf(err) != apierr.InvalidArgument {
		t.Fatalf("DirectPutStream of a KinesisStreamAsSource delivery stream: %v, want InvalidArgumentException", err)
	}
	if _, err := f.svc.DirectPutStream("missing"); apierr.CodeOf(err) != apierr.ResourceNotFound {
		t.Fatalf("DirectPutStream of a missing delivery stream: %v, want ResourceNotFoundException", err)
	}
}

// TestPutOnFullDiskIsServiceUnavailable: when the store's free-space reserve
// refuses the buffer's append, PutRecordBatch answers Firehose's modelled
// ServiceUnavailableException (HTTP 503) saying the disk is full, stores
// nothing of the batch, and puts work again once there is room.
func TestPutOnFullDiskIsServiceUnavailable(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "full",
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
			BucketARN: f.bucketARN(), Prefix: "full/", BufferingHints: intervalZero(), ProcessingConfiguration: delimiter(),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.close()
	f.storeOpts = []shard.Option{shard.WithMinFreeDisk(1 << 62)} // no disk is that empty
	f.open()
	_, err = f.svc.PutRecordBatch(ctx, "full", [][]byte{[]byte(`{"a":1}`), []byte(`{"a":2}`)})
	if apierr.CodeOf(err) != apierr.ServiceUnavailableException || !strings.Contains(apierr.MessageOf(err), "disk is full") {
		t.Fatalf("PutRecordBatch on a full disk: %v, want ServiceUnavailableException saying the disk is full", err)
	}
	f.close()
	f.storeOpts = nil
	f.open()
	f.putN("full", 3, "after")
	wantLines(t, f.waitLines("full/", compress.Uncompressed, 3), 3, "after")
}
