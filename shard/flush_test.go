package shard

import (
	"context"
	"testing"
	"time"
)

// TestFlushKeepsRecordsReadable: a flush moves the memtable to disk; every
// record reads the same before and after, and a closed store refuses it.
func TestFlushKeepsRecordsReadable(t *testing.T) {
	ctx := t.Context()
	s, err := Open(t.TempDir(), WithTrimInterval(time.Hour), WithDurability(DurabilitySync))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateStream(ctx, CreateStreamInput{Name: "bench", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if _, err := s.Append(ctx, "bench", benchEntries()); err != nil {
			t.Fatal(err)
		}
	}
	before := readAllRecords(t, s)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if m := s.db.Metrics(); m.MemTable.Count != 1 || m.Levels[0].TablesCount == 0 {
		t.Errorf("after Flush: %d memtables, %d tables in L0; want the memtable flushed to L0", m.MemTable.Count, m.Levels[0].TablesCount)
	}
	after := readAllRecords(t, s)
	if len(before) != 4*len(benchEntries()) || len(after) != len(before) {
		t.Fatalf("read %d records before the flush, %d after; want %d", len(before), len(after), 4*len(benchEntries()))
	}
	for i := range before {
		if before[i].SequenceNumber != after[i].SequenceNumber || string(before[i].Data) != string(after[i].Data) ||
			before[i].PartitionKey != after[i].PartitionKey {
			t.Fatalf("record %d differs after the flush", i)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err == nil {
		t.Error("Flush of a closed store: no error")
	}
}

func readAllRecords(t *testing.T, s *Store) []Record {
	ctx := context.Background()
	c, err := s.Seek(ctx, "bench", "shardId-000000000000", Position{Type: TrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	var out []Record
	for {
		res, err := s.Read(ctx, c, MaxGetRecordsLimit, MaxGetRecordsBytes)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Records) == 0 {
			return out
		}
		out = append(out, res.Records...)
		c = res.Next
	}
}

// discardSink counts the records of a read and keeps nothing: the store's
// own cost of a read, without any encoding.
type discardSink struct{ n int }

func (d *discardSink) AppendRecord(*RecordView) error { d.n++; return nil }
func (d *discardSink) HeldBytes() int64               { return 0 }

// BenchmarkReadIntoSettled measures a catch-up read of 100,000 records of
// 100 B into a sink that keeps nothing, from the memtable and from a
// flushed store: the store's cost per record (ns/rec).
func BenchmarkReadIntoSettled(b *testing.B) {
	for _, flushed := range []bool{false, true} {
		name := "memtable"
		if flushed {
			name = "flushed"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			s, err := Open(b.TempDir(), WithTrimInterval(time.Hour), WithDurability(DurabilitySync))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if err := s.CreateStream(ctx, CreateStreamInput{Name: "bench", ShardCount: 1}); err != nil {
				b.Fatal(err)
			}
			for range 100_000 / len(benchEntries()) {
				if _, err := s.Append(ctx, "bench", benchEntries()); err != nil {
					b.Fatal(err)
				}
			}
			if flushed {
				if err := s.Flush(ctx); err != nil {
					b.Fatal(err)
				}
			}
			start, err := s.Seek(ctx, "bench", "shardId-000000000000", Position{Type: TrimHorizon})
			if err != nil {
				b.Fatal(err)
			}
			var sink discardSink
			c := start
			read := 0
			b.ResetTimer()
			for b.Loop() {
				sink.n = 0
				res, err := s.ReadInto(ctx, c, MaxGetRecordsLimit, MaxGetRecordsBytes, &sink)
				if err != nil {
					b.Fatal(err)
				}
				c = res.Next
				if sink.n == 0 {
					c = start
				}
				read += sink.n
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(max(read, 1)), "ns/rec")
		})
	}
}
