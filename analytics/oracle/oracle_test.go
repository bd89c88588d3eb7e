package oracle

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/spatehq/spate/analytics"
	"github.com/spatehq/spate/analytics/value"
)

// settings are a script's SET statements, in milliseconds (whole seconds,
// so that they read as INTERVAL 'n' SECOND).
type settings struct {
	delay, lateness, maxSkew int64
}

func (s settings) script() string {
	return fmt.Sprintf("SET watermark_delay = INTERVAL '%d' SECOND;\nSET allowed_lateness = INTERVAL '%d' SECOND;\nSET max_skew = INTERVAL '%d' SECOND;\n",
		s.delay/1000, s.lateness/1000, s.maxSkew/1000)
}

// The exact aggregates every windowed case computes, in Spate and in
// PostgreSQL, and how each is compared.
const (
	spateAggs = `COUNT(*) AS c, COUNT(price) AS cp, SUM(v) AS s, MIN(price) AS lo, MAX(price) AS hi,
		AVG(price) AS a, COUNT(DISTINCT v) AS dv, MIN(v) AS vlo, MAX(v) AS vhi`
	pgAggs = `count(*), count(price), sum(v), min(price), max(price),
		avg(price), count(DISTINCT v), min(v), max(v)`
)

var aggCols = []column{
	{"c", exact}, {"cp", exact}, {"s", exact}, {"lo", exact}, {"hi", exact},
	{"a", relative(1e-9)}, {"dv", exact}, {"vlo", exact}, {"vhi", exact},
}

// The approximate aggregates, with the exact figures PostgreSQL checks
// them against (the sorted prices for the percentiles).
const (
	spateApprox = `COUNT(*) AS c, APPROX_COUNT_DISTINCT(uid) AS du, APPROX_PERCENTILE(price, 0.5) AS p50,
		APPROX_PERCENTILE(price, 0.99) AS p99`
	pgApprox = `count(*), count(DISTINCT uid), string_agg(price::text, ' ' ORDER BY price),
		string_agg(price::text, ' ' ORDER BY price)`
)

var approxCols = []column{{"c", exact}, {"du", approxDistinct}, {"p50", percentile(0.5)}, {"p99", percentile(0.99)}}

// epochMs is PostgreSQL for "this timestamptz as epoch milliseconds".
func epochMs(expr string) string { return "(extract(epoch FROM " + expr + ") * 1000)::bigint" }

// pgTumble groups by date_bin windows of sizeSec seconds over the column
// ms (epoch ms), keyed by the column key (empty: one group per window).
func pgTumble(key string, sizeSec int, ms, aggs string) string {
	size := fmt.Sprintf("interval '%d seconds'", sizeSec)
	keyCol, keyGroup := "", ""
	if key != "" {
		keyCol, keyGroup = key+", ", key+", "
	}
	return `WITH w AS (
		SELECT ev.*, date_bin(` + size + `, timestamptz 'epoch' + ` + ms + ` * interval '1 millisecond', timestamptz 'epoch') AS ws FROM ev)
	SELECT ` + keyCol + epochMs("ws") + `, ` + epochMs("ws + "+size) + `, ` + aggs + `
	FROM w GROUP BY ` + keyGroup + `ws`
}

// pgHop assigns each row to every window [s, s+size) that contains it,
// s a multiple of slide (generate_series of the starts), except windows
// that had already fired when the row arrived (end + lateness <= the
// watermark then): the engine emitted those before it saw the row.
func pgHop(slideMs, sizeMs, latenessMs int64, aggs string) string {
	return fmt.Sprintf(`WITH w AS (
		SELECT ev.*, s AS ws FROM ev, generate_series((ts_ms - %[2]d + %[1]d) / %[1]d * %[1]d, ts_ms / %[1]d * %[1]d, %[1]d) AS s
		WHERE s + %[2]d + %[3]d > wm)
	SELECT sensor, ws, ws + %[2]d, %[4]s FROM w GROUP BY sensor, ws`, slideMs, sizeMs, latenessMs, aggs)
}

// pgSession is gaps-and-islands: per sensor, in event-time order, a row starts
// a new session when it is gap or more after the previous one; a session
// ends gap after its last row.
func pgSession(gapMs int64, aggs string) string {
	return fmt.Sprintf(`WITH o AS (
		SELECT ev.*, CASE WHEN ts_ms - lag(ts_ms) OVER (PARTITION BY sensor ORDER BY ts_ms, seq) < %[1]d THEN 0 ELSE 1 END AS brk FROM ev),
	s AS (
		SELECT o.*, sum(brk) OVER (PARTITION BY sensor ORDER BY ts_ms, seq ROWS UNBOUNDED PRECEDING) AS sid FROM o)
	SELECT sensor, min(ts_ms), max(ts_ms) + %[1]d, %[2]s FROM s GROUP BY sensor, sid`, gapMs, aggs)
}

// windowCase is one windowed query run through the engine (in one or more
// spellings that must give the same rows) and through PostgreSQL.
type windowCase struct {
	name    string
	cfg     Config
	rule    windowRule
	set     settings
	scripts []string
	cols    []column
	nkey    int
	pg      string
}

func (c windowCase) run(t *testing.T, db *postgres) {
	events := Generate(c.cfg)
	x := split(events, c.rule, c.set)
	// The data must exercise what the case is about.
	if c.cfg.LateEvery > 0 && len(x.late) == 0 {
		t.Fatalf("generator produced no late rows for %s", c.name)
	}
	want := db.query(t, x.kept, x.keptWM, c.pg)[0]
	if len(want) < 10 {
		t.Fatalf("oracle returned only %d groups; the case tests too little", len(want))
	}
	t.Logf("%d records: %d kept, %d late, %d bad; the oracle has %d groups", len(events), len(x.kept), len(x.late), x.bad, len(want))
	for i, script := range c.scripts {
		// Each spelling of the query is a subtest, so a failure names it.
		t.Run(fmt.Sprintf("spelling %d", i+1), func(t *testing.T) {
			res := evaluate(t, c.set.script()+script, events)
			if res.Late != int64(len(x.late)) {
				t.Errorf("Late = %d, want %d (of %d records)", res.Late, len(x.late), len(events))
			}
			if res.Bad != int64(x.bad) {
				t.Errorf("Bad = %d, want %d", res.Bad, x.bad)
			}
			if !slices.EqualFunc(res.LateRows, x.late, bytes.Equal) {
				t.Errorf("LateRows has %d records, want the %d late ones in input order", len(res.LateRows), len(x.late))
			}
			compareGroups(t, res, c.cols, c.nkey, want)
		})
	}
}

func evaluate(t *testing.T, script string, events []Event) analytics.EvalResult {
	t.Helper()
	records := make([]analytics.EvalRecord, len(events))
	for i, e := range events {
		records[i] = analytics.EvalRecord{Data: e.Data, ArrivalMs: e.ArrivalMs}
	}
	res, err := analytics.Evaluate(context.Background(), script, records)
	if err != nil {
		t.Fatalf("Evaluate:\n%s\n: %v", script, err)
	}
	return res
}

// base is the event set most cases start from: 50 keys, about 100 rows a
// second for 200 s, shuffled by up to 5 s, a straggler every 97 rows, a
// fast-clock row every 501 and a malformed record every 211.
var base = Config{
	Seed: 1, N: 20_000, Keys: 50, StepMs: 10, DisorderMs: 5000, GridMs: 250,
	LateEvery: 97, LateByMs: 8000, FutureEvery: 501, FutureByMs: 30_000, BadEvery: 211,
}

func with(c Config, f func(*Config)) Config {
	f(&c)
	return c
}

func TestTumble(t *testing.T) {
	t.Parallel()
	db := connect(t)
	keyed := append([]column{{"sensor", text}, {"ws", timestamp}, {"we", timestamp}}, aggCols...)
	cases := []windowCase{{
		name: "per key",
		cfg:  base,
		rule: windowRule{slide: 10_000, size: 10_000},
		set:  settings{delay: 2000, lateness: 1000, maxSkew: 1000},
		scripts: []string{
			`SELECT sensor, TUMBLE_START(ts, INTERVAL '10' SECOND) AS ws, TUMBLE_END(ts, INTERVAL '10' SECOND) AS we, ` + spateAggs + `
			FROM events GROUP BY sensor, TUMBLE(ts, INTERVAL '10' SECOND)`,
			`SELECT sensor, window_start AS ws, window_end AS we, ` + spateAggs + `
			FROM events GROUP BY TUMBLE(ts, INTERVAL '10' SECOND), sensor`,
			`SELECT sensor, STEP_START(ts, INTERVAL '10' SECOND) AS ws, STEP_END(ts, INTERVAL '10' SECOND) AS we, ` + spateAggs + `
			FROM events GROUP BY sensor, STEP(ts, INTERVAL '10' SECOND)`,
		},
		cols: keyed,
		nkey: 3,
		pg:   pgTumble("sensor", 10, "ts_ms", pgAggs),
	}, {
		// No delay and no lateness: every row behind the newest window
		// edge is late, so the boundary rule is exercised on many rows.
		name:    "no delay",
		cfg:     with(base, func(c *Config) { c.Seed = 2; c.DisorderMs = 2000 }),
		rule:    windowRule{slide: 5000, size: 5000},
		set:     settings{maxSkew: 1000},
		scripts: []string{`SELECT sensor, TUMBLE_START(ts, INTERVAL '5' SECOND) AS ws, TUMBLE_END(ts, INTERVAL '5' SECOND) AS we, ` + spateAggs + ` FROM events GROUP BY sensor, TUMBLE(ts, INTERVAL '5' SECOND)`},
		cols:    keyed,
		nkey:    3,
		pg:      pgTumble("sensor", 5, "ts_ms", pgAggs),
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, db) })
	}
}

// TestTumbleRowtime windows arrival times (ROWTIME): they never go back,
// so no row is late, and the oracle groups every record.
func TestTumbleRowtime(t *testing.T) {
	t.Parallel()
	db := connect(t)
	events := Generate(with(base, func(c *Config) { c.Seed = 3; c.BadEvery = 0; c.LateEvery = 0 }))
	want := db.query(t, events, make([]int64, len(events)), pgTumble("sensor", 10, "arr_ms", pgAggs))[0]
	res := evaluate(t, `SELECT sensor, TUMBLE_START(ROWTIME, INTERVAL '10' SECOND) AS ws, TUMBLE_END(ROWTIME, INTERVAL '10' SECOND) AS we, `+spateAggs+`
		FROM events GROUP BY sensor, TUMBLE(ROWTIME, INTERVAL '10' SECOND)`, events)
	if res.Late != 0 || res.Bad != 0 {
		t.Errorf("Late = %d, Bad = %d, want 0 and 0", res.Late, res.Bad)
	}
	compareGroups(t, res, append([]column{{"sensor", text}, {"ws", timestamp}, {"we", timestamp}}, aggCols...), 3, want)
}

func TestHop(t *testing.T) {
	t.Parallel()
	db := connect(t)
	cols := append([]column{{"sensor", text}, {"ws", timestamp}, {"we", timestamp}}, aggCols...)
	cases := []windowCase{{
		name: "slide 2s size 10s",
		cfg:  with(base, func(c *Config) { c.Seed = 11; c.DisorderMs = 4000; c.GridMs = 500 }),
		rule: windowRule{slide: 2000, size: 10_000},
		set:  settings{delay: 1000, maxSkew: 1000},
		scripts: []string{
			`SELECT sensor, HOP_START(ts, INTERVAL '2' SECOND, INTERVAL '10' SECOND) AS ws, HOP_END(ts, INTERVAL '2' SECOND, INTERVAL '10' SECOND) AS we, ` + spateAggs + `
			FROM events GROUP BY sensor, HOP(ts, INTERVAL '2' SECOND, INTERVAL '10' SECOND)`,
			`SELECT sensor, window_start AS ws, window_end AS we, ` + spateAggs + `
			FROM events GROUP BY sensor, HOP(ts, INTERVAL '2' SECOND, INTERVAL '10' SECOND)`,
		},
		cols: cols,
		nkey: 3,
		pg:   pgHop(2000, 10_000, 0, pgAggs),
	}, {
		// The size is no multiple of the slide: panes of gcd = 1 s.
		name:    "slide 3s size 10s lateness 2s",
		cfg:     with(base, func(c *Config) { c.Seed = 12; c.N = 12_000; c.DisorderMs = 6000 }),
		rule:    windowRule{slide: 3000, size: 10_000},
		set:     settings{delay: 1000, lateness: 2000, maxSkew: 2000},
		scripts: []string{`SELECT sensor, HOP_START(ts, INTERVAL '3' SECOND, INTERVAL '10' SECOND) AS ws, HOP_END(ts, INTERVAL '3' SECOND, INTERVAL '10' SECOND) AS we, ` + spateAggs + ` FROM events GROUP BY sensor, HOP(ts, INTERVAL '3' SECOND, INTERVAL '10' SECOND)`},
		cols:    cols,
		nkey:    3,
		pg:      pgHop(3000, 10_000, 2000, pgAggs),
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, db) })
	}
}

// sessionConfig keeps on-time rows from reaching a session that has already
// fired: a row's disorder (750 ms, plus 250 ms of grid rounding) plus the
// max_skew the watermark may run ahead (1 s) is within watermark_delay plus
// allowed_lateness (2 s). Gaps-and-islands over all on-time rows is then
// exactly what the engine must produce. (A row that is on time by the
// dialect's rule but lands within gap of an already fired session starts a
// new session in the engine, as in Flink; no SQL-only oracle models that.)
// Stragglers are 20 s behind: always late.
var sessionConfig = with(base, func(c *Config) {
	c.Seed = 21
	c.DisorderMs = 750
	c.GridMs = 250
	c.LateByMs = 20_000
	c.BurstMs = 12_000
})

func TestSession(t *testing.T) {
	t.Parallel()
	db := connect(t)
	c := windowCase{
		name: "gap 5s",
		cfg:  sessionConfig,
		rule: windowRule{gap: 5000},
		set:  settings{delay: 2000, maxSkew: 1000},
		scripts: []string{
			`SELECT sensor, SESSION_START(ts, INTERVAL '5' SECOND) AS ws, SESSION_END(ts, INTERVAL '5' SECOND) AS we, ` + spateAggs + `
			FROM events GROUP BY sensor, SESSION(ts, INTERVAL '5' SECOND)`,
			`SELECT sensor, window_start AS ws, window_end AS we, ` + spateAggs + `
			FROM events GROUP BY sensor, SESSION(ts, INTERVAL '5' SECOND)`,
		},
		cols: append([]column{{"sensor", text}, {"ws", timestamp}, {"we", timestamp}}, aggCols...),
		nkey: 3,
		pg:   pgSession(5000, pgAggs),
	}
	c.run(t, db)
}

// TestSessionsReallyBreak guards the session data: most keys must have
// several sessions, or the session test would compare one window per key.
func TestSessionsReallyBreak(t *testing.T) {
	events := Generate(sessionConfig)
	last := map[string]int64{}
	breaks := 0
	for _, e := range events {
		if e.Bad {
			continue
		}
		if p, ok := last[e.Key]; ok && e.TsMs-p >= 5000 {
			breaks++
		}
		last[e.Key] = max(last[e.Key], e.TsMs)
	}
	if breaks < 200 {
		t.Fatalf("only %d session breaks in the session data", breaks)
	}
}

func TestApproximateAggregates(t *testing.T) {
	t.Parallel()
	db := connect(t)
	set := settings{delay: 2000, lateness: 1000, maxSkew: 1000}
	keyed := append([]column{{"sensor", text}, {"ws", timestamp}, {"we", timestamp}}, approxCols...)
	cases := []windowCase{{
		// One group per minute: thousands of distinct uids, the dense
		// HyperLogLog regime, and long sorted price lists.
		name:    "tumble 1 minute, no key",
		cfg:     with(base, func(c *Config) { c.Seed = 31; c.N = 60_000 }),
		rule:    windowRule{slide: 60_000, size: 60_000},
		set:     set,
		scripts: []string{`SELECT TUMBLE_START(ts, INTERVAL '1' MINUTE) AS ws, TUMBLE_END(ts, INTERVAL '1' MINUTE) AS we, ` + spateApprox + ` FROM events GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE)`},
		cols:    append([]column{{"ws", timestamp}, {"we", timestamp}}, approxCols...),
		nkey:    2,
		pg:      pgTumble("", 60, "ts_ms", pgApprox),
	}, {
		// Hopping windows merge pane sketches.
		name:    "hop per key",
		cfg:     with(base, func(c *Config) { c.Seed = 32; c.N = 10_000; c.Keys = 10; c.LateByMs = 25_000 }),
		rule:    windowRule{slide: 5000, size: 20_000},
		set:     set,
		scripts: []string{`SELECT sensor, HOP_START(ts, INTERVAL '5' SECOND, INTERVAL '20' SECOND) AS ws, HOP_END(ts, INTERVAL '5' SECOND, INTERVAL '20' SECOND) AS we, ` + spateApprox + ` FROM events GROUP BY sensor, HOP(ts, INTERVAL '5' SECOND, INTERVAL '20' SECOND)`},
		cols:    keyed,
		nkey:    3,
		pg:      pgHop(5000, 20_000, 1000, pgApprox),
	}, {
		// Sessions merge sketches when a row bridges two of them.
		name:    "session per key",
		cfg:     with(sessionConfig, func(c *Config) { c.Seed = 33; c.N = 10_000; c.Keys = 10 }),
		rule:    windowRule{gap: 5000},
		set:     settings{delay: 2000, maxSkew: 1000},
		scripts: []string{`SELECT sensor, SESSION_START(ts, INTERVAL '5' SECOND) AS ws, SESSION_END(ts, INTERVAL '5' SECOND) AS we, ` + spateApprox + ` FROM events GROUP BY sensor, SESSION(ts, INTERVAL '5' SECOND)`},
		cols:    keyed,
		nkey:    3,
		pg:      pgSession(5000, pgApprox),
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, db) })
	}
}

func TestHaving(t *testing.T) {
	t.Parallel()
	db := connect(t)
	c := windowCase{
		name: "having",
		cfg:  with(base, func(c *Config) { c.Seed = 41 }),
		rule: windowRule{slide: 10_000, size: 10_000},
		set:  settings{delay: 2000, lateness: 1000, maxSkew: 1000},
		scripts: []string{`SELECT sensor, TUMBLE_START(ts, INTERVAL '10' SECOND) AS ws, COUNT(*) AS c, SUM(v) AS s
			FROM events GROUP BY sensor, TUMBLE(ts, INTERVAL '10' SECOND)
			HAVING COUNT(*) >= 18 AND (MAX(v) > 850 OR SUM(v) < 7000)`},
		cols: []column{{"sensor", text}, {"ws", timestamp}, {"c", exact}, {"s", exact}},
		nkey: 2,
		pg: `SELECT sensor, ` + epochMs("ws") + `, count(*), sum(v) FROM (
			SELECT ev.*, date_bin(interval '10 seconds', timestamptz 'epoch' + ts_ms * interval '1 millisecond', timestamptz 'epoch') AS ws FROM ev) w
			GROUP BY sensor, ws HAVING count(*) >= 18 AND (max(v) > 850 OR sum(v) < 7000)`,
	}
	// HAVING must keep some groups and drop others, or it tests nothing.
	x := split(Generate(c.cfg), c.rule, c.set)
	res := db.query(t, x.kept, x.keptWM, `SELECT count(*) FROM (`+pgTumble("sensor", 10, "ts_ms", "count(*)")+`) g`, c.pg)
	all, _ := strconv.Atoi(res[0][0][0])
	if n := len(res[1]); n < all/5 || n > all*4/5 {
		t.Fatalf("HAVING keeps %d of %d groups; adjust the thresholds so it keeps some and drops some", n, all)
	}
	c.run(t, db)
}

func TestTopK(t *testing.T) {
	t.Parallel()
	db := connect(t)
	cfg := with(base, func(c *Config) { c.Seed = 51; c.ZipfKeys = true })
	set := settings{delay: 2000, lateness: 1000, maxSkew: 1000}
	events := Generate(cfg)
	x := split(events, windowRule{slide: 10_000, size: 10_000}, set)
	groups := db.query(t, x.kept, x.keptWM, pgTumble("sensor", 10, "ts_ms", "count(*)"))[0]

	// The oracle's counts per window, and each group's count.
	counts := map[string][]int64{}
	byGroup := map[string]int64{}
	for _, g := range groups {
		n, _ := strconv.ParseInt(g[3], 10, 64)
		counts[g[1]] = append(counts[g[1]], n)
		byGroup[g[0]+"|"+g[1]] = n
	}

	res := evaluate(t, set.script()+`SELECT * FROM (
		SELECT sensor, TUMBLE_START(ts, INTERVAL '10' SECOND) AS ws, COUNT(*) AS c
		FROM events GROUP BY sensor, TUMBLE(ts, INTERVAL '10' SECOND)) AS t
	ORDER BY c DESC LIMIT 3`, events)
	if res.Late != int64(len(x.late)) {
		t.Errorf("Late = %d, want %d", res.Late, len(x.late))
	}
	checkColumns(t, res, []column{{"sensor", text}, {"ws", timestamp}, {"c", exact}})

	// Ties make "which key" ambiguous, so compare each window's multiset
	// of top counts, and check every emitted row's count is right.
	gotCounts := map[string][]int64{}
	var order []string
	for _, row := range res.Rows {
		ws := keyText(row[1].Value)
		if len(order) == 0 || order[len(order)-1] != ws {
			if slices.Contains(order, ws) {
				t.Errorf("rows of window %s are not contiguous", ws)
			}
			order = append(order, ws)
		}
		c := row[2].Value.I
		if prev := gotCounts[ws]; len(prev) > 0 && prev[len(prev)-1] < c {
			t.Errorf("window %s: counts not in descending order: %v then %d", ws, prev, c)
		}
		gotCounts[ws] = append(gotCounts[ws], c)
		if want, ok := byGroup[keyText(row[0].Value)+"|"+ws]; !ok || want != c || row[2].Value.Kind != value.KindInt {
			t.Errorf("row %s: the oracle's count for that sensor and window is %d", fmtRow(row), want)
		}
	}
	if len(counts) < 10 {
		t.Fatalf("only %d windows", len(counts))
	}
	for ws, cs := range counts {
		slices.SortFunc(cs, func(a, b int64) int { return int(b - a) })
		want := cs[:min(3, len(cs))]
		if !slices.Equal(gotCounts[ws], want) {
			t.Errorf("window %s: top counts %v, want %v", ws, gotCounts[ws], want)
		}
	}
	for ws := range gotCounts {
		if _, ok := counts[ws]; !ok {
			t.Errorf("engine emitted window %s, which the oracle does not have", ws)
		}
	}
}

func TestFilterProjection(t *testing.T) {
	t.Parallel()
	db := connect(t)
	// Stateless: no windows, no watermark, nothing is late; every record
	// is a JSON object with all fields but sometimes no price.
	events := Generate(with(base, func(c *Config) { c.Seed = 61; c.BadEvery = 0 }))
	wm := make([]int64, len(events))
	want := db.query(t, events, wm, `SELECT seq, sensor, v,
		CASE WHEN v >= 500 THEN 'high' WHEN v >= 0 THEN 'mid' ELSE 'neg' END,
		v * 2 - 1, price * 2, upper(sensor)
	FROM ev
	WHERE (sensor LIKE 'k1%' OR sensor LIKE 'k_5' OR sensor IN ('k2', 'k30')) AND v NOT IN (7, 8, 9)
		AND price IS NOT NULL AND NOT (price BETWEEN 100 AND 200)
	ORDER BY seq`)[0]
	res := evaluate(t, `SELECT seq, sensor, v,
		CASE WHEN v >= 500 THEN 'high' WHEN v >= 0 THEN 'mid' ELSE 'neg' END AS band,
		v * 2 - 1 AS w, price * 2 AS p2, UPPER(sensor) AS ukey
	FROM events
	WHERE (sensor LIKE 'k1%' OR sensor LIKE 'k_5' OR sensor IN ('k2', 'k30')) AND v NOT IN (7, 8, 9)
		AND price IS NOT NULL AND NOT (price BETWEEN 100 AND 200)`, events)
	cols := []column{{"seq", exact}, {"sensor", text}, {"v", exact}, {"band", text}, {"w", exact}, {"p2", exact}, {"ukey", text}}
	checkColumns(t, res, cols)
	if len(want) < 1000 || len(want) > len(events)/2 {
		t.Fatalf("the filter keeps %d of %d rows; it should keep some and drop many", len(want), len(events))
	}
	// Rows come out in arrival order, which is seq order.
	if len(res.Rows) != len(want) {
		t.Errorf("engine emitted %d rows, the oracle %d", len(res.Rows), len(want))
	}
	errs := 0
	for i := range min(len(res.Rows), len(want)) {
		for j, c := range cols {
			if err := c.check(res.Rows[i][j].Value, want[i][j]); err != nil {
				errs++
				if errs <= 15 {
					t.Errorf("row %d (%s), column %s: %v", i, fmtRow(res.Rows[i]), c.name, err)
				}
			}
		}
	}
	if res.Late != 0 || res.Bad != 0 {
		t.Errorf("Late = %d, Bad = %d, want 0 and 0", res.Late, res.Bad)
	}
}
