package drivers

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/spatehq/spate/bench"
	"github.com/spatehq/spate/shard"
)

// TestPutCatchUpTail puts batches and single records through each in-process
// driver and checks that a catch-up read returns exactly that many, and that
// a tail started before the puts sees every record with its payload intact.
func TestPutCatchUpTail(t *testing.T) {
	for _, name := range []string{"self-grpc", "self-http", "self-http-h2c", "self-http-cbor", "self-http-efo", "pebble-raw"} {
		for _, durable := range []bool{true, false} {
			w := bench.Workload{RecordSize: 100, Batch: 50, Shards: 3, Producers: 1, Durable: durable}
			t.Run(name+"/"+w.Mode(), func(t *testing.T) {
				ds, err := New([]string{name}, t.TempDir(), t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				d := ds[0]
				if err := d.Available(); err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // a hang, not a speed check
				defer cancel()
				if err := d.Setup(ctx, w); err != nil {
					t.Fatal(err)
				}
				defer func() {
					if err := d.Close(); err != nil {
						t.Error(err)
					}
				}()

				var mu sync.Mutex
				seen := map[time.Time]int{}
				tailCtx, stopTail := context.WithCancel(ctx)
				defer stopTail()
				wait, err := d.Tail(tailCtx, func(data []byte) {
					at, ok := bench.StampOf(data)
					mu.Lock()
					defer mu.Unlock()
					if !ok || len(data) != w.RecordSize {
						seen[time.Time{}]++
						return
					}
					seen[at]++
				})
				canTail := !errors.Is(err, bench.ErrUnsupported)
				if err != nil && canTail {
					t.Fatal(err)
				}

				p, err := d.Producer(ctx)
				if err != nil {
					t.Fatal(err)
				}
				const batches = 4
				want := 0
				for i := range batches {
					batch := bench.NewBatch(w.Batch, w.RecordSize)
					for _, r := range batch {
						bench.Stamp(r, time.Unix(int64(i), 0))
					}
					if err := p.Put(ctx, batch); err != nil {
						t.Fatalf("put batch %d: %v", i, err)
					}
					want += len(batch)
				}
				single := bench.NewBatch(1, w.RecordSize)
				bench.Stamp(single[0], time.Unix(99, 0))
				if err := p.Put(ctx, single); err != nil {
					t.Fatalf("put one record: %v", err)
				}
				want++
				if err := p.Close(); err != nil {
					t.Error(err)
				}

				n, err := d.CatchUp(ctx, want)
				if err != nil || n != want {
					t.Errorf("CatchUp = %d, %v; want %d", n, err, want)
				}

				if !canTail {
					if name != "pebble-raw" {
						t.Errorf("%s cannot tail", name)
					}
					return
				}
				total := func() int {
					mu.Lock()
					defer mu.Unlock()
					s := 0
					for _, c := range seen {
						s += c
					}
					return s
				}
				for total() < want && ctx.Err() == nil {
					time.Sleep(5 * time.Millisecond)
				}
				stopTail()
				if err := wait(); err != nil {
					t.Errorf("tail: %v", err)
				}
				mu.Lock()
				defer mu.Unlock()
				for i := range batches {
					if c := seen[time.Unix(int64(i), 0)]; c != w.Batch {
						t.Errorf("tail saw %d records of batch %d, want %d", c, i, w.Batch)
					}
				}
				if c := seen[time.Unix(99, 0)]; c != 1 {
					t.Errorf("tail saw the single record %d times", c)
				}
				if c := seen[time.Time{}]; c != 0 {
					t.Errorf("tail saw %d records with a bad payload", c)
				}
			})
		}
	}
}

func TestNewUnknown(t *testing.T) {
	if _, err := New([]string{"kafka"}, "", ""); err == nil {
		t.Error("New accepted an unknown target")
	}
}

// TestPeersNotInstalled: a peer whose files are missing says so, rather
// than failing the run.
func TestPeersNotInstalled(t *testing.T) {
	ds, err := New([]string{"nats", "kinesalite"}, t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if err := d.Available(); !errors.Is(err, bench.ErrNotInstalled) {
			t.Errorf("%s: Available = %v, want ErrNotInstalled", d.Name(), err)
		}
	}
}

// A split during a gRPC tail ends the parent's subscription: the tail
// stops reading it without failing the run.
func TestSelfGRPCTailAcrossSplit(t *testing.T) {
	ds, err := New([]string{"self-grpc"}, t.TempDir(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d := ds[0].(*selfGRPC)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // a hang, not a speed check
	defer cancel()
	if err := d.Setup(ctx, bench.Workload{RecordSize: 100, Batch: 1, Shards: 1, Producers: 1}); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tailCtx, stopTail := context.WithCancel(ctx)
	defer stopTail()
	wait, err := d.Tail(tailCtx, func([]byte) {})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.store.SplitShard(ctx, shard.SplitShardInput{Stream: streamName, ShardToSplit: shard.ShardID(0), NewStartingHashKey: "1000"}); err != nil {
		t.Fatal(err)
	}
	// The only subscription ends on its own once the split is applied,
	// so wait returns without stopTail.
	if err := wait(); err != nil {
		t.Fatalf("tail after a split: %v", err)
	}
}

// TestCBORClientDecodesRecords: the CBOR client decodes every member of a
// record (sequence number, arrival time, data, partition key) as a real
// client hands them to its user, not only the data the bench looks at.
func TestCBORClientDecodesRecords(t *testing.T) {
	d := &selfHTTP{self: self{tmpDir: t.TempDir()}, wire: wireCBOR}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := d.Setup(ctx, bench.Workload{RecordSize: 100, Batch: 2, Shards: 1, Producers: 1, Durable: true}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	}()
	c := newCBORClient("http://" + d.httpAddr)
	defer c.Close()
	before := time.Now().Add(-time.Second)
	if err := c.Put(ctx, [][]byte{[]byte("one"), []byte("two")}); err != nil {
		t.Fatal(err)
	}
	it, err := c.iterator(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out cborGetRecordsOut
	if err := c.call(ctx, "GetRecords", cborGetRecords{ShardIterator: *it, Limit: 10}, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Records) != 2 {
		t.Fatalf("%d records, want 2", len(out.Records))
	}
	for i, r := range out.Records {
		at := time.Time(r.ApproximateArrivalTimestamp)
		if len(r.SequenceNumber) != 56 || r.PartitionKey == "" || string(r.Data) != []string{"one", "two"}[i] ||
			at.Before(before) || at.After(time.Now()) {
			t.Errorf("record %d: sequence number %q, partition key %q, data %q, arrival %v", i, r.SequenceNumber, r.PartitionKey, r.Data, at)
		}
	}
}
