package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/spatehq/spate/firehose/compress"
)

// rawReplies keeps the body of the last reply an aws-sdk-go-v2 call got, so
// a test can read members the SDK's model does not have (the SDK skips
// them, which is what the test also proves).
type rawReplies struct {
	mu   sync.Mutex
	last []byte
}

func (r *rawReplies) option(o *firehose.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		// After the operation's deserializer, so this sees the response
		// first and hands it on with its body intact.
		return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("rawReplies",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleDeserialize(ctx, in)
				if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && err == nil {
					body, rerr := io.ReadAll(resp.Body)
					if rerr != nil {
						return out, md, rerr
					}
					resp.Body = io.NopCloser(bytes.NewReader(body))
					r.mu.Lock()
					r.last = body
					r.mu.Unlock()
				}
				return out, md, err
			}), middleware.After)
	})
}

// spateDeliveryErrors is the Spate member of DescribeDeliveryStream's reply.
type spateDeliveryErrors struct {
	DeliveryStreamDescription struct {
		SpateDeliveryErrors []struct {
			Timestamp, FirstTimestamp            float64
			Destination, ErrorCode, ErrorMessage string
			Count                                int
		}
	}
}

// TestFirehoseDeliveryErrors: a delivery stream whose bucket does not
// exist stays ACTIVE, as in Firehose, and says why nothing arrives: its
// DescribeDeliveryStream reply (read with aws-sdk-go-v2, which still
// parses it, as does the AWS CLI) carries SpateDeliveryErrors with
// S3.NoSuchBucket, and `spate firehose describe` prints it. Once the bucket
// exists, the records are delivered and the error is gone.
func TestFirehoseDeliveryErrors(t *testing.T) {
	f := newFH(t)
	ctx := testCtx(t)
	raw := &rawReplies{}
	missing := f.bucket + "-later"
	name := "errors"
	_, err := f.c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(name),
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			RoleARN: aws.String("arn:aws:iam::000000000000:role/firehose"), BucketARN: aws.String("arn:aws:s3:::" + missing),
			Prefix: aws.String("e/"), BufferingHints: &fhtypes.BufferingHints{IntervalInSeconds: aws.Int32(0), SizeInMBs: aws.Int32(1)},
			ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true),
				Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeAppendDelimiterToRecord}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	records := []fhtypes.Record{{Data: []byte(`{"n":1}`)}, {Data: []byte(`{"n":2}`)}}
	if out, err := f.c.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(name), Records: records}); err != nil || aws.ToInt32(out.FailedPutCount) != 0 {
		t.Fatalf("PutRecordBatch: %v", err)
	}

	describe := func() (*firehose.DescribeDeliveryStreamOutput, spateDeliveryErrors) {
		t.Helper()
		out, err := f.c.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(name)}, raw.option)
		if err != nil {
			t.Fatalf("DescribeDeliveryStream (aws-sdk-go-v2): %v", err)
		}
		raw.mu.Lock()
		body := raw.last
		raw.mu.Unlock()
		var extra spateDeliveryErrors
		if err := json.Unmarshal(body, &extra); err != nil {
			t.Fatalf("reply %s: %v", body, err)
		}
		return out, extra
	}
	var extra spateDeliveryErrors
	for {
		var out *firehose.DescribeDeliveryStreamOutput
		out, extra = describe()
		if out.DeliveryStreamDescription.DeliveryStreamStatus != fhtypes.DeliveryStreamStatusActive {
			t.Fatalf("status %s, want ACTIVE", out.DeliveryStreamDescription.DeliveryStreamStatus)
		}
		if len(extra.DeliveryStreamDescription.SpateDeliveryErrors) > 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no delivery error reported for the missing bucket: %v", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	e := extra.DeliveryStreamDescription.SpateDeliveryErrors[0]
	if e.Destination != "S3" || e.ErrorCode != "S3.NoSuchBucket" || !strings.Contains(e.ErrorMessage, missing) || e.Count < 1 ||
		e.Timestamp < float64(time.Now().Add(-time.Hour).Unix()) || e.FirstTimestamp > e.Timestamp {
		t.Errorf("SpateDeliveryErrors[0] = %+v, want S3 / S3.NoSuchBucket naming %s", e, missing)
	}

	// The AWS CLI parses the reply too (botocore skips the member).
	cli := newAWSCLI(t)
	cli.endpoint = f.srv.Endpoint()
	var desc struct {
		DeliveryStreamDescription struct{ DeliveryStreamStatus string }
	}
	cli.run(ctx, t, &desc, "firehose", "describe-delivery-stream", "--delivery-stream-name", name)
	if desc.DeliveryStreamDescription.DeliveryStreamStatus != "ACTIVE" {
		t.Errorf("aws firehose describe-delivery-stream: status %q", desc.DeliveryStreamDescription.DeliveryStreamStatus)
	}

	spate := spateCLI(ctx, t, f.srv.GRPCAddr)
	if out := spate("", "firehose", "describe", name); !strings.Contains(out, "S3.NoSuchBucket") || !strings.Contains(out, missing) {
		t.Errorf("spate firehose describe does not show the delivery error:\n%s", out)
	}
	if out := spate("", "firehose", "describe", name, "--output", "json"); !strings.Contains(out, `"deliveryErrors"`) || !strings.Contains(out, `"S3.NoSuchBucket"`) {
		t.Errorf("spate firehose describe --output json does not show the delivery error:\n%s", out)
	}

	// The bucket appears: delivery succeeds and the error is gone.
	if err := f.s3.EnsureBucket(ctx, missing); err != nil {
		t.Fatal(err)
	}
	f.bucket = missing
	if got := f.waitLines(ctx, t, "e/", compress.Uncompressed, 2); strings.Join(got, ",") != `{"n":1},{"n":2}` {
		t.Fatalf("S3 holds %q", got)
	}
	for {
		if _, extra = describe(); len(extra.DeliveryStreamDescription.SpateDeliveryErrors) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("delivery errors %+v remain after delivery succeeded", extra.DeliveryStreamDescription.SpateDeliveryErrors)
		case <-time.After(50 * time.Millisecond):
		}
	}
	if out := spate("", "firehose", "describe", name); !strings.Contains(out, "Delivery errors:  none") {
		t.Errorf("spate firehose describe still shows delivery errors:\n%s", out)
	}
}
