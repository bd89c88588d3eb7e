package drivers

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"golang.org/x/sync/errgroup"

	"github.com/spatehq/spate/bench"
	"github.com/spatehq/spate/shard"
)

// selfEFO drives the in-process server the way an enhanced fan-out
// consumer does (self-http-efo): it reads with SubscribeToShard, one
// subscription per shard, records pushed as they are committed, through
// aws-sdk-go-v2's own event-stream reader over h2c. It puts through gRPC,
// as self-grpc does, so that its put→get latency (the figure issue 13
// sets a goal for: p50 ≤ 5 ms at half the maximum load) measures the push
// path and compares with self-grpc's Subscribe, not aws-sdk-go-v2's
// PutRecords over HTTP (self-http-h2c measures that).
type selfEFO struct {
	selfGRPC
	consumers atomic.Int64 // consumers registered, for unique names
}

var _ bench.Driver = (*selfEFO)(nil)

func (d *selfEFO) Name() string { return "self-http-efo" }

func (d *selfEFO) client() *sdkClient {
	return newSDKClient("http://"+d.httpAddr, d.w.Shards, true)
}

// consumer registers a consumer of its own (a stream takes 20; a run
// takes one per Tail and CatchUp) and returns its ARN. The store makes it
// ACTIVE at once.
func (d *selfEFO) consumer(ctx context.Context, c *sdkClient) (string, error) {
	sum, err := c.c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(streamName)})
	if err != nil {
		return "", fmt.Errorf("DescribeStreamSummary: %w", err)
	}
	out, err := c.c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{
		StreamARN:    sum.StreamDescriptionSummary.StreamARN,
		ConsumerName: aws.String(fmt.Sprintf("bench-%d", d.consumers.Add(1))),
	})
	if err != nil {
		return "", fmt.Errorf("RegisterStreamConsumer: %w", err)
	}
	return aws.ToString(out.Consumer.ConsumerARN), nil
}

// subscribe reads shard i from TRIM_HORIZON (the stream is new and empty
// when a latency run starts, so nothing put after Tail returns is missed)
// and passes each record's data to fn, until fn reports done or ctx ends
// (first, when not nil, is called once the first event has come);
// it subscribes again from the last ContinuationSequenceNumber when a
// subscription ends (after 5 minutes). Each subscription has a client of
// its own: aws-sdk-go-v2 shares an event-stream decoder between a
// client's streams, which is not safe for several at once.
func (d *selfEFO) subscribe(ctx context.Context, consumerARN string, i int, first func(), fn func([]byte) (done bool)) error {
	c := d.client()
	defer c.Close()
	pos := &types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon}
	for ctx.Err() == nil {
		out, err := c.c.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{
			ConsumerARN: aws.String(consumerARN), ShardId: aws.String(shard.ShardID(uint32(i))), StartingPosition: pos,
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("SubscribeToShard %d: %w", i, err)
		}
		s := out.GetStream()
		for ev := range s.Events() {
			e, ok := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent)
			if !ok {
				continue
			}
			if first != nil {
				first()
				first = nil
			}
			for _, r := range e.Value.Records {
				if fn(r.Data) {
					s.Close()
					return nil
				}
			}
			pos = &types.StartingPosition{Type: types.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: e.Value.ContinuationSequenceNumber}
		}
		s.Close()
		if err := s.Err(); err != nil && ctx.Err() == nil {
			return fmt.Errorf("SubscribeToShard %d: %w", i, err)
		}
	}
	return nil
}

// Tail subscribes to every shard and returns once every subscription's
// first event has come (the server sends one at once), so that the
// latency of the first records does not include subscribing.
func (d *selfEFO) Tail(ctx context.Context, fn func([]byte)) (func() error, error) {
	c := d.client()
	defer c.Close()
	arn, err := d.consumer(ctx, c)
	if err != nil {
		return nil, err
	}
	g, gctx := errgroup.WithContext(ctx)
	ready := make(chan struct{}, d.w.Shards)
	for i := range d.w.Shards {
		g.Go(func() error {
			return d.subscribe(gctx, arn, i, func() { ready <- struct{}{} }, func(data []byte) bool { fn(data); return false })
		})
	}
	for range d.w.Shards {
		select {
		case <-ready:
		case <-gctx.Done():
			err := g.Wait()
			if err == nil {
				err = gctx.Err()
			}
			return nil, err
		}
	}
	return g.Wait, nil
}

// CatchUp subscribes to every shard from TRIM_HORIZON until want records
// have been pushed.
func (d *selfEFO) CatchUp(ctx context.Context, want int) (int, error) {
	c := d.client()
	defer c.Close()
	arn, err := d.consumer(ctx, c)
	if err != nil {
		return 0, err
	}
	var total atomic.Int64
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	for i := range d.w.Shards {
		g.Go(func() error {
			return d.subscribe(gctx, arn, i, nil, func([]byte) bool {
				if total.Add(1) >= int64(want) {
					cancel() // the other shards are read too
					return true
				}
				return false
			})
		})
	}
	err = g.Wait()
	if n := int(total.Load()); n >= want {
		return n, nil // the other subscriptions ended when the last record came
	}
	if err == nil {
		err = ctx.Err()
	}
	return int(total.Load()), fmt.Errorf("read %d of %d records: %w", total.Load(), want, err)
}
