package firehose

import (
	"context"
	"fmt"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/spatehq/spate/firehose/compress"
	"github.com/spatehq/spate/firehose/s3store"
	"github.com/spatehq/spate/firehose/s3store/s3test"
	"github.com/spatehq/spate/internal/logdata"
	"github.com/spatehq/spate/shard"
	"golang.org/x/sync/errgroup"
)

// BenchmarkDeliveryGzipToS3 measures PutRecordBatch to an S3 destination
// with GZIP (put, durable store, buffer, compress, upload to a real
// versitygw) in MB/s of record data, beside GZIP alone over the same data in
// the same run. The delivered rate is the end-to-end rate: from the first
// put (four concurrent producers, batches of 500) until the last byte is in
// S3. GZIP alone is one stream on one core; the delivery pipeline may
// compress two batches at once (one per core) while it also ingests, so the
// ratio says how much of a single compressor's speed the whole path keeps,
// not how efficiently it uses the machine.
func BenchmarkDeliveryGzipToS3(b *testing.B) {
	cfg := s3test.Server(b)
	client, err := s3store.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	bucket := fmt.Sprintf("bench-%d", time.Now().UnixNano()%1000000)
	if err := client.EnsureBucket(ctx, bucket); err != nil {
		b.Fatal(err)
	}
	records := logdata.Records(500)
	batchBytes := 0
	for _, r := range records {
		batchBytes += len(r)
	}
	const batches = 64 // 64 x 500 x ~1 KiB: ~32 MiB per round
	const producers = 4

	var deliverTime, compressTime time.Duration
	for round := 0; round < max(1, b.N); round++ {
		st, err := shard.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		svc, err := New(st, WithS3(cfg))
		if err != nil {
			b.Fatal(err)
		}
		name := fmt.Sprintf("bench-%d", round)
		_, err = svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
			DeliveryStreamName: name,
			ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
				BucketARN: "arn:aws:s3:::" + bucket, Prefix: name + "/", CompressionFormat: "GZIP",
				BufferingHints: &BufferingHints{SizeInMBs: intp(8), IntervalInSeconds: intp(0)},
			},
		})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		var g errgroup.Group
		for p := 0; p < producers; p++ {
			g.Go(func() error {
				for i := p; i < batches; i += producers {
					if _, err := svc.PutRecordBatch(ctx, name, records); err != nil {
						return err
					}
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
		putDone := time.Since(start)
		want := float64(batches * batchBytes)
		delivered := svc.metrics.bytes.WithLabelValues(name, "s3")
		for counterValue(b, delivered) < want {
			time.Sleep(time.Millisecond)
		}
		deliverTime += time.Since(start)
		b.Logf("round %d: puts done after %v, delivered after %v", round, putDone.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		svc.Close()
		_ = st.Close()

		// The compressor alone, on the same bytes in buffers of the same size.
		buf := make([]byte, 0, 8<<20)
		start = time.Now()
		for i := 0; i < batches; i++ {
			for _, r := range records {
				buf = append(buf, r...)
			}
			if len(buf) >= 8<<20 || i == batches-1 {
				if _, err := compress.Compress(compress.Gzip, "bench", buf); err != nil {
					b.Fatal(err)
				}
				buf = buf[:0]
			}
		}
		compressTime += time.Since(start)
	}
	mb := float64(max(1, b.N)*batches*batchBytes) / 1e6
	deliverRate, compressRate := mb/deliverTime.Seconds(), mb/compressTime.Seconds()
	b.ReportMetric(deliverRate, "delivered-MB/s")
	b.ReportMetric(compressRate, "gzip-alone-MB/s")
	b.ReportMetric(deliverRate/compressRate, "ratio")
}

// counterValue reads a counter.
func counterValue(b *testing.B, c interface{ Write(*dto.Metric) error }) float64 {
	return counterValueT(b, c)
}

// counterValueT reads a counter in a test or benchmark.
func counterValueT(tb testing.TB, c interface{ Write(*dto.Metric) error }) float64 {
	tb.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		tb.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
