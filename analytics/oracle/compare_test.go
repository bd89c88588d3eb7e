package oracle

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spatehq/spate/analytics"
	"github.com/spatehq/spate/analytics/value"
)

// null is how COPY TO's text format writes NULL.
const null = `\N`

// check compares one engine value with PostgreSQL's text for the same cell.
type check func(got value.Value, want string) error

// exact: a number equal to PostgreSQL's (BIGINT or DOUBLE; NULL for NULL).
// Integers are compared as integers, doubles bit for bit: MIN, MAX, COUNT
// and integer SUMs have one right answer.
func exact(got value.Value, want string) error {
	if want == null {
		if !got.IsNull() {
			return fmt.Errorf("want NULL")
		}
		return nil
	}
	switch got.Kind {
	case value.KindInt:
		w, err := strconv.ParseInt(want, 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(want, 64)
			if ferr != nil || f != float64(got.I) {
				return fmt.Errorf("want %s", want)
			}
			return nil
		}
		if got.I != w {
			return fmt.Errorf("want %d", w)
		}
	case value.KindFloat:
		w, err := strconv.ParseFloat(want, 64)
		if err != nil || got.F != w {
			return fmt.Errorf("want %s", want)
		}
	default:
		return fmt.Errorf("want the number %s, got kind %v", want, got.Kind)
	}
	return nil
}

// timestamp: a TIMESTAMP whose epoch milliseconds PostgreSQL computed.
func timestamp(got value.Value, want string) error {
	w, err := strconv.ParseInt(want, 10, 64)
	if err != nil {
		return fmt.Errorf("oracle value %q is not epoch ms", want)
	}
	if got.Kind != value.KindTime || got.I != w {
		return fmt.Errorf("want TIMESTAMP %s (%d)", value.FormatTime(w), w)
	}
	return nil
}

// text: a VARCHAR equal to PostgreSQL's.
func text(got value.Value, want string) error {
	if got.Kind != value.KindString || got.S != want {
		return fmt.Errorf("want VARCHAR %q", want)
	}
	return nil
}

// relative: a number within tol relative error of PostgreSQL's (AVG: the
// engine and PostgreSQL add in different orders).
func relative(tol float64) check {
	return func(got value.Value, want string) error {
		if want == null {
			return exact(got, want)
		}
		w, err := strconv.ParseFloat(want, 64)
		if err != nil {
			return fmt.Errorf("oracle value %q is not a number", want)
		}
		g, ok := got.AsFloat()
		if !ok || !got.Numeric() || math.Abs(g-w) > tol*math.Abs(w) {
			return fmt.Errorf("want %s within %g relative", want, tol)
		}
		return nil
	}
}

// hllBound is the error APPROX_COUNT_DISTINCT may make against the exact
// count n: HyperLogLog with 2^14 registers has a standard error of
// 1.04/sqrt(2^14) = 0.81 %; four of those, plus 2 for the smallest sets
// (where the sparse representation is nearly exact anyway).
func hllBound(n float64) float64 { return 4*1.04/math.Sqrt(1<<14)*n + 2 }

// approxDistinct: within hllBound of PostgreSQL's COUNT(DISTINCT ...).
func approxDistinct(got value.Value, want string) error {
	n, err := strconv.ParseFloat(want, 64)
	if err != nil {
		return fmt.Errorf("oracle value %q is not a count", want)
	}
	g, ok := got.AsFloat()
	if !ok || !got.Numeric() || math.Abs(g-n) > hllBound(n) {
		return fmt.Errorf("want %s ± %.1f (exact count ± 4 sigma of HLL p=14, + 2)", want, hllBound(n))
	}
	return nil
}

// ddsketchAlpha is the relative accuracy of APPROX_PERCENTILE's DDSketch.
const ddsketchAlpha = 0.01

// percentile checks APPROX_PERCENTILE(x, q) against the group's sorted
// non-NULL values, which PostgreSQL sends space-separated (want).
//
// The bound: PostgreSQL's percentile_disc(q) is the value at 0-based rank
// ceil(q*n)-1; DDSketch answers for rank q*(n-1) (floor or ceil, depending
// on where the bucket boundary falls) a value within alpha relative of the
// true value at that rank. The two definitions differ by at most one rank,
// so we accept anything within alpha of the values between the lower of
// the two ranks minus one and the higher plus one (one rank of slack for
// rounding at bucket edges): xs[lo]*(1-alpha) <= got <= xs[hi]*(1+alpha).
func percentile(q float64) check {
	return func(got value.Value, want string) error {
		if want == null || want == "" {
			return exact(got, null)
		}
		fields := strings.Fields(want)
		xs := make([]float64, len(fields))
		for i, f := range fields {
			x, err := strconv.ParseFloat(f, 64)
			if err != nil {
				return fmt.Errorf("oracle value %q is not a number", f)
			}
			xs[i] = x
		}
		slices.Sort(xs)
		n := float64(len(xs))
		disc := int(math.Ceil(q*n)) - 1
		lo := min(disc, int(math.Floor(q*(n-1)))) - 1
		hi := max(disc, int(math.Ceil(q*(n-1)))) + 1
		lo, hi = max(lo, 0), min(hi, len(xs)-1)
		g, ok := got.AsFloat()
		if !ok || !got.Numeric() || g < xs[lo]*(1-ddsketchAlpha)-1e-9 || g > xs[hi]*(1+ddsketchAlpha)+1e-9 {
			return fmt.Errorf("want a value in [%g, %g]: within %g%% of the values at ranks %d..%d of %d (percentile_disc = %g)",
				xs[lo]*(1-ddsketchAlpha), xs[hi]*(1+ddsketchAlpha), ddsketchAlpha*100, lo, hi, len(xs), xs[max(disc, 0)])
		}
		return nil
	}
}

// keyText renders a group-key value the way PostgreSQL prints it in the
// oracle queries (timestamps as epoch ms).
func keyText(v value.Value) string {
	switch v.Kind {
	case value.KindNull:
		return null
	case value.KindString:
		return v.S
	case value.KindFloat:
		return strconv.FormatFloat(v.F, 'g', -1, 64)
	}
	return strconv.FormatInt(v.I, 10)
}

// column is one expected output column: its name and how to check it.
type column struct {
	name  string
	check check
}

// compareGroups checks the engine's rows against PostgreSQL's as multisets
// of rows keyed by the first nkey columns (for windowed results: the group
// key and the window), each of which must appear once on each side.
func compareGroups(t *testing.T, res analytics.EvalResult, cols []column, nkey int, want [][]string) {
	t.Helper()
	checkColumns(t, res, cols)
	got := map[string][]value.Column{}
	for _, row := range res.Rows {
		k := rowKey(row, nkey)
		if _, dup := got[k]; dup {
			t.Errorf("engine emitted group %s twice", k)
		}
		got[k] = row
	}
	errs := 0
	report := func(format string, args ...any) {
		errs++
		if errs <= 15 {
			t.Errorf(format, args...)
		}
	}
	seen := map[string]bool{}
	for _, w := range want {
		if len(w) != len(cols) {
			t.Fatalf("oracle row has %d fields, want %d: %q", len(w), len(cols), w)
		}
		k := strings.Join(w[:nkey], "|")
		seen[k] = true
		row, ok := got[k]
		if !ok {
			report("group %s: missing from the engine's output; oracle row %q", k, w)
			continue
		}
		for i, c := range cols {
			if err := c.check(row[i].Value, w[i]); err != nil {
				report("group %s, column %s: got %s (%v): %v", k, c.name, fmtValue(row[i].Value), row[i].Value.Kind, err)
			}
		}
	}
	for k, row := range got {
		if !seen[k] {
			report("group %s: the engine emitted %s, the oracle has no such group", k, fmtRow(row))
		}
	}
	if errs > 15 {
		t.Errorf("... %d mismatches in all (%d engine rows, %d oracle rows)", errs, len(res.Rows), len(want))
	}
}

// checkColumns checks the result's column names and every row's shape.
func checkColumns(t *testing.T, res analytics.EvalResult, cols []column) {
	t.Helper()
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	if !slices.Equal(res.Columns, names) {
		t.Fatalf("columns = %q, want %q", res.Columns, names)
	}
	for _, row := range res.Rows {
		if len(row) != len(cols) {
			t.Fatalf("row %s has %d columns, want %d", fmtRow(row), len(row), len(cols))
		}
		for i := range row {
			if row[i].Name != names[i] {
				t.Fatalf("row %s: column %d is named %q, want %q", fmtRow(row), i, row[i].Name, names[i])
			}
		}
	}
}

func rowKey(row []value.Column, nkey int) string {
	parts := make([]string, nkey)
	for i := range nkey {
		parts[i] = keyText(row[i].Value)
	}
	return strings.Join(parts, "|")
}

func fmtValue(v value.Value) string { return string(value.AppendJSON(nil, v)) }

func fmtRow(row []value.Column) string { return string(value.AppendObject(nil, row)) }

// TestChecks pins the tolerances: each accepts what it should and rejects
// a value just outside its bound.
func TestChecks(t *testing.T) {
	var hundred []string
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, strconv.Itoa(i))
	}
	sorted := strings.Join(hundred, " ")
	cases := []struct {
		name  string
		check check
		got   value.Value
		want  string
		ok    bool
	}{
		{"int equal", exact, value.Int(42), "42", true},
		{"int differs", exact, value.Int(41), "42", false},
		{"float equal", exact, value.Float(0.1), "0.1", true},
		{"float one ulp off", exact, value.Float(math.Nextafter(0.1, 1)), "0.1", false},
		{"null", exact, value.Null, null, true},
		{"null wanted", exact, value.Int(0), null, false},
		{"string is no number", exact, value.String("42"), "42", false},
		{"timestamp", timestamp, value.Time(1000), "1000", true},
		{"int is no timestamp", timestamp, value.Int(1000), "1000", false},
		{"text", text, value.String("k1"), "k1", true},
		{"avg close", relative(1e-9), value.Float(1 + 1e-12), "1", true},
		{"avg far", relative(1e-9), value.Float(1 + 1e-6), "1", false},
		{"hll within", approxDistinct, value.Int(1030), "1000", true},
		{"hll outside", approxDistinct, value.Int(1040), "1000", false},
		{"hll small exact", approxDistinct, value.Int(3), "3", true},
		{"hll small off by 3", approxDistinct, value.Int(6), "3", false},
		{"p50 at the rank", percentile(0.5), value.Float(50.3), sorted, true},
		{"p50 one rank up", percentile(0.5), value.Float(51.5), sorted, true},
		{"p50 three ranks up", percentile(0.5), value.Float(53), sorted, false},
		{"p50 three ranks down", percentile(0.5), value.Float(47), sorted, false},
		{"p99", percentile(0.99), value.Float(99.5), sorted, true},
		{"p99 too high", percentile(0.99), value.Float(102), sorted, false},
		{"percentile of nothing", percentile(0.5), value.Null, null, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.check(c.got, c.want)
			if (err == nil) != c.ok {
				t.Errorf("check(%s, %q) = %v, want ok=%v", fmtValue(c.got), c.want, err, c.ok)
			}
		})
	}
}
