package client

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/kpl"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// fakeStream is a stream in memory behind a producerTransport: shards
// split the hash key space evenly, and a batch's records are stored as the
// Produce stream stores them (the rest of a shard's records after a
// refused one are refused too).
type fakeStream struct {
	t *testing.T

	mu       sync.Mutex
	shards   []*spatev1.Shard
	listed   int                                                               // listShards calls
	stored   map[string][]kpl.Record                                           // by shard, de-aggregated
	inflight map[string]bool                                                   // shards with a batch in flight
	refuse   func(batch, i int, e *spatev1.PutRecordsRequestEntry) apierr.Code // per entry; nil: none
	batchErr func(batch int) error                                             // per batch; nil: none
	batches  int
	sizes    []int         // entries per batch
	gate     chan struct{} // when set, each put waits for a receive from it
	routeTo  string        // when set, every record is answered as stored there
	listErr  error         // when set, listShards fails with it
}

func newFakeStream(t *testing.T, shards int) *fakeStream {
	f := &fakeStream{t: t, stored: map[string][]kpl.Record{}, inflight: map[string]bool{}}
	f.reshard(shards, 0)
	return f
}

// reshard replaces the open shards by n evenly split ones, numbered from
// first.
func (f *fakeStream) reshard(n, first int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shards = nil
	space := new(big.Int).Lsh(big.NewInt(1), 128)
	for i := range n {
		start := new(big.Int).Quo(new(big.Int).Mul(space, big.NewInt(int64(i))), big.NewInt(int64(n)))
		end := new(big.Int).Sub(new(big.Int).Quo(new(big.Int).Mul(space, big.NewInt(int64(i+1))), big.NewInt(int64(n))), big.NewInt(1))
		f.shards = append(f.shards, &spatev1.Shard{
			ShardId:      fmt.Sprintf("shardId-%012d", first+i),
			HashKeyRange: &spatev1.HashKeyRange{StartingHashKey: start.String(), EndingHashKey: end.String()},
		})
	}
}

func (f *fakeStream) route(e *spatev1.PutRecordsRequestEntry) string {
	var h hashKey
	if e.GetExplicitHashKey() != "" {
		h, _ = parseHashKey(e.GetExplicitHashKey())
	} else {
		h = partitionHash(e.GetPartitionKey())
	}
	m, err := newShardMap(f.shards)
	if err != nil {
		f.t.Error(err)
	}
	return m.route(h)
}

func (f *fakeStream) put(ctx context.Context, stream string, entries []*spatev1.PutRecordsRequestEntry) ([]*spatev1.PutRecordsResultEntry, error) {
	f.mu.Lock()
	batch := f.batches
	f.batches++
	f.sizes = append(f.sizes, len(entries))
	first := f.route(entries[0])
	if f.inflight[first] {
		f.t.Errorf("two batches for %s in flight", first)
	}
	f.inflight[first] = true
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	defer delete(f.inflight, first)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if f.batchErr != nil {
		if err := f.batchErr(batch); err != nil {
			return nil, err
		}
	}
	out := make([]*spatev1.PutRecordsResultEntry, len(entries))
	stopped := map[string]apierr.Code{}
	for i, e := range entries {
		sh := f.route(e)
		code, ok := stopped[sh]
		if !ok && f.refuse != nil {
			code = f.refuse(batch, i, e)
		}
		if code != "" {
			stopped[sh] = code
			out[i] = &spatev1.PutRecordsResultEntry{ErrorCode: string(code), ErrorMessage: "refused"}
			continue
		}
		recs := []kpl.Record{{PartitionKey: e.GetPartitionKey(), Data: e.GetData()}}
		if kpl.IsAggregated(e.GetData()) {
			var err error
			if recs, err = kpl.Deaggregate(e.GetData()); err != nil {
				f.t.Error(err)
			}
		}
		f.stored[sh] = append(f.stored[sh], recs...)
		if f.routeTo != "" {
			sh = f.routeTo
		}
		out[i] = &spatev1.PutRecordsResultEntry{ShardId: sh, SequenceNumber: fmt.Sprintf("%020d", len(f.stored[sh]))}
	}
	return out, nil
}

func (f *fakeStream) listShards(ctx context.Context, stream string) ([]*spatev1.Shard, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listed++
	if f.listErr != nil {
		return nil, f.listErr
	}
	return f.shards, nil
}

func (f *fakeStream) close() error { return nil }

// byKey returns the data stored under each partition key, in order.
func (f *fakeStream) byKey() map[string][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]string{}
	for _, recs := range f.stored {
		for _, r := range recs {
			out[r.PartitionKey] = append(out[r.PartitionKey], string(r.Data))
		}
	}
	return out
}

func testProducer(t *testing.T, f *fakeStream, opts ...ProducerOption) *Producer {
	t.Helper()
	cfg := defaultProducerConfig()
	cfg.backoffMin, cfg.backoffMax = time.Millisecond, 5*time.Millisecond
	for _, o := range opts {
		o(&cfg)
	}
	p := newProducer("s", cfg, f)
	t.Cleanup(func() {
		// Bounded: a Producer that cannot drain fails the test, not hangs it.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = p.Close(ctx)
	})
	return p
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// hookCounts counts a producer's batch events.
type hookCounts struct {
	mu                               sync.Mutex
	batches, stored, retried, failed int
}

func (h *hookCounts) OnBatch(ev BatchEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.batches++
	h.stored += ev.Stored
	h.retried += ev.Retried
	h.failed += ev.Failed
}

// TestProducerDelivers: every record is stored once and acknowledged
// with its shard, in per-key order, under the given failures.
func TestProducerDelivers(t *testing.T) {
	tests := []struct {
		name      string
		opts      []ProducerOption
		refuse    func(batch, i int, e *spatev1.PutRecordsRequestEntry) apierr.Code
		batchErr  func(batch int) error
		wantRetry bool
	}{
		{"no failures", nil, nil, nil, false},
		{"records refused", nil, func(batch, i int, _ *spatev1.PutRecordsRequestEntry) apierr.Code {
			if (batch*7+i)%5 == 0 {
				return apierr.ProvisionedThroughputExceeded
			}
			return ""
		}, nil, true},
		{"batches lost", nil, nil, func(batch int) error {
			if batch%3 == 0 {
				return errors.New("connection reset")
			}
			return nil
		}, true},
		{"batches refused", nil, nil, func(batch int) error {
			if batch%4 == 1 {
				return &apierr.Error{Code: apierr.InternalFailure, Message: "boom"}
			}
			return nil
		}, true},
		{"aggregated, records refused", []ProducerOption{WithAggregation(300)}, func(batch, i int, _ *spatev1.PutRecordsRequestEntry) apierr.Code {
			if (batch+i)%4 == 0 {
				return apierr.InternalFailure
			}
			return ""
		}, nil, true},
		{"small batches, no linger", []ProducerOption{WithBatchMaxRecords(3), WithLinger(0)}, nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeStream(t, 4)
			f.refuse, f.batchErr = tt.refuse, tt.batchErr
			hooks := &hookCounts{}
			p := testProducer(t, f, append(tt.opts, WithHooks(hooks))...)
			ctx := testCtx(t)
			var results []*PutResult
			const keys, perKey = 10, 60
			for i := range perKey {
				for k := range keys {
					results = append(results, p.Put(ctx, fmt.Sprintf("key-%d", k), fmt.Appendf(nil, "%d", i)))
				}
			}
			if err := p.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			for i, r := range results {
				shard, seq, err := r.Wait(ctx)
				if err != nil || seq == "" || !strings.HasPrefix(shard, "shardId-") {
					t.Fatalf("record %d: %q %q %v", i, shard, seq, err)
				}
			}
			got := f.byKey()
			for k := range keys {
				data := got[fmt.Sprintf("key-%d", k)]
				if len(data) != perKey {
					t.Fatalf("key-%d: %d records stored, want %d", k, len(data), perKey)
				}
				for i, d := range data {
					if d != fmt.Sprint(i) {
						t.Fatalf("key-%d: record %d is %s: out of order", k, i, d)
					}
				}
			}
			// Close waits for the hooks of every batch.
			if err := p.Close(ctx); err != nil {
				t.Fatal(err)
			}
			hooks.mu.Lock()
			defer hooks.mu.Unlock()
			if hooks.stored != keys*perKey || hooks.failed != 0 || (hooks.retried > 0) != tt.wantRetry {
				t.Fatalf("hooks: %d stored, %d retried, %d failed", hooks.stored, hooks.retried, hooks.failed)
			}
		})
	}
}

// TestProducerBatchBounds: batches hold at most the configured records
// and bytes, and lingering records go together.
func TestProducerBatchBounds(t *testing.T) {
	tests := []struct {
		name    string
		opts    []ProducerOption
		records int
		maxSize int // entries per batch
	}{
		{"by count", []ProducerOption{WithBatchMaxRecords(7), WithLinger(time.Hour)}, 50, 7},
		{"by bytes", []ProducerOption{WithBatchMaxBytes(95), WithLinger(time.Hour)}, 50, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeStream(t, 1)
			p := testProducer(t, f, tt.opts...)
			ctx := testCtx(t)
			for i := range tt.records {
				p.Put(ctx, "k", fmt.Appendf(nil, "data-%04d", i)) // 10 bytes with the key
			}
			if err := p.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			total := 0
			for _, n := range f.sizes {
				if n > tt.maxSize {
					t.Fatalf("a batch of %d records, want at most %d (%v)", n, tt.maxSize, f.sizes)
				}
				total += n
			}
			if total != tt.records {
				t.Fatalf("%d records sent, want %d", total, tt.records)
			}
		})
	}
}

// TestProducerFailures: records that cannot be stored fail with the cause.
func TestProducerFailures(t *testing.T) {
	tests := []struct {
		name     string
		opts     []ProducerOption
		refuse   func(batch, i int, e *spatev1.PutRecordsRequestEntry) apierr.Code
		batchErr func(batch int) error
		want     func(error) bool
	}{
		{"not retryable", nil, func(int, int, *spatev1.PutRecordsRequestEntry) apierr.Code { return apierr.KMSDisabled }, nil,
			func(err error) bool { return apierr.Is(err, apierr.KMSDisabled) }},
		{"stream missing", nil, nil, func(int) error { return &apierr.Error{Code: apierr.ResourceNotFound, Message: "no"} },
			func(err error) bool { return apierr.Is(err, apierr.ResourceNotFound) }},
		{"retries until the deadline", []ProducerOption{WithRecordTimeout(20 * time.Millisecond)},
			func(int, int, *spatev1.PutRecordsRequestEntry) apierr.Code {
				return apierr.ProvisionedThroughputExceeded
			}, nil,
			func(err error) bool {
				return apierr.Is(err, apierr.ProvisionedThroughputExceeded) && strings.Contains(err.Error(), "not stored within")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeStream(t, 2)
			f.refuse, f.batchErr = tt.refuse, tt.batchErr
			p := testProducer(t, f, tt.opts...)
			ctx := testCtx(t)
			r := p.Put(ctx, "k", []byte("x"))
			if _, _, err := r.Wait(ctx); !tt.want(err) {
				t.Fatalf("error %v", err)
			}
		})
	}
	t.Run("stream missing when listing shards", func(t *testing.T) {
		f := newFakeStream(t, 1)
		f.listErr = &apierr.Error{Code: apierr.ResourceNotFound, Message: "no such stream"}
		p := testProducer(t, f)
		ctx := testCtx(t)
		if _, _, err := p.Put(ctx, "k", []byte("x")).Wait(ctx); !apierr.Is(err, apierr.ResourceNotFound) {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("no partition key", func(t *testing.T) {
		p := testProducer(t, newFakeStream(t, 1))
		if _, _, err := p.Put(testCtx(t), "", []byte("x")).Wait(testCtx(t)); !apierr.Is(err, apierr.Validation) {
			t.Fatalf("error %v", err)
		}
	})
}

// TestProducerBackpressure: a full buffer blocks Put until its context
// ends, or fails it at once with WithFailFast; room frees as records
// finish.
func TestProducerBackpressure(t *testing.T) {
	for _, failFast := range []bool{false, true} {
		t.Run(fmt.Sprintf("failFast=%v", failFast), func(t *testing.T) {
			f := newFakeStream(t, 1)
			gate := make(chan struct{})
			f.gate = gate
			opts := []ProducerOption{WithMaxBuffered(2, 1<<20), WithLinger(0)}
			if failFast {
				opts = append(opts, WithFailFast())
			}
			p := testProducer(t, f, opts...)
			ctx := testCtx(t)
			first := []*PutResult{p.Put(ctx, "k", []byte("1")), p.Put(ctx, "k", []byte("2"))}
			short, cancel := context.WithCancel(ctx)
			cancel()
			_, _, err := p.Put(short, "k", []byte("3")).Wait(ctx)
			want := context.Canceled
			if failFast {
				want = ErrBufferFull
			}
			if !errors.Is(err, want) {
				t.Fatalf("Put into a full buffer: %v, want %v", err, want)
			}
			// Open the gate: the first two are stored, and there is room.
			go func() {
				for range 2 {
					gate <- struct{}{}
				}
			}()
			for _, r := range first {
				if _, _, err := r.Wait(ctx); err != nil {
					t.Fatal(err)
				}
			}
			f.mu.Lock()
			f.gate = nil
			f.mu.Unlock()
			if _, _, err := p.Put(ctx, "k", []byte("4")).Wait(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestProducerReshard: answers from another shard than the map says make
// the producer list the shards again and route by the new map.
func TestProducerReshard(t *testing.T) {
	f := newFakeStream(t, 1)
	p := testProducer(t, f, WithLinger(0))
	ctx := testCtx(t)
	if _, _, err := p.Put(ctx, "k", []byte("1")).Wait(ctx); err != nil {
		t.Fatal(err)
	}
	f.reshard(2, 1) // shardId-000000000001 and 2; the server routes there
	for i := range 20 {
		if _, _, err := p.Put(ctx, fmt.Sprintf("k%d", i), []byte("x")).Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	f.mu.Lock()
	listed := f.listed
	f.mu.Unlock()
	if listed != 2 {
		t.Fatalf("shards listed %d times, want 2", listed)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.queues["shardId-000000000000"]; ok || len(p.queues) != 2 {
		t.Fatalf("queues %v: want those of the 2 new shards", p.queues)
	}
}

// TestProducerAggregation: records go in KPL aggregates, each record
// answered with its aggregate's sequence number and its place in it.
func TestProducerAggregation(t *testing.T) {
	f := newFakeStream(t, 1)
	p := testProducer(t, f, WithAggregation(0), WithLinger(time.Hour))
	ctx := testCtx(t)
	var rs []*PutResult
	for i := range 10 {
		rs = append(rs, p.Put(ctx, fmt.Sprintf("k%d", i), []byte("x")))
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		_, seq, err := r.Wait(ctx)
		sub, ok := r.SubSequenceNumber()
		if err != nil || seq != fmt.Sprintf("%020d", 10) || !ok || sub != i {
			t.Fatalf("record %d: %s sub %d %v %v", i, seq, sub, ok, err)
		}
	}
	if f.sizes[0] != 1 {
		t.Fatalf("%d Kinesis records sent, want 1 aggregate", f.sizes[0])
	}
}

// TestProducerClose: Close drains; a Close whose context ends fails what
// is left with ErrProducerClosed; Put after Close fails.
func TestProducerClose(t *testing.T) {
	t.Run("drains", func(t *testing.T) {
		f := newFakeStream(t, 2)
		p := testProducer(t, f, WithLinger(time.Hour))
		ctx := testCtx(t)
		r := p.Put(ctx, "k", []byte("x"))
		if err := p.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if _, _, err := r.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		if _, _, err := p.Put(ctx, "k", []byte("y")).Wait(ctx); !errors.Is(err, ErrProducerClosed) {
			t.Fatalf("Put after Close: %v", err)
		}
	})
	t.Run("gives up", func(t *testing.T) {
		f := newFakeStream(t, 1)
		f.gate = make(chan struct{}) // never opened
		p := testProducer(t, f, WithLinger(0))
		ctx := testCtx(t)
		r := p.Put(ctx, "k", []byte("x"))
		short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		if err := p.Close(short); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Close: %v", err)
		}
		if _, _, err := r.Wait(ctx); !errors.Is(err, ErrProducerClosed) {
			t.Fatalf("record: %v", err)
		}
	})
}

// attemptHooks records the highest attempt number of the batches.
type attemptHooks struct {
	mu  sync.Mutex
	max int
}

func (h *attemptHooks) OnBatch(ev BatchEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.max = max(h.max, ev.Attempt)
}

// TestProducerBackoffStartsOver: a batch that stores some of its records
// ends the backoff's growth, so a shard that keeps losing a share of its
// records to throttles still goes at the pace of its answers.
func TestProducerBackoffStartsOver(t *testing.T) {
	f := newFakeStream(t, 1)
	// The last record of every batch of more than one is refused: every
	// attempt stores something and leaves something to retry.
	f.mu.Lock()
	f.refuse = func(_, i int, _ *spatev1.PutRecordsRequestEntry) apierr.Code {
		if i == 1 {
			return apierr.ProvisionedThroughputExceeded
		}
		return ""
	}
	f.mu.Unlock()
	hooks := &attemptHooks{}
	p := testProducer(t, f, WithHooks(hooks), WithBatchMaxRecords(2), WithLinger(time.Hour))
	ctx := testCtx(t)
	for i := range 20 {
		p.Put(ctx, "k", fmt.Appendf(nil, "%d", i))
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.byKey()["k"]; len(got) != 20 {
		t.Fatalf("%d records stored", len(got))
	}
	if hooks.max != 2 {
		t.Fatalf("attempts went up to %d: the backoff kept growing though every attempt stored records", hooks.max)
	}
}

// TestProducerReshardWhileLingering: a queue whose linger timer has
// fired, but waits for the lock, when the map is replaced has handed its
// records to the new queues: when its timer's dispatch runs it sends
// nothing, and each record is sent and finished once.
func TestProducerReshardWhileLingering(t *testing.T) {
	f := newFakeStream(t, 2)
	p := testProducer(t, f, WithLinger(time.Hour))
	ctx := testCtx(t)
	k0 := keyOfHalf(0)
	p.Put(ctx, "first", []byte("0")) // loads the map
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r := p.Put(ctx, k0, []byte("x")) // lingers, its queue's timer armed
	m, err := newShardMap(f.shards)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	old := p.queues["shardId-000000000000"]
	if old == nil || old.timer == nil {
		p.mu.Unlock()
		t.Fatalf("queue %+v: want a lingering record", old)
	}
	p.install(m)                                 // a refresh replaces the map
	p.dispatch(old, time.Now().Add(2*time.Hour)) // what the old queue's fired timer does
	p.mu.Unlock()
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.byKey()[k0]; len(got) != 1 {
		t.Fatalf("record sent %d times", len(got))
	}
}

// keyOfHalf returns a partition key a 2-shard stream routes to shard half.
func keyOfHalf(half int) string {
	for i := 0; ; i++ {
		k := fmt.Sprintf("k%d", i)
		if int(partitionHash(k)[0]>>7) == half {
			return k
		}
	}
}

// TestProducerRefreshAfterGivingUp: a refresh that failed with nothing
// waiting leaves the map stale; the next Put lists the shards again
// instead of waiting for a refresh that never comes.
func TestProducerRefreshAfterGivingUp(t *testing.T) {
	f := newFakeStream(t, 1)
	gate := make(chan struct{})
	f.gate = gate
	p := testProducer(t, f, WithLinger(0))
	ctx := testCtx(t)
	first := p.Put(ctx, "a", []byte("1"))
	f.mu.Lock()
	for len(f.inflight) == 0 { // wait for the batch at the gate
		f.mu.Unlock()
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(time.Millisecond):
		}
		f.mu.Lock()
	}
	f.routeTo = "shardId-000000000009" // the map is stale
	f.listErr = errors.New("connection refused")
	f.gate = nil
	f.mu.Unlock()
	gate <- struct{}{}
	if _, _, err := first.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	// The refresh fails and, nothing waiting, gives up.
	for {
		p.mu.Lock()
		gaveUp := !p.refreshing && p.stale
		p.mu.Unlock()
		if gaveUp {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
	f.mu.Lock()
	f.routeTo, f.listErr = "", nil
	f.mu.Unlock()
	if _, _, err := p.Put(ctx, "a", []byte("2")).Wait(ctx); err != nil {
		t.Fatal(err)
	}
}
