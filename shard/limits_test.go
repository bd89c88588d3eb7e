package shard

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spatehq/spate/apierr"
)

// limitedStore opens a store under the throughput limits on a fake clock.
func limitedStore(t *testing.T, opts ...Option) (*Store, *fakeClock) {
	t.Helper()
	clk := &fakeClock{}
	clk.ms.Store(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC).UnixMilli())
	return openTest(t, "", append([]Option{WithClock(clk.now), WithThroughputLimits(true)}, opts...)...), clk
}

// records returns n entries of size bytes of data under partition key pk.
func records(n, size int, pk string) []Entry {
	out := make([]Entry, n)
	for i := range out {
		out[i] = Entry{PartitionKey: pk, Data: make([]byte, size)}
	}
	return out
}

// failed returns the indexes of the entries that failed, with their codes.
func failed(res []AppendResult) map[int]string {
	out := map[int]string{}
	for i, r := range res {
		if r.ErrorCode != "" {
			out[i] = r.ErrorCode
		}
	}
	return out
}

func mustAppend(t *testing.T, s *Store, ctx context.Context, name string, entries []Entry) []AppendResult {
	t.Helper()
	res, err := s.Append(ctx, name, entries)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if len(res) != len(entries) {
		t.Fatalf("Append returned %d results for %d entries", len(res), len(entries))
	}
	return res
}

func shardMetrics(t *testing.T, s *Store, name string) []ShardMetrics {
	t.Helper()
	m, err := s.StreamMetrics(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return m.Shards
}

func TestWriteLimits(t *testing.T) {
	ctx := context.Background()
	const pte = string(apierr.ProvisionedThroughputExceeded)
	tests := []struct {
		name string
		run  func(t *testing.T, s *Store, clk *fakeClock)
	}{
		{"1,000 records a second per shard, refused ones fail alone", func(t *testing.T, s *Store, clk *fakeClock) {
			mustCreate(t, s, "s", 1)
			for range 2 {
				if f := failed(mustAppend(t, s, ctx, "s", records(500, 1, "k"))); len(f) != 0 {
					t.Fatalf("within the limit, %d records failed", len(f))
				}
			}
			res := mustAppend(t, s, ctx, "s", records(3, 1, "k"))
			if f := failed(res); len(f) != 3 || f[0] != pte {
				t.Fatalf("over the limit: failures %v, want all 3 %s", f, pte)
			}
			want := "Rate exceeded for shard shardId-000000000000 in stream s under account 000000000000."
			if res[0].ErrorMessage != want || res[0].ShardID != "" || res[0].SequenceNumber != "" {
				t.Fatalf("refused record: %+v, want message %q and no shard or sequence number", res[0], want)
			}
			clk.advance(100 * time.Millisecond)
			if f := failed(mustAppend(t, s, ctx, "s", records(101, 1, "k"))); len(f) != 1 || f[100] != pte {
				t.Fatalf("100 ms later: failures %v, want only the 101st", f)
			}
			if m := shardMetrics(t, s, "s"); m[0].WriteThrottled != 4 || m[0].IncomingRecords != 1100 {
				t.Fatalf("metrics: %+v, want 4 throttled and 1,100 in", m[0])
			}
			// Prometheus shows them, at shard level once enabled.
			if _, err := s.EnableEnhancedMonitoring(ctx, "s", []ShardLevelMetric{MetricAll}); err != nil {
				t.Fatal(err)
			}
			got := scrapeStreams(t, s)
			for _, series := range []string{
				"spate_stream_write_provisioned_throughput_exceeded_total{stream=s}",
				"spate_shard_write_provisioned_throughput_exceeded_total{shard=shardId-000000000000,stream=s}",
			} {
				if got[series] != 4 {
					t.Errorf("%s = %v, want 4", series, got[series])
				}
			}
		}},
		{"1 MiB a second per shard, a smaller record after a refused one passes", func(t *testing.T, s *Store, clk *fakeClock) {
			mustCreate(t, s, "s", 1)
			entries := []Entry{
				{PartitionKey: "a", Data: make([]byte, 600<<10)},
				{PartitionKey: "b", Data: make([]byte, 600<<10)},
				{PartitionKey: "c", Data: []byte("small")},
			}
			res := mustAppend(t, s, ctx, "s", entries)
			if f := failed(res); len(f) != 1 || f[1] != pte {
				t.Fatalf("failures %v, want only the second", f)
			}
			// The refused record changed nothing: the shard holds the
			// other two, numbered one after the other.
			got := readAll(t, s, "s", "shardId-000000000000", Position{Type: TrimHorizon})
			if len(got) != 2 || got[0].PartitionKey != "a" || got[1].PartitionKey != "c" ||
				got[0].SequenceNumber != res[0].SequenceNumber || got[1].SequenceNumber != res[2].SequenceNumber {
				t.Fatalf("stored %d records (%+v), want a and c as acknowledged", len(got), res)
			}
		}},
		{"shards are limited apart", func(t *testing.T, s *Store, clk *fakeClock) {
			mustCreate(t, s, "s", 2)
			// Explicit hash keys at the start of each shard's range.
			var entries []Entry
			for i := range 1000 {
				entries = append(entries, Entry{PartitionKey: "k", ExplicitHashKey: "0", Data: []byte{byte(i)}},
					Entry{PartitionKey: "k", ExplicitHashKey: "340282366920938463463374607431768211455", Data: []byte{byte(i)}})
			}
			for i := 0; i < len(entries); i += 500 {
				if f := failed(mustAppend(t, s, ctx, "s", entries[i:i+500])); len(f) != 0 {
					t.Fatalf("batch %d: %d failed; each shard got 1,000", i/500, len(f))
				}
			}
			if f := failed(mustAppend(t, s, ctx, "s", entries[:2])); len(f) != 2 {
				t.Fatalf("both shards full: failures %v", f)
			}
			m := shardMetrics(t, s, "s")
			if m[0].WriteThrottled != 1 || m[1].WriteThrottled != 1 {
				t.Fatalf("metrics %+v, want one refusal in each shard", m)
			}
		}},
		{"an on-demand stream shares 4,000 records a second over its shards", func(t *testing.T, s *Store, clk *fakeClock) {
			if err := s.CreateStream(ctx, CreateStreamInput{Name: "od", Mode: ModeOnDemand}); err != nil {
				t.Fatal(err)
			}
			// One partition key: one shard takes all, which a provisioned
			// shard would refuse after 1,000.
			for i := range 8 {
				if f := failed(mustAppend(t, s, ctx, "od", records(500, 1, "hot"))); len(f) != 0 {
					t.Fatalf("batch %d: %d failed", i, len(f))
				}
			}
			if f := failed(mustAppend(t, s, ctx, "od", records(1, 1, "cold"))); len(f) != 1 {
				t.Fatal("the 4,001st record of the second passed")
			}
		}},
		{"internal streams are not limited", func(t *testing.T, s *Store, clk *fakeClock) {
			if err := s.CreateStream(ctx, CreateStreamInput{Name: "firehose:x", ShardCount: 1, Internal: true}); err != nil {
				t.Fatal(err)
			}
			for range 4 {
				if f := failed(mustAppend(t, s, ctx, "firehose:x", records(500, 1, "k"))); len(f) != 0 {
					t.Fatalf("%d failed", len(f))
				}
			}
		}},
		{"a refused PutRecord stores nothing", func(t *testing.T, s *Store, clk *fakeClock) {
			mustCreate(t, s, "s", 1)
			mustAppend(t, s, ctx, "s", records(1, 1<<20-1, "k"))
			res := mustAppend(t, s, ctx, "s", records(1, 1, "k"))
			if res[0].ErrorCode != pte {
				t.Fatalf("second record: %+v", res[0])
			}
			if got := readAll(t, s, "s", "shardId-000000000000", Position{Type: TrimHorizon}); len(got) != 1 {
				t.Fatalf("stored %d records, want 1", len(got))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := limitedStore(t)
			tt.run(t, s, clk)
		})
	}
}

func TestReadLimits(t *testing.T) {
	ctx := context.Background()
	iter := func(t *testing.T, s *Store, name string) string {
		t.Helper()
		it, err := s.ShardIterator(ctx, name, "shardId-000000000000", Position{Type: TrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	tests := []struct {
		name string
		run  func(t *testing.T, s *Store, clk *fakeClock)
	}{
		{"5 GetRecords calls a second per shard", func(t *testing.T, s *Store, clk *fakeClock) {
			mustCreate(t, s, "s", 1)
			it := iter(t, s, "s")
			for i := range 5 {
				if _, err := s.GetRecords(ctx, it, 0); err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
			}
			_, err := s.GetRecords(ctx, it, 0)
			wantCode(t, err, apierr.ProvisionedThroughputExceeded)
			if want := "Rate exceeded for shard shardId-000000000000 in stream s under account 000000000000."; apierr.MessageOf(err) != want {
				t.Fatalf("message %q, want %q", apierr.MessageOf(err), want)
			}
			clk.advance(200 * time.Millisecond)
			if _, err := s.GetRecords(ctx, it, 0); err != nil {
				t.Fatalf("200 ms later: %v", err)
			}
			if m := shardMetrics(t, s, "s"); m[0].ReadThrottled != 1 {
				t.Fatalf("ReadThrottled = %d, want 1", m[0].ReadThrottled)
			}
		}},
		{"a large read refuses reads until 2 MiB a second has paid it back", func(t *testing.T, s *Store, clk *fakeClock) {
			mustCreate(t, s, "s", 1)
			for range 4 { // 4 MiB, at the write limit
				if f := failed(mustAppend(t, s, ctx, "s", records(1, 1<<20-1, "k"))); len(f) != 0 {
					t.Fatal("write refused")
				}
				clk.advance(time.Second)
			}
			res, err := s.GetRecords(ctx, iter(t, s, "s"), 0)
			if err != nil || len(res.Records) != 4 {
				t.Fatalf("read: %d records, %v", len(res.Records), err)
			}
			res.Release()
			// 4 MiB from a full 2 MiB bucket: 1 s of debt.
			clk.advance(900 * time.Millisecond)
			_, err = s.GetRecords(ctx, res.NextIterator, 0)
			wantCode(t, err, apierr.ProvisionedThroughputExceeded)
			clk.advance(200 * time.Millisecond)
			if _, err := s.GetRecords(ctx, res.NextIterator, 0); err != nil {
				t.Fatalf("after the debt: %v", err)
			}
		}},
		{"on-demand shards still take 5 calls a second each", func(t *testing.T, s *Store, clk *fakeClock) {
			if err := s.CreateStream(ctx, CreateStreamInput{Name: "od", Mode: ModeOnDemand}); err != nil {
				t.Fatal(err)
			}
			it := iter(t, s, "od")
			for range 5 {
				if _, err := s.GetRecords(ctx, it, 0); err != nil {
					t.Fatal(err)
				}
			}
			_, err := s.GetRecords(ctx, it, 0)
			wantCode(t, err, apierr.ProvisionedThroughputExceeded)
			other, err := s.ShardIterator(ctx, "od", "shardId-000000000001", Position{Type: TrimHorizon})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.GetRecords(ctx, other, 0); err != nil {
				t.Fatalf("another shard: %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := limitedStore(t)
			tt.run(t, s, clk)
		})
	}
}

// TestLimitsOffByDefault: without WithThroughputLimits, nothing is refused.
func TestLimitsOffByDefault(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "")
	mustCreate(t, s, "s", 1)
	for range 6 {
		if f := failed(mustAppend(t, s, ctx, "s", records(500, 1, "k"))); len(f) != 0 {
			t.Fatalf("%d refused", len(f))
		}
	}
	it, err := s.ShardIterator(ctx, "s", "shardId-000000000000", Position{Type: TrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, err := s.GetRecords(ctx, it, 1); err != nil {
			t.Fatal(err)
		}
	}
}

func TestInjectedFaults(t *testing.T) {
	ctx := context.Background()
	// Every third record fails with a throttle, every third+1 with an
	// internal failure.
	plan := Faults{Record: func(i int) apierr.Code {
		switch i % 3 {
		case 0:
			return apierr.ProvisionedThroughputExceeded
		case 1:
			return apierr.InternalFailure
		}
		return ""
	}}
	t.Run("records fail as planned and are not stored", func(t *testing.T) {
		s := openTest(t, "", WithFaultInjection(true))
		mustCreate(t, s, "s", 1)
		entries := make([]Entry, 6)
		for i := range entries {
			entries[i] = Entry{PartitionKey: "k", Data: []byte{byte('a' + i)}}
		}
		res := mustAppend(t, s, WithFaults(ctx, plan), "s", entries)
		for i, r := range res {
			want := [3]string{string(apierr.ProvisionedThroughputExceeded), string(apierr.InternalFailure), ""}[i%3]
			if r.ErrorCode != want || (want == "") != (r.SequenceNumber != "") {
				t.Errorf("entry %d: %+v, want code %q", i, r, want)
			}
		}
		if res[1].ErrorMessage != "Internal service failure." {
			t.Errorf("internal failure message %q", res[1].ErrorMessage)
		}
		got := readAll(t, s, "s", "shardId-000000000000", Position{Type: TrimHorizon})
		if len(got) != 2 || string(got[0].Data) != "c" || string(got[1].Data) != "f" {
			t.Fatalf("stored %+v, want c and f", got)
		}
		if m := shardMetrics(t, s, "s"); m[0].WriteThrottled != 2 {
			t.Fatalf("WriteThrottled = %d, want the 2 throttles (not the internal failures)", m[0].WriteThrottled)
		}
		// The caller's entries are left as they were.
		for i, e := range entries {
			if string(e.Data) != string(rune('a'+i)) {
				t.Fatalf("entry %d changed to %q", i, e.Data)
			}
		}
	})
	t.Run("every record refused queues nothing", func(t *testing.T) {
		s := openTest(t, "", WithFaultInjection(true))
		mustCreate(t, s, "s", 1)
		all := Faults{Record: func(int) apierr.Code { return apierr.ServiceUnavailableException }}
		res := mustAppend(t, s, WithFaults(ctx, all), "s", records(2, 1, "k"))
		if res[0].ErrorCode != string(apierr.ServiceUnavailableException) || res[0].ErrorMessage != "Slow down." {
			t.Fatalf("%+v", res[0])
		}
		if got := readAll(t, s, "s", "shardId-000000000000", Position{Type: TrimHorizon}); len(got) != 0 {
			t.Fatalf("stored %d", len(got))
		}
	})
	t.Run("a read fault reads nothing", func(t *testing.T) {
		s := openTest(t, "", WithFaultInjection(true))
		mustCreate(t, s, "s", 1)
		mustAppend(t, s, ctx, "s", records(1, 1, "k"))
		it, err := s.ShardIterator(ctx, "s", "shardId-000000000000", Position{Type: TrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.GetRecords(WithFaults(ctx, Faults{Read: apierr.ProvisionedThroughputExceeded}), it, 0)
		wantCode(t, err, apierr.ProvisionedThroughputExceeded)
		_, err = s.GetRecords(WithFaults(ctx, Faults{Read: apierr.InternalFailure}), it, 0)
		wantCode(t, err, apierr.InternalFailure)
		if !strings.Contains(apierr.MessageOf(err), "Internal service failure") {
			t.Fatalf("message %q", apierr.MessageOf(err))
		}
		m := shardMetrics(t, s, "s")
		if m[0].ReadThrottled != 1 || m[0].OutgoingRecords != 0 {
			t.Fatalf("metrics %+v, want 1 throttled read and nothing out", m[0])
		}
		res, err := s.GetRecords(ctx, it, 0)
		if err != nil || len(res.Records) != 1 {
			t.Fatalf("the same iterator afterwards: %d records, %v", len(res.Records), err)
		}
	})
	t.Run("ignored without WithFaultInjection", func(t *testing.T) {
		s := openTest(t, "")
		mustCreate(t, s, "s", 1)
		if f := failed(mustAppend(t, s, WithFaults(ctx, plan), "s", records(3, 1, "k"))); len(f) != 0 {
			t.Fatalf("failures %v", f)
		}
	})
}
