package reshardtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/spatehq/spate/shard"
)

// Record is the data of every record the producers write, as JSON: a
// partition key, the record's number within the key (from 1, in write
// order) and an event time (ms) that grows with N.
type Record struct {
	Key string `json:"k"`
	N   int    `json:"n"`
	T   int64  `json:"t"`
}

// Decode parses a record's data.
func Decode(data []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("decode %q: %w", data, err)
	}
	return r, nil
}

// Step is one reshard of a stream.
type Step func(ctx context.Context, s *shard.Store, stream string) error

// Split splits shard index in the middle of its hash-key range.
func Split(index uint32) Step {
	return func(ctx context.Context, s *shard.Store, stream string) error {
		d, err := s.DescribeStream(ctx, stream, shard.MaxListLimit, "")
		if err != nil {
			return err
		}
		for _, sh := range d.Shards {
			if sh.ShardID != shard.ShardID(index) {
				continue
			}
			lo, _ := new(big.Int).SetString(sh.HashKeyRange.Start, 10)
			hi, _ := new(big.Int).SetString(sh.HashKeyRange.End, 10)
			mid := new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1)
			mid.Add(mid, big.NewInt(1))
			return s.SplitShard(ctx, shard.SplitShardInput{Stream: stream, ShardToSplit: sh.ShardID, NewStartingHashKey: mid.String()})
		}
		return fmt.Errorf("no shard %d in %s", index, stream)
	}
}

// Merge merges shards a and b, which must be adjacent and open.
func Merge(a, b uint32) Step {
	return func(ctx context.Context, s *shard.Store, stream string) error {
		return s.MergeShards(ctx, shard.MergeShardsInput{Stream: stream, ShardToMerge: shard.ShardID(a), AdjacentShardToMerge: shard.ShardID(b)})
	}
}

// Scale sets the number of open shards (UpdateShardCount).
func Scale(n int) Step {
	return func(ctx context.Context, s *shard.Store, stream string) error {
		_, err := s.UpdateShardCount(ctx, shard.UpdateShardCountInput{Stream: stream, TargetShardCount: n, ScalingType: shard.UniformScaling})
		return err
	}
}

// TwoFourThreeOne is the sequence for a stream of 2 shards: 4, 3,
// 2 and 1 open shards (UpdateShardCount at most halves, so 3 → 1 takes two
// calls).
func TwoFourThreeOne() []Step {
	return []Step{Scale(4), Scale(3), Scale(2), Scale(1)}
}

// Case is one row of a reader's follow-a-reshard table: a source of
// Shards shards resharded by Steps while records flow, with the reader
// stopped and started again between steps when Restart is set.
type Case struct {
	Name    string
	Shards  int
	Steps   []Step
	Restart bool
}

// Cases is the table every reader of a resharded source passes: split,
// merge, and the 2 → 4 → 3 → 1 with and without restarts.
func Cases() []Case {
	return []Case{
		{"split", 1, []Step{Split(0), Split(2)}, false},
		{"merge", 2, []Step{Merge(0, 1)}, false},
		{"2 to 4 to 3 to 1", 2, TwoFourThreeOne(), false},
		{"2 to 4 to 3 to 1 across restarts", 2, TwoFourThreeOne(), true},
	}
}

// WithRestarts returns steps with restart after every every-th step
// (after steps 0, every, 2*every, ...).
func WithRestarts(steps []Step, every int, restart Step) []Step {
	var out []Step
	for i, st := range steps {
		out = append(out, st)
		if i%every == 0 {
			out = append(out, restart)
		}
	}
	return out
}

// Producers writes keyed records to a stream from several goroutines and
// remembers what was acknowledged.
type Producers struct {
	mu    sync.Mutex
	acked map[string]int // key → records acknowledged (all of 1..n)
	total int
}

// Produce starts n producers, each writing keys keys of its own in
// batches (one record per key), until ctx ends or perKey records of each
// key are acknowledged; it runs the steps one after another while they
// write, each after about gap more records. It returns when the producers
// and steps are done. eventStart is the event time of record 1; record N
// of a key has eventStart + N*step ms.
func Produce(ctx context.Context, t testing.TB, s *shard.Store, stream string, n, keys, perKey, gap int, steps []Step, eventStart int64, step time.Duration) *Producers {
	t.Helper()
	p := &Producers{acked: map[string]int{}}
	var wg sync.WaitGroup
	errs := make(chan error, n+1)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 1; k <= perKey; k++ {
				var entries []shard.Entry
				for j := range keys {
					key := fmt.Sprintf("p%d-k%d", i, j)
					b, _ := json.Marshal(Record{Key: key, N: k, T: eventStart + int64(k)*step.Milliseconds()})
					entries = append(entries, shard.Entry{PartitionKey: key, Data: b})
				}
				res, err := s.Append(ctx, stream, entries)
				if err != nil {
					errs <- fmt.Errorf("producer %d: %w", i, err)
					return
				}
				for _, r := range res {
					if r.ErrorCode != "" {
						errs <- fmt.Errorf("producer %d: %s %s", i, r.ErrorCode, r.ErrorMessage)
						return
					}
				}
				p.mu.Lock()
				for _, e := range entries {
					p.acked[e.PartitionKey] = k
				}
				p.total += len(entries)
				p.mu.Unlock()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for _, st := range steps {
		target := p.Total() + gap
		for p.Total() < target {
			select {
			case <-done:
				target = 0
			case <-time.After(time.Millisecond):
			}
		}
		if err := st(ctx, s, stream); err != nil {
			t.Errorf("reshard: %v", err)
		}
	}
	<-done
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	return p
}

// Total is the number of records acknowledged so far.
func (p *Producers) Total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total
}

// Checker checks records as a reader delivers them.
type Checker struct {
	last  map[string]int // key → last N seen
	seen  map[[2]any]bool
	count int
}

// NewChecker returns an empty Checker.
func NewChecker() *Checker { return &Checker{last: map[string]int{}, seen: map[[2]any]bool{}} }

// Add takes the next record a reader delivered. It fails when the record
// was delivered before, or is not the next of its key (records of a key
// are delivered in write order, from the first).
func (c *Checker) Add(r Record) error {
	k := [2]any{r.Key, r.N}
	if c.seen[k] {
		return fmt.Errorf("record %s #%d delivered twice", r.Key, r.N)
	}
	c.seen[k] = true
	c.count++
	if r.N != c.last[r.Key]+1 {
		return fmt.Errorf("record %s #%d delivered after #%d: per-key order broken", r.Key, r.N, c.last[r.Key])
	}
	c.last[r.Key] = r.N
	return nil
}

// Count is how many records were added.
func (c *Checker) Count() int { return c.count }

// Complete fails when a record the producers acknowledged is missing.
func (c *Checker) Complete(p *Producers) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for key, n := range p.acked {
		for i := 1; i <= n; i++ {
			if !c.seen[[2]any{key, i}] {
				return fmt.Errorf("record %s #%d acknowledged but never delivered (%d delivered in all)", key, i, c.count)
			}
		}
	}
	return nil
}

// Once checks that recs, in any order, are each acknowledged record
// exactly once.
func Once(recs []Record, p *Producers) error {
	c := NewChecker()
	for _, r := range recs {
		if c.seen[[2]any{r.Key, r.N}] {
			return fmt.Errorf("record %s #%d delivered twice", r.Key, r.N)
		}
		c.seen[[2]any{r.Key, r.N}] = true
		c.count++
	}
	if err := c.Complete(p); err != nil {
		return err
	}
	if total := p.Total(); c.count != total {
		return fmt.Errorf("%d records delivered, %d acknowledged", c.count, total)
	}
	return nil
}
