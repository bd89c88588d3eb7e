package kinesisapi

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/api/awsproto/awsprototest"
	"github.com/spatehq/spate/shard"
)

// BenchmarkWireFormat serves the two hot requests whole (envelope, decode,
// validation, the action on a fake store, the encoded reply) in AWS JSON
// and in AWS CBOR: PutRecords of 500 records of 100 bytes, GetRecords of
// 10,000 records of 100 bytes. getrecords-cbor-transcoded is the GetRecords
// reply encoded without its CBORAppender (JSON, then transcoded by the
// model), the path every other reply takes.
func BenchmarkWireFormat(b *testing.B) {
	putJSON := putRecordsBody(500, 100)
	recs := make([]any, 500)
	for i := range recs {
		recs[i] = map[string]any{"Data": bytes.Repeat([]byte{'x'}, 100), "PartitionKey": fmt.Sprintf("partition-key-%d", i)}
	}
	putCBOR, err := awsprototest.EncodeCBOR(map[string]any{"StreamName": "bench", "Records": recs})
	if err != nil {
		b.Fatal(err)
	}
	out := shard.GetRecordsOutput{NextIterator: "iterator", Records: make([]shard.Record, 10000)}
	for i := range out.Records {
		out.Records[i] = shard.Record{
			SequenceNumber: fmt.Sprintf("%056d", i), ArrivalTime: time.UnixMilli(1700000000000 + int64(i)),
			PartitionKey: fmt.Sprintf("partition-key-%d", i), Data: bytes.Repeat([]byte{'x'}, 100),
		}
	}
	store := ackStore()
	store.getRecords = func(context.Context, string, int) (shard.GetRecordsOutput, error) { return out, nil }
	h := newHandler(store)
	getCBOR, err := awsprototest.EncodeCBOR(map[string]any{"ShardIterator": "iterator"})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name, action, ct string
		body             []byte
	}{
		{"putrecords-json", "PutRecords", awsproto.ContentType, putJSON},
		{"putrecords-cbor", "PutRecords", awsproto.CBORContentType, putCBOR},
		{"getrecords-json", "GetRecords", awsproto.ContentType, []byte(`{"ShardIterator":"iterator"}`)},
		{"getrecords-cbor", "GetRecords", awsproto.CBORContentType, getCBOR},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:4567/", bytes.NewReader(bc.body))
				r.Header.Set("X-Amz-Target", TargetPrefix+"."+bc.action)
				r.Header.Set("Content-Type", bc.ct)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
				n = len(bc.body) + w.Body.Len()
			}
			b.SetBytes(int64(n))
		})
	}
	b.Run("getrecords-cbor-transcoded", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			reply, err := h.getRecords(b.Context(), &getRecordsRequest{ShardIterator: new("iterator")})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := h.TranscodeToCBOR("GetRecords", reply.AppendJSON(nil)); err != nil {
				b.Fatal(err)
			}
			reply.Release()
		}
	})
}

// BenchmarkPutRecordsReplyCBOR measures encoding a PutRecords reply of 500
// results (sequence number and shard each), as JSON and as CBOR.
func BenchmarkPutRecordsReplyCBOR(b *testing.B) {
	h := newHandler(nil)
	reply := putRecordsReply{Records: make([]putRecordsResult, 500), EncryptionType: encryptionNone}
	for i := range reply.Records {
		reply.Records[i] = putRecordsResult{SequenceNumber: fmt.Sprintf("49%054d", i), ShardID: "shardId-000000000003"}
	}
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			if err := awsproto.Encode(&buf, reply); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cbor", func(b *testing.B) { // the reply's own encoder, as the handler calls it
		b.ReportAllocs()
		buf := make([]byte, 0, 64<<10)
		for b.Loop() {
			if _, ok := reply.AppendCBOR(buf[:0]); !ok {
				b.Fatal("not appended")
			}
		}
	})
	b.Run("cbor-transcoded", func(b *testing.B) { // JSON, then the model-driven transcoding
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			if err := awsproto.Encode(&buf, reply); err != nil {
				b.Fatal(err)
			}
			if _, err := h.TranscodeToCBOR("PutRecords", buf.Bytes()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
