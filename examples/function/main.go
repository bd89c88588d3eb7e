// Command function is a Lambda handler for Kinesis events, written with
// aws-lambda-go as for AWS Lambda, that runs unchanged on Spate: mapped to
// a stream (an event source mapping), it copies each record it is given to
// an output and fails on a poison record, so that Spate's retries,
// bisection and on-failure destinations can be watched at work.
//
// Configuration (the function's environment variables):
//
//	OUTPUT_STREAM         a Spate (Kinesis) stream each record is put to, with
//	                      its partition key, through AWS_ENDPOINT_URL (which
//	                      Spate sets to itself)
//	OUTPUT_FILE           a file each record is appended to as one JSON line:
//	                      {"partitionKey","sequenceNumber","data"}
//	POISON                a record whose data is exactly this fails
//	REPORT_ITEM_FAILURES  "1": report the poison record in batchItemFailures
//	                      (for a mapping with ReportBatchItemFailures) instead
//	                      of failing the whole batch
//	DELAY                 a Go duration each invocation waits after writing,
//	                      before it returns: a slow handler, so that an
//	                      instance can be killed in the middle of a batch
//
// Without REPORT_ITEM_FAILURES a batch holding the poison fails whole and
// writes nothing (the retry writes it again); with it, the records before
// the poison are written and the poison and those after it are reported
// (Lambda resumes from the first failed item).
//
// Mapped with TumblingWindowInSeconds, it aggregates instead: it counts each
// window's records in the state Lambda carries from one invocation of the
// window to the next, and on the window's final invocation writes one
// record, keyed by the shard id, whose data is
// {"window":START,"shardId":ID,"count":N}. Build it as README.md says.
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
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// PoisonRecordError fails a batch: its name is the errorType Lambda
// reports (and an on-failure destination records).
type PoisonRecordError struct {
	SequenceNumber string
	PartitionKey   string
}

func (e *PoisonRecordError) Error() string {
	return fmt.Sprintf("poison record %s (partition key %q)", e.SequenceNumber, e.PartitionKey)
}

type handler struct {
	poison       string
	reportItems  bool
	outputStream string
	outputFile   string
	delay        time.Duration
	kinesis      *kinesis.Client
}

func newHandler() (*handler, error) {
	delay, err := parseDelay(os.Getenv("DELAY"))
	if err != nil {
		return nil, err
	}
	h := &handler{
		delay:        delay,
		poison:       os.Getenv("POISON"),
		reportItems:  os.Getenv("REPORT_ITEM_FAILURES") == "1",
		outputStream: os.Getenv("OUTPUT_STREAM"),
		outputFile:   os.Getenv("OUTPUT_FILE"),
	}
	if h.outputStream != "" {
		// Configured by hand from the environment Lambda (and Spate)
		// gives a handler, so the example needs no more than the
		// Kinesis client.
		opts := kinesis.Options{
			Region: os.Getenv("AWS_REGION"),
			Credentials: credentials.NewStaticCredentialsProvider(
				envOr("AWS_ACCESS_KEY_ID", "spate"), envOr("AWS_SECRET_ACCESS_KEY", "spate"), os.Getenv("AWS_SESSION_TOKEN")),
		}
		if u := os.Getenv("AWS_ENDPOINT_URL"); u != "" {
			opts.BaseEndpoint = aws.String(u)
		}
		h.kinesis = kinesis.New(opts)
	}
	return h, nil
}

func parseDelay(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("DELAY: %w", err)
	}
	return d, nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// handle takes both kinds of event: a tumbling window's carries a window.
func (h *handler) handle(ctx context.Context, e events.KinesisTimeWindowEvent) (any, error) {
	if e.Window.Start.IsZero() {
		return h.batch(ctx, e.KinesisEvent)
	}
	return h.window(ctx, e)
}

func (h *handler) batch(ctx context.Context, e events.KinesisEvent) (events.KinesisEventResponse, error) {
	good := e.Records
	// An empty list, not null: Lambda takes either as success, but an
	// empty list says it plainly.
	resp := events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{}}
	for i, r := range e.Records {
		if h.poison == "" || string(r.Kinesis.Data) != h.poison {
			continue
		}
		if !h.reportItems {
			return resp, &PoisonRecordError{SequenceNumber: r.Kinesis.SequenceNumber, PartitionKey: r.Kinesis.PartitionKey}
		}
		good = e.Records[:i]
		resp.BatchItemFailures = []events.KinesisBatchItemFailure{{ItemIdentifier: r.Kinesis.SequenceNumber}}
		break
	}
	if err := h.write(ctx, good); err != nil {
		return events.KinesisEventResponse{}, err
	}
	fmt.Printf("processed %d of %d records\n", len(good), len(e.Records))
	if h.delay > 0 {
		select {
		case <-time.After(h.delay):
		case <-ctx.Done():
			return events.KinesisEventResponse{}, ctx.Err()
		}
	}
	return resp, nil
}

// window counts a tumbling window's records; its final invocation writes
// the count.
func (h *handler) window(ctx context.Context, e events.KinesisTimeWindowEvent) (events.KinesisTimeWindowEventResponse, error) {
	n, _ := strconv.Atoi(e.State["count"]) // a new window's state is empty: 0
	n += len(e.Records)
	if e.IsFinalInvokeForWindow {
		summary, err := json.Marshal(map[string]any{"window": e.Window.Start, "shardId": e.ShardID, "count": n})
		if err != nil {
			return events.KinesisTimeWindowEventResponse{}, err
		}
		out := events.KinesisEventRecord{Kinesis: events.KinesisRecord{PartitionKey: e.ShardID, Data: summary}}
		if err := h.write(ctx, []events.KinesisEventRecord{out}); err != nil {
			return events.KinesisTimeWindowEventResponse{}, err
		}
		fmt.Printf("window %s of %s: %d records\n", e.Window.Start, e.ShardID, n)
	}
	return events.KinesisTimeWindowEventResponse{
		TimeWindowEventResponseProperties: events.TimeWindowEventResponseProperties{State: map[string]string{"count": strconv.Itoa(n)}},
		BatchItemFailures:                 []events.KinesisBatchItemFailure{},
	}, nil
}

func (h *handler) write(ctx context.Context, records []events.KinesisEventRecord) error {
	if h.outputFile != "" {
		if err := h.appendFile(records); err != nil {
			return err
		}
	}
	if h.kinesis != nil {
		return h.putRecords(ctx, records)
	}
	return nil
}

func (h *handler) appendFile(records []events.KinesisEventRecord) error {
	var buf []byte
	for _, r := range records {
		line, err := json.Marshal(map[string]string{
			"partitionKey":   r.Kinesis.PartitionKey,
			"sequenceNumber": r.Kinesis.SequenceNumber,
			"data":           string(r.Kinesis.Data),
		})
		if err != nil {
			return err
		}
		buf = append(append(buf, line...), '\n')
	}
	f, err := os.OpenFile(h.outputFile, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(buf); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// putRecords copies records to the output stream, 500 (the PutRecords
// limit) at a time; a record the stream refused fails the batch, which is
// then retried whole.
func (h *handler) putRecords(ctx context.Context, records []events.KinesisEventRecord) error {
	for len(records) > 0 {
		n := min(len(records), 500)
		entries := make([]types.PutRecordsRequestEntry, n)
		for i, r := range records[:n] {
			entries[i] = types.PutRecordsRequestEntry{Data: r.Kinesis.Data, PartitionKey: aws.String(r.Kinesis.PartitionKey)}
		}
		out, err := h.kinesis.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(h.outputStream), Records: entries})
		if err != nil {
			return fmt.Errorf("put records to %s: %w", h.outputStream, err)
		}
		if c := aws.ToInt32(out.FailedRecordCount); c > 0 {
			return fmt.Errorf("put records to %s: %d of %d refused", h.outputStream, c, n)
		}
		records = records[n:]
	}
	return nil
}

func main() {
	h, err := newHandler()
	if err != nil {
		// Before lambda.Start this fails the instance's init, which
		// Lambda (and Spate) report as the invocation's error.
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(h.handle)
}
