package drivers

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"golang.org/x/sync/errgroup"

	"github.com/spatehq/spate/bench"
	"github.com/spatehq/spate/internal/sdkhttp"
	"github.com/spatehq/spate/shard"
)

// sdkClient drives a Kinesis JSON endpoint (Spate's or kinesalite's) with
// aws-sdk-go-v2, the way an application would: PutRecord for one record,
// PutRecords for more, GetRecords polling to read.
type sdkClient struct {
	c         *kinesis.Client
	transport *http.Transport
	shards    int
	n         atomic.Uint64
}

var _ bench.Producer = (*sdkClient)(nil)

// tailIdle is how long a polling consumer waits after an empty GetRecords:
// short, so put-to-get latency over HTTP measures the servers more than the
// poll (the Kinesis Client Library's default is a second).
const tailIdle = 5 * time.Millisecond

// newSDKClient returns a client with its own connection pool, static
// credentials and no retries (a retried put would be counted twice); with
// h2c it speaks HTTP/2 without TLS (prior knowledge) instead of HTTP/1.1.
func newSDKClient(endpoint string, shards int, h2c bool) *sdkClient {
	transport := newBenchTransport(h2c)
	return &sdkClient{
		c: kinesis.New(kinesis.Options{
			BaseEndpoint: aws.String(endpoint),
			Region:       "us-east-1",
			Credentials:  credentials.NewStaticCredentialsProvider("bench", "bench", ""),
			Retryer:      retry.AddWithMaxAttempts(retry.NewStandard(), 1),
			HTTPClient:   &http.Client{Transport: sdkhttp.PlainBodies(transport)},
		}),
		transport: transport,
		shards:    shards,
	}
}

// newBenchTransport is a client's own connection pool: HTTP/1.1, or h2c.
func newBenchTransport(h2c bool) *http.Transport {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64
	if h2c {
		transport.Protocols = new(http.Protocols)
		transport.Protocols.SetUnencryptedHTTP2(true)
	}
	return transport
}

func (s *sdkClient) Put(ctx context.Context, records [][]byte) error {
	base := s.n.Add(uint64(len(records)))
	if len(records) == 1 {
		_, err := s.c.PutRecord(ctx, &kinesis.PutRecordInput{
			StreamName: aws.String(streamName), Data: records[0], PartitionKey: aws.String(partitionKey(base)),
		})
		return err
	}
	entries := make([]types.PutRecordsRequestEntry, len(records))
	for i, r := range records {
		entries[i] = types.PutRecordsRequestEntry{Data: r, PartitionKey: aws.String(partitionKey(base + uint64(i)))}
	}
	out, err := s.c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(streamName), Records: entries})
	if err != nil {
		return err
	}
	if n := aws.ToInt32(out.FailedRecordCount); n > 0 {
		return fmt.Errorf("PutRecords: %d of %d records failed", n, len(records))
	}
	return nil
}

func (s *sdkClient) Close() error {
	s.transport.CloseIdleConnections()
	return nil
}

func (s *sdkClient) iterator(ctx context.Context, i int) (*string, error) {
	out, err := s.c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName: aws.String(streamName), ShardId: aws.String(shard.ShardID(uint32(i))),
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		return nil, fmt.Errorf("GetShardIterator: %w", err)
	}
	return out.ShardIterator, nil
}

// getRecords reads one batch at it, passing each record's data to fn, and
// returns how many it read and the next iterator.
func (s *sdkClient) getRecords(ctx context.Context, it *string, fn func([]byte)) (int, *string, error) {
	out, err := s.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it, Limit: aws.Int32(shard.MaxGetRecordsLimit)})
	if err != nil {
		return 0, nil, fmt.Errorf("GetRecords: %w", err)
	}
	for _, r := range out.Records {
		fn(r.Data)
	}
	return len(out.Records), out.NextShardIterator, nil
}

func (s *sdkClient) tail(ctx context.Context, fn func([]byte)) (func() error, error) {
	return pollTail(ctx, s, s.shards, fn, s.Close)
}

func (s *sdkClient) catchUp(ctx context.Context, want int) (int, error) {
	defer s.Close()
	return pollCatchUp(ctx, s, s.shards, want)
}

// kinesisReader is a Kinesis client that reads shards by polling: the
// aws-sdk-go-v2 client (JSON) and cborClient.
type kinesisReader interface {
	// iterator returns a TRIM_HORIZON iterator of shard i.
	iterator(ctx context.Context, i int) (*string, error)
	getRecords(ctx context.Context, it *string, fn func([]byte)) (int, *string, error)
}

// pollTail polls every shard from TRIM_HORIZON (the stream is new and
// empty when a latency run starts) until ctx is done; closing runs once the
// pollers stop.
func pollTail(ctx context.Context, r kinesisReader, shards int, fn func([]byte), closing func() error) (func() error, error) {
	iters := make([]*string, shards)
	for i := range iters {
		it, err := r.iterator(ctx, i)
		if err != nil {
			return nil, err
		}
		iters[i] = it
	}
	var g errgroup.Group
	for _, it := range iters {
		g.Go(func() error {
			for it != nil && ctx.Err() == nil {
				n, next, err := r.getRecords(ctx, it, fn)
				if err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return err
				}
				it = next
				if n == 0 {
					select {
					case <-time.After(tailIdle):
					case <-ctx.Done():
					}
				}
			}
			return nil
		})
	}
	return func() error {
		err := g.Wait()
		closing()
		return err
	}, nil
}

// pollCatchUp reads every shard from TRIM_HORIZON, one reader per shard
// (readPerShard), until want records are read.
func pollCatchUp(ctx context.Context, r kinesisReader, shards, want int) (int, error) {
	iters := make([]*string, shards)
	for i := range iters {
		it, err := r.iterator(ctx, i)
		if err != nil {
			return 0, err
		}
		iters[i] = it
	}
	return readPerShard(ctx, want, shards, func(ctx context.Context, i int) (int, error) {
		n, next, err := r.getRecords(ctx, iters[i], func([]byte) {})
		iters[i] = next
		return n, err
	})
}
