package drivers

import (
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/spatehq/spate/bench"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// selfGRPCForBench sets up the self-grpc target for w and returns it with
// one producer; both are closed when the benchmark ends.
func selfGRPCForBench(b *testing.B, w bench.Workload) (*selfGRPC, bench.Producer) {
	d := &selfGRPC{self: self{tmpDir: b.TempDir()}}
	return d, setUpForBench(b, d, w)
}

// setUpForBench sets d up for w and returns one producer of it; both are
// closed when the benchmark ends.
func setUpForBench(b *testing.B, d bench.Driver, w bench.Workload) bench.Producer {
	b.Helper()
	ctx := b.Context()
	if err := d.Setup(ctx, w); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := d.Close(); err != nil {
			b.Error(err)
		}
	})
	p, err := d.Producer(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close() })
	return p
}

// BenchmarkSelfGRPCCatchUp measures the catch-up read alone (GetRecords
// over gRPC from TRIM_HORIZON on every shard), the phase of `spate bench`
// that is hardest to profile inside the whole run.
func BenchmarkSelfGRPCCatchUp(b *testing.B) {
	d := &selfGRPC{self: self{tmpDir: b.TempDir()}}
	benchCatchUp(b, d)
}

// BenchmarkCatchUp is BenchmarkSelfGRPCCatchUp for every in-process target
// of `spate bench`: Spate over the Kinesis HTTP API in JSON (aws-sdk-go-v2)
// and in CBOR, SubscribeToShard (aws-sdk-go-v2's event-stream reader), and
// the references it is compared with. Their CPU per
// record, client and server together, compares the targets' work where the
// machine's load makes records/s too noisy to.
func BenchmarkCatchUp(b *testing.B) {
	for _, name := range []string{"self-grpc", "self-http", "self-http-cbor", "self-http-efo", "pebble-raw", "kfake"} {
		b.Run(name, func(b *testing.B) {
			ds, err := New([]string{name}, "", b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			benchCatchUp(b, ds[0])
		})
	}
}

// benchCatchUp puts 200,000 records of 100 B into d (relaxed, 4 shards),
// settles it, and measures d.CatchUp reading them all.
func benchCatchUp(b *testing.B, d bench.Driver) {
	const records = 200_000
	w := bench.Workload{RecordSize: 100, Batch: 500, Shards: 4, Producers: 1, Durable: false}
	p := setUpForBench(b, d, w)
	ctx := b.Context()
	batch := bench.NewBatch(w.Batch, w.RecordSize)
	for range records / w.Batch {
		if err := p.Put(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	// Settled as spate bench's catch-up measurement settles it.
	if s, ok := d.(bench.Settler); ok {
		if err := s.Settle(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	cpu := startCPU(b)
	read := 0
	for b.Loop() {
		n, err := d.CatchUp(ctx, records)
		if err != nil {
			b.Fatal(err)
		}
		if n != records {
			b.Fatalf("caught up %d records, want %d", n, records)
		}
		read += n
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "rec/s")
	cpu.report(read)
}

// cpuMeter measures the process's CPU time (user and system, every
// goroutine: client and server both run in the benchmark) over a benchmark.
// On a machine shared with other work, CPU time per record varies far less
// from run to run than records per second of wall time.
type cpuMeter struct {
	b     *testing.B
	start time.Duration
}

func startCPU(b *testing.B) cpuMeter { return cpuMeter{b, processCPU(b)} }

// report adds the CPU nanoseconds per record of the n records handled.
func (m cpuMeter) report(n int) {
	if n > 0 {
		m.b.ReportMetric(float64(processCPU(m.b)-m.start)/float64(n), "cpu-ns/rec")
	}
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSelfGRPCPut measures PutRecords over gRPC (500 records of 100 B)
// in relaxed mode, so the figure is the CPU cost of the put path (client
// encode, transport, server decode, Append) without the disk's fsync rate,
// which varies far more from run to run than the code does.
func BenchmarkSelfGRPCPut(b *testing.B) {
	w := bench.Workload{RecordSize: 100, Batch: 500, Shards: 4, Producers: 1, Durable: false}
	_, p := selfGRPCForBench(b, w)
	ctx := b.Context()
	batch := bench.NewBatch(w.Batch, w.RecordSize)
	put := 0
	for b.Loop() {
		if err := p.Put(ctx, batch); err != nil {
			b.Fatal(err)
		}
		put += len(batch)
	}
	b.ReportMetric(float64(put)/b.Elapsed().Seconds(), "rec/s")
}

// BenchmarkSelfGRPCPutRecord measures PutRecord (one 100 B record per call)
// over gRPC from 8 producers, each on its own connection, in relaxed mode:
// the per-request cost of the unary path, which bounds the batch-1 target.
func BenchmarkSelfGRPCPutRecord(b *testing.B) {
	batch := bench.NewBatch(1, 100) // only read by Put, so shared
	benchEightConnections(b, func(ctx context.Context, p *grpcProducer) error { return p.Put(ctx, batch) })
}

// BenchmarkSelfGRPCUnaryFloor is BenchmarkSelfGRPCPutRecord with ListShards,
// which reads only the stream's metadata, in place of PutRecord: what a
// unary call over gRPC costs on this machine with the store left out, the
// ceiling of PutRecord from 8 producers.
func BenchmarkSelfGRPCUnaryFloor(b *testing.B) {
	benchEightConnections(b, func(ctx context.Context, p *grpcProducer) error {
		_, err := p.c.ListShards(ctx, &spatev1.ListShardsRequest{StreamName: streamName})
		return err
	})
}

// benchEightConnections runs call b.N times in all from 8 goroutines, each
// with its own producer (its own connection) to a relaxed self-grpc target
// of 4 shards, and reports calls per second as rec/s.
func benchEightConnections(b *testing.B, call func(context.Context, *grpcProducer) error) {
	const producers = 8
	w := bench.Workload{RecordSize: 100, Batch: 1, Shards: 4, Producers: producers, Durable: false}
	d, first := selfGRPCForBench(b, w)
	ctx := b.Context()
	pool := make(chan *grpcProducer, producers)
	pool <- first.(*grpcProducer)
	for range producers - 1 {
		p, err := d.Producer(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = p.Close() })
		pool <- p.(*grpcProducer)
	}
	b.SetParallelism((producers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		p := <-pool
		defer func() { pool <- p }()
		for pb.Next() {
			if err := call(ctx, p); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rec/s")
}
