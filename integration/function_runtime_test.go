package integration

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// bootstrapZip is a function zip: bootstrap (executable) and files.
func bootstrapZip(t *testing.T, bootstrap []byte, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err == nil {
		_, err = w.Write(bootstrap)
	}
	for name, content := range files {
		if err != nil {
			break
		}
		if w, err = zw.Create(name); err == nil {
			_, err = w.Write([]byte(content))
		}
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// kinesisEventJSON is an aws:kinesis event of records with these data.
func kinesisEventJSON(t *testing.T, data ...string) []byte {
	t.Helper()
	var recs []map[string]any
	for i, d := range data {
		recs = append(recs, map[string]any{
			"kinesis": map[string]any{"kinesisSchemaVersion": "1.0", "partitionKey": fmt.Sprint("pk", i),
				"sequenceNumber": fmt.Sprint(i + 1), "data": base64.StdEncoding.EncodeToString([]byte(d)),
				"approximateArrivalTimestamp": 1.7e9},
			"eventSource": "aws:kinesis", "eventVersion": "1.0", "eventName": "aws:kinesis:record",
			"eventID": fmt.Sprint("shardId-000000000000:", i+1), "awsRegion": "us-east-1",
			"eventSourceARN": "arn:aws:kinesis:us-east-1:000000000000:stream/in",
		})
	}
	b, err := json.Marshal(map[string]any{"Records": recs})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFunctionRuntime runs the example aws-lambda-go handler on a real
// server through the Lambda API: the handler calls Spate back (PutRecords
// through AWS_ENDPOINT_URL), a poison record is a function error with the
// handler's error type, the log tail has Lambda's REPORT line, and
// reserved concurrency 0 throttles with Lambda's Reason.
func TestFunctionRuntime(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ctx := testCtx(t)
	k, c := s.Kinesis(t), s.Lambda(t)
	out := uniqueName(t)
	if _, err := k.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(out), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	for {
		d, err := k.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(out)})
		if err != nil {
			t.Fatal(err)
		}
		if d.StreamDescriptionSummary.StreamStatus == ktypes.StreamStatusActive {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("copier"), Runtime: types.RuntimeProvidedal2023, Role: aws.String(lambdaRole),
		Handler: aws.String("bootstrap"), Code: &types.FunctionCode{ZipFile: exampleZip(t, "function")},
		Environment: &types.Environment{Variables: map[string]string{"OUTPUT_STREAM": out, "POISON": "bad"}},
		Timeout:     aws.Int32(30),
	}); err != nil {
		t.Fatal(err)
	}

	res, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("copier"), Payload: kinesisEventJSON(t, "a", "b", "c"),
		LogType: types.LogTypeTail})
	if err != nil || res.FunctionError != nil || string(res.Payload) != `{"batchItemFailures":[]}` {
		t.Fatalf("invoke: %v %v %s", err, aws.ToString(res.FunctionError), res.Payload)
	}
	tail, _ := base64.StdEncoding.DecodeString(aws.ToString(res.LogResult))
	if !strings.Contains(string(tail), "processed 3 of 3 records") || !strings.Contains(string(tail), "REPORT RequestId: ") {
		t.Fatalf("log tail:\n%s", tail)
	}
	it, err := k.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(out), ShardId: aws.String("shardId-000000000000"),
		ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	got, err := k.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	var data []string
	for _, r := range got.Records {
		data = append(data, string(r.Data))
	}
	if strings.Join(data, ",") != "a,b,c" {
		t.Fatalf("the output stream holds %v", data)
	}

	res, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("copier"), Payload: kinesisEventJSON(t, "a", "bad")})
	if err != nil || aws.ToString(res.FunctionError) != "Unhandled" || !strings.Contains(string(res.Payload), `"errorType":"PoisonRecordError"`) {
		t.Fatalf("poison: %v %v %s", err, aws.ToString(res.FunctionError), res.Payload)
	}

	if _, err := c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("copier"),
		ReservedConcurrentExecutions: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	var throttled *types.TooManyRequestsException
	if _, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("copier"), Payload: kinesisEventJSON(t, "a")}); !errors.As(err, &throttled) ||
		throttled.Reason != types.ThrottleReasonReservedFunctionConcurrentInvocationLimitExceeded {
		t.Fatalf("reserved 0: %v, want TooManyRequestsException for the reserved limit", err)
	}
}
