package grpcapi

import (
	"fmt"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	"github.com/spatehq/spate/internal/nozero"
)

// protoCodec is gRPC's protobuf codec with two changes, both from profiles of
// `spate bench`:
//
//   - Messages generated with vtprotobuf (all of proto/spate/v1) are
//     marshalled and decoded by their generated code instead of protobuf-go's
//     reflection, and decoded with UnmarshalVTUnsafe: bytes and strings alias
//     one private copy of the message instead of one allocation each. A
//     GetRecords reply of 10,000 records was 50,000 allocations to decode.
//   - Buffers come from the given pool. gRPC's own codec takes them from
//     mem.DefaultBufferPool() whatever pool the server or connection was
//     given, and that pool clears every buffer it hands out. Replacing the
//     default pool would change process-wide state; forcing this codec
//     (grpc.ForceServerCodecV2, grpc.ForceCodecV2) changes only this API's
//     servers and clients.
//
// Invariant for the aliasing: the copy a message is decoded from is never
// pooled or written again, so what a decoded message holds stays valid and
// unchanged for as long as anything references it (it keeps the whole copy
// alive, at most MaxMessageSize).
type protoCodec struct {
	pool    mem.BufferPool
	replies *replyBuffers // a server's: the GetRecords replies' buffers; nil for a client
}

var _ encoding.CodecV2 = protoCodec{}

// vtMarshaler and vtUnmarshaler are what vtprotobuf generates.
type vtMarshaler interface {
	SizeVT() int
	MarshalToSizedBufferVT(dst []byte) (int, error)
}

type vtUnmarshaler interface {
	UnmarshalVTUnsafe(data []byte) error
}

func (c protoCodec) Name() string { return "proto" }

func (c protoCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("proto codec: cannot marshal %T: not a proto.Message", v)
	}
	vt, ok := v.(vtMarshaler)
	if !ok {
		return c.marshalReflect(m)
	}
	size := vt.SizeVT()
	if mem.IsBelowBufferPoolingThreshold(size) {
		b := make([]byte, size)
		if err := marshalVT(vt, b); err != nil {
			return nil, err
		}
		return mem.BufferSlice{mem.SliceBuffer(b)}, nil
	}
	if raw := m.ProtoReflect().GetUnknown(); len(raw) == size {
		// Nothing but unknown fields, which marshal as they are: a reply
		// encoded beforehand (recordsSink), sent without another copy,
		// and its buffer back to the pool once sent if it was lent
		// (replybuffers.go).
		if c.replies.reclaim(raw) {
			b := []byte(raw)
			return mem.BufferSlice{mem.NewBuffer(&b, c.replies.pool)}, nil
		}
		return mem.BufferSlice{mem.SliceBuffer(raw)}, nil
	}
	buf := c.pool.Get(size)
	if err := marshalVT(vt, *buf); err != nil {
		c.pool.Put(buf)
		return nil, err
	}
	return mem.BufferSlice{mem.NewBuffer(buf, c.pool)}, nil
}

// marshalVT marshals m into dst, which is exactly m.SizeVT() long.
// MarshalToSizedBufferVT fills dst from its end; it must fill all of it.
func marshalVT(m vtMarshaler, dst []byte) error {
	n, err := m.MarshalToSizedBufferVT(dst)
	if err == nil && n != len(dst) {
		err = fmt.Errorf("proto codec: %T marshalled %d bytes, sized %d", m, n, len(dst))
	}
	return err
}

// marshalReflect marshals a message without generated vtprotobuf code
// (google.rpc.Status details, health checks) the way gRPC's codec does.
func (c protoCodec) marshalReflect(m proto.Message) (mem.BufferSlice, error) {
	// UseCachedSize reuses what proto.Size just computed; nothing mutates
	// m between the two calls.
	size := proto.Size(m)
	opts := proto.MarshalOptions{UseCachedSize: true}
	if mem.IsBelowBufferPoolingThreshold(size) {
		b, err := opts.Marshal(m)
		if err != nil {
			return nil, err
		}
		return mem.BufferSlice{mem.SliceBuffer(b)}, nil
	}
	buf := c.pool.Get(size)
	if _, err := opts.MarshalAppend((*buf)[:0], m); err != nil {
		c.pool.Put(buf)
		return nil, err
	}
	return mem.BufferSlice{mem.NewBuffer(buf, c.pool)}, nil
}

func (c protoCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if r, ok := v.(*GetRecordsReply); ok {
		return r.unmarshal(data) // recordsreply.go
	}
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("proto codec: cannot unmarshal into %T: not a proto.Message", v)
	}
	if vt, ok := v.(vtUnmarshaler); ok {
		// vtprotobuf merges into what m holds; proto.Unmarshal resets it
		// first, and callers may rely on that.
		proto.Reset(m)
		b := materialize(data) // a fresh copy: see the invariant
		if r, ok := asRecordsMessage(v); ok {
			return decodeRecordsMessage(r, b)
		}
		return vt.UnmarshalVTUnsafe(b)
	}
	buf := data.MaterializeToBuffer(c.pool)
	defer buf.Free()
	// proto.Unmarshal copies bytes and strings out of buf, so freeing it
	// afterwards cannot change m.
	return proto.Unmarshal(buf.ReadOnlyData(), m)
}

// materialize is data.Materialize without clearing the copy before filling
// it: nozero.Bytes allocates it uninitialised, and a received GetRecords
// reply is up to 16 MiB that Materialize would clear only to overwrite.
func materialize(data mem.BufferSlice) []byte {
	b := nozero.Bytes(data.Len())
	for _, part := range data {
		b = append(b, part.ReadOnlyData()...)
	}
	return b
}
