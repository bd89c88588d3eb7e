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
	err = s.store.Subscribe(ctx, name, req.GetShardId(), pos, func(r shard.ReadResult) error {
		for _, ev := range subscribeEvents(r, maxSubscribeEventBytes) {
			if n := len(ev.Records); n > 0 {
				last = ev.Records[n-1].GetSequenceNumber()
			}
			ev.ContinuationSequenceNumber = last
			if err := stream.Send(ev); err != nil {
				return err
			}
		}
		return nil
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

// subscribeEvents splits one store batch into events whose records' data and
// partition keys total at most maxBytes (but at least one record each). Only
// the last event carries the child shards.
func subscribeEvents(r shard.ReadResult, maxBytes int) []*spatev1.SubscribeResponse {
	var events []*spatev1.SubscribeResponse
	records := encodeRecords(r.Records)
	for len(records) > 0 || len(events) == 0 {
		n, size := 0, 0
		for n < len(records) {
			sz := len(records[n].GetData()) + len(records[n].GetPartitionKey())
			if n > 0 && size+sz > maxBytes {
				break
			}
			n, size = n+1, size+sz
		}
		events = append(events, &spatev1.SubscribeResponse{
			Records:            records[:n:n],
			MillisBehindLatest: r.MillisBehindLatest,
		})
		records = records[n:]
	}
	events[len(events)-1].ChildShards = encodeChildShards(r.ChildShards)
	return events
}
