package grpcapi

import (
	"fmt"

	"google.golang.org/grpc/mem"
)

// NewBufferPool returns the buffer pool that servers (experimental.BufferPool)
// and clients (experimental.WithBufferPool) of this API should use instead
// of gRPC's default.
//
// gRPC's default pool has tiers of 256 B, 4, 16 and 32 KiB and 1 MiB, and
// zeroes a buffer's whole capacity on every Get: a 60 KiB PutRecords
// request (500 records of 100 B) takes, and clears, a 1 MiB buffer on each
// of its four trips (request and reply, marshal and receive). Profiles of
// `spate bench` showed that clearing as one of the largest costs. This pool
// has a tier at every power of two from 256 B to 16 MiB (MaxMessageSize), so
// a buffer is at most twice the message and clearing it costs about as much
// as copying the message. Buffers are still zeroed, as in the default.
func NewBufferPool() mem.BufferPool {
	exps := []uint8{8, 12}
	for e := uint8(14); 1<<e <= MaxMessageSize; e++ {
		exps = append(exps, e)
	}
	p, err := mem.NewBinaryTieredBufferPool(exps...)
	if err != nil {
		// Only exponents beyond the word size fail, and these are fixed.
		panic(fmt.Sprintf("grpcapi: buffer pool: %v", err))
	}
	return p
}
