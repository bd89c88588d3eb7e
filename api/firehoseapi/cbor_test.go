package firehoseapi

import (
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// Firehose shares awsproto with Kinesis, so it takes AWS CBOR too: a
// delivery stream created, described (timestamps as tag 1 milliseconds) and
// written to (blobs as byte strings) in CBOR, with errors in CBOR.
func TestCBOR(t *testing.T) {
	f := newFixture(t)
	before := uint64(time.Now().Add(-time.Second).UnixMilli())
	ok := func(action string, body map[string]any) map[string]any {
		t.Helper()
		r := f.CallCBOR(action, body)
		if r.Status != 200 {
			t.Fatalf("%s: %d %v", action, r.Status, r.Body)
		}
		return r.Body
	}
	ok("CreateDeliveryStream", map[string]any{"DeliveryStreamName": "orders", "ExtendedS3DestinationConfiguration": f.s3Config(nil)})
	d := ok("DescribeDeliveryStream", map[string]any{"DeliveryStreamName": "orders"})["DeliveryStreamDescription"].(map[string]any)
	if ts, isTag := d["CreateTimestamp"].(cbor.Tag); !isTag || ts.Number != 1 || ts.Content.(uint64) < before {
		t.Errorf("CreateTimestamp = %#v, want tag 1 with milliseconds", d["CreateTimestamp"])
	}
	put := ok("PutRecordBatch", map[string]any{"DeliveryStreamName": "orders", "Records": []any{
		map[string]any{"Data": []byte("one\n")}, map[string]any{"Data": []byte{0, 0xff}},
	}})
	if put["FailedPutCount"] != uint64(0) || len(put["RequestResponses"].([]any)) != 2 {
		t.Errorf("PutRecordBatch = %v", put)
	}
	r := f.CallCBOR("PutRecord", map[string]any{"DeliveryStreamName": "orders", "Record": map[string]any{"Data": "b25l"}})
	if r.Status != 400 || r.ErrType() != "SerializationException" {
		t.Errorf("base64 text as a CBOR blob: %d %v, want SerializationException", r.Status, r.Body)
	}
	r = f.CallCBOR("DescribeDeliveryStream", map[string]any{"DeliveryStreamName": "missing"})
	if r.Status != 400 || r.ErrType() != "ResourceNotFoundException" {
		t.Errorf("missing stream: %d %v", r.Status, r.Body)
	}
}
