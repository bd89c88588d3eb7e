package grpcapi

import (
	"google.golang.org/grpc"
	"google.golang.org/grpc/experimental"
)

// socketBufferLen is the size of gRPC's write and read buffers on each
// connection (default 32 KiB). The write buffer is flushed whenever it fills,
// so at the default a 1 MiB GetRecords reply took 32 write syscalls; at 256
// KiB it takes 4, and a 500-record PutRecords of 100 B records goes in one.
// In `spate bench` this raised catch-up reads by about 15%. (Larger flow
// control windows were measured too and made no difference, so gRPC's own
// window estimation stays on.)
const socketBufferLen = 256 << 10

// ServerOptions returns the options a gRPC server of this API should be
// created with: MaxMessageSize, one buffer pool for the transport and the
// codec, and the buffer sizes. Callers add their own (interceptors).
func ServerOptions() []grpc.ServerOption {
	pool := NewBufferPool()
	replies := newReplyBuffers(pool)
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageSize),
		experimental.BufferPool(pool),
		grpc.ForceServerCodecV2(protoCodec{pool: pool, replies: replies}),
		grpc.WriteBufferSize(socketBufferLen),
		grpc.ReadBufferSize(socketBufferLen),
		grpc.StatsHandler(releaseAfterSend{replies}), // GetRecords replies' read budget and buffers (readhold.go)
	}
}

// DialOptions returns the options a client of this API should dial with
// (grpc.NewClient), matching ServerOptions and ConnOptions' keep-alive
// policy. Callers add the transport credentials.
func DialOptions() []grpc.DialOption {
	pool := NewBufferPool()
	return []grpc.DialOption{
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize),
			grpc.ForceCodecV2(protoCodec{pool: pool})),
		experimental.WithBufferPool(pool),
		grpc.WithWriteBufferSize(socketBufferLen),
		grpc.WithReadBufferSize(socketBufferLen),
		clientKeepalive(),
	}
}
