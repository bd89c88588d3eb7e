package query

import (
	"strconv"
	"strings"

	"github.com/spatehq/spate/analytics/agg"
	"github.com/spatehq/spate/analytics/value"
	"github.com/spatehq/spate/analytics/window"
	"github.com/xwb1989/sqlparser"
)

const unboundedMsg = "unbounded aggregate: the stream never ends, so add a window to GROUP BY: TUMBLE(ts, INTERVAL '1' MINUTE), HOP(ts, INTERVAL '10' SECOND, INTERVAL '1' MINUTE) or SESSION(ts, INTERVAL '30' SECOND)"

func (c *compiler) query(stmt sqlparser.Statement) {
	first := c.t0
	switch s := stmt.(type) {
	case *sqlparser.Insert:
		c.seekWord("insert")
		if s.Action != sqlparser.InsertStr {
			c.fail(c.toks[first].start, "only INSERT INTO <stream> SELECT ... is supported")
		}
		if s.Ignore != "" {
			c.fail(c.seekWord("ignore"), "INSERT IGNORE is not supported: write INSERT INTO <stream> SELECT ...")
		}
		name := s.Table.Name.String()
		off := c.seekIdent(strings.ToLower(name))
		if !s.Table.Qualifier.IsEmpty() {
			c.fail(off, "write the target stream's name alone, without a qualifier")
		}
		if len(s.Partitions) > 0 || len(s.Columns) > 0 {
			c.fail(off, "INSERT INTO %s takes no column list: the output columns are the select list's (name them with AS)", name)
		}
		if len(s.OnDup) > 0 {
			c.fail(c.seekWord("duplicate"), "ON DUPLICATE KEY UPDATE is not supported")
		}
		c.checkStreamName(off, name)
		c.plan.Target = name
		sel, ok := s.Rows.(*sqlparser.Select)
		if !ok {
			c.fail(off, "INSERT INTO %s needs a SELECT: INSERT INTO %s SELECT ... FROM <stream>", name, name)
		}
		c.selectStmt(sel, c.firstWord(c.cur, "select"))
	case *sqlparser.Select:
		c.selectStmt(s, c.firstWord(first, "select"))
	case *sqlparser.Union:
		c.fail(c.seekWord("union"), "UNION is not supported: create one application per query, writing to the same stream")
	default:
		c.fail(c.toks[first].start, "write SELECT ... without parentheses around it")
	}
}

// selectStmt plans the query: a plain SELECT, or a top-K over a windowed
// subquery.
func (c *compiler) selectStmt(sel *sqlparser.Select, tok int) {
	if len(sel.From) == 1 {
		if at, ok := sel.From[0].(*sqlparser.AliasedTableExpr); ok {
			if sub, ok := at.Expr.(*sqlparser.Subquery); ok {
				c.topK(sel, tok, at, sub)
				return
			}
		}
	}
	c.selectBlock(sel, tok)
	if sel.OrderBy != nil || sel.Limit != nil {
		off := c.clause(tok, "order")
		if sel.OrderBy == nil {
			off = c.clause(tok, "limit")
		}
		c.fail(off, "ORDER BY and LIMIT need a bounded input: rank each window's rows with a subquery, SELECT * FROM (SELECT ..., COUNT(*) AS c FROM s GROUP BY ..., TUMBLE(...)) AS t ORDER BY c DESC LIMIT 3")
	}
}

func (c *compiler) checkFlags(sel *sqlparser.Select, tok int) {
	c.cur = tok
	switch {
	case sel.Distinct != "":
		c.fail(c.seekWord(strings.TrimSpace(sel.Distinct)), "SELECT DISTINCT is not supported: GROUP BY the columns with a window, or use COUNT(DISTINCT x)")
	case sel.Hints != "" || sel.Cache != "":
		c.fail(c.toks[tok].start, "query hints are not supported")
	case sel.Lock != "":
		c.fail(c.seekWord("for"), "locking clauses are not supported")
	}
}

// source reads FROM: exactly one stream. It returns the names a column
// qualifier may use.
func (c *compiler) source(sel *sqlparser.Select, tok int) []string {
	off := c.clause(tok, "from")
	if len(sel.From) != 1 {
		c.cur = tok
		c.fail(c.seekPunct(","), "a join of two unbounded streams is not supported: read one stream per query (FROM s), and write streams that need combining into one")
	}
	switch t := sel.From[0].(type) {
	case *sqlparser.JoinTableExpr:
		c.fail(c.seekWord("join"), "a join of two unbounded streams is not supported: read one stream per query, and write streams that need combining into one")
	case *sqlparser.ParenTableExpr:
		c.fail(off, "write FROM <stream> without parentheses")
	case *sqlparser.AliasedTableExpr:
		switch e := t.Expr.(type) {
		case sqlparser.TableName:
			name := e.Name.String()
			noff := c.seekIdent(strings.ToLower(name))
			if !e.Qualifier.IsEmpty() {
				c.fail(noff, "write the stream's name alone (quote names with dots as `a.b`)")
			}
			if len(t.Partitions) > 0 || t.Hints != nil {
				c.fail(noff, "partitions and index hints are not supported")
			}
			c.checkStreamName(noff, name)
			c.plan.Source = name
			return []string{name, t.As.String()}
		case *sqlparser.Subquery:
			c.fail(off, "a subquery in FROM is only supported for top-K over a window: SELECT * FROM (SELECT ... GROUP BY ..., TUMBLE(...)) AS t ORDER BY c DESC LIMIT 3")
		}
	}
	c.fail(off, "FROM must name one stream")
	return nil
}

// stripQualifiers checks that qualified columns (t.x) name the FROM
// stream or its alias and drops the qualifier, so expressions compare by
// their text whichever way they were written.
func (c *compiler) stripQualifiers(tok int, names []string, nodes ...sqlparser.SQLNode) {
	c.cur = tok
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		switch n := n.(type) {
		case *sqlparser.Subquery:
			return false, nil
		case *sqlparser.ColName:
			if n.Qualifier.IsEmpty() {
				return true, nil
			}
			q := n.Qualifier.Name.String()
			ok := n.Qualifier.Qualifier.IsEmpty()
			if ok {
				ok = false
				for _, name := range names {
					if name != "" && strings.EqualFold(name, q) {
						ok = true
					}
				}
			}
			if !ok {
				c.fail(c.seekIdent(strings.ToLower(q)), "unknown table %s: columns belong to the stream in FROM (%s)", q, names[0])
			}
			n.Qualifier = sqlparser.TableName{}
		}
		return true, nil
	}, nodes...)
}

var windowFuncs = map[string]window.Kind{"tumble": window.Tumble, "step": window.Tumble, "hop": window.Hop, "session": window.Session}

func winArity(name string) int {
	if name == "hop" {
		return 3
	}
	return 2
}

// selectBlock plans one SELECT over a stream: a stateless projection or a
// windowed aggregation. It fills the plan.
func (c *compiler) selectBlock(sel *sqlparser.Select, tok int) {
	p := c.plan
	c.checkFlags(sel, tok)
	names := c.source(sel, tok)
	c.stripQualifiers(tok, names, sel.SelectExprs, sel.Where, sel.GroupBy, sel.Having, sel.OrderBy)

	if sel.Where != nil {
		c.clause(tok, "where")
		p.where = c.expr(sel.Where.Expr, &scope{kind: scopeRow, clause: "WHERE"})
	}
	g := &groupInfo{}
	var keyNames []string
	if len(sel.GroupBy) > 0 {
		groupOff := c.clause(tok, "group")
		for _, e := range sel.GroupBy {
			if f, ok := e.(*sqlparser.FuncExpr); ok {
				if _, isWin := windowFuncs[f.Name.Lowered()]; isWin {
					if g.win != nil {
						c.fail(c.seekFunc(f.Name.Lowered()), "GROUP BY takes one window")
					}
					c.window(f, g)
					continue
				}
			}
			g.keys = append(g.keys, sqlparser.String(e))
			keyNames = append(keyNames, sqlparser.String(e))
			p.keyExprs = append(p.keyExprs, c.expr(e, &scope{kind: scopeRow, clause: "GROUP BY"}))
		}
		if g.win == nil {
			c.fail(groupOff, "%s", unboundedMsg)
		}
	}
	c.cur = tok
	if g.win == nil {
		if sel.Having != nil {
			c.fail(c.clause(tok, "having"), "HAVING needs a window in GROUP BY; filter rows with WHERE")
		}
		sc := &scope{kind: scopeRow, clause: "the select list"}
		p.Columns, p.proj = c.selectList(sel.SelectExprs, sc, tok)
		return
	}
	p.KeyNames = keyNames
	sc := &scope{kind: scopeGroup, clause: "the select list", g: g}
	p.Columns, p.proj = c.selectList(sel.SelectExprs, sc, tok)
	if sel.Having != nil {
		c.clause(tok, "having")
		sc.aliases = c.aliasMap(sel.SelectExprs, p.proj)
		sc.clause = "HAVING"
		p.having = c.expr(sel.Having.Expr, sc)
	}
}

// aliasMap maps the select list's aliases (lowered) to their compiled
// expressions, for HAVING and ORDER BY.
func (c *compiler) aliasMap(list sqlparser.SelectExprs, proj []*node) map[string]*node {
	m := map[string]*node{}
	for i, se := range list {
		if ae, ok := se.(*sqlparser.AliasedExpr); ok && !ae.As.IsEmpty() && i < len(proj) {
			m[ae.As.Lowered()] = proj[i]
		}
	}
	return m
}

// selectList compiles the select list and names its columns.
func (c *compiler) selectList(list sqlparser.SelectExprs, sc *scope, tok int) ([]string, []*node) {
	c.cur = tok
	var cols []string
	var proj []*node
	used := newColumnNames()
	for _, se := range list {
		switch se := se.(type) {
		case *sqlparser.StarExpr:
			c.fail(c.seekPunct("*"), "SELECT * is not supported on a stream: its columns are not known in advance; list the columns you need (SELECT a, b FROM s)")
		case *sqlparser.Nextval:
			c.fail(c.seekWord("next"), "NEXT VALUE is not supported")
		case *sqlparser.AliasedExpr:
			n := c.expr(se.Expr, sc)
			name := se.As.String()
			if name == "" {
				name = used.unique(defaultName(se.Expr))
			} else if used.has(name) {
				c.fail(c.seekIdent(strings.ToLower(name)), "duplicate output column %s: give each column its own name with AS", name)
			}
			used.add(name)
			cols = append(cols, name)
			proj = append(proj, n)
		}
	}
	return cols, proj
}

// columnNames are the output column names taken so far, compared without
// case.
type columnNames struct {
	used map[string]bool
	next map[string]int // base name -> the suffix to try first
}

func newColumnNames() *columnNames {
	return &columnNames{used: map[string]bool{}, next: map[string]int{}}
}

func (n *columnNames) has(name string) bool { return n.used[strings.ToLower(name)] }
func (n *columnNames) add(name string)      { n.used[strings.ToLower(name)] = true }

// unique returns name, or name_2, name_3, ... (the first not taken) when
// name is taken. Names are never given back, so the search resumes where
// the last one for the same base ended: repeating a name n times costs
// O(n), not O(n²).
func (n *columnNames) unique(name string) string {
	if !n.has(name) {
		return name
	}
	base := strings.ToLower(name)
	k := max(2, n.next[base])
	for n.has(name + "_" + strconv.Itoa(k)) {
		k++
	}
	n.next[base] = k + 1
	return name + "_" + strconv.Itoa(k)
}

// defaultName names a select-list expression without AS: a column by its
// name, a JSON path by its last key, a function call or aggregate by its
// lowercased name (COUNT(*) is "count"), anything else by its text.
func defaultName(e sqlparser.Expr) string {
	switch e := e.(type) {
	case *sqlparser.ParenExpr:
		return defaultName(e.Expr)
	case *sqlparser.ColName:
		return e.Name.String()
	case *sqlparser.FuncExpr:
		name := e.Name.Lowered()
		switch name {
		case "__cast":
			return "cast"
		case "__substr":
			return "substring"
		case "__timestamp":
			return "timestamp"
		case "json_extract":
			if len(e.Exprs) == 2 {
				if ae, ok := e.Exprs[1].(*sqlparser.AliasedExpr); ok {
					return defaultName(&sqlparser.BinaryExpr{Operator: sqlparser.JSONExtractOp, Right: ae.Expr})
				}
			}
		}
		return name
	case *sqlparser.SubstrExpr:
		return "substring"
	case *sqlparser.ConvertExpr:
		return "cast"
	case *sqlparser.BinaryExpr:
		if e.Operator == sqlparser.JSONExtractOp || e.Operator == sqlparser.JSONUnquoteExtractOp {
			if lit, ok := e.Right.(*sqlparser.SQLVal); ok {
				if keys, err := parsePath(string(lit.Val)); err == "" {
					return keys[len(keys)-1]
				}
			}
		}
	}
	return sqlparser.String(e)
}

// window plans the group window of GROUP BY.
func (c *compiler) window(f *sqlparser.FuncExpr, g *groupInfo) {
	p := c.plan
	name := f.Name.Lowered()
	off := c.seekFunc(name)
	args := c.plainArgs(f, off)
	if len(args) != winArity(name) {
		c.fail(off, "%s", winUsage(name))
	}
	w := &winCall{name: name, timeText: sqlparser.String(args[0])}
	switch t := args[0].(type) {
	case *sqlparser.ColName:
		if t.Name.Lowered() == "rowtime" {
			p.Time = TimeRowtime
		}
	case *sqlparser.FuncExpr:
		if t.Name.Lowered() == "proctime" && len(t.Exprs) == 0 {
			p.Time = TimeProctime
		}
	}
	if p.Time == TimeColumn {
		p.timeExpr = c.expr(args[0], &scope{kind: scopeRow, clause: "the window's time argument"})
	} else {
		c.expr(args[0], &scope{kind: scopeRow}) // keeps the cursor in step
	}
	for _, a := range args[1:] {
		w.durs = append(w.durs, c.windowDur(a, name))
	}
	spec := &window.Spec{Kind: windowFuncs[name]}
	switch spec.Kind {
	case window.Tumble:
		spec.Size = w.durs[0]
	case window.Hop:
		spec.Slide, spec.Size = w.durs[0], w.durs[1]
		if spec.Size < spec.Slide {
			c.fail(off, "HOP's size (%d ms) is shorter than its slide (%d ms): the arguments are HOP(ts, slide, size)", spec.Size, spec.Slide)
		}
	case window.Session:
		spec.Gap = w.durs[0]
	}
	g.win = w
	p.Window = spec
}

func winUsage(name string) string {
	switch name {
	case "hop":
		return "HOP takes 3 arguments: HOP(ts, INTERVAL '10' SECOND, INTERVAL '1' MINUTE) slides a 1-minute window every 10 seconds"
	case "session":
		return "SESSION takes 2 arguments: SESSION(ts, INTERVAL '30' SECOND)"
	}
	return strings.ToUpper(name) + " takes 2 arguments: " + strings.ToUpper(name) + "(ts, INTERVAL '1' MINUTE)"
}

func (c *compiler) windowDur(e sqlparser.Expr, name string) int64 {
	iv, ok := e.(*sqlparser.IntervalExpr)
	if !ok {
		c.fail(c.last, "%s takes intervals: %s", strings.ToUpper(name), winUsage(name))
	}
	ms := c.interval(iv)
	if ms <= 0 {
		c.fail(c.last, "a window's intervals must be positive")
	}
	return ms
}

// plainArgs returns a call's arguments, rejecting * and DISTINCT.
func (c *compiler) plainArgs(f *sqlparser.FuncExpr, off int) []sqlparser.Expr {
	if f.Distinct {
		c.fail(off, "DISTINCT is only allowed in aggregates: COUNT(DISTINCT x)")
	}
	if !f.Qualifier.IsEmpty() {
		c.fail(off, "write %s without a qualifier", f.Name.String())
	}
	args := make([]sqlparser.Expr, len(f.Exprs))
	for i, se := range f.Exprs {
		ae, ok := se.(*sqlparser.AliasedExpr)
		if !ok {
			c.fail(off, "%s does not take *", strings.ToUpper(f.Name.String()))
		}
		args[i] = ae.Expr
	}
	return args
}

var aggKinds = map[string]agg.Kind{
	"count": agg.Count, "sum": agg.Sum, "avg": agg.Avg, "min": agg.Min, "max": agg.Max,
	"first_value": agg.FirstValue, "last_value": agg.LastValue,
	"approx_count_distinct": agg.ApproxCountDistinct, "approx_percentile": agg.ApproxPercentile,
}

var winAux = map[string]string{
	"tumble_start": "tumble", "tumble_end": "tumble", "step_start": "tumble", "step_end": "tumble",
	"hop_start": "hop", "hop_end": "hop", "session_start": "session", "session_end": "session",
}

// groupRef resolves the constructs a window result provides: GROUP BY
// keys (by their text), aggregates, and the window's bounds. It returns
// nil for anything else, which the caller compiles from its parts.
func (c *compiler) groupRef(e sqlparser.Expr, sc *scope) *node {
	g := sc.g
	text := sqlparser.String(e)
	for i, k := range g.keys {
		if k == text {
			if col, ok := e.(*sqlparser.ColName); ok {
				c.seekIdent(col.Name.Lowered())
			}
			return &node{eval: func(ev *Evaluator) value.Value { return ev.grp[i] }}
		}
	}
	switch e := e.(type) {
	case *sqlparser.ColName:
		switch e.Name.Lowered() {
		case "window_start":
			c.seekIdent("window_start")
			return c.grpSlot(g.startSlot())
		case "window_end":
			c.seekIdent("window_end")
			return c.grpSlot(g.endSlot())
		}
	case *sqlparser.FuncExpr:
		name := e.Name.Lowered()
		if _, ok := aggKinds[name]; ok {
			return c.aggregate(e, sc)
		}
		if kind, ok := winAux[name]; ok {
			off := c.seekFunc(name)
			args := c.plainArgs(e, off)
			w := g.win
			wk := w.name
			if wk == "step" {
				wk = "tumble"
			}
			if kind != wk {
				c.fail(off, "%s does not match the window %s in GROUP BY: write %s_START or window_start", strings.ToUpper(name), strings.ToUpper(w.name), strings.ToUpper(w.name))
			}
			if len(args) != len(w.durs)+1 || sqlparser.String(args[0]) != w.timeText {
				c.fail(off, "%s must repeat the window's arguments: %s(%s, ...) as in GROUP BY", strings.ToUpper(name), strings.ToUpper(name), w.timeText)
			}
			for i, a := range args[1:] {
				iv, ok := a.(*sqlparser.IntervalExpr)
				if !ok || c.interval(iv) != w.durs[i] {
					c.fail(off, "%s must repeat the window's arguments, with the same intervals as in GROUP BY", strings.ToUpper(name))
				}
			}
			if strings.HasSuffix(name, "_start") {
				return c.grpSlot(g.startSlot())
			}
			return c.grpSlot(g.endSlot())
		}
	}
	return nil
}

func (c *compiler) grpSlot(i int) *node {
	return &node{eval: func(ev *Evaluator) value.Value { return ev.grp[i] }}
}

// aggregate plans an aggregate call of a windowed query, sharing
// identical ones.
func (c *compiler) aggregate(f *sqlparser.FuncExpr, sc *scope) *node {
	p, g := c.plan, sc.g
	name := f.Name.Lowered()
	off := c.seekFunc(name)
	kind := aggKinds[name]
	spec := agg.Spec{Kind: kind, Distinct: f.Distinct}
	upper := strings.ToUpper(name)
	if !f.Qualifier.IsEmpty() {
		c.fail(off, "write %s without a qualifier", upper)
	}
	want := 1
	if kind == agg.ApproxPercentile {
		want = 2
	}
	if len(f.Exprs) != want {
		if kind == agg.ApproxPercentile {
			c.fail(off, "APPROX_PERCENTILE takes 2 arguments: APPROX_PERCENTILE(x, 0.95)")
		}
		c.fail(off, "%s takes 1 argument: %s(x)%s", upper, upper, map[bool]string{true: " or COUNT(*)", false: ""}[kind == agg.Count])
	}
	var arg *node
	argText := "*"
	switch a := f.Exprs[0].(type) {
	case *sqlparser.StarExpr:
		if kind != agg.Count || f.Distinct {
			c.fail(off, "only COUNT takes *: write %s(x)", upper)
		}
		spec.Star = true
	case *sqlparser.AliasedExpr:
		arg = c.expr(a.Expr, &scope{kind: scopeRow, clause: "an aggregate's argument"})
		argText = sqlparser.String(a.Expr)
	default:
		c.fail(off, "%s takes an expression", upper)
	}
	if f.Distinct {
		switch kind {
		case agg.Min, agg.Max:
			spec.Distinct = false // the same result either way
		case agg.Count, agg.Sum, agg.Avg:
		default:
			c.fail(off, "%s does not take DISTINCT", upper)
		}
	}
	if kind == agg.ApproxPercentile {
		ae, _ := f.Exprs[1].(*sqlparser.AliasedExpr)
		var pv value.Value
		if ae != nil {
			n := c.expr(ae.Expr, &scope{kind: scopeRow, clause: "APPROX_PERCENTILE"})
			if n.konst {
				pv = n.eval(nil)
			}
		}
		q, ok := pv.AsFloat()
		if !pv.Numeric() || !ok || q < 0 || q > 1 {
			c.fail(off, "APPROX_PERCENTILE's second argument is a constant between 0 and 1: APPROX_PERCENTILE(x, 0.95)")
		}
		spec.Param = q
	}
	text := name + "|" + strconv.FormatBool(spec.Distinct) + "|" + strconv.FormatFloat(spec.Param, 'g', -1, 64) + "|" + argText
	idx := -1
	for i, a := range g.aggs {
		if a.text == text {
			idx = i
		}
	}
	if idx < 0 {
		idx = len(g.aggs)
		g.aggs = append(g.aggs, aggRef{text: text})
		p.Aggs = append(p.Aggs, spec)
		p.argExprs = append(p.argExprs, arg)
	}
	return c.grpSlot(len(g.keys) + 2 + idx)
}

// topK plans SELECT ... FROM (windowed subquery) AS t [WHERE ...] ORDER BY
// ... LIMIT k: per window, the first k rows in that order.
func (c *compiler) topK(outer *sqlparser.Select, tok int, at *sqlparser.AliasedTableExpr, sub *sqlparser.Subquery) {
	p := c.plan
	c.checkFlags(outer, tok)
	fromOff := c.clause(tok, "from")
	inner, ok := sub.Select.(*sqlparser.Select)
	if !ok {
		c.fail(fromOff, "the subquery must be one SELECT ... GROUP BY ..., TUMBLE(...)")
	}
	innerTok := c.firstWord(c.cur+1, "select")
	if outer.OrderBy == nil || outer.Limit == nil {
		c.fail(fromOff, "a subquery in FROM is only supported for top-K: add ORDER BY ... LIMIT k to the outer query")
	}
	c.selectBlock(inner, innerTok)
	if inner.OrderBy != nil || inner.Limit != nil {
		c.fail(c.clause(innerTok, "order"), "ORDER BY and LIMIT belong to the outer query of a top-K")
	}
	if p.Window == nil {
		c.fail(c.toks[innerTok].start, "top-K ranks the rows of each window: the subquery needs a window in GROUP BY, e.g. GROUP BY key, TUMBLE(ts, INTERVAL '1' MINUTE)")
	}
	if p.Window.Kind == window.Session {
		c.fail(c.toks[innerTok].start, "top-K is not supported over SESSION windows: sessions are per key, so there is no set of rows that share a window to rank; use TUMBLE or HOP")
	}
	if p.Settings.Emit == window.EmitChanges {
		c.fail(c.emitAt, "top-K ranks each window's final rows, but emit = 'changes' emits partial updates: remove SET emit = 'changes'")
	}
	if len(outer.GroupBy) > 0 || outer.Having != nil {
		c.fail(c.clause(tok, "group"), "the outer query of a top-K cannot GROUP BY: aggregate in the subquery")
	}
	c.stripQualifiers(tok, []string{at.As.String()}, outer.SelectExprs, outer.Where, outer.OrderBy)

	innerCols := p.Columns
	lower := make([]string, len(innerCols))
	for i, n := range innerCols {
		lower[i] = strings.ToLower(n)
	}
	tp := &topPlan{}
	sc := &scope{kind: scopeTop, clause: "the outer query", cols: lower}
	if outer.Where != nil {
		c.clause(tok, "where")
		tp.where = c.expr(outer.Where.Expr, sc)
	}
	// The outer select list: * is the subquery's columns.
	c.cur = tok
	var cols []string
	used := newColumnNames()
	aliases := map[string]*node{}
	add := func(name string, n *node, explicit bool) {
		if used.has(name) {
			if explicit {
				c.fail(c.seekIdent(strings.ToLower(name)), "duplicate output column %s: give each column its own name with AS", name)
			}
			name = used.unique(name)
		}
		used.add(name)
		cols = append(cols, name)
		tp.proj = append(tp.proj, n)
	}
	for _, se := range outer.SelectExprs {
		switch se := se.(type) {
		case *sqlparser.StarExpr:
			c.seekPunct("*")
			for i, name := range innerCols {
				add(name, &node{eval: func(ev *Evaluator) value.Value { return ev.top[i].Value }}, false)
			}
		case *sqlparser.AliasedExpr:
			n := c.expr(se.Expr, sc)
			if se.As.IsEmpty() {
				add(defaultName(se.Expr), n, false)
			} else {
				add(se.As.String(), n, true)
				aliases[se.As.Lowered()] = n
			}
		default:
			c.fail(c.last, "unsupported select item")
		}
	}
	c.clause(tok, "order")
	osc := &scope{kind: scopeTop, clause: "ORDER BY", cols: lower, aliases: aliases}
	for _, o := range outer.OrderBy {
		var key *node
		if lit, ok := o.Expr.(*sqlparser.SQLVal); ok && lit.Type == sqlparser.IntVal {
			k, err := strconv.Atoi(string(lit.Val))
			if err != nil || k < 1 || k > len(tp.proj) {
				c.fail(c.seekText(string(lit.Val)), "ORDER BY %s: there are %d output columns", lit.Val, len(tp.proj))
			}
			key = tp.proj[k-1]
		} else {
			key = c.expr(o.Expr, osc)
		}
		tp.order = append(tp.order, order{key: key, desc: o.Direction == sqlparser.DescScr})
	}
	limOff := c.clause(tok, "limit")
	if outer.Limit.Offset != nil {
		c.fail(limOff, "LIMIT takes no offset in a top-K: LIMIT k")
	}
	lit, ok := outer.Limit.Rowcount.(*sqlparser.SQLVal)
	k, err := 0, error(nil)
	if ok && lit.Type == sqlparser.IntVal {
		k, err = strconv.Atoi(string(lit.Val))
	}
	if !ok || lit.Type != sqlparser.IntVal || err != nil || k < 1 || k > maxTopK {
		c.fail(limOff, "LIMIT takes a whole number from 1 to %d", maxTopK)
	}
	p.TopK = k
	p.innerCols = innerCols
	p.Columns = cols
	p.top = tp
}
