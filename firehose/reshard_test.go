package firehose

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/spatehq/spate/firehose/compress"
	"github.com/spatehq/spate/internal/reshardtest"
	"github.com/spatehq/spate/shard"
)

// shipLog records, in delivery order, the records of every delivered batch
// (config.shipped). A batch delivered again after a restart appears twice.
type shipLog struct {
	mu   sync.Mutex
	recs []shard.Record
}

func (l *shipLog) option() Option {
	return func(c *config) {
		c.shipped = func(_ string, records []shard.Record) {
			l.mu.Lock()
			l.recs = append(l.recs, records...)
			l.mu.Unlock()
		}
	}
}

// checkOrder checks that the delivered records of each key came in write
// order, the first delivery of each record counting (a batch a restart
// delivers again rewrites the same object).
func (l *shipLog) checkOrder(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	check := reshardtest.NewChecker()
	seen := map[string]bool{}
	for _, rec := range l.recs {
		if seen[rec.SequenceNumber] {
			continue
		}
		seen[rec.SequenceNumber] = true
		r, err := reshardtest.Decode(rec.Data)
		if err != nil {
			t.Fatal(err)
		}
		if err := check.Add(r); err != nil {
			t.Fatal(err)
		}
	}
}

// A Kinesis source that is split and merged while records flow is
// delivered whole: each record exactly once in S3, and the records of each
// key delivered in write order (a child shard after its parents), also
// when the service stops in the middle, with batches in flight, and starts
// again.
func TestKinesisSourceFollowsReshard(t *testing.T) {
	for _, tt := range reshardtest.Cases() {
		t.Run(tt.Name, func(t *testing.T) {
			log := &shipLog{}
			f := newFixture(t, log.option())
			ctx := context.Background()
			if err := f.store.CreateStream(ctx, shard.CreateStreamInput{Name: "src", ShardCount: tt.Shards}); err != nil {
				t.Fatal(err)
			}
			_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
				DeliveryStreamName: "ds", DeliveryStreamType: TypeKinesisStreamAsSource,
				KinesisStreamSourceConfiguration: &KinesisStreamSourceConfiguration{KinesisStreamARN: f.store.StreamARN("src")},
				ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
					BucketARN: f.bucketARN(), Prefix: "ds/", CompressionFormat: "GZIP",
					BufferingHints: intervalZero(), ProcessingConfiguration: delimiter(),
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			const producers, keys, perKey = 4, 3, 30
			steps := tt.Steps
			if tt.Restart {
				// Stop and start the service between the reshards:
				// workers stop with intents in flight, some parents
				// finished and some not.
				steps = reshardtest.WithRestarts(steps, 2, func(context.Context, *shard.Store, string) error {
					f.svc.Close()
					svc, err := New(f.store, f.opts...)
					f.svc = svc
					return err
				})
			}
			prod := reshardtest.Produce(ctx, t, f.store, "src", producers, keys, perKey, 40, steps, 0, time.Millisecond)
			lines := f.waitLines("ds/", compress.Gzip, prod.Total())
			var recs []reshardtest.Record
			for _, l := range lines {
				r, err := reshardtest.Decode([]byte(l))
				if err != nil {
					t.Fatal(err)
				}
				recs = append(recs, r)
			}
			if err := reshardtest.Once(recs, prod); err != nil {
				t.Fatal(err)
			}
			log.checkOrder(t)
		})
	}
}
