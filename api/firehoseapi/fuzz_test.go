package firehoseapi

import (
	"testing"

	"github.com/spatehq/spate/api/awsproto/awsprototest"
	"github.com/spatehq/spate/apierr"
)

// FuzzDecodeRequest feeds arbitrary bodies to every action's decoder and
// validator. They must never panic, and must either produce a request or
// reject the body as the client's fault (SerializationException, or
// InvalidArgumentException for broken constraints and members Spate does
// not take), never as an internal failure.
func FuzzDecodeRequest(f *testing.F) {
	h := newHandler(nil)
	actions := h.Actions()
	seeds := []struct {
		action string
		body   string
	}{
		{"PutRecordBatch", `{"DeliveryStreamName":"s","Records":[{"Data":"AAE="},{"Data":""}]}`},
		{"PutRecordBatch", `{"DeliveryStreamName":"s","Records":[{"Data":null},{}, 1]}`},
		{"PutRecord", `{"DeliveryStreamName":"s","Record":{"Data":"a\u0047k="}}`},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"s","ExtendedS3DestinationConfiguration":{"RoleARN":"arn:aws:iam::123456789012:role/r","BucketARN":"arn:aws:s3:::b","BufferingHints":{"SizeInMBs":0},"CompressionFormat":"ZSTD","DataFormatConversionConfiguration":{"SchemaConfiguration":{"Columns":"a:int"}}}}`},
		{"CreateDeliveryStream", `{"DeliveryStreamName":"s","RedshiftDestinationConfiguration":{},"Tags":[{"Key":"aws:x"}]}`},
		{"UpdateDestination", `{"DeliveryStreamName":"s","CurrentDeliveryStreamVersionId":"1","DestinationId":"d","ExtendedS3DestinationUpdate":{"S3BackupUpdate":{}}}`},
		{"DescribeDeliveryStream", `{"DeliveryStreamName":"a b","Limit":1e3}`},
		{"ListDeliveryStreams", `null`},
		{"ListTagsForDeliveryStream", `{"Limit":`},
	}
	for _, s := range seeds {
		for i, a := range actions {
			if a == s.action {
				f.Add(uint8(i), []byte(s.body))
			}
		}
	}
	f.Fuzz(func(t *testing.T, action uint8, body []byte) {
		name := actions[int(action)%len(actions)]
		in, err := h.Decode(name, body)
		if err != nil {
			if code := apierr.CodeOf(err); code != apierr.Serialization && code != apierr.InvalidArgument {
				t.Fatalf("%s: %s rejected as %s: %v", name, body, code, err)
			}
			return
		}
		if in == nil {
			t.Fatalf("%s: no error and no request", name)
		}
		awsprototest.CheckNoInventedReplacements(t, body, in)
	})
}

func TestDecodePutRecordBatchFast(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		wantOK bool
	}{
		{"typical", `{"DeliveryStreamName":"s","Records":[{"Data":"AAE="},{"Data":""}]}`, true},
		{"whitespace", " {\n\t\"Records\" : [ { \"Data\" : \"aGk=\" } ] , \"DeliveryStreamName\" : \"s\" } \r\n", true},
		{"empty object", `{}`, true},
		{"empty records", `{"Records":[]}`, true},
		{"empty record", `{"Records":[{}]}`, true},
		{"duplicate member", `{"DeliveryStreamName":"a","DeliveryStreamName":"b","Records":[{"Data":"AA==","Data":"AQ=="}]}`, true},
		{"repeated records", `{"Records":[{"Data":"AA=="}],"Records":[{"Data":"AQ=="}]}`, false},
		{"escape", `{"DeliveryStreamName":"a\u0062"}`, false},
		{"null", `{"DeliveryStreamName":null}`, false},
		{"unknown member", `{"Bogus":"x"}`, false},
		{"unknown record member", `{"Records":[{"Data":"","X":""}]}`, false},
		{"case-folded member", `{"deliverystreamname":"x"}`, false},
		{"bad base64", `{"Records":[{"Data":"abc"}]}`, false},
		{"trailing data", `{} {}`, false},
		{"top-level list", `[]`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := decodePutRecordBatchFast([]byte(tt.body))
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if ok {
				awsprototest.CheckSameAsEncodingJSON(t, []byte(tt.body), got)
			}
		})
	}
}

// FuzzPutRecordBatchFastPath checks the fast path's invariant: whatever it
// accepts, encoding/json decodes to the same request.
func FuzzPutRecordBatchFastPath(f *testing.F) {
	for _, s := range []string{
		`{"DeliveryStreamName":"s","Records":[{"Data":"AAE="},{"Data":""}]}`,
		`{"Records":[{"Data":"AA=="}],"DeliveryStreamName":"ключ😀"}`,
		`{"Records":[{}]}`,
		` { "Records" : [ ] } `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if got, ok := decodePutRecordBatchFast(body); ok {
			awsprototest.CheckSameAsEncodingJSON(t, body, got)
		}
	})
}
