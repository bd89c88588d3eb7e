package query

import (
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/spatehq/spate/analytics/value"
	"github.com/xwb1989/sqlparser"
)

// node is a compiled expression: a closure over the Evaluator's slot
// arrays. Constant subtrees are folded at compile time (konst), so a row
// pays only for what depends on it.
type node struct {
	eval  func(ev *Evaluator) value.Value
	konst bool
}

func constNode(v value.Value) *node {
	return &node{eval: func(*Evaluator) value.Value { return v }, konst: true}
}

// pure builds a node whose value depends only on its arguments: when all
// of them are constant it is evaluated once, now. Pure functions never
// touch the Evaluator, so calling one with nil is safe.
func pure(fn func(ev *Evaluator) value.Value, args ...*node) *node {
	for _, a := range args {
		if !a.konst {
			return &node{eval: fn}
		}
	}
	return constNode(fn(nil))
}

// scopeKind says what slots the expressions of a clause read.
type scopeKind uint8

const (
	scopeRow   scopeKind = iota // one input record: Evaluator.rec
	scopeGroup                  // one window result: Evaluator.grp
	scopeTop                    // one row of the windowed subquery: Evaluator.top
)

// scope is where an expression is compiled.
type scope struct {
	kind    scopeKind
	clause  string           // for messages: "WHERE", "GROUP BY", ...
	g       *groupInfo       // scopeGroup
	aliases map[string]*node // select-list aliases HAVING and ORDER BY may use (lowered)
	cols    []string         // scopeTop: the subquery's columns (lowered)
}

// truth reads v as a SQL boolean: known is false for NULL.
func truth(v value.Value) (t, known bool) {
	switch v.Kind {
	case value.KindNull:
		return false, false
	case value.KindString:
		f, ok := v.AsFloat()
		return ok && f != 0, true
	}
	return v.Truthy(), true
}

var (
	vTrue  = value.Bool(true)
	vFalse = value.Bool(false)
)

// compare is value.Compare plus MySQL's reading of a string compared with
// a number as a number. ok is false when the result is NULL.
func compare(a, b value.Value) (int, bool) {
	c, ok := value.Compare(a, b)
	if ok || a.Kind == value.KindNull || b.Kind == value.KindNull {
		return c, ok
	}
	if a.Kind == value.KindString && b.Numeric() {
		if f, ok := a.AsFloat(); ok {
			return value.Compare(value.Float(f), b)
		}
	}
	if b.Kind == value.KindString && a.Numeric() {
		if f, ok := b.AsFloat(); ok {
			return value.Compare(a, value.Float(f))
		}
	}
	return c, false
}

func (c *compiler) expr(e sqlparser.Expr, sc *scope) *node {
	if sc.kind == scopeGroup {
		if n := c.groupRef(e, sc); n != nil {
			return n
		}
	}
	switch e := e.(type) {
	case *sqlparser.ParenExpr:
		return c.expr(e.Expr, sc)
	case *sqlparser.SQLVal:
		return c.literal(e)
	case *sqlparser.NullVal:
		return constNode(value.Null)
	case sqlparser.BoolVal:
		return constNode(value.Bool(bool(e)))
	case *sqlparser.ColName:
		return c.column(e, sc)
	case *sqlparser.AndExpr:
		return andNode(c.expr(e.Left, sc), c.expr(e.Right, sc))
	case *sqlparser.OrExpr:
		return orNode(c.expr(e.Left, sc), c.expr(e.Right, sc))
	case *sqlparser.NotExpr:
		return notNode(c.expr(e.Expr, sc))
	case *sqlparser.ComparisonExpr:
		return c.comparison(e, sc)
	case *sqlparser.RangeCond:
		x, lo, hi := c.expr(e.Left, sc), c.expr(e.From, sc), c.expr(e.To, sc)
		n := andNode(cmpNode(">=", x, lo), cmpNode("<=", x, hi))
		if e.Operator == sqlparser.NotBetweenStr {
			n = notNode(n)
		}
		return n
	case *sqlparser.IsExpr:
		return isNode(e.Operator, c.expr(e.Expr, sc))
	case *sqlparser.BinaryExpr:
		return c.binary(e, sc)
	case *sqlparser.UnaryExpr:
		return c.unary(e, sc)
	case *sqlparser.IntervalExpr:
		ms := c.interval(e)
		return constNode(value.Int(ms))
	case *sqlparser.FuncExpr:
		return c.call(e, sc)
	case *sqlparser.SubstrExpr:
		args := []*node{c.column(e.Name, sc), c.expr(e.From, sc)}
		if e.To != nil {
			args = append(args, c.expr(e.To, sc))
		}
		return substrNode(args)
	case *sqlparser.ConvertExpr:
		x := c.expr(e.Expr, sc)
		return c.cast(x, e.Type.Type, c.last)
	case *sqlparser.CaseExpr:
		return c.caseExpr(e, sc)
	case *sqlparser.Subquery:
		c.fail(c.seekWord("select"), "a subquery is only supported in FROM, for top-K: SELECT * FROM (SELECT ... GROUP BY ..., TUMBLE(...)) AS t ORDER BY c DESC LIMIT 3")
	case *sqlparser.ExistsExpr:
		c.fail(c.seekWord("exists"), "EXISTS needs a subquery, which is not supported: filter with WHERE on the stream's own columns")
	case sqlparser.ValTuple:
		c.fail(c.seekPunct("("), "a row value (a, b) is only allowed after IN: write x IN (a, b)")
	case *sqlparser.CollateExpr:
		c.fail(c.seekWord("collate"), "COLLATE is not supported: strings compare bytewise")
	case *sqlparser.ConvertUsingExpr:
		c.fail(c.seekWord("using"), "CONVERT ... USING is not supported: strings are UTF-8")
	case *sqlparser.GroupConcatExpr:
		c.fail(c.seekWord("group_concat"), "GROUP_CONCAT is not supported: use COUNT, MIN, MAX, FIRST_VALUE or LAST_VALUE")
	case *sqlparser.MatchExpr:
		c.fail(c.seekWord("match"), "MATCH ... AGAINST is not supported: use LIKE")
	}
	c.fail(c.last, "unsupported expression %s", sqlparser.String(e))
	return nil
}

func (c *compiler) literal(v *sqlparser.SQLVal) *node {
	s := string(v.Val)
	switch v.Type {
	case sqlparser.StrVal:
		return constNode(value.String(s))
	case sqlparser.IntVal:
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return constNode(value.Int(i))
		}
		f, _ := strconv.ParseFloat(s, 64)
		return constNode(value.Float(f))
	case sqlparser.FloatVal:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			c.fail(c.seekText(s), "bad number %s", s)
		}
		return constNode(value.Float(f))
	case sqlparser.HexNum:
		if i, err := strconv.ParseInt(s[2:], 16, 64); err == nil {
			return constNode(value.Int(i))
		}
		c.fail(c.seekText(s), "hexadecimal number %s does not fit BIGINT", s)
	case sqlparser.ValArg:
		if strings.HasPrefix(s, ":v") {
			s = "?" // sqlparser names each ? :v1, :v2, ...
		}
		c.fail(c.seekText(s), "bind variable %s is not supported: write the value", s)
	}
	c.fail(c.last, "unsupported literal %s: write a number or a 'string'", sqlparser.String(v))
	return nil
}

// column compiles a column reference in scope sc.
func (c *compiler) column(col *sqlparser.ColName, sc *scope) *node {
	name := col.Name.String()
	lower := strings.ToLower(name)
	off := c.seekIdent(lower)
	switch sc.kind {
	case scopeRow:
		if lower == "rowtime" {
			return &node{eval: func(ev *Evaluator) value.Value { return value.Time(ev.arrival) }}
		}
		if lower == "window_start" || lower == "window_end" {
			c.fail(off, "%s is only defined in the select list and HAVING of a query with a window in GROUP BY", name)
		}
		slot := c.fieldSlot(name, nil)
		return &node{eval: func(ev *Evaluator) value.Value { return ev.rec[slot] }}
	case scopeGroup:
		// groupRef has matched keys and window bounds already.
		if n, ok := sc.aliases[lower]; ok {
			return n
		}
		c.fail(off, "column %s must be in GROUP BY or inside an aggregate: add it to GROUP BY, or write e.g. MAX(%s) or FIRST_VALUE(%s)", name, name, name)
	case scopeTop:
		if n, ok := sc.aliases[lower]; ok {
			return n
		}
		for i, cn := range sc.cols {
			if cn == lower {
				return &node{eval: func(ev *Evaluator) value.Value { return ev.top[i].Value }}
			}
		}
		c.fail(off, "column %s is not a column of the subquery (it has %s): name it in the subquery's select list", name, strings.Join(sc.cols, ", "))
	}
	return nil
}

func andNode(a, b *node) *node {
	return pure(func(ev *Evaluator) value.Value {
		at, ak := truth(a.eval(ev))
		if ak && !at {
			return vFalse
		}
		bt, bk := truth(b.eval(ev))
		if bk && !bt {
			return vFalse
		}
		if !ak || !bk {
			return value.Null
		}
		return vTrue
	}, a, b)
}

func orNode(a, b *node) *node {
	return pure(func(ev *Evaluator) value.Value {
		at, ak := truth(a.eval(ev))
		if ak && at {
			return vTrue
		}
		bt, bk := truth(b.eval(ev))
		if bk && bt {
			return vTrue
		}
		if !ak || !bk {
			return value.Null
		}
		return vFalse
	}, a, b)
}

func notNode(a *node) *node {
	return pure(func(ev *Evaluator) value.Value {
		t, k := truth(a.eval(ev))
		if !k {
			return value.Null
		}
		return value.Bool(!t)
	}, a)
}

func isNode(op string, a *node) *node {
	var fn func(v value.Value) bool
	switch op {
	case sqlparser.IsNullStr:
		fn = func(v value.Value) bool { return v.IsNull() }
	case sqlparser.IsNotNullStr:
		fn = func(v value.Value) bool { return !v.IsNull() }
	case sqlparser.IsTrueStr:
		fn = func(v value.Value) bool { t, k := truth(v); return k && t }
	case sqlparser.IsNotTrueStr:
		fn = func(v value.Value) bool { t, k := truth(v); return !k || !t }
	case sqlparser.IsFalseStr:
		fn = func(v value.Value) bool { t, k := truth(v); return k && !t }
	default: // is not false
		fn = func(v value.Value) bool { t, k := truth(v); return !k || t }
	}
	return pure(func(ev *Evaluator) value.Value { return value.Bool(fn(a.eval(ev))) }, a)
}

func cmpNode(op string, a, b *node) *node {
	var test func(int) bool
	switch op {
	case "=":
		test = func(r int) bool { return r == 0 }
	case "<":
		test = func(r int) bool { return r < 0 }
	case ">":
		test = func(r int) bool { return r > 0 }
	case "<=":
		test = func(r int) bool { return r <= 0 }
	case ">=":
		test = func(r int) bool { return r >= 0 }
	case "!=":
		test = func(r int) bool { return r != 0 }
	case "<=>":
		return pure(func(ev *Evaluator) value.Value {
			x, y := a.eval(ev), b.eval(ev)
			if x.IsNull() || y.IsNull() {
				return value.Bool(x.IsNull() && y.IsNull())
			}
			r, ok := compare(x, y)
			return value.Bool(ok && r == 0)
		}, a, b)
	}
	return pure(func(ev *Evaluator) value.Value {
		r, ok := compare(a.eval(ev), b.eval(ev))
		if !ok {
			return value.Null
		}
		return value.Bool(test(r))
	}, a, b)
}

func (c *compiler) comparison(e *sqlparser.ComparisonExpr, sc *scope) *node {
	switch e.Operator {
	case sqlparser.InStr, sqlparser.NotInStr:
		x := c.expr(e.Left, sc)
		c.seekWord("in")
		tuple, ok := e.Right.(sqlparser.ValTuple)
		if !ok {
			c.fail(c.last, "IN needs a list of values: x IN (1, 2, 3); subqueries are not supported")
		}
		list := make([]*node, len(tuple))
		for i, t := range tuple {
			list[i] = c.expr(t, sc)
		}
		n := inNode(x, list)
		if e.Operator == sqlparser.NotInStr {
			n = notNode(n)
		}
		return n
	case sqlparser.LikeStr, sqlparser.NotLikeStr:
		x := c.expr(e.Left, sc)
		off := c.seekWord("like")
		p := c.expr(e.Right, sc)
		esc := byte('\\')
		if e.Escape != nil {
			en := c.expr(e.Escape, sc)
			ev := en.eval(nil)
			if !en.konst || ev.Kind != value.KindString || len(ev.S) != 1 {
				c.fail(off, "ESCAPE takes one character: LIKE 'a!%%' ESCAPE '!'")
			}
			esc = ev.S[0]
		}
		n := likeNode(x, p, esc)
		if e.Operator == sqlparser.NotLikeStr {
			n = notNode(n)
		}
		return n
	case sqlparser.RegexpStr, sqlparser.NotRegexpStr:
		x := c.expr(e.Left, sc)
		off := c.seekWord("regexp")
		p := c.expr(e.Right, sc)
		pv := p.eval(nil)
		if !p.konst || pv.Kind != value.KindString {
			c.fail(off, "REGEXP needs a constant 'pattern'")
		}
		re, err := regexp.Compile(pv.S)
		if err != nil {
			c.fail(off, "bad REGEXP pattern: %v", err)
		}
		n := pure(func(ev *Evaluator) value.Value {
			v := x.eval(ev)
			if v.IsNull() {
				return value.Null
			}
			return value.Bool(re.MatchString(v.Text()))
		}, x)
		if e.Operator == sqlparser.NotRegexpStr {
			n = notNode(n)
		}
		return n
	case sqlparser.JSONExtractOp, sqlparser.JSONUnquoteExtractOp:
		return c.jsonPath(e.Left, e.Right, sc)
	}
	a := c.expr(e.Left, sc)
	b := c.expr(e.Right, sc)
	return cmpNode(e.Operator, a, b)
}

// inNode is x IN (list): NULL when x is NULL, or when no element matches
// and some element is NULL (SQL's three-valued IN).
func inNode(x *node, list []*node) *node {
	return pure(func(ev *Evaluator) value.Value {
		v := x.eval(ev)
		if v.IsNull() {
			return value.Null
		}
		sawNull := false
		for _, l := range list {
			r, ok := compare(v, l.eval(ev))
			if ok && r == 0 {
				return vTrue
			}
			if !ok {
				sawNull = true
			}
		}
		if sawNull {
			return value.Null
		}
		return vFalse
	}, append([]*node{x}, list...)...)
}

// likeNode compiles LIKE. A constant pattern is turned into a prefix,
// suffix, substring or equality test when it can be, else a regexp.
func likeNode(x, p *node, esc byte) *node {
	if p.konst {
		pv := p.eval(nil)
		if pv.IsNull() {
			return constNode(value.Null)
		}
		match := likeMatcher(pv.Text(), esc)
		return pure(func(ev *Evaluator) value.Value {
			v := x.eval(ev)
			if v.IsNull() {
				return value.Null
			}
			return value.Bool(match(v.Text()))
		}, x)
	}
	return pure(func(ev *Evaluator) value.Value {
		v, pv := x.eval(ev), p.eval(ev)
		if v.IsNull() || pv.IsNull() {
			return value.Null
		}
		return value.Bool(likeMatcher(pv.Text(), esc)(v.Text()))
	}, x, p)
}

func likeMatcher(pat string, esc byte) func(string) bool {
	// Literal runs and the wildcards between them.
	var lit strings.Builder
	var parts []string // literal pieces split at %
	simple := true     // no _ and no escapes
	for i := 0; i < len(pat); i++ {
		switch ch := pat[i]; {
		case ch == esc && i+1 < len(pat):
			simple = false
			i++
			lit.WriteByte(pat[i])
		case ch == '%':
			parts = append(parts, lit.String())
			lit.Reset()
		case ch == '_':
			simple = false
			lit.WriteByte(ch)
		default:
			lit.WriteByte(ch)
		}
	}
	parts = append(parts, lit.String())
	if simple {
		switch {
		case len(parts) == 1:
			s := parts[0]
			return func(v string) bool { return v == s }
		case len(parts) == 2 && parts[1] == "":
			s := parts[0]
			return func(v string) bool { return strings.HasPrefix(v, s) }
		case len(parts) == 2 && parts[0] == "":
			s := parts[1]
			return func(v string) bool { return strings.HasSuffix(v, s) }
		case len(parts) == 3 && parts[0] == "" && parts[2] == "":
			s := parts[1]
			return func(v string) bool { return strings.Contains(v, s) }
		}
	}
	var re strings.Builder
	re.WriteString(`(?s)\A`)
	for i := 0; i < len(pat); i++ {
		switch ch := pat[i]; {
		case ch == esc && i+1 < len(pat):
			i++
			re.WriteString(regexp.QuoteMeta(pat[i : i+1]))
		case ch == '%':
			re.WriteString(".*")
		case ch == '_':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(pat[i : i+1]))
		}
	}
	re.WriteString(`\z`)
	rx := regexp.MustCompile(re.String())
	return rx.MatchString
}

func (c *compiler) unary(e *sqlparser.UnaryExpr, sc *scope) *node {
	switch e.Operator {
	case sqlparser.UPlusStr:
		return c.expr(e.Expr, sc)
	case sqlparser.UMinusStr:
		x := c.expr(e.Expr, sc)
		return pure(func(ev *Evaluator) value.Value {
			v := x.eval(ev)
			switch v.Kind {
			case value.KindInt:
				return value.Int(-v.I)
			case value.KindFloat:
				return value.Float(-v.F)
			}
			if f, ok := v.AsFloat(); ok && v.Kind == value.KindString {
				return value.Float(-f)
			}
			return value.Null
		}, x)
	case sqlparser.BangStr:
		return notNode(c.expr(e.Expr, sc))
	}
	c.fail(c.seekText(strings.TrimSpace(e.Operator)), "operator %s is not supported", strings.TrimSpace(e.Operator))
	return nil
}

func (c *compiler) binary(e *sqlparser.BinaryExpr, sc *scope) *node {
	switch e.Operator {
	case sqlparser.JSONExtractOp, sqlparser.JSONUnquoteExtractOp:
		return c.jsonPath(e.Left, e.Right, sc)
	case sqlparser.PlusStr, sqlparser.MinusStr, sqlparser.MultStr, sqlparser.DivStr, sqlparser.IntDivStr, sqlparser.ModStr:
		a := c.expr(e.Left, sc)
		b := c.expr(e.Right, sc)
		return arith(e.Operator, a, b)
	}
	c.fail(c.seekText(e.Operator), "bitwise operator %s is not supported", e.Operator)
	return nil
}

// numeric reads v for arithmetic: integers (and booleans, and timestamps as
// epoch ms) stay integers; strings that parse as numbers become DOUBLE.
func numeric(v value.Value) (i int64, f float64, isInt, ok bool) {
	switch v.Kind {
	case value.KindInt, value.KindBool, value.KindTime:
		return v.I, float64(v.I), true, true
	case value.KindFloat:
		return 0, v.F, false, true
	case value.KindString:
		if f, ok := v.AsFloat(); ok {
			return 0, f, false, true
		}
	}
	return 0, 0, false, false
}

// arith implements + - * / DIV %. BIGINT op BIGINT stays BIGINT (wrapping
// on overflow) except '/', which is always DOUBLE as in MySQL; division
// or modulo by zero is NULL. A TIMESTAMP plus or minus a number (an
// INTERVAL is milliseconds) is a TIMESTAMP; TIMESTAMP - TIMESTAMP is
// milliseconds.
func arith(op string, a, b *node) *node {
	return pure(func(ev *Evaluator) value.Value {
		x, y := a.eval(ev), b.eval(ev)
		xi, xf, xInt, xok := numeric(x)
		yi, yf, yInt, yok := numeric(y)
		if !xok || !yok {
			return value.Null
		}
		timeOf := func(r value.Value) value.Value {
			if r.Kind == value.KindInt && (op == "+" || op == "-") {
				switch {
				case x.Kind == value.KindTime && y.Kind != value.KindTime,
					op == "+" && y.Kind == value.KindTime && x.Kind != value.KindTime:
					return value.Time(r.I)
				}
			}
			return r
		}
		if xInt && yInt {
			switch op {
			case "+":
				return timeOf(value.Int(xi + yi))
			case "-":
				return timeOf(value.Int(xi - yi))
			case "*":
				return value.Int(xi * yi)
			case "/":
				if yi == 0 {
					return value.Null
				}
				return value.Float(float64(xi) / float64(yi))
			case "div":
				if yi == 0 || (xi == math.MinInt64 && yi == -1) {
					return value.Null
				}
				return value.Int(xi / yi)
			default: // %
				if yi == 0 {
					return value.Null
				}
				if yi == -1 {
					return value.Int(0)
				}
				return value.Int(xi % yi)
			}
		}
		switch op {
		case "+":
			return value.Float(xf + yf)
		case "-":
			return value.Float(xf - yf)
		case "*":
			return value.Float(xf * yf)
		case "/":
			if yf == 0 {
				return value.Null
			}
			return value.Float(xf / yf)
		case "div":
			if yf == 0 {
				return value.Null
			}
			q := math.Trunc(xf / yf)
			if math.IsNaN(q) || math.Abs(q) >= 1<<63 {
				return value.Null
			}
			return value.Int(int64(q))
		default:
			if yf == 0 {
				return value.Null
			}
			return value.Float(math.Mod(xf, yf))
		}
	}, a, b)
}

func (c *compiler) caseExpr(e *sqlparser.CaseExpr, sc *scope) *node {
	c.seekWord("case")
	var base *node
	if e.Expr != nil {
		base = c.expr(e.Expr, sc)
	}
	conds := make([]*node, len(e.Whens))
	vals := make([]*node, len(e.Whens))
	all := []*node{}
	if base != nil {
		all = append(all, base)
	}
	for i, w := range e.Whens {
		conds[i] = c.expr(w.Cond, sc)
		vals[i] = c.expr(w.Val, sc)
		all = append(all, conds[i], vals[i])
	}
	els := constNode(value.Null)
	if e.Else != nil {
		els = c.expr(e.Else, sc)
		all = append(all, els)
	}
	return pure(func(ev *Evaluator) value.Value {
		if base != nil {
			b := base.eval(ev)
			for i, cn := range conds {
				if r, ok := compare(b, cn.eval(ev)); ok && r == 0 {
					return vals[i].eval(ev)
				}
			}
			return els.eval(ev)
		}
		for i, cn := range conds {
			if t, k := truth(cn.eval(ev)); k && t {
				return vals[i].eval(ev)
			}
		}
		return els.eval(ev)
	}, all...)
}

// jsonPath compiles col->'$.a.b', col->>'$.a.b' and JSON_EXTRACT(col,
// '$.a.b'): the field is extracted from the record's parse tree, so it
// only works on a column of the input.
func (c *compiler) jsonPath(left, right sqlparser.Expr, sc *scope) *node {
	col, ok := left.(*sqlparser.ColName)
	off := c.last
	if ok {
		off = c.seekIdent(strings.ToLower(col.Name.String()))
	}
	if !ok || sc.kind != scopeRow {
		c.fail(off, "a JSON path applies to a column of the input stream: write col->>'$.a.b' (in a windowed query, inside an aggregate or as a GROUP BY key)")
	}
	lit, ok := right.(*sqlparser.SQLVal)
	if !ok || lit.Type != sqlparser.StrVal {
		c.fail(off, "a JSON path must be a constant string like '$.a.b' or '$.items[0]'")
	}
	path, err := parsePath(string(lit.Val))
	if err != "" {
		c.fail(off, "bad JSON path '%s': %s", lit.Val, err)
	}
	slot := c.fieldSlot(col.Name.String(), path)
	return &node{eval: func(ev *Evaluator) value.Value { return ev.rec[slot] }}
}

// parsePath reads a MySQL JSON path: $, .key, ."quoted key", [index].
func parsePath(p string) ([]string, string) {
	if !strings.HasPrefix(p, "$") {
		return nil, "it must start with $"
	}
	var keys []string
	for i := 1; i < len(p); {
		switch p[i] {
		case '.':
			i++
			if i < len(p) && p[i] == '"' {
				end := strings.IndexByte(p[i+1:], '"')
				if end < 0 {
					return nil, "unterminated quoted key"
				}
				keys = append(keys, p[i+1:i+1+end])
				i += end + 2
				continue
			}
			j := i
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			if j == i {
				return nil, "empty key"
			}
			keys = append(keys, p[i:j])
			i = j
		case '[':
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				return nil, "unterminated [index]"
			}
			idx := strings.TrimSpace(p[i+1 : i+end])
			if n, err := strconv.Atoi(idx); err != nil || n < 0 {
				return nil, "an array index must be a number"
			}
			keys = append(keys, idx)
			i += end + 1
		default:
			return nil, "expected . or [ after $"
		}
	}
	if len(keys) == 0 {
		return nil, "it must name a key, like $.a"
	}
	return keys, ""
}
