package grpcapi

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// TestPreencoded: a reply encoded straight from the store's records is, byte
// for byte, what proto.Marshal writes for its other fields and then for the
// same records built as messages (encodeRecords), and it decodes to that
// reply.
func TestPreencoded(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	for _, tc := range []struct {
		name string
		recs []shard.Record
	}{
		{"none", nil},
		{"one", []shard.Record{{SequenceNumber: "49590338271490256608559692538361571095921575989136588802", ArrivalTime: at, Data: []byte("hello"), PartitionKey: "k"}}},
		{"encrypted", []shard.Record{{SequenceNumber: "1", ArrivalTime: at, Data: []byte("x"), PartitionKey: "k", Encrypted: true}}},
		{"empty data", []shard.Record{{SequenceNumber: "1", ArrivalTime: at, Data: []byte{}, PartitionKey: "k"}, {SequenceNumber: "2", ArrivalTime: at, PartitionKey: "k"}}},
		{"no arrival time", []shard.Record{{SequenceNumber: "1", Data: []byte("x"), PartitionKey: "k"}}},
		{"whole second", []shard.Record{{SequenceNumber: "1", ArrivalTime: at.Truncate(time.Second), Data: []byte("x"), PartitionKey: "k"}}},
		{"the epoch", []shard.Record{{SequenceNumber: "1", ArrivalTime: time.UnixMilli(0), Data: []byte("x"), PartitionKey: "k"}, {SequenceNumber: "2", ArrivalTime: time.UnixMilli(5), Data: []byte("x"), PartitionKey: "k"}}},
		{"before the epoch", []shard.Record{{SequenceNumber: "1", ArrivalTime: time.UnixMilli(-1500), Data: []byte("x"), PartitionKey: "k"}}},
		{"large", []shard.Record{{SequenceNumber: "1", ArrivalTime: at, Data: bytes.Repeat([]byte("d"), 1<<20+3), PartitionKey: strings.Repeat("p", 256)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := &spatev1.GetRecordsResponse{Records: encodeRecords(tc.recs), NextShardIterator: "it", MillisBehindLatest: 7}
			wantRecords, err := proto.MarshalOptions{Deterministic: true}.Marshal(&spatev1.GetRecordsResponse{Records: want.Records})
			if err != nil {
				t.Fatal(err)
			}
			head := &spatev1.GetRecordsResponse{NextShardIterator: "it", MillisBehindLatest: 7}
			wantHead, err := proto.Marshal(head)
			if err != nil {
				t.Fatal(err)
			}
			got, err := preencoded(head, tc.recs, new(spatev1.GetRecordsResponse))
			if err != nil {
				t.Fatal(err)
			}
			if raw := got.ProtoReflect().GetUnknown(); !bytes.Equal(raw, append(wantHead, wantRecords...)) {
				t.Fatalf("encoded %x, proto.Marshal %x then %x", raw, wantHead, wantRecords)
			}
			// Through the codec, which sends such a message's bytes as they are.
			out, err := protoCodec{NewBufferPool()}.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			wire := out.Materialize()
			out.Free()
			decoded := new(spatev1.GetRecordsResponse)
			if err := proto.Unmarshal(wire, decoded); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(decoded, want) {
				t.Fatalf("decoded %v, want %v", decoded, want)
			}
		})
	}
}
