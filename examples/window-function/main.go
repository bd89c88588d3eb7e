// Command window-function is a Lambda handler for a Kinesis event source
// mapping with tumbling windows (TumblingWindowInSeconds), written with
// aws-lambda-go as for AWS Lambda: it sums the records' values per window
// and shard, keeping the running sum in the state Lambda passes from one
// invocation of a window to the next, and on the window's final invocation
// puts the total to an output stream.
//
// A record's data is JSON with a number "v": {"v": 3}; records without one
// count as 0. The state is {"sum": "N", "count": "C"} (aws-lambda-go's
// state is a map of strings). On the final invocation the handler puts
//
//	{"shardId": ..., "start": ..., "end": ..., "sum": N, "count": C}
//
// to OUTPUT_STREAM with the shard id as partition key, through
// AWS_ENDPOINT_URL (which Spate sets to itself).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// Total is what the handler writes when a window closes.
type Total struct {
	ShardID string    `json:"shardId"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Sum     int64     `json:"sum"`
	Count   int64     `json:"count"`
}

type handler struct {
	outputStream string
	kinesis      *kinesis.Client
}

func newHandler() (*handler, error) {
	h := &handler{outputStream: os.Getenv("OUTPUT_STREAM")}
	if h.outputStream == "" {
		return nil, fmt.Errorf("OUTPUT_STREAM is not set")
	}
	opts := kinesis.Options{
		Region: os.Getenv("AWS_REGION"),
		Credentials: credentials.NewStaticCredentialsProvider(
			envOr("AWS_ACCESS_KEY_ID", "spate"), envOr("AWS_SECRET_ACCESS_KEY", "spate"), os.Getenv("AWS_SESSION_TOKEN")),
	}
	if u := os.Getenv("AWS_ENDPOINT_URL"); u != "" {
		opts.BaseEndpoint = aws.String(u)
	}
	h.kinesis = kinesis.New(opts)
	return h, nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func (h *handler) handle(ctx context.Context, e events.KinesisTimeWindowEvent) (events.KinesisTimeWindowEventResponse, error) {
	// A window's first invocation has no state; a malformed state is an
	// error rather than a silent restart from 0.
	sum, err := stateInt(e.State, "sum")
	if err != nil {
		return events.KinesisTimeWindowEventResponse{}, err
	}
	count, err := stateInt(e.State, "count")
	if err != nil {
		return events.KinesisTimeWindowEventResponse{}, err
	}
	for _, r := range e.Records {
		var v struct {
			V int64 `json:"v"`
		}
		// Data that is not JSON counts as 0, like data without "v".
		_ = json.Unmarshal(r.Kinesis.Data, &v)
		sum += v.V
		count++
	}
	var resp events.KinesisTimeWindowEventResponse
	resp.State = map[string]string{"sum": strconv.FormatInt(sum, 10), "count": strconv.FormatInt(count, 10)}
	if e.IsFinalInvokeForWindow {
		t := Total{ShardID: e.ShardID, Start: e.Window.Start.Time, End: e.Window.End.Time, Sum: sum, Count: count}
		if err := h.put(ctx, t); err != nil {
			return events.KinesisTimeWindowEventResponse{}, err
		}
		fmt.Printf("window %s..%s of %s closed: sum %d over %d records\n", t.Start.Format(time.RFC3339), t.End.Format(time.RFC3339), t.ShardID, sum, count)
	}
	return resp, nil
}

func stateInt(state map[string]string, key string) (int64, error) {
	s, ok := state[key]
	if !ok {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("state %q: %w", key, err)
	}
	return n, nil
}

func (h *handler) put(ctx context.Context, t Total) error {
	data, err := json.Marshal(t)
	if err != nil {
		return err
	}
	_, err = h.kinesis.PutRecord(ctx, &kinesis.PutRecordInput{
		StreamName: aws.String(h.outputStream), PartitionKey: aws.String(t.ShardID), Data: data,
	})
	if err != nil {
		return fmt.Errorf("put the total to %s: %w", h.outputStream, err)
	}
	return nil
}

func main() {
	h, err := newHandler()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(h.handle)
}
