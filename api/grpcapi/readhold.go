package grpcapi

import (
	"context"
	"sync"

	"google.golang.org/grpc/stats"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// A GetRecords reply holds the store's read budget (shard.WithReadBudget)
// until gRPC has encoded it and handed it to the transport: a unary handler
// returns before that, so the release waits for the RPC's stats.End, which
// gRPC reports after it has written the reply and the status. (What the
// transport still queues for a client slower than its flow-control window
// is not counted; connection limits bound that.) ServerOptions installs
// releaseAfterSend; without it, a reply releases when its handler returns.

// releaseAfterSend is the stats.Handler that releases a GetRecords reply's
// hold, and ends the loans of its buffers (replybuffers.go), at the end of
// its RPC. Only GetRecords calls carry a slot, so other calls pay one string
// comparison.
type releaseAfterSend struct{ buffers *replyBuffers }

var _ stats.Handler = releaseAfterSend{}

type heldReplyKey struct{}

// heldReply is the slot a GetRecords call leaves its output in, and what
// lends its reply's buffers.
type heldReply struct {
	buffers *replyBuffers // nil: buffers are not lent

	mu    sync.Mutex
	out   shard.GetRecordsOutput
	loans []*byte // the lent buffers' first bytes
}

func (r releaseAfterSend) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	if info.FullMethodName != spatev1.StreamService_GetRecords_FullMethodName {
		return ctx
	}
	return context.WithValue(ctx, heldReplyKey{}, &heldReply{buffers: r.buffers})
}

func (releaseAfterSend) HandleRPC(ctx context.Context, s stats.RPCStats) {
	if _, end := s.(*stats.End); !end {
		return
	}
	if h, ok := ctx.Value(heldReplyKey{}).(*heldReply); ok {
		h.mu.Lock()
		out := h.out
		h.out = shard.GetRecordsOutput{}
		h.mu.Unlock()
		out.Release()
		h.forget()
	}
}

func (releaseAfterSend) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}
func (releaseAfterSend) HandleConn(context.Context, stats.ConnStats) {}

// heldReplyOf returns the slot of ctx's GetRecords call, nil without one.
func heldReplyOf(ctx context.Context) *heldReply {
	h, _ := ctx.Value(heldReplyKey{}).(*heldReply)
	return h
}

// holdUntilSent keeps out's read budget until the RPC of ctx ends, and
// returns the function the handler defers: it releases at once when no
// releaseAfterSend is installed.
func holdUntilSent(ctx context.Context, out shard.GetRecordsOutput) (onReturn func()) {
	h := heldReplyOf(ctx)
	if h == nil {
		return out.Release
	}
	h.mu.Lock()
	h.out = out
	h.mu.Unlock()
	return func() {}
}
