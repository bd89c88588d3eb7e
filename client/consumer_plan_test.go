package client

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

func TestPlanLeases(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	live := timestamppb.New(now.Add(time.Second))
	dead := timestamppb.New(now.Add(-time.Second))
	// lease builds a lease: owner "" is free; an owner ending in "!" holds
	// an expired lease.
	lease := func(shard, owner string, parents ...string) *spatev1.Lease {
		l := &spatev1.Lease{ShardId: shard, LeaseCounter: 7, ParentShardIds: parents}
		switch {
		case owner == "":
		case owner[len(owner)-1] == '!':
			l.Owner, l.Expires = owner[:len(owner)-1], dead
		default:
			l.Owner, l.Expires = owner, live
		}
		return l
	}
	finished := func(l *spatev1.Lease) *spatev1.Lease { l.Finished = true; return l }
	workers := func(ids ...string) []*spatev1.Worker {
		var ws []*spatev1.Worker
		for _, id := range ids {
			ws = append(ws, &spatev1.Worker{WorkerId: id, Expires: live})
		}
		return ws
	}
	tests := []struct {
		name    string
		workers []*spatev1.Worker
		leases  []*spatev1.Lease
		take    []string // sorted; or takeN of these
		takeN   int
		steal   []string // the lease stolen is one of these
	}{
		{"alone takes every free lease", workers("me"),
			[]*spatev1.Lease{lease("s0", ""), lease("s1", ""), lease("s2", "")}, []string{"s0", "s1", "s2"}, 0, nil},
		{"two workers split four shards", workers("me", "w2"),
			[]*spatev1.Lease{lease("s0", ""), lease("s1", ""), lease("s2", "w2"), lease("s3", "w2")}, []string{"s0", "s1"}, 0, nil},
		{"share is ceil(shards/workers)", workers("me", "w2"),
			[]*spatev1.Lease{lease("s0", ""), lease("s1", ""), lease("s2", "")}, []string{"s0", "s1", "s2"}, 2, nil},
		{"expired leases are free", workers("me", "w2"),
			[]*spatev1.Lease{lease("s0", "dead!"), lease("s1", "w2")}, []string{"s0"}, 0, nil},
		{"a worker at its share takes nothing", workers("me", "w2"),
			[]*spatev1.Lease{lease("s0", "me"), lease("s1", "me"), lease("s2", ""), lease("s3", "w2")}, nil, 0, nil},
		{"a worker below its share takes the rest", workers("me", "w2"),
			[]*spatev1.Lease{lease("s0", "me"), lease("s1", ""), lease("s2", "w2")}, []string{"s1"}, 0, nil},
		{"steal from the most loaded over target", workers("me", "w2", "w3"),
			[]*spatev1.Lease{lease("s0", "w2"), lease("s1", "w2"), lease("s2", "w2"), lease("s3", "w3"), lease("s4", "w3"), lease("s5", "w3"), lease("s6", "w3")},
			nil, 0, []string{"s3", "s4", "s5", "s6"}},
		{"no steal that only swaps who is short", workers("me", "w2"),
			[]*spatev1.Lease{lease("s0", "me"), lease("s1", "w2"), lease("s2", "w2")}, nil, 0, nil},
		{"steal at target when two short", workers("me", "w2", "w3"),
			[]*spatev1.Lease{lease("s0", "w2"), lease("s1", "w2"), lease("s2", "w3"), lease("s3", "w3")}, nil, 0, []string{"s0", "s1"}},
		{"free leases before steals", workers("me", "w2"),
			[]*spatev1.Lease{lease("s0", "w2"), lease("s1", "w2"), lease("s2", "w2"), lease("s3", "")}, []string{"s3"}, 0, nil},
		{"children wait for their parent", workers("me"),
			[]*spatev1.Lease{lease("s0", "w2"), lease("s1", "", "s0"), lease("s2", "", "s0")}, nil, 0, nil},
		{"children of a finished parent are leasable", workers("me"),
			[]*spatev1.Lease{finished(lease("s0", "")), lease("s1", "", "s0"), lease("s2", "", "s0")}, []string{"s1", "s2"}, 0, nil},
		{"a merge waits for both parents", workers("me"),
			[]*spatev1.Lease{finished(lease("s0", "")), lease("s1", ""), lease("s2", "", "s0", "s1")}, []string{"s1"}, 0, nil},
		{"a parent gone from the group counts as finished", workers("me"),
			[]*spatev1.Lease{lease("s3", "", "s0")}, []string{"s3"}, 0, nil},
		{"finished leases are not shares", workers("me", "w2"),
			[]*spatev1.Lease{finished(lease("s0", "")), finished(lease("s1", "")), lease("s2", "w2"), lease("s3", "")}, []string{"s3"}, 0, nil},
		{"owners of live leases count as workers", workers("me"),
			[]*spatev1.Lease{lease("s0", "ghost"), lease("s1", "ghost"), lease("s2", "")}, []string{"s2"}, 0, nil},
		{"an expired worker does not count", []*spatev1.Worker{{WorkerId: "me", Expires: live}, {WorkerId: "gone", Expires: dead}},
			[]*spatev1.Lease{lease("s0", ""), lease("s1", "")}, []string{"s0", "s1"}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &spatev1.Group{Workers: tt.workers, Leases: tt.leases}
			p := planLeases(g, "me", now, rand.New(rand.NewPCG(1, 2)))
			var took []string
			for _, l := range p.take {
				took = append(took, l.GetShardId())
			}
			slices.Sort(took)
			if tt.takeN > 0 {
				if len(took) != tt.takeN || len(slices.DeleteFunc(slices.Clone(took), func(s string) bool { return slices.Contains(tt.take, s) })) > 0 {
					t.Errorf("take %v, want %d of %v", took, tt.takeN, tt.take)
				}
			} else if !slices.Equal(took, tt.take) {
				t.Errorf("take %v, want %v", took, tt.take)
			}
			switch {
			case tt.steal == nil && p.steal != nil:
				t.Errorf("steal %s, want none", p.steal.GetShardId())
			case tt.steal != nil && p.steal == nil:
				t.Errorf("no steal, want one of %v", tt.steal)
			case tt.steal != nil && !slices.Contains(tt.steal, p.steal.GetShardId()):
				t.Errorf("steal %s, want one of %v", p.steal.GetShardId(), tt.steal)
			}
		})
	}
}

// A zero or inverted handler backoff is replaced by a usable one instead of
// making pause panic (rand.Int64N(0)).
func TestConsumerBackoffBounds(t *testing.T) {
	tests := []struct{ min, max time.Duration }{{0, 0}, {-time.Second, 0}, {time.Second, time.Millisecond}}
	for _, tc := range tests {
		c := NewConsumer(nil, "s", "g", nil, WithHandlerBackoff(tc.min, tc.max))
		if c.o.backoffMin <= 0 || c.o.backoffMax < c.o.backoffMin {
			t.Errorf("WithHandlerBackoff(%v, %v): backoff %v to %v", tc.min, tc.max, c.o.backoffMin, c.o.backoffMax)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		c.pause(ctx, nil, 1) // must not panic
	}
}
