package grpcapi

import (
	"fmt"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// TestGetRecordsReplyDecode: a GetRecordsReply makes of every input what the
// generated decoder makes of it as a GetRecordsResponse, on the inputs its
// fast path handles and on those it hands to the generated code.
func TestGetRecordsReplyDecode(t *testing.T) {
	for _, tc := range recordsDecodeCases(t) {
		t.Run(tc.name, func(t *testing.T) { checkGetRecordsReply(t, tc.wire) })
	}
	// Its own fields and child shards, which the shared cases barely have.
	wire, err := proto.Marshal(&spatev1.GetRecordsResponse{
		Records:           recordsReply(2).Records,
		NextShardIterator: "next", MillisBehindLatest: 1 << 40,
		ChildShards: []*spatev1.ChildShard{
			{ShardId: "shardId-000000000002", ParentShards: []string{"shardId-000000000000"}, HashKeyRange: &spatev1.HashKeyRange{StartingHashKey: "0", EndingHashKey: "9"}},
			{ShardId: "shardId-000000000003"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("child shards", func(t *testing.T) { checkGetRecordsReply(t, wire) })
}

// checkGetRecordsReply fails t unless a GetRecordsReply accepts wire exactly
// when the generated decoder does, and then holds the same values.
func checkGetRecordsReply(t *testing.T, wire []byte) {
	t.Helper()
	var got GetRecordsReply
	// Read into once before, so that what it held cannot show through.
	if err := got.decode([]byte{0x12, 0x03, 'o', 'l', 'd', 0x18, 0x05, 0x0a, 0x02, 0x0a, 0x00}); err != nil {
		t.Fatal(err)
	}
	gotErr := got.decode(wire)
	want := new(spatev1.GetRecordsResponse)
	wantErr := want.UnmarshalVT(wire)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("%x: error %v, the generated decoder's %v", wire, gotErr, wantErr)
	}
	if wantErr != nil {
		return
	}
	// A RecordView has no unknown fields (a ChildShard keeps them).
	want.ProtoReflect().SetUnknown(nil)
	for _, r := range want.Records {
		r.ProtoReflect().SetUnknown(nil)
		if ts := r.ApproximateArrivalTimestamp; ts != nil {
			ts.ProtoReflect().SetUnknown(nil)
		}
	}
	if m := got.message(); !proto.Equal(m, want) {
		t.Fatalf("%x: decoded %v, the generated decoder %v", wire, m, want)
	}
	for i, v := range got.Records() {
		ts := want.Records[i].GetApproximateArrivalTimestamp()
		if v.HasArrival && !v.ApproximateArrivalTimestamp().Equal(ts.AsTime()) {
			t.Fatalf("%x: record %d arrived at %v, want %v", wire, i, v.ApproximateArrivalTimestamp(), ts.AsTime())
		}
	}
}

// message is r as the GetRecordsResponse it was read from.
func (r *GetRecordsReply) message() *spatev1.GetRecordsResponse {
	m := &spatev1.GetRecordsResponse{NextShardIterator: r.NextShardIterator, MillisBehindLatest: r.MillisBehindLatest, ChildShards: r.ChildShards}
	for _, v := range r.Records() {
		rec := &spatev1.Record{SequenceNumber: v.SequenceNumber, Data: v.Data, PartitionKey: v.PartitionKey, EncryptionType: v.EncryptionType}
		if v.HasArrival {
			rec.ApproximateArrivalTimestamp = &timestamppb.Timestamp{Seconds: v.ArrivalSeconds, Nanos: v.ArrivalNanos}
		}
		m.Records = append(m.Records, rec)
	}
	return m
}

// FuzzGetRecordsReply: a GetRecordsReply, which a client reads a server's
// (a peer's) replies into, never panics and makes of any bytes what the
// generated decoder makes of them: the same error or none, and then the same
// values. A reply read into again holds only the new reply.
func FuzzGetRecordsReply(f *testing.F) {
	for _, tc := range recordsDecodeCases(f) {
		f.Add(tc.wire)
	}
	f.Fuzz(func(t *testing.T, wire []byte) {
		checkGetRecordsReply(t, wire)
	})
}

// TestGetRecordsReplyReused: reading into a reply again replaces everything
// it held, and reuses its buffer and records: a reader of many replies
// allocates only the next iterator's string per reply.
func TestGetRecordsReplyReused(t *testing.T) {
	codec := protoCodec{pool: NewBufferPool()}
	big, err := proto.Marshal(recordsReply(1000))
	if err != nil {
		t.Fatal(err)
	}
	small, err := proto.Marshal(&spatev1.GetRecordsResponse{Records: recordsReply(1).Records,
		ChildShards: []*spatev1.ChildShard{{ShardId: "shardId-000000000001"}}})
	if err != nil {
		t.Fatal(err)
	}
	var r GetRecordsReply
	for _, wire := range [][]byte{big, small, big} {
		if err := codec.Unmarshal(split(wire, 16<<10), &r); err != nil {
			t.Fatal(err)
		}
		want := new(spatev1.GetRecordsResponse)
		if err := want.UnmarshalVT(wire); err != nil {
			t.Fatal(err)
		}
		if m := r.message(); !proto.Equal(m, want) {
			t.Fatalf("read %d records, %d child shards, iterator %q; want %d, %d, %q",
				len(m.Records), len(m.ChildShards), m.NextShardIterator, len(want.Records), len(want.ChildShards), want.NextShardIterator)
		}
	}
	in := split(big, 16<<10)
	allocs := testing.AllocsPerRun(20, func() {
		if err := codec.Unmarshal(in, &r); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Errorf("reading 1000 records into a used reply took %.0f allocations, want at most 1", allocs)
	}
}

// TestGetRecordsReplyOverTheWire: GetRecords into a GetRecordsReply reads
// from a server what the generated client reads, records and iterator.
func TestGetRecordsReplyOverTheWire(t *testing.T) {
	conn, c := serveStream(t, 1, newFakeClock().Option()) // MillisBehindLatest stays the same
	ctx := testContext(t)
	var entries []*spatev1.PutRecordsRequestEntry
	for i := range 300 {
		entries = append(entries, &spatev1.PutRecordsRequestEntry{Data: fmt.Appendf(nil, "record %d", i), PartitionKey: fmt.Sprint(i)})
	}
	if _, err := c.PutRecords(ctx, &spatev1.PutRecordsRequest{StreamName: "s", Records: entries}); err != nil {
		t.Fatal(err)
	}
	it, err := c.GetShardIterator(ctx, &spatev1.GetShardIteratorRequest{StreamName: "s", ShardId: shard.ShardID(0),
		ShardIteratorType: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON})
	if err != nil {
		t.Fatal(err)
	}
	var reply GetRecordsReply
	for _, limit := range []int32{100, 1000} { // a part, then the rest into the same reply
		req := &spatev1.GetRecordsRequest{ShardIterator: it.GetShardIterator(), Limit: limit}
		want, err := c.GetRecords(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if err := GetRecords(ctx, conn, req, &reply); err != nil {
			t.Fatal(err)
		}
		// The iterators name the same position but are not the same
		// string (each carries its own issue time), so compare the
		// records only, then follow the reply's iterator.
		want.NextShardIterator = reply.NextShardIterator
		if m := reply.message(); !proto.Equal(m, want) {
			t.Fatalf("limit %d: read %v, the generated client %v", limit, m, want)
		}
		if reply.NextShardIterator == "" {
			t.Fatal("open shard gave no next iterator")
		}
		it = &spatev1.GetShardIteratorResponse{ShardIterator: reply.NextShardIterator}
	}
	if n := len(reply.Records()); n != 200 {
		t.Errorf("second read got %d records, want 200", n)
	}
}

// serveStream serves a new store with opts, in which it creates stream "s"
// of n shards, over bufconn with ServerOptions, and returns a connection to
// it and a client on it.
func serveStream(t *testing.T, n int, opts ...shard.Option) (*grpc.ClientConn, spatev1.StreamServiceClient) {
	t.Helper()
	store, err := shard.Open(t.TempDir(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	conn := serveBufconn(t, func(gs *grpc.Server) { Register(gs, store) })
	c := spatev1.NewStreamServiceClient(conn)
	if _, err := c.CreateStream(testContext(t), &spatev1.CreateStreamRequest{StreamName: "s", ShardCount: int32(n)}); err != nil {
		t.Fatal(err)
	}
	return conn, c
}
