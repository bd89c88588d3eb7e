package drivers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/spatehq/spate/bench"
)

// kfakeDriver runs franz-go's in-process Kafka fake with its data on disk
// (DataDir) and, for durable workloads, an fsync per produced batch
// (SyncWrites); one partition per shard. It is a reference fake written for
// tests, not Kafka: the ratio says how Spate compares with a simple log
// store that fsyncs, not with a Kafka cluster.
type kfakeDriver struct {
	tmpDir string
	w      bench.Workload
	dir    string
	c      *kfake.Cluster
}

var _ bench.Driver = (*kfakeDriver)(nil)

func newKfake(tmpDir string) bench.Driver { return &kfakeDriver{tmpDir: tmpDir} }

func (d *kfakeDriver) Name() string     { return "kfake" }
func (d *kfakeDriver) Available() error { return nil }

func (d *kfakeDriver) Setup(ctx context.Context, w bench.Workload) error {
	d.w = w
	dir, err := os.MkdirTemp(d.tmpDir, "spate-bench-kfake-*")
	if err != nil {
		return err
	}
	d.dir = dir
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.DataDir(dir), kfake.SeedTopics(int32(w.Shards), streamName)}
	if w.Durable {
		opts = append(opts, kfake.SyncWrites())
	}
	d.c, err = kfake.NewCluster(opts...)
	if err != nil {
		return fmt.Errorf("start kfake: %w", err)
	}
	return nil
}

func (d *kfakeDriver) Close() error {
	if d.c != nil {
		d.c.Close()
	}
	var err error
	if d.dir != "" {
		err = os.RemoveAll(d.dir)
	}
	d.c, d.dir = nil, ""
	return err
}

func (d *kfakeDriver) client(opts ...kgo.Opt) (*kgo.Client, error) {
	opts = append([]kgo.Opt{kgo.SeedBrokers(d.c.ListenAddrs()...)}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kgo client: %w", err)
	}
	return cl, nil
}

func (d *kfakeDriver) Producer(ctx context.Context) (bench.Producer, error) {
	cl, err := d.client(
		kgo.DefaultProduceTopic(streamName),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0),
		kgo.MaxBufferedRecords(1<<20),
	)
	if err != nil {
		return nil, err
	}
	return &kgoProducer{cl: cl, shards: int32(d.w.Shards)}, nil
}

// kgoProducer produces each put with ProduceSync, records spread over the
// partitions round robin.
type kgoProducer struct {
	cl     *kgo.Client
	shards int32
	n      atomic.Uint64
}

func (p *kgoProducer) Put(ctx context.Context, records [][]byte) error {
	base := p.n.Add(uint64(len(records)))
	recs := make([]*kgo.Record, len(records))
	for i, r := range records {
		recs[i] = &kgo.Record{Value: r, Partition: int32((base + uint64(i)) % uint64(p.shards))}
	}
	return p.cl.ProduceSync(ctx, recs...).FirstErr()
}

func (p *kgoProducer) Close() error {
	p.cl.Close()
	return nil
}

// Tail consumes every partition from the start: the topic is new and empty
// when a latency run starts.
func (d *kfakeDriver) Tail(ctx context.Context, fn func([]byte)) (func() error, error) {
	cl, err := d.client(kgo.ConsumeTopics(streamName), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() {
		defer cl.Close()
		for {
			fs := cl.PollFetches(ctx)
			if ctx.Err() != nil {
				done <- nil
				return
			}
			var ferr error
			fs.EachError(func(_ string, _ int32, err error) { ferr = errors.Join(ferr, err) })
			if ferr != nil {
				done <- ferr
				return
			}
			fs.EachRecord(func(r *kgo.Record) { fn(r.Value) })
		}
	}()
	return func() error { return <-done }, nil
}

// CatchUp consumes every partition from the start until it has read want
// records.
func (d *kfakeDriver) CatchUp(ctx context.Context, want int) (int, error) {
	cl, err := d.client(kgo.ConsumeTopics(streamName), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	n := 0
	for n < want {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("read %d of %d records: %w", n, want, err)
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) { ferr = errors.Join(ferr, err) })
		if ferr != nil {
			return n, ferr
		}
		n += fs.NumRecords()
	}
	return n, nil
}
