package agg

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/spatehq/spate/analytics/value"
)

type row struct {
	v  value.Value
	ts int64
}

func rows(vs ...value.Value) []row {
	out := make([]row, len(vs))
	for i, v := range vs {
		out[i] = row{v, int64(i)}
	}
	return out
}

var (
	i   = value.Int
	f   = value.Float
	s   = value.String
	nul = value.Null
)

func TestResults(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		in   []row
		want value.Value
		tol  float64 // relative, for approximations
	}{
		{"count star counts nulls", Spec{Kind: Count, Star: true}, rows(i(1), nul, s("x")), i(3), 0},
		{"count star empty", Spec{Kind: Count, Star: true}, nil, i(0), 0},
		{"count x skips nulls", Spec{Kind: Count}, rows(i(1), nul, s("x")), i(2), 0},
		{"count distinct", Spec{Kind: Count, Distinct: true}, rows(i(1), f(1), i(2), nul, s("1"), s("1")), i(3), 0},
		{"sum ints", Spec{Kind: Sum}, rows(i(1), i(2), nul, i(-4)), i(-1), 0},
		{"sum mixed is double", Spec{Kind: Sum}, rows(i(1), f(0.5)), f(1.5), 0},
		{"sum ignores non-numbers", Spec{Kind: Sum}, rows(i(1), s("2"), value.Bool(true), value.Time(5)), i(1), 0},
		{"sum of nothing is null", Spec{Kind: Sum}, rows(nul, s("x")), nul, 0},
		{"sum overflow goes double", Spec{Kind: Sum}, rows(i(math.MaxInt64), i(1)), f(float64(math.MaxInt64) + 1), 0},
		{"sum distinct", Spec{Kind: Sum, Distinct: true}, rows(i(2), i(2), f(2), i(3)), i(5), 0},
		{"avg", Spec{Kind: Avg}, rows(i(1), i(2), nul, i(4)), f(7.0 / 3), 0},
		{"avg of nothing is null", Spec{Kind: Avg}, nil, nul, 0},
		{"avg distinct", Spec{Kind: Avg, Distinct: true}, rows(i(1), i(1), i(4)), f(2.5), 0},
		{"min", Spec{Kind: Min}, rows(i(3), nul, f(-1.5), i(2)), f(-1.5), 0},
		{"min strings", Spec{Kind: Min}, rows(s("b"), s("a"), s("c")), s("a"), 0},
		{"min of nulls", Spec{Kind: Min}, rows(nul, nul), nul, 0},
		{"max", Spec{Kind: Max}, rows(i(3), nul, f(-1.5), i(7)), i(7), 0},
		{"max times", Spec{Kind: Max}, rows(value.Time(5), value.Time(9), value.Time(1)), value.Time(9), 0},
		{"max distinct is max", Spec{Kind: Max, Distinct: true}, rows(i(3), i(3)), i(3), 0},
		{"first by ts", Spec{Kind: FirstValue}, []row{{i(1), 10}, {i(2), 5}, {i(3), 7}}, i(2), 0},
		{"first tie keeps first added", Spec{Kind: FirstValue}, []row{{i(1), 5}, {i(2), 5}}, i(1), 0},
		{"first keeps null", Spec{Kind: FirstValue}, []row{{nul, 1}, {i(2), 5}}, nul, 0},
		{"first of nothing", Spec{Kind: FirstValue}, nil, nul, 0},
		{"last by ts", Spec{Kind: LastValue}, []row{{i(1), 10}, {i(2), 5}, {i(3), 7}}, i(1), 0},
		{"last tie takes last added", Spec{Kind: LastValue}, []row{{i(1), 5}, {i(2), 5}}, i(2), 0},
		{"hll small exact", Spec{Kind: ApproxCountDistinct}, rows(i(1), i(2), f(2), s("a"), nul), i(3), 0},
		{"hll empty", Spec{Kind: ApproxCountDistinct}, nil, i(0), 0},
		{"percentile median", Spec{Kind: ApproxPercentile, Param: 0.5}, rows(i(1), i(2), i(3), s("x"), nul), f(2), 0.01},
		{"percentile negatives and zero", Spec{Kind: ApproxPercentile, Param: 0}, rows(i(-100), i(0), i(5)), f(-100), 0.01},
		{"percentile zero", Spec{Kind: ApproxPercentile, Param: 0.5}, rows(i(-100), i(0), i(5)), f(0), 0},
		{"percentile empty", Spec{Kind: ApproxPercentile, Param: 0.5}, nil, nul, 0},
		{"percentile distinct", Spec{Kind: ApproxPercentile, Param: 1, Distinct: true}, rows(i(1), i(1), i(1), i(10)), f(10), 0.01},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := New(tc.spec)
			for _, r := range tc.in {
				st.Add(r.v, r.ts)
			}
			if got := st.Result(); !closeTol(got, tc.want, tc.tol) {
				t.Fatalf("Result = %+v, want %+v", got, tc.want)
			}
			// The encoding round trip keeps the result.
			dec, rest, err := Decode(tc.spec, st.AppendBinary([]byte{}))
			if err != nil || len(rest) != 0 {
				t.Fatalf("Decode: %v, %d bytes left", err, len(rest))
			}
			if got := dec.Result(); !closeTol(got, tc.want, tc.tol) {
				t.Fatalf("decoded Result = %+v, want %+v", got, tc.want)
			}
			// Any split into merged parts gives the same result.
			for split := 0; split <= len(tc.in); split++ {
				a, b := New(tc.spec), New(tc.spec)
				for _, r := range tc.in[:split] {
					a.Add(r.v, r.ts)
				}
				for _, r := range tc.in[split:] {
					b.Add(r.v, r.ts)
				}
				before := b.AppendBinary(nil)
				a.Merge(b)
				if got := a.Result(); !closeTol(got, tc.want, tc.tol) {
					t.Fatalf("split %d: merged Result = %+v, want %+v", split, got, tc.want)
				}
				if !slices.Equal(before, b.AppendBinary(nil)) && tc.spec.Kind != ApproxCountDistinct {
					t.Fatalf("split %d: Merge changed its argument", split)
				}
			}
		})
	}
}

// closeTol is close with a relative tolerance for DOUBLEs.
func closeTol(a, b value.Value, tol float64) bool {
	if tol > 0 && a.Kind == value.KindFloat && b.Kind == value.KindFloat {
		return math.Abs(a.F-b.F) <= tol*math.Abs(b.F)
	}
	return close(a, b)
}

// close compares exactly, except DOUBLEs to 1e-9 relative (and kinds must
// match).
func close(a, b value.Value) bool {
	if a.Kind != b.Kind {
		return false
	}
	if a.Kind == value.KindFloat {
		return a.F == b.F || math.Abs(a.F-b.F) <= 1e-9*math.Max(math.Abs(a.F), math.Abs(b.F))
	}
	return a == b
}

func allSpecs() []Spec {
	return []Spec{
		{Kind: Count, Star: true}, {Kind: Count}, {Kind: Count, Distinct: true},
		{Kind: Sum}, {Kind: Sum, Distinct: true}, {Kind: Avg}, {Kind: Avg, Distinct: true},
		{Kind: Min}, {Kind: Max}, {Kind: FirstValue}, {Kind: LastValue},
		{Kind: ApproxCountDistinct}, {Kind: ApproxPercentile, Param: 0.9},
		{Kind: ApproxPercentile, Param: 0.5, Distinct: true},
	}
}

// TestMergeAndEncodeRandom folds random rows three ways: into one state,
// into merged parts, and through encode/decode mid-stream. Integer inputs
// make every kind's result exact, so all three must agree.
func TestMergeAndEncodeRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, spec := range allSpecs() {
		t.Run(spec.Kind.String(), func(t *testing.T) {
			for trial := 0; trial < 20; trial++ {
				n := rng.IntN(200)
				in := make([]row, n)
				for j := range in {
					switch rng.IntN(10) {
					case 0:
						in[j].v = nul
					case 1:
						in[j].v = s(string(rune('a' + rng.IntN(5))))
					default:
						in[j].v = i(rng.Int64N(100) - 50)
					}
					in[j].ts = rng.Int64N(50)
				}
				whole := New(spec)
				for _, r := range in {
					whole.Add(r.v, r.ts)
				}
				merged := New(spec)
				for lo := 0; lo < n; {
					hi := lo + rng.IntN(n-lo+1)
					part := New(spec)
					for _, r := range in[lo:hi] {
						part.Add(r.v, r.ts)
					}
					merged.Merge(part)
					lo = hi
					if hi == lo && lo < n { // make progress
						merged.Add(in[lo].v, in[lo].ts)
						lo++
					}
				}
				cut := rng.IntN(n + 1)
				half := New(spec)
				for _, r := range in[:cut] {
					half.Add(r.v, r.ts)
				}
				buf := append([]byte("prefix"), half.AppendBinary(nil)...)
				buf = append(buf, "tail"...)
				dec, rest, err := Decode(spec, buf[len("prefix"):])
				if err != nil || string(rest) != "tail" {
					t.Fatalf("Decode: %v, rest %q", err, rest)
				}
				for _, r := range in[cut:] {
					dec.Add(r.v, r.ts)
				}
				w := whole.Result()
				if got := merged.Result(); !close(got, w) {
					t.Fatalf("trial %d: merged %+v, whole %+v", trial, got, w)
				}
				if got := dec.Result(); !close(got, w) {
					t.Fatalf("trial %d: decoded %+v, whole %+v", trial, got, w)
				}
			}
		})
	}
}

func TestDecodeRejectsTruncated(t *testing.T) {
	for _, spec := range allSpecs() {
		t.Run(spec.Kind.String(), func(t *testing.T) {
			st := New(spec)
			for j := range 50 {
				st.Add(i(int64(j)), int64(j))
			}
			enc := st.AppendBinary(nil)
			for cut := 0; cut < len(enc); cut++ {
				if got, rest, err := Decode(spec, enc[:cut]); err == nil {
					// A prefix may only decode if it is a whole encoding
					// of something, which for these states it never is.
					t.Fatalf("cut %d of %d decoded: %+v, rest %d", cut, len(enc), got.Result(), len(rest))
				}
			}
		})
	}
}

func TestHLLErrorBound(t *testing.T) {
	const n = 100_000
	a, b := New(Spec{Kind: ApproxCountDistinct}), New(Spec{Kind: ApproxCountDistinct})
	for j := range n {
		v := s("user-" + string(rune('A'+j%26)) + itoa(j))
		if j%2 == 0 {
			a.Add(v, 0)
		} else {
			b.Add(v, 0)
		}
		a.Add(i(int64(j%100)), 0) // repeats do not count twice...
	}
	a.Merge(b)
	got := a.Result().I
	want := int64(n + 100) // ...but the 100 small integers are distinct values
	// Three standard errors (0.81% each): the documented 99.7% bound. The
	// hash is deterministic, so this either always holds or never.
	if rel := math.Abs(float64(got-want)) / float64(want); rel > 3*0.0081 {
		t.Fatalf("estimate %d for %d distinct: error %.2f%%", got, want, 100*rel)
	}
	dec, _, err := Decode(Spec{Kind: ApproxCountDistinct}, a.AppendBinary(nil))
	if err != nil || dec.Result().I != got {
		t.Fatalf("decoded estimate %v (%v), want %d", dec.Result(), err, got)
	}
}

func itoa(n int) string {
	return string(value.AppendJSON(nil, i(int64(n))))
}

func TestPercentileErrorBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	dists := map[string]func() float64{
		"lognormal":     func() float64 { return math.Exp(rng.NormFloat64() * 3) },
		"signed normal": func() float64 { return rng.NormFloat64() * 1000 },
		"ints with zeros": func() float64 {
			return float64(rng.IntN(21) - 10)
		},
	}
	for name, gen := range dists {
		t.Run(name, func(t *testing.T) {
			const n = 50_000
			vals := make([]float64, n)
			for j := range vals {
				vals[j] = gen()
			}
			sorted := slices.Clone(vals)
			sort.Float64s(sorted)
			for _, p := range []float64{0, 0.01, 0.25, 0.5, 0.9, 0.99, 1} {
				spec := Spec{Kind: ApproxPercentile, Param: p}
				a, b := New(spec), New(spec)
				for j, v := range vals {
					if j%3 == 0 {
						a.Add(f(v), 0)
					} else {
						b.Add(f(v), 0)
					}
				}
				a.Merge(b)
				got := a.Result().F
				exact := sorted[int(math.Floor(p*float64(n-1)))]
				if math.Abs(got-exact) > 0.01*math.Abs(exact)+1e-12 {
					t.Fatalf("p=%v: got %v, exact %v", p, got, exact)
				}
			}
		})
	}
}

func TestHotPathAddsDoNotAllocate(t *testing.T) {
	for _, spec := range []Spec{{Kind: Count, Star: true}, {Kind: Count}, {Kind: Sum}, {Kind: Avg}, {Kind: Min}, {Kind: Max}, {Kind: FirstValue}, {Kind: LastValue}} {
		t.Run(spec.Kind.String(), func(t *testing.T) {
			st := New(spec)
			n := int64(0)
			allocs := testing.AllocsPerRun(1000, func() {
				n++
				st.Add(i(n), n)
				st.Add(f(float64(-n)), n)
			})
			if allocs != 0 {
				t.Fatalf("%v allocations per Add", allocs)
			}
		})
	}
}

func TestValueCodecRoundTrip(t *testing.T) {
	vals := []value.Value{nul, value.Bool(true), value.Bool(false), i(-5), i(math.MaxInt64), f(3), f(math.Inf(-1)), value.Time(-1), s(""), s("héllo")}
	var buf []byte
	for _, v := range vals {
		buf = AppendValue(buf, v)
	}
	for _, want := range vals {
		got, rest, err := DecodeValue(buf)
		if err != nil || got != want {
			t.Fatalf("DecodeValue = %+v, %v; want %+v", got, err, want)
		}
		buf = rest
	}
	if len(buf) != 0 {
		t.Fatalf("%d bytes left", len(buf))
	}
	if _, _, err := DecodeValue([]byte{9}); err == nil {
		t.Fatal("unknown kind decoded")
	}
}

func TestSpecValidate(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		ok   bool
	}{
		{"count star", Spec{Kind: Count, Star: true}, true},
		{"sum star", Spec{Kind: Sum, Star: true}, false},
		{"zero kind", Spec{}, false},
		{"percentile 1", Spec{Kind: ApproxPercentile, Param: 1}, true},
		{"percentile 1.5", Spec{Kind: ApproxPercentile, Param: 1.5}, false},
		{"percentile NaN", Spec{Kind: ApproxPercentile, Param: math.NaN()}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.spec.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestMergeMismatchPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("merging MIN into MAX did not panic")
		}
	}()
	New(Spec{Kind: Max}).Merge(New(Spec{Kind: Min}))
}

func BenchmarkAdd(b *testing.B) {
	for _, spec := range allSpecs() {
		b.Run(spec.Kind.String(), func(b *testing.B) {
			st := New(spec)
			b.ReportAllocs()
			for n := 0; b.Loop(); n++ {
				st.Add(i(int64(n&1023)), int64(n))
			}
		})
	}
}

func TestReset(t *testing.T) {
	for _, spec := range allSpecs() {
		t.Run(spec.Kind.String(), func(t *testing.T) {
			st, fresh := New(spec), New(spec)
			for j := range 100 {
				st.Add(i(int64(j)), int64(j))
			}
			st.Reset()
			if got, want := st.Result(), fresh.Result(); got != want {
				t.Fatalf("after Reset: %+v, want %+v", got, want)
			}
			st.Add(i(7), 3)
			fresh.Add(i(7), 3)
			if got, want := st.Result(), fresh.Result(); got != want {
				t.Fatalf("after Reset and Add: %+v, want %+v", got, want)
			}
		})
	}
}
