package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/spatehq/spate/firehose"
	"github.com/spatehq/spate/firehose/compress"
	"github.com/spatehq/spate/firehose/s3store"
	"github.com/spatehq/spate/internal/logdata"
	"github.com/spatehq/spate/shard"
)

// ErrNoS3 is the Status of the Firehose benchmark when no S3 endpoint is
// configured.
var ErrNoS3 = errors.New("no S3 endpoint (run scripts/s3-server.sh start)")

// FirehoseConfig says where and how much the Firehose benchmark delivers.
type FirehoseConfig struct {
	// S3 is the store delivered to; an empty Endpoint skips the benchmark
	// (its Status says so).
	S3 s3store.Config
	// Bucket receives the objects, under a prefix per run and round; it is
	// created when missing. Objects are left there (the test server of
	// scripts/s3-server.sh deletes its data when stopped).
	Bucket string
	// Batches of 500 records of about 1 KiB each are put per round: 64 is
	// about 32 MB.
	Batches int
	// Producers put batches concurrently.
	Producers int
	// Rounds; the figures are their medians.
	Rounds int
	// TmpDir holds each round's shard store ("" means the system's).
	TmpDir string
	// Timeout bounds one round's delivery (an unreachable store retries
	// forever otherwise).
	Timeout time.Duration
	// Log receives one progress line per round; nil discards them.
	Log io.Writer
}

// DefaultFirehoseConfig is the full run: three rounds of about 32 MB each.
func DefaultFirehoseConfig() FirehoseConfig {
	return FirehoseConfig{Bucket: "spate-bench", Batches: 64, Producers: 4, Rounds: 3, Timeout: 2 * time.Minute}
}

// QuickFirehoseConfig is the --quick run: three rounds of about 8 MB each.
func QuickFirehoseConfig() FirehoseConfig {
	c := DefaultFirehoseConfig()
	c.Batches = 16
	return c
}

// FirehoseResult is Firehose delivery to S3 with GZIP beside GZIP alone on
// the same bytes.
type FirehoseResult struct {
	// Status is empty when measured, and otherwise says why not (ErrNoS3,
	// an error).
	Status    string
	Endpoint  string
	MBPerRun  float64 // MB of record data per round (before compression)
	Producers int     // concurrent PutRecordBatch callers
	// DeliveredMBPerSec is end to end: from the first put until the last
	// byte is in S3 (put, durable store, buffer, compress, upload).
	DeliveredMBPerSec float64
	// GzipMBPerSec is one GZIP stream on one core over the same bytes in
	// buffers of the same size.
	GzipMBPerSec float64
	// Rounds hold each round's figures, in order (NaN: failed).
	DeliveredRounds, GzipRounds []float64
}

// Ratio is DeliveredMBPerSec / GzipMBPerSec: how much of one compressor's
// speed the whole delivery path keeps.
func (r FirehoseResult) Ratio() float64 { return Ratio(r.DeliveredMBPerSec, r.GzipMBPerSec) }

// firehoseBufferBytes is the delivery stream's SizeInMBs, and the size of
// the buffers GZIP alone compresses.
const firehoseBufferBytes = 8 << 20

// RunFirehose measures PutRecordBatch to an S3 destination with GZIP (four
// concurrent producers by default, batches of 500) until every byte is
// delivered, then GZIP alone over the same data, each round. Without an
// endpoint it returns a Status of ErrNoS3 and no error; a round that fails
// counts as NaN, and only a cancelled ctx is an error.
func RunFirehose(ctx context.Context, cfg FirehoseConfig) (FirehoseResult, error) {
	res := FirehoseResult{Endpoint: cfg.S3.Endpoint, Producers: cfg.Producers, DeliveredMBPerSec: math.NaN(), GzipMBPerSec: math.NaN()}
	if cfg.S3.Endpoint == "" {
		res.Status = ErrNoS3.Error()
		return res, nil
	}
	if cfg.Batches < 1 || cfg.Producers < 1 || cfg.Rounds < 1 {
		return res, fmt.Errorf("firehose bench: want batches, producers and rounds >= 1")
	}
	client, err := s3store.New(cfg.S3)
	if err != nil {
		res.Status = fmt.Sprintf("s3 client: %v", err)
		return res, nil
	}
	if err := client.EnsureBucket(ctx, cfg.Bucket); err != nil {
		res.Status = fmt.Sprintf("bucket %s: %v", cfg.Bucket, err)
		return res, ctx.Err()
	}
	records := logdata.Records(500)
	batchBytes := 0
	for _, r := range records {
		batchBytes += len(r)
	}
	res.MBPerRun = float64(cfg.Batches*batchBytes) / 1e6
	run := randomSuffix()
	var lastErr error
	for round := range cfg.Rounds {
		d, err := deliverRound(ctx, cfg, records, fmt.Sprintf("bench-%s-%d", run, round))
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		rate := math.NaN()
		if err != nil {
			lastErr = err
		} else {
			rate = res.MBPerRun / d.Seconds()
		}
		g, err := gzipAlone(records, cfg.Batches)
		if err != nil {
			return res, err // the compressor failing on valid input is a bug, not noise
		}
		res.DeliveredRounds = append(res.DeliveredRounds, rate)
		res.GzipRounds = append(res.GzipRounds, res.MBPerRun/g.Seconds())
		if cfg.Log != nil {
			if err != nil {
				fmt.Fprintf(cfg.Log, "round %d/%d firehose   GZIP to S3: %v\n", round+1, cfg.Rounds, err)
			} else {
				fmt.Fprintf(cfg.Log, "round %d/%d firehose   GZIP to S3: %.1f MB/s delivered, GZIP alone %.1f MB/s\n",
					round+1, cfg.Rounds, rate, res.MBPerRun/g.Seconds())
			}
		}
	}
	res.DeliveredMBPerSec, res.GzipMBPerSec = Median(res.DeliveredRounds), Median(res.GzipRounds)
	if math.IsNaN(res.DeliveredMBPerSec) && lastErr != nil {
		res.Status = lastErr.Error()
	}
	return res, nil
}

// deliverRound creates a GZIP delivery stream on a fresh store, puts the
// batches and waits until the delivery counter holds every byte. It
// returns the time from the first put to then.
func deliverRound(ctx context.Context, cfg FirehoseConfig, records [][]byte, name string) (time.Duration, error) {
	dir, err := os.MkdirTemp(cfg.TmpDir, "spate-bench-firehose-*")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	st, err := shard.Open(dir)
	if err != nil {
		return 0, fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	// A registry of our own: the delivered-bytes counter is how the
	// benchmark knows, through the public API, that the last byte is in S3.
	reg := prometheus.NewRegistry()
	svc, err := firehose.New(st, firehose.WithS3(cfg.S3), firehose.WithRegisterer(reg))
	if err != nil {
		return 0, fmt.Errorf("firehose: %w", err)
	}
	defer svc.Close()
	size, interval := firehoseBufferBytes>>20, 0
	_, err = svc.CreateDeliveryStream(ctx, firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: name,
		ExtendedS3DestinationConfiguration: &firehose.ExtendedS3DestinationConfiguration{
			BucketARN: "arn:aws:s3:::" + cfg.Bucket, Prefix: name + "/", CompressionFormat: string(compress.Gzip),
			BufferingHints: &firehose.BufferingHints{SizeInMBs: &size, IntervalInSeconds: &interval},
		},
	})
	if err != nil {
		return 0, fmt.Errorf("create delivery stream: %w", err)
	}
	want := 0.0
	for _, r := range records {
		want += float64(len(r))
	}
	want *= float64(cfg.Batches)

	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	for p := range cfg.Producers {
		g.Go(func() error {
			for i := p; i < cfg.Batches; i += cfg.Producers {
				out, err := svc.PutRecordBatch(gctx, name, records)
				if err != nil {
					return fmt.Errorf("PutRecordBatch: %w", err)
				}
				if out.FailedPutCount > 0 {
					return fmt.Errorf("PutRecordBatch: %d records failed", out.FailedPutCount)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	deadline := start.Add(cfg.Timeout)
	for {
		got, err := deliveredBytes(reg, name)
		if err != nil {
			return 0, err
		}
		if got >= want {
			return time.Since(start), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("delivered %.0f of %.0f bytes after %v", got, want, cfg.Timeout)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// deliveredBytes reads spate_firehose_delivery_bytes_total for the stream's
// S3 destination from reg (0 before the first delivery).
func deliveredBytes(reg *prometheus.Registry, name string) (float64, error) {
	mfs, err := reg.Gather()
	if err != nil {
		return 0, fmt.Errorf("gather metrics: %w", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "spate_firehose_delivery_bytes_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["delivery_stream"] == name && labels["destination"] == "s3" {
				return m.GetCounter().GetValue(), nil
			}
		}
	}
	return 0, nil
}

// gzipAlone compresses batches copies of records, concatenated into buffers
// of the delivery stream's size, on this goroutine, and returns the time.
func gzipAlone(records [][]byte, batches int) (time.Duration, error) {
	buf := make([]byte, 0, firehoseBufferBytes)
	start := time.Now()
	for i := range batches {
		for _, r := range records {
			buf = append(buf, r...)
		}
		if len(buf) >= firehoseBufferBytes || i == batches-1 {
			if _, err := compress.Compress(compress.Gzip, "bench", buf); err != nil {
				return 0, fmt.Errorf("gzip: %w", err)
			}
			buf = buf[:0]
		}
	}
	return time.Since(start), nil
}

// randomSuffix names this run's delivery streams and prefixes, so runs
// against the same bucket do not overwrite each other.
func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
