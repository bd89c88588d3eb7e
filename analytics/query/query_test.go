package query

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/spatehq/spate/analytics/agg"
	"github.com/spatehq/spate/analytics/value"
	"github.com/spatehq/spate/analytics/window"
)

func mustCompile(t testing.TB, sql string) *Plan {
	t.Helper()
	p, err := Compile(sql)
	if err != nil {
		t.Fatalf("Compile(%q): %v", sql, err)
	}
	return p
}

func TestCompilePlans(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want func(t *testing.T, p *Plan)
	}{
		{"stateless insert", `INSERT INTO out SELECT a, b * 2 AS b2, UPPER(c) FROM s WHERE a > 1`, func(t *testing.T, p *Plan) {
			check(t, p.Target, "out")
			check(t, p.Source, "s")
			check(t, p.Columns, []string{"a", "b2", "upper"})
			if p.Window != nil || p.TopK != 0 || len(p.Aggs) != 0 {
				t.Fatalf("stateless plan has window/aggs: %+v", p)
			}
		}},
		{"settings", `SET watermark_delay = INTERVAL '5' SECOND; SET allowed_lateness = INTERVAL 1 MINUTE, max_skew = 2500;
			SET emit = 'changes'; SET start_position = 'latest'; SET late_rows = 'late-rows';
			SELECT COUNT(*) FROM s GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE)`, func(t *testing.T, p *Plan) {
			check(t, p.Settings, Settings{WatermarkDelay: 5000, AllowedLateness: 60000, MaxSkew: 2500,
				Emit: window.EmitChanges, StartPosition: "LATEST", LateRows: "late-rows"})
		}},
		{"defaults", `SELECT a FROM s`, func(t *testing.T, p *Plan) {
			check(t, p.Settings, Settings{MaxSkew: 60000, StartPosition: "TRIM_HORIZON"})
			check(t, p.Target, "")
		}},
		{"nexmark q5", `SELECT auction, COUNT(*) FROM bids GROUP BY auction, HOP(ts, INTERVAL '2' SECOND, INTERVAL '10' SECOND)`, func(t *testing.T, p *Plan) {
			check(t, *p.Window, window.Spec{Kind: window.Hop, Slide: 2000, Size: 10000})
			check(t, p.Aggs, []agg.Spec{{Kind: agg.Count, Star: true}})
			check(t, p.KeyNames, []string{"auction"})
			check(t, p.Columns, []string{"auction", "count"})
			check(t, p.Time, TimeColumn)
		}},
		{"tumble rowtime", `SELECT TUMBLE_START(ROWTIME, INTERVAL '1' HOUR) AS ws, MAX(price) FROM s GROUP BY TUMBLE(ROWTIME, INTERVAL '1' HOUR)`, func(t *testing.T, p *Plan) {
			check(t, *p.Window, window.Spec{Kind: window.Tumble, Size: 3_600_000})
			check(t, p.Time, TimeRowtime)
			check(t, p.Columns, []string{"ws", "max"})
		}},
		{"step by", `SELECT COUNT(*) AS n FROM s GROUP BY STEP(s.ROWTIME BY INTERVAL '60' SECOND)`, func(t *testing.T, p *Plan) {
			check(t, *p.Window, window.Spec{Kind: window.Tumble, Size: 60_000})
			check(t, p.Time, TimeRowtime)
		}},
		{"session proctime", `SELECT k, COUNT(*) AS n, SESSION_END(PROCTIME(), INTERVAL 30 SECONDS) FROM s GROUP BY k, SESSION(PROCTIME(), INTERVAL 30 SECONDS)`, func(t *testing.T, p *Plan) {
			check(t, *p.Window, window.Spec{Kind: window.Session, Gap: 30_000})
			check(t, p.Time, TimeProctime)
			check(t, p.Columns, []string{"k", "n", "session_end"})
		}},
		{"shared aggregates", `SELECT SUM(price)/COUNT(*) AS avg_price, COUNT(*) AS n, SUM(price), COUNT(DISTINCT bidder), APPROX_PERCENTILE(price, 0.95) AS p95,
			APPROX_COUNT_DISTINCT(bidder), FIRST_VALUE(price), LAST_VALUE(price), AVG(price), MIN(price), MAX(price)
			FROM bids GROUP BY TUMBLE(ts, INTERVAL '10' SECOND) HAVING n > 1`, func(t *testing.T, p *Plan) {
			check(t, p.Aggs, []agg.Spec{{Kind: agg.Sum}, {Kind: agg.Count, Star: true}, {Kind: agg.Count, Distinct: true},
				{Kind: agg.ApproxPercentile, Param: 0.95}, {Kind: agg.ApproxCountDistinct}, {Kind: agg.FirstValue},
				{Kind: agg.LastValue}, {Kind: agg.Avg}, {Kind: agg.Min}, {Kind: agg.Max}})
			check(t, p.Columns, []string{"avg_price", "n", "sum", "count", "p95", "approx_count_distinct", "first_value", "last_value", "avg", "min", "max"})
		}},
		{"top-k", `SELECT auction, c FROM (SELECT auction, COUNT(*) AS c, window_end FROM bids GROUP BY auction, TUMBLE(ts, INTERVAL '10' SECOND)) AS t
			WHERE c > 1 ORDER BY c DESC, auction LIMIT 3`, func(t *testing.T, p *Plan) {
			check(t, p.TopK, 3)
			check(t, p.Columns, []string{"auction", "c"})
			check(t, p.innerCols, []string{"auction", "c", "window_end"})
		}},
		{"top-k star", `INSERT INTO top SELECT * FROM (SELECT a, COUNT(*) AS c FROM s GROUP BY a, HOP(ts, INTERVAL '1' SECOND, INTERVAL '2' SECOND)) t ORDER BY 2 DESC LIMIT 1`, func(t *testing.T, p *Plan) {
			check(t, p.TopK, 1)
			check(t, p.Target, "top")
			check(t, p.Columns, []string{"a", "c"})
		}},
		{"json and backquotes", "SELECT `user-id`, payload->>'$.geo.city' AS city, JSON_EXTRACT(payload, '$.tags[0]') FROM `my-stream`", func(t *testing.T, p *Plan) {
			check(t, p.Source, "my-stream")
			check(t, p.Columns, []string{"user-id", "city", "0"})
		}},
		{"comments and trailing semicolon", "-- a comment\nSELECT a /* inline */ FROM s; # trailing\n", func(t *testing.T, p *Plan) {
			check(t, p.Columns, []string{"a"})
		}},
		{"duplicate default names", `SELECT UPPER(a), UPPER(b) FROM s`, func(t *testing.T, p *Plan) {
			check(t, p.Columns, []string{"upper", "upper_2"})
		}},
		{"group by expression", `SELECT a % 10 AS bucket, COUNT(*) FROM s GROUP BY a % 10, TUMBLE(ts, INTERVAL '1' MINUTE)`, func(t *testing.T, p *Plan) {
			check(t, p.KeyNames, []string{"a % 10"})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.want(t, mustCompile(t, tc.sql)) })
	}
}

func check[T any](t *testing.T, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

// evalExpr evaluates expr over one record with a stateless plan.
func evalExpr(t *testing.T, expr, record string) value.Value {
	t.Helper()
	p := mustCompile(t, "SELECT "+expr+" AS v FROM s")
	ev := p.NewEvaluator()
	in, keep, err := ev.Input([]byte(record), 1_000, 2_000)
	if err != nil || !keep {
		t.Fatalf("Input(%s) = keep %v, err %v", record, keep, err)
	}
	return in.Row[0].Value
}

func TestExpressions(t *testing.T) {
	rec := `{"i": 7, "j": 2, "f": 1.5, "s": "Hello", "n": null, "b": true, "big": 1e3, "neg": -3,
		"ts": "2026-11-22T03:04:05.678Z", "ms": 1000, "obj": {"a": {"b": "deep"}, "n": [1, 2]}, "arr": [10, "x"], "sp": "  x  ",
		"pct": "50%", "num": "12"}`
	ts := int64(1795316645678)
	tests := []struct {
		expr string
		want value.Value
	}{
		{"i", value.Int(7)},
		{"f", value.Float(1.5)},
		{"big", value.Int(1000)},
		{"s", value.String("Hello")},
		{"n", value.Null},
		{"missing", value.Null},
		{"b", value.Bool(true)},
		{"obj", value.String(`{"a":{"b":"deep"},"n":[1,2]}`)},
		{"arr", value.String(`[10,"x"]`)},
		{"obj->>'$.a.b'", value.String("deep")},
		{"obj->'$.n[1]'", value.Int(2)},
		{"JSON_EXTRACT(obj, '$.a')", value.String(`{"b":"deep"}`)},
		{"obj->>'$.nope.x'", value.Null},
		{"i + j", value.Int(9)},
		{"i - j * 2", value.Int(3)},
		{"i / j", value.Float(3.5)},
		{"i DIV j", value.Int(3)},
		{"i % j", value.Int(1)},
		{"MOD(neg, j)", value.Int(-1)},
		{"i / 0", value.Null},
		{"i % 0", value.Null},
		{"i + f", value.Float(8.5)},
		{"i + n", value.Null},
		{"-i", value.Int(-7)},
		{"num + 1", value.Float(13)},
		{"i = 7", value.Bool(true)},
		{"i <> 7", value.Bool(false)},
		{"f < i", value.Bool(true)},
		{"num = 12", value.Bool(true)},
		{"n = 1", value.Null},
		{"n <=> NULL", value.Bool(true)},
		{"i > 1 AND n = 1", value.Null},
		{"i < 1 AND n = 1", value.Bool(false)},
		{"i > 1 OR n = 1", value.Bool(true)},
		{"i < 1 OR n = 1", value.Null},
		{"NOT (n = 1)", value.Null},
		{"NOT b", value.Bool(false)},
		{"i IN (1, 7)", value.Bool(true)},
		{"i IN (1, 2)", value.Bool(false)},
		{"i IN (1, NULL)", value.Null},
		{"i NOT IN (1, 2)", value.Bool(true)},
		{"s IN ('Hello', 'x')", value.Bool(true)},
		{"i BETWEEN 7 AND 8", value.Bool(true)},
		{"i NOT BETWEEN 7 AND 8", value.Bool(false)},
		{"s LIKE 'He%'", value.Bool(true)},
		{"s LIKE '%lo'", value.Bool(true)},
		{"s LIKE '%ell%'", value.Bool(true)},
		{"s LIKE 'H_llo'", value.Bool(true)},
		{"s LIKE 'h%'", value.Bool(false)},
		{"s NOT LIKE 'x%'", value.Bool(true)},
		{"pct LIKE '50!%' ESCAPE '!'", value.Bool(true)},
		{"pct LIKE '5_!%' ESCAPE '!'", value.Bool(true)},
		{"s LIKE 'H!_llo' ESCAPE '!'", value.Bool(false)},
		{"CAST(f AS DOUBLE PRECISION)", value.Float(1.5)},
		{"CAST(i AS VARCHAR(10))", value.String("7")},
		{"s REGEXP '^H.*o$'", value.Bool(true)},
		{"n IS NULL", value.Bool(true)},
		{"i IS NOT NULL", value.Bool(true)},
		{"b IS TRUE", value.Bool(true)},
		{"n IS NOT TRUE", value.Bool(true)},
		{"CASE WHEN i > 5 THEN 'big' ELSE 'small' END", value.String("big")},
		{"CASE i WHEN 1 THEN 'one' WHEN 7 THEN 'seven' END", value.String("seven")},
		{"CASE WHEN n = 1 THEN 1 END", value.Null},
		{"CAST(s AS CHAR)", value.String("Hello")},
		{"CAST(num AS SIGNED)", value.Int(12)},
		{"CAST(num AS BIGINT)", value.Int(12)},
		{"CAST(i AS DOUBLE)", value.Float(7)},
		{"CAST(i AS VARCHAR)", value.String("7")},
		{"CAST('true' AS BOOLEAN)", value.Bool(true)},
		{"CAST(ms AS TIMESTAMP)", value.Time(1000)},
		{"CAST(f AS DECIMAL(10, 2))", value.Float(1.5)},
		{"COALESCE(n, missing, i)", value.Int(7)},
		{"IFNULL(n, 'd')", value.String("d")},
		{"NULLIF(i, 7)", value.Null},
		{"IF(i > 1, 'y', 'n')", value.String("y")},
		{"UPPER(s)", value.String("HELLO")},
		{"LOWER(s)", value.String("hello")},
		{"LENGTH(s)", value.Int(5)},
		{"CHAR_LENGTH('héllo')", value.Int(5)},
		{"LENGTH('héllo')", value.Int(6)},
		{"SUBSTRING(s, 2, 3)", value.String("ell")},
		{"SUBSTRING(s FROM 2)", value.String("ello")},
		{"SUBSTRING(UPPER(s) FROM 2 FOR 2)", value.String("EL")},
		{"SUBSTR(s, -3)", value.String("llo")},
		{"MID(s, 1, 1)", value.String("H")},
		{"LEFT(s, 2)", value.String("He")},
		{"RIGHT(s, 2)", value.String("lo")},
		{"CONCAT(s, '-', i)", value.String("Hello-7")},
		{"CONCAT(s, n)", value.Null},
		{"TRIM(sp)", value.String("x")},
		{"REPLACE(s, 'l', 'L')", value.String("HeLLo")},
		{"LOCATE('l', s)", value.Int(3)},
		{"LOCATE('l', s, 4)", value.Int(4)},
		{"POSITION('lo' IN s)", value.Int(4)},
		{"INSTR(s, 'z')", value.Int(0)},
		{"ABS(neg)", value.Int(3)},
		{"ROUND(2.567, 2)", value.Float(2.57)},
		{"ROUND(f)", value.Float(2)},
		{"FLOOR(f)", value.Int(1)},
		{"CEIL(f)", value.Int(2)},
		{"GREATEST(i, j, 3)", value.Int(7)},
		{"LEAST(i, j)", value.Int(2)},
		{"POWER(j, 10)", value.Float(1024)},
		{"TO_TIMESTAMP(ms)", value.Time(1000)},
		{"TO_TIMESTAMP(ts)", value.Time(ts)},
		{"UNIX_MILLIS(ts)", value.Int(ts)},
		{"UNIX_TIMESTAMP(ts)", value.Int(ts / 1000)},
		{"FROM_UNIXTIME(2)", value.Time(2000)},
		{"HOUR(ts)", value.Int(3)},
		{"MINUTE(ts)", value.Int(4)},
		{"SECOND(ts)", value.Int(5)},
		{"YEAR(ts)", value.Int(2026)},
		{"MONTH(ts)", value.Int(11)},
		{"DAY(ts)", value.Int(22)},
		{"EXTRACT(HOUR FROM ts)", value.Int(3)},
		{"EXTRACT(MILLISECOND FROM ts)", value.Int(678)},
		{"FLOOR(ts TO MINUTE)", value.Time(ts - 5678)},
		{"CEIL(ts TO SECOND)", value.Time(ts - 678 + 1000)},
		{"FLOOR(ts, INTERVAL '10' SECOND)", value.Time(ts - 5678)},
		{"FLOOR(ts TO MONTH)", value.Time(1793491200000)},
		{"DATE_FORMAT(ts, '%Y-%m-%d %H:%i:%s.%f')", value.String("2026-11-22 03:04:05.678000")},
		{"TO_TIMESTAMP(ts) + INTERVAL '1' SECOND", value.Time(ts + 1000)},
		{"TO_TIMESTAMP(ts) - TO_TIMESTAMP(ms)", value.Int(ts - 1000)},
		{"TIMESTAMP '1970-01-01T00:00:01Z'", value.Time(1000)},
		{"ROWTIME", value.Time(1000)},
		{"PROCTIME()", value.Time(2000)},
		{"NOW()", value.Time(2000)},
		{"CURRENT_TIMESTAMP", value.Time(2000)},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			got := evalExpr(t, tc.expr, rec)
			if got != tc.want {
				t.Fatalf("%s = %#v, want %#v", tc.expr, got, tc.want)
			}
		})
	}
}

func TestWhere(t *testing.T) {
	p := mustCompile(t, `SELECT a FROM s WHERE a > 1 AND b IS NULL`)
	ev := p.NewEvaluator()
	tests := []struct {
		rec  string
		keep bool
	}{
		{`{"a": 2}`, true},
		{`{"a": 2, "b": 1}`, false},
		{`{"a": 1}`, false},
		{`{"b": null}`, false}, // a > 1 is NULL: not kept
	}
	for _, tc := range tests {
		_, keep, err := ev.Input([]byte(tc.rec), 0, 0)
		if err != nil || keep != tc.keep {
			t.Errorf("%s: keep %v err %v, want keep %v", tc.rec, keep, err, tc.keep)
		}
	}
	for _, bad := range []string{`[1]`, `not json`, `"s"`} {
		if _, _, err := ev.Input([]byte(bad), 0, 0); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}

func TestWindowedInputOutput(t *testing.T) {
	p := mustCompile(t, `SELECT auction, window_start, HOP_END(ts, INTERVAL '2' SECOND, INTERVAL '10' SECOND) AS e,
		COUNT(*) AS n, SUM(price) / COUNT(*) AS avg_price, MAX(price) - MIN(price) AS spread
		FROM bids WHERE price > 0
		GROUP BY auction, HOP(ts, INTERVAL '2' SECOND, INTERVAL '10' SECOND) HAVING n >= 2`)
	ev := p.NewEvaluator()
	in, keep, err := ev.Input([]byte(`{"auction": 42, "price": 10, "ts": "1970-01-01T00:00:05Z"}`), 100, 200)
	if err != nil || !keep {
		t.Fatal(keep, err)
	}
	check(t, in.EventTime, int64(5000))
	check(t, in.Keys, []value.Value{value.Int(42)})
	check(t, in.Key, value.AppendKey(nil, value.Int(42)))
	// Aggs: COUNT(*), SUM(price), MAX(price), MIN(price).
	check(t, in.Args, []value.Value{value.Int(1), value.Int(10), value.Int(10), value.Int(10)})
	check(t, len(p.Aggs), 4)

	if _, _, err := ev.Input([]byte(`{"auction": 1, "price": 3}`), 0, 0); !errors.Is(err, errNoTime) {
		t.Fatalf("missing time: err = %v", err)
	}
	if _, keep, _ := ev.Input([]byte(`{"auction": 1, "price": 0, "ts": 1}`), 0, 0); keep {
		t.Fatal("WHERE should reject price 0")
	}

	row, keep := ev.Output(Group{Keys: []value.Value{value.Int(42)}, Aggs: []value.Value{value.Int(4), value.Int(30), value.Int(12), value.Int(3)}, Start: 0, End: 10000})
	if !keep {
		t.Fatal("HAVING rejected n = 4")
	}
	check(t, row, []value.Column{
		{Name: "auction", Value: value.Int(42)},
		{Name: "window_start", Value: value.Time(0)},
		{Name: "e", Value: value.Time(10000)},
		{Name: "n", Value: value.Int(4)},
		{Name: "avg_price", Value: value.Float(7.5)},
		{Name: "spread", Value: value.Int(9)},
	})
	if _, keep := ev.Output(Group{Keys: []value.Value{value.Int(1)}, Aggs: []value.Value{value.Int(1), value.Int(1), value.Int(1), value.Int(1)}}); keep {
		t.Fatal("HAVING kept n = 1")
	}
}

func TestTimeKinds(t *testing.T) {
	tests := []struct {
		sql  string
		want int64
	}{
		{`SELECT COUNT(*) FROM s GROUP BY TUMBLE(ROWTIME, INTERVAL '1' SECOND)`, 111},
		{`SELECT COUNT(*) FROM s GROUP BY TUMBLE(PROCTIME(), INTERVAL '1' SECOND)`, 222},
		{`SELECT COUNT(*) FROM s GROUP BY TUMBLE(t, INTERVAL '1' SECOND)`, 5},
		{`SELECT COUNT(*) FROM s GROUP BY TUMBLE(TO_TIMESTAMP(t * 1000), INTERVAL '1' SECOND)`, 5000},
	}
	for _, tc := range tests {
		t.Run(tc.sql, func(t *testing.T) {
			in, _, err := mustCompile(t, tc.sql).NewEvaluator().Input([]byte(`{"t": 5}`), 111, 222)
			if err != nil || in.EventTime != tc.want {
				t.Fatalf("EventTime = %d, %v; want %d", in.EventTime, err, tc.want)
			}
		})
	}
}

func TestTopRows(t *testing.T) {
	p := mustCompile(t, `SELECT a, c * 10 AS c10 FROM (SELECT a, COUNT(*) AS c FROM s GROUP BY a, TUMBLE(ts, INTERVAL '1' MINUTE)) AS t
		WHERE a <> 'skip' ORDER BY c DESC LIMIT 2`)
	ev := p.NewEvaluator()
	var rows [][]value.Column
	for _, r := range []struct {
		a string
		c int64
	}{{"x", 1}, {"skip", 9}, {"z", 3}, {"b", 3}, {"y", 2}} {
		row, keep := ev.Output(Group{Keys: []value.Value{value.String(r.a)}, Aggs: []value.Value{value.Int(r.c)}})
		if !keep {
			t.Fatal("no HAVING, yet rejected")
		}
		rows = append(rows, append([]value.Column(nil), row...))
	}
	got := ev.TopRows(rows)
	// c = 3 ties between z and b are broken by the row values: b first.
	want := [][]value.Column{
		{{Name: "a", Value: value.String("b")}, {Name: "c10", Value: value.Int(30)}},
		{{Name: "a", Value: value.String("z")}, {Name: "c10", Value: value.Int(30)}},
	}
	check(t, got, want)
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name      string
		sql       string
		line, col int
		msg       string // a substring of the message
	}{
		{"syntax error", "SELECT a\nFROM s\nWHERE a = = 1", 3, 11, "syntax error near '='"},
		{"syntax error at end", "SELECT a FROM s WHERE", 1, 22, "ends too early"},
		{"unterminated string", "SELECT a FROM s WHERE a = 'x", 1, 27, "unterminated string"},
		{"subquery without alias", "SELECT * FROM (SELECT a, COUNT(*) AS c FROM s GROUP BY a, TUMBLE(ts, INTERVAL '1' MINUTE)) ORDER BY c LIMIT 1", 1, 92, "needs an alias"},
		{"unknown interval unit", "SELECT COUNT(*) FROM s\nGROUP BY TUMBLE(ts, INTERVAL '1' FORTNIGHT)", 2, 34, "unknown interval unit FORTNIGHT"},
		{"fractional interval", "SELECT COUNT(*) FROM s GROUP BY TUMBLE(ts, INTERVAL '1.5' SECOND)", 1, 44, "INTERVAL '1500' MILLISECOND"},
		{"zero interval", "SELECT COUNT(*) FROM s GROUP BY TUMBLE(ts, INTERVAL '0' SECOND)", 1, 44, "positive"},
		{"window not an interval", "SELECT COUNT(*) FROM s GROUP BY TUMBLE(ts, 5)", 1, 40, "takes intervals"},
		{"tumble one arg", "SELECT COUNT(*) FROM s GROUP BY TUMBLE(ts)", 1, 33, "TUMBLE takes 2 arguments"},
		{"hop two args", "SELECT COUNT(*) FROM s GROUP BY HOP(ts, INTERVAL '1' SECOND)", 1, 33, "HOP takes 3 arguments"},
		{"hop size < slide", "SELECT COUNT(*) FROM s GROUP BY HOP(ts, INTERVAL '10' SECOND, INTERVAL '1' SECOND)", 1, 33, "shorter than its slide"},
		{"session three args", "SELECT COUNT(*) FROM s GROUP BY SESSION(ts, INTERVAL '1' SECOND, INTERVAL '1' SECOND)", 1, 33, "SESSION takes 2 arguments"},
		{"two windows", "SELECT COUNT(*) FROM s GROUP BY TUMBLE(ts, INTERVAL '1' SECOND), TUMBLE(ts, INTERVAL '2' SECOND)", 1, 66, "one window"},
		{"count two args", "SELECT COUNT(a, b) FROM s GROUP BY TUMBLE(ts, INTERVAL '1' SECOND)", 1, 8, "COUNT takes 1 argument"},
		{"sum star", "SELECT SUM(*) FROM s GROUP BY TUMBLE(ts, INTERVAL '1' SECOND)", 1, 8, "only COUNT takes *"},
		{"percentile param", "SELECT APPROX_PERCENTILE(x, 2) FROM s GROUP BY TUMBLE(ts, INTERVAL '1' SECOND)", 1, 8, "between 0 and 1"},
		{"distinct first_value", "SELECT FIRST_VALUE(DISTINCT x) FROM s GROUP BY TUMBLE(ts, INTERVAL '1' SECOND)", 1, 8, "does not take DISTINCT"},
		{"nested aggregate", "SELECT SUM(COUNT(*)) FROM s GROUP BY TUMBLE(ts, INTERVAL '1' SECOND)", 1, 12, "not allowed in an aggregate's argument"},
		{"unknown function", "SELECT a\nFROM s\nWHERE b = 1 AND\n  foo(b) = 2", 4, 3, "unknown function foo"},
		{"scalar wrong arity", "SELECT UPPER(a, b) FROM s", 1, 8, "UPPER takes 1 argument"},
		{"unbounded count", "SELECT COUNT(*) FROM s", 1, 8, "unbounded aggregate: the stream never ends, so add a window to GROUP BY"},
		{"unbounded group by", "SELECT a, COUNT(*) FROM s\nGROUP BY a", 2, 1, "unbounded aggregate"},
		{"aggregate in where", "SELECT a FROM s WHERE COUNT(*) > 1", 1, 23, "use HAVING"},
		{"having without window", "SELECT a FROM s HAVING a > 1", 1, 17, "HAVING needs a window"},
		{"join", "SELECT a FROM s JOIN t ON s.a = t.a", 1, 17, "join of two unbounded streams"},
		{"comma join", "SELECT a FROM s, t", 1, 16, "join of two unbounded streams"},
		{"double-quoted", "SELECT a\nFROM s WHERE b = \"x\"", 2, 18, "write `x` or x for an identifier, 'x' for a string"},
		{"double quote in backquotes ok but in string not", "SELECT `a\"b` FROM s WHERE c = 'say \"hi\"' AND d = \"q\"", 1, 50, "double quotes"},
		{"unknown setting", "SET speed = 'fast';\nSELECT a FROM s", 1, 5, "unknown setting speed"},
		{"bad emit", "SET emit = 'sometimes'; SELECT a FROM s", 1, 5, "'final' or 'changes'"},
		{"bad start position", "SET start_position = 'middle'; SELECT a FROM s", 1, 5, "TRIM_HORIZON"},
		{"bad duration", "SET watermark_delay = 'soon'; SELECT a FROM s", 1, 5, "INTERVAL '5' SECOND"},
		{"negative duration", "SET max_skew = -5; SELECT a FROM s", 1, 5, "positive"},
		{"bad late_rows", "SET late_rows = 'a b'; SELECT a FROM s", 1, 5, "late_rows must name a stream"},
		{"set after query", "SELECT a FROM s; SET emit = 'final'", 1, 18, "SET must come before the query"},
		{"two queries", "SELECT a FROM s;\n  SELECT b FROM t", 2, 3, "one query"},
		{"no query", "SET emit = 'final';", 1, 20, "no query"},
		{"empty", "  -- nothing\n", 2, 1, "no query"},
		{"non-aggregated column", "SELECT a, b FROM s GROUP BY a, TUMBLE(ts, INTERVAL '1' MINUTE)", 1, 11, "column b must be in GROUP BY"},
		{"window fn mismatched kind", "SELECT HOP_START(ts, INTERVAL '1' MINUTE, INTERVAL '2' MINUTE) FROM s GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE)", 1, 8, "does not match the window TUMBLE"},
		{"window fn mismatched args", "SELECT TUMBLE_END(ts, INTERVAL '2' MINUTE) FROM s GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE)", 1, 8, "same intervals"},
		{"window fn mismatched time", "SELECT TUMBLE_END(other, INTERVAL '1' MINUTE) FROM s GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE)", 1, 8, "repeat the window's arguments"},
		{"window fn without window", "SELECT TUMBLE_START(ts, INTERVAL '1' MINUTE) FROM s", 1, 8, "needs its window in GROUP BY"},
		{"window in select", "SELECT TUMBLE(ts, INTERVAL '1' MINUTE) FROM s", 1, 8, "belongs in GROUP BY"},
		{"window_start without window", "SELECT window_start FROM s", 1, 8, "window_start is only defined"},
		{"order by on stream", "SELECT a FROM s\nORDER BY a LIMIT 3", 2, 1, "with a subquery"},
		{"limit on window query", "SELECT COUNT(*) FROM s GROUP BY TUMBLE(ts, INTERVAL '1' SECOND) LIMIT 3", 1, 65, "rank each window's rows with a subquery"},
		{"subquery without order", "SELECT * FROM (SELECT a, COUNT(*) AS c FROM s GROUP BY a, TUMBLE(ts, INTERVAL '1' MINUTE)) AS t", 1, 10, "add ORDER BY ... LIMIT k"},
		{"top-k over stateless", "SELECT * FROM (SELECT a FROM s) AS t ORDER BY a LIMIT 3", 1, 16, "needs a window in GROUP BY"},
		{"top-k over session", "SELECT * FROM (SELECT a, COUNT(*) AS c FROM s GROUP BY a, SESSION(ts, INTERVAL '1' MINUTE)) AS t ORDER BY c DESC LIMIT 3", 1, 16, "SESSION"},
		{"top-k with changes", "SET emit = 'changes';\nSELECT * FROM (SELECT a, COUNT(*) AS c FROM s GROUP BY a, TUMBLE(ts, INTERVAL '1' MINUTE)) AS t ORDER BY c DESC LIMIT 3", 1, 5, "emit = 'changes'"},
		{"top-k bad limit", "SELECT * FROM (SELECT a, COUNT(*) AS c FROM s GROUP BY a, TUMBLE(ts, INTERVAL '1' MINUTE)) AS t ORDER BY c DESC LIMIT 0", 1, 113, "LIMIT takes a whole number"},
		{"top-k unknown column", "SELECT zz FROM (SELECT a, COUNT(*) AS c FROM s GROUP BY a, TUMBLE(ts, INTERVAL '1' MINUTE)) AS t ORDER BY c DESC LIMIT 1", 1, 8, "not a column of the subquery"},
		{"distinct", "SELECT DISTINCT a FROM s", 1, 8, "SELECT DISTINCT is not supported"},
		{"subquery in where", "SELECT a FROM s WHERE a IN (SELECT b FROM t)", 1, 25, "subqueries are not supported"},
		{"select star", "SELECT * FROM s", 1, 8, "list the columns you need"},
		{"update", "UPDATE s SET a = 1", 1, 1, "UPDATE statements are not"},
		{"delete", "DELETE FROM s", 1, 1, "DELETE statements are not"},
		{"create", "CREATE TABLE t (a INT)", 1, 1, "CREATE statements are not"},
		{"union", "SELECT a FROM s UNION SELECT a FROM t", 1, 17, "UNION is not supported"},
		{"insert values", "INSERT INTO out VALUES (1)", 1, 13, "needs a SELECT"},
		{"insert column list", "INSERT INTO out (a) SELECT a FROM s", 1, 13, "takes no column list"},
		{"unknown qualifier", "SELECT x.a FROM s", 1, 8, "unknown table x"},
		{"duplicate alias", "SELECT a AS k, b AS k FROM s", 1, 21, "duplicate output column k"},
		{"bad cast type", "SELECT CAST(a AS WIDGET) FROM s", 1, 8, "cannot CAST to WIDGET"},
		{"json path on expression", "SELECT JSON_EXTRACT(UPPER(a), '$.b') FROM s", 1, 8, "applies to a column"},
		{"bad json path", "SELECT a->>'b' FROM s", 1, 8, "must start with $"},
		{"bitwise", "SELECT a | 1 FROM s", 1, 10, "bitwise operator"},
		{"position after a rewrite", "SELECT CAST(a AS BOOLEAN), EXTRACT(HOUR FROM t), foo(b) FROM s", 1, 50, "unknown function foo"},
		{"position counts characters", "SELECT 'héllo', bar(x) FROM s", 1, 17, "unknown function bar"},
		{"internal source stream", "SELECT a FROM `firehose:x`", 1, 15, `stream name "firehose:x" is invalid`},
		{"internal target stream", "INSERT INTO `firehose:x` SELECT a FROM s", 1, 13, `stream name "firehose:x" is invalid`},
		{"bind variable", "SELECT a FROM s WHERE a = ?", 1, 27, "bind variable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile(tc.sql)
			var qe *Error
			if !errors.As(err, &qe) {
				t.Fatalf("Compile = %+v, %v; want a *Error", p, err)
			}
			if qe.Line != tc.line || qe.Column != tc.col || !strings.Contains(qe.Msg, tc.msg) {
				t.Fatalf("got %v\nwant line %d, column %d: ...%s...", qe, tc.line, tc.col, tc.msg)
			}
			if !strings.HasPrefix(qe.Error(), "line ") {
				t.Fatalf("Error() = %q", qe.Error())
			}
		})
	}
}

func TestPlanIsShareable(t *testing.T) {
	p := mustCompile(t, `SELECT k, COUNT(*) AS n FROM s WHERE name LIKE 'a%' GROUP BY k, TUMBLE(ts, INTERVAL '1' SECOND)`)
	done := make(chan value.Value)
	for g := range 2 {
		go func() {
			ev := p.NewEvaluator()
			var last value.Value
			for i := range 1000 {
				in, keep, err := ev.Input([]byte(`{"k": `+string(rune('0'+g))+`, "name": "ab", "ts": 1}`), int64(i), int64(i))
				if err == nil && keep {
					last = in.Keys[0]
				}
			}
			done <- last
		}()
	}
	got := map[int64]bool{}
	for range 2 {
		got[(<-done).I] = true
	}
	if !got[0] || !got[1] {
		t.Fatalf("keys = %v", got)
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		`SELECT auction, COUNT(*) FROM bids GROUP BY auction, HOP(ts, INTERVAL '2' SECOND, INTERVAL '10' SECOND)`,
		`SET emit = 'changes'; INSERT INTO o SELECT a->>'$.b.c', CAST(x AS DOUBLE), EXTRACT(HOUR FROM ts) FROM s WHERE a LIKE 'x%' AND b IN (1, 2)`,
		`SELECT * FROM (SELECT a, COUNT(*) AS c FROM s GROUP BY a, TUMBLE(ts, INTERVAL '1' MINUTE)) AS t ORDER BY c DESC LIMIT 3`,
		`SELECT CASE WHEN a THEN SUBSTRING(b FROM 1 FOR 2) ELSE TIMESTAMP '2020-01-01' END FROM s`,
		"SELECT `a` FROM s -- c\n; /* x */",
		`SELECT "x" FROM s`,
	} {
		f.Add(s)
	}
	// Deep scripts, at and just past the limits: short, so mutations run
	// fast (TestLimits has the 100 KiB ones; the corpus has one too).
	for _, unit := range []string{"!", "- ", "NOT ", "(", "1+", "a OR ", "UPPER(", "CASE WHEN a THEN ", "!("} {
		f.Add("SELECT " + strings.Repeat(unit, MaxDepth+1) + "1 AS x FROM s")
	}
	f.Add("SELECT " + strings.Repeat("(", MaxDepth-1) + "a" + strings.Repeat(")", MaxDepth-1) + " FROM s")
	f.Add("SELECT " + strings.Repeat("a+", MaxDepth-2) + "a FROM s")
	f.Add("SELECT CASE " + strings.Repeat("WHEN a THEN CASE ", 40) + "1" + strings.Repeat(" END", 40) + " END FROM s")
	f.Add("SELECT COUNT(*), " + strings.Repeat("SUM(a+1), ", 50) + "a FROM s GROUP BY a, TUMBLE(ts, INTERVAL '1' MINUTE)")
	f.Fuzz(func(t *testing.T, sql string) {
		p, err := Compile(sql)
		if err != nil {
			var qe *Error
			if !errors.As(err, &qe) || qe.Line < 1 || qe.Column < 1 || qe.Offset < 0 || qe.Offset > len(sql) {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		// A compiled plan must evaluate any record without panicking.
		ev := p.NewEvaluator()
		for _, rec := range []string{`{}`, `{"a": 1, "b": "x", "ts": 5, "c": [1], "x": null}`, `{"a": "2026-01-01T00:00:00Z", "ts": -1e300}`} {
			in, keep, err := ev.Input([]byte(rec), 1, 2)
			if err != nil || !keep || p.Window == nil {
				continue
			}
			row, keep := ev.Output(Group{Keys: in.Keys, Aggs: in.Args, Start: 0, End: 10})
			if keep && p.TopK > 0 {
				ev.TopRows([][]value.Column{append([]value.Column(nil), row...)})
			}
		}
	})
}

func BenchmarkInput(b *testing.B) {
	p := mustCompile(b, `SELECT auction, COUNT(*) FROM bids GROUP BY auction, HOP(ts, INTERVAL '2' SECOND, INTERVAL '10' SECOND)`)
	ev := p.NewEvaluator()
	rec := []byte(`{"auction":1042,"bidder":73511,"price":18743,"channel":"Google","url":"https://www.nexmark.com/k/item.htm?query=1","ts":1795316645678,"extra":""}`)
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		if _, keep, err := ev.Input(rec, 1, 2); err != nil || !keep {
			b.Fatal(err)
		}
	}
}

func BenchmarkInputRFC3339(b *testing.B) {
	p := mustCompile(b, `SELECT bidder, MAX(price) FROM bids WHERE price > 100 GROUP BY bidder, TUMBLE(ts, INTERVAL '10' SECOND)`)
	ev := p.NewEvaluator()
	rec := []byte(`{"auction":1042,"bidder":73511,"price":18743.5,"channel":"Google","url":"https://www.nexmark.com/k/item.htm","ts":"2026-11-22T03:04:05.678Z"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, keep, err := ev.Input(rec, 1, 2); err != nil || !keep {
			b.Fatal(err)
		}
	}
}
