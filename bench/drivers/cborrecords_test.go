package drivers

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/spatehq/spate/api/awsproto"
)

// TestCBORRecordsReplyDecode: the fast decoder reads every member of every
// record as fxamacker/cbor does (the reference), from the replies Spate
// writes and from ones it does not (extra members, null iterator, a
// member given twice and indefinite lengths, which the fast path leaves to
// the reference).
func TestCBORRecordsReplyDecode(t *testing.T) {
	ms := time.Date(2026, 12, 7, 21, 0, 0, 123e6, time.UTC).UnixMilli()
	record := func(dst []byte, seq, key string, data []byte, enc bool) []byte {
		n := 4
		if enc {
			n++
		}
		dst = awsproto.AppendCBORMap(dst, n)
		dst = awsproto.AppendCBORText(dst, "SequenceNumber")
		dst = awsproto.AppendCBORText(dst, seq)
		dst = awsproto.AppendCBORText(dst, "ApproximateArrivalTimestamp")
		dst = awsproto.AppendCBORTime(dst, time.UnixMilli(ms))
		dst = awsproto.AppendCBORText(dst, "Data")
		dst = awsproto.AppendCBORBytes(dst, data)
		dst = awsproto.AppendCBORText(dst, "PartitionKey")
		dst = awsproto.AppendCBORText(dst, key)
		if enc {
			dst = awsproto.AppendCBORText(dst, "EncryptionType")
			dst = awsproto.AppendCBORText(dst, "KMS")
		}
		return dst
	}
	// Spate's form: Records, then NextShardIterator and MillisBehindLatest.
	spate := func(it bool, extra func([]byte) []byte) []byte {
		n := 3
		if extra != nil {
			n++
		}
		b := awsproto.AppendCBORMap(nil, n)
		b = awsproto.AppendCBORText(b, "Records")
		b = awsproto.AppendCBORArray(b, 3)
		b = record(b, "49500000000000000000000000000000000000000000000000000001", "pk-1", []byte("hello"), false)
		b = record(b, "49500000000000000000000000000000000000000000000000000002", "clé", nil, true)
		b = record(b, "49500000000000000000000000000000000000000000000000000003", "k", make([]byte, 300), false)
		b = awsproto.AppendCBORText(b, "NextShardIterator")
		if it {
			b = awsproto.AppendCBORText(b, "AAAAiterator")
		} else {
			b = append(b, 0xf6)
		}
		b = awsproto.AppendCBORText(b, "MillisBehindLatest")
		b = awsproto.AppendCBORInt(b, 1234)
		if extra != nil {
			b = extra(b)
		}
		return b
	}
	childShards := func(b []byte) []byte {
		b = awsproto.AppendCBORText(b, "ChildShards")
		c, err := cbor.Marshal([]map[string]any{{"ShardId": "shardId-000000000004", "ParentShards": []string{"a", "b"},
			"HashKeyRange": map[string]string{"StartingHashKey": "0", "EndingHashKey": "9"}}})
		if err != nil {
			t.Fatal(err)
		}
		return append(b, c...)
	}
	unknownMember, err := cbor.Marshal(map[string]any{"Records": []map[string]any{{"SequenceNumber": "1",
		"ApproximateArrivalTimestamp": cbor.Tag{Number: 1, Content: ms}, "Data": []byte("x"), "PartitionKey": "k",
		"Later": map[string]any{"a": []any{1, -2, "x", nil, true, 2.5}}}}})
	if err != nil {
		t.Fatal(err)
	}
	empty := awsproto.AppendCBORMap(nil, 2)
	empty = awsproto.AppendCBORText(empty, "Records")
	empty = awsproto.AppendCBORArray(empty, 0)
	empty = awsproto.AppendCBORText(empty, "NextShardIterator")
	empty = awsproto.AppendCBORText(empty, "it")
	indefinite := append([]byte{0xbf}, empty[1:]...) // the same map, indefinite length
	indefinite = append(indefinite, 0xff)
	twice := awsproto.AppendCBORMap(nil, 2) // Records twice: the last one counts
	twice = awsproto.AppendCBORText(twice, "Records")
	twice = awsproto.AppendCBORArray(twice, 1)
	twice = record(twice, "1", "a", []byte("first"), false)
	twice = awsproto.AppendCBORText(twice, "Records")
	twice = awsproto.AppendCBORArray(twice, 1)
	twice = record(twice, "2", "b", []byte("second"), false)
	for _, tc := range []struct {
		name string
		body []byte
		fast bool
	}{
		{"spate's reply", spate(true, nil), true},
		{"closed shard: null iterator, child shards", spate(false, childShards), true},
		{"no records", empty, true},
		{"a member added later, in a record", unknownMember, true},
		{"records given twice", twice, false},
		{"indefinite-length map", indefinite, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want cborGetRecordsOut
			if err := replyDecMode.Unmarshal(tc.body, &want); err != nil {
				t.Fatal(err)
			}
			got := cborRecordsReply{body: tc.body}
			p := cborParser{b: tc.body}
			fastErr := got.decodeFast(&p)
			if fast := fastErr == nil && p.off == len(p.b); fast != tc.fast {
				t.Errorf("fast path taken: %v (%v), want %v", fast, fastErr, tc.fast)
			}
			if err := got.decode(); err != nil {
				t.Fatal(err)
			}
			checkSameReply(t, &got, &want)
		})
	}
	t.Run("malformed", func(t *testing.T) {
		b := spate(true, nil)
		for _, cut := range []int{1, 10, len(b) / 2, len(b) - 1} {
			d := cborRecordsReply{body: b[:cut]}
			if err := d.decode(); err == nil {
				t.Errorf("a reply cut at %d of %d bytes decoded", cut, len(b))
			}
		}
	})
}

// checkSameReply fails t unless got holds what the reference decoded.
func checkSameReply(t testing.TB, got *cborRecordsReply, want *cborGetRecordsOut) {
	t.Helper()
	if len(got.Records) != len(want.Records) {
		t.Fatalf("%d records, want %d", len(got.Records), len(want.Records))
	}
	for i, w := range want.Records {
		g := got.Records[i]
		if string(g.SequenceNumber) != w.SequenceNumber || string(g.PartitionKey) != w.PartitionKey ||
			string(g.Data) != string(w.Data) || string(g.EncryptionType) != w.EncryptionType ||
			g.ArrivalMs != w.ApproximateArrivalTimestamp.unixMilli() {
			t.Errorf("record %d = %+v, want %+v", i, g, w)
		}
	}
	if !reflect.DeepEqual(got.NextShardIterator, want.NextShardIterator) || got.MillisBehindLatest != want.MillisBehindLatest {
		t.Errorf("iterator %v, behind %d; want %v, %d", got.NextShardIterator, got.MillisBehindLatest,
			want.NextShardIterator, want.MillisBehindLatest)
	}
}

// TestCBORRecordsReplyReadTrustsNoLength: the reply's Content-Length comes
// from the wire; a false one, however large, sizes no buffer beyond what is
// read (it made a slice of its size, and panicked for one past memory).
func TestCBORRecordsReplyReadTrustsNoLength(t *testing.T) {
	body := awsproto.AppendCBORMap(nil, 1)
	body = awsproto.AppendCBORText(body, "MillisBehindLatest")
	body = awsproto.AppendCBORInt(body, 7)
	for _, size := range []int64{-1, 0, 3, int64(len(body)), 1 << 40, 1<<63 - 1} {
		var d cborRecordsReply
		if err := d.read(bytes.NewReader(body), size); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if d.MillisBehindLatest != 7 {
			t.Errorf("size %d: behind %d, want 7", size, d.MillisBehindLatest)
		}
		if c := cap(d.body); c > maxReplyPrealloc+1 {
			t.Errorf("size %d: a buffer of %d bytes for a body of %d", size, c, len(body))
		}
	}
}
