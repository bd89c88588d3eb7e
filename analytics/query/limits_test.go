package query

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Hostile scripts of issue 11: before the limits, the first three crashed
// the process with "fatal error: stack overflow" (expr <-> unary, expr <->
// binary) or took seconds and a gigabyte; the others fit in MaxScriptBytes
// and nest past MaxDepth.
var deepScripts = []struct {
	name      string
	sql       string
	line, col int
	msg       string
}{
	{"issue: 1,048,000 bangs", "SELECT " + strings.Repeat("!", 1_048_000) + "1 AS x FROM s", 1, 102401,
		"the script is 1048020 bytes; the limit is 102400 bytes"},
	{"issue: 2 MB of 1+1+", "SELECT " + strings.Repeat("1+", 1_000_000) + "1 FROM s", 1, 102401,
		"the script is 2000015 bytes; the limit is 102400 bytes"},
	{"issue: 900 KB of 1+1+", "SELECT " + strings.Repeat("1+", 450_000) + "1 FROM s", 1, 102401,
		"the limit is 102400 bytes"},
	{"size limit counts lines", strings.Repeat("-- comment\n", 10_000) + "SELECT a FROM s", 9310, 2, "the limit is 102400 bytes"},
	{"100 KB of bangs", "SELECT " + strings.Repeat("!", 100_000) + "1 AS x FROM s", 1, 8 + MaxDepth, "nested too deeply"},
	{"100 KB of minus signs", "SELECT " + strings.Repeat("- ", 50_000) + "1 FROM s", 1, 8 + 2*MaxDepth, "nested too deeply"},
	{"NOT NOT NOT", "SELECT a FROM s WHERE " + strings.Repeat("NOT ", 20_000) + "a", 1, 23 + 4*MaxDepth, "nested too deeply"},
	{"100 KB of parentheses", "SELECT " + strings.Repeat("(", 50_000) + "1" + strings.Repeat(")", 50_000) + " FROM s", 1, 8 + MaxDepth, "nested too deeply"},
	{"unbalanced parentheses", "SELECT a FROM s WHERE " + strings.Repeat("(", 100_000), 1, 23 + MaxDepth, "nested too deeply"},
	{"100 KB of 1+1+", "SELECT " + strings.Repeat("1+", 50_000) + "1 FROM s", 1, 8, "nested too deeply"},
	{"100 KB of OR", "SELECT a FROM s WHERE " + strings.Repeat("a = 1 OR ", 11_000) + "a = 2", 1, 23, "nested too deeply"},
	{"chain after other columns", "SELECT b, c,\n  " + strings.Repeat("x*", 5_000) + "x FROM s", 2, 3, "nested too deeply"},
	{"nested functions", "SELECT " + strings.Repeat("UPPER(", 10_000) + "a" + strings.Repeat(")", 10_000) + " FROM s", 1, 8 + 6*MaxDepth, "nested too deeply"},
	{"nested CASE", "SELECT " + strings.Repeat("CASE WHEN a THEN ", 4_000) + "1" + strings.Repeat(" END", 4_000) + " FROM s", 1, 8 + 17*MaxDepth, "nested too deeply"},
	{"nested CASE in ELSE", "SELECT " + strings.Repeat("CASE WHEN a THEN 1 ELSE ", 300) + "1" + strings.Repeat(" END", 300) + " FROM s", 1, 8 + 24*MaxDepth, "nested too deeply"},
	{"chain in a subquery", "SELECT * FROM (SELECT a, COUNT(*) AS c FROM s WHERE " + strings.Repeat("a+", 600) + "a > 0 GROUP BY a, TUMBLE(ts, INTERVAL '1' MINUTE)) AS t ORDER BY c LIMIT 1", 1, 53, "nested too deeply"},
	{"alternating ! and parentheses", "SELECT " + strings.Repeat("!(", 100) + "1" + strings.Repeat(")", 100) + " FROM s", 1, 208, "nested too deeply"},
	{"many CAST ... AS", "SELECT CAST(a" + strings.Repeat(" AS x", 20_000) + ") FROM s", 1, 8, "cannot CAST"},
}

func TestLimits(t *testing.T) {
	for _, tc := range deepScripts {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile(tc.sql)
			var qe *Error
			if !errors.As(err, &qe) {
				t.Fatalf("Compile = %+v, %v; want a *Error", p != nil, err)
			}
			if qe.Line != tc.line || qe.Column != tc.col || !strings.Contains(qe.Msg, tc.msg) {
				t.Fatalf("got %.300s\nwant line %d, column %d: ...%s...", qe, tc.line, tc.col, tc.msg)
			}
		})
	}
}

// TestLimitsAccept: what is just within the limits compiles and runs.
func TestLimitsAccept(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want string // the value of column x on record {"a": 1}
	}{
		{"MaxDepth parentheses", "SELECT " + strings.Repeat("(", MaxDepth-1) + "a" + strings.Repeat(")", MaxDepth-1) + " AS x FROM s", "1"},
		{"unary chain", "SELECT " + strings.Repeat("- ", MaxDepth-2) + "a AS x FROM s", "1"},
		{"operator chain", "SELECT " + strings.Repeat("a+", MaxDepth-2) + "a AS x FROM s", fmt.Sprint(MaxDepth - 1)},
		{"nested functions", "SELECT " + strings.Repeat("ABS(", MaxDepth-2) + "a" + strings.Repeat(")", MaxDepth-2) + " AS x FROM s", "1"},
		{"long IN list", "SELECT a IN (" + strings.Repeat("2, ", 20_000) + "1) AS x FROM s", "true"},
		{"many columns", "SELECT a AS x" + strings.Repeat(", b", 15_000) + " FROM s", "1"},
		{"limit with defaults", strings.Repeat(" ", MaxScriptBytes-len("SELECT a AS x FROM s")) + "SELECT a AS x FROM s", "1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustCompile(t, tc.sql)
			ev := p.NewEvaluator()
			in, keep, err := ev.Input([]byte(`{"a": 1}`), 1, 1)
			if err != nil || !keep {
				t.Fatalf("Input = %v, %v", keep, err)
			}
			if got := in.Row[0].Value.Text(); got != tc.want {
				t.Fatalf("x = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestMaxBytes: the option raises the limit (the service adds a stream's
// default settings in front of a script that may be MaxScriptBytes long).
func TestMaxBytes(t *testing.T) {
	sql := "SET emit = 'final';\n" + strings.Repeat(" ", MaxScriptBytes-len("SELECT a FROM s")) + "SELECT a FROM s"
	if _, err := Compile(sql); err == nil || !strings.Contains(err.Error(), "the limit is 102400 bytes") {
		t.Fatalf("Compile = %v, want the size error", err)
	}
	if _, err := Compile(sql, MaxBytes(len(sql))); err != nil {
		t.Fatalf("Compile(MaxBytes) = %v", err)
	}
}

// BenchmarkWorstScripts compiles the costliest scripts within the limits
// and reports the heap they allocate (B/op) and the peak of the heap in
// use (peak-heap-B).
func BenchmarkWorstScripts(b *testing.B) {
	worst := []struct{ name, sql string }{}
	for _, d := range deepScripts {
		worst = append(worst, struct{ name, sql string }{d.name, d.sql})
	}
	fill := func(unit string) string { return strings.Repeat(unit, (MaxScriptBytes-100)/len(unit)) }
	worst = append(worst, []struct{ name, sql string }{
		{"columns", "SELECT a" + fill(", a") + " FROM s"},
		{"distinct fields", "SELECT a" + strings.Repeat(", a", 100) + fieldList(MaxScriptBytes-400) + " FROM s"},
		{"IN list", "SELECT a IN (" + fill("1,") + "1) FROM s"},
		{"CASE branches", "SELECT CASE a" + fill(" WHEN 1 THEN 2") + " END FROM s"},
		{"string literal", "SELECT '" + fill("x") + "' FROM s"},
		{"windowed keys", "SELECT COUNT(*) FROM s GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE)" + fill(", a")},
		{"windowed aggregates", "SELECT COUNT(*)" + fill(", SUM(a+1)") + " FROM s GROUP BY a, TUMBLE(ts, INTERVAL '1' MINUTE)"},
		{"OR chains in parentheses", "SELECT a FROM s WHERE " + strings.Repeat("("+strings.Repeat("a OR ", 200)+"a) AND ", 95) + "a"},
		{"CAST AS", "SELECT " + fill("CAST(a AS BOOLEAN),") + "a FROM s"},
		{"comments", fill("/**/") + "SELECT a FROM s"},
	}...)
	for _, w := range worst {
		if len(w.sql) > MaxScriptBytes && !strings.Contains(w.name, "issue") && !strings.Contains(w.name, "size") {
			b.Fatalf("%s: %d bytes", w.name, len(w.sql))
		}
		b.Run(w.name, func(b *testing.B) {
			b.ReportAllocs()
			var peak uint64
			for b.Loop() {
				stop := watchHeap(&peak)
				_, _ = Compile(w.sql)
				stop()
			}
			b.ReportMetric(float64(peak), "peak-heap-B")
		})
	}
}

// fieldList returns ", f0, f1, ..." of about n bytes.
func fieldList(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, ", f%d", i)
	}
	return b.String()
}

// watchHeap samples the heap and stacks in use every millisecond into *peak until stop is
// called.
func watchHeap(peak *uint64) (stop func()) {
	done, exited := make(chan struct{}), make(chan struct{})
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		*peak = max(*peak, ms.HeapInuse+ms.StackInuse)
	}
	go func() {
		defer close(exited)
		for {
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
				sample()
			}
		}
	}()
	return func() { close(done); <-exited; sample() }
}
