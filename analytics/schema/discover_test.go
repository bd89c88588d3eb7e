package schema

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/shard"
)

type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// fixture is a store on a fake clock with a two-shard stream whose records
// arrived at known times: 300 "old" records two hours ago, then 40 "new"
// ones five seconds before now, spread over both shards.
func fixture(t *testing.T) (*shard.Store, time.Time) {
	t.Helper()
	c := &clock{}
	start := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	c.set(start)
	store, err := shard.Open(t.TempDir(), shard.WithClock(c.now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	ctx := context.Background()
	if err := store.CreateStream(ctx, shard.CreateStreamInput{Name: "s", ShardCount: 2, Mode: shard.ModeProvisioned}); err != nil {
		t.Fatal(err)
	}
	put := func(n int, format string) {
		for i := range n {
			c.advance(time.Millisecond)
			_, err := store.Append(ctx, "s", []shard.Entry{{PartitionKey: fmt.Sprint(i), Data: fmt.Appendf(nil, format, i)}})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	c.advance(time.Minute)
	put(300, `{"old":%d}`)
	c.advance(2 * time.Hour)
	put(40, `{"new":%d}`)
	c.advance(5 * time.Second)
	return store, c.now()
}

func TestDiscover(t *testing.T) {
	store, now := fixture(t)
	tests := []struct {
		name     string
		limit    int
		sampled  int
		columns  map[string]string // name -> example
		presence map[string]float64
	}{
		{"recent records suffice", 40, 40, map[string]string{"new": "39"}, map[string]float64{"new": 1}},
		{"looks further back", 100, 100, map[string]string{"old": "299", "new": "39"}, map[string]float64{"old": 0.6, "new": 0.4}},
		{"whole stream", 1000, 340, map[string]string{"old": "299", "new": "39"}, map[string]float64{"old": 300.0 / 340, "new": 40.0 / 340}},
		{"default limit", 0, 100, map[string]string{"old": "299", "new": "39"}, map[string]float64{"old": 0.6, "new": 0.4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := discover(context.Background(), store, "s", tt.limit, now)
			if err != nil {
				t.Fatal(err)
			}
			if s.Stream != "s" || s.Sampled != tt.sampled || len(s.Columns) != len(tt.columns) {
				t.Fatalf("got %+v, want %d records sampled with columns %v", s, tt.sampled, tt.columns)
			}
			for _, c := range s.Columns {
				if c.Example != tt.columns[c.Name] || c.Presence != tt.presence[c.Name] || c.Type != TypeBigint {
					t.Errorf("column %+v, want example %s, presence %v", c, tt.columns[c.Name], tt.presence[c.Name])
				}
			}
		})
	}
}

func TestDiscoverErrors(t *testing.T) {
	store, now := fixture(t)
	tests := []struct {
		name   string
		stream string
		limit  int
		code   apierr.Code
	}{
		{"missing stream", "nope", 10, apierr.ResourceNotFound},
		{"limit too big", "s", MaxLimit + 1, apierr.InvalidArgument},
		{"negative limit", "s", -1, apierr.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := discover(context.Background(), store, tt.stream, tt.limit, now)
			if !apierr.Is(err, tt.code) {
				t.Errorf("err = %v, want %s", err, tt.code)
			}
		})
	}
}

func TestDiscoverEmptyStreamAndRealClock(t *testing.T) {
	store, err := shard.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	ctx := context.Background()
	if err := store.CreateStream(ctx, shard.CreateStreamInput{Name: "e", ShardCount: 3, Mode: shard.ModeProvisioned}); err != nil {
		t.Fatal(err)
	}
	s, err := Discover(ctx, store, "e", 10)
	if err != nil || s.Sampled != 0 || len(s.Columns) != 0 {
		t.Fatalf("empty stream: %+v, %v", s, err)
	}
	if _, err := store.Append(ctx, "e", []shard.Entry{{PartitionKey: "a", Data: []byte(`{"x":"y"}`)}}); err != nil {
		t.Fatal(err)
	}
	s, err = Discover(ctx, store, "e", 10)
	if err != nil || s.Sampled != 1 || len(s.Columns) != 1 || s.Columns[0].Name != "x" {
		t.Fatalf("one record: %+v, %v", s, err)
	}
}

func TestUnring(t *testing.T) {
	r := func(seqs ...string) []shard.Record {
		out := make([]shard.Record, len(seqs))
		for i, s := range seqs {
			out[i].SequenceNumber = s
		}
		return out
	}
	// Ring of 3 after reading a..e: slots hold d, e, c.
	got := unring(r("d", "e", "c"), 5, 3)
	if fmt.Sprint(got) != fmt.Sprint(r("c", "d", "e")) {
		t.Errorf("unring = %v", got)
	}
	if got := unring(r("a", "b"), 2, 3); len(got) != 2 || got[0].SequenceNumber != "a" {
		t.Errorf("unring of a partial ring = %v", got)
	}
}
