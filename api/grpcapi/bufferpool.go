package grpcapi

import (
	"math/bits"
	"sync"

	"google.golang.org/grpc/mem"
)

// Buffer tiers: a pool at every power of two from 2^minTierExp (256 B) to
// 2^maxTierExp (16 MiB, MaxMessageSize).
const (
	minTierExp = 8
	maxTierExp = 24
)

// NewBufferPool returns the buffer pool that servers (experimental.BufferPool)
// and clients (experimental.WithBufferPool) of this API should use instead
// of gRPC's default; ServerOptions and DialOptions include it.
//
// gRPC's default pool has tiers of 256 B, 4, 16 and 32 KiB and 1 MiB, and
// zeroes a buffer's whole capacity on every Get: a 60 KiB PutRecords
// request (500 records of 100 B) takes, and clears, a 1 MiB buffer on each
// of its four trips (request and reply, marshal and receive). Profiles of
// `spate bench` showed that clearing as one of the largest costs. This pool
// has a tier at every power of two up to MaxMessageSize, so a buffer is at
// most twice the message, and it does not clear: gRPC fills every byte of a
// buffer it gets before reading it (a received message is read into exactly
// its length; a sent one is marshalled by appending to an empty slice), which
// is why gRPC's own HTTP/2 framer and ALTS record layer use dirty pools too.
func NewBufferPool() mem.BufferPool {
	return &tieredPool{}
}

// tieredPool is a dirty (non-zeroing) pool per power-of-two capacity.
// Invariant: tiers[e] holds only buffers of capacity exactly 1<<(e+minTierExp).
type tieredPool struct {
	tiers [maxTierExp - minTierExp + 1]sync.Pool
}

// tier returns the index of the smallest tier that holds size bytes, and
// false when size is beyond the largest tier.
func tier(size int) (int, bool) {
	exp := minTierExp
	if size > 1<<minTierExp {
		exp = bits.Len(uint(size - 1))
	}
	return exp - minTierExp, exp <= maxTierExp
}

func (p *tieredPool) Get(size int) *[]byte {
	t, ok := tier(size)
	if !ok {
		b := make([]byte, size)
		return &b
	}
	if b, _ := p.tiers[t].Get().(*[]byte); b != nil {
		*b = (*b)[:size]
		return b
	}
	b := make([]byte, size, 1<<(t+minTierExp))
	return &b
}

func (p *tieredPool) Put(b *[]byte) {
	c := cap(*b)
	t, ok := tier(c)
	if !ok || c != 1<<(t+minTierExp) {
		return // not one of ours: let the GC have it
	}
	p.tiers[t].Put(b)
}
