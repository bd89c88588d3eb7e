package drivers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/spatehq/spate/bench"
)

// natsJS runs a nats-server with JetStream file storage, one JetStream
// stream per shard (subject bench.<i>). Durable workloads set
// sync_interval: always (fsync before the ack); relaxed ones keep the
// server's default (fsync every two minutes), which is how it is usually
// run.
type natsJS struct {
	bin    string
	tmpDir string
	w      bench.Workload
	dir    string
	proc   *process
	url    string
}

var _ bench.Driver = (*natsJS)(nil)

func (d *natsJS) Name() string { return "nats" }

func (d *natsJS) Available() error {
	if _, err := os.Stat(d.bin); err != nil {
		return bench.ErrNotInstalled
	}
	return nil
}

func natsSubject(i int) string { return streamName + "." + strconv.Itoa(i) }
func natsStream(i int) string  { return streamName + "-" + strconv.Itoa(i) }

func (d *natsJS) Setup(ctx context.Context, w bench.Workload) error {
	d.w = w
	dir, err := os.MkdirTemp(d.tmpDir, "spate-bench-nats-*")
	if err != nil {
		return err
	}
	d.dir = dir
	port, err := freePort()
	if err != nil {
		return err
	}
	sync := ""
	if w.Durable {
		sync = "\n  sync_interval: always"
	}
	conf := fmt.Sprintf("listen: \"127.0.0.1:%d\"\njetstream {\n  store_dir: %q%s\n}\n", port, filepath.Join(dir, "js"), sync)
	confPath := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		return err
	}
	if d.proc, err = startProcess(d.bin, "-c", confPath); err != nil {
		return err
	}
	d.url = fmt.Sprintf("nats://127.0.0.1:%d", port)
	var nc *nats.Conn
	if err := d.proc.waitReady(ctx, func() error {
		var err error
		nc, err = nats.Connect(d.url)
		return err
	}); err != nil {
		return fmt.Errorf("nats-server: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	for i := range w.Shards {
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
			Name: natsStream(i), Subjects: []string{natsSubject(i)}, Storage: jetstream.FileStorage,
		}); err != nil {
			return fmt.Errorf("create stream %s: %w", natsStream(i), err)
		}
	}
	return nil
}

func (d *natsJS) Close() error {
	d.proc.stop()
	var err error
	if d.dir != "" {
		err = os.RemoveAll(d.dir)
	}
	d.proc, d.dir = nil, ""
	return err
}

func (d *natsJS) connect() (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect(d.url)
	if err != nil {
		return nil, nil, fmt.Errorf("connect %s: %w", d.url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

func (d *natsJS) Producer(ctx context.Context) (bench.Producer, error) {
	nc, js, err := d.connect()
	if err != nil {
		return nil, err
	}
	return &natsProducer{nc: nc, js: js, shards: d.w.Shards}, nil
}

// natsProducer publishes a single record with Publish, and a batch with
// PublishAsync, waiting for every ack: JetStream's way to pipeline.
type natsProducer struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	shards int
	n      atomic.Uint64
}

func (p *natsProducer) Put(ctx context.Context, records [][]byte) error {
	base := p.n.Add(uint64(len(records)))
	subject := func(i int) string { return natsSubject(int((base + uint64(i)) % uint64(p.shards))) }
	if len(records) == 1 {
		_, err := p.js.Publish(ctx, subject(0), records[0])
		return err
	}
	futures := make([]jetstream.PubAckFuture, len(records))
	for i, r := range records {
		f, err := p.js.PublishAsync(subject(i), r)
		if err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		futures[i] = f
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("publish: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (p *natsProducer) Close() error {
	p.nc.Close()
	return nil
}

// Tail consumes every stream from its start with an ordered consumer: the
// streams are new and empty when a latency run starts.
func (d *natsJS) Tail(ctx context.Context, fn func([]byte)) (func() error, error) {
	nc, js, err := d.connect()
	if err != nil {
		return nil, err
	}
	var ccs []jetstream.ConsumeContext
	stopAll := func() {
		for _, cc := range ccs {
			cc.Stop()
		}
		nc.Close()
	}
	for i := range d.w.Shards {
		cons, err := js.OrderedConsumer(ctx, natsStream(i), jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
		if err != nil {
			stopAll()
			return nil, fmt.Errorf("ordered consumer: %w", err)
		}
		cc, err := cons.Consume(func(m jetstream.Msg) { fn(m.Data()) })
		if err != nil {
			stopAll()
			return nil, fmt.Errorf("consume: %w", err)
		}
		ccs = append(ccs, cc)
	}
	return func() error {
		<-ctx.Done()
		stopAll()
		return nil
	}, nil
}

// CatchUp reads every stream from its start until it has read as many
// messages as the stream holds (an acknowledged publish is stored, so the
// counts add up to want).
func (d *natsJS) CatchUp(ctx context.Context, _ int) (int, error) {
	nc, js, err := d.connect()
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	total := 0
	for i := range d.w.Shards {
		s, err := js.Stream(ctx, natsStream(i))
		if err != nil {
			return total, err
		}
		info, err := s.Info(ctx)
		if err != nil {
			return total, err
		}
		want := int(info.State.Msgs)
		if want == 0 {
			continue
		}
		cons, err := js.OrderedConsumer(ctx, natsStream(i), jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
		if err != nil {
			return total, err
		}
		it, err := cons.Messages(jetstream.PullMaxMessages(4096))
		if err != nil {
			return total, err
		}
		for n := 0; n < want; n++ {
			if _, err := it.Next(jetstream.NextContext(ctx)); err != nil {
				it.Stop()
				return total, fmt.Errorf("read %s: %w", natsStream(i), err)
			}
			total++
		}
		it.Stop()
	}
	return total, nil
}
