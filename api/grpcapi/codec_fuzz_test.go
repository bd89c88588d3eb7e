package grpcapi

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// peerMessages lists every message a network peer can send this API's
// codec: the request of every method (what a server decodes) and its reply
// (what the spate CLI, a client, decodes), in a fixed order so that a
// fuzz input's index names the same type from run to run.
func peerMessages(t testing.TB) []protoreflect.MessageType {
	t.Helper()
	var out []protoreflect.MessageType
	seen := map[protoreflect.FullName]bool{}
	add := func(d protoreflect.MessageDescriptor) {
		if seen[d.FullName()] {
			return
		}
		seen[d.FullName()] = true
		mt, err := protoregistry.GlobalTypes.FindMessageByName(d.FullName())
		if err != nil {
			t.Fatalf("message %s: %v", d.FullName(), err)
		}
		out = append(out, mt)
	}
	for _, f := range []protoreflect.FileDescriptor{
		spatev1.File_spate_v1_spate_proto,
		spatev1.File_spate_v1_firehose_proto,
		spatev1.File_spate_v1_analytics_proto,
		spatev1.File_spate_v1_groups_proto,
	} {
		for i := range f.Services().Len() {
			ms := f.Services().Get(i).Methods()
			for j := range ms.Len() {
				add(ms.Get(j).Input())
				add(ms.Get(j).Output())
			}
		}
	}
	return out
}

// FuzzCodecUnmarshal feeds arbitrary bytes, cut into frames of arbitrary
// size, to the codec's Unmarshal as every message a peer can send. It must
// never panic; what it accepts must survive a round trip through the
// codec, and must equal what protobuf-go's own decoder makes of the same
// bytes whenever that decoder accepts them too (protobuf-go also refuses
// strings that are not UTF-8, which vtprotobuf leaves to validation).
func FuzzCodecUnmarshal(f *testing.F) {
	types := peerMessages(f)
	codec := protoCodec{pool: NewBufferPool()}
	index := map[protoreflect.FullName]uint16{}
	for i, mt := range types {
		index[mt.Descriptor().FullName()] = uint16(i)
	}
	seed := func(m proto.Message) {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(index[m.ProtoReflect().Descriptor().FullName()], uint8(0), b)
		f.Add(index[m.ProtoReflect().Descriptor().FullName()], uint8(3), b)
	}
	seed(&spatev1.PutRecordsRequest{StreamName: "s", Records: []*spatev1.PutRecordsRequestEntry{
		{Data: []byte("x"), PartitionKey: "k", ExplicitHashKey: "12"}, {PartitionKey: "k2"},
	}})
	seed(&spatev1.CreateStreamRequest{StreamName: "s", ShardCount: 2, Tags: map[string]string{"a": "b"}})
	seed(recordsReply(3))
	f.Add(uint16(0), uint8(1), []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f})                                     // length beyond the end
	f.Add(uint16(0), uint8(0), []byte{0x0a, 0x02, 0xff, 0xfe})                                                 // string that is not UTF-8
	f.Add(uint16(1), uint8(0), []byte{0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}) // varint too long
	f.Add(uint16(2), uint8(0), []byte{0x0b, 0x0c})                                                             // group start and end
	f.Fuzz(func(t *testing.T, which uint16, frame uint8, data []byte) {
		mt := types[int(which)%len(types)]
		got := mt.New().Interface()
		if err := codec.Unmarshal(split(data, int(frame)+1), got); err != nil {
			return
		}
		if want := mt.New().Interface(); proto.Unmarshal(data, want) == nil && !proto.Equal(got, want) {
			t.Fatalf("%s: codec decoded %x as %v, protobuf-go as %v", mt.Descriptor().FullName(), data, got, want)
		}
		out, err := codec.Marshal(got)
		if err != nil {
			t.Fatalf("%s: decoded %x, cannot marshal it again: %v", mt.Descriptor().FullName(), data, err)
		}
		wire := out.Materialize()
		out.Free()
		again := mt.New().Interface()
		if err := codec.Unmarshal(split(wire, int(frame)+1), again); err != nil {
			t.Fatalf("%s: round trip of %x: cannot decode %x: %v", mt.Descriptor().FullName(), data, wire, err)
		}
		if !proto.Equal(got, again) {
			t.Fatalf("%s: round trip of %x: %v became %v", mt.Descriptor().FullName(), data, got, again)
		}
	})
}
