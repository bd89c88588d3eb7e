package demo

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/shard"
)

func openStore(t *testing.T) *shard.Store {
	t.Helper()
	store, err := shard.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return store
}

// waitRecords waits (for progress, not for time) until stream holds at
// least n records and returns how many it holds.
func waitRecords(t *testing.T, store *shard.Store, stream string, n int) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := store.Seek(ctx, stream, "shardId-000000000000", shard.Position{Type: shard.TrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for got < n {
		if err := store.Wait(ctx, c); err != nil {
			t.Fatalf("waiting for %d records of %s, have %d: %v", n, stream, got, err)
		}
		res, err := store.Read(ctx, c, 1000, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		got += len(res.Records)
		c = res.Next
	}
	return got
}

func TestProducersStartStop(t *testing.T) {
	store := openStore(t)
	p := NewProducers(store, WithMaxProducers(2))
	defer p.Close()
	ctx := context.Background()

	info, started, err := p.Start(ctx, "ticks", 50, nil)
	if err != nil || !started || info.Stream != "ticks" || info.Rate != 50 {
		t.Fatalf("Start = %+v, %v, %v", info, started, err)
	}
	waitRecords(t, store, "ticks", 20)

	// A second Start for the same stream answers the running feed.
	again, started, err := p.Start(ctx, "ticks", 5, nil)
	if err != nil || started || again != info {
		t.Fatalf("second Start = %+v, %v, %v; want the running %+v", again, started, err, info)
	}
	// An existing stream is fed, not refused.
	if err := store.CreateStream(ctx, shard.CreateStreamInput{Name: "mine", ShardCount: 1, Mode: shard.ModeProvisioned}); err != nil {
		t.Fatal(err)
	}
	if _, started, err := p.Start(ctx, "mine", 0, nil); err != nil || !started {
		t.Fatalf("Start on an existing stream = %v, %v", started, err)
	}
	if got := p.List(); len(got) != 2 || got[0].Stream != "mine" || got[0].Rate != DefaultRate || got[1].Stream != "ticks" {
		t.Fatalf("List = %+v", got)
	}
	if _, _, err := p.Start(ctx, "third", 1, nil); !apierr.Is(err, apierr.LimitExceeded) {
		t.Fatalf("a third feed with max 2: %v, want LimitExceededException", err)
	}
	if err := p.Stop("ticks"); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop("ticks"); !apierr.Is(err, apierr.ResourceNotFound) {
		t.Fatalf("second Stop = %v, want ResourceNotFoundException", err)
	}
	if got := p.List(); len(got) != 1 || got[0].Stream != "mine" {
		t.Fatalf("List after Stop = %+v", got)
	}
}

func TestProducersRefuse(t *testing.T) {
	p := NewProducers(openStore(t))
	defer p.Close()
	tests := []struct {
		name   string
		stream string
		rate   int
		want   apierr.Code
	}{
		{"rate too high", "s", MaxRate + 1, apierr.InvalidArgument},
		{"negative rate", "s", -1, apierr.InvalidArgument},
		{"internal stream", "firehose:orders", 1, apierr.Validation},
		{"empty name", "", 1, apierr.Validation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := p.Start(context.Background(), tt.stream, tt.rate, nil); !apierr.Is(err, tt.want) {
				t.Fatalf("Start(%q, %d) = %v, want %s", tt.stream, tt.rate, err, tt.want)
			}
		})
	}
	if got := p.List(); len(got) != 0 {
		t.Fatalf("refused Starts left feeds: %+v", got)
	}
}

// A feed ends when its stream is deleted, and the slot is free again.
func TestProducersEndWithTheirStream(t *testing.T) {
	store := openStore(t)
	p := NewProducers(store, WithMaxProducers(1))
	defer p.Close()
	ctx := context.Background()
	if _, _, err := p.Start(ctx, "ticks", 50, nil); err != nil {
		t.Fatal(err)
	}
	waitRecords(t, store, "ticks", 5)
	if err := store.DeleteStream(ctx, "ticks"); err != nil {
		t.Fatal(err)
	}
	// Wait for the feed to notice (its next append fails): progress only.
	for len(p.List()) != 0 {
		time.Sleep(10 * time.Millisecond)
	}
	if _, started, err := p.Start(ctx, "other", 1, nil); err != nil || !started {
		t.Fatalf("Start after the only feed ended = %v, %v", started, err)
	}
}

// Close stops every feed, and no feed starts after it.
func TestProducersClose(t *testing.T) {
	store := openStore(t)
	p := NewProducers(store)
	ctx := context.Background()
	for _, s := range []string{"a", "b"} {
		if _, _, err := p.Start(ctx, s, 20, nil); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	p.Close()
	if _, _, err := p.Start(ctx, "c", 1, nil); !apierr.Is(err, apierr.ResourceInUse) {
		t.Fatalf("Start after Close = %v, want ResourceInUseException", err)
	}
	if got := p.List(); len(got) != 0 {
		t.Fatalf("List after Close = %+v", got)
	}
}

// TestRunSurvivesThrottling: a record the store refuses with
// ProvisionedThroughputExceededException (spate serve --enforce-limits,
// with another producer on the stream's shard) is dropped, as a backlog
// is, and the feed goes on: it stops only when its stream is gone. Before,
// the first throttled record ended the server-side demo producer.
func TestRunSurvivesThrottling(t *testing.T) {
	store, err := shard.Open(t.TempDir(), shard.WithFaultInjection(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	var refused atomic.Int64
	ctx, cancel := context.WithCancel(shard.WithFaults(t.Context(), shard.Faults{Record: func(int) apierr.Code {
		if refused.Add(1) <= 30 {
			return apierr.ProvisionedThroughputExceeded
		}
		return ""
	}}))
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, store, "ticks", 100, 1) }()

	for {
		select {
		case err := <-done:
			t.Fatalf("Run ended on a throttle: %v", err)
		case <-time.After(10 * time.Millisecond): // polling for progress, not an assertion
		}
		if refused.Load() <= 30 {
			continue
		}
		c, err := store.Seek(ctx, "ticks", "shardId-000000000000", shard.Position{Type: shard.TrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		res, err := store.Read(ctx, c, 1000, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Records) >= 5 {
			break
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v after its context ended, want nil", err)
	}
}

// TestProducersMayCreate: the creation check runs where the stream is
// created and only then: refused, nothing is created and no feed runs; for
// a stream that exists it is not asked.
func TestProducersMayCreate(t *testing.T) {
	store := openStore(t)
	p := NewProducers(store)
	t.Cleanup(p.Close)
	ctx := context.Background()
	denied := apierr.New(apierr.AccessDenied, "not allowed to create")
	if _, _, err := p.Start(ctx, "missing", 1, func() error { return denied }); !apierr.Is(err, apierr.AccessDenied) {
		t.Fatalf("Start of a missing stream with creation refused: %v, want AccessDeniedException", err)
	}
	if _, err := store.DescribeStreamSummary(ctx, "missing"); !apierr.Is(err, apierr.ResourceNotFound) {
		t.Fatalf("the refused Start created the stream: %v", err)
	}
	if got := p.List(); len(got) != 0 {
		t.Fatalf("feeds after a refused Start: %v", got)
	}
	if err := EnsureStream(ctx, store, "exists"); err != nil {
		t.Fatal(err)
	}
	asked := false
	if _, started, err := p.Start(ctx, "exists", 1, func() error { asked = true; return denied }); err != nil || !started {
		t.Fatalf("Start of an existing stream = started %v, %v", started, err)
	}
	if asked {
		t.Error("the creation check was asked for a stream that exists")
	}
}
