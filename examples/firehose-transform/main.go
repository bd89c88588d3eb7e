// Command firehose-transform is a Firehose data-transformation Lambda
// handler, written with aws-lambda-go as for AWS Lambda, that runs
// unchanged as a Spate function named by a delivery stream's Lambda
// processor (ProcessingConfiguration). For each record it answers:
//
//   - data beginning with "drop": Dropped (Firehose delivers nothing);
//   - data beginning with "fail": ProcessingFailed (Firehose writes the
//     record to the error output prefix, processing-failed);
//   - anything else: Ok, with the data in upper case.
package main

import (
	"bytes"
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handle(_ context.Context, e events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
	resp := events.KinesisFirehoseResponse{Records: make([]events.KinesisFirehoseResponseRecord, 0, len(e.Records))}
	var ok, dropped, failed int
	for _, r := range e.Records {
		out := events.KinesisFirehoseResponseRecord{RecordID: r.RecordID}
		switch {
		case bytes.HasPrefix(r.Data, []byte("drop")):
			out.Result = events.KinesisFirehoseTransformedStateDropped
			dropped++
		case bytes.HasPrefix(r.Data, []byte("fail")):
			// Firehose keeps the original data of a failed record; the
			// data returned with it is ignored.
			out.Result = events.KinesisFirehoseTransformedStateProcessingFailed
			out.Data = r.Data
			failed++
		default:
			out.Result = events.KinesisFirehoseTransformedStateOk
			out.Data = bytes.ToUpper(r.Data)
			ok++
		}
		resp.Records = append(resp.Records, out)
	}
	fmt.Printf("invocation %s: %d ok, %d dropped, %d failed\n", e.InvocationID, ok, dropped, failed)
	return resp, nil
}

func main() {
	lambda.Start(handle)
}
