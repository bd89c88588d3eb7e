package grpcapi

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"unsafe"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/mem"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// countingPool is a tieredPool that records the buffers put back.
type countingPool struct {
	tieredPool
	mu  sync.Mutex
	put map[*byte]int
}

func (p *countingPool) Put(b *[]byte) {
	p.mu.Lock()
	if p.put == nil {
		p.put = map[*byte]int{}
	}
	p.put[unsafe.SliceData(*b)]++
	p.mu.Unlock()
	p.tieredPool.Put(b)
}

func (p *countingPool) puts(b []byte) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.put[unsafe.SliceData(b)]
}

// TestReplyBuffersLent: a reply encoded into lent buffers is byte for byte
// the reply encoded into the sink's own; the codec sends it without a copy
// and the buffer goes back to the pool once the transport frees it, once.
// Buffers the sink outgrew go back at once. The codec pools nothing it did
// not lend: not a loan the RPC's end forgot, nor a caller's message of
// unknown fields.
func TestReplyBuffersLent(t *testing.T) {
	recs := storeRecords(300)
	tail := func() *spatev1.GetRecordsResponse {
		return &spatev1.GetRecordsResponse{NextShardIterator: "it", MillisBehindLatest: 7}
	}
	var own recordsSink
	sinkRecords(t, &own, recs, false)
	want, err := finish(&own, 0, tail(), new(spatev1.GetRecordsResponse))
	if err != nil {
		t.Fatal(err)
	}
	wantWire := want.ProtoReflect().GetUnknown()

	send := func(t *testing.T, forget bool) (sent []byte, pooled bool) {
		t.Helper()
		pool := &countingPool{}
		codec := protoCodec{pool: pool, replies: newReplyBuffers(pool)}
		h := &heldReply{buffers: codec.replies}
		sink := recordsSink{lender: h}
		sinkRecords(t, &sink, recs, true) // grows several times: gives back what it outgrows
		if len(h.loans) < 2 {
			t.Fatalf("%d loans for %d records read with tight hints, want several", len(h.loans), len(recs))
		}
		for _, p := range h.loans[:len(h.loans)-1] {
			if n := pool.puts(unsafe.Slice(p, 1)); n != 1 {
				t.Fatalf("an outgrown buffer went back to the pool %d times, want 1", n)
			}
		}
		reply, err := finish(&sink, 0, tail(), new(spatev1.GetRecordsResponse))
		if err != nil {
			t.Fatal(err)
		}
		raw := reply.ProtoReflect().GetUnknown()
		if !bytes.Equal(raw, wantWire) {
			t.Fatalf("encoded into lent buffers %x, into its own %x", raw, wantWire)
		}
		if forget {
			h.forget() // the RPC ended before the codec took the reply
		}
		out, err := codec.Marshal(reply)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != 1 || unsafe.SliceData(out[0].ReadOnlyData()) != unsafe.SliceData([]byte(raw)) {
			t.Fatal("the codec copied the encoded reply")
		}
		before := pool.puts(raw)
		out.Free()
		h.forget()
		return raw, pool.puts(raw) > before
	}
	if _, pooled := send(t, false); !pooled {
		t.Error("the codec sent a lent reply and did not pool its buffer when freed")
	}
	if _, pooled := send(t, true); pooled {
		t.Error("the codec pooled the buffer of a loan the RPC had ended")
	}

	// A caller's message of unknown fields only, at least a pool tier large.
	pool := &countingPool{}
	codec := protoCodec{pool: pool, replies: newReplyBuffers(pool)}
	caller := new(spatev1.GetRecordsResponse)
	callerBytes := make([]byte, len(wantWire), 1<<20)
	copy(callerBytes, wantWire)
	caller.ProtoReflect().SetUnknown(callerBytes)
	out, err := codec.Marshal(caller)
	if err != nil {
		t.Fatal(err)
	}
	out.Free()
	if pool.puts(callerBytes) != 0 {
		t.Error("the codec pooled a caller's bytes")
	}
}

// TestGetRecordsLentBuffersOverTheWire: readers of several shards at once,
// their replies encoded into buffers the server's pool lends and takes back
// as soon as each is sent, each read exactly their own shard's records.
func TestGetRecordsLentBuffersOverTheWire(t *testing.T) {
	const shards, perShard = 4, 3000
	conn, c := serveStream(t, shards)
	ctx := testContext(t)
	list, err := c.ListShards(ctx, &spatev1.ListShardsRequest{StreamName: "s"})
	if err != nil {
		t.Fatal(err)
	}
	for i, sh := range list.GetShards() {
		var entries []*spatev1.PutRecordsRequestEntry
		for j := range perShard {
			entries = append(entries, &spatev1.PutRecordsRequestEntry{
				Data: fmt.Appendf(nil, "shard %d record %d %s", i, j, bytes.Repeat([]byte{byte('a' + i)}, 100)), PartitionKey: "k",
				ExplicitHashKey: sh.GetHashKeyRange().GetStartingHashKey(),
			})
			if len(entries) == 500 {
				if _, err := c.PutRecords(ctx, &spatev1.PutRecordsRequest{StreamName: "s", Records: entries}); err != nil {
					t.Fatal(err)
				}
				entries = entries[:0]
			}
		}
	}
	var g errgroup.Group
	for i := range shards {
		for reader := range 2 { // with the generated client and with a GetRecordsReply
			g.Go(func() error {
				it, err := c.GetShardIterator(ctx, &spatev1.GetShardIteratorRequest{StreamName: "s", ShardId: shard.ShardID(uint32(i)),
					ShardIteratorType: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON})
				if err != nil {
					return err
				}
				next, j := it.GetShardIterator(), 0
				var reply GetRecordsReply
				for j < perShard {
					req := &spatev1.GetRecordsRequest{ShardIterator: next, Limit: 700}
					var data [][]byte
					if reader == 0 {
						out, err := c.GetRecords(ctx, req)
						if err != nil {
							return err
						}
						for _, r := range out.GetRecords() {
							data = append(data, r.GetData())
						}
						next = out.GetNextShardIterator()
					} else {
						if err := GetRecords(ctx, conn, req, &reply); err != nil {
							return err
						}
						for _, r := range reply.Records() {
							data = append(data, r.Data)
						}
						next = reply.NextShardIterator
					}
					for _, d := range data {
						want := fmt.Appendf(nil, "shard %d record %d %s", i, j, bytes.Repeat([]byte{byte('a' + i)}, 100))
						if !bytes.Equal(d, want) {
							return fmt.Errorf("shard %d record %d: read %q, want %q", i, j, d, want)
						}
						j++
					}
				}
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

var _ mem.BufferPool = (*countingPool)(nil)
