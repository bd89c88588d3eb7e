package integration

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/spatehq/spate/firehose/compress"
	"github.com/spatehq/spate/firehose/essink/estest"
)

// TestConsoleFirehose: a delivery stream created in the console and fed
// with its "put a record" form delivers to the real S3 server (read back
// here, GZIP as chosen in the page); a delivery stream to a missing bucket
// shows S3.NoSuchBucket on its page and in the list; Delete removes it. An
// Elasticsearch delivery stream created in the page indexes the record put
// there, and one created on a Kinesis stream delivers what is put into the
// stream.
func TestConsoleFirehose(t *testing.T) {
	b := findConsoleBrowser(t)
	f := newFH(t)
	ctx := testCtx(t)
	es := estest.New(t)
	k := &kin{srv: f.srv, c: f.kin}
	stream := "console-source"
	k.create(ctx, t, stream, 1)
	k.create(ctx, t, "a-console-first", 1) // sorts first: the spec's lists page by one
	missing := f.bucket + "-missing"
	b.run(t, f.srv, "firehose.spec.js", "SPEC_BUCKET="+f.bucket, "SPEC_MISSING="+missing,
		"SPEC_ES_URL="+es.URL(), "SPEC_STREAM="+stream)

	got := f.waitLines(ctx, t, "console/", compress.Gzip, 3)
	if want := []string{`{"n":1}`, `{"n":2}`, `{"n":3}`}; !slices.Equal(got, want) {
		t.Fatalf("the bucket holds %q, want the records put in the page %q", got, want)
	}
	list, err := f.c.ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"console-es", "console-kinesis", "console-s3"}; !slices.Equal(list.DeliveryStreamNames, want) {
		t.Errorf("delivery streams %q after the page deleted console-missing, want %q", list.DeliveryStreamNames, want)
	}
	for es.Count("console") != 1 {
		select {
		case <-ctx.Done():
			t.Fatalf("index console holds %d documents, want the one put in the page", es.Count("console"))
		case <-time.After(50 * time.Millisecond):
		}
	}
	if _, err := f.kin.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String("k"),
		Data: []byte(`{"from":"kinesis"}`)}); err != nil {
		t.Fatal(err)
	}
	if got := f.waitLines(ctx, t, "kinesis/", compress.Uncompressed, 1); !slices.Equal(got, []string{`{"from":"kinesis"}`}) {
		t.Fatalf("the Kinesis source delivered %q", got)
	}
}
