package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	"github.com/spatehq/spate/api/grpcapi"
	"github.com/spatehq/spate/client"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// ProducerConfig is the producer-SDK measurement (issue 14): Producers
// goroutines, each with its own client.Producer and connection, put single
// records with Put and wait for every record's acknowledgement, against an
// in-process server over gRPC on loopback (durable: every batch fsynced).
// In the same round the same number of goroutines put batches of Batch
// records with unary PutRecords: the batched figure the SDK is held to.
type ProducerConfig struct {
	Producers  int
	RecordSize int // bytes of data per record
	Shards     int
	Batch      int // records per PutRecords of the batched figure
	// Window is how many records a producer keeps put and not yet
	// acknowledged: an application that puts record by record and
	// handles each acknowledgement as it comes.
	Window     int
	Transports []client.Transport // the SDK rows, one per transport
	Duration   time.Duration      // of each run
	Rounds     int
	TmpDir     string    // where each round's store lives ("": the system's)
	Log        io.Writer // one progress line per run; nil discards them
}

// DefaultProducerConfig is the full run: 8 producers, 100 B records, 4
// shards, PutRecords of 500, a window of 1,000 records, 3 s runs, three
// rounds, the SDK over the Produce stream and over unary PutRecords.
func DefaultProducerConfig() ProducerConfig {
	return ProducerConfig{Producers: 8, RecordSize: 100, Shards: 4, Batch: 500, Window: 1000,
		Transports: []client.Transport{client.TransportProduce, client.TransportPutRecords},
		Duration:   3 * time.Second, Rounds: 3}
}

// QuickProducerConfig is the --quick run: 1 s runs.
func QuickProducerConfig() ProducerConfig {
	c := DefaultProducerConfig()
	c.Duration = time.Second
	return c
}

// ProducerResult holds the medians of the rounds; NaN when not measured.
type ProducerResult struct {
	Status               string // empty when measured, else why not
	Config               ProducerConfig
	BatchedRecordsPerSec float64
	BatchedCPUMicros     float64             // CPU µs per record, as ProducerSDKResult's
	SDK                  []ProducerSDKResult // one per transport
}

// ProducerSDKResult is the SDK over one transport.
type ProducerSDKResult struct {
	Transport     client.Transport
	Status        string
	RecordsPerSec float64
	// AckP50Ms and AckP99Ms are from Put to the record's acknowledgement.
	AckP50Ms, AckP99Ms float64
	// Ratio is RecordsPerSec over the same round's batched figure.
	Ratio float64
	// CPUMicros is the process's CPU time (client and server: both run
	// in it) per record acknowledged, in µs: what the SDK costs, however
	// busy the machine is.
	CPUMicros float64
	Rounds    []float64
}

// producerRound is one round's figures: the batched rate, and per
// transport the SDK's rate and acknowledgement latencies.
type producerRound struct {
	batched sdkRun
	sdk     []sdkRun
}

// sdkRun is one run's figures: records/s, latencies and CPU µs per record.
type sdkRun struct {
	rate, p50, p99, cpu float64
	err                 error
}

// cpuMeter measures the process's CPU time per record over a run.
type cpuMeter struct {
	start time.Duration
	ok    bool
}

func startCPU() cpuMeter {
	d, ok := processCPU()
	return cpuMeter{start: d, ok: ok}
}

// perRecord is the CPU µs per record since start; NaN when unknown.
func (m cpuMeter) perRecord(records int64) float64 {
	end, ok := processCPU()
	if !m.ok || !ok || records == 0 {
		return math.NaN()
	}
	return float64((end - m.start).Microseconds()) / float64(records)
}

// RunProducer measures the SDK and the batched figure. Only a cancelled
// ctx is an error; a failed run is NaN.
func RunProducer(ctx context.Context, cfg ProducerConfig) (ProducerResult, error) {
	res := ProducerResult{Config: cfg, BatchedRecordsPerSec: math.NaN(), BatchedCPUMicros: math.NaN()}
	if cfg.Producers < 1 || cfg.Shards < 1 || cfg.Batch < 1 || cfg.Window < 1 || cfg.Rounds < 1 || cfg.Duration <= 0 || cfg.RecordSize < stampLen {
		return res, fmt.Errorf("producer bench: want producers, shards, batch, window and rounds >= 1, a duration, records of at least %d bytes", stampLen)
	}
	var rounds []producerRound
	var lastErr error
	for round := range cfg.Rounds {
		r, err := producerRound1(ctx, cfg)
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if err != nil {
			lastErr = err
			if cfg.Log != nil {
				fmt.Fprintf(cfg.Log, "round %d/%d producer SDK: %v\n", round+1, cfg.Rounds, err)
			}
			continue
		}
		rounds = append(rounds, r)
		if cfg.Log != nil {
			line := fmt.Sprintf("round %d/%d producer SDK: batched PutRecords %s/s (%.1f µs CPU/record)", round+1, cfg.Rounds, FormatRate(r.batched.rate), r.batched.cpu)
			for i, t := range cfg.Transports {
				if e := r.sdk[i].err; e != nil {
					line += fmt.Sprintf(", %s: %v", t, e)
					continue
				}
				line += fmt.Sprintf(", SDK %s %s/s (%.2fx, %.1f µs CPU/record) ack p99 %.1f ms", t, FormatRate(r.sdk[i].rate), r.sdk[i].rate/r.batched.rate, r.sdk[i].cpu, r.sdk[i].p99)
			}
			fmt.Fprintln(cfg.Log, line)
		}
	}
	if len(rounds) == 0 {
		res.Status = fmt.Sprint(lastErr)
		return res, nil
	}
	res.BatchedRecordsPerSec = medianOf(rounds, func(r producerRound) float64 { return r.batched.rate })
	res.BatchedCPUMicros = medianOf(rounds, func(r producerRound) float64 { return r.batched.cpu })
	for i, t := range cfg.Transports {
		s := ProducerSDKResult{Transport: t}
		var ok []producerRound
		for _, r := range rounds {
			if r.sdk[i].err != nil {
				s.Status = "failed: " + r.sdk[i].err.Error()
				s.Rounds = append(s.Rounds, math.NaN())
				continue
			}
			ok = append(ok, r)
			s.Rounds = append(s.Rounds, r.sdk[i].rate)
		}
		if len(ok) > 0 {
			s.Status = ""
		}
		s.RecordsPerSec = medianOf(ok, func(r producerRound) float64 { return r.sdk[i].rate })
		s.AckP50Ms = medianOf(ok, func(r producerRound) float64 { return r.sdk[i].p50 })
		s.AckP99Ms = medianOf(ok, func(r producerRound) float64 { return r.sdk[i].p99 })
		s.Ratio = medianOf(ok, func(r producerRound) float64 { return r.sdk[i].rate / r.batched.rate })
		s.CPUMicros = medianOf(ok, func(r producerRound) float64 { return r.sdk[i].cpu })
		res.SDK = append(res.SDK, s)
	}
	return res, nil
}

// producerRound1 runs one round: the batched run, then each SDK run, each
// on a fresh store and server.
func producerRound1(ctx context.Context, cfg ProducerConfig) (producerRound, error) {
	var out producerRound
	err := withProducerServer(ctx, cfg, func(c []*client.Client) error {
		var err error
		out.batched, err = batchedRun(ctx, cfg, c)
		return err
	})
	if err != nil {
		return out, fmt.Errorf("batched PutRecords: %w", err)
	}
	for _, t := range cfg.Transports {
		var run sdkRun
		run.err = withProducerServer(ctx, cfg, func(c []*client.Client) error {
			var err error
			run, err = sdkRun1(ctx, cfg, t, c)
			return err
		})
		out.sdk = append(out.sdk, run)
	}
	return out, nil
}

// benchStream is the stream of the producer runs.
const benchStream = "bench-producer"

// withProducerServer serves a fresh durable store over gRPC on loopback,
// with a stream of cfg.Shards shards, and calls fn with one client per
// producer.
func withProducerServer(ctx context.Context, cfg ProducerConfig, fn func([]*client.Client) error) (err error) {
	dir, err := os.MkdirTemp(cfg.TmpDir, "spate-bench-producer-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := shard.Open(dir, shard.WithDurability(shard.DurabilitySync), shard.WithTrimInterval(time.Hour))
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	if err := st.CreateStream(ctx, shard.CreateStreamInput{Name: benchStream, ShardCount: cfg.Shards}); err != nil {
		return fmt.Errorf("create stream: %w", err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := grpc.NewServer(grpcapi.ServerOptions()...)
	grpcapi.Register(srv, st)
	var serving errgroup.Group
	serving.Go(func() error { return srv.Serve(ln) })
	defer func() {
		srv.Stop()
		if serr := serving.Wait(); serr != nil && !errors.Is(serr, grpc.ErrServerStopped) {
			err = errors.Join(err, serr)
		}
	}()
	clients := make([]*client.Client, cfg.Producers)
	for i := range clients {
		if clients[i], err = client.New(ln.Addr().String()); err != nil {
			return err
		}
		defer clients[i].Close()
	}
	return fn(clients)
}

// batchedRun puts batches of cfg.Batch with unary PutRecords from every
// producer back to back for cfg.Duration.
func batchedRun(ctx context.Context, cfg ProducerConfig, clients []*client.Client) (sdkRun, error) {
	run := sdkRun{rate: math.NaN(), p50: math.NaN(), p99: math.NaN(), cpu: math.NaN()}
	var acked atomic.Int64
	cpu := startCPU()
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	for p, c := range clients {
		g.Go(func() error {
			keys := producerKeys(p)
			records := NewBatch(cfg.Batch, cfg.RecordSize)
			for n := 0; time.Since(start) < cfg.Duration; n++ {
				// Built for every call, as an application that batches
				// its own records does (and the self-grpc target).
				now := time.Now()
				entries := make([]*spatev1.PutRecordsRequestEntry, len(records))
				block := make([]spatev1.PutRecordsRequestEntry, len(records))
				for i, data := range records {
					Stamp(data, now)
					block[i].Data, block[i].PartitionKey = data, keys[(n*len(records)+i)%len(keys)]
					entries[i] = &block[i]
				}
				out, err := c.Streams.PutRecords(gctx, &spatev1.PutRecordsRequest{StreamName: benchStream, Records: entries})
				if err != nil {
					return err
				}
				if n := out.GetFailedRecordCount(); n > 0 {
					return fmt.Errorf("PutRecords: %d of %d records failed", n, len(entries))
				}
				acked.Add(int64(len(entries)))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return run, err
	}
	run.rate = float64(acked.Load()) / time.Since(start).Seconds()
	run.cpu = cpu.perRecord(acked.Load())
	return run, nil
}

// sdkRun1 puts single records through one client.Producer per producer,
// each keeping cfg.Window records in flight, for cfg.Duration, and
// returns the records acknowledged per second and the acknowledgement
// latencies.
func sdkRun1(ctx context.Context, cfg ProducerConfig, t client.Transport, clients []*client.Client) (sdkRun, error) {
	run := sdkRun{rate: math.NaN(), p50: math.NaN(), p99: math.NaN(), cpu: math.NaN()}
	lat := NewLatencies()
	var acked atomic.Int64
	cpu := startCPU()
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	for p, c := range clients {
		g.Go(func() error {
			prod, err := client.NewProducer(c, benchStream, client.WithTransport(t))
			if err != nil {
				return err
			}
			// The records are reused: one window's worth, each stamped
			// when put and not changed until acknowledged.
			records := NewBatch(cfg.Window, cfg.RecordSize)
			keys := producerKeys(p)
			window := make([]*client.PutResult, 0, cfg.Window)
			n := 0
			wait := func(r *client.PutResult) error {
				if _, _, err := r.Wait(gctx); err != nil {
					return err
				}
				// Every 8th record's latency: the histogram's lock, shared
				// by the producers, would otherwise weigh on the run.
				if n++; n%8 == 0 {
					if at, ok := StampOf(r.Record().Data); ok {
						lat.Record(time.Since(at))
					}
				}
				acked.Add(1)
				return nil
			}
			for i := 0; time.Since(start) < cfg.Duration; i++ {
				if len(window) == cfg.Window {
					if err := wait(window[0]); err != nil {
						return err
					}
					window = window[1:]
				}
				data := records[i%cfg.Window]
				Stamp(data, time.Now())
				window = append(window, prod.Put(gctx, keys[i%len(keys)], data))
			}
			for _, r := range window {
				if err := wait(r); err != nil {
					return err
				}
			}
			return prod.Close(gctx)
		})
	}
	if err := g.Wait(); err != nil {
		return run, err
	}
	run.rate = float64(acked.Load()) / time.Since(start).Seconds()
	run.cpu = cpu.perRecord(acked.Load())
	run.p50, run.p99 = lat.Quantile(50), lat.Quantile(99)
	return run, nil
}

// producerKeys are producer p's partition keys, made once so that
// formatting them is not part of the measurement.
func producerKeys(p int) []string {
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = fmt.Sprintf("p%d-%d", p, i)
	}
	return keys
}

// producerMarkdown writes the producer-SDK section.
func (r Report) producerMarkdown(b *strings.Builder) {
	x := r.Producer
	if x == nil {
		return
	}
	c := x.Config
	b.WriteString("\n### Producer SDK\n\n")
	if x.Status != "" {
		fmt.Fprintf(b, "| run | records/s |\n|---|---:|\n| batched PutRecords | %s |\n", x.Status)
		return
	}
	fmt.Fprintf(b, "In process over gRPC on loopback, durable: %d producers, each with its own connection, on a stream of %s, %s records. "+
		"The SDK rows put single records with client.Producer.Put, %d in flight per producer, and wait for every record's acknowledgement; "+
		"the batched row puts batches of %d with unary PutRecords. %v runs, median of %s. CPU µs/record is the process's CPU time (client and server) per record acknowledged. Goal (issue 14): the SDK over the Produce stream at least 50 k records/s and 0.8x the batched figure.\n\n",
		c.Producers, plural(c.Shards, "shard"), formatSize(c.RecordSize), c.Window, c.Batch, c.Duration, plural(c.Rounds, "round"))
	b.WriteString("| run | records/s | ack p50 ms | ack p99 ms | / batched | CPU µs/record |\n|---|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(b, "| batched PutRecords (%d per call) | %s | | | 1.00x | %s |\n", c.Batch, FormatRate(x.BatchedRecordsPerSec),
		formatFloat(x.BatchedCPUMicros, 1))
	for _, s := range x.SDK {
		if s.Status != "" {
			fmt.Fprintf(b, "| SDK over %s | %s | | | | |\n", s.Transport, s.Status)
			continue
		}
		fmt.Fprintf(b, "| SDK over %s, single records | %s | %s | %s | %s | %s |\n", s.Transport, FormatRate(s.RecordsPerSec),
			formatFloat(s.AckP50Ms, 2), formatFloat(s.AckP99Ms, 2), FormatRatio(s.Ratio), formatFloat(s.CPUMicros, 1))
	}
}

// producerLine is a JSON line of the producer-SDK section.
type producerLine struct {
	Target    string     `json:"target"`
	Status    string     `json:"status,omitempty"`
	Producers int        `json:"producers"`
	Shards    int        `json:"shards"`
	Rate      *float64   `json:"records_per_sec"`
	AckP50    *float64   `json:"ack_p50_ms,omitempty"`
	AckP99    *float64   `json:"ack_p99_ms,omitempty"`
	Ratio     *float64   `json:"ratio_to_batched,omitempty"`
	CPUMicros *float64   `json:"cpu_us_per_record,omitempty"`
	Rounds    []*float64 `json:"rounds_records_per_sec,omitempty"`
	Quick     bool       `json:"quick"`
}

func (r Report) producerJSONLines(enc *json.Encoder) error {
	x := r.Producer
	if x == nil {
		return nil
	}
	lines := []producerLine{{Target: "producer-batched-putrecords", Status: x.Status, Rate: num(x.BatchedRecordsPerSec), CPUMicros: num(x.BatchedCPUMicros)}}
	for _, s := range x.SDK {
		lines = append(lines, producerLine{Target: "producer-sdk-" + s.Transport.String(), Status: s.Status, Rate: num(s.RecordsPerSec),
			AckP50: num(s.AckP50Ms), AckP99: num(s.AckP99Ms), Ratio: num(s.Ratio), CPUMicros: num(s.CPUMicros), Rounds: nums(s.Rounds)})
	}
	for _, l := range lines {
		l.Producers, l.Shards, l.Quick = x.Config.Producers, x.Config.Shards, r.Quick
		if err := enc.Encode(l); err != nil {
			return fmt.Errorf("write json line: %w", err)
		}
	}
	return nil
}
