package window

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/spatehq/spate/analytics/agg"
	"github.com/spatehq/spate/analytics/value"
)

// maxPanesPerWindow bounds size/gcd(slide, size) of a HOP: each emitted
// window merges that many panes per key, so a slide that shares only a
// tiny divisor with the size (HOP of 7 ms over 10 s) would make every
// window cost thousands of merges.
const maxPanesPerWindow = 100_000

// Config is what an Operator computes.
type Config struct {
	Spec            Spec
	Aggs            []agg.Spec // the aggregates, in the order of Add's args and Result's Aggs
	AllowedLateness int64      // ms a window stays open after its end, >= 0
	Emit            Emit
}

// Validate reports whether New accepts cfg.
func (c Config) Validate() error {
	s := c.Spec
	switch s.Kind {
	case Tumble:
		if s.Size <= 0 {
			return fmt.Errorf("window: TUMBLE size must be positive, got %d ms", s.Size)
		}
	case Hop:
		if s.Size <= 0 || s.Slide <= 0 {
			return fmt.Errorf("window: HOP slide and size must be positive, got slide %d ms, size %d ms", s.Slide, s.Size)
		}
		if s.Slide > s.Size {
			return fmt.Errorf("window: HOP slide %d ms exceeds size %d ms, which would leave rows in no window", s.Slide, s.Size)
		}
		if n := s.Size / gcd(s.Slide, s.Size); n > maxPanesPerWindow {
			return fmt.Errorf("window: HOP slide %d ms and size %d ms make %d panes per window (at most %d); use a slide that divides the size", s.Slide, s.Size, n, maxPanesPerWindow)
		}
	case Session:
		if s.Gap <= 0 {
			return fmt.Errorf("window: SESSION gap must be positive, got %d ms", s.Gap)
		}
	default:
		return fmt.Errorf("window: unknown window kind %d", uint8(s.Kind))
	}
	if c.AllowedLateness < 0 {
		return fmt.Errorf("window: allowed lateness must not be negative, got %d ms", c.AllowedLateness)
	}
	if c.AllowedLateness > math.MaxInt64/4 || s.Size > math.MaxInt64/4 || s.Gap > math.MaxInt64/4 {
		return fmt.Errorf("window: window size, gap or lateness out of range")
	}
	if c.Emit != EmitFinal && c.Emit != EmitChanges {
		return fmt.Errorf("window: unknown emit mode %d", uint8(c.Emit))
	}
	for i, a := range c.Aggs {
		if err := a.Validate(); err != nil {
			return fmt.Errorf("window: aggregate %d: %w", i, err)
		}
	}
	return nil
}

// Result is one window's result for one group key.
//
// A Result and its slices are valid only during the emit call that receives
// it, and must not be modified: the operator reuses them and Keys is its own
// copy of the group key. Copy what you keep.
type Result struct {
	Keys       []value.Value // the group key's values, as Add received them
	Start, End int64         // the window, [Start, End) in epoch ms
	Aggs       []value.Value // one per Config.Aggs
}

// Operator is a group-window operator. See the package doc for its
// semantics and invariants.
type Operator struct {
	cfg     Config
	wm      int64
	changes bool

	// span is how long after its start a window fires: size + lateness for
	// TUMBLE and HOP (a window [s, s+size) fires at s+span), gap + lateness
	// for SESSION (relative to the last row).
	span int64

	grid     grid
	sessions sessions

	res  Result // reused for every emission
	aggs []value.Value
}

// New returns an empty operator with watermark math.MinInt64.
func New(cfg Config) (*Operator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := &Operator{
		cfg:     cfg,
		wm:      math.MinInt64,
		changes: cfg.Emit == EmitChanges,
		aggs:    make([]value.Value, len(cfg.Aggs)),
	}
	o.cfg.Aggs = slices.Clone(cfg.Aggs)
	switch cfg.Spec.Kind {
	case Tumble:
		o.grid.init(cfg.Spec.Size, cfg.Spec.Size)
		o.span = cfg.Spec.Size + cfg.AllowedLateness
	case Hop:
		o.grid.init(cfg.Spec.Slide, cfg.Spec.Size)
		o.span = cfg.Spec.Size + cfg.AllowedLateness
	case Session:
		o.sessions.init(cfg.Spec.Gap)
		o.span = cfg.Spec.Gap + cfg.AllowedLateness
	}
	return o, nil
}

// Watermark is the highest watermark passed to Advance, math.MinInt64
// before any.
func (o *Operator) Watermark() int64 { return o.wm }

// Windows is the number of live panes (TUMBLE, HOP) or sessions (SESSION):
// a gauge of the operator's state size.
func (o *Operator) Windows() int {
	if o.cfg.Spec.Kind == Session {
		return o.sessions.live
	}
	return len(o.grid.order)
}

// Add folds one row into its window(s) and reports whether it was accepted;
// a late row (see the package doc) is not folded and Add returns false.
//
// key is the encoded group key (value.AppendKey of each key value), keys
// the values themselves; ts is the row's event time; args[i] is the input
// of Config.Aggs[i] (anything for COUNT(*)). The operator copies what it
// keeps: the caller may reuse all three slices after Add returns.
func (o *Operator) Add(key []byte, keys []value.Value, ts int64, args []value.Value) (accepted bool) {
	if o.cfg.Spec.Kind == Session {
		return o.addSession(key, keys, ts, args)
	}
	return o.addGrid(key, keys, ts, args)
}

// Advance raises the watermark to wm (a lower or equal wm changes nothing)
// and fires every window with end + lateness <= wm: in EmitFinal mode it
// emits their results, in EmitChanges mode their pending changes (those
// not yet emitted by Flush). It then drops their state.
//
// emit must not call the operator.
func (o *Operator) Advance(wm int64, emit func(Result)) {
	if wm <= o.wm {
		return
	}
	old := o.wm
	o.wm = wm
	if o.cfg.Spec.Kind == Session {
		o.advanceSessions(emit)
		return
	}
	o.advanceGrid(old, emit)
}

// Flush emits, in EmitChanges mode, the current result of every live window
// that received a row since the last Flush (or Advance that closed it).
// In EmitFinal mode it does nothing.
//
// emit must not call the operator.
func (o *Operator) Flush(emit func(Result)) {
	if !o.changes {
		return
	}
	if o.cfg.Spec.Kind == Session {
		o.flushSessions(emit)
		return
	}
	o.flushGrid(emit)
}

// emitStates emits one result from states.
func (o *Operator) emitStates(emit func(Result), keys []value.Value, start, end int64, states []agg.State) {
	for i, st := range states {
		o.aggs[i] = st.Result()
	}
	o.res = Result{Keys: keys, Start: start, End: end, Aggs: o.aggs}
	emit(o.res)
}

// newStates returns the empty states of the configured aggregates.
func (o *Operator) newStates() []agg.State {
	states := make([]agg.State, len(o.cfg.Aggs))
	for i, a := range o.cfg.Aggs {
		states[i] = agg.New(a)
	}
	return states
}

// ownKeys copies keys, strings included, so kept group keys never pin the
// caller's buffers.
func ownKeys(keys []value.Value) []value.Value {
	out := make([]value.Value, len(keys))
	for i, k := range keys {
		if k.Kind == value.KindString {
			k.S = strings.Clone(k.S)
		}
		out[i] = k
	}
	return out
}

// satAdd is a+b clamped to the int64 range, so window ends near the edges
// of time (and the +infinity watermark) compare correctly.
func satAdd(a, b int64) int64 {
	c := a + b
	if b > 0 && c < a {
		return math.MaxInt64
	}
	if b < 0 && c > a {
		return math.MinInt64
	}
	return c
}

// alignDown is the largest multiple of step <= t, step > 0.
func alignDown(t, step int64) int64 {
	r := t % step
	if r < 0 {
		r += step
	}
	return t - r
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
