package grpcapi

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// storeRecords is a full GetRecords read of 100-byte records as the store
// returns it.
func storeRecords(n int) []shard.Record {
	recs := make([]shard.Record, n)
	at := time.UnixMilli(1_780_000_000_000)
	for i := range recs {
		recs[i] = shard.Record{
			SequenceNumber: fmt.Sprintf("49%054d", i), ArrivalTime: at,
			Data: bytes.Repeat([]byte{byte(i)}, 100), PartitionKey: fmt.Sprintf("pk-%d", i),
		}
	}
	return recs
}

// BenchmarkGetRecordsReplyMarshal measures the server's side of a GetRecords
// reply of 10,000 records of 100 B: from the store's records to the bytes
// the codec hands gRPC, as messages (encodeRecords, then the codec) and
// encoded straight from the store's read (recordsSink; here from records
// built beforehand, which the store no longer builds).
func BenchmarkGetRecordsReplyMarshal(b *testing.B) {
	recs := storeRecords(10_000)
	codec := protoCodec{pool: NewBufferPool()}
	for _, bc := range []struct {
		name  string
		reply func() *spatev1.GetRecordsResponse
	}{
		{"messages", func() *spatev1.GetRecordsResponse {
			return &spatev1.GetRecordsResponse{Records: encodeRecords(recs), NextShardIterator: "it"}
		}},
		{"direct", func() *spatev1.GetRecordsResponse {
			var sink recordsSink
			sinkRecords(b, &sink, recs, false)
			m, err := finish(&sink, 0, &spatev1.GetRecordsResponse{NextShardIterator: "it"}, new(spatev1.GetRecordsResponse))
			if err != nil {
				b.Fatal(err)
			}
			return m
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out, err := codec.Marshal(bc.reply())
				if err != nil {
					b.Fatal(err)
				}
				out.Free()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/rec")
		})
	}
}

// BenchmarkGetRecordsReplyUnmarshal measures the client's side of a
// GetRecords reply of 10,000 records of 100 B, received in 16 KiB frames:
// into a new GetRecordsResponse (block decoder) and into a reused
// GetRecordsReply.
func BenchmarkGetRecordsReplyUnmarshal(b *testing.B) {
	var sink recordsSink
	sinkRecords(b, &sink, storeRecords(10_000), false)
	m, err := finish(&sink, 0, &spatev1.GetRecordsResponse{NextShardIterator: "it"}, new(spatev1.GetRecordsResponse))
	if err != nil {
		b.Fatal(err)
	}
	in := split(m.ProtoReflect().GetUnknown(), 16<<10)
	codec := protoCodec{pool: NewBufferPool()}
	var reply GetRecordsReply
	for _, bc := range []struct {
		name string
		into func() any
	}{
		{"response", func() any { return new(spatev1.GetRecordsResponse) }},
		{"reply", func() any { return &reply }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := codec.Unmarshal(in, bc.into()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10_000), "ns/record")
		})
	}
}
