package demo

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/spatehq/spate/shard"
)

var t0 = time.Date(2026, 11, 22, 3, 0, 0, 123_000_000, time.UTC)

func TestGeneratorIsDeterministic(t *testing.T) {
	a, b, c := NewGenerator(7), NewGenerator(7), NewGenerator(8)
	same := true
	for i := range 1000 {
		now := t0.Add(time.Duration(i) * time.Millisecond)
		ra, rb, rc := a.NextRecord(now), b.NextRecord(now), c.NextRecord(now)
		if string(ra.Data) != string(rb.Data) || ra.PartitionKey != rb.PartitionKey {
			t.Fatalf("record %d differs for the same seed: %s vs %s", i, ra.Data, rb.Data)
		}
		same = same && string(ra.Data) == string(rc.Data)
	}
	if same {
		t.Error("seeds 7 and 8 generated the same 1000 records")
	}
}

func TestTradeShape(t *testing.T) {
	g := NewGenerator(1)
	known := map[string]Ticker{}
	for _, tk := range Tickers() {
		known[tk.Symbol] = tk
	}
	if len(known) < 25 {
		t.Fatalf("%d distinct tickers, want about 30", len(known))
	}
	last := map[string]float64{}
	for _, tk := range Tickers() {
		last[tk.Symbol] = tk.Price
	}
	seen := map[string]bool{}
	for i := range 5000 {
		r := g.NextRecord(t0)
		// Keys in the documented order, event_time with milliseconds.
		wantPrefix := `{"ticker_symbol":"` + r.PartitionKey + `","sector":"`
		if !strings.HasPrefix(string(r.Data), wantPrefix) || !strings.HasSuffix(string(r.Data), `,"event_time":"2026-11-22T03:00:00.123Z"}`) {
			t.Fatalf("record %d = %s", i, r.Data)
		}
		var tr Trade
		if err := json.Unmarshal(r.Data, &tr); err != nil {
			t.Fatal(err)
		}
		tk, ok := known[tr.TickerSymbol]
		if !ok || tk.Sector != tr.Sector {
			t.Fatalf("record %d: unknown ticker or wrong sector: %+v", i, tr)
		}
		if tr.Price < 1 || tr.Price != math.Round(tr.Price*100)/100 {
			t.Fatalf("record %d: price %v is not whole cents >= 1", i, tr.Price)
		}
		if got, want := tr.Change, math.Round((tr.Price-last[tr.TickerSymbol])*100)/100; got != want {
			t.Fatalf("record %d: change %v, want price %v - previous %v", i, got, tr.Price, last[tr.TickerSymbol])
		}
		if math.Abs(tr.Price/last[tr.TickerSymbol]-1) > 0.05 {
			t.Fatalf("record %d: one step moved %s from %v to %v", i, tr.TickerSymbol, last[tr.TickerSymbol], tr.Price)
		}
		last[tr.TickerSymbol] = tr.Price
		seen[tr.TickerSymbol] = true
	}
	if len(seen) != len(known) {
		t.Errorf("5000 trades covered %d of %d tickers", len(seen), len(known))
	}
}

// fakeClock advances only when Feed sleeps.
type fakeClock struct {
	t      time.Time
	sleeps int
	stopAt int // cancel after this many sleeps
	cancel context.CancelFunc
}

func (f *fakeClock) clock() clock {
	return clock{
		now: func() time.Time { return f.t },
		sleep: func(ctx context.Context, d time.Duration) error {
			f.t = f.t.Add(d)
			f.sleeps++
			if f.sleeps == f.stopAt {
				f.cancel()
				return ctx.Err()
			}
			return nil
		},
	}
}

func TestFeedPaces(t *testing.T) {
	tests := []struct {
		name      string
		rate      int
		sleeps    int
		wantTotal int
		maxBatch  int
	}{
		// 10 s of 100 ms ticks: the records due at the start of each tick.
		{"1000 per second", 1000, 100, 99 * 100, 100},
		{"3 per second waits a record", 3, 30, 29, 1},
		{"big batches split", 20000, 5, 4 * 2000, MaxBatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			fc := &fakeClock{t: t0, stopAt: tt.sleeps, cancel: cancel}
			total, biggest := 0, 0
			err := feed(ctx, NewGenerator(1), tt.rate, func(_ context.Context, b []Record) error {
				total += len(b)
				biggest = max(biggest, len(b))
				return nil
			}, fc.clock())
			if err != nil {
				t.Fatal(err)
			}
			if total != tt.wantTotal || biggest != tt.maxBatch {
				t.Errorf("sent %d records in batches of up to %d, want %d in up to %d", total, biggest, tt.wantTotal, tt.maxBatch)
			}
		})
	}
}

func TestFeedDropsBacklogAndReportsErrors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fc := &fakeClock{t: t0, stopAt: 3, cancel: cancel}
	var sizes []int
	err := feed(ctx, NewGenerator(1), 10, func(_ context.Context, b []Record) error {
		sizes = append(sizes, len(b))
		if len(sizes) == 1 {
			fc.t = fc.t.Add(time.Hour) // a send that took an hour
		}
		return nil
	}, fc.clock())
	if err != nil {
		t.Fatal(err)
	}
	// The first tick sends nothing (nothing due at 0); after an hour-long
	// send at most one second's worth follows.
	for _, n := range sizes[1:] {
		if n > 10 {
			t.Fatalf("batch sizes %v: a backlog was sent", sizes)
		}
	}

	boom := errors.New("boom")
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	fc2 := &fakeClock{t: t0, stopAt: 100, cancel: cancel2}
	if err := feed(ctx2, NewGenerator(1), 100, func(context.Context, []Record) error { return boom }, fc2.clock()); !errors.Is(err, boom) {
		t.Errorf("feed = %v, want the send error", err)
	}
	if err := Feed(context.Background(), NewGenerator(1), 0, nil); err == nil {
		t.Error("rate 0 was accepted")
	}
}

func TestRunAppendsToStore(t *testing.T) {
	store, err := shard.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, store, "ticks", 1000, 1) }()

	// Wait (no wall-time assertion: only for progress) until records arrive.
	var got []shard.Record
	for len(got) < 50 {
		c, err := store.Seek(ctx, "ticks", "shardId-000000000000", shard.Position{Type: shard.TrimHorizon})
		if err != nil {
			time.Sleep(10 * time.Millisecond) // the stream may not exist yet
			continue
		}
		if err := store.Wait(ctx, c); err != nil {
			t.Fatal(err)
		}
		res, err := store.Read(ctx, c, 1000, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		got = res.Records
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	want := NewGenerator(1)
	for i, r := range got[:50] {
		var tr Trade
		if err := json.Unmarshal(r.Data, &tr); err != nil {
			t.Fatal(err)
		}
		wt := want.Next(t0)
		if tr.TickerSymbol != wt.TickerSymbol || tr.Price != wt.Price || r.PartitionKey != tr.TickerSymbol {
			t.Fatalf("record %d = %s, want the seed's %+v", i, r.Data, wt)
		}
	}
	// Run again on the existing stream: no error for "already exists".
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := Run(ctx2, store, "ticks", 10, 1); err != nil {
		t.Errorf("Run on an existing stream with a done context = %v", err)
	}
}
