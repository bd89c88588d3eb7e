package integration

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/spatehq/spate/firehose/compress"
)

// TestConsoleFirehose: a delivery stream created in the console and fed
// with its "put a record" form delivers to the real S3 server (read back
// here, GZIP as chosen in the page); a delivery stream to a missing bucket
// shows S3.NoSuchBucket on its page and in the list; Delete removes it.
func TestConsoleFirehose(t *testing.T) {
	b := findConsoleBrowser(t)
	f := newFH(t)
	ctx := testCtx(t)
	missing := f.bucket + "-missing"
	b.run(t, f.srv, "firehose.spec.js", "SPEC_BUCKET="+f.bucket, "SPEC_MISSING="+missing)

	got := f.waitLines(ctx, t, "console/", compress.Gzip, 3)
	if want := []string{`{"n":1}`, `{"n":2}`, `{"n":3}`}; !slices.Equal(got, want) {
		t.Fatalf("the bucket holds %q, want the records put in the page %q", got, want)
	}
	list, err := f.c.ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(list.DeliveryStreamNames, []string{"console-s3"}) {
		t.Errorf("delivery streams %q after the page deleted console-missing, want [console-s3]", list.DeliveryStreamNames)
	}
}
