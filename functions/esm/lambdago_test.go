package esm

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/spatehq/spate/shard"
)

// The events decode with aws-lambda-go, as handlers built with it read
// them.
func TestEventsDecodeWithAWSLambdaGo(t *testing.T) {
	es := eventSource{identityARN: "arn:aws:iam::000000000000:role/r", region: "us-east-1",
		streamARN: "arn:aws:kinesis:us-east-1:000000000000:stream/s", shardID: "shardId-000000000003"}
	arrived := time.UnixMilli(1700000000123)
	recs := []shard.Record{{SequenceNumber: "49000000000100000000000300000000000000000000000000000007", ArrivalTime: arrived,
		PartitionKey: "pk", Data: []byte{0, 1, 2, 0xff}}}

	var ev events.KinesisEvent
	if err := json.Unmarshal(es.event(recs), &ev); err != nil {
		t.Fatal(err)
	}
	r := ev.Records[0]
	// The arrival time is a float of seconds: exact to the millisecond
	// once rounded.
	if len(ev.Records) != 1 || r.EventSource != "aws:kinesis" || r.EventName != "aws:kinesis:record" || r.EventVersion != "1.0" ||
		r.EventID != "shardId-000000000003:"+recs[0].SequenceNumber || r.EventSourceArn != es.streamARN || r.AwsRegion != "us-east-1" ||
		r.InvokeIdentityArn != es.identityARN || r.Kinesis.PartitionKey != "pk" || r.Kinesis.SequenceNumber != recs[0].SequenceNumber ||
		string(r.Kinesis.Data) != string(recs[0].Data) || r.Kinesis.KinesisSchemaVersion != "1.0" ||
		!r.Kinesis.ApproximateArrivalTimestamp.Time.Round(time.Millisecond).Equal(arrived) {
		t.Fatalf("decoded %+v", r)
	}

	start := time.Date(2026, 12, 7, 21, 0, 0, 0, time.UTC)
	var w events.KinesisTimeWindowEvent
	if err := json.Unmarshal(es.windowEvent(recs, start.UnixMilli(), time.Minute, json.RawMessage(`{"n":"3"}`), false, false), &w); err != nil {
		t.Fatal(err)
	}
	if len(w.Records) != 1 || !w.Window.Start.Equal(start) || !w.Window.End.Equal(start.Add(time.Minute)) || w.State["n"] != "3" ||
		w.ShardID != es.shardID || w.EventSourceARN != es.streamARN || w.IsFinalInvokeForWindow || w.IsWindowTerminatedEarly {
		t.Fatalf("decoded window event %+v", w)
	}

	// What handlers answer decodes here.
	b, _ := json.Marshal(events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{{ItemIdentifier: "42"}}})
	var resp response
	if err := json.Unmarshal(b, &resp); err != nil || len(resp.BatchItemFailures) != 1 || *resp.BatchItemFailures[0].ItemIdentifier != "42" {
		t.Fatalf("KinesisEventResponse %s → %+v, %v", b, resp, err)
	}
	b, _ = json.Marshal(events.KinesisTimeWindowEventResponse{TimeWindowEventResponseProperties: events.TimeWindowEventResponseProperties{State: map[string]string{"n": "4"}}})
	if err := json.Unmarshal(b, &resp); err != nil || string(resp.State) != `{"n":"4"}` {
		t.Fatalf("KinesisTimeWindowEventResponse %s → %s, %v", b, resp.State, err)
	}
}
