package shard

import (
	"fmt"
	"testing"
	"time"
)

// TestBlockCacheHoldsACatchUp: a second catch-up of a flushed shard finds
// its blocks in the block cache. At Pebble's default cache of 8 MiB, the
// 20 MB of blocks that 20,000 records of 1,000 B make (the size of 150,000
// records of 100 B) were read from the files and decompressed again on
// every catch-up; WithBlockCache still sets a smaller cache, which then
// misses again.
func TestBlockCacheHoldsACatchUp(t *testing.T) {
	tests := []struct {
		name       string
		opts       []Option
		wantCached bool
	}{
		{"default", nil, true},
		{"WithBlockCache(1 MiB)", []Option{WithBlockCache(1 << 20)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			s, err := Open(t.TempDir(), append([]Option{WithTrimInterval(time.Hour), WithDurability(DurabilityRelaxed)}, tt.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.CreateStream(ctx, CreateStreamInput{Name: "bench", ShardCount: 1}); err != nil {
				t.Fatal(err)
			}
			const records = 20_000
			entries := make([]Entry, 500)
			for i := range entries {
				entries[i] = Entry{PartitionKey: fmt.Sprintf("key-%d", i), Data: make([]byte, 1000)}
			}
			for range records / len(entries) {
				if _, err := s.Append(ctx, "bench", entries); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			misses := func() int64 { return s.db.Metrics().BlockCache.Misses }
			var read [2]int64 // block cache misses of each catch-up
			for i := range read {
				before := misses()
				if n := len(readAllRecords(t, s)); n != records {
					t.Fatalf("catch-up %d read %d records, want %d", i+1, n, records)
				}
				read[i] = misses() - before
			}
			if read[0] == 0 {
				t.Fatalf("the first catch-up after the flush missed no blocks: nothing measured")
			}
			if cached := read[1] <= read[0]/10; cached != tt.wantCached {
				t.Errorf("block cache misses: %d in the first catch-up, %d in the second; want the second from the cache: %v",
					read[0], read[1], tt.wantCached)
			}
		})
	}
}
