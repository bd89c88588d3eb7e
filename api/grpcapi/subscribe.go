package grpcapi

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spatehq/spate/apierr"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// Subscribe implements spatev1.StreamServiceServer. It relays
// shard.Store.Subscribe, which blocks until records are appended (no
// polling), and ends when the client cancels, the shard is closed and fully
// read (after an event with the child shards), or Close is called
// (codes.Unavailable).
//
// A subscription with a consumer_name reports its iterator age as that
// consumer's (shard.Store.AcquireConsumer) until it ends.
func (s *Server) Subscribe(req *spatev1.SubscribeRequest, stream grpc.ServerStreamingServer[spatev1.SubscribeResponse]) error {
	ctx := stream.Context()
	consumer := req.GetConsumerName()
	if err := shard.ValidateConsumerName("consumer_name", consumer); err != nil {
		return s.fail(ctx, "Subscribe", err)
	}
	name, err := s.store.ResolveStream(req.GetStreamName(), req.GetStreamArn())
	if err != nil {
		return s.fail(ctx, "Subscribe", err)
	}
	sp := req.GetStartingPosition()
	if sp == nil {
		return s.fail(ctx, "Subscribe", apierr.New(apierr.InvalidArgument,
			"starting_position is required: give its type (TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER or AT_TIMESTAMP)"))
	}
	pos, err := decodePosition(sp.GetType(), sp.GetSequenceNumber(), sp.GetTimestamp())
	if err != nil {
		return s.fail(ctx, "Subscribe", err)
	}

	// The subscription ends with the call or with Close, whichever is first.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.closing, cancel)
	defer stop()
	if consumer != "" {
		// Released before the handler returns, so before the stream's
		// final status is sent.
		var release func()
		ctx, release = s.store.AcquireConsumer(ctx, consumer)
		defer release()
	}

	var last string // sequence number of the last record sent
	newSink := func() shard.RecordSink { return &recordsSink{maxBytes: maxSubscribeEventBytes} }
	err = s.store.SubscribeInto(ctx, name, req.GetShardId(), pos, newSink, func(r shard.ReadResult, sink shard.RecordSink) error {
		return sendEvents(r, sink.(*recordsSink), &last, stream.Send)
	})
	if err != nil && s.closing.Err() != nil && stream.Context().Err() == nil {
		if last == "" {
			return status.Error(codes.Unavailable, "the server is shutting down; subscribe again from the same starting position")
		}
		return status.Errorf(codes.Unavailable,
			"the server is shutting down; subscribe again with AFTER_SEQUENCE_NUMBER %s (the last continuation_sequence_number) to continue", last)
	}
	return s.fail(ctx, "Subscribe", err)
}

// sendEvents sends one store batch, whose records sink has encoded in
// events of at most maxSubscribeEventBytes of data and partition keys each
// (but at least one record), one event at a time. Only the last event
// carries the child shards; every event carries the sequence number of the
// last record sent so far (last, updated).
func sendEvents(r shard.ReadResult, sink *recordsSink, last *string, send func(*spatev1.SubscribeResponse) error) error {
	n := max(len(sink.chunks), 1) // a batch without records ends the shard
	for i := range n {
		tail := &spatev1.SubscribeResponse{MillisBehindLatest: r.MillisBehindLatest}
		if i < len(sink.chunks) {
			*last = sink.lastSequenceNumber(i)
		}
		tail.ContinuationSequenceNumber = *last
		if i == n-1 {
			tail.ChildShards = encodeChildShards(r.ChildShards)
		}
		ev, err := finish(sink, i, tail, new(spatev1.SubscribeResponse))
		if err != nil {
			return err
		}
		if err := send(ev); err != nil {
			return err
		}
	}
	return nil
}
