package lineage

import (
	"slices"

	"github.com/spatehq/spate/shard"
)

// Shard is a shard and its parents (a split's child has one, a merge's
// two; a shard of the stream's creation none).
type Shard struct {
	ID      string
	Parents []string
}

// state is what the reader has done with a shard.
type state int

const (
	known    state = iota // listed or named as a child: to be read
	taken                 // handed to the reader by Take
	finished              // read to its end (Finish) or gone from the listing
)

// Lineage is the reading state of one stream's shards. The zero value is
// not usable; call New. It is not safe for concurrent use.
type Lineage struct {
	shards map[string]*entry
	order  []string // shard IDs in the order learned, so Take is deterministic
}

type entry struct {
	parents []string
	state   state
}

// New returns an empty Lineage.
func New() *Lineage { return &Lineage{shards: map[string]*entry{}} }

// learn adds a shard, or completes the parents of a known one.
func (l *Lineage) learn(s Shard) *entry {
	e, ok := l.shards[s.ID]
	if !ok {
		e = &entry{}
		l.shards[s.ID] = e
		l.order = append(l.order, s.ID)
	}
	for _, p := range s.Parents {
		if p != "" && !slices.Contains(e.parents, p) {
			e.parents = append(e.parents, p)
		}
	}
	return e
}

// Listed takes a complete listing of the stream's shards (ListShards
// without a filter). A known shard missing from it was dropped by retention
// and counts as finished, as does a parent named by a listed shard but not
// listed itself: there is nothing left to read in either.
func (l *Lineage) Listed(all []Shard) {
	in := make(map[string]bool, len(all))
	for _, s := range all {
		in[s.ID] = true
		l.learn(s)
	}
	for _, s := range all {
		for _, p := range s.Parents {
			if p != "" && !in[p] {
				l.learn(Shard{ID: p}) // finished by the loop below
			}
		}
	}
	for id, e := range l.shards {
		if !in[id] {
			e.state = finished
		}
	}
}

// Finish records that a shard has been read to its end, and learns the
// children its last read named.
func (l *Lineage) Finish(id string, children []Shard) {
	l.learn(Shard{ID: id}).state = finished
	for _, c := range children {
		l.learn(c)
	}
}

// Finished reports whether a shard is finished.
func (l *Lineage) Finished(id string) bool {
	e, ok := l.shards[id]
	return ok && e.state == finished
}

// Missing returns the parents that known shards name but the lineage has
// not met: the reader should list the stream again (Listed) before a child
// of theirs can be taken.
func (l *Lineage) Missing() []string {
	var out []string
	for _, id := range l.order {
		for _, p := range l.shards[id].parents {
			if _, ok := l.shards[p]; !ok && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// Refresh lists the stream again with list when a parent is missing
// (Missing), so that the children waiting for it can be taken once it is
// read, or at once when retention dropped it. The caller must not let
// Finish run between list and the return: a shard learned meanwhile would
// be missing from the listing and taken for gone.
func (l *Lineage) Refresh(list func() ([]Shard, error)) error {
	if len(l.Missing()) == 0 {
		return nil
	}
	all, err := list()
	if err != nil {
		return err
	}
	l.Listed(all)
	return nil
}

// Started reports whether a shard has been handed out by Take or is
// finished.
func (l *Lineage) Started(id string) bool {
	e, ok := l.shards[id]
	return ok && e.state != known
}

// Ready reports whether a shard may be read now: each of its parents is
// finished (a parent the lineage has not met is not).
func (l *Lineage) Ready(id string) bool {
	e, ok := l.shards[id]
	if !ok {
		return false
	}
	for _, p := range e.parents {
		pe, ok := l.shards[p]
		if !ok || pe.state != finished {
			return false
		}
	}
	return true
}

// Take returns the shards that may be read now and have not been handed
// out before, in the order they were learned, and marks them taken.
func (l *Lineage) Take() []string {
	var out []string
	for _, id := range l.order {
		if l.shards[id].state == known && l.Ready(id) {
			l.shards[id].state = taken
			out = append(out, id)
		}
	}
	return out
}

// Parents returns the parents a shard was learned with.
func (l *Lineage) Parents(id string) []string {
	if e, ok := l.shards[id]; ok {
		return slices.Clone(e.parents)
	}
	return nil
}

// Children returns the shards known to name id as a parent, in the order
// they were learned.
func (l *Lineage) Children(id string) []string {
	var out []string
	for _, c := range l.order {
		if slices.Contains(l.shards[c].parents, id) {
			out = append(out, c)
		}
	}
	return out
}

// FromInfo returns the shards of a listing (ListShards, DescribeStream).
func FromInfo(infos []shard.ShardInfo) []Shard {
	out := make([]Shard, len(infos))
	for i, in := range infos {
		out[i] = Shard{ID: in.ShardID, Parents: parents(in.ParentShardID, in.AdjacentParentShardID)}
	}
	return out
}

// FromChildren returns the shards a closed shard's last read names
// (ReadResult.ChildShards).
func FromChildren(cs []shard.ChildShard) []Shard {
	out := make([]Shard, len(cs))
	for i, c := range cs {
		out[i] = Shard{ID: c.ShardID, Parents: slices.Clone(c.ParentShards)}
	}
	return out
}

func parents(ids ...string) []string {
	var out []string
	for _, id := range ids {
		if id != "" {
			out = append(out, id)
		}
	}
	return out
}
