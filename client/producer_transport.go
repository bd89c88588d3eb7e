package client

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/spatehq/spate/api/grpcapi"
	"github.com/spatehq/spate/apierr"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// producerTransport sends a Producer's batches and lists its shards.
type producerTransport interface {
	// put sends one batch and returns one result per entry, or the error
	// that failed the whole batch: an *apierr.Error when the server
	// answered one, another error when the batch may not have arrived.
	put(ctx context.Context, stream string, entries []*spatev1.PutRecordsRequestEntry) ([]*spatev1.PutRecordsResultEntry, error)
	// listShards returns the stream's open shards.
	listShards(ctx context.Context, stream string) ([]*spatev1.Shard, error)
	close() error
}

// newProducerTransport returns the transport cfg asks for.
func newProducerTransport(c *Client, cfg producerConfig) (producerTransport, error) {
	switch cfg.transport {
	case TransportHTTP:
		if cfg.kinesis == nil {
			return nil, errors.New("client: TransportHTTP needs a Kinesis client: use WithHTTP")
		}
		return httpTransport{k: cfg.kinesis}, nil
	case TransportProduce, TransportPutRecords:
		if c == nil {
			return nil, fmt.Errorf("client: transport %s needs a Client", cfg.transport)
		}
		if cfg.transport == TransportPutRecords {
			return unaryTransport{c: c.Streams}, nil
		}
		return newProduceTransport(c.Streams), nil
	}
	return nil, fmt.Errorf("client: unknown transport %d", cfg.transport)
}

// listOpenShards lists a stream's open shards over gRPC.
func listOpenShards(ctx context.Context, c spatev1.StreamServiceClient, stream string) ([]*spatev1.Shard, error) {
	var out []*spatev1.Shard
	req := &spatev1.ListShardsRequest{
		StreamName:  stream,
		ShardFilter: &spatev1.ShardFilter{Type: spatev1.ShardFilterType_SHARD_FILTER_TYPE_AT_LATEST},
	}
	for {
		resp, err := c.ListShards(ctx, req)
		if err != nil {
			return nil, grpcapi.FromStatus(err)
		}
		out = append(out, resp.GetShards()...)
		if resp.GetNextToken() == "" {
			return out, nil
		}
		req = &spatev1.ListShardsRequest{NextToken: resp.GetNextToken()}
	}
}

// unaryTransport sends each batch as a unary gRPC PutRecords.
type unaryTransport struct{ c spatev1.StreamServiceClient }

func (t unaryTransport) put(ctx context.Context, stream string, entries []*spatev1.PutRecordsRequestEntry) ([]*spatev1.PutRecordsResultEntry, error) {
	resp, err := t.c.PutRecords(ctx, &spatev1.PutRecordsRequest{StreamName: stream, Records: entries})
	if err != nil {
		return nil, grpcapi.FromStatus(err)
	}
	return resp.GetRecords(), nil
}

func (t unaryTransport) listShards(ctx context.Context, stream string) ([]*spatev1.Shard, error) {
	return listOpenShards(ctx, t.c, stream)
}

func (unaryTransport) close() error { return nil }

// produceTransport sends batches on one Produce stream, opened on first
// use and opened again after it fails. Batches of all shards share it; the
// server commits them concurrently and answers each by its batch id.
type produceTransport struct {
	c spatev1.StreamServiceClient

	mu     sync.Mutex
	conn   *produceConn // nil: none open
	nextID uint64
	closed bool
}

// produceConn is one Produce stream and the batches waiting for answers.
type produceConn struct {
	stream spatev1.StreamService_ProduceClient
	cancel context.CancelFunc
	sendMu sync.Mutex // gRPC allows one sender at a time

	mu      sync.Mutex
	waiting map[uint64]chan *spatev1.ProduceResponse
	err     error // set once the stream failed; then waiting is empty
}

func newProduceTransport(c spatev1.StreamServiceClient) *produceTransport {
	return &produceTransport{c: c}
}

// open returns the open stream, opening one if needed, and a new batch id.
func (t *produceTransport) open() (*produceConn, uint64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, 0, ErrProducerClosed
	}
	t.nextID++
	if t.conn != nil {
		return t.conn, t.nextID, nil
	}
	// The stream outlives any one batch: its context is its own.
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := t.c.Produce(ctx)
	if err != nil {
		cancel()
		return nil, 0, grpcapi.FromStatus(err)
	}
	pc := &produceConn{stream: stream, cancel: cancel, waiting: make(map[uint64]chan *spatev1.ProduceResponse)}
	t.conn = pc
	go t.receive(pc)
	return pc, t.nextID, nil
}

// receive hands each answer to its batch until the stream fails; then it
// fails the batches still waiting and forgets the stream.
func (t *produceTransport) receive(pc *produceConn) {
	for {
		resp, err := pc.stream.Recv()
		if err != nil {
			t.mu.Lock()
			if t.conn == pc {
				t.conn = nil
			}
			t.mu.Unlock()
			pc.fail(fmt.Errorf("produce stream: %w", grpcapi.FromStatus(err)))
			pc.cancel()
			return
		}
		pc.mu.Lock()
		ch := pc.waiting[resp.GetBatchId()]
		delete(pc.waiting, resp.GetBatchId())
		pc.mu.Unlock()
		if ch != nil {
			ch <- resp // buffered
		}
	}
}

// fail fails every waiting batch with err, and every later one.
func (pc *produceConn) fail(err error) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.err == nil {
		pc.err = err
	}
	for id, ch := range pc.waiting {
		close(ch)
		delete(pc.waiting, id)
	}
}

func (t *produceTransport) put(ctx context.Context, stream string, entries []*spatev1.PutRecordsRequestEntry) ([]*spatev1.PutRecordsResultEntry, error) {
	pc, id, err := t.open()
	if err != nil {
		return nil, err
	}
	ch := make(chan *spatev1.ProduceResponse, 1)
	pc.mu.Lock()
	if pc.err != nil {
		pc.mu.Unlock()
		return nil, pc.err
	}
	pc.waiting[id] = ch
	pc.mu.Unlock()
	pc.sendMu.Lock()
	err = pc.stream.Send(&spatev1.ProduceRequest{BatchId: id, StreamName: stream, Records: entries})
	pc.sendMu.Unlock()
	if err != nil {
		// Send returns io.EOF when the stream failed; Recv has its cause.
		pc.stream.CloseSend()
		pc.cancel()
		<-ch // receive closes it when it sees the failure
		return nil, pc.failure()
	}
	select {
	case resp, ok := <-ch:
		if !ok {
			return nil, pc.failure()
		}
		if resp.GetErrorCode() != "" {
			return nil, &apierr.Error{Code: apierr.Code(resp.GetErrorCode()), Message: resp.GetErrorMessage()}
		}
		return resp.GetRecords(), nil
	case <-ctx.Done():
		// The batch's answer may still come; nobody waits for it.
		pc.mu.Lock()
		delete(pc.waiting, id)
		pc.mu.Unlock()
		return nil, ctx.Err()
	}
}

func (pc *produceConn) failure() error {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return pc.err
}

func (t *produceTransport) listShards(ctx context.Context, stream string) ([]*spatev1.Shard, error) {
	return listOpenShards(ctx, t.c, stream)
}

// close ends the stream: the Producer calls it once nothing is in flight.
func (t *produceTransport) close() error {
	t.mu.Lock()
	pc := t.conn
	t.conn, t.closed = nil, true
	t.mu.Unlock()
	if pc != nil {
		pc.sendMu.Lock()
		err := pc.stream.CloseSend()
		pc.sendMu.Unlock()
		pc.cancel()
		return err
	}
	return nil
}

// httpTransport sends batches over the Kinesis HTTP API.
type httpTransport struct{ k *kinesis.Client }

func (t httpTransport) put(ctx context.Context, stream string, entries []*spatev1.PutRecordsRequestEntry) ([]*spatev1.PutRecordsResultEntry, error) {
	in := &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: make([]ktypes.PutRecordsRequestEntry, len(entries))}
	for i, e := range entries {
		in.Records[i] = ktypes.PutRecordsRequestEntry{PartitionKey: aws.String(e.GetPartitionKey()), Data: e.GetData()}
		if e.GetExplicitHashKey() != "" {
			in.Records[i].ExplicitHashKey = aws.String(e.GetExplicitHashKey())
		}
	}
	out, err := t.k.PutRecords(ctx, in)
	if err != nil {
		return nil, fromSmithy(err)
	}
	res := make([]*spatev1.PutRecordsResultEntry, len(out.Records))
	for i, r := range out.Records {
		res[i] = &spatev1.PutRecordsResultEntry{
			SequenceNumber: aws.ToString(r.SequenceNumber),
			ShardId:        aws.ToString(r.ShardId),
			ErrorCode:      aws.ToString(r.ErrorCode),
			ErrorMessage:   aws.ToString(r.ErrorMessage),
		}
	}
	return res, nil
}

func (t httpTransport) listShards(ctx context.Context, stream string) ([]*spatev1.Shard, error) {
	var out []*spatev1.Shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(stream), ShardFilter: &ktypes.ShardFilter{Type: ktypes.ShardFilterTypeAtLatest}}
	for {
		resp, err := t.k.ListShards(ctx, in)
		if err != nil {
			return nil, fromSmithy(err)
		}
		for _, s := range resp.Shards {
			sh := &spatev1.Shard{ShardId: aws.ToString(s.ShardId)}
			if r := s.HashKeyRange; r != nil {
				sh.HashKeyRange = &spatev1.HashKeyRange{StartingHashKey: aws.ToString(r.StartingHashKey), EndingHashKey: aws.ToString(r.EndingHashKey)}
			}
			out = append(out, sh)
		}
		if aws.ToString(resp.NextToken) == "" {
			return out, nil
		}
		in = &kinesis.ListShardsInput{NextToken: resp.NextToken}
	}
}

func (httpTransport) close() error { return nil }

// fromSmithy returns the *apierr.Error of an API error the HTTP API
// answered; any other error unchanged.
func fromSmithy(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return &apierr.Error{Code: apierr.Code(ae.ErrorCode()), Message: ae.ErrorMessage()}
	}
	return err
}
