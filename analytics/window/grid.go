package window

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/spatehq/spate/analytics/agg"
	"github.com/spatehq/spate/analytics/value"
)

// keyInfo is one group key of the grid, shared by its groups in every pane.
//
// Invariant: groups holds the key's group in each live pane that has one,
// by pane start ascending; the key is in grid.keys iff groups is not empty.
type keyInfo struct {
	key    string // value.AppendKey bytes; the key of grid.keys
	keys   []value.Value
	groups []*group

	// Emission scratch: acc is where a window's panes merge, mark says
	// which emission last reset it (so merging needs no map).
	acc  []agg.State
	mark uint64
}

// group is the state of one key in one pane.
type group struct {
	ki     *keyInfo
	pane   *pane
	states []agg.State
	dirty  bool // EmitChanges: changed since the last Flush
}

// pane is the slice [start, start+grid.pane) of event time.
type pane struct {
	start   int64
	groups  []*group // in creation order
	dirty   []*group // EmitChanges: groups with dirty set
	dropped bool
}

// grid holds the panes of TUMBLE and HOP. Window [s, s+size) with s a
// multiple of slide is the union of panes s, s+pane, ..., s+size-pane.
//
// Invariant: order holds every live pane once, by start ascending, and
// panes maps each start to the same pane; a pane is live until the last
// window containing it fires.
type grid struct {
	slide, size, pane int64
	perWindow         int64 // size / pane

	keys  map[string]*keyInfo
	panes map[int64]*pane
	order []*pane
	last  *pane   // the pane of the previous Add: rows come in bursts of one pane
	dirty []*pane // EmitChanges: panes with dirty groups

	// scratch, reused between emissions
	mark    uint64
	targets []target
	keyList []*keyInfo
	grList  []*group
}

// target is one (window, key) to emit.
type target struct {
	start int64
	ki    *keyInfo
	g     *group // the key's group when the window is a single pane
}

func (g *grid) init(slide, size int64) {
	g.slide, g.size = slide, size
	g.pane = gcd(slide, size)
	g.perWindow = size / g.pane
	g.keys = map[string]*keyInfo{}
	g.panes = map[int64]*pane{}
}

// paneAt returns the pane starting at start, creating it.
func (g *grid) paneAt(start int64) *pane {
	if p := g.panes[start]; p != nil {
		return p
	}
	p := &pane{start: start}
	g.panes[start] = p
	// Rows mostly arrive in time order: the new pane is usually last.
	i := len(g.order)
	for i > 0 && g.order[i-1].start > start {
		i--
	}
	g.order = slices.Insert(g.order, i, p)
	return p
}

// keyInfo returns the entry of key, creating it with keys (copied).
func (g *grid) keyInfo(key []byte, keys []value.Value) *keyInfo {
	ki := g.keys[string(key)]
	if ki == nil {
		ki = &keyInfo{key: string(key), keys: ownKeys(keys)}
		g.keys[ki.key] = ki
	}
	return ki
}

// groupIn returns ki's group in pane p, creating it with states from
// newStates.
func (g *grid) groupIn(ki *keyInfo, p *pane, newStates func() []agg.State) *group {
	n := len(ki.groups)
	i := n // the index of the first group in a pane after p
	for i > 0 && ki.groups[i-1].pane.start >= p.start {
		if ki.groups[i-1].pane == p {
			return ki.groups[i-1]
		}
		i--
	}
	gr := &group{ki: ki, pane: p, states: newStates()}
	ki.groups = slices.Insert(ki.groups, i, gr)
	p.groups = append(p.groups, gr)
	return gr
}

// lastWindow is the start of the last window containing time t.
func (g *grid) lastWindow(t int64) int64 { return alignDown(t, g.slide) }

// firstWindow is the start of the first window containing time t: the
// smallest multiple of slide greater than t - size.
func (g *grid) firstWindow(t int64) int64 {
	return alignDown(t-g.size, g.slide) + g.slide
}

func (o *Operator) addGrid(key []byte, keys []value.Value, ts int64, args []value.Value) bool {
	g := &o.grid
	ps := alignDown(ts, g.pane)
	last := ps
	if g.slide != g.pane {
		last = g.lastWindow(ts)
	}
	if satAdd(last, o.span) <= o.wm {
		return false // every window containing ts has fired
	}
	p := g.last
	if p == nil || p.start != ps {
		p = g.paneAt(ps)
		g.last = p
	}
	ki := g.keyInfo(key, keys)
	var gr *group
	if n := len(ki.groups); n > 0 && ki.groups[n-1].pane == p {
		gr = ki.groups[n-1] // the common case: the key's newest pane
	} else {
		gr = g.groupIn(ki, p, o.newStates)
	}
	for i, st := range gr.states {
		st.Add(args[i], ts)
	}
	if o.changes && !gr.dirty {
		gr.dirty = true
		if len(p.dirty) == 0 {
			g.dirty = append(g.dirty, p)
		}
		p.dirty = append(p.dirty, gr)
	}
	return true
}

// advanceGrid fires the windows with old < end+lateness <= o.wm and drops
// the panes whose last window has fired.
func (o *Operator) advanceGrid(old int64, emit func(Result)) {
	g := &o.grid
	if o.changes {
		o.emitDirty(old, o.wm, emit)
	} else {
		o.emitClosed(old, emit)
	}
	n := 0
	for n < len(g.order) && satAdd(g.lastWindow(g.order[n].start), o.span) <= o.wm {
		g.drop(g.order[n])
		g.order[n] = nil
		n++
	}
	if n == 0 {
		return
	}
	g.order = g.order[n:]
	g.last = nil
	if len(g.dirty) > 0 {
		g.dirty = slices.DeleteFunc(g.dirty, func(p *pane) bool { return p.dropped })
	}
}

// drop forgets pane p, the oldest live pane.
func (g *grid) drop(p *pane) {
	p.dropped = true
	delete(g.panes, p.start)
	for _, gr := range p.groups {
		ki := gr.ki
		// Panes drop oldest first, so gr is its key's oldest group.
		if i := slices.Index(ki.groups, gr); i >= 0 {
			ki.groups = slices.Delete(ki.groups, i, i+1)
		}
		if len(ki.groups) == 0 {
			delete(g.keys, ki.key)
		}
	}
}

// emitClosed emits, in EmitFinal mode, every window with
// old < start+span <= o.wm that holds a row, by start then key.
func (o *Operator) emitClosed(old int64, emit func(Result)) {
	g := &o.grid
	var starts []int64
	for _, p := range g.order {
		first := g.firstWindow(p.start)
		if satAdd(first, o.span) > o.wm {
			break // later panes' windows end later still
		}
		for s := first; s <= p.start; s += g.slide {
			if e := satAdd(s, o.span); e > old && e <= o.wm {
				starts = append(starts, s)
			}
			if s > math.MaxInt64-g.slide {
				break
			}
		}
	}
	if len(starts) == 0 {
		return
	}
	slices.Sort(starts)
	starts = slices.Compact(starts)
	for _, s := range starts {
		o.emitWindow(s, emit)
	}
}

func byKey(a, b *keyInfo) int { return strings.Compare(a.key, b.key) }

// emitWindow emits every key of window [s, s+size) in key order.
func (o *Operator) emitWindow(s int64, emit func(Result)) {
	g := &o.grid
	end := satAdd(s, g.size)
	if g.perWindow == 1 {
		p := g.panes[s]
		if p == nil {
			return
		}
		list := append(g.grList[:0], p.groups...)
		slices.SortFunc(list, func(a, b *group) int { return byKey(a.ki, b.ki) })
		for _, gr := range list {
			o.emitStates(emit, gr.ki.keys, s, end, gr.states)
		}
		clear(list)
		g.grList = list[:0]
		return
	}
	// Merge the window's panes per key into the keys' scratch states:
	// panes stay intact for the later windows that share them.
	g.mark++
	list := g.keyList[:0]
	for k := range g.perWindow {
		p := g.panes[s+k*g.pane]
		if p == nil {
			continue
		}
		for _, gr := range p.groups {
			ki := gr.ki
			if ki.mark != g.mark {
				ki.mark = g.mark
				o.resetAcc(ki)
				list = append(list, ki)
			}
			for i, st := range ki.acc {
				st.Merge(gr.states[i])
			}
		}
	}
	slices.SortFunc(list, byKey)
	for _, ki := range list {
		o.emitStates(emit, ki.keys, s, end, ki.acc)
	}
	clear(list)
	g.keyList = list[:0]
}

// resetAcc empties ki's merge states, making them on first use.
func (o *Operator) resetAcc(ki *keyInfo) {
	if ki.acc == nil {
		ki.acc = o.newStates()
		return
	}
	for _, st := range ki.acc {
		st.Reset()
	}
}

// emitDirty emits, in EmitChanges mode, the current result of each
// (window, key) with lo < start+span <= hi whose key changed in one of the
// window's panes since the last Flush, by start then key.
func (o *Operator) emitDirty(lo, hi int64, emit func(Result)) {
	g := &o.grid
	ts := g.targets[:0]
	for _, p := range g.dirty {
		first := g.firstWindow(p.start)
		for _, gr := range p.dirty {
			for s := first; s <= p.start; s += g.slide {
				if e := satAdd(s, o.span); e > lo && e <= hi {
					ts = append(ts, target{start: s, ki: gr.ki, g: gr})
				}
				if s > math.MaxInt64-g.slide {
					break
				}
			}
		}
	}
	slices.SortFunc(ts, func(a, b target) int {
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		return byKey(a.ki, b.ki)
	})
	ts = slices.CompactFunc(ts, func(a, b target) bool { return a.start == b.start && a.ki == b.ki })
	for _, t := range ts {
		end := satAdd(t.start, g.size)
		if g.perWindow == 1 {
			o.emitStates(emit, t.ki.keys, t.start, end, t.g.states)
			continue
		}
		o.resetAcc(t.ki)
		for _, gr := range t.ki.groups {
			if gr.pane.start >= t.start && gr.pane.start < end {
				for i, st := range t.ki.acc {
					st.Merge(gr.states[i])
				}
			}
		}
		o.emitStates(emit, t.ki.keys, t.start, end, t.ki.acc)
	}
	clear(ts)
	g.targets = ts[:0]
}

// flushGrid emits the changes of every live window and clears the marks.
func (o *Operator) flushGrid(emit func(Result)) {
	g := &o.grid
	if len(g.dirty) == 0 {
		return
	}
	o.emitDirty(o.wm, math.MaxInt64, emit)
	for _, p := range g.dirty {
		for _, gr := range p.dirty {
			gr.dirty = false
		}
		clear(p.dirty)
		p.dirty = p.dirty[:0]
	}
	clear(g.dirty)
	g.dirty = g.dirty[:0]
}
