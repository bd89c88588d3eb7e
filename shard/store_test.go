package shard

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/spatehq/spate/apierr"
)

// fakeClock is a settable clock for retention and iterator tests.
type fakeClock struct{ ms atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.UnixMilli(c.ms.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

func openTest(t *testing.T, dir string, opts ...Option) *Store {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := Open(dir, append([]Option{WithTrimInterval(time.Hour)}, opts...)...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func mustCreate(t *testing.T, s *Store, name string, shards int) {
	t.Helper()
	if err := s.CreateStream(context.Background(), CreateStreamInput{Name: name, ShardCount: shards}); err != nil {
		t.Fatalf("CreateStream(%s, %d): %v", name, shards, err)
	}
}

func wantCode(t *testing.T, err error, code apierr.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	if got := apierr.CodeOf(err); got != code {
		t.Fatalf("got %s (%v), want %s", got, err, code)
	}
}

func readAll(t *testing.T, s *Store, stream, shardID string, pos Position) []Record {
	t.Helper()
	ctx := context.Background()
	it, err := s.ShardIterator(ctx, stream, shardID, pos)
	if err != nil {
		t.Fatalf("ShardIterator: %v", err)
	}
	var out []Record
	for {
		res, err := s.GetRecords(ctx, it, 7)
		if err != nil {
			t.Fatalf("GetRecords: %v", err)
		}
		out = append(out, res.Records...)
		if len(res.Records) == 0 {
			return out
		}
		it = res.NextIterator
	}
}

func TestSequenceNumberFormat(t *testing.T) {
	tests := []struct {
		id    uint32
		shard uint32
		ctr   uint64
	}{{1, 0, 0}, {1, 0, 1}, {7, 3, 99}, {^uint32(0), 1 << 20, ^uint64(0)}}
	prev := ""
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt), func(t *testing.T) {
			seq := formatSeq(tt.id, tt.shard, tt.ctr)
			if len(seq) != SequenceNumberLen {
				t.Fatalf("len(%s) = %d, want %d", seq, len(seq), SequenceNumberLen)
			}
			id, sh, ctr, err := parseSeq(seq)
			if err != nil || id != tt.id || sh != tt.shard || ctr != tt.ctr {
				t.Fatalf("parseSeq(%s) = %d,%d,%d,%v", seq, id, sh, ctr, err)
			}
			if prev != "" {
				a, _ := new(big.Int).SetString(prev, 10)
				b, _ := new(big.Int).SetString(seq, 10)
				if (prev < seq) != (a.Cmp(b) < 0) {
					t.Fatalf("string order and numeric order disagree for %s, %s", prev, seq)
				}
			}
			prev = seq
		})
	}
	for _, bad := range []string{"", "1", strings.Repeat("9", 56), "49" + strings.Repeat("x", 54)} {
		if _, _, _, err := parseSeq(bad); apierr.CodeOf(err) != apierr.InvalidArgument {
			t.Errorf("parseSeq(%q) = %v, want InvalidArgument", bad, err)
		}
	}
}

func TestHashRangesAndRouting(t *testing.T) {
	space := new(big.Int).Lsh(big.NewInt(1), 128)
	for _, n := range []int{1, 2, 3, 7, 16} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := openTest(t, "")
			name := fmt.Sprintf("s%d", n)
			mustCreate(t, s, name, n)
			d, err := s.DescribeStream(context.Background(), name, 0, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Shards) != n {
				t.Fatalf("%d shards, want %d", len(d.Shards), n)
			}
			for i, sh := range d.Shards {
				start := new(big.Int).Quo(new(big.Int).Mul(space, big.NewInt(int64(i))), big.NewInt(int64(n)))
				end := new(big.Int).Quo(new(big.Int).Mul(space, big.NewInt(int64(i+1))), big.NewInt(int64(n)))
				end.Sub(end, big.NewInt(1))
				if sh.HashKeyRange.Start != start.String() || sh.HashKeyRange.End != end.String() {
					t.Fatalf("shard %d range %v, want %s..%s", i, sh.HashKeyRange, start, end)
				}
				for _, k := range []*big.Int{start, end} {
					res, err := s.Append(context.Background(), name, []Entry{{PartitionKey: "p", ExplicitHashKey: k.String(), Data: []byte("x")}})
					if err != nil {
						t.Fatal(err)
					}
					if res[0].ShardID != sh.ShardID {
						t.Fatalf("hash key %s went to %s, want %s", k, res[0].ShardID, sh.ShardID)
					}
				}
			}
		})
	}
	s := openTest(t, "")
	mustCreate(t, s, "md5", 4)
	// MD5("a") = 0cc175b9c0f1b6a831c399e269772661, in the first quarter.
	res, err := s.Append(context.Background(), "md5", []Entry{{PartitionKey: "a", Data: nil}})
	if err != nil || res[0].ShardID != "shardId-000000000000" {
		t.Fatalf("partition key a routed to %v (%v), want shardId-000000000000", res, err)
	}
	_, err = s.Append(context.Background(), "md5", []Entry{{PartitionKey: "a", ExplicitHashKey: space.String()}})
	wantCode(t, err, apierr.InvalidArgument)
}

func TestStreamLifecycleErrors(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "", WithShardLimit(10))
	mustCreate(t, s, "a", 3)
	tests := []struct {
		name string
		err  error
		want apierr.Code
	}{
		{"exists", s.CreateStream(ctx, CreateStreamInput{Name: "a", ShardCount: 1}), apierr.ResourceInUse},
		{"bad name", s.CreateStream(ctx, CreateStreamInput{Name: "a b", ShardCount: 1}), apierr.Validation},
		{"zero shards", s.CreateStream(ctx, CreateStreamInput{Name: "z", ShardCount: 0}), apierr.InvalidArgument},
		{"over limit", s.CreateStream(ctx, CreateStreamInput{Name: "big", ShardCount: 8}), apierr.LimitExceeded},
		{"missing delete", s.DeleteStream(ctx, "nope"), apierr.ResourceNotFound},
		{"retention low", s.IncreaseRetention(ctx, "a", 23), apierr.InvalidArgument},
		{"retention high", s.IncreaseRetention(ctx, "a", 8761), apierr.InvalidArgument},
		{"decrease above", s.DecreaseRetention(ctx, "a", 48), apierr.InvalidArgument},
		{"tag aws prefix", s.AddTags(ctx, "a", map[string]string{"aws:x": "1"}), apierr.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.err, tt.want) })
	}
	if _, err := s.DescribeStreamSummary(ctx, "big"); apierr.CodeOf(err) != apierr.ResourceNotFound {
		t.Errorf("a rejected CreateStream left a stream behind: %v", err)
	}
	if err := s.IncreaseRetention(ctx, "a", 48); err != nil {
		t.Fatal(err)
	}
	if err := s.DecreaseRetention(ctx, "a", 30); err != nil {
		t.Fatal(err)
	}
	d, _ := s.DescribeStreamSummary(ctx, "a")
	if d.RetentionHours != 30 || d.OpenShardCount != 3 || d.Status != StatusActive {
		t.Fatalf("summary %+v", d)
	}
}

func TestCreatingStatus(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{}
	clock.ms.Store(1_700_000_000_000)
	s := openTest(t, "", WithCreateDelay(time.Second), WithClock(clock.now))
	mustCreate(t, s, "slow", 1)
	d, _ := s.DescribeStreamSummary(ctx, "slow")
	if d.Status != StatusCreating {
		t.Fatalf("status %s, want CREATING", d.Status)
	}
	_, err := s.Append(ctx, "slow", []Entry{{PartitionKey: "k"}})
	wantCode(t, err, apierr.ResourceNotFound)
	wantCode(t, s.AddTags(ctx, "slow", map[string]string{"k": "v"}), apierr.ResourceInUse)
	wantCode(t, s.DeleteStream(ctx, "slow"), apierr.ResourceInUse)
	_, err = s.ListShards(ctx, ListShardsInput{Stream: "slow"})
	wantCode(t, err, apierr.ResourceInUse)
	clock.advance(time.Second)
	if d, _ := s.DescribeStreamSummary(ctx, "slow"); d.Status != StatusActive {
		t.Fatalf("status %s after the delay, want ACTIVE", d.Status)
	}
}

func TestIteratorTypes(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{}
	clock.ms.Store(1_700_000_000_000)
	s := openTest(t, "", WithClock(clock.now))
	mustCreate(t, s, "it", 1)
	var seqs []string
	var times []time.Time
	for i := 0; i < 10; i++ {
		res, err := s.Append(ctx, "it", []Entry{{PartitionKey: "k", Data: []byte{byte(i)}}})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, res[0].SequenceNumber)
		times = append(times, clock.now())
		clock.advance(10 * time.Millisecond)
	}
	sh := "shardId-000000000000"
	tests := []struct {
		name  string
		pos   Position
		first int // index of the first record expected; 10 = none
	}{
		{"trim horizon", Position{Type: TrimHorizon}, 0},
		{"latest", Position{Type: Latest}, 10},
		{"at seq", Position{Type: AtSequenceNumber, SequenceNumber: seqs[4]}, 4},
		{"after seq", Position{Type: AfterSequenceNumber, SequenceNumber: seqs[4]}, 5},
		{"at timestamp exact", Position{Type: AtTimestamp, Timestamp: times[6]}, 6},
		{"at timestamp between", Position{Type: AtTimestamp, Timestamp: times[6].Add(time.Millisecond)}, 7},
		{"at timestamp before all", Position{Type: AtTimestamp, Timestamp: times[0].Add(-time.Hour)}, 0},
		{"at timestamp after all", Position{Type: AtTimestamp, Timestamp: clock.now()}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readAll(t, s, "it", sh, tt.pos)
			if len(got) != 10-tt.first {
				t.Fatalf("%d records, want %d", len(got), 10-tt.first)
			}
			for i, r := range got {
				if r.SequenceNumber != seqs[tt.first+i] || r.Data[0] != byte(tt.first+i) || r.PartitionKey != "k" {
					t.Fatalf("record %d = %+v", i, r)
				}
				if !r.ArrivalTime.Equal(times[tt.first+i]) {
					t.Fatalf("record %d arrival %v, want %v", i, r.ArrivalTime, times[tt.first+i])
				}
			}
		})
	}
	mustCreate(t, s, "other", 2)
	_, err := s.ShardIterator(ctx, "other", sh, Position{Type: AtSequenceNumber, SequenceNumber: seqs[0]})
	wantCode(t, err, apierr.InvalidArgument)
	_, err = s.ShardIterator(ctx, "it", "shardId-000000000009", Position{Type: TrimHorizon})
	wantCode(t, err, apierr.ResourceNotFound)
	_, err = s.ShardIterator(ctx, "it", sh, Position{Type: "SIDEWAYS"})
	wantCode(t, err, apierr.InvalidArgument)
	for _, bad := range []Position{
		{Type: TrimHorizon, SequenceNumber: seqs[0]},
		{Type: Latest, SequenceNumber: seqs[0]},
		{Type: AtTimestamp, Timestamp: times[0], SequenceNumber: seqs[0]},
		{Type: AtSequenceNumber, SequenceNumber: seqs[0], Timestamp: times[0]},
	} {
		_, err = s.ShardIterator(ctx, "it", sh, bad)
		wantCode(t, err, apierr.InvalidArgument)
	}

	it, _ := s.ShardIterator(ctx, "it", sh, Position{Type: TrimHorizon})
	_, err = s.GetRecords(ctx, it[:len(it)-2]+"AA", 0)
	wantCode(t, err, apierr.InvalidArgument)
	clock.advance(IteratorTTL + time.Second)
	_, err = s.GetRecords(ctx, it, 0)
	wantCode(t, err, apierr.ExpiredIterator)
}

func TestMillisBehindLatest(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{}
	clock.ms.Store(1_700_000_000_000)
	s := openTest(t, "", WithClock(clock.now))
	mustCreate(t, s, "lag", 1)
	for i := 0; i < 3; i++ {
		if _, err := s.Append(ctx, "lag", []Entry{{PartitionKey: "k"}}); err != nil {
			t.Fatal(err)
		}
	}
	clock.advance(time.Minute)
	it, _ := s.ShardIterator(ctx, "lag", "shardId-000000000000", Position{Type: TrimHorizon})
	res, err := s.GetRecords(ctx, it, 1)
	if err != nil || len(res.Records) != 1 || res.MillisBehindLatest != time.Minute.Milliseconds() {
		t.Fatalf("first page: %d records, behind %d, %v", len(res.Records), res.MillisBehindLatest, err)
	}
	res, err = s.GetRecords(ctx, res.NextIterator, 10)
	if err != nil || len(res.Records) != 2 || res.MillisBehindLatest != 0 || res.NextIterator == "" {
		t.Fatalf("second page: %d records, behind %d, %v", len(res.Records), res.MillisBehindLatest, err)
	}
}

func TestAppendValidationChangesNothing(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "")
	mustCreate(t, s, "v", 1)
	tests := []struct {
		name    string
		entries []Entry
		want    apierr.Code
	}{
		{"empty", nil, apierr.InvalidArgument},
		{"too many", make([]Entry, 501), apierr.InvalidArgument},
		{"no key", []Entry{{PartitionKey: "ok"}, {PartitionKey: ""}}, apierr.Validation},
		{"key too long", []Entry{{PartitionKey: strings.Repeat("k", 257)}}, apierr.Validation},
		{"key not UTF-8", []Entry{{PartitionKey: "k\xff"}}, apierr.Validation},
		{"record too big", []Entry{{PartitionKey: "k", Data: make([]byte, MaxRecordSize)}}, apierr.InvalidArgument},
		// 10 MiB and a byte (5 MiB before the 2025 change).
		{"request too big", append(slices.Repeat([]Entry{{PartitionKey: "k", Data: make([]byte, MaxRecordSize-1)}}, 10),
			Entry{PartitionKey: "k", Data: make([]byte, 1)}), apierr.InvalidArgument},
		// Over the stream's limit (1 MiB), not over the largest limit.
		{"one record of a batch too big", []Entry{{PartitionKey: "k"}, {PartitionKey: "k", Data: make([]byte, 2*MaxRecordSize)}}, apierr.InvalidArgument},
		{"bad hash key", []Entry{{PartitionKey: "k", ExplicitHashKey: "-1"}}, apierr.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Append(ctx, "v", tt.entries)
			wantCode(t, err, tt.want)
		})
	}
	if got := readAll(t, s, "v", "shardId-000000000000", Position{Type: TrimHorizon}); len(got) != 0 {
		t.Fatalf("rejected appends stored %d records", len(got))
	}
	_, err := s.Append(ctx, "missing", []Entry{{PartitionKey: "k"}})
	wantCode(t, err, apierr.ResourceNotFound)
}

// TestConcurrentAppends checks group commit under -race: every acknowledged
// record is readable once, in counter order, with unique sequence numbers.
func TestConcurrentAppends(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "")
	mustCreate(t, s, "c", 3)
	const producers, perProducer = 8, 200
	var mu sync.Mutex
	acked := map[string]string{} // seq -> payload
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for i := 0; i < perProducer; i += 4 {
				var batch []Entry
				for j := i; j < i+4; j++ {
					batch = append(batch, Entry{PartitionKey: fmt.Sprintf("p%d-%d", p, j), Data: []byte(fmt.Sprintf("%d/%d", p, j))})
				}
				res, err := s.Append(ctx, "c", batch)
				if err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				mu.Lock()
				for k, r := range res {
					if _, dup := acked[r.SequenceNumber]; dup {
						t.Errorf("sequence number %s handed out twice", r.SequenceNumber)
					}
					acked[r.SequenceNumber] = string(batch[k].Data)
				}
				mu.Unlock()
			}
		}(p)
	}
	wg.Wait()
	total := 0
	for i := 0; i < 3; i++ {
		recs := readAll(t, s, "c", ShardID(uint32(i)), Position{Type: TrimHorizon})
		for j, r := range recs {
			if j > 0 && recs[j-1].SequenceNumber >= r.SequenceNumber {
				t.Fatalf("shard %d: sequence numbers not increasing at %d", i, j)
			}
			if acked[r.SequenceNumber] != string(r.Data) {
				t.Fatalf("record %s holds %q, acknowledged %q", r.SequenceNumber, r.Data, acked[r.SequenceNumber])
			}
		}
		total += len(recs)
	}
	if total != producers*perProducer || len(acked) != total {
		t.Fatalf("read %d records, acknowledged %d, want %d", total, len(acked), producers*perProducer)
	}
}

func TestRestartKeepsEverything(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "keep", 2)
	if err := s.AddTags(ctx, "keep", map[string]string{"team": "core"}); err != nil {
		t.Fatal(err)
	}
	if err := s.IncreaseRetention(ctx, "keep", 100); err != nil {
		t.Fatal(err)
	}
	res, err := s.Append(ctx, "keep", []Entry{{PartitionKey: "a", Data: []byte("1")}, {PartitionKey: "b", Data: []byte("2")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	d, err := s.DescribeStream(ctx, "keep", 0, "")
	if err != nil || d.RetentionHours != 100 || len(d.Shards) != 2 {
		t.Fatalf("after restart: %+v, %v", d, err)
	}
	tags, _, _ := s.ListTags(ctx, "keep", "", 0)
	if len(tags) != 1 || tags[0] != (Tag{"team", "core"}) {
		t.Fatalf("tags after restart: %v", tags)
	}
	res2, err := s.Append(ctx, "keep", []Entry{{PartitionKey: "a", Data: []byte("3")}})
	if err != nil {
		t.Fatal(err)
	}
	if res2[0].ShardID == res[0].ShardID && res2[0].SequenceNumber <= res[0].SequenceNumber {
		t.Fatalf("sequence number went back after restart: %s then %s", res[0].SequenceNumber, res2[0].SequenceNumber)
	}
	got := readAll(t, s, "keep", res[0].ShardID, Position{Type: TrimHorizon})
	if len(got) == 0 || string(got[0].Data) != "1" {
		t.Fatalf("records after restart: %+v", got)
	}
}

func TestRetentionTrim(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{}
	clock.ms.Store(1_700_000_000_000)
	dir := t.TempDir()
	s := openTest(t, dir, WithClock(clock.now))
	mustCreate(t, s, "r", 1)
	put := func(n int) (last string) {
		for i := 0; i < n; i++ {
			res, err := s.Append(ctx, "r", []Entry{{PartitionKey: "k", Data: []byte("x")}})
			if err != nil {
				t.Fatal(err)
			}
			last = res[0].SequenceNumber
			clock.advance(time.Millisecond)
		}
		return last
	}
	put(5)
	clock.advance(12 * time.Hour)
	put(3)
	clock.advance(13 * time.Hour) // the first 5 are now 25h old, the next 3 are 13h old
	if err := s.TrimExpired(ctx); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s, "r", "shardId-000000000000", Position{Type: TrimHorizon}); len(got) != 3 {
		t.Fatalf("%d records after trim, want 3", len(got))
	}
	clock.advance(24 * time.Hour)
	if err := s.TrimExpired(ctx); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s, "r", "shardId-000000000000", Position{Type: TrimHorizon}); len(got) != 0 {
		t.Fatalf("%d records after trimming all, want 0", len(got))
	}
	// Counters never repeat, even with every record trimmed and a restart.
	before := put(1)
	_ = s.Close()
	s = openTest(t, dir, WithClock(clock.now))
	res, err := s.Append(ctx, "r", []Entry{{PartitionKey: "k"}})
	if err != nil || res[0].SequenceNumber <= before {
		t.Fatalf("after restart got %v (%v), want a sequence number above %s", res, err, before)
	}
}

func TestPaging(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "")
	for _, n := range []string{"c", "a", "b", "d", "e"} {
		mustCreate(t, s, n, 1)
	}
	mustCreate(t, s, "many", 7)
	var names []string
	in := ListStreamsInput{Limit: 2}
	for {
		out, err := s.ListStreams(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range out.Streams {
			names = append(names, st.Name)
		}
		if !out.HasMoreStreams {
			break
		}
		in = ListStreamsInput{Limit: 2, NextToken: out.NextToken}
	}
	if !sort.StringsAreSorted(names) || len(names) != 6 {
		t.Fatalf("ListStreams pages gave %v", names)
	}
	var shards []string
	lin := ListShardsInput{Stream: "many", MaxResults: 3}
	for {
		out, err := s.ListShards(ctx, lin)
		if err != nil {
			t.Fatal(err)
		}
		for _, sh := range out.Shards {
			shards = append(shards, sh.ShardID)
		}
		if out.NextToken == "" {
			break
		}
		lin = ListShardsInput{NextToken: out.NextToken, MaxResults: 3}
	}
	if len(shards) != 7 || shards[6] != "shardId-000000000006" {
		t.Fatalf("ListShards pages gave %v", shards)
	}
	_, err := s.ListShards(ctx, ListShardsInput{Stream: "many", NextToken: "x"})
	wantCode(t, err, apierr.InvalidArgument)
	created := time.Now()
	_, err = s.ListShards(ctx, ListShardsInput{NextToken: "x", StreamCreatedAt: &created})
	wantCode(t, err, apierr.InvalidArgument)
	out, err := s.ListShards(ctx, ListShardsInput{Stream: "many", Filter: &ShardFilter{Type: FilterAfterShardID, ShardID: "shardId-000000000004"}})
	if err != nil || len(out.Shards) != 2 {
		t.Fatalf("AFTER_SHARD_ID: %v, %v", out.Shards, err)
	}
	d, err := s.DescribeStream(ctx, "many", 4, "shardId-000000000001")
	if err != nil || len(d.Shards) != 4 || !d.HasMoreShards || d.Shards[0].ShardID != "shardId-000000000002" {
		t.Fatalf("DescribeStream page: %+v, %v", d, err)
	}
}

func TestSubscribeAndDelete(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := openTest(t, "")
	mustCreate(t, s, "sub", 1)
	got := make(chan Record, 100)
	errc := make(chan error, 1)
	go func() {
		errc <- s.Subscribe(ctx, "sub", "shardId-000000000000", Position{Type: Latest}, func(r ReadResult) error {
			for _, rec := range r.Records {
				got <- rec
			}
			return nil
		})
	}()
	// Subscribing from LATEST races with the first append; wait until the
	// subscriber is parked, signalled by one record it receives.
	for i := 0; ; i++ {
		if _, err := s.Append(ctx, "sub", []Entry{{PartitionKey: "k", Data: []byte(fmt.Sprint(i))}}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-got:
		case <-time.After(50 * time.Millisecond):
			continue
		}
		break
	}
	for i := 0; i < 5; i++ {
		if _, err := s.Append(ctx, "sub", []Entry{{PartitionKey: "k", Data: []byte(fmt.Sprintf("n%d", i))}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 5; i++ {
		select {
		case r := <-got:
			if string(r.Data) != fmt.Sprintf("n%d", i) {
				t.Fatalf("subscriber got %q, want n%d", r.Data, i)
			}
		case <-ctx.Done():
			t.Fatal("subscriber received nothing")
		}
	}
	it, _ := s.ShardIterator(ctx, "sub", "shardId-000000000000", Position{Type: TrimHorizon})
	if err := s.DeleteStream(ctx, "sub"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, <-errc, apierr.ResourceNotFound)
	_, err := s.GetRecords(ctx, it, 0)
	wantCode(t, err, apierr.ResourceNotFound)
	mustCreate(t, s, "sub", 1)
	if got := readAll(t, s, "sub", "shardId-000000000000", Position{Type: TrimHorizon}); len(got) != 0 {
		t.Fatalf("a recreated stream shows %d records of the deleted one", len(got))
	}
}

func TestOrphanedRecordsAreSwept(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "gone", 1)
	if _, err := s.Append(ctx, "gone", []Entry{{PartitionKey: "k", Data: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	// Simulate a crash between the two halves of DeleteStream: the
	// metadata is gone, the records are not.
	if err := s.db.Delete(metaKey("gone"), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	start, end := streamSpan(prefixRecord, 1)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: start, UpperBound: end})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	if it.First() {
		t.Fatalf("record %x of a deleted stream survived the restart", it.Key())
	}
}

// TestUncleanShutdownSkipsCounters: after a crash no sequence number is
// handed out twice, even if the records that held it were lost.
func TestUncleanShutdownSkipsCounters(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir, WithDurability(DurabilityRelaxed))
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "gap", 2)
	res, err := s.Append(ctx, "gap", []Entry{{PartitionKey: "k", ExplicitHashKey: "0"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Remove the clean-shutdown marker, as a crash would have left it.
	db, err := pebble.Open(dir, &pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Delete(settingKey("clean-shutdown"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopen in sync mode: the gap depends on how the last run ended, not
	// on the mode of this one (and sync makes the reads below see the puts).
	s = openTest(t, dir)
	for _, hk := range []string{"0", maxHashKey.String()} { // a written shard and an untouched one
		got, err := s.Append(ctx, "gap", []Entry{{PartitionKey: "k", ExplicitHashKey: hk}})
		if err != nil {
			t.Fatal(err)
		}
		_, _, ctr, _ := parseSeq(got[0].SequenceNumber)
		if ctr < counterGapAfterCrash {
			t.Errorf("shard %s: counter %d after a crash, want at least %d", got[0].ShardID, ctr, uint64(counterGapAfterCrash))
		}
	}
	// The record written before the "crash" is still there and readable.
	recs := readAll(t, s, "gap", res[0].ShardID, Position{Type: TrimHorizon})
	if len(recs) != 2 || recs[0].SequenceNumber != res[0].SequenceNumber {
		t.Fatalf("records after restart: %+v", recs)
	}
}

// TestRelaxedPublishesAfterSync: in relaxed mode appends are acknowledged
// before the fsync and become readable after it, without polling.
func TestRelaxedPublishesAfterSync(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := openTest(t, "", WithDurability(DurabilityRelaxed))
	mustCreate(t, s, "rel", 1)
	c, err := s.Seek(ctx, "rel", "shardId-000000000000", Position{Type: TrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		if _, err := s.Append(ctx, "rel", []Entry{{PartitionKey: "k", Data: []byte{byte(i)}}}); err != nil {
			t.Fatal(err)
		}
	}
	var got []Record
	for len(got) < 50 {
		if err := s.Wait(ctx, c); err != nil {
			t.Fatalf("Wait after %d records: %v", len(got), err)
		}
		res, err := s.Read(ctx, c, 100, MaxGetRecordsBytes)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, res.Records...)
		c = res.Next
	}
	for i, r := range got {
		if r.Data[0] != byte(i) {
			t.Fatalf("record %d holds %d", i, r.Data[0])
		}
	}
}
