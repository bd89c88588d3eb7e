package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestEventSourceMappingSDK maps a stream to a spate.http function (an
// endpoint in this test that decodes aws-lambda-go's KinesisEvent) with
// aws-sdk-go-v2's lambda client: every record arrives at least once and in
// order per partition key across a kill -9 of the server, a poison record
// is bisected out and reported to an on-failure stream, and the mapping's
// states and errors read as Lambda's.
func TestEventSourceMappingSDK(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	got := map[string][]int{} // partition key → record numbers, in delivery order
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev events.KinesisEvent
		if err := json.Unmarshal(body, &ev); err != nil || len(ev.Records) == 0 {
			http.Error(w, fmt.Sprintf("not a Kinesis event: %v", err), http.StatusBadRequest)
			return
		}
		for _, rec := range ev.Records {
			if string(rec.Kinesis.Data) == "poison" {
				http.Error(w, "cannot parse", http.StatusInternalServerError)
				return
			}
		}
		mu.Lock()
		for _, rec := range ev.Records {
			n, _ := strconv.Atoi(string(rec.Kinesis.Data))
			got[rec.Kinesis.PartitionKey] = append(got[rec.Kinesis.PartitionKey], n)
		}
		mu.Unlock()
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	received := func() int {
		mu.Lock()
		defer mu.Unlock()
		seen := map[int]bool{}
		for _, ns := range got {
			for _, n := range ns {
				seen[n] = true
			}
		}
		return len(seen)
	}

	k := newKin(t)
	ctx := testCtx(t)
	c := k.srv.Lambda(t)
	src := k.createWith(ctx, t, &kinesis.CreateStreamInput{StreamName: aws.String("esm-src"), ShardCount: aws.Int32(2)})
	dlq := k.createWith(ctx, t, &kinesis.CreateStreamInput{StreamName: aws.String("esm-dlq"), ShardCount: aws.Int32(1)})
	if _, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("esm-hook"), Runtime: types.Runtime("spate.http"),
		Role: aws.String(lambdaRole), Code: &types.FunctionCode{},
		Environment: &types.Environment{Variables: map[string]string{"SPATE_ENDPOINT_URL": srv.URL}}}); err != nil {
		t.Fatal(err)
	}

	var bad *types.InvalidParameterValueException
	_, err := c.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("esm-hook"),
		EventSourceArn: src.StreamARN, StartingPosition: types.EventSourcePositionTrimHorizon, BatchSize: aws.Int32(10001)})
	if !errors.As(err, &bad) || !strings.Contains(aws.ToString(bad.Message), "BatchSize") {
		t.Fatalf("BatchSize 10001: %v, want InvalidParameterValueException", err)
	}
	m, err := c.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("esm-hook"),
		EventSourceArn: src.StreamARN, StartingPosition: types.EventSourcePositionTrimHorizon, BatchSize: aws.Int32(25),
		BisectBatchOnFunctionError: aws.Bool(true), MaximumRetryAttempts: aws.Int32(1),
		DestinationConfig: &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: dlq.StreamARN}}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(m.State) != "Creating" || aws.ToInt32(m.BatchSize) != 25 || len(aws.ToString(m.UUID)) != 36 {
		t.Fatalf("created %+v", m)
	}
	uuid := m.UUID
	var conflict *types.ResourceConflictException
	if _, err := c.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("esm-hook"),
		EventSourceArn: src.StreamARN, StartingPosition: types.EventSourcePositionLatest}); !errors.As(err, &conflict) {
		t.Fatalf("second mapping: %v, want ResourceConflictException", err)
	}

	// 300 records over 10 keys, one of them poison.
	const n = 300
	put := func(from, to int) {
		var entries []ktypes.PutRecordsRequestEntry
		for i := from; i < to; i++ {
			d := strconv.Itoa(i)
			if i == 123 {
				d = "poison"
			}
			entries = append(entries, ktypes.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprintf("k%d", i%10)), Data: []byte(d)})
		}
		out, err := k.c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("esm-src"), Records: entries})
		if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
			t.Fatalf("PutRecords: %v", err)
		}
	}
	put(0, 150)
	pollUntil(ctx, t, "a first part delivered", func() (bool, string) {
		return received() >= 50, fmt.Sprintf("%d records", received())
	})
	k.srv.Kill9(t)
	k.restart(t)
	c = k.srv.Lambda(t)
	put(150, n)
	pollUntil(ctx, t, "every record but the poison one", func() (bool, string) {
		return received() == n-1, fmt.Sprintf("%d of %d records", received(), n-1)
	})
	mu.Lock()
	for key, ns := range got {
		// At least once: a restart may deliver again from the last
		// checkpoint, so a key's numbers go back at most once.
		backs := 0
		for i := 1; i < len(ns); i++ {
			if ns[i] <= ns[i-1] {
				backs++
			}
		}
		if backs > 1 {
			t.Errorf("key %s went back %d times: %v", key, backs, ns)
		}
	}
	mu.Unlock()

	// The poison record alone was reported to the on-failure stream.
	var report struct {
		RequestContext struct {
			Condition string `json:"condition"`
		} `json:"requestContext"`
		KinesisBatchInfo struct {
			StartSequenceNumber string `json:"startSequenceNumber"`
			EndSequenceNumber   string `json:"endSequenceNumber"`
			BatchSize           int    `json:"batchSize"`
			StreamArn           string `json:"streamArn"`
		} `json:"KinesisBatchInfo"`
	}
	pollUntil(ctx, t, "the poison record's report", func() (bool, string) {
		it, err := k.c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("esm-dlq"),
			ShardId: aws.String("shardId-000000000000"), ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			return false, err.Error()
		}
		out, err := k.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil || len(out.Records) == 0 {
			return false, fmt.Sprintf("no report yet (%v)", err)
		}
		return json.Unmarshal(out.Records[0].Data, &report) == nil, string(out.Records[0].Data)
	})
	if report.RequestContext.Condition != "RetryAttemptsExhausted" || report.KinesisBatchInfo.BatchSize != 1 ||
		report.KinesisBatchInfo.StartSequenceNumber != report.KinesisBatchInfo.EndSequenceNumber ||
		report.KinesisBatchInfo.StreamArn != aws.ToString(src.StreamARN) {
		t.Fatalf("report %+v", report)
	}

	g, err := c.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: uuid})
	if err != nil || aws.ToString(g.State) != "Enabled" || aws.ToString(g.FunctionArn) != "arn:aws:lambda:us-east-1:000000000000:function:esm-hook" {
		t.Fatalf("get after the restart: %v %+v", err, g)
	}
	list, err := c.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String("esm-hook")})
	if err != nil || len(list.EventSourceMappings) != 1 || aws.ToString(list.EventSourceMappings[0].UUID) != aws.ToString(uuid) {
		t.Fatalf("list: %v %+v", err, list)
	}
	d, err := c.DeleteEventSourceMapping(ctx, &lambda.DeleteEventSourceMappingInput{UUID: uuid})
	if err != nil || aws.ToString(d.State) != "Deleting" {
		t.Fatalf("delete: %v %+v", err, d)
	}
	var gone *types.ResourceNotFoundException
	pollUntil(ctx, t, "the mapping to go", func() (bool, string) {
		_, err := c.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: uuid})
		return errors.As(err, &gone), fmt.Sprint(err)
	})
}
