package shard

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/spatehq/spate/apierr"
)

func TestCommitExpect(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	if err := s.CreateStream(ctx, CreateStreamInput{Name: "out", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	put := func(v string) {
		t.Helper()
		if _, err := s.Commit(ctx, Commit{Namespace: "ns", Values: []ValueWrite{{Key: "k", Value: []byte(v)}}}); err != nil {
			t.Fatal(err)
		}
	}
	put("v1")
	tests := []struct {
		name   string
		expect ValueExpect
		ok     bool
	}{
		{"equal", ValueExpect{Key: "k", Value: []byte("v1")}, true},
		{"different", ValueExpect{Key: "k", Value: []byte("v0")}, false},
		{"absent but present", ValueExpect{Key: "k", Absent: true}, false},
		{"absent", ValueExpect{Key: "other", Absent: true}, true},
		{"present but absent", ValueExpect{Key: "other", Value: []byte("")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			put("v1")
			before := s.mustStreamRecords(t, "out")
			_, err := s.Commit(ctx, Commit{
				Appends:   []StreamAppend{{Stream: "out", Entries: []Entry{{PartitionKey: "p", Data: []byte("x")}}}},
				Namespace: "ns",
				Values:    []ValueWrite{{Key: "k", Value: []byte("v2")}},
				Expect:    []ValueExpect{tt.expect},
			})
			v, _, _ := s.GetValue("ns", "k")
			after := s.mustStreamRecords(t, "out")
			if tt.ok {
				if err != nil || string(v) != "v2" || after != before+1 {
					t.Fatalf("err = %v, value %q, records %d → %d; want a commit", err, v, before, after)
				}
				return
			}
			if !ConditionFailed(err) {
				t.Fatalf("err = %v, want ConditionFailed", err)
			}
			if string(v) != "v1" || after != before {
				t.Fatalf("a failed precondition wrote: value %q, records %d → %d", v, before, after)
			}
		})
	}
}

// TestCommitExpectRace has many goroutines increment one value by
// read-modify-write with a precondition: every increment must land once,
// which fails if two Commits that expect the same value both succeed (two
// of them often share one batch of the writer, where the second must see
// the first's staged write).
func TestCommitExpectRace(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	const workers, each = 8, 25
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; {
				cur, found, err := s.GetValue("ns", "n")
				if err != nil {
					t.Error(err)
					return
				}
				n := 0
				if found {
					fmt.Sscan(string(cur), &n)
				}
				_, err = s.Commit(ctx, Commit{Namespace: "ns",
					Values: []ValueWrite{{Key: "n", Value: []byte(fmt.Sprint(n + 1))}},
					Expect: []ValueExpect{{Key: "n", Value: cur, Absent: !found}}})
				if ConditionFailed(err) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				wins++
				mu.Unlock()
				i++
			}
		}()
	}
	wg.Wait()
	v, _, _ := s.GetValue("ns", "n")
	if string(v) != fmt.Sprint(wins) || wins != workers*each {
		t.Fatalf("value %s after %d successful increments, want %d", v, wins, workers*each)
	}
}

// mustStreamRecords counts a stream's readable records.
func (s *Store) mustStreamRecords(t *testing.T, name string) int {
	t.Helper()
	p, err := s.Positions(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, sh := range p.Shards {
		sp, err := ParseSequenceNumber(sh.Latest)
		if err != nil {
			t.Fatal(err)
		}
		n += int(sp.Counter)
	}
	return n
}

// TestCommitSyncSurvivesPowerLoss: a Commit with Sync is fsynced before
// it returns even under DurabilityRelaxed, so a power loss right after
// keeps it.
func TestCommitSyncSurvivesPowerLoss(t *testing.T) {
	ctx := context.Background()
	fs := vfs.NewCrashableMem()
	s, err := Open("db", withFS(fs), WithDurability(DurabilityRelaxed))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < 20; i++ {
		v := fmt.Sprint(i)
		if _, err := s.Commit(ctx, Commit{Namespace: "ns", Values: []ValueWrite{{Key: "k", Value: []byte(v)}}, Sync: true}); err != nil {
			t.Fatal(err)
		}
		crashed := fs.CrashClone(vfs.CrashCloneCfg{})
		after, err := Open("db", withFS(crashed))
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := after.GetValue("ns", "k")
		_ = after.Close()
		if err != nil || string(got) != v {
			t.Fatalf("after a power loss: %q, %v; want %q", got, err, v)
		}
	}
}

// ParseSequenceNumber refuses an over-long string without repeating it in
// its error: a peer's input of any length would otherwise be copied into
// the error and the log.
func TestParseSequenceNumberBound(t *testing.T) {
	long := strings.Repeat("9", 1<<20)
	_, err := ParseSequenceNumber(long)
	if !apierr.Is(err, apierr.InvalidArgument) || len(err.Error()) > 200 {
		t.Fatalf("ParseSequenceNumber of %d digits: %.200v (%d bytes), want a short InvalidArgument", len(long), err, len(err.Error()))
	}
	if _, err := ParseSequenceNumber(strings.Repeat("1", SequenceNumberLen)); err == nil {
		t.Error("a malformed sequence number of the right length was accepted")
	}
}
