package window

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spatehq/spate/analytics/agg"
	"github.com/spatehq/spate/analytics/value"
)

// Snapshot format (AppendBinary), integers as varints unless noted:
//
//	version byte (1), window kind byte, size, slide, gap, number of aggregates,
//	watermark, then for TUMBLE and HOP
//	    number of panes, and per pane by start: start, number of groups,
//	    and per group by key bytes: group
//	and for SESSION
//	    number of keys, and per key by key bytes: key bytes (uvarint length
//	    and bytes), key values (count, then agg.AppendValue each), number of
//	    sessions, and per session by first: first, last, dirty byte, states
//
// where a group is its key bytes, key values, dirty byte and states, and
// states are each aggregate's agg.State.AppendBinary in Config.Aggs order.
//
// Everything the operator's future depends on is in it; the session heap
// and the dirty lists are rebuilt from it on Restore. Maps are written in
// key order, so the snapshot of a state is deterministic up to the
// sketches' own encodings.
const snapshotVersion = 1

// AppendBinary appends a snapshot of the operator's whole state to dst.
func (o *Operator) AppendBinary(dst []byte) []byte {
	s := o.cfg.Spec
	dst = append(dst, snapshotVersion, byte(s.Kind))
	dst = binary.AppendVarint(dst, s.Size)
	dst = binary.AppendVarint(dst, s.Slide)
	dst = binary.AppendVarint(dst, s.Gap)
	dst = binary.AppendUvarint(dst, uint64(len(o.cfg.Aggs)))
	dst = binary.AppendVarint(dst, o.wm)
	if s.Kind == Session {
		return o.appendSessions(dst)
	}
	g := &o.grid
	dst = binary.AppendUvarint(dst, uint64(len(g.order)))
	for _, p := range g.order {
		dst = binary.AppendVarint(dst, p.start)
		dst = binary.AppendUvarint(dst, uint64(len(p.groups)))
		list := slices.Clone(p.groups)
		slices.SortFunc(list, func(a, b *group) int { return byKey(a.ki, b.ki) })
		for _, gr := range list {
			dst = appendKey(dst, gr.ki.key, gr.ki.keys)
			dst = appendStates(dst, gr.dirty, gr.states)
		}
	}
	return dst
}

func (o *Operator) appendSessions(dst []byte) []byte {
	ss := &o.sessions
	keys := make([]*keySessions, 0, len(ss.byKey))
	for _, ks := range ss.byKey {
		keys = append(keys, ks)
	}
	slices.SortFunc(keys, func(a, b *keySessions) int { return strings.Compare(a.key, b.key) })
	dst = binary.AppendUvarint(dst, uint64(len(keys)))
	for _, ks := range keys {
		dst = appendKey(dst, ks.key, ks.keys)
		dst = binary.AppendUvarint(dst, uint64(len(ks.list)))
		for _, s := range ks.list {
			dst = binary.AppendVarint(dst, s.first)
			dst = binary.AppendVarint(dst, s.last)
			dst = appendStates(dst, s.dirty, s.states)
		}
	}
	return dst
}

func appendKey(dst []byte, key string, keys []value.Value) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(key)))
	dst = append(dst, key...)
	dst = binary.AppendUvarint(dst, uint64(len(keys)))
	for _, k := range keys {
		dst = agg.AppendValue(dst, k)
	}
	return dst
}

func appendStates(dst []byte, dirty bool, states []agg.State) []byte {
	if dirty {
		dst = append(dst, 1)
	} else {
		dst = append(dst, 0)
	}
	for _, st := range states {
		dst = st.AppendBinary(dst)
	}
	return dst
}

var errTruncated = errors.New("truncated")

// reader reads a snapshot; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(errTruncated)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a uvarint count of items that take at least one byte each.
func (r *reader) count() int {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > uint64(len(r.b)-n) {
		r.fail(errTruncated)
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.fail(errTruncated)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) key() (string, []value.Value) {
	n := r.count()
	if r.err != nil {
		return "", nil
	}
	key := string(r.b[:n])
	r.b = r.b[n:]
	keys := make([]value.Value, r.count())
	for i := range keys {
		if r.err != nil {
			return "", nil
		}
		var err error
		if keys[i], r.b, err = agg.DecodeValue(r.b); err != nil {
			r.fail(err)
		}
	}
	return key, keys
}

func (r *reader) states(specs []agg.Spec) (bool, []agg.State) {
	dirty := r.byte() == 1
	states := make([]agg.State, len(specs))
	for i, spec := range specs {
		if r.err != nil {
			return false, nil
		}
		var err error
		if states[i], r.b, err = agg.Decode(spec, r.b); err != nil {
			r.fail(err)
		}
	}
	return dirty, states
}

// Restore returns the operator a snapshot describes. cfg must have the
// window spec and aggregates of the operator that wrote it; its lateness
// and emit mode may differ. Restore does not keep data.
func Restore(cfg Config, data []byte) (*Operator, error) {
	o, err := New(cfg)
	if err != nil {
		return nil, err
	}
	r := &reader{b: data}
	if v := r.byte(); r.err == nil && v != snapshotVersion {
		return nil, fmt.Errorf("window: restore: unknown snapshot version %d", v)
	}
	spec := Spec{Kind: Kind(r.byte())}
	spec.Size, spec.Slide, spec.Gap = r.varint(), r.varint(), r.varint()
	naggs := r.count()
	o.wm = r.varint()
	if r.err != nil {
		return nil, fmt.Errorf("window: restore header: %w", r.err)
	}
	if spec != cfg.Spec || naggs != len(cfg.Aggs) {
		return nil, fmt.Errorf("window: restore: snapshot of %+v with %d aggregates does not match %+v with %d", spec, naggs, cfg.Spec, len(cfg.Aggs))
	}
	if spec.Kind == Session {
		o.restoreSessions(r)
	} else {
		o.restoreGrid(r)
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail(fmt.Errorf("%d trailing bytes", len(r.b)))
	}
	if r.err != nil {
		return nil, fmt.Errorf("window: restore: %w", r.err)
	}
	return o, nil
}

func (o *Operator) restoreGrid(r *reader) {
	g := &o.grid
	for range r.count() {
		start := r.varint()
		if r.err != nil {
			return
		}
		if alignDown(start, g.pane) != start || g.panes[start] != nil {
			r.fail(fmt.Errorf("pane start %d is misaligned or repeated", start))
			return
		}
		p := g.paneAt(start)
		for range r.count() {
			key, keys := r.key()
			dirty, states := r.states(o.cfg.Aggs)
			if r.err != nil {
				return
			}
			ki := g.keyInfo([]byte(key), keys)
			if n := len(ki.groups); n > 0 && ki.groups[n-1].pane == p {
				r.fail(fmt.Errorf("key repeated in pane %d", start))
				return
			}
			gr := g.groupIn(ki, p, func() []agg.State { return states })
			if dirty && o.changes {
				gr.dirty = true
				if len(p.dirty) == 0 {
					g.dirty = append(g.dirty, p)
				}
				p.dirty = append(p.dirty, gr)
			}
		}
	}
}

func (o *Operator) restoreSessions(r *reader) {
	ss := &o.sessions
	for range r.count() {
		key, keys := r.key()
		if r.err != nil {
			return
		}
		ks := &keySessions{key: key, keys: keys}
		for range r.count() {
			s := &session{owner: ks, first: r.varint(), last: r.varint()}
			s.dirty, s.states = r.states(o.cfg.Aggs)
			if r.err != nil {
				return
			}
			if n := len(ks.list); s.last < s.first || (n > 0 && s.first < satAdd(ks.list[n-1].last, ss.gap)) {
				r.fail(fmt.Errorf("sessions of a key overlap or are out of order"))
				return
			}
			s.dirty = s.dirty && o.changes
			if s.dirty {
				ss.dirty = append(ss.dirty, s)
			}
			ks.list = append(ks.list, s)
			ss.push(heapEntry{end: s.end(ss.gap), s: s})
			ss.live++
		}
		if len(ks.list) > 0 {
			ss.byKey[key] = ks
		}
	}
}
