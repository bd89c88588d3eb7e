package query

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/spatehq/spate/analytics/agg"
	"github.com/spatehq/spate/analytics/window"
	"github.com/xwb1989/sqlparser"
)

// Defaults of the settings a script may SET.
const (
	DefaultMaxSkew       = 60_000 // ms: one minute
	DefaultStartPosition = "TRIM_HORIZON"
	maxTopK              = 100_000
)

// Settings are the SET statements of a script.
type Settings struct {
	WatermarkDelay  int64 // ms the watermark trails the event time it has seen
	AllowedLateness int64 // ms a window stays open past the watermark
	MaxSkew         int64 // ms a row's event time may lead its arrival and still move the watermark
	Emit            window.Emit
	StartPosition   string // "TRIM_HORIZON" or "LATEST"
	LateRows        string // stream late rows are written to; "" drops them (they are still counted)
}

// TimeKind is the time a window groups by.
type TimeKind uint8

const (
	TimeColumn   TimeKind = iota // an event-time expression over the record
	TimeRowtime                  // ROWTIME: the record's arrival time
	TimeProctime                 // PROCTIME(): the time the engine processes the record
)

// Plan is a compiled script. It is immutable after Compile and safe to
// share; each goroutine evaluates it with its own Evaluator.
type Plan struct {
	Target string // INSERT INTO target; "" for a bare SELECT
	// Explicit holds the names of the settings the script SETs itself;
	// the others may take a per-stream default (see analytics).
	Explicit map[string]bool
	Source   string // the stream named in FROM
	Settings Settings
	Columns  []string     // output column names, in order
	Window   *window.Spec // nil: a stateless filter/projection
	Time     TimeKind     // the time the window uses
	Aggs     []agg.Spec   // aggregates, in the order Input.Args and Group.Aggs use
	KeyNames []string     // the GROUP BY keys other than the window, as written
	TopK     int          // >0: ORDER BY ... LIMIT k over a windowed subquery

	innerCols []string // top-K: the subquery's columns, which Output returns
	fields    []field  // record fields the plan reads, each extracted once per row
	nslots    int      // len(Evaluator.rec)
	where     *node    // scopeRow; nil: every row
	timeExpr  *node    // scopeRow; TimeColumn only
	keyExprs  []*node  // scopeRow
	argExprs  []*node  // scopeRow; nil entry: COUNT(*)
	proj      []*node  // stateless: scopeRow; windowed: scopeGroup
	having    *node    // scopeGroup
	top       *topPlan
}

// field is one top-level field of the record and the slots it fills.
type field struct {
	name string
	slot int // the field's own value; -1 when only paths into it are used
	subs []subField
}

type subField struct {
	path []string
	slot int
}

// topPlan is the outer query of a top-K.
type topPlan struct {
	where *node   // scopeTop
	order []order // scopeTop
	proj  []*node // scopeTop
}

type order struct {
	key  *node
	desc bool
}

// groupInfo is what a windowed query's select list and HAVING can see.
// Evaluator.grp holds the keys, then the window start and end, then the
// aggregates.
type groupInfo struct {
	keys []string // canonical text of each GROUP BY key
	win  *winCall
	aggs []aggRef
}

func (g *groupInfo) startSlot() int { return len(g.keys) }
func (g *groupInfo) endSlot() int   { return len(g.keys) + 1 }

type aggRef struct {
	text string // canonical text, to share identical aggregates
}

// winCall is the group window as written in GROUP BY.
type winCall struct {
	name     string // tumble, hop, session or step
	timeText string // canonical text of the time argument
	durs     []int64
}

type compiler struct {
	orig   string    // the script as written
	text   string    // after rewrite
	omap   offsetMap // text offsets -> orig offsets
	toks   []token   // tokens of text
	t0, t1 int       // token range of the statement being compiled
	cur    int       // token cursor: constructs are searched for from here
	last   int       // offset in text of the last token located
	plan   *Plan
	emitAt int // offset of SET emit, for the top-K check

	// Indexes of plan.fields, so that a script naming n fields compiles
	// in O(n): fieldIdx by field name, subSlots by name and path.
	fieldIdx map[string]int
	subSlots map[string]int
}

// Compile parses, validates and plans a script: SET statements, then
// exactly one INSERT INTO <name> SELECT ... or bare SELECT .... Errors
// are *Error. The script may be at most MaxScriptBytes long (see MaxBytes)
// and nest at most MaxDepth levels deep.
func Compile(script string, opts ...Option) (p *Plan, err error) {
	o := options{maxBytes: MaxScriptBytes}
	for _, opt := range opts {
		opt(&o)
	}
	c := &compiler{orig: script}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			p, err = nil, e
		}
	}()
	checkSize(script, o.maxBytes)
	toks, dq := lex(script)
	checkNesting(script, toks)
	if dq >= 0 {
		panic(newError(script, dq, `double quotes are not allowed: MySQL syntax reads "x" as a string; write `+"`x`"+` or x for an identifier, 'x' for a string`))
	}
	c.text, c.omap = rewrite(script, toks)
	c.toks, _ = lex(c.text)
	c.plan = &Plan{Settings: Settings{MaxSkew: DefaultMaxSkew, StartPosition: DefaultStartPosition}}

	haveQuery := false
	start := 0
	for i := 0; i <= len(c.toks); i++ {
		if i < len(c.toks) && c.toks[i].text != ";" {
			continue
		}
		if i > start {
			c.t0, c.t1, c.cur = start, i, start
			c.last = c.toks[start].start
			stmt := c.parse()
			switch s := stmt.(type) {
			case *sqlparser.Set:
				if haveQuery {
					c.fail(c.toks[start].start, "SET must come before the query")
				}
				c.settings(s)
			case *sqlparser.Select, *sqlparser.Insert, *sqlparser.Union, *sqlparser.ParenSelect:
				if haveQuery {
					c.fail(c.toks[start].start, "a script holds one query: create one application per query")
				}
				haveQuery = true
				c.query(stmt)
			default:
				c.fail(c.toks[start].start, "only SET, SELECT and INSERT INTO <stream> SELECT are supported: %s statements are not", strings.ToUpper(c.toks[start].text))
			}
		}
		start = i + 1
	}
	if !haveQuery {
		c.fail(len(c.text), "no query: write SELECT ... FROM <stream> or INSERT INTO <stream> SELECT ...")
	}
	return c.plan, nil
}

func (c *compiler) fail(off int, format string, args ...any) {
	panic(newError(c.orig, c.omap.orig(off), fmt.Sprintf(format, args...)))
}

var syntaxErr = regexp.MustCompile(`^(.*) at position (\d+)(?: near '(.*)')?$`)

// parse parses the current statement with sqlparser and places its
// errors: sqlparser reports the offset just past the token it failed on.
func (c *compiler) parse() sqlparser.Statement {
	ps, pe := c.toks[c.t0].start, c.toks[c.t1-1].end
	stmt, err := sqlparser.ParseStrictDDL(c.text[ps:pe])
	if err == nil {
		if stmt == nil {
			c.fail(ps, "empty statement")
		}
		c.checkDepth(stmt)
		return stmt
	}
	m := syntaxErr.FindStringSubmatch(err.Error())
	if m == nil {
		c.fail(ps, "%v", err)
	}
	pos, _ := strconv.Atoi(m[2])
	end := ps + pos - 1
	if lt := c.toks[c.t1-1]; lt.kind == tkString && (len(lt.text) < 2 || lt.text[len(lt.text)-1] != lt.text[0]) {
		c.fail(lt.start, "unterminated string: close it with '")
	}
	if lt := c.toks[c.t1-1]; lt.kind == tkQuoted && c.text[lt.end-1] != '`' || lt.end-lt.start < 2 && lt.kind == tkQuoted {
		c.fail(lt.start, "unterminated identifier: close it with `")
	}
	if end >= pe {
		c.fail(pe, "the statement ends too early: something is missing at its end")
	}
	k := c.t0
	for i := c.t0; i < c.t1; i++ {
		if c.toks[i].start < end {
			k = i
		}
	}
	t := c.toks[k]
	msg := fmt.Sprintf("syntax error near '%s'", c.text[t.start:t.end])
	if t.kind == tkWord && (t.text == "order" || t.text == "where" || t.text == "limit") && k > c.t0 && c.toks[k-1].text == ")" {
		msg += ": a subquery in FROM needs an alias, (SELECT ...) AS t"
	}
	if m[1] != "syntax error" {
		msg = m[1] + " near '" + c.text[t.start:t.end] + "'"
	}
	c.fail(t.start, "%s", msg)
	return nil
}

// Token search. The AST has no positions, so compiling walks the
// statement's tokens in step with the AST: each construct is looked for
// from the cursor on (the compiler visits the clauses in source order and
// each expression left to right), then, failing that, from the statement's
// start. An error is placed at the last construct located.

func (c *compiler) seek(pred func(i int) bool) int {
	for i := c.cur; i < c.t1; i++ {
		if pred(i) {
			c.cur, c.last = i+1, c.toks[i].start
			return c.last
		}
	}
	for i := c.t0; i < c.cur && i < c.t1; i++ {
		if pred(i) {
			c.last = c.toks[i].start
			return c.last
		}
	}
	return c.last
}

func (c *compiler) seekIdent(lower string) int {
	return c.seek(func(i int) bool {
		t := c.toks[i]
		return (t.kind == tkWord || t.kind == tkQuoted) && t.text == lower
	})
}

func (c *compiler) seekFunc(lower string) int {
	found := false
	off := c.seek(func(i int) bool {
		found = c.toks[i].kind == tkWord && c.toks[i].text == lower && i+1 < c.t1 && c.toks[i+1].text == "("
		return found
	})
	if !found {
		return c.seekWord(lower)
	}
	return off
}

func (c *compiler) seekWord(w string) int {
	return c.seek(func(i int) bool { return c.toks[i].kind == tkWord && c.toks[i].text == w })
}

func (c *compiler) seekText(s string) int {
	s = strings.ToLower(s)
	return c.seek(func(i int) bool { return strings.ToLower(c.toks[i].text) == s })
}

func (c *compiler) seekPunct(p string) int {
	return c.seek(func(i int) bool { return c.toks[i].kind == tkPunct && c.toks[i].text == p })
}

// clause moves the cursor to the keyword word of the SELECT whose SELECT
// keyword is token sel (at the same parenthesis depth) and returns its
// offset; without it, the cursor stays at the SELECT.
func (c *compiler) clause(sel int, word string) int {
	d := c.toks[sel].depth
	for i := sel + 1; i < c.t1 && c.toks[i].depth >= d; i++ {
		if t := c.toks[i]; t.depth == d && t.kind == tkWord && t.text == word {
			c.cur, c.last = i, t.start
			return t.start
		}
	}
	c.cur, c.last = sel, c.toks[sel].start
	return c.last
}

// firstWord returns the index of the first token from i with text w.
func (c *compiler) firstWord(i int, w string) int {
	for ; i < c.t1; i++ {
		if c.toks[i].kind == tkWord && c.toks[i].text == w {
			return i
		}
	}
	return c.t0
}

// streamName is the Kinesis StreamName pattern (shard.ValidateStreamName's;
// this package does not import the store). It has no ':', so internal
// streams ("firehose:orders", a delivery stream's buffer) cannot be named.
var streamName = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`)

// checkStreamName refuses a FROM or INSERT INTO name that no stream can have,
// internal stream names included, whether or not such a stream exists.
func (c *compiler) checkStreamName(off int, name string) {
	if !streamName.MatchString(name) {
		c.fail(off, "stream name %q is invalid: use 1 to 128 characters from a-z, A-Z, 0-9, '_', '.' and '-'", name)
	}
}

func (c *compiler) settings(s *sqlparser.Set) {
	if s.Scope != "" {
		c.fail(c.seekWord(s.Scope), "SET %s is not supported: write SET name = value", strings.ToUpper(s.Scope))
	}
	st := &c.plan.Settings
	for _, e := range s.Exprs {
		name := e.Name.Lowered()
		off := c.seekIdent(name)
		if c.plan.Explicit == nil {
			c.plan.Explicit = map[string]bool{}
		}
		c.plan.Explicit[name] = true
		switch name {
		case "watermark_delay", "allowed_lateness", "max_skew":
			ms := c.duration(e.Expr, off, name, true)
			switch name {
			case "watermark_delay":
				st.WatermarkDelay = ms
			case "allowed_lateness":
				st.AllowedLateness = ms
			default:
				st.MaxSkew = ms
			}
		case "emit":
			switch strings.ToLower(c.word(e.Expr, off, name)) {
			case "final":
				st.Emit = window.EmitFinal
			case "changes":
				st.Emit = window.EmitChanges
				c.emitAt = off
			default:
				c.fail(off, "emit must be 'final' or 'changes'")
			}
		case "start_position":
			v := strings.ToUpper(c.word(e.Expr, off, name))
			if v != "TRIM_HORIZON" && v != "LATEST" {
				c.fail(off, "start_position must be 'TRIM_HORIZON' or 'LATEST'")
			}
			st.StartPosition = v
		case "late_rows":
			v := c.word(e.Expr, off, name)
			if !streamName.MatchString(v) {
				c.fail(off, "late_rows must name a stream: 1 to 128 letters, digits, '_', '.' or '-'")
			}
			st.LateRows = v
		default:
			c.fail(off, "unknown setting %s: the settings are watermark_delay, allowed_lateness, max_skew, emit, start_position and late_rows", e.Name.String())
		}
	}
}

// word reads a SET value written as a 'string' or a bare word.
func (c *compiler) word(e sqlparser.Expr, off int, name string) string {
	switch v := e.(type) {
	case *sqlparser.SQLVal:
		if v.Type == sqlparser.StrVal {
			return string(v.Val)
		}
	case *sqlparser.ColName:
		if v.Qualifier.IsEmpty() {
			return v.Name.String()
		}
	}
	c.fail(off, "%s takes a 'string'", name)
	return ""
}

// duration reads an interval: INTERVAL '5' SECOND, or a number of
// milliseconds in SET.
func (c *compiler) duration(e sqlparser.Expr, off int, name string, zeroOK bool) int64 {
	var ms int64
	switch v := e.(type) {
	case *sqlparser.IntervalExpr:
		ms = c.interval(v)
	case *sqlparser.SQLVal:
		n, err := strconv.ParseInt(string(v.Val), 10, 64)
		if v.Type != sqlparser.IntVal || err != nil {
			c.fail(off, "%s takes an interval: INTERVAL '5' SECOND", name)
		}
		ms = n
	default:
		c.fail(off, "%s takes an interval: INTERVAL '5' SECOND", name)
	}
	if ms < 0 || ms == 0 && !zeroOK {
		c.fail(off, "%s must be a positive interval", name)
	}
	return ms
}

var unitMs = map[string]int64{
	"millisecond": 1, "milliseconds": 1,
	"second": 1000, "seconds": 1000,
	"minute": 60_000, "minutes": 60_000,
	"hour": 3_600_000, "hours": 3_600_000,
	"day": 86_400_000, "days": 86_400_000,
}

// interval returns an INTERVAL in milliseconds.
func (c *compiler) interval(e *sqlparser.IntervalExpr) int64 {
	off := c.seekWord("interval")
	unit := strings.ToLower(e.Unit)
	per, ok := unitMs[unit]
	if !ok {
		c.seek(func(i int) bool { return c.toks[i].text == unit })
		c.fail(c.last, "unknown interval unit %s: use MILLISECOND, SECOND, MINUTE, HOUR or DAY (or their plurals)", e.Unit)
	}
	lit, ok := e.Expr.(*sqlparser.SQLVal)
	if !ok || (lit.Type != sqlparser.StrVal && lit.Type != sqlparser.IntVal) {
		c.fail(off, "an interval is a whole number and a unit: INTERVAL '5' SECOND")
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(lit.Val)), 10, 64)
	if err != nil {
		c.fail(off, "an interval is a whole number of its unit: write INTERVAL '1500' MILLISECOND, not INTERVAL '%s' %s", lit.Val, strings.ToUpper(unit))
	}
	if n < 0 || n > (1<<62)/per {
		c.fail(off, "interval %d %s is out of range", n, unit)
	}
	return n * per
}

// fieldSlot returns the slot of record field name (path nil) or of a path
// into it, adding it to the fields the plan extracts.
func (c *compiler) fieldSlot(name string, path []string) int {
	p := c.plan
	if c.fieldIdx == nil {
		c.fieldIdx, c.subSlots = map[string]int{}, map[string]int{}
	}
	i, ok := c.fieldIdx[name]
	if !ok {
		i = len(p.fields)
		c.fieldIdx[name] = i
		p.fields = append(p.fields, field{name: name, slot: -1})
	}
	f := &p.fields[i]
	if path == nil {
		if f.slot < 0 {
			f.slot = p.nslots
			p.nslots++
		}
		return f.slot
	}
	key := name + "\x00" + strings.Join(path, "\x00")
	if slot, ok := c.subSlots[key]; ok {
		return slot
	}
	f.subs = append(f.subs, subField{path: path, slot: p.nslots})
	c.subSlots[key] = p.nslots
	p.nslots++
	return p.nslots - 1
}
