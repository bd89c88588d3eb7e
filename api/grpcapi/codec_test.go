package grpcapi

import (
	"bytes"
	"fmt"
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// recordsReply is a GetRecords reply of n records with distinct contents.
func recordsReply(n int) *spatev1.GetRecordsResponse {
	out := &spatev1.GetRecordsResponse{NextShardIterator: "it-next", MillisBehindLatest: 42}
	for i := range n {
		out.Records = append(out.Records, &spatev1.Record{
			SequenceNumber:              fmt.Sprintf("%056d", i),
			ApproximateArrivalTimestamp: timestamppb.New(timestamppb.Now().AsTime().Add(-1e6)),
			Data:                        bytes.Repeat([]byte{byte(i)}, 100),
			PartitionKey:                fmt.Sprintf("key-%d", i),
		})
	}
	return out
}

// split cuts b into frames of at most n bytes, as gRPC hands a message
// received in several HTTP/2 frames to the codec.
func split(b []byte, n int) mem.BufferSlice {
	var out mem.BufferSlice
	for len(b) > 0 {
		k := min(n, len(b))
		out = append(out, mem.SliceBuffer(bytes.Clone(b[:k])))
		b = b[k:]
	}
	return out
}

func TestProtoCodecRoundTrip(t *testing.T) {
	codec := protoCodec{pool: NewBufferPool()}
	for _, tc := range []struct {
		name string
		msg  proto.Message
		new  func() proto.Message
	}{
		// Below gRPC's pooling threshold (1 KiB) and above it, through the
		// generated vtprotobuf code.
		{"small reply", recordsReply(1), func() proto.Message { return new(spatev1.GetRecordsResponse) }},
		{"large reply", recordsReply(2000), func() proto.Message { return new(spatev1.GetRecordsResponse) }},
		{"empty reply", &spatev1.GetRecordsResponse{}, func() proto.Message { return new(spatev1.GetRecordsResponse) }},
		// A message without vtprotobuf code goes through protobuf-go.
		{"reflect", durationpb.New(1234567), func() proto.Message { return new(durationpb.Duration) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := codec.Marshal(tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			wire := data.Materialize()
			data.Free()
			if want, err := proto.Marshal(tc.msg); err != nil || !bytes.Equal(wire, want) {
				t.Fatalf("codec wrote %d bytes that differ from proto.Marshal's %d (err %v)", len(wire), len(want), err)
			}
			for _, frame := range []int{len(wire) + 1, 16 << 10, 1000} {
				got := tc.new()
				in := split(wire, frame)
				if err := codec.Unmarshal(in, got); err != nil {
					t.Fatal(err)
				}
				if !proto.Equal(got, tc.msg) {
					t.Fatalf("frames of %d: decoded message differs from the original", frame)
				}
			}
		})
	}
}

// TestProtoCodecUnmarshalOwnsItsBytes: a decoded message aliases the codec's
// private copy, so neither reusing the received buffers (gRPC returns them
// to its pool) nor decoding another message into a new value changes it;
// and decoding into a used message replaces its contents, as proto.Unmarshal
// does, instead of merging.
func TestProtoCodecUnmarshalOwnsItsBytes(t *testing.T) {
	codec := protoCodec{pool: NewBufferPool()}
	want := recordsReply(50)
	wire, err := proto.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	// One frame (gRPC hands the codec its own pooled buffer) and several
	// (joined into one message).
	for _, frame := range []int{len(wire), 4096} {
		in := split(wire, frame)
		got := new(spatev1.GetRecordsResponse)
		if err := codec.Unmarshal(in, got); err != nil {
			t.Fatal(err)
		}
		for _, b := range in {
			clear(b.ReadOnlyData()) // what reuse of a pooled frame buffer would do
		}
		for range 4 { // what reuse of the codec's own pool would do
			b := codec.pool.Get(len(wire))
			for i := range *b {
				(*b)[i] = 0xff
			}
			codec.pool.Put(b)
		}
		if !proto.Equal(got, want) {
			t.Fatalf("frames of %d: the decoded message changed when buffers were reused", frame)
		}
	}

	// Decoding into a used message.
	used := recordsReply(3)
	one, err := proto.Marshal(recordsReply(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(one)}, used); err != nil {
		t.Fatal(err)
	}
	if len(used.GetRecords()) != 1 {
		t.Fatalf("decoding into a message holding 3 records left %d records, want 1 (the codec merged)", len(used.GetRecords()))
	}
}

func TestProtoCodecRejectsNonProto(t *testing.T) {
	codec := protoCodec{pool: NewBufferPool()}
	if _, err := codec.Marshal("not a message"); err == nil {
		t.Error("Marshal of a string: no error")
	}
	if err := codec.Unmarshal(nil, new(int)); err == nil {
		t.Error("Unmarshal into an *int: no error")
	}
}

func TestBufferPool(t *testing.T) {
	p := NewBufferPool()
	for _, tc := range []struct{ size, wantCap int }{
		{0, 256}, {1, 256}, {256, 256}, {257, 512}, {60_000, 64 << 10},
		{1 << 20, 1 << 20}, {MaxMessageSize, MaxMessageSize}, {MaxMessageSize + 1, MaxMessageSize + 1},
	} {
		b := p.Get(tc.size)
		if len(*b) != tc.size || cap(*b) != tc.wantCap {
			t.Errorf("Get(%d): len %d cap %d, want len %d cap %d", tc.size, len(*b), cap(*b), tc.size, tc.wantCap)
		}
		p.Put(b)
	}
	// A buffer of a capacity the pool does not hand out is dropped rather
	// than pooled, so a later Get never returns one too small for its tier.
	odd := make([]byte, 300)
	p.Put(&odd)
	for range 100 {
		if b := p.Get(400); cap(*b) != 512 {
			t.Fatalf("Get(400) returned capacity %d after Put of a 300-byte buffer", cap(*b))
		}
	}
}
