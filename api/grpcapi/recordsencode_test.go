package grpcapi

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// seq is a sequence number of the store's length ending in i.
func seq(i int) string { return fmt.Sprintf("49%054d", i) }

// sinkRecords hands recs to s as a store's read does. With tight hints the
// read says each record may be the last, so s grows its buffers at every
// record; otherwise it says all of recs may follow.
func sinkRecords(t testing.TB, s *recordsSink, recs []shard.Record, tight bool) {
	t.Helper()
	for i := range recs {
		r := &recs[i]
		v := shard.RecordView{
			SequenceNumber: []byte(r.SequenceNumber), ArrivalMs: r.ArrivalTime.UnixMilli(),
			PartitionKey: []byte(r.PartitionKey), Data: r.Data, Encrypted: r.Encrypted,
			RecordsLeft: len(recs) - i, BytesLeft: 10 << 20, ValueLen: 9 + len(r.PartitionKey) + len(r.Data),
		}
		if tight {
			v.RecordsLeft, v.BytesLeft = 1, v.ValueLen
		}
		if err := s.AppendRecord(&v); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRecordsSink: a reply encoded straight from the store's read is, byte
// for byte, what proto.Marshal (deterministic) writes for the same reply
// built as messages (encodeRecords), and it decodes to that reply.
func TestRecordsSink(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	children := []shard.ChildShard{{ShardID: "shardId-000000000001", ParentShards: []string{"shardId-000000000000"}, HashKeyRange: shard.HashKeyRange{Start: "0", End: strings.Repeat("9", 38)}}}
	for _, tc := range []struct {
		name     string
		recs     []shard.Record
		children []shard.ChildShard
	}{
		{"none", nil, nil},
		{"one", []shard.Record{{SequenceNumber: "49590338271490256608559692538361571095921575989136588802", ArrivalTime: at, Data: []byte("hello"), PartitionKey: "k"}}, nil},
		{"encrypted", []shard.Record{{SequenceNumber: seq(1), ArrivalTime: at, Data: []byte("x"), PartitionKey: "k", Encrypted: true}}, nil},
		{"empty data", []shard.Record{{SequenceNumber: seq(1), ArrivalTime: at, Data: []byte{}, PartitionKey: "k"}, {SequenceNumber: seq(2), ArrivalTime: at, PartitionKey: "k"}}, nil},
		{"whole second", []shard.Record{{SequenceNumber: seq(1), ArrivalTime: at.Truncate(time.Second), Data: []byte("x"), PartitionKey: "k"}}, nil},
		{"the epoch", []shard.Record{{SequenceNumber: seq(1), ArrivalTime: time.UnixMilli(0).UTC(), Data: []byte("x"), PartitionKey: "k"}, {SequenceNumber: seq(2), ArrivalTime: time.UnixMilli(5).UTC(), Data: []byte("x"), PartitionKey: "k"}}, nil},
		{"before the epoch", []shard.Record{{SequenceNumber: seq(1), ArrivalTime: time.UnixMilli(-1500).UTC(), Data: []byte("x"), PartitionKey: "k"}, {SequenceNumber: seq(2), ArrivalTime: time.UnixMilli(-1000).UTC(), Data: []byte("x"), PartitionKey: "k"}}, nil},
		{"arrival times that change and come back", []shard.Record{
			{SequenceNumber: seq(1), ArrivalTime: at, Data: []byte("x"), PartitionKey: "k"},
			{SequenceNumber: seq(2), ArrivalTime: at, Data: []byte("y"), PartitionKey: "k"},
			{SequenceNumber: seq(3), ArrivalTime: at.Add(time.Millisecond), Data: []byte("z"), PartitionKey: "k"},
			{SequenceNumber: seq(4), ArrivalTime: time.UnixMilli(0).UTC(), Data: []byte("z"), PartitionKey: "k"},
			{SequenceNumber: seq(5), ArrivalTime: at, Data: []byte("z"), PartitionKey: "k"},
		}, nil},
		{"large", []shard.Record{{SequenceNumber: seq(1), ArrivalTime: at, Data: bytes.Repeat([]byte("d"), 1<<20+3), PartitionKey: strings.Repeat("p", 256)}}, nil},
		{"many, keys of several lengths", storeRecords(300), nil},
		{"child shards", []shard.Record{{SequenceNumber: seq(1), ArrivalTime: at, Data: []byte("x"), PartitionKey: "k"}}, children},
		{"child shards, no records", nil, children},
	} {
		for _, tight := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/tight=%v", tc.name, tight), func(t *testing.T) {
				want := &spatev1.GetRecordsResponse{Records: encodeRecords(tc.recs), NextShardIterator: "it", MillisBehindLatest: 7, ChildShards: encodeChildShards(tc.children)}
				wantWire, err := proto.MarshalOptions{Deterministic: true}.Marshal(want)
				if err != nil {
					t.Fatal(err)
				}
				var sink recordsSink
				sinkRecords(t, &sink, tc.recs, tight)
				got, err := finish(&sink, 0, &spatev1.GetRecordsResponse{NextShardIterator: "it", MillisBehindLatest: 7, ChildShards: encodeChildShards(tc.children)}, new(spatev1.GetRecordsResponse))
				if err != nil {
					t.Fatal(err)
				}
				raw := got.ProtoReflect().GetUnknown()
				if !bytes.Equal(raw, wantWire) {
					t.Fatalf("encoded %x, proto.Marshal %x", raw, wantWire)
				}
				if held := sink.HeldBytes(); held < int64(len(raw)-200) {
					t.Errorf("sink holds %d bytes for a reply of %d", held, len(raw))
				}
				// Through the codec, which sends such a message's bytes as they are.
				out, err := protoCodec{pool: NewBufferPool()}.Marshal(got)
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
}

// encodeRecords builds records as messages: the reference that replies
// encoded straight from the store's read (recordsSink) are checked against,
// and what the server did before them.
func encodeRecords(in []shard.Record) []*spatev1.Record {
	out := make([]*spatev1.Record, len(in))
	recs := make([]spatev1.Record, len(in))
	times := make([]timestamppb.Timestamp, len(in))
	for i, r := range in {
		rec := &recs[i]
		rec.SequenceNumber = r.SequenceNumber
		rec.Data = r.Data
		rec.PartitionKey = r.PartitionKey
		if r.Encrypted {
			rec.EncryptionType = shard.EncryptionKMS
		}
		if !r.ArrivalTime.IsZero() {
			ts := &times[i]
			ts.Seconds = r.ArrivalTime.Unix()
			ts.Nanos = int32(r.ArrivalTime.Nanosecond())
			rec.ApproximateArrivalTimestamp = ts
		}
		out[i] = rec
	}
	return out
}
