package kinesisapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/shard"
)

// putRecordsBody is a PutRecords request of n records of size bytes each.
func putRecordsBody(n, size int) []byte {
	data := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{'x'}, size))
	var b bytes.Buffer
	b.WriteString(`{"StreamName":"bench","Records":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"Data":"%s","PartitionKey":"partition-key-%d"}`, data, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// BenchmarkPutRecordsDecode measures the hot path of the JSON API: decoding
// and validating a PutRecords request of 500 records of 100 bytes.
//
//   - handler: what the handler does (the one-pass fast path, then the
//     model validator);
//   - encoding/json+validate: the general path every other request takes;
//   - map[string]any: decoding alone into a generic map (json.Decoder with
//     UseNumber), the first half of the decode-twice alternative, for
//     comparison.
func BenchmarkPutRecordsDecode(b *testing.B) {
	body := putRecordsBody(500, 100)
	for _, bc := range []struct {
		name string
		fast bool
	}{{"handler", true}, {"encoding/json+validate", false}} {
		h := build(nil, bc.fast)
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.Decode("PutRecords", body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("map[string]any", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			var m map[string]any
			if err := dec.Decode(&m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkGetRecordsEncode measures encoding a GetRecords reply of 1000
// records of 100 bytes.
func BenchmarkGetRecordsEncode(b *testing.B) {
	out := shard.GetRecordsOutput{NextIterator: "iterator", Records: make([]shard.Record, 1000)}
	for i := range out.Records {
		out.Records[i] = shard.Record{
			SequenceNumber: fmt.Sprintf("%056d", i), ArrivalTime: time.UnixMilli(1700000000000 + int64(i)),
			PartitionKey: fmt.Sprintf("partition-key-%d", i), Data: bytes.Repeat([]byte{'x'}, 100),
		}
	}
	h := newHandler(&fakeStore{getRecords: func(_ context.Context, _ string, _ int) (shard.GetRecordsOutput, error) { return out, nil }})
	in := &getRecordsRequest{ShardIterator: new("iterator")}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		reply, err := h.getRecords(b.Context(), in)
		if err != nil {
			b.Fatal(err)
		}
		buf.Reset()
		if err := awsproto.Encode(&buf, reply); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(buf.Len()))
	}
}

// BenchmarkPutRecordsEncode measures encoding a PutRecords reply of 500
// results.
func BenchmarkPutRecordsEncode(b *testing.B) {
	reply := putRecordsReply{Records: make([]putRecordsResult, 500), EncryptionType: encryptionNone}
	for i := range reply.Records {
		reply.Records[i] = putRecordsResult{SequenceNumber: fmt.Sprintf("49%054d", i), ShardID: "shardId-000000000003"}
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := awsproto.Encode(&buf, reply); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(buf.Len()))
	}
}

// BenchmarkNewHandler measures loading the embedded model and binding every
// action, the cost of NewHandler.
func BenchmarkNewHandler(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		newHandler(nil)
	}
}
