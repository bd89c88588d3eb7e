package drivers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/spatehq/spate/api/grpcapi"
	"github.com/spatehq/spate/api/kinesisapi"
	"github.com/spatehq/spate/bench"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// self is an in-process Spate wired the way `spate serve` wires it (a
// shard.Store, the gRPC API, the Kinesis JSON API on its own port), without
// Firehose and Analytics, which the stream benchmarks do not touch.
type self struct {
	tmpDir string
	w      bench.Workload

	dir      string
	store    *shard.Store
	grpcSrv  *grpc.Server
	api      *grpcapi.Server
	httpSrv  *http.Server
	grpcAddr string
	httpAddr string
	serving  errgroup.Group
}

func (s *self) Available() error { return nil }

func (s *self) Setup(ctx context.Context, w bench.Workload) error {
	s.w = w
	dir, err := os.MkdirTemp(s.tmpDir, "spate-bench-self-*")
	if err != nil {
		return err
	}
	s.dir = dir
	durability := shard.DurabilitySync
	if !w.Durable {
		durability = shard.DurabilityRelaxed
	}
	s.store, err = shard.Open(dir, shard.WithDurability(durability), shard.WithTrimInterval(time.Hour))
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	if err := s.store.CreateStream(ctx, shard.CreateStreamInput{Name: streamName, ShardCount: w.Shards}); err != nil {
		return fmt.Errorf("create stream: %w", err)
	}
	var lc net.ListenConfig
	grpcLn, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	httpLn, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		grpcLn.Close()
		return err
	}
	s.grpcAddr, s.httpAddr = grpcLn.Addr().String(), httpLn.Addr().String()
	s.grpcSrv = grpc.NewServer(grpcapi.ServerOptions()...)
	s.api = grpcapi.Register(s.grpcSrv, s.store)
	// HTTP/1.1 and h2c on one port, as `spate serve` listens.
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	kinesisHTTP := kinesisapi.NewHandler(s.store)
	s.httpSrv = &http.Server{Handler: kinesisHTTP, ReadHeaderTimeout: 30 * time.Second, Protocols: protocols}
	s.httpSrv.RegisterOnShutdown(kinesisHTTP.Close) // SubscribeToShard streams (self-http-efo)
	s.serving.Go(func() error {
		if err := s.grpcSrv.Serve(grpcLn); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			return err
		}
		return nil
	})
	s.serving.Go(func() error {
		if err := s.httpSrv.Serve(httpLn); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	return nil
}

// Settle flushes the store's memtable to disk (bench.Settler).
func (s *self) Settle(ctx context.Context) error { return s.store.Flush(ctx) }

func (s *self) Close() error {
	var err error
	if s.api != nil {
		s.api.Close() // ends Subscribe streams, which never end on their own
	}
	if s.grpcSrv != nil {
		s.grpcSrv.Stop()
	}
	if s.httpSrv != nil {
		// Shutdown lets requests in flight finish before the store closes
		// under them (Close alone left GetRecords to fail with "the store
		// is shutting down", logged as an InternalFailure); Close ends
		// whatever is still running after the grace period.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if serr := s.httpSrv.Shutdown(ctx); serr != nil {
			err = errors.Join(err, s.httpSrv.Close())
		}
		cancel()
	}
	err = errors.Join(err, s.serving.Wait())
	if s.store != nil {
		err = errors.Join(err, s.store.Close())
	}
	if s.dir != "" {
		err = errors.Join(err, os.RemoveAll(s.dir))
	}
	*s = self{tmpDir: s.tmpDir}
	return err
}

// selfGRPC drives the in-process server through its gRPC API.
type selfGRPC struct{ self }

var _ bench.Driver = (*selfGRPC)(nil)

func (d *selfGRPC) Name() string { return "self-grpc" }

func (d *selfGRPC) dial() (*grpc.ClientConn, spatev1.StreamServiceClient, error) {
	conn, err := grpc.NewClient("passthrough:///"+d.grpcAddr,
		append(grpcapi.DialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		return nil, nil, fmt.Errorf("dial %s: %w", d.grpcAddr, err)
	}
	return conn, spatev1.NewStreamServiceClient(conn), nil
}

func (d *selfGRPC) Producer(ctx context.Context) (bench.Producer, error) {
	conn, c, err := d.dial()
	if err != nil {
		return nil, err
	}
	return &grpcProducer{conn: conn, c: c}, nil
}

// grpcProducer puts over one gRPC connection: PutRecord for a single
// record, PutRecords otherwise.
type grpcProducer struct {
	conn *grpc.ClientConn
	c    spatev1.StreamServiceClient
	n    atomic.Uint64
}

func (p *grpcProducer) Put(ctx context.Context, records [][]byte) error {
	base := p.n.Add(uint64(len(records)))
	if len(records) == 1 {
		_, err := p.c.PutRecord(ctx, &spatev1.PutRecordRequest{StreamName: streamName, Data: records[0], PartitionKey: partitionKey(base)})
		return err
	}
	// The entries in one block: the client shares the cores with the
	// server it measures, so its allocations count against the target.
	entries := make([]*spatev1.PutRecordsRequestEntry, len(records))
	block := make([]spatev1.PutRecordsRequestEntry, len(records))
	for i, r := range records {
		block[i].Data, block[i].PartitionKey = r, partitionKey(base+uint64(i))
		entries[i] = &block[i]
	}
	out, err := p.c.PutRecords(ctx, &spatev1.PutRecordsRequest{StreamName: streamName, Records: entries})
	if err != nil {
		return err
	}
	if n := out.GetFailedRecordCount(); n > 0 {
		return fmt.Errorf("PutRecords: %d of %d records failed", n, len(records))
	}
	return nil
}

func (p *grpcProducer) Close() error { return p.conn.Close() }

// Tail subscribes to every shard from TRIM_HORIZON: the stream is new and
// empty when a latency run starts, so nothing put after Tail returns is
// missed however long the subscriptions take to reach the server.
func (d *selfGRPC) Tail(ctx context.Context, fn func([]byte)) (func() error, error) {
	conn, c, err := d.dial()
	if err != nil {
		return nil, err
	}
	g, gctx := errgroup.WithContext(ctx)
	for i := range d.w.Shards {
		stream, err := c.Subscribe(gctx, &spatev1.SubscribeRequest{
			StreamName: streamName, ShardId: shard.ShardID(uint32(i)),
			StartingPosition: &spatev1.StartingPosition{Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON},
		})
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("subscribe: %w", err)
		}
		g.Go(func() error {
			for {
				ev, err := stream.Recv()
				if err == io.EOF {
					// The shard was closed by a reshard and read to its
					// end. The benchmark's streams keep their shards, so
					// its children are not followed (spate tail does).
					return nil
				}
				if err != nil {
					if gctx.Err() != nil {
						return nil
					}
					return err
				}
				for _, r := range ev.GetRecords() {
					fn(r.GetData())
				}
			}
		})
	}
	return func() error { return errors.Join(g.Wait(), conn.Close()) }, nil
}

func (d *selfGRPC) CatchUp(ctx context.Context, want int) (int, error) {
	conn, c, err := d.dial()
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	iters := make([]string, d.w.Shards)
	for i := range iters {
		it, err := c.GetShardIterator(ctx, &spatev1.GetShardIteratorRequest{
			StreamName: streamName, ShardId: shard.ShardID(uint32(i)),
			ShardIteratorType: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON,
		})
		if err != nil {
			return 0, err
		}
		iters[i] = it.GetShardIterator()
	}
	// Each reader reads its replies into one GetRecordsReply, which decodes
	// every field of every record into views of one reused buffer instead
	// of a spatev1.Record apiece: what grpcapi offers any Go reader that
	// does not keep the records.
	replies := make([]grpcapi.GetRecordsReply, len(iters))
	return readPerShard(ctx, want, len(iters), func(ctx context.Context, i int) (int, error) {
		out := &replies[i]
		err := grpcapi.GetRecords(ctx, conn, &spatev1.GetRecordsRequest{ShardIterator: iters[i], Limit: shard.MaxGetRecordsLimit}, out)
		if err != nil {
			return 0, err
		}
		iters[i] = out.NextShardIterator
		return len(out.Records()), nil
	})
}

// selfHTTP drives the in-process server through its Kinesis HTTP API the
// way a client application does: with aws-sdk-go-v2 over HTTP/1.1 exactly
// as kinesalite is driven (self-http), the same over HTTP/2 without TLS
// (self-http-h2c, what @aws-sdk/client-kinesis v3 speaks), or in AWS CBOR
// over HTTP/1.1 (self-http-cbor, what the Java SDK, the KCL and the KPL
// send by default).
type selfHTTP struct {
	self
	wire httpWire
}

// httpWire is how a selfHTTP target talks to the server.
type httpWire int

const (
	wireJSON httpWire = iota // aws-sdk-go-v2, HTTP/1.1
	wireH2C                  // aws-sdk-go-v2, h2c
	wireCBOR                 // cborClient, HTTP/1.1
)

var _ bench.Driver = (*selfHTTP)(nil)

func (d *selfHTTP) Name() string {
	switch d.wire {
	case wireH2C:
		return "self-http-h2c"
	case wireCBOR:
		return "self-http-cbor"
	}
	return "self-http"
}

// client is the target's client: a bench.Producer and a kinesisReader.
type httpClient interface {
	bench.Producer
	kinesisReader
}

func (d *selfHTTP) client() httpClient {
	endpoint := "http://" + d.httpAddr
	if d.wire == wireCBOR {
		return newCBORClient(endpoint)
	}
	return newSDKClient(endpoint, d.w.Shards, d.wire == wireH2C)
}

func (d *selfHTTP) Producer(ctx context.Context) (bench.Producer, error) { return d.client(), nil }

func (d *selfHTTP) Tail(ctx context.Context, fn func([]byte)) (func() error, error) {
	c := d.client()
	return pollTail(ctx, c, d.w.Shards, fn, c.Close)
}

func (d *selfHTTP) CatchUp(ctx context.Context, want int) (int, error) {
	c := d.client()
	defer c.Close()
	return pollCatchUp(ctx, c, d.w.Shards, want)
}
