package firehoseapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/firehose"
)

// fakeService stands in for the methods a test sets; the others are nil
// and panic if called.
type fakeService struct {
	deliveryStreams
	describe func(ctx context.Context, name string) (firehose.DeliveryStreamDescription, error)
	batch    func(ctx context.Context, name string, records [][]byte) (firehose.PutRecordBatchOutput, error)
}

func (f *fakeService) DescribeDeliveryStream(ctx context.Context, name string) (firehose.DeliveryStreamDescription, error) {
	return f.describe(ctx, name)
}

func (f *fakeService) PutRecordBatch(ctx context.Context, name string, records [][]byte) (firehose.PutRecordBatchOutput, error) {
	return f.batch(ctx, name, records)
}

func TestDescribeDestinationsPaging(t *testing.T) {
	created := time.UnixMilli(1700000000123).UTC()
	fs := &fakeService{describe: func(context.Context, string) (firehose.DeliveryStreamDescription, error) {
		return firehose.DeliveryStreamDescription{
			DeliveryStreamName: "s", DeliveryStreamARN: "arn", DeliveryStreamStatus: "ACTIVE", DeliveryStreamType: "KinesisStreamAsSource",
			VersionId: "3", CreateTimestamp: created,
			Source: &firehose.SourceDescription{KinesisStreamSourceDescription: &firehose.KinesisStreamSourceDescription{
				KinesisStreamARN: "karn", DeliveryStartTimestamp: created}},
			Destinations: []firehose.DestinationDescription{{DestinationId: "d-1"}, {DestinationId: "d-2"}, {DestinationId: "d-3"}},
		}, nil
	}}
	c := newTestServer(t, newHandler(fs))
	tests := []struct {
		name string
		req  map[string]any
		want string
	}{
		{"all", map[string]any{"DeliveryStreamName": "s"},
			`{"DeliveryStreamDescription":{"DeliveryStreamName":"s","DeliveryStreamARN":"arn","DeliveryStreamStatus":"ACTIVE",` +
				`"DeliveryStreamType":"KinesisStreamAsSource","VersionId":"3","CreateTimestamp":1700000000.123,` +
				`"Source":{"KinesisStreamSourceDescription":{"KinesisStreamARN":"karn","DeliveryStartTimestamp":1700000000.123}},` +
				`"Destinations":[{"DestinationId":"d-1"},{"DestinationId":"d-2"},{"DestinationId":"d-3"}],"HasMoreDestinations":false}}`},
		{"limit", map[string]any{"DeliveryStreamName": "s", "Limit": 2}, `"Destinations":[{"DestinationId":"d-1"},{"DestinationId":"d-2"}],"HasMoreDestinations":true}}`},
		{"after", map[string]any{"DeliveryStreamName": "s", "ExclusiveStartDestinationId": "d-1", "Limit": 2}, `"Destinations":[{"DestinationId":"d-2"},{"DestinationId":"d-3"}],"HasMoreDestinations":false}}`},
		{"after the last", map[string]any{"DeliveryStreamName": "s", "ExclusiveStartDestinationId": "d-3"}, `"Destinations":[],"HasMoreDestinations":false}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.Call("DescribeDeliveryStream", tt.req)
			if r.Status != 200 || !strings.HasSuffix(r.Raw, tt.want) {
				t.Errorf("reply\n got: %s\nwant suffix: %s", r.Raw, tt.want)
			}
		})
	}
	c.FailsWith("DescribeDeliveryStream", map[string]any{"DeliveryStreamName": "s", "Limit": 0}, 400, "InvalidArgumentException",
		"Value '0' at 'Limit' failed to satisfy constraint: Member must have value greater than or equal to 1")
}

func TestPutRecordBatchPerRecordFailures(t *testing.T) {
	fs := &fakeService{batch: func(_ context.Context, _ string, records [][]byte) (firehose.PutRecordBatchOutput, error) {
		out := firehose.PutRecordBatchOutput{}
		for i, r := range records {
			if string(r) == "b" {
				out.FailedPutCount++
				out.RequestResponses = append(out.RequestResponses, firehose.PutRecordBatchEntry{ErrorCode: "ServiceUnavailableException", ErrorMessage: "slow down"})
				continue
			}
			out.RequestResponses = append(out.RequestResponses, firehose.PutRecordBatchEntry{RecordId: string(rune('0' + i))})
		}
		return out, nil
	}}
	c := newTestServer(t, newHandler(fs))
	r := c.Call("PutRecordBatch", map[string]any{"DeliveryStreamName": "s", "Records": []map[string]any{{"Data": b64("a")}, {"Data": b64("b")}, {"Data": b64("c")}}})
	want := `{"FailedPutCount":1,"Encrypted":false,"RequestResponses":[{"RecordId":"0"},` +
		`{"ErrorCode":"ServiceUnavailableException","ErrorMessage":"slow down"},{"RecordId":"2"}]}`
	if r.Status != 200 || r.Raw != want {
		t.Errorf("PutRecordBatch reply\n got: %s\nwant: %s", r.Raw, want)
	}
}

func TestServiceFailures(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		out        firehose.PutRecordBatchOutput
		wantStatus int
		wantType   string
	}{
		{"API error", apierr.New(apierr.ResourceNotFound, "Firehose s under account 0 not found."), firehose.PutRecordBatchOutput{}, 400, "ResourceNotFoundException"},
		{"internal error", errors.New("disk on fire"), firehose.PutRecordBatchOutput{}, 500, "InternalFailure"},
		{"too few results", nil, firehose.PutRecordBatchOutput{}, 500, "InternalFailure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := &fakeService{batch: func(context.Context, string, [][]byte) (firehose.PutRecordBatchOutput, error) { return tt.out, tt.err }}
			c := newTestServer(t, newHandler(fs, WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))))
			r := c.Call("PutRecordBatch", map[string]any{"DeliveryStreamName": "s", "Records": []map[string]any{{"Data": ""}}})
			if r.Status != tt.wantStatus || r.ErrType() != tt.wantType || strings.Contains(r.Raw, "fire") {
				t.Errorf("got %d %s, want %d %s", r.Status, r.Raw, tt.wantStatus, tt.wantType)
			}
		})
	}
}

// TestDescribeDeliveryErrors: the last delivery errors go out as
// SpateDeliveryErrors, timestamps in epoch seconds like every other, and
// the member is absent when there are none.
func TestDescribeDeliveryErrors(t *testing.T) {
	at := time.UnixMilli(1700000000500).UTC()
	var errs []firehose.DeliveryError
	fs := &fakeService{describe: func(context.Context, string) (firehose.DeliveryStreamDescription, error) {
		return firehose.DeliveryStreamDescription{DeliveryStreamName: "s", DeliveryErrors: errs}, nil
	}}
	c := newTestServer(t, newHandler(fs))
	if r := c.Call("DescribeDeliveryStream", map[string]any{"DeliveryStreamName": "s"}); strings.Contains(r.Raw, "SpateDeliveryErrors") {
		t.Errorf("reply without errors names SpateDeliveryErrors: %s", r.Raw)
	}
	errs = []firehose.DeliveryError{{Timestamp: at, FirstTimestamp: at.Add(-time.Second), Destination: "S3",
		ErrorCode: "S3.NoSuchBucket", ErrorMessage: "no bucket", Count: 4}}
	r := c.Call("DescribeDeliveryStream", map[string]any{"DeliveryStreamName": "s"})
	want := `"SpateDeliveryErrors":[{"Timestamp":1700000000.500,"FirstTimestamp":1699999999.500,"Destination":"S3","ErrorCode":"S3.NoSuchBucket","ErrorMessage":"no bucket","Count":4}]`
	if r.Status != 200 || !strings.Contains(r.Raw, want) {
		t.Errorf("reply\n got: %s\nwant: %s", r.Raw, want)
	}
}
