package oracle

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pgURLEnv names the PostgreSQL server the oracle runs on.
const pgURLEnv = "SPATE_TEST_PG_URL"

// postgres runs scripts on the oracle server through psql, which comes with
// Debian's server package: the module needs no PostgreSQL driver.
type postgres struct {
	url  string
	psql string
}

// connect returns the oracle server, failing the test (never skipping it)
// when there is none: a green run must mean the oracle agreed.
func connect(t *testing.T) *postgres {
	t.Helper()
	url := os.Getenv(pgURLEnv)
	if url == "" {
		t.Fatalf("%s is not set: the oracle tests need PostgreSQL. Run them with `make test`, "+
			"or start one with `scripts/pg-server.sh start && eval \"$(scripts/pg-server.sh env)\"` (from the repository root)", pgURLEnv)
	}
	psql, err := exec.LookPath("psql")
	if err != nil {
		found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/psql")
		if len(found) == 0 {
			t.Fatalf("psql not found on PATH or in /usr/lib/postgresql/*/bin: run scripts/test-deps.sh")
		}
		sort.Strings(found)
		psql = found[len(found)-1]
	}
	return &postgres{url: url, psql: psql}
}

// eventTable is the PostgreSQL table every test loads: the on-time rows of
// a generated set, with wm, the watermark the engine had when the row
// arrived (math.MinInt64 before any row).
const eventTable = `CREATE TEMP TABLE ev (
	seq bigint PRIMARY KEY, sensor text NOT NULL, v bigint NOT NULL, price double precision,
	uid bigint NOT NULL, ts_ms bigint NOT NULL, arr_ms bigint NOT NULL, wm bigint NOT NULL)`

// query loads rows into ev and runs each query on it in one session (ev is
// a temporary table, so concurrent tests never see each other's). It
// returns each query's rows as text fields, "\N" for NULL.
func (p *postgres) query(t *testing.T, rows []Event, wm []int64, queries ...string) [][][]string {
	t.Helper()
	const sep = "@@@ next query @@@"
	var in bytes.Buffer
	in.WriteString("SET TimeZone = 'UTC';\n")
	in.WriteString(eventTable + ";\n")
	in.WriteString("COPY ev FROM STDIN;\n")
	for i, e := range rows {
		price := `\N`
		if e.HasPrice {
			price = strconv.FormatFloat(e.Price, 'f', -1, 64)
		}
		fmt.Fprintf(&in, "%d\t%s\t%d\t%s\t%d\t%d\t%d\t%d\n", e.Seq, e.Key, e.V, price, e.UID, e.TsMs, e.ArrivalMs, wm[i])
	}
	in.WriteString("\\.\n")
	for _, q := range queries {
		fmt.Fprintf(&in, "\\echo '%s'\nCOPY (%s) TO STDOUT;\n", sep, strings.TrimRight(strings.TrimSpace(q), ";"))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", p.url, "-f", "-")
	cmd.Stdin = &in
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("psql: %v\n%s\nqueries:\n%s", err, stderr.String(), strings.Join(queries, "\n---\n"))
	}
	parts := strings.Split(out.String(), sep+"\n")
	if len(parts) != len(queries)+1 {
		t.Fatalf("psql printed %d results for %d queries:\n%s", len(parts)-1, len(queries), out.String())
	}
	results := make([][][]string, len(queries))
	for i, part := range parts[1:] {
		for line := range strings.Lines(part) {
			results[i] = append(results[i], strings.Split(strings.TrimSuffix(line, "\n"), "\t"))
		}
	}
	return results
}

// watermarks returns, for each row, the watermark the engine has when the
// row arrives, by the dialect's rule: the highest min(ts, arrival+maxSkew)
// over the good rows before it, minus delay; math.MinInt64 before any.
// Late rows never raise it (a late row's time is below it already), so the
// rule needs no knowledge of which rows were dropped; and whether a row's
// own time counts before its own check makes no difference, since its
// capped time is below the end of its last window. (The engine also skips
// rows a WHERE clause drops; the windowed cases here have no WHERE.)
func watermarks(events []Event, delay, maxSkew int64) []int64 {
	wm := make([]int64, len(events))
	high := int64(math.MinInt64)
	for i, e := range events {
		wm[i] = math.MinInt64
		if high != math.MinInt64 {
			wm[i] = high - delay
		}
		if e.Bad {
			continue
		}
		high = max(high, min(e.TsMs, e.ArrivalMs+maxSkew))
	}
	return wm
}

// windowRule says which windows a row belongs to, for the lateness rule:
// tumbling (slide == size), hopping, or session (gap > 0).
type windowRule struct {
	slide, size int64
	gap         int64
}

// lastEnd is the end of the last window that contains a row at ts: for a
// session, the end of the session the row would close (ts + gap).
func (w windowRule) lastEnd(ts int64) int64 {
	if w.gap > 0 {
		return ts + w.gap
	}
	return floorDiv(ts, w.slide)*w.slide + w.size
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// expected is what the dialect's lateness rule says the engine does with a
// generated event set.
type expected struct {
	kept   []Event  // good rows the engine must keep, in arrival order
	keptWM []int64  // the watermark when each kept row arrived
	late   [][]byte // the records it must drop as late, in arrival order
	bad    int      // records it must count as bad
}

// split applies the rule: a good row is late when every window it belongs
// to has fired, i.e. the end of its last window plus lateness is at or
// below the watermark left by the rows before it.
func split(events []Event, rule windowRule, s settings) expected {
	wm := watermarks(events, s.delay, s.maxSkew)
	var x expected
	for i, e := range events {
		switch {
		case e.Bad:
			x.bad++
		case wm[i] != math.MinInt64 && rule.lastEnd(e.TsMs)+s.lateness <= wm[i]:
			x.late = append(x.late, e.Data)
		default:
			x.kept = append(x.kept, e)
			x.keptWM = append(x.keptWM, wm[i])
		}
	}
	return x
}
