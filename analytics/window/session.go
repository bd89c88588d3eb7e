package window

import (
	"cmp"
	"slices"
	"sort"
	"strings"

	"github.com/spatehq/spate/analytics/agg"
	"github.com/spatehq/spate/analytics/value"
)

// session is one session window of one key: rows from first to last (event
// times), the window [first, last+gap).
type session struct {
	owner       *keySessions
	first, last int64
	states      []agg.State
	dirty       bool // EmitChanges: changed since the last Flush
	dead        bool // merged into its neighbour or fired
}

// keySessions is the sessions of one group key.
//
// Invariant: list is sorted by first, and consecutive sessions are at least
// gap apart (next.first - prev.last >= gap), so no row is within gap of two
// sessions unless it bridges them.
type keySessions struct {
	key  string
	keys []value.Value
	list []*session
}

// heapEntry schedules a session to be looked at when the watermark passes
// end + lateness.
type heapEntry struct {
	end int64
	s   *session
}

// sessions holds the SESSION state.
//
// Invariant: every live session has exactly one heap entry, whose end is at
// most the session's current end (last+gap): ends only grow, and an entry
// found early is pushed again with the current end. Entries of dead
// sessions are discarded when they surface.
type sessions struct {
	gap   int64
	byKey map[string]*keySessions
	heap  []heapEntry // min-heap on end
	dirty []*session  // EmitChanges: sessions with dirty set (some may be dead)
	live  int

	fired []*session // scratch
}

func (ss *sessions) init(gap int64) {
	ss.gap = gap
	ss.byKey = map[string]*keySessions{}
}

func (o *Operator) addSession(key []byte, keys []value.Value, ts int64, args []value.Value) bool {
	ss := &o.sessions
	if satAdd(ts, o.span) <= o.wm {
		return false
	}
	ks := ss.byKey[string(key)]
	if ks == nil {
		ks = &keySessions{key: string(key), keys: ownKeys(keys)}
		ss.byKey[ks.key] = ks
	}
	list := ks.list
	n := len(list)
	// i is the number of sessions starting at or before ts; rows mostly
	// come in time order, so usually all of them.
	i := n
	if n > 0 && list[n-1].first > ts {
		i = sort.Search(n, func(j int) bool { return list[j].first > ts })
	}
	var left, right *session
	if i > 0 && ts < satAdd(list[i-1].last, ss.gap) {
		left = list[i-1]
	}
	if i < n && list[i].first < satAdd(ts, ss.gap) {
		right = list[i]
	}
	var s *session
	switch {
	case left != nil && right != nil:
		// ts bridges two sessions: they become one. right's rows are all
		// later than left's, so the merge order is the time order.
		for j, st := range left.states {
			st.Merge(right.states[j])
		}
		left.last = right.last
		right.dead = true
		ks.list = slices.Delete(list, i, i+1)
		ss.live--
		s = left
	case left != nil:
		s = left
	case right != nil:
		s = right
	default:
		s = &session{owner: ks, first: ts, last: ts, states: o.newStates()}
		ks.list = slices.Insert(list, i, s)
		ss.push(heapEntry{end: satAdd(ts, ss.gap), s: s})
		ss.live++
	}
	s.first = min(s.first, ts)
	s.last = max(s.last, ts)
	for j, st := range s.states {
		st.Add(args[j], ts)
	}
	if o.changes && !s.dirty {
		s.dirty = true
		ss.dirty = append(ss.dirty, s)
	}
	return true
}

func (s *session) end(gap int64) int64 { return satAdd(s.last, gap) }

// advanceSessions fires every session with end + lateness <= o.wm.
func (o *Operator) advanceSessions(emit func(Result)) {
	ss := &o.sessions
	lateness := o.cfg.AllowedLateness
	fired := ss.fired[:0]
	for len(ss.heap) > 0 && satAdd(ss.heap[0].end, lateness) <= o.wm {
		e := ss.pop()
		if e.s.dead {
			continue
		}
		if end := e.s.end(ss.gap); end != e.end {
			ss.push(heapEntry{end: end, s: e.s}) // it grew: look again later
			continue
		}
		fired = append(fired, e.s)
	}
	sortSessions(fired, ss.gap)
	for _, s := range fired {
		if !o.changes || s.dirty {
			o.emitStates(emit, s.owner.keys, s.first, s.end(ss.gap), s.states)
		}
		s.dead = true
		ss.live--
		ks := s.owner
		// Fired sessions of a key are the earliest ones, in end order.
		if i := slices.Index(ks.list, s); i >= 0 {
			ks.list = slices.Delete(ks.list, i, i+1)
		}
		if len(ks.list) == 0 {
			delete(ss.byKey, ks.key)
		}
	}
	clear(fired)
	ss.fired = fired[:0]
	if o.changes && len(ss.dirty) > 0 {
		ss.dirty = slices.DeleteFunc(ss.dirty, func(s *session) bool { return s.dead })
	}
}

// flushSessions emits every changed live session and clears the marks.
func (o *Operator) flushSessions(emit func(Result)) {
	ss := &o.sessions
	if len(ss.dirty) == 0 {
		return
	}
	list := slices.DeleteFunc(ss.dirty, func(s *session) bool { return s.dead })
	sortSessions(list, ss.gap)
	for _, s := range list {
		s.dirty = false
		o.emitStates(emit, s.owner.keys, s.first, s.end(ss.gap), s.states)
	}
	clear(list)
	ss.dirty = list[:0]
}

// sortSessions orders sessions for emission: by end, start, then key.
func sortSessions(list []*session, gap int64) {
	slices.SortFunc(list, func(a, b *session) int {
		if c := cmp.Compare(a.end(gap), b.end(gap)); c != 0 {
			return c
		}
		if c := cmp.Compare(a.first, b.first); c != 0 {
			return c
		}
		return strings.Compare(a.owner.key, b.owner.key)
	})
}

func (ss *sessions) push(e heapEntry) {
	h := append(ss.heap, e)
	i := len(h) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if h[parent].end <= h[i].end {
			break
		}
		h[parent], h[i] = h[i], h[parent]
		i = parent
	}
	ss.heap = h
}

func (ss *sessions) pop() heapEntry {
	h := ss.heap
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h[n] = heapEntry{}
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h[r].end < h[l].end {
			m = r
		}
		if h[i].end <= h[m].end {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	ss.heap = h
	return top
}
