package client

import (
	"math/rand/v2"
	"slices"
	"time"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// plan is what a worker does with its group after a heartbeat: the free or
// expired leases to take, or else one live lease to steal.
type plan struct {
	take  []*spatev1.Lease
	steal *spatev1.Lease
}

// planLeases decides which leases self should take next, as the KCL's lease
// taker does:
//
//   - Only leasable shards count: not finished, and every parent finished
//     (or gone from the group, dropped by retention), so a parent is read
//     to its end before its children.
//   - Each worker's fair share is target = ceil(leasable / workers), where
//     workers are the group's live workers, the owners of live leases and
//     self.
//   - Below target, self takes free and expired leases, in random order
//     so that workers starting together do not all race for the same one.
//   - When none is free, self steals one lease of the most-loaded worker,
//     if that worker holds more than target, or exactly target while self
//     needs more than one: taking from a worker at target when self is at
//     target-1 would only swap who is short. One steal per heartbeat keeps
//     the rebalancing gradual.
//
// rnd picks among equals; now decides what has expired.
func planLeases(g *spatev1.Group, self string, now time.Time, rnd *rand.Rand) plan {
	finished := map[string]bool{}
	present := map[string]bool{}
	for _, l := range g.GetLeases() {
		present[l.GetShardId()] = true
		if l.GetFinished() {
			finished[l.GetShardId()] = true
		}
	}
	live := func(l *spatev1.Lease) bool {
		return l.GetOwner() != "" && l.GetExpires() != nil && l.GetExpires().AsTime().After(now)
	}
	workers := map[string]bool{self: true}
	for _, w := range g.GetWorkers() {
		if w.GetExpires() == nil || w.GetExpires().AsTime().After(now) {
			workers[w.GetWorkerId()] = true
		}
	}
	var leasable, free []*spatev1.Lease
	load := map[string][]*spatev1.Lease{}
	for _, l := range g.GetLeases() {
		if l.GetFinished() || !parentsDone(l, finished, present) {
			continue
		}
		leasable = append(leasable, l)
		if live(l) {
			workers[l.GetOwner()] = true
			load[l.GetOwner()] = append(load[l.GetOwner()], l)
		} else {
			free = append(free, l)
		}
	}
	if len(leasable) == 0 {
		return plan{}
	}
	target := (len(leasable) + len(workers) - 1) / len(workers)
	need := target - len(load[self])
	if need <= 0 {
		return plan{}
	}
	if len(free) > 0 {
		rnd.Shuffle(len(free), func(i, j int) { free[i], free[j] = free[j], free[i] })
		return plan{take: free[:min(need, len(free))]}
	}
	// The most-loaded other worker; ties go to the smallest id, so the
	// choice does not depend on map order.
	var most string
	for w, ls := range load {
		if w == self {
			continue
		}
		if most == "" || len(ls) > len(load[most]) || (len(ls) == len(load[most]) && w < most) {
			most = w
		}
	}
	if most == "" {
		return plan{}
	}
	if n := len(load[most]); n > target || (n == target && need > 1) {
		victims := slices.Clone(load[most])
		return plan{steal: victims[rnd.IntN(len(victims))]}
	}
	return plan{}
}

// parentsDone reports whether each of a lease's parents is finished or
// absent from the group (dropped by retention: nothing left to read).
func parentsDone(l *spatev1.Lease, finished, present map[string]bool) bool {
	for _, p := range l.GetParentShardIds() {
		if present[p] && !finished[p] {
			return false
		}
	}
	return true
}
