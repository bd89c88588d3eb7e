package shard

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// The ingest benchmark writes synced batches of 500 records of 100 bytes,
// through the store and through raw Pebble with the same key layout and
// record encoding, in the same run, and reports both rates and their ratio.
// The raw side is the ceiling: it does no routing, validation, sequence
// formatting or acknowledgement.
const (
	benchBatch      = 500
	benchRecordSize = 100
)

func benchEntries() []Entry {
	entries := make([]Entry, benchBatch)
	data := make([]byte, benchRecordSize)
	for i := range entries {
		entries[i] = Entry{PartitionKey: fmt.Sprintf("key-%d", i), Data: data}
	}
	return entries
}

// runParallel runs fn(producer) for b.N batches spread over producers and
// returns the elapsed time.
func runParallel(producers, batches int, fn func() error) (time.Duration, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	start := time.Now()
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(batches) {
				if err := fn(); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return 0, err
	}
	return time.Since(start), nil
}

func benchStore(b *testing.B, producers, batches int) time.Duration {
	s, err := Open(b.TempDir(), WithTrimInterval(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.CreateStream(ctx, CreateStreamInput{Name: "bench", ShardCount: 4}); err != nil {
		b.Fatal(err)
	}
	entries := benchEntries()
	d, err := runParallel(producers, batches, func() error {
		_, err := s.Append(ctx, "bench", entries)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return d
}

func benchRawPebble(b *testing.B, producers, batches int) time.Duration {
	cfg := defaultConfig()
	db, err := pebble.Open(b.TempDir(), pebbleOptions(cfg))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	data := make([]byte, benchRecordSize)
	var ctr atomic.Uint64
	now := time.Now().UnixMilli()
	d, err := runParallel(producers, batches, func() error {
		batch := db.NewBatch()
		defer batch.Close()
		base := ctr.Add(benchBatch) - benchBatch
		for i := 0; i < benchBatch; i++ {
			pk := "key-000"
			op := batch.SetDeferred(recordKeyLen, encodedRecordLen(pk, data))
			putRecordKey(op.Key, 1, uint32(i%4), base+uint64(i))
			putRecordValue(op.Value, now, pk, data)
			_ = op.Finish()
		}
		return batch.Commit(pebble.Sync)
	})
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkIngest reports records/s for the store and raw Pebble, and the
// store's share of the raw rate, for 1 and 8 producers.
func BenchmarkIngest(b *testing.B) {
	for _, producers := range []int{1, 8} {
		b.Run(fmt.Sprintf("producers=%d", producers), func(b *testing.B) {
			// Interleave the two targets so machine noise hits both alike.
			var storeTime, rawTime time.Duration
			rounds := 3
			per := max(1, b.N/rounds)
			for r := 0; r < rounds; r++ {
				storeTime += benchStore(b, producers, per)
				rawTime += benchRawPebble(b, producers, per)
			}
			records := float64(per * rounds * benchBatch)
			storeRate := records / storeTime.Seconds()
			rawRate := records / rawTime.Seconds()
			b.ReportMetric(storeRate, "spate-rec/s")
			b.ReportMetric(rawRate, "pebble-rec/s")
			b.ReportMetric(storeRate/rawRate, "ratio")
			b.ReportMetric(storeRate*benchRecordSize/1e6, "spate-MB/s")
		})
	}
}

// BenchmarkRead measures catch-up reads of 100-byte records.
func BenchmarkRead(b *testing.B) {
	s, err := Open(b.TempDir(), WithTrimInterval(time.Hour), WithDurability(DurabilityRelaxed))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.CreateStream(ctx, CreateStreamInput{Name: "bench", ShardCount: 1}); err != nil {
		b.Fatal(err)
	}
	entries := benchEntries()
	for i := 0; i < 200; i++ {
		if _, err := s.Append(ctx, "bench", entries); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	read := 0
	for i := 0; i < b.N; i++ {
		read += benchReadShard(b, s)
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "rec/s")
}

// benchReadShard reads shard 0 of stream "bench" from its start to its end
// and returns how many records it read.
func benchReadShard(b *testing.B, s *Store) int {
	ctx := context.Background()
	c, err := s.Seek(ctx, "bench", "shardId-000000000000", Position{Type: TrimHorizon})
	if err != nil {
		b.Fatal(err)
	}
	read := 0
	for {
		res, err := s.Read(ctx, c, MaxGetRecordsLimit, MaxGetRecordsBytes)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Records) == 0 {
			return read
		}
		read += len(res.Records)
		c = res.Next
	}
}
