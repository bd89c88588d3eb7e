package kinesisapi

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/api/awsproto/awsprototest"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/shard"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden CBOR files in testdata/cbor")

// golden compares b with testdata/cbor/name, or writes it there with
// -update. A mismatch is shown in CBOR's diagnostic notation.
func golden(t *testing.T, name string, b []byte) {
	t.Helper()
	path := filepath.Join("testdata", "cbor", name)
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(b, want) {
		got, _ := cbor.Diagnose(b)
		exp, _ := cbor.Diagnose(want)
		t.Fatalf("%s differs\n got: %s\nwant: %s", name, got, exp)
	}
}

func cborOf(t *testing.T, v any) []byte {
	t.Helper()
	b, err := awsprototest.EncodeCBOR(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// epochMillis is AWS CBOR's timestamp as awsprototest.DecodeCBOR shows it.
func epochMillis(ms uint64) cbor.Tag { return cbor.Tag{Number: 1, Content: ms} }

// TestCBORGolden pins the bytes of requests as the AWS SDK for Java sends
// them and of Spate's replies, for the actions the Java clients (the KCL,
// the KPL) use most, and checks what they mean.
func TestCBORGolden(t *testing.T) {
	h := newHandler(nil)
	at := time.UnixMilli(1700000000123)
	created := time.UnixMilli(1699999999000)
	tests := []struct {
		name    string
		action  string
		request any
		wantIn  any // the decoded request
		reply   any
		wantOut map[string]any // the reply as awsprototest.DecodeCBOR reads it
	}{
		{name: "PutRecord", action: "PutRecord",
			request: map[string]any{"StreamName": "s", "PartitionKey": "k", "Data": []byte("hello")},
			wantIn:  &putRecordRequest{streamRef: streamRef{StreamName: new("s")}, PartitionKey: new("k"), Data: awsproto.Blob("hello")},
			reply:   putRecordReply{ShardID: "shardId-000000000000", SequenceNumber: "49650000000000000000000000000000000000000000000000000002", EncryptionType: "NONE"},
			wantOut: map[string]any{"ShardId": "shardId-000000000000", "SequenceNumber": "49650000000000000000000000000000000000000000000000000002", "EncryptionType": "NONE"}},
		{name: "PutRecords", action: "PutRecords",
			request: map[string]any{"StreamName": "s", "Records": []any{
				map[string]any{"PartitionKey": "a", "Data": []byte{0, 1, 2}},
				map[string]any{"PartitionKey": "b", "Data": []byte{}, "ExplicitHashKey": "0"},
			}},
			wantIn: &putRecordsRequest{streamRef: streamRef{StreamName: new("s")}, Records: []putRecordsEntry{
				{PartitionKey: new("a"), Data: awsproto.Blob{0, 1, 2}},
				{PartitionKey: new("b"), Data: awsproto.Blob{}, ExplicitHashKey: new("0")},
			}},
			reply: putRecordsReply{FailedRecordCount: 1, Records: []putRecordsResult{
				{SequenceNumber: "1", ShardID: "shardId-000000000000"},
				{ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: "slow down"},
			}, EncryptionType: "NONE"},
			wantOut: map[string]any{"FailedRecordCount": uint64(1), "Records": []any{
				map[string]any{"SequenceNumber": "1", "ShardId": "shardId-000000000000"},
				map[string]any{"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow down"},
			}, "EncryptionType": "NONE"}},
		{name: "GetShardIterator-AT_TIMESTAMP", action: "GetShardIterator",
			request: map[string]any{"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": at},
			wantIn: &getShardIteratorRequest{streamRef: streamRef{StreamName: new("s")}, ShardID: new("shardId-000000000000"),
				ShardIteratorType: new("AT_TIMESTAMP"), Timestamp: new(awsproto.EpochSeconds(at))},
			reply:   getShardIteratorReply{ShardIterator: "AAAA"},
			wantOut: map[string]any{"ShardIterator": "AAAA"}},
		{name: "GetRecords", action: "GetRecords",
			request: map[string]any{"ShardIterator": "AAAA", "Limit": 100},
			wantIn:  &getRecordsRequest{ShardIterator: new("AAAA"), Limit: new(int32(100))},
			reply: getRecordsReply{Records: blockOf([]recordOut{
				{SequenceNumber: "1", ApproximateArrivalTimestamp: awsproto.EpochSeconds(at), Data: []byte("hello"), PartitionKey: "k"},
			}), NextShardIterator: "BBBB", MillisBehindLatest: 0},
			wantOut: map[string]any{"Records": []any{map[string]any{
				"SequenceNumber": "1", "ApproximateArrivalTimestamp": epochMillis(1700000000123), "Data": []byte("hello"), "PartitionKey": "k",
			}}, "NextShardIterator": "BBBB", "MillisBehindLatest": uint64(0)}},
		{name: "DescribeStreamSummary", action: "DescribeStreamSummary",
			request: map[string]any{"StreamName": "s"},
			wantIn:  &describeStreamSummaryRequest{streamRef: streamRef{StreamName: new("s")}},
			reply: describeStreamSummaryReply{StreamDescriptionSummary: streamDescriptionSummary{
				StreamName: "s", StreamARN: "arn:aws:kinesis:us-east-1:000000000000:stream/s", StreamStatus: "ACTIVE",
				StreamModeDetails: &streamModeDetails{StreamMode: "PROVISIONED"}, RetentionPeriodHours: 24,
				StreamCreationTimestamp: awsproto.EpochSeconds(created), EnhancedMonitoring: []enhancedMetrics{{ShardLevelMetrics: []string{}}},
				EncryptionType: "NONE", OpenShardCount: 1,
			}},
			wantOut: map[string]any{"StreamDescriptionSummary": map[string]any{
				"StreamName": "s", "StreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/s", "StreamStatus": "ACTIVE",
				"StreamModeDetails": map[string]any{"StreamMode": "PROVISIONED"}, "RetentionPeriodHours": uint64(24),
				"StreamCreationTimestamp": epochMillis(1699999999000),
				"EnhancedMonitoring":      []any{map[string]any{"ShardLevelMetrics": []any{}}},
				"EncryptionType":          "NONE", "OpenShardCount": uint64(1), "ConsumerCount": uint64(0),
			}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := cborOf(t, tt.request)
			golden(t, tt.name+".request.cbor", req)
			in, err := h.DecodeCBOR(tt.action, req)
			if err != nil {
				t.Fatalf("DecodeCBOR: %v", err)
			}
			if !reflect.DeepEqual(in, tt.wantIn) {
				t.Errorf("decoded %+v, want %+v", in, tt.wantIn)
			}
			out, err := h.EncodeCBOR(tt.action, tt.reply)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".response.cbor", out)
			got, err := awsprototest.DecodeCBOR(out)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.wantOut) {
				t.Errorf("reply %#v\nwant %#v", got, tt.wantOut)
			}
		})
	}
	t.Run("error", func(t *testing.T) {
		c := newTestServer(t, NewHandler(nil))
		r := c.CallCBOR("DescribeStreamSummary", map[string]any{"StreamName": "a b"})
		golden(t, "error.response.cbor", []byte(r.Raw))
		if r.Status != 400 || r.ErrType() != "ValidationException" || !strings.HasPrefix(r.Message(), "1 validation error detected") {
			t.Fatalf("got %d %v", r.Status, r.Body)
		}
	})
}

// TestGetRecordsAppendCBOR checks that the reply's own CBOR encoder writes
// what the model-driven transcoding of its JSON gives.
func TestGetRecordsAppendCBOR(t *testing.T) {
	h := newHandler(nil)
	at := awsproto.EpochSeconds(time.UnixMilli(1700000000123))
	tests := []struct {
		name     string
		reply    getRecordsReply
		appended bool
	}{
		{"empty", getRecordsReply{Records: blockOf([]recordOut{}), NextShardIterator: "it"}, true},
		{"plain", getRecordsReply{Records: blockOf([]recordOut{
			{SequenceNumber: "49" + strings.Repeat("0", 54), ApproximateArrivalTimestamp: at, Data: []byte("hello"), PartitionKey: "k-1"},
			{SequenceNumber: "2", ApproximateArrivalTimestamp: awsproto.EpochSeconds(time.UnixMilli(-1500)), Data: []byte{}, PartitionKey: "日本 \" \\"},
			{SequenceNumber: "3", ApproximateArrivalTimestamp: at, Data: make([]byte, 70000), PartitionKey: strings.Repeat("p", 256)},
		}), NextShardIterator: "AAAA-_", MillisBehindLatest: 12345}, true},
		{"encrypted", getRecordsReply{Records: blockOf([]recordOut{
			{SequenceNumber: "1", ApproximateArrivalTimestamp: at, Data: []byte("sealed at rest"), PartitionKey: "k", EncryptionType: "KMS"},
			{SequenceNumber: "2", ApproximateArrivalTimestamp: at, Data: []byte("clear"), PartitionKey: "k"},
		}), NextShardIterator: "it"}, true},
		{"nil data, no iterator", getRecordsReply{Records: blockOf([]recordOut{{SequenceNumber: "1", ApproximateArrivalTimestamp: at, PartitionKey: "k"}}), MillisBehindLatest: -1}, true},
		{"invalid UTF-8 is left to the transcoding", getRecordsReply{Records: blockOf([]recordOut{
			{SequenceNumber: "1", ApproximateArrivalTimestamp: at, Data: []byte("d"), PartitionKey: "bad \xff"}})}, false},
		{"child shards are left to the transcoding", getRecordsReply{Records: blockOf([]recordOut{}),
			ChildShards: []childShardOut{{ShardID: "shardId-000000000002", ParentShards: []string{"shardId-000000000000"}, HashKeyRange: hashKeyRange{StartingHashKey: "0", EndingHashKey: "9"}}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := h.TranscodeToCBOR("GetRecords", tt.reply.AppendJSON(nil))
			if err != nil {
				t.Fatal(err)
			}
			got, ok := tt.reply.AppendCBOR(nil)
			if ok != tt.appended {
				t.Fatalf("AppendCBOR appended = %v, want %v", ok, tt.appended)
			}
			if ok && !bytes.Equal(got, want) {
				g, _ := cbor.Diagnose(got)
				w, _ := cbor.Diagnose(want)
				t.Fatalf("AppendCBOR\n got: %s\nwant: %s", g, w)
			}
			if n := tt.reply.JSONLen(); ok && n < len(got) {
				t.Errorf("JSONLen = %d, shorter than the %d CBOR bytes written", n, len(got))
			}
		})
	}
}

// TestCBORRoundTrip drives a store over CBOR as the Java SDK does: byte
// strings in and out, timestamps as tag 1 milliseconds both ways, errors
// in CBOR.
func TestCBORRoundTrip(t *testing.T) {
	c := newStoreServer(t, nil)
	ok := func(action string, body any) map[string]any {
		t.Helper()
		r := c.CallCBOR(action, body)
		if r.Status != 200 {
			t.Fatalf("%s: %d %v", action, r.Status, r.Body)
		}
		return r.Body
	}
	before := uint64(time.Now().Add(-time.Second).UnixMilli())
	ok("CreateStream", map[string]any{"StreamName": "s", "ShardCount": 1})
	sum := ok("DescribeStreamSummary", map[string]any{"StreamName": "s"})["StreamDescriptionSummary"].(map[string]any)
	if ts, isTag := sum["StreamCreationTimestamp"].(cbor.Tag); !isTag || ts.Number != 1 || ts.Content.(uint64) < before {
		t.Fatalf("StreamCreationTimestamp = %#v, want tag 1 with milliseconds", sum["StreamCreationTimestamp"])
	}
	data := []byte{0, 0xff, 'h', 'i'}
	ok("PutRecord", map[string]any{"StreamName": "s", "PartitionKey": "k", "Data": data})
	ok("PutRecords", map[string]any{"StreamName": "s", "Records": []any{map[string]any{"PartitionKey": "k", "Data": []byte("two")}}})
	it := ok("GetShardIterator", map[string]any{"StreamName": "s", "ShardId": "shardId-000000000000",
		"ShardIteratorType": "AT_TIMESTAMP", "Timestamp": time.UnixMilli(int64(before))})["ShardIterator"]
	got := ok("GetRecords", map[string]any{"ShardIterator": it})
	recs := got["Records"].([]any)
	if len(recs) != 2 {
		t.Fatalf("GetRecords = %v, want 2 records", got)
	}
	r0 := recs[0].(map[string]any)
	if !bytes.Equal(r0["Data"].([]byte), data) {
		t.Errorf("Data = %x, want %x", r0["Data"], data)
	}
	if ts := r0["ApproximateArrivalTimestamp"].(cbor.Tag); ts.Number != 1 || ts.Content.(uint64) < before || ts.Content.(uint64) > uint64(time.Now().Add(time.Second).UnixMilli()) {
		t.Errorf("ApproximateArrivalTimestamp = %#v, want tag 1 with milliseconds of now", ts)
	}
	r := c.CallCBOR("DescribeStream", map[string]any{"StreamName": "nope"})
	if r.Status != 400 || r.ErrType() != string(apierr.ResourceNotFound) || r.Message() == "" {
		t.Fatalf("missing stream: %d %v", r.Status, r.Body)
	}
}

// FuzzDecodeCBOR feeds arbitrary CBOR bodies to every action's decoder and
// validator, as FuzzDecodeRequest does JSON ones: never a panic, and a
// body is either a request or the client's fault.
func FuzzDecodeCBOR(f *testing.F) {
	h := newHandler(nil)
	actions := h.Actions()
	seeds := map[string][]any{
		"PutRecords": {
			map[string]any{"StreamName": "s", "Records": []any{map[string]any{"Data": []byte{1}, "PartitionKey": "k", "ExplicitHashKey": "12"}}},
			map[string]any{"StreamName": "s", "Records": []any{nil, 1, map[string]any{"Data": "AA=="}}},
		},
		"PutRecord":        {map[string]any{"StreamName": "s", "Data": []byte("hi"), "PartitionKey": "k"}},
		"GetShardIterator": {map[string]any{"StreamName": "s", "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": time.UnixMilli(1700000000123)}},
		"ListShards":       {map[string]any{"StreamName": "s", "ShardFilter": map[string]any{"Type": "AT_TIMESTAMP", "Timestamp": cbor.Tag{Number: 1, Content: 1.5e12}}}},
		"CreateStream":     {map[string]any{"StreamName": "s", "ShardCount": 2, "Tags": map[string]any{"k": "v"}}},
		"DescribeStream":   {map[string]any{"StreamName": "s", "Limit": int64(1) << 40}},
	}
	for i, a := range actions {
		for _, s := range seeds[a] {
			b, err := awsprototest.EncodeCBOR(s)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint8(i), b)
		}
	}
	f.Add(uint8(0), []byte{0xbf, 0x61, 'x', 0x9f, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, action uint8, body []byte) {
		name := actions[int(action)%len(actions)]
		in, err := h.DecodeCBOR(name, body)
		if err != nil {
			if code := apierr.CodeOf(err); code != apierr.Serialization && code != apierr.Validation && code != apierr.InvalidArgument {
				t.Fatalf("%s: %x rejected as %s: %v", name, body, code, err)
			}
			return
		}
		if in == nil {
			t.Fatalf("%s: no error and no request", name)
		}
	})
}

// TestPutRecordsAppendCBOR checks the reply's own CBOR encoder against the
// model-driven transcoding of its encoding/json form.
func TestPutRecordsAppendCBOR(t *testing.T) {
	h := newHandler(nil)
	tests := []struct {
		name  string
		reply putRecordsReply
	}{
		{"nil records", putRecordsReply{}},
		{"mixed", putRecordsReply{FailedRecordCount: 1, EncryptionType: encryptionNone, Records: []putRecordsResult{
			{SequenceNumber: "49" + strings.Repeat("0", 54), ShardID: "shardId-000000000000"},
			{ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: "Rate exceeded for shard shardId-000000000000 日本"},
			{},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var js bytes.Buffer
			if err := awsproto.Encode(&js, tt.reply); err != nil {
				t.Fatal(err)
			}
			want, err := h.TranscodeToCBOR("PutRecords", js.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			got, ok := tt.reply.AppendCBOR(nil)
			if !ok || !bytes.Equal(got, want) {
				g, _ := cbor.Diagnose(got)
				w, _ := cbor.Diagnose(want)
				t.Fatalf("AppendCBOR (%v)\n got: %s\nwant: %s", ok, g, w)
			}
		})
	}
}

// TestCBORAppendersKnowEveryField fails when a field is added to a reply
// that encodes itself (AppendJSON, AppendCBOR) or to its elements: teach
// the encoders the field, then update the counts here.
func TestCBORAppendersKnowEveryField(t *testing.T) {
	for _, tc := range []struct {
		typ    reflect.Type
		fields int
	}{
		{reflect.TypeFor[putRecordsReply](), 3},
		{reflect.TypeFor[putRecordsResult](), 4},
		{reflect.TypeFor[getRecordsReply](), 6}, // with src, the read budget, and blocks, the pool
		{reflect.TypeFor[subscribeToShardEvent](), 4},
		{reflect.TypeFor[shard.RecordView](), 8}, // recordBlock.AppendRecord's input
	} {
		if n := tc.typ.NumField(); n != tc.fields {
			t.Errorf("%s has %d fields; its AppendCBOR (and AppendJSON) know %d", tc.typ, n, tc.fields)
		}
	}
}
