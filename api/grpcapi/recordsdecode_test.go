package grpcapi

import (
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// TestDecodeRecordsMessage: the block decoder makes of every input what the
// generated decoder makes of it, on the inputs its fast path handles and on
// those it hands back to the generated code.
func TestDecodeRecordsMessage(t *testing.T) {
	for _, tc := range recordsDecodeCases(t) {
		t.Run(tc.name, func(t *testing.T) { checkDecodeRecordsMessage(t, tc.wire, tc.sub) })
	}
}

// recordsDecodeCase is one input of TestDecodeRecordsMessage, and a seed of
// FuzzDecodeRecordsMessage.
type recordsDecodeCase struct {
	name string
	wire []byte
	sub  bool // decode as a SubscribeResponse
}

func recordsDecodeCases(t testing.TB) []recordsDecodeCase {
	t.Helper()
	marshal := func(m proto.Message) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	rec := func(i int) []byte { return marshal(recordsReply(i + 1).Records[i]) }
	field := func(num protowire.Number, v []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), v)
	}
	cat := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	unknown := protowire.AppendVarint(protowire.AppendTag(nil, 9, protowire.VarintType), 7)
	return []recordsDecodeCase{
		{"reply", marshal(recordsReply(5)), false},
		{"no records", marshal(&spatev1.GetRecordsResponse{NextShardIterator: "x", MillisBehindLatest: 3}), false},
		{"empty", nil, false},
		{"subscribe event", marshal(&spatev1.SubscribeResponse{Records: recordsReply(3).Records, ContinuationSequenceNumber: "9"}), true},
		{"other fields first and between", cat(field(2, []byte("it")), field(1, rec(0)), unknown, field(1, rec(1)), field(2, []byte("it2"))), false},
		{"record without timestamp", cat(field(1, marshal(&spatev1.Record{SequenceNumber: "1", Data: []byte("d")}))), false},
		{"empty record", cat(field(1, nil), field(1, rec(0))), false},
		{"zero timestamp", cat(field(1, marshal(&spatev1.Record{ApproximateArrivalTimestamp: &timestamppb.Timestamp{}}))), false},
		{"timestamp twice, merged", cat(field(1, cat(field(2, marshal(&timestamppb.Timestamp{Seconds: 5})), field(2, marshal(&timestamppb.Timestamp{Nanos: 6}))))), false},
		{"record with an unknown field", cat(field(1, rec(0)), field(1, cat(rec(1), unknown))), false},
		{"timestamp with an unknown field", cat(field(1, field(2, cat(marshal(&timestamppb.Timestamp{Seconds: 5}), unknown)))), false},
		{"record field of the wrong type", cat(field(1, rec(0)), field(1, protowire.AppendVarint(protowire.AppendTag(nil, 3, protowire.VarintType), 1))), false},
		{"records of the wrong type", cat(field(1, rec(0)), protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 1)), false},
		{"truncated", marshal(recordsReply(2))[:150], false},
		{"illegal tag in a record", cat(field(1, []byte{0x00, 0x01})), false},
	}
}

// checkDecodeRecordsMessage fails t unless the block decoder accepts wire
// exactly when the generated decoder does, and then decodes the same value.
func checkDecodeRecordsMessage(t *testing.T, wire []byte, sub bool) {
	t.Helper()
	var got, want vtUnmarshaler
	var m recordsMessage
	if sub {
		g := new(spatev1.SubscribeResponse)
		got, want, m = g, new(spatev1.SubscribeResponse), subscribeReply{g}
	} else {
		g := new(spatev1.GetRecordsResponse)
		got, want, m = g, new(spatev1.GetRecordsResponse), getRecordsReply{g}
	}
	gotErr := decodeRecordsMessage(m, wire)
	wantErr := want.UnmarshalVTUnsafe(wire)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("%x: error %v, the generated decoder's %v", wire, gotErr, wantErr)
	}
	if wantErr == nil && !proto.Equal(got.(proto.Message), want.(proto.Message)) {
		t.Fatalf("%x: decoded %v, the generated decoder %v", wire, got, want)
	}
}

// FuzzDecodeRecordsMessage: the block decoder, which the spate CLI runs on
// GetRecords and Subscribe replies from a server (a peer), never panics and
// makes of any bytes what the generated decoder makes of them: the same
// error or none, and then the same message.
func FuzzDecodeRecordsMessage(f *testing.F) {
	for _, tc := range recordsDecodeCases(f) {
		f.Add(tc.wire, tc.sub)
	}
	f.Fuzz(func(t *testing.T, wire []byte, sub bool) {
		checkDecodeRecordsMessage(t, wire, sub)
	})
}

// TestCodecDecodesRecordsInBlocks: a reply of many records takes a handful of
// allocations, not two or more per record.
func TestCodecDecodesRecordsInBlocks(t *testing.T) {
	codec := protoCodec{pool: NewBufferPool()}
	wire, err := proto.Marshal(recordsReply(1000))
	if err != nil {
		t.Fatal(err)
	}
	in := mem.BufferSlice{mem.SliceBuffer(wire[:len(wire)/2]), mem.SliceBuffer(wire[len(wire)/2:])}
	var m spatev1.GetRecordsResponse
	allocs := testing.AllocsPerRun(20, func() {
		if err := codec.Unmarshal(in, &m); err != nil {
			t.Fatal(err)
		}
	})
	if len(m.Records) != 1000 {
		t.Fatalf("decoded %d records, want 1000", len(m.Records))
	}
	if allocs > 10 {
		t.Errorf("decoding 1000 records took %.0f allocations, want at most 10", allocs)
	}
}
