package integration

import (
	"slices"
	"strings"
	"testing"

	"github.com/spatehq/spate/firehose/compress"
)

// TestFirehoseCLI drives Firehose with the AWS CLI and with spate's own
// CLI, and checks what lands in S3.
func TestFirehoseCLI(t *testing.T) {
	cli := newAWSCLI(t)
	f := newFH(t)
	cli.endpoint = f.srv.Endpoint()
	cli.trustServerValidation(t)
	ctx := testCtx(t)

	// The AWS CLI: create, put-record, put-record-batch, describe, list.
	dest := `{"RoleARN":"arn:aws:iam::000000000000:role/firehose","BucketARN":"arn:aws:s3:::` + f.bucket + `",` +
		`"Prefix":"aws-cli/","CompressionFormat":"GZIP","BufferingHints":{"IntervalInSeconds":0,"SizeInMBs":1},` +
		`"ProcessingConfiguration":{"Enabled":true,"Processors":[{"Type":"AppendDelimiterToRecord"}]}}`
	var created struct{ DeliveryStreamARN string }
	cli.run(ctx, t, &created, "firehose", "create-delivery-stream", "--delivery-stream-name", "cli-aws",
		"--extended-s3-destination-configuration", dest)
	if !strings.HasSuffix(created.DeliveryStreamARN, ":deliverystream/cli-aws") {
		t.Fatalf("create-delivery-stream ARN = %q", created.DeliveryStreamARN)
	}
	// CLI v1 base64-encodes blob arguments itself; v2 does with
	// --cli-binary-format raw-in-base64-out. Either way S3 must hold the
	// text given here.
	binary := func(args ...string) []string {
		if cli.v2 {
			return append(args, "--cli-binary-format", "raw-in-base64-out")
		}
		return args
	}
	var put struct{ RecordId string }
	cli.run(ctx, t, &put, binary("firehose", "put-record", "--delivery-stream-name", "cli-aws", "--record", `{"Data":"{\"n\":0}"}`)...)
	if put.RecordId == "" {
		t.Fatal("put-record returned no RecordId")
	}
	var batch struct{ FailedPutCount int }
	cli.run(ctx, t, &batch, binary("firehose", "put-record-batch", "--delivery-stream-name", "cli-aws",
		"--records", `[{"Data":"{\"n\":1}"},{"Data":"{\"n\":2}"}]`)...)
	if batch.FailedPutCount != 0 {
		t.Fatalf("put-record-batch FailedPutCount = %d", batch.FailedPutCount)
	}
	got := f.waitLines(ctx, t, "aws-cli/", compress.Gzip, 3)
	if want := []string{`{"n":0}`, `{"n":1}`, `{"n":2}`}; !slices.Equal(got, want) {
		t.Fatalf("S3 holds %q, want %q", got, want)
	}
	var desc struct {
		DeliveryStreamDescription struct {
			DeliveryStreamStatus string
			Destinations         []struct {
				ExtendedS3DestinationDescription struct{ CompressionFormat string }
			}
		}
	}
	cli.run(ctx, t, &desc, "firehose", "describe-delivery-stream", "--delivery-stream-name", "cli-aws")
	if d := desc.DeliveryStreamDescription; d.DeliveryStreamStatus != "ACTIVE" || len(d.Destinations) != 1 ||
		d.Destinations[0].ExtendedS3DestinationDescription.CompressionFormat != "GZIP" {
		t.Fatalf("describe-delivery-stream = %+v", d)
	}

	// spate's CLI over gRPC: create, put from stdin, describe, list, delete.
	spate := spateCLI(ctx, t, f.srv.GRPCAddr)
	spate("", "firehose", "create", "cli-spate", "--bucket", f.bucket, "--prefix", "spate-cli/",
		"--compression", "ZSTD", "--buffer-seconds", "0", "--delimiter")
	lines := []string{`{"line":1}`, `{"line":2}`, `{"line":3}`, `{"line":4}`}
	spate(strings.Join(lines, "\n")+"\n", "firehose", "put", "cli-spate")
	if got := f.waitLines(ctx, t, "spate-cli/", compress.Zstd, 4); !slices.Equal(got, lines) {
		t.Fatalf("S3 holds %q, want %q", got, lines)
	}
	if out := spate("", "firehose", "describe", "cli-spate"); !strings.Contains(out, "cli-spate") || !strings.Contains(out, "ZSTD") {
		t.Errorf("firehose describe does not show the stream and its compression:\n%s", out)
	}
	if out := spate("", "firehose", "list"); !strings.Contains(out, "cli-spate") || !strings.Contains(out, "cli-aws") {
		t.Errorf("firehose list does not show both delivery streams:\n%s", out)
	}
	spate("", "firehose", "delete", "cli-spate")
	if out := spate("", "firehose", "list"); strings.Contains(out, "cli-spate") {
		t.Errorf("firehose list shows a deleted delivery stream:\n%s", out)
	}
}
