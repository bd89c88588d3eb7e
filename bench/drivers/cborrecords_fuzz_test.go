package drivers

import (
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/spatehq/spate/api/awsproto"
)

// FuzzCBORRecordsReply: the bench client's hand-written GetRecords decoder
// never panics on any bytes, and makes of them what fxamacker/cbor (the
// reference it falls back to) makes: where the reference decodes a reply,
// the same records, iterator and lag; where the fast path decodes one, the
// reference decodes it too.
func FuzzCBORRecordsReply(f *testing.F) {
	ms := time.Date(2026, 12, 7, 21, 0, 0, 123e6, time.UTC).UnixMilli()
	b := awsproto.AppendCBORMap(nil, 3)
	b = awsproto.AppendCBORText(b, "Records")
	b = awsproto.AppendCBORArray(b, 2)
	for i, key := range []string{"pk-1", "clé"} {
		b = awsproto.AppendCBORMap(b, 5)
		b = awsproto.AppendCBORText(b, "SequenceNumber")
		b = awsproto.AppendCBORText(b, "4950000000000000000000000000000000000000000000000000000"+string(rune('1'+i)))
		b = awsproto.AppendCBORText(b, "ApproximateArrivalTimestamp")
		b = awsproto.AppendCBORTime(b, time.UnixMilli(ms))
		b = awsproto.AppendCBORText(b, "Data")
		b = awsproto.AppendCBORBytes(b, []byte("hello"))
		b = awsproto.AppendCBORText(b, "PartitionKey")
		b = awsproto.AppendCBORText(b, key)
		b = awsproto.AppendCBORText(b, "EncryptionType")
		b = awsproto.AppendCBORText(b, "KMS")
	}
	b = awsproto.AppendCBORText(b, "NextShardIterator")
	b = awsproto.AppendCBORText(b, "AAAAiterator")
	b = awsproto.AppendCBORText(b, "MillisBehindLatest")
	b = awsproto.AppendCBORInt(b, 1234)
	f.Add(b)
	other, err := cbor.Marshal(map[string]any{"Records": []map[string]any{{"SequenceNumber": "1",
		"ApproximateArrivalTimestamp": cbor.Tag{Number: 1, Content: -ms}, "Data": []byte("x"), "PartitionKey": "k",
		"Later": map[string]any{"a": []any{1, -2, "x", nil, true, 2.5, cbor.Tag{Number: 99, Content: "t"}}}}},
		"NextShardIterator": nil, "ChildShards": []any{map[string]any{"ShardId": "s"}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(other)
	f.Add([]byte{0xbf, 0xff})
	f.Fuzz(func(t *testing.T, wire []byte) {
		var want cborGetRecordsOut
		refErr := replyDecMode.Unmarshal(wire, &want)
		p := cborParser{b: wire}
		var fast cborRecordsReply
		fastOK := fast.decodeFast(&p) == nil && p.off == len(p.b)
		if fastOK && refErr != nil {
			t.Fatalf("the fast path decodes what fxamacker/cbor refuses (%v)", refErr)
		}
		got := cborRecordsReply{body: wire}
		err := got.decode()
		if (err == nil) != (refErr == nil) {
			t.Fatalf("decode: %v; fxamacker/cbor: %v", err, refErr)
		}
		if err != nil {
			return
		}
		checkSameReply(t, &got, &want)
	})
}
