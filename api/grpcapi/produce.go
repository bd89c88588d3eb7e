package grpcapi

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spatehq/spate/apierr"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// Bounds of one Produce stream's batches in flight (received, not yet
// answered). A client that sends faster is flow-controlled: the server
// stops reading its stream until an answer is sent, and gRPC's window
// then stops the client. Memory per stream is bounded by
// produceMaxBytes plus the one batch being read.
const (
	// produceMaxBatches is enough to keep the group commit fed from one
	// stream: a producer sends one batch per shard at a time, so this is
	// 64 shards' worth.
	produceMaxBatches = 64
	// produceMaxBytes is the encoded size of the batches in flight; a
	// batch larger than it (at most 16 MiB, MaxMessageSize) counts as
	// this much and so goes alone.
	produceMaxBytes = 32 << 20
)

// produceAction is what a Produce batch is to authorization, limits and
// injected faults: a PutRecords.
const produceAction = "PutRecords"

// Produce implements spatev1.StreamServiceServer: each request is a batch
// committed as a PutRecords through the store's group commit (StartAppend,
// so a stream's batches keep their order within each shard and several are
// committed at once), answered once durable. Answers come in request
// order. A batch-level failure is answered in its response; the stream
// ends when the client closes its side (after every batch is answered), on
// a transport error, or at Close: then the batches already read are
// answered and the stream ends with Unavailable, so a client resends only
// the batches it has no answer for.
func (s *Server) Produce(stream grpc.BidiStreamingServer[spatev1.ProduceRequest, spatev1.ProduceResponse]) error {
	ctx := stream.Context()
	if s.closing.Err() != nil {
		return status.Error(codes.Unavailable, produceClosing)
	}
	r := &produceReader{
		s: s, stream: stream, intercept: interceptOf(ctx),
		// Invariant: a batch holds a slot and its bytes from when it is
		// read until its answer is sent.
		slots: make(chan struct{}, produceMaxBatches),
		bytes: semaphore.NewWeighted(produceMaxBytes),
		// started carries the batches to the answering goroutine in
		// request order; the store commits them in that order too, so
		// waiting for each in turn adds no delay.
		started: make(chan *produceBatch, produceMaxBatches),
	}
	observe := batchObserverOf(ctx)
	answered := make(chan error, 1)
	go func() {
		answered <- func() error {
			for b := range r.started {
				resp := b.answer(s)
				if observe != nil {
					observe(b.err, b.start)
				}
				err := stream.Send(resp)
				r.bytes.Release(b.size)
				<-r.slots
				if err != nil {
					return err
				}
			}
			return nil
		}()
	}()
	// The reader is not waited for at Close or after a failed Send: it may
	// be blocked in Recv, which returns once this handler has returned.
	// r.stop keeps it from starting anything after that.
	read := make(chan error, 1)
	go func() { read <- r.read(ctx) }()

	var err error
	closing := false
	select {
	case err = <-read:
	case err = <-answered:
		// A failed Send (it never ends with nil before stop).
		r.stop()
		return s.fail(ctx, "Produce", err)
	case <-s.closing.Done():
		closing = true
	}
	r.stop()
	if werr := <-answered; err == nil {
		err = werr
	}
	if closing && err == nil && ctx.Err() == nil {
		return status.Error(codes.Unavailable, produceClosing)
	}
	if err != nil {
		return s.fail(ctx, "Produce", err)
	}
	return nil
}

// produceClosing is the status message a Produce stream ends with at Close.
const produceClosing = "the server is shutting down: every batch it read was answered; resend the unanswered ones on a new stream"

// produceReader reads a Produce stream's batches and starts their appends.
type produceReader struct {
	s         *Server
	stream    grpc.BidiStreamingServer[spatev1.ProduceRequest, spatev1.ProduceResponse]
	intercept Intercept
	slots     chan struct{}
	bytes     *semaphore.Weighted

	mu      sync.Mutex // guards stopped and sending on started
	stopped bool       // started is closed: start nothing more
	started chan *produceBatch
}

// stop closes started once: the answering goroutine then answers what it
// holds and ends. A batch read after stop is neither started nor answered.
func (r *produceReader) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.stopped {
		r.stopped = true
		close(r.started)
	}
}

// read reads the stream's batches and starts their appends until the
// client closes its side (nil), the stream fails, or stop.
func (r *produceReader) read(ctx context.Context) error {
	for {
		select {
		case r.slots <- struct{}{}:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		req, err := r.stream.Recv()
		if errors.Is(err, io.EOF) {
			<-r.slots
			return nil
		}
		if err != nil {
			<-r.slots
			return err
		}
		b := &produceBatch{id: req.GetBatchId(), start: time.Now(), size: min(int64(req.SizeVT()), produceMaxBytes)}
		if err := r.bytes.Acquire(ctx, b.size); err != nil {
			<-r.slots
			return err
		}
		if !r.start(ctx, b, req) {
			return nil
		}
	}
}

// start starts b's append and hands b to the answering goroutine, unless
// stop came first (false).
func (r *produceReader) start(ctx context.Context, b *produceBatch, req *spatev1.ProduceRequest) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		r.bytes.Release(b.size)
		<-r.slots
		return false
	}
	b.pending, b.err = r.s.startProduce(ctx, r.intercept, req)
	r.started <- b // never blocks: it has room for every slot
	return true
}

// startProduce starts one batch's append: the checks of PutRecords, then
// the store's.
func (s *Server) startProduce(ctx context.Context, intercept Intercept, req *spatev1.ProduceRequest) (*shard.PendingAppend, error) {
	name, err := s.store.ResolveStream(req.GetStreamName(), req.GetStreamArn())
	if err != nil {
		return nil, err
	}
	if intercept != nil {
		if ctx, err = intercept(ctx, "Kinesis", produceAction); err != nil {
			return nil, err
		}
	}
	return s.store.StartAppend(ctx, name, putEntries(req.GetRecords()))
}

// produceBatch is one batch of a Produce stream in flight.
type produceBatch struct {
	id      uint64
	start   time.Time
	size    int64
	pending *shard.PendingAppend // nil when err is set
	err     error                // the batch-level failure
}

// answer waits for the batch's append and returns its answer.
func (b *produceBatch) answer(s *Server) *spatev1.ProduceResponse {
	resp := &spatev1.ProduceResponse{BatchId: b.id}
	var res []shard.AppendResult
	if b.err == nil {
		res, b.err = b.pending.Wait()
	}
	if b.err != nil {
		// The one error table decides what a client sees, as for
		// PutRecords: an internal failure's cause is logged, not sent.
		ae := asAPIError(b.err)
		if ae.Code == apierr.InternalFailure {
			s.log.Error("grpc call failed", "method", "Produce", "err", b.err)
		}
		resp.ErrorCode, resp.ErrorMessage = string(ae.Code), ae.Message
		return resp
	}
	resp.Records, resp.FailedRecordCount = putResults(res)
	return resp
}

// asAPIError returns the API error that err is sent as (an
// InternalFailure hides a cause that is not an API error).
func asAPIError(err error) *apierr.Error {
	var ae *apierr.Error
	if errors.As(err, &ae) {
		return ae
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &apierr.Error{Code: apierr.InternalFailure, Message: "the stream ended before the batch was committed"}
	}
	return &apierr.Error{Code: apierr.InternalFailure, Message: apierr.MessageOf(err)}
}

// putEntries converts PutRecords' (and Produce's) request entries for the
// store. The entries share the requests' data.
func putEntries(records []*spatev1.PutRecordsRequestEntry) []shard.Entry {
	entries := make([]shard.Entry, len(records))
	for i, r := range records {
		entries[i] = shard.Entry{
			PartitionKey:    r.GetPartitionKey(),
			ExplicitHashKey: r.GetExplicitHashKey(),
			Data:            r.GetData(),
		}
	}
	return entries
}

// putResults converts the store's results of PutRecords (and Produce),
// counting the failed entries.
func putResults(res []shard.AppendResult) (out []*spatev1.PutRecordsResultEntry, failed int32) {
	out = make([]*spatev1.PutRecordsResultEntry, len(res))
	// One allocation for the entries, not one per record (up to 500).
	entries := make([]spatev1.PutRecordsResultEntry, len(res))
	for i, r := range res {
		if r.ErrorCode != "" {
			failed++
		}
		e := &entries[i]
		e.SequenceNumber = r.SequenceNumber
		e.ShardId = r.ShardID
		e.ErrorCode = r.ErrorCode
		e.ErrorMessage = r.ErrorMessage
		out[i] = e
	}
	return out, failed
}
