package grpcapi

import (
	"sync"
	"unsafe"

	"google.golang.org/grpc/mem"

	"github.com/spatehq/spate/internal/nozero"
)

// Lending GetRecords replies their buffers.
//
// A GetRecords reply is encoded into a buffer of its own (recordsencode.go),
// a megabyte or more for a full read of small records, which the transport
// writes and drops: in a catch-up, that was nearly all of the server's
// allocation, and the garbage collector it kept running (its marking, and
// the write barriers it turns on in every goroutine) cost about as much as
// encoding the records. The buffers now come from the server's buffer pool
// and go back to it once the transport has written them.
//
// Only the codec knows when that is: it hands the bytes to gRPC as a
// mem.Buffer, which returns them to the pool when its last reference is
// freed. A buffer is lent to one RPC (heldReply.lend) and the codec takes
// it back (replyBuffers.reclaim) only if it is still lent: the codec never
// pools bytes it did not lend, such as a caller's message made only of
// unknown fields. A loan the codec never ends (the reply failed, or was
// never sent) ends with the RPC (heldReply.forget); its buffer is left to
// the garbage collector, as something may still hold the reply.
//
// Invariant: a reply whose buffer was lent is not read after it is sent.
// gRPC keeps to it: its binary log copies a sent message's bytes before it
// frees them, and stats handlers get the message but (ours, and gRPC's
// OpenTelemetry one) read only its lengths. grpc.EnableTracing, off by
// default and never set by Spate, would format sent messages later.

// replyBuffers is what a server's codec and its releaseAfterSend share: the
// pool and the buffers lent from it.
type replyBuffers struct {
	pool mem.BufferPool
	lent sync.Map // a lent buffer's first byte → the *heldReply it is lent to
}

func newReplyBuffers(pool mem.BufferPool) *replyBuffers { return &replyBuffers{pool: pool} }

// reclaim ends the loan of b, and reports whether b was lent (and its loan
// had not ended): the caller then owns b, which it may return to the pool.
func (r *replyBuffers) reclaim(b []byte) bool {
	if r == nil || cap(b) == 0 {
		return false
	}
	_, ok := r.lent.LoadAndDelete(unsafe.SliceData(b))
	return ok
}

// lend returns an empty buffer with room for n bytes, lent to h's RPC, or
// one of its own when h cannot lend. Its contents are undefined until
// written.
func (h *heldReply) lend(n int) []byte {
	if h == nil || h.buffers == nil {
		return nozero.Bytes(n)
	}
	b := (*h.buffers.pool.Get(n))[:0]
	p := unsafe.SliceData(b)
	h.buffers.lent.Store(p, h)
	h.mu.Lock()
	h.loans = append(h.loans, p)
	h.mu.Unlock()
	return b
}

// giveBack returns b, which its borrower no longer uses, to the pool if it
// was lent.
func (h *heldReply) giveBack(b []byte) {
	if h != nil && h.buffers.reclaim(b) {
		b = b[:0]
		h.buffers.pool.Put(&b)
	}
}

// forget ends the loans of h's RPC that the codec did not end.
func (h *heldReply) forget() {
	if h.buffers == nil {
		return
	}
	h.mu.Lock()
	loans := h.loans
	h.loans = nil
	h.mu.Unlock()
	for _, p := range loans {
		h.buffers.lent.CompareAndDelete(p, h) // it may be lent to another RPC now
	}
}
