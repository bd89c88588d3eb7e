package integration

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/spatehq/spate/firehose/compress"
)

// TestFunctionsFirehoseTransform runs examples/firehose-transform, an
// aws-lambda-go Firehose transformation, as a delivery stream's Lambda
// processor: the objects in S3 hold the records it rewrote (upper case),
// not those it dropped, and the records it failed are under the error
// output prefix's processing-failed folder with their original data.
func TestFunctionsFirehoseTransform(t *testing.T) {
	t.Parallel()
	zipPath := buildHandler(t, "firehose-transform")
	cli := newAWSCLI(t)
	f := newFH(t)
	cli.endpoint = f.srv.Endpoint()
	l := &fnLab{kin: &kin{srv: f.srv, c: f.kin}, cli: cli}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	fnName := uniqueName(t)
	fnARN := l.createFunction(ctx, t, fnName, zipPath, nil)
	name := uniqueName(t)
	param := func(n fhtypes.ProcessorParameterName, v string) fhtypes.ProcessorParameter {
		return fhtypes.ProcessorParameter{ParameterName: n, ParameterValue: aws.String(v)}
	}
	_, err := f.c.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String(name),
		ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
			RoleARN: aws.String("arn:aws:iam::000000000000:role/firehose"), BucketARN: f.bucketARN(),
			Prefix: aws.String(name + "/"), ErrorOutputPrefix: aws.String(name + "-errors/"),
			BufferingHints: &fhtypes.BufferingHints{IntervalInSeconds: aws.Int32(0), SizeInMBs: aws.Int32(1)},
			ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true),
				Processors: []fhtypes.Processor{{Type: fhtypes.ProcessorTypeLambda, Parameters: []fhtypes.ProcessorParameter{
					param(fhtypes.ProcessorParameterNameLambdaArn, fnARN),
					param(fhtypes.ProcessorParameterNameBufferSizeInMb, "1"),
					param(fhtypes.ProcessorParameterNameBufferIntervalInSeconds, "0"),
					param(fhtypes.ProcessorParameterNameLambdaNumberOfRetries, "1"),
				}}}},
		},
	})
	if err != nil {
		t.Fatalf("CreateDeliveryStream %s with a Lambda processor: %v", name, err)
	}

	// Records to keep, drop and fail, each ending in a newline so that the
	// objects split into lines.
	var entries []fhtypes.Record
	var wantOK, wantFailed []string
	for i := range 90 {
		switch i % 3 {
		case 0:
			entries = append(entries, fhtypes.Record{Data: fmt.Appendf(nil, "hello %d\n", i)})
			wantOK = append(wantOK, fmt.Sprintf("HELLO %d", i))
		case 1:
			entries = append(entries, fhtypes.Record{Data: fmt.Appendf(nil, "drop %d\n", i)})
		case 2:
			entries = append(entries, fhtypes.Record{Data: fmt.Appendf(nil, "fail %d\n", i)})
			wantFailed = append(wantFailed, fmt.Sprintf("fail %d\n", i))
		}
	}
	out, err := f.c.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(name), Records: entries})
	if err != nil || aws.ToInt32(out.FailedPutCount) != 0 {
		t.Fatalf("PutRecordBatch: %v (%d failed)", err, aws.ToInt32(out.FailedPutCount))
	}

	sort.Strings(wantOK)
	got := f.waitLines(ctx, t, name+"/", compress.Uncompressed, len(wantOK))
	errLines := f.waitLines(ctx, t, name+"-errors/processing-failed/", compress.Uncompressed, len(wantFailed))
	if !slices.Equal(got, wantOK) {
		t.Errorf("S3 holds %d records under %s/:\n%s\nwant the %d kept ones, rewritten:\n%s",
			len(got), name, strings.Join(got, "\n"), len(wantOK), strings.Join(wantOK, "\n"))
	}
	var failed []string
	for _, ln := range errLines {
		var rec struct {
			ErrorCode string `json:"errorCode"`
			RawData   string `json:"rawData"`
			LambdaArn string `json:"lambdaArn"`
		}
		if err := json.Unmarshal([]byte(ln), &rec); err != nil {
			t.Fatalf("processing-failed line %q: %v", ln, err)
		}
		raw, err := base64.StdEncoding.DecodeString(rec.RawData)
		if err != nil {
			t.Fatalf("processing-failed rawData %q: %v", rec.RawData, err)
		}
		if rec.ErrorCode == "" {
			t.Errorf("processing-failed line without errorCode: %s", ln)
		}
		failed = append(failed, string(raw))
	}
	sort.Strings(failed)
	sort.Strings(wantFailed)
	if !slices.Equal(failed, wantFailed) {
		t.Errorf("processing-failed holds %q, want %q", failed, wantFailed)
	}
	t.Logf("%d records put: %d delivered rewritten, %d failed, %d dropped", len(entries), len(got), len(failed), len(entries)-len(got)-len(failed))
}
