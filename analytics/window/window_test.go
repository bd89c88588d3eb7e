package window

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/spatehq/spate/analytics/agg"
	"github.com/spatehq/spate/analytics/value"
)

// The aggregates every randomized test computes; the reference below
// computes the same by hand.
var testAggs = []agg.Spec{
	{Kind: agg.Count, Star: true},
	{Kind: agg.Sum},
	{Kind: agg.Min},
	{Kind: agg.Max},
	{Kind: agg.FirstValue},
	{Kind: agg.LastValue},
	{Kind: agg.Count, Distinct: true},
}

type opKind uint8

const (
	opAdd opKind = iota
	opAdvance
	opFlush
)

// op is one call on the operator.
type op struct {
	kind opKind
	key  int
	ts   int64 // event time, or the watermark of opAdvance
	x    value.Value
}

func keyValues(k int) []value.Value {
	return []value.Value{value.String(fmt.Sprintf("k%d", k)), value.Int(int64(k % 3))}
}

func keyBytes(k int) []byte {
	var b []byte
	for _, v := range keyValues(k) {
		b = value.AppendKey(b, v)
	}
	return b
}

// emission is one emitted result, flattened to compare.
type emission struct {
	call       int // index of the op that emitted it
	key        string
	start, end int64
	aggs       string
}

func (e emission) String() string {
	return fmt.Sprintf("@%d %q [%d,%d) %s", e.call, e.key, e.start, e.end, e.aggs)
}

func fmtAggs(vs []value.Value) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.Kind.String() + ":" + v.Text()
	}
	return strings.Join(parts, " ")
}

// run drives o through ops from index from, returning emissions and
// whether each add was accepted (indexed like ops).
func run(t *testing.T, o *Operator, ops []op, from int) ([]emission, []bool) {
	t.Helper()
	var out []emission
	accepted := make([]bool, len(ops))
	for i := from; i < len(ops); i++ {
		c := ops[i]
		emit := func(r Result) {
			var kb []byte
			for _, k := range r.Keys {
				kb = value.AppendKey(kb, k)
			}
			out = append(out, emission{call: i, key: string(kb), start: r.Start, end: r.End, aggs: fmtAggs(r.Aggs)})
		}
		switch c.kind {
		case opAdd:
			args := make([]value.Value, len(testAggs))
			for j := range args {
				args[j] = c.x
			}
			accepted[i] = o.Add(keyBytes(c.key), keyValues(c.key), c.ts, args)
		case opAdvance:
			o.Advance(c.ts, emit)
			if o.Watermark() < c.ts {
				t.Fatalf("watermark %d after Advance(%d)", o.Watermark(), c.ts)
			}
		case opFlush:
			o.Flush(emit)
		}
	}
	return out, accepted
}

// genOps makes a stream of rows over keys keys, event times moving forward
// with jitter (out of order), the watermark following the highest time
// minus delay (so rows later than delay+lateness are late), flushes every
// few rows, and a final Advance to +infinity.
func genOps(rng *rand.Rand, n, keys int, step, jitter, delay int64) []op {
	var ops []op
	base, maxTs := int64(-5000), int64(math.MinInt64) // negative times too
	for range n {
		base += rng.Int64N(step + 1)
		ts := base - rng.Int64N(jitter+1)
		x := value.Int(rng.Int64N(41) - 20)
		if rng.IntN(8) == 0 {
			x = value.Null
		}
		ops = append(ops, op{kind: opAdd, key: rng.IntN(keys), ts: ts, x: x})
		if ts > maxTs {
			maxTs = ts
			if rng.IntN(3) == 0 {
				ops = append(ops, op{kind: opAdvance, ts: maxTs - delay})
			}
		}
		if rng.IntN(5) == 0 {
			ops = append(ops, op{kind: opFlush})
		}
	}
	return append(ops, op{kind: opAdvance, ts: math.MaxInt64})
}

// refRow is a row the reference keeps.
type refRow struct {
	seq int // arrival order
	ts  int64
	x   value.Value
}

// refAggs computes testAggs over rows by hand.
func refAggs(rows []refRow) string {
	slices.SortFunc(rows, func(a, b refRow) int { return cmp.Compare(a.seq, b.seq) })
	var (
		sum, n        int64
		minV, maxV    = value.Null, value.Null
		first, last   refRow
		distinct      = map[int64]bool{}
		haveFirstLast bool
	)
	for _, r := range rows {
		if !haveFirstLast || r.ts < first.ts {
			first = r
		}
		if !haveFirstLast || r.ts >= last.ts {
			last = r
		}
		haveFirstLast = true
		if r.x.IsNull() {
			continue
		}
		n++
		sum += r.x.I
		if minV.IsNull() || r.x.I < minV.I {
			minV = r.x
		}
		if maxV.IsNull() || r.x.I > maxV.I {
			maxV = r.x
		}
		distinct[r.x.I] = true
	}
	sumV := value.Null
	if n > 0 {
		sumV = value.Int(sum)
	}
	return fmtAggs([]value.Value{value.Int(int64(len(rows))), sumV, minV, maxV, first.x, last.x, value.Int(int64(len(distinct)))})
}

// sortEmissions orders emissions as the operator must: by call, then end,
// start and key.
func sortEmissions(es []emission) {
	slices.SortStableFunc(es, func(a, b emission) int {
		return cmp.Or(cmp.Compare(a.call, b.call), cmp.Compare(a.end, b.end), cmp.Compare(a.start, b.start), strings.Compare(a.key, b.key))
	})
}

// refGrid is the brute-force TUMBLE/HOP reference for EmitFinal: a row
// counts in window [s, s+size) iff that window had not fired when the row
// arrived (s+size+lateness > watermark); it is accepted iff it counts in
// some window; a window is emitted at the first Advance that reaches
// end+lateness.
func refGrid(slide, size, lateness int64, ops []op) ([]emission, []bool) {
	type wk struct {
		s   int64
		key int
	}
	rows := map[wk][]refRow{}
	fired := map[wk]int{}
	accepted := make([]bool, len(ops))
	wm := int64(math.MinInt64)
	for i, c := range ops {
		switch c.kind {
		case opAdd:
			// every multiple of slide in (ts-size, ts]
			for s := c.ts - ((c.ts%slide)+slide)%slide; s > c.ts-size; s -= slide {
				if s+size+lateness > wm {
					k := wk{s, c.key}
					rows[k] = append(rows[k], refRow{i, c.ts, c.x})
					accepted[i] = true
				}
			}
		case opAdvance:
			if c.ts <= wm {
				continue
			}
			wm = c.ts
			for k := range rows {
				if _, ok := fired[k]; !ok && (wm == math.MaxInt64 || k.s+size+lateness <= wm) {
					fired[k] = i
				}
			}
		}
	}
	var out []emission
	for k, rs := range rows {
		out = append(out, emission{call: fired[k], key: string(keyBytes(k.key)), start: k.s, end: k.s + size, aggs: refAggs(rs)})
	}
	sortEmissions(out)
	return out, accepted
}

// refSession is the brute-force SESSION reference for EmitFinal: it keeps
// each session as its list of rows and merges every live session holding a
// row within gap of the new one.
func refSession(gap, lateness int64, ops []op) ([]emission, []bool) {
	type sess struct {
		key   int
		rows  []refRow
		fired int
	}
	var live, done []*sess
	accepted := make([]bool, len(ops))
	wm := int64(math.MinInt64)
	span := func(s *sess) (lo, hi int64) {
		lo, hi = math.MaxInt64, math.MinInt64
		for _, r := range s.rows {
			lo, hi = min(lo, r.ts), max(hi, r.ts)
		}
		return lo, hi
	}
	for i, c := range ops {
		switch c.kind {
		case opAdd:
			if wm != math.MinInt64 && c.ts+gap+lateness <= wm {
				continue
			}
			accepted[i] = true
			joined := &sess{key: c.key, rows: []refRow{{i, c.ts, c.x}}}
			var rest []*sess
			for _, s := range live {
				near := false
				for _, r := range s.rows {
					if s.key == c.key && r.ts-c.ts < gap && c.ts-r.ts < gap {
						near = true
					}
				}
				if near {
					joined.rows = append(joined.rows, s.rows...)
				} else {
					rest = append(rest, s)
				}
			}
			live = append(rest, joined)
		case opAdvance:
			if c.ts <= wm {
				continue
			}
			wm = c.ts
			var rest []*sess
			for _, s := range live {
				if _, hi := span(s); wm == math.MaxInt64 || hi+gap+lateness <= wm {
					s.fired = i
					done = append(done, s)
				} else {
					rest = append(rest, s)
				}
			}
			live = rest
		}
	}
	var out []emission
	for _, s := range done {
		lo, hi := span(s)
		out = append(out, emission{call: s.fired, key: string(keyBytes(s.key)), start: lo, end: hi + gap, aggs: refAggs(s.rows)})
	}
	sortEmissions(out)
	return out, accepted
}

type randomCase struct {
	name     string
	spec     Spec
	lateness int64
	keys     int
	step     int64 // max event-time step between rows
	jitter   int64 // max out-of-orderness
	delay    int64 // watermark delay
}

var randomCases = []randomCase{
	{"tumble in order", Spec{Kind: Tumble, Size: 100}, 0, 20, 5, 0, 0},
	{"tumble out of order within delay", Spec{Kind: Tumble, Size: 100}, 0, 50, 5, 60, 60},
	{"tumble late rows", Spec{Kind: Tumble, Size: 100}, 0, 50, 5, 150, 20},
	{"tumble lateness", Spec{Kind: Tumble, Size: 70}, 40, 30, 5, 200, 10},
	{"hop divides", Spec{Kind: Hop, Slide: 20, Size: 100}, 0, 30, 5, 60, 60},
	{"hop late rows", Spec{Kind: Hop, Slide: 20, Size: 100}, 10, 30, 5, 200, 10},
	{"hop gcd panes", Spec{Kind: Hop, Slide: 30, Size: 70}, 15, 30, 5, 150, 20},
	{"hop slide equals size", Spec{Kind: Hop, Slide: 50, Size: 50}, 0, 10, 5, 100, 30},
	{"session in order", Spec{Kind: Session, Gap: 30}, 0, 5, 4, 0, 0},
	{"session out of order", Spec{Kind: Session, Gap: 30}, 0, 8, 3, 80, 80},
	{"session late and bridging", Spec{Kind: Session, Gap: 25}, 20, 5, 5, 200, 10},
	{"session sparse keys", Spec{Kind: Session, Gap: 30}, 0, 20, 15, 40, 20},
	{"session many keys", Spec{Kind: Session, Gap: 50}, 5, 200, 3, 100, 30},
}

func reference(tc randomCase, ops []op) ([]emission, []bool) {
	switch tc.spec.Kind {
	case Tumble:
		return refGrid(tc.spec.Size, tc.spec.Size, tc.lateness, ops)
	case Hop:
		return refGrid(tc.spec.Slide, tc.spec.Size, tc.lateness, ops)
	}
	return refSession(tc.spec.Gap, tc.lateness, ops)
}

func newOp(t *testing.T, tc randomCase, emit Emit) *Operator {
	t.Helper()
	o, err := New(Config{Spec: tc.spec, Aggs: testAggs, AllowedLateness: tc.lateness, Emit: emit})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func diff(t *testing.T, got, want []emission) {
	t.Helper()
	for i := 0; i < max(len(got), len(want)); i++ {
		var g, w string
		if i < len(got) {
			g = got[i].String()
		}
		if i < len(want) {
			w = want[i].String()
		}
		if g != w {
			t.Fatalf("emission %d of %d (want %d):\n got  %s\n want %s", i, len(got), len(want), g, w)
		}
	}
}

func TestFinalAgainstReference(t *testing.T) {
	for _, tc := range randomCases {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(5) {
				rng := rand.New(rand.NewPCG(seed, 7))
				ops := genOps(rng, 1500, tc.keys, tc.step, tc.jitter, tc.delay)
				want, wantAcc := reference(tc, ops)
				o := newOp(t, tc, EmitFinal)
				got, gotAcc := run(t, o, ops, 0)
				late := 0
				for i := range ops {
					if ops[i].kind == opAdd && gotAcc[i] != wantAcc[i] {
						t.Fatalf("seed %d: op %d (%+v): accepted %v, want %v", seed, i, ops[i], gotAcc[i], wantAcc[i])
					}
					if ops[i].kind == opAdd && !gotAcc[i] {
						late++
					}
				}
				diff(t, got, want)
				if o.Windows() != 0 {
					t.Fatalf("%d windows left after the final Advance", o.Windows())
				}
				if tc.jitter > tc.delay+tc.lateness+tc.spec.Size+tc.spec.Gap && late == 0 {
					t.Fatalf("seed %d: the case is meant to have late rows", seed)
				}
			}
		})
	}
}

// TestChangesMode checks EmitChanges against EmitFinal on the same stream:
// every final result is the last change emitted for its window, changes are
// only for windows that exist, and a window is emitted at a Flush only if a
// row reached it since the previous one.
func TestChangesMode(t *testing.T) {
	for _, tc := range randomCases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, 13))
			ops := genOps(rng, 1500, tc.keys, tc.step, tc.jitter, tc.delay)
			final, _ := run(t, newOp(t, tc, EmitFinal), ops, 0)
			changes, _ := run(t, newOp(t, tc, EmitChanges), ops, 0)
			type wk struct {
				key        string
				start, end int64
			}
			lastChange := map[wk]string{}
			calls := map[wk][]int{}
			for _, e := range changes {
				k := wk{e.key, e.start, e.end}
				lastChange[k] = e.aggs
				calls[k] = append(calls[k], e.call)
			}
			finalSet := map[wk]bool{}
			for _, e := range final {
				k := wk{e.key, e.start, e.end}
				finalSet[k] = true
				if got, ok := lastChange[k]; !ok || got != e.aggs {
					t.Fatalf("window %+v: last change %q, final %q", k, got, e.aggs)
				}
			}
			if tc.spec.Kind != Session { // superseded sessions are not final
				for k := range lastChange {
					if !finalSet[k] {
						t.Fatalf("change for %+v, which never became final", k)
					}
				}
			}
			// Between two emissions of a window, a row of its key landed
			// in it.
			for k, cs := range calls {
				for j := 1; j < len(cs); j++ {
					if cs[j] == cs[j-1] {
						t.Fatalf("window %+v emitted twice by op %d", k, cs[j])
					}
					found := false
					for i := cs[j-1] + 1; i < cs[j] && !found; i++ {
						c := ops[i]
						found = c.kind == opAdd && string(keyBytes(c.key)) == k.key && c.ts >= k.start-tc.spec.Gap && c.ts < k.end
					}
					if !found {
						t.Fatalf("window %+v emitted at ops %d and %d with no row between", k, cs[j-1], cs[j])
					}
				}
			}
			if len(changes) <= len(final) {
				t.Fatalf("%d changes for %d final results: updates are not emitted", len(changes), len(final))
			}
		})
	}
}

// TestSnapshotRestore snapshots mid-stream and checks the restored
// operator emits exactly what the original does afterwards.
func TestSnapshotRestore(t *testing.T) {
	for _, emitMode := range []Emit{EmitFinal, EmitChanges} {
		for _, tc := range randomCases {
			t.Run(fmt.Sprintf("%s/emit%d", tc.name, emitMode), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(17, 19))
				ops := genOps(rng, 1200, tc.keys, tc.step, tc.jitter, tc.delay)
				for _, cut := range []int{0, 1, len(ops) / 3, len(ops) / 2, len(ops) - 1} {
					a := newOp(t, tc, emitMode)
					run(t, a, ops[:cut], 0)
					snap := a.AppendBinary([]byte("x"))[1:]
					b, err := Restore(Config{Spec: tc.spec, Aggs: testAggs, AllowedLateness: tc.lateness, Emit: emitMode}, snap)
					if err != nil {
						t.Fatalf("cut %d: Restore: %v", cut, err)
					}
					if again := b.AppendBinary(nil); !bytes.Equal(again, snap) {
						t.Fatalf("cut %d: snapshot of the restored operator differs", cut)
					}
					if a.Windows() != b.Windows() || a.Watermark() != b.Watermark() {
						t.Fatalf("cut %d: restored %d windows at %d, want %d at %d", cut, b.Windows(), b.Watermark(), a.Windows(), a.Watermark())
					}
					wantE, wantA := run(t, a, ops, cut)
					gotE, gotA := run(t, b, ops, cut)
					if !slices.Equal(gotA, wantA) {
						t.Fatalf("cut %d: accepted rows differ after restore", cut)
					}
					diff(t, gotE, wantE)
				}
			})
		}
	}
}

func TestRestoreRejects(t *testing.T) {
	cfg := Config{Spec: Spec{Kind: Tumble, Size: 10}, Aggs: testAggs}
	o, _ := New(cfg)
	o.Add(keyBytes(1), keyValues(1), 5, make([]value.Value, len(testAggs)))
	snap := o.AppendBinary(nil)
	tests := []struct {
		name string
		cfg  Config
		data []byte
	}{
		{"empty", cfg, nil},
		{"truncated", cfg, snap[:len(snap)-1]},
		{"trailing", cfg, append(slices.Clone(snap), 0)},
		{"other size", Config{Spec: Spec{Kind: Tumble, Size: 20}, Aggs: testAggs}, snap},
		{"other aggs", Config{Spec: cfg.Spec, Aggs: testAggs[:1]}, snap},
		{"other kind", Config{Spec: Spec{Kind: Session, Gap: 10}, Aggs: testAggs}, snap},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Restore(tc.cfg, tc.data); err == nil {
				t.Fatal("Restore accepted it")
			}
		})
	}
	for cut := range len(snap) {
		if _, err := Restore(cfg, snap[:cut]); err == nil {
			t.Fatalf("Restore accepted %d of %d bytes", cut, len(snap))
		}
	}
}

// TestLateRule checks the lateness rule at its boundaries.
func TestLateRule(t *testing.T) {
	tests := []struct {
		name     string
		spec     Spec
		lateness int64
		wm       int64
		ts       int64
		accepted bool
	}{
		{"tumble window open", Spec{Kind: Tumble, Size: 10}, 0, 19, 10, true},
		{"tumble end reached", Spec{Kind: Tumble, Size: 10}, 0, 20, 19, false},
		{"tumble lateness keeps it", Spec{Kind: Tumble, Size: 10}, 5, 24, 10, true},
		{"tumble lateness over", Spec{Kind: Tumble, Size: 10}, 5, 25, 19, false},
		{"tumble negative time", Spec{Kind: Tumble, Size: 10}, 0, -1, -5, true},
		{"tumble negative closed", Spec{Kind: Tumble, Size: 10}, 0, 0, -1, false},
		// HOP(5, 10): 12 is in [5,15) and [10,20); the last ends at 20.
		{"hop last window open", Spec{Kind: Hop, Slide: 5, Size: 10}, 0, 19, 12, true},
		{"hop first fired, last open", Spec{Kind: Hop, Slide: 5, Size: 10}, 0, 15, 12, true},
		{"hop all fired", Spec{Kind: Hop, Slide: 5, Size: 10}, 0, 20, 12, false},
		{"hop lateness", Spec{Kind: Hop, Slide: 5, Size: 10}, 3, 22, 12, true},
		{"session open", Spec{Kind: Session, Gap: 10}, 0, 109, 100, true},
		{"session closed", Spec{Kind: Session, Gap: 10}, 0, 110, 100, false},
		{"session lateness", Spec{Kind: Session, Gap: 10}, 5, 114, 100, true},
		{"before any watermark", Spec{Kind: Session, Gap: 10}, 0, math.MinInt64, math.MinInt64 + 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := New(Config{Spec: tc.spec, Aggs: []agg.Spec{{Kind: agg.Count, Star: true}}, AllowedLateness: tc.lateness})
			if err != nil {
				t.Fatal(err)
			}
			if tc.wm != math.MinInt64 {
				o.Advance(tc.wm, func(Result) {})
			}
			if got := o.Add([]byte("k"), nil, tc.ts, []value.Value{value.Null}); got != tc.accepted {
				t.Fatalf("Add(ts=%d) at watermark %d = %v, want %v", tc.ts, tc.wm, got, tc.accepted)
			}
		})
	}
}

type collected struct {
	start, end int64
	count      int64
	keys       string
}

func collect(out *[]collected) func(Result) {
	return func(r Result) {
		var ks []string
		for _, k := range r.Keys {
			ks = append(ks, k.Text())
		}
		*out = append(*out, collected{r.Start, r.End, r.Aggs[0].I, strings.Join(ks, ",")})
	}
}

func TestSessionBridgeMerges(t *testing.T) {
	for _, mode := range []Emit{EmitFinal, EmitChanges} {
		o, _ := New(Config{Spec: Spec{Kind: Session, Gap: 10}, Aggs: []agg.Spec{{Kind: agg.Count, Star: true}}, Emit: mode})
		add := func(ts int64) {
			if !o.Add([]byte("k"), []value.Value{value.String("k")}, ts, []value.Value{value.Null}) {
				t.Fatalf("row %d rejected", ts)
			}
		}
		var out []collected
		add(0)
		add(18)
		if o.Windows() != 2 {
			t.Fatalf("%d sessions, want 2", o.Windows())
		}
		o.Flush(collect(&out))
		add(9) // 9 from both: bridges them
		if o.Windows() != 1 {
			t.Fatalf("%d sessions after bridging, want 1", o.Windows())
		}
		o.Flush(collect(&out))
		o.Advance(27, collect(&out)) // session [0, 28) still open
		o.Advance(28, collect(&out))
		want := []collected{{0, 28, 3, "k"}}
		if mode == EmitChanges {
			// The two sessions, then the merged one; the superseded rows
			// are not retracted, and Advance has nothing pending.
			want = []collected{{0, 10, 1, "k"}, {18, 28, 1, "k"}, {0, 28, 3, "k"}}
		}
		if !slices.Equal(out, want) {
			t.Fatalf("mode %d: emitted %+v, want %+v", mode, out, want)
		}
		if o.Windows() != 0 {
			t.Fatalf("%d sessions left", o.Windows())
		}
	}
}

func TestChangesReemitsUpdatedWindow(t *testing.T) {
	o, _ := New(Config{Spec: Spec{Kind: Tumble, Size: 10}, Aggs: []agg.Spec{{Kind: agg.Count, Star: true}}, AllowedLateness: 5, Emit: EmitChanges})
	add := func(ts int64) bool {
		return o.Add([]byte("k"), []value.Value{value.String("k")}, ts, []value.Value{value.Null})
	}
	var out []collected
	add(1)
	add(2)
	o.Flush(collect(&out))
	o.Flush(collect(&out)) // nothing changed: nothing emitted
	o.Advance(12, collect(&out))
	add(3) // after the end, within lateness: an update
	add(11)
	o.Flush(collect(&out))
	add(4)
	o.Advance(15, collect(&out)) // closes [0,10): its pending change comes out
	if add(5) {
		t.Fatal("row of a closed window accepted")
	}
	o.Flush(collect(&out))
	want := []collected{{0, 10, 2, "k"}, {0, 10, 3, "k"}, {10, 20, 1, "k"}, {0, 10, 4, "k"}}
	if !slices.Equal(out, want) {
		t.Fatalf("emitted %+v, want %+v", out, want)
	}
}

func TestHopMergesPanes(t *testing.T) {
	// HOP(slide 20, size 30): panes of 10; 25 is in [0,30) and [20,50).
	o, _ := New(Config{Spec: Spec{Kind: Hop, Slide: 20, Size: 30}, Aggs: []agg.Spec{{Kind: agg.Count, Star: true}, {Kind: agg.Max}}})
	for _, ts := range []int64{5, 15, 25, 45, -3} {
		o.Add([]byte("k"), []value.Value{value.String("k")}, ts, []value.Value{value.Null, value.Int(ts)})
	}
	if o.Windows() != 5 { // panes -10, 0, 10, 20, 40
		t.Fatalf("%d panes, want 5", o.Windows())
	}
	var got []string
	o.Advance(math.MaxInt64, func(r Result) {
		got = append(got, fmt.Sprintf("[%d,%d) %d %d", r.Start, r.End, r.Aggs[0].I, r.Aggs[1].I))
	})
	want := []string{"[-20,10) 2 5", "[0,30) 3 25", "[20,50) 2 45", "[40,70) 1 45"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestConfigValidate(t *testing.T) {
	count := []agg.Spec{{Kind: agg.Count, Star: true}}
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"tumble", Config{Spec: Spec{Kind: Tumble, Size: 1000}, Aggs: count}, true},
		{"tumble zero size", Config{Spec: Spec{Kind: Tumble}, Aggs: count}, false},
		{"hop", Config{Spec: Spec{Kind: Hop, Slide: 2000, Size: 10000}, Aggs: count}, true},
		{"hop slide over size", Config{Spec: Spec{Kind: Hop, Slide: 20, Size: 10}, Aggs: count}, false},
		{"hop too many panes", Config{Spec: Spec{Kind: Hop, Slide: 7, Size: 1_000_003}, Aggs: count}, false},
		{"session", Config{Spec: Spec{Kind: Session, Gap: 10}, Aggs: count}, true},
		{"session no gap", Config{Spec: Spec{Kind: Session}, Aggs: count}, false},
		{"no kind", Config{Aggs: count}, false},
		{"negative lateness", Config{Spec: Spec{Kind: Tumble, Size: 10}, AllowedLateness: -1}, false},
		{"bad emit", Config{Spec: Spec{Kind: Tumble, Size: 10}, Emit: 9}, false},
		{"bad agg", Config{Spec: Spec{Kind: Tumble, Size: 10}, Aggs: []agg.Spec{{Kind: agg.Sum, Star: true}}}, false},
		{"no aggs", Config{Spec: Spec{Kind: Tumble, Size: 10}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("New = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestWatermarkNeverLowers(t *testing.T) {
	o, _ := New(Config{Spec: Spec{Kind: Tumble, Size: 10}})
	if o.Watermark() != math.MinInt64 {
		t.Fatalf("initial watermark %d", o.Watermark())
	}
	o.Advance(100, func(Result) {})
	o.Advance(50, func(Result) {})
	if o.Watermark() != 100 {
		t.Fatalf("watermark %d after Advance(100), Advance(50)", o.Watermark())
	}
}
