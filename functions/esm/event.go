package esm

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"

	"github.com/spatehq/spate/shard"
)

// The aws:kinesis event, member for member in the order Lambda writes it
// (the example in Lambda's "Using Lambda with Kinesis" guide):
//
//	{"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"1",
//	  "sequenceNumber":"4959...","data":"SGVsbG8=","approximateArrivalTimestamp":1545084650.987},
//	  "eventSource":"aws:kinesis","eventVersion":"1.0",
//	  "eventID":"shardId-000000000006:4959...","eventName":"aws:kinesis:record",
//	  "invokeIdentityArn":"arn:aws:iam::123456789012:role/lambda-role",
//	  "awsRegion":"us-east-2","eventSourceARN":"arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"}]}
//
// A tumbling-window mapping's event adds window, state, shardId,
// eventSourceARN, isFinalInvokeForWindow and isWindowTerminatedEarly after
// Records (KinesisTimeWindowEvent).

type kinesisEvent struct {
	Records []eventRecord `json:"Records"`
}

type windowEvent struct {
	Records                 []eventRecord   `json:"Records"`
	Window                  eventWindow     `json:"window"`
	State                   json.RawMessage `json:"state"`
	ShardID                 string          `json:"shardId"`
	EventSourceARN          string          `json:"eventSourceARN"`
	IsFinalInvokeForWindow  bool            `json:"isFinalInvokeForWindow"`
	IsWindowTerminatedEarly bool            `json:"isWindowTerminatedEarly"`
}

type eventWindow struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type eventRecord struct {
	Kinesis           kinesisRecord `json:"kinesis"`
	EventSource       string        `json:"eventSource"`
	EventVersion      string        `json:"eventVersion"`
	EventID           string        `json:"eventID"`
	EventName         string        `json:"eventName"`
	InvokeIdentityArn string        `json:"invokeIdentityArn"`
	AwsRegion         string        `json:"awsRegion"`
	EventSourceARN    string        `json:"eventSourceARN"`
}

type kinesisRecord struct {
	KinesisSchemaVersion        string       `json:"kinesisSchemaVersion"`
	PartitionKey                string       `json:"partitionKey"`
	SequenceNumber              string       `json:"sequenceNumber"`
	Data                        []byte       `json:"data"` // base64, as encoding/json writes []byte
	ApproximateArrivalTimestamp epochSeconds `json:"approximateArrivalTimestamp"`
}

// epochSeconds is a time written as seconds since the epoch with
// millisecond decimals (1545084650.987), as Lambda writes arrival times;
// formatted from integer milliseconds so no float rounding shows.
type epochSeconds time.Time

func (t epochSeconds) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	sec, frac := ms/1000, ms%1000
	if frac < 0 {
		sec, frac = sec-1, frac+1000
	}
	b := strconv.AppendInt(nil, sec, 10)
	b = append(b, '.')
	f := strconv.Itoa(int(frac))
	for len(f) < 3 {
		f = "0" + f
	}
	return append(b, f...), nil
}

// eventSource is what every record of a mapping's events shares.
type eventSource struct {
	identityARN string
	region      string
	streamARN   string
	shardID     string
}

func (es eventSource) record(r shard.Record) eventRecord {
	return eventRecord{
		Kinesis: kinesisRecord{
			KinesisSchemaVersion: "1.0", PartitionKey: r.PartitionKey, SequenceNumber: r.SequenceNumber,
			Data: r.Data, ApproximateArrivalTimestamp: epochSeconds(r.ArrivalTime),
		},
		EventSource: "aws:kinesis", EventVersion: "1.0",
		EventID: es.shardID + ":" + r.SequenceNumber, EventName: "aws:kinesis:record",
		InvokeIdentityArn: es.identityARN, AwsRegion: es.region, EventSourceARN: es.streamARN,
	}
}

func (es eventSource) records(recs []shard.Record) []eventRecord {
	out := make([]eventRecord, len(recs))
	for i, r := range recs {
		out[i] = es.record(r)
	}
	return out
}

// event returns the aws:kinesis event of a batch.
func (es eventSource) event(recs []shard.Record) []byte {
	b, _ := jsonMarshal(kinesisEvent{Records: es.records(recs)}) // plain data always encodes
	return b
}

// windowEvent returns the event of a tumbling-window invocation.
func (es eventSource) windowEvent(recs []shard.Record, startMs int64, width time.Duration, state json.RawMessage, final, early bool) []byte {
	if len(state) == 0 {
		state = json.RawMessage("{}")
	}
	start := time.UnixMilli(startMs).UTC()
	b, _ := jsonMarshal(windowEvent{
		Records: es.records(recs),
		Window:  eventWindow{Start: start.Format(time.RFC3339), End: start.Add(width).Format(time.RFC3339)},
		State:   state, ShardID: es.shardID, EventSourceARN: es.streamARN,
		IsFinalInvokeForWindow: final, IsWindowTerminatedEarly: early,
	})
	return b
}

// recordSize bounds the bytes a record adds to an event, so a batch stays
// under Lambda's 6 MB payload limit.
func (es eventSource) recordSize(r shard.Record) int {
	const fixed = 300 // member names, constants, timestamp, separators
	return fixed + base64.StdEncoding.EncodedLen(len(r.Data)) + 2*len(r.PartitionKey) + 2*len(r.SequenceNumber) +
		len(es.shardID) + len(es.identityARN) + len(es.region) + len(es.streamARN)
}

// jsonMarshal encodes v as Lambda's (Jackson's) serializer does: without
// escaping <, > and & in strings.
func jsonMarshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// The invocation record Lambda sends to an on-failure destination for a
// stream source ("Retaining records of asynchronous invocations" /
// "Kinesis on-failure destinations"):
//
//	{"requestContext":{"requestId":"...","functionArn":"...","condition":"RetryAttemptsExhausted","approximateInvokeCount":1},
//	 "responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},
//	 "version":"1.0","timestamp":"2019-11-14T00:13:49.717Z",
//	 "KinesisBatchInfo":{"shardId":"shardId-000000000001","startSequenceNumber":"...","endSequenceNumber":"...",
//	   "approximateArrivalOfFirstRecord":"2019-11-14T00:12:32.717Z","approximateArrivalOfLastRecord":"...",
//	   "batchSize":500,"streamArn":"arn:aws:kinesis:..."}}

// Conditions of an invocation record.
const (
	ConditionRetriesExhausted = "RetryAttemptsExhausted"
	ConditionRecordAge        = "RecordAgeExceeded"
)

type invocationRecord struct {
	RequestContext  requestContext  `json:"requestContext"`
	ResponseContext responseContext `json:"responseContext"`
	Version         string          `json:"version"`
	Timestamp       string          `json:"timestamp"`
	BatchInfo       batchInfo       `json:"KinesisBatchInfo"`
	// Payload is the failed batch's event, for S3 destinations only (as
	// AWS sends the whole invocation to S3; destination.NeedsPayload).
	Payload json.RawMessage `json:"payload,omitempty"`
}

type requestContext struct {
	RequestID              string `json:"requestId"`
	FunctionArn            string `json:"functionArn"`
	Condition              string `json:"condition"`
	ApproximateInvokeCount int    `json:"approximateInvokeCount"`
}

type responseContext struct {
	StatusCode      int    `json:"statusCode"`
	ExecutedVersion string `json:"executedVersion"`
	FunctionError   string `json:"functionError"`
}

type batchInfo struct {
	ShardID                         string `json:"shardId"`
	StartSequenceNumber             string `json:"startSequenceNumber"`
	EndSequenceNumber               string `json:"endSequenceNumber"`
	ApproximateArrivalOfFirstRecord string `json:"approximateArrivalOfFirstRecord"`
	ApproximateArrivalOfLastRecord  string `json:"approximateArrivalOfLastRecord"`
	BatchSize                       int    `json:"batchSize"`
	StreamArn                       string `json:"streamArn"`
}

// isoMillis formats t as Lambda does in invocation records.
func isoMillis(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// response is what a stream function may answer: batch item failures
// (ReportBatchItemFailures) and a tumbling window's state.
type response struct {
	BatchItemFailures []struct {
		ItemIdentifier *string `json:"itemIdentifier"`
	} `json:"batchItemFailures"`
	State json.RawMessage `json:"state"`
}
