package shard

import (
	"context"
	"testing"
	"time"

	"github.com/spatehq/spate/kms"
)

// benchEncryptionModes are the sub-benchmarks of the encryption benchmarks:
// the same work with server-side encryption off and on.
var benchEncryptionModes = []struct {
	name    string
	encrypt bool
}{{"encryption=off", false}, {"encryption=on", true}}

// benchEncryptedStore opens a relaxed-durability store (so that fsyncs do
// not drown the cost of encoding) with one stream "bench" of shards shards,
// encrypted when encrypt is set.
func benchEncryptedStore(b *testing.B, shards int, encrypt bool) *Store {
	b.Helper()
	s, err := Open(b.TempDir(), benchEncryptionOptions(encrypt)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	if err := s.CreateStream(ctx, CreateStreamInput{Name: "bench", ShardCount: shards}); err != nil {
		b.Fatal(err)
	}
	if encrypt {
		benchStartEncryption(b, s)
	}
	return s
}

// BenchmarkAppendEncryption appends batches of 500 records of 100 bytes
// from one producer, with encryption off and on.
func BenchmarkAppendEncryption(b *testing.B) {
	for _, m := range benchEncryptionModes {
		b.Run(m.name, func(b *testing.B) {
			s := benchEncryptedStore(b, 4, m.encrypt)
			entries := benchEntries()
			ctx := context.Background()
			b.SetBytes(benchBatch * benchRecordSize)
			b.ResetTimer()
			for range b.N {
				if _, err := s.Append(ctx, "bench", entries); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "rec/s")
		})
	}
}

// BenchmarkCatchUpReadEncryption reads 100,000 records of 100 bytes from
// the start of a shard, with encryption off and on.
func BenchmarkCatchUpReadEncryption(b *testing.B) {
	for _, m := range benchEncryptionModes {
		b.Run(m.name, func(b *testing.B) {
			s := benchEncryptedStore(b, 1, m.encrypt)
			ctx := context.Background()
			entries := benchEntries()
			for range 200 {
				if _, err := s.Append(ctx, "bench", entries); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			read := 0
			for range b.N {
				read += benchReadShard(b, s)
			}
			b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "rec/s")
		})
	}
}

func benchEncryptionOptions(encrypt bool) []Option {
	opts := []Option{WithTrimInterval(time.Hour), WithDurability(DurabilityRelaxed)}
	if encrypt {
		k, _ := kms.Open("") // in memory
		opts = append(opts, WithKeys(k))
	}
	return opts
}

func benchStartEncryption(b *testing.B, s *Store) {
	if err := s.StartEncryption(context.Background(), "bench", EncryptionKMS, kms.AliasKinesis); err != nil {
		b.Fatal(err)
	}
}
