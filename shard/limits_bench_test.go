package shard

import (
	"context"
	"testing"
	"time"
)

// BenchmarkAppendGate measures Append of 500 records of 100 bytes (relaxed
// durability: no fsync) with the limits and faults off, the cost that
// --enforce-limits and --fault-rate must not add when they are not given,
// and with fault injection on but no fault drawn (the gated path).
func BenchmarkAppendGate(b *testing.B) {
	for _, c := range []struct {
		name string
		opts []Option
	}{
		{"off", nil},
		{"faults-on", []Option{WithFaultInjection(true)}},
	} {
		b.Run(c.name, func(b *testing.B) {
			s, err := Open(b.TempDir(), append([]Option{WithTrimInterval(time.Hour), WithDurability(DurabilityRelaxed)}, c.opts...)...)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			if err := s.CreateStream(ctx, CreateStreamInput{Name: "b", ShardCount: 4}); err != nil {
				b.Fatal(err)
			}
			entries := make([]Entry, 500)
			for i := range entries {
				entries[i] = Entry{PartitionKey: string(rune('a' + i%26)), Data: make([]byte, 100)}
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Append(ctx, "b", entries); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
