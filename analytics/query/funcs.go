package query

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spatehq/spate/analytics/value"
	"github.com/xwb1989/sqlparser"
)

// fnSpec is a scalar function: its argument count (max -1: any number)
// and how to build it. Functions with raw set read their arguments'
// syntax themselves (units, type names, JSON paths); the others get them
// compiled.
type fnSpec struct {
	min, max int
	raw      bool
	build    func(c *compiler, args []*node, raw []sqlparser.Expr, sc *scope, off int) *node
	usage    string
}

var scalarFuncs map[string]fnSpec

func init() {
	s1 := func(f func(string) value.Value) fnSpec {
		return fnSpec{min: 1, max: 1, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			return pure(func(ev *Evaluator) value.Value {
				v := a[0].eval(ev)
				if v.IsNull() {
					return value.Null
				}
				return f(v.Text())
			}, a...)
		}}
	}
	f1 := func(f func(float64) float64) fnSpec {
		return fnSpec{min: 1, max: 1, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			return pure(func(ev *Evaluator) value.Value {
				x, ok := a[0].eval(ev).AsFloat()
				if !ok {
					return value.Null
				}
				r := f(x)
				if math.IsNaN(r) {
					return value.Null
				}
				return value.Float(r)
			}, a...)
		}}
	}
	now := fnSpec{min: 0, max: 0, build: func(*compiler, []*node, []sqlparser.Expr, *scope, int) *node {
		return &node{eval: func(ev *Evaluator) value.Value { return value.Time(ev.now) }}
	}}
	timePart := func(unit string) fnSpec {
		return fnSpec{min: 1, max: 1, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			return extractNode(unit, a[0])
		}}
	}
	scalarFuncs = map[string]fnSpec{
		"upper":        s1(func(s string) value.Value { return value.String(strings.ToUpper(s)) }),
		"lower":        s1(func(s string) value.Value { return value.String(strings.ToLower(s)) }),
		"length":       s1(func(s string) value.Value { return value.Int(int64(len(s))) }),
		"char_length":  s1(func(s string) value.Value { return value.Int(int64(utf8.RuneCountInString(s))) }),
		"trim":         s1(func(s string) value.Value { return value.String(strings.TrimSpace(s)) }),
		"ltrim":        s1(func(s string) value.Value { return value.String(strings.TrimLeft(s, " \t\r\n")) }),
		"rtrim":        s1(func(s string) value.Value { return value.String(strings.TrimRight(s, " \t\r\n")) }),
		"json_unquote": s1(func(s string) value.Value { return value.String(s) }),
		"__substr": {min: 2, max: 3, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			return substrNode(a)
		}, usage: "SUBSTRING(s, start[, length])"},
		"left": {min: 2, max: 2, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			return strInt(a, func(s string, n int64) string {
				r := []rune(s)
				return string(r[:max(0, min(n, int64(len(r))))])
			})
		}, usage: "LEFT(s, n)"},
		"right": {min: 2, max: 2, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			return strInt(a, func(s string, n int64) string {
				r := []rune(s)
				return string(r[int64(len(r))-max(0, min(n, int64(len(r)))):])
			})
		}, usage: "RIGHT(s, n)"},
		"concat": {min: 1, max: -1, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			return pure(func(ev *Evaluator) value.Value {
				var b strings.Builder
				for _, x := range a {
					v := x.eval(ev)
					if v.IsNull() {
						return value.Null
					}
					b.WriteString(v.Text())
				}
				return value.String(b.String())
			}, a...)
		}},
		"replace": {min: 3, max: 3, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			return pure(func(ev *Evaluator) value.Value {
				s, from, to := a[0].eval(ev), a[1].eval(ev), a[2].eval(ev)
				if s.IsNull() || from.IsNull() || to.IsNull() {
					return value.Null
				}
				if from.Text() == "" {
					return value.String(s.Text())
				}
				return value.String(strings.ReplaceAll(s.Text(), from.Text(), to.Text()))
			}, a...)
		}, usage: "REPLACE(s, from, to)"},
		"locate": {min: 2, max: 3, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			return locateNode(a[0], a[1], a[2:])
		}, usage: "LOCATE(substring, s[, start])"},
		"position": {min: 2, max: 2, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			return locateNode(a[0], a[1], nil)
		}, usage: "POSITION(substring IN s)"},
		"instr": {min: 2, max: 2, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			return locateNode(a[1], a[0], nil)
		}, usage: "INSTR(s, substring)"},
		"coalesce": {min: 1, max: -1, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			return coalesceNode(a)
		}},
		"ifnull": {min: 2, max: 2, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			return coalesceNode(a)
		}, usage: "IFNULL(x, default)"},
		"nullif": {min: 2, max: 2, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			return pure(func(ev *Evaluator) value.Value {
				x := a[0].eval(ev)
				if r, ok := compare(x, a[1].eval(ev)); ok && r == 0 {
					return value.Null
				}
				return x
			}, a...)
		}, usage: "NULLIF(x, y)"},
		"if": {min: 3, max: 3, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			return pure(func(ev *Evaluator) value.Value {
				if t, k := truth(a[0].eval(ev)); k && t {
					return a[1].eval(ev)
				}
				return a[2].eval(ev)
			}, a...)
		}, usage: "IF(condition, then, else)"},
		"greatest": {min: 1, max: -1, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			return extremeNode(a, 1)
		}},
		"least": {min: 1, max: -1, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			return extremeNode(a, -1)
		}},
		"abs": {min: 1, max: 1, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			return pure(func(ev *Evaluator) value.Value {
				v := a[0].eval(ev)
				switch v.Kind {
				case value.KindInt:
					if v.I < 0 {
						return value.Int(-v.I)
					}
					return v
				case value.KindFloat:
					return value.Float(math.Abs(v.F))
				}
				if f, ok := v.AsFloat(); ok && v.Kind == value.KindString {
					return value.Float(math.Abs(f))
				}
				return value.Null
			}, a...)
		}},
		"sign": f1(func(x float64) float64 {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return -1
			}
			return 0
		}),
		"sqrt":  f1(math.Sqrt),
		"ln":    f1(math.Log),
		"log10": f1(math.Log10),
		"exp":   f1(math.Exp),
		"power": {min: 2, max: 2, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			return pure(func(ev *Evaluator) value.Value {
				x, ok1 := a[0].eval(ev).AsFloat()
				y, ok2 := a[1].eval(ev).AsFloat()
				r := math.Pow(x, y)
				if !ok1 || !ok2 || math.IsNaN(r) {
					return value.Null
				}
				return value.Float(r)
			}, a...)
		}, usage: "POWER(x, y)"},
		"mod": {min: 2, max: 2, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			return arith("%", a[0], a[1])
		}, usage: "MOD(x, y)"},
		"round": {min: 1, max: 2, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			return roundNode(a)
		}, usage: "ROUND(x[, digits])"},
		"floor": {min: 1, max: 2, raw: true, build: func(c *compiler, _ []*node, raw []sqlparser.Expr, sc *scope, off int) *node {
			return c.floorCeil(raw, sc, off, false)
		}, usage: "FLOOR(x), or FLOOR(ts TO MINUTE) for a timestamp"},
		"ceil": {min: 1, max: 2, raw: true, build: func(c *compiler, _ []*node, raw []sqlparser.Expr, sc *scope, off int) *node {
			return c.floorCeil(raw, sc, off, true)
		}, usage: "CEIL(x), or CEIL(ts TO MINUTE) for a timestamp"},
		"__cast": {min: 2, max: 2, raw: true, build: func(c *compiler, _ []*node, raw []sqlparser.Expr, sc *scope, off int) *node {
			x := c.expr(raw[0], sc)
			lit, ok := raw[1].(*sqlparser.SQLVal)
			if !ok || lit.Type != sqlparser.StrVal {
				c.fail(off, "CAST(x AS type) takes a type name: BIGINT, DOUBLE, VARCHAR, BOOLEAN or TIMESTAMP")
			}
			typ := strings.ToLower(string(lit.Val))
			if i := strings.IndexAny(typ, " (\t\n"); i >= 0 {
				typ = typ[:i]
			}
			return c.cast(x, typ, off)
		}, usage: "CAST(x AS type)"},
		"__timestamp": {min: 1, max: 1, build: func(c *compiler, a []*node, _ []sqlparser.Expr, _ *scope, off int) *node {
			v := a[0].eval(nil)
			ms, ok := v.AsTime()
			if !a[0].konst || v.Kind != value.KindString || !ok {
				c.fail(off, "TIMESTAMP takes an RFC 3339 string: TIMESTAMP '2026-11-22T03:00:00Z'")
			}
			return constNode(value.Time(ms))
		}},
		"current_timestamp": now, "now": now, "localtimestamp": now, "localtime": now,
		"utc_timestamp": now, "proctime": now,
		"current_date": {min: 0, max: 0, build: func(*compiler, []*node, []sqlparser.Expr, *scope, int) *node {
			return &node{eval: func(ev *Evaluator) value.Value { return value.Time(floorDiv(ev.now, 86_400_000) * 86_400_000) }}
		}},
		"to_timestamp": {min: 1, max: 1, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			return pure(func(ev *Evaluator) value.Value {
				ms, ok := a[0].eval(ev).AsTime()
				if !ok {
					return value.Null
				}
				return value.Time(ms)
			}, a...)
		}, usage: "TO_TIMESTAMP(epoch_ms or 'RFC 3339')"},
		"unix_millis": {min: 1, max: 1, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			return pure(func(ev *Evaluator) value.Value {
				ms, ok := a[0].eval(ev).AsTime()
				if !ok {
					return value.Null
				}
				return value.Int(ms)
			}, a...)
		}, usage: "UNIX_MILLIS(ts)"},
		"unix_timestamp": {min: 0, max: 1, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			if len(a) == 0 {
				return &node{eval: func(ev *Evaluator) value.Value { return value.Int(floorDiv(ev.now, 1000)) }}
			}
			return pure(func(ev *Evaluator) value.Value {
				ms, ok := a[0].eval(ev).AsTime()
				if !ok {
					return value.Null
				}
				return value.Int(floorDiv(ms, 1000))
			}, a...)
		}, usage: "UNIX_TIMESTAMP(ts)"},
		"from_unixtime": {min: 1, max: 1, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			return pure(func(ev *Evaluator) value.Value {
				s, ok := a[0].eval(ev).AsFloat()
				if !ok || math.IsNaN(s) || math.Abs(s) > 9e15 {
					return value.Null
				}
				return value.Time(int64(math.Floor(s * 1000)))
			}, a...)
		}, usage: "FROM_UNIXTIME(epoch_seconds)"},
		"year": timePart("year"), "quarter": timePart("quarter"), "month": timePart("month"),
		"week": timePart("week"), "day": timePart("day"), "dayofweek": timePart("dayofweek"),
		"dayofyear": timePart("dayofyear"), "hour": timePart("hour"), "minute": timePart("minute"),
		"second": timePart("second"), "millisecond": timePart("millisecond"),
		"extract": {min: 2, max: 2, raw: true, build: func(c *compiler, _ []*node, raw []sqlparser.Expr, sc *scope, off int) *node {
			col, ok := raw[0].(*sqlparser.ColName)
			unit := ""
			if ok {
				unit = col.Name.Lowered()
				c.seekIdent(unit)
			}
			if _, known := extractUnits[unit]; !known {
				c.fail(off, "EXTRACT takes a unit: EXTRACT(HOUR FROM ts); units are YEAR, QUARTER, MONTH, WEEK, DAY, DAYOFWEEK, DAYOFYEAR, HOUR, MINUTE, SECOND, MILLISECOND, EPOCH")
			}
			return extractNode(unit, c.expr(raw[1], sc))
		}, usage: "EXTRACT(unit FROM ts)"},
		"date_format": {min: 2, max: 2, build: func(_ *compiler, a []*node, _ []sqlparser.Expr, _ *scope, _ int) *node {
			return pure(func(ev *Evaluator) value.Value {
				ms, ok := a[0].eval(ev).AsTime()
				f := a[1].eval(ev)
				if !ok || f.IsNull() {
					return value.Null
				}
				return value.String(dateFormat(ms, f.Text()))
			}, a...)
		}, usage: "DATE_FORMAT(ts, '%Y-%m-%d %H:%i:%s')"},
		"json_extract": {min: 2, max: 2, raw: true, build: func(c *compiler, _ []*node, raw []sqlparser.Expr, sc *scope, _ int) *node {
			return c.jsonPath(raw[0], raw[1], sc)
		}, usage: "JSON_EXTRACT(column, '$.a.b')"},
	}
	for alias, name := range map[string]string{
		"ucase": "upper", "lcase": "lower", "octet_length": "length", "character_length": "char_length",
		"substring": "__substr", "substr": "__substr", "mid": "__substr", "pow": "power", "ceiling": "ceil",
		"dayofmonth": "day",
	} {
		scalarFuncs[alias] = scalarFuncs[name]
	}
}

// call compiles a function call that groupRef did not resolve.
func (c *compiler) call(f *sqlparser.FuncExpr, sc *scope) *node {
	name := f.Name.Lowered()
	off := c.seekFunc(name)
	upper := strings.ToUpper(strings.TrimPrefix(name, "__"))
	if _, ok := aggKinds[name]; ok {
		switch {
		case sc.clause == "the select list" || sc.clause == "HAVING":
			c.fail(off, "%s", unboundedMsg)
		case sc.clause == "WHERE":
			c.fail(off, "aggregates are not allowed in WHERE, which filters input rows: use HAVING to filter window results")
		case sc.kind == scopeTop:
			c.fail(off, "aggregates are not allowed in the outer query of a top-K: aggregate in the subquery and select the column")
		}
		c.fail(off, "%s is an aggregate, which is not allowed in %s", upper, sc.clause)
	}
	if _, ok := windowFuncs[name]; ok {
		c.fail(off, "%s belongs in GROUP BY: GROUP BY %s; select the window's bounds with %s_START(...) and %s_END(...), or window_start and window_end", upper, winUsageShort(name), upper, upper)
	}
	if _, ok := winAux[name]; ok {
		c.fail(off, "%s needs its window in GROUP BY: GROUP BY ..., %s", upper, winUsageShort(winAux[name]))
	}
	spec, ok := scalarFuncs[name]
	if !ok {
		c.fail(off, "unknown function %s: see the dialect's functions (UPPER, LOWER, CONCAT, SUBSTRING, COALESCE, CAST, ROUND, FLOOR, HOUR, DATE_FORMAT, TO_TIMESTAMP, ...)", f.Name.String())
	}
	raw := c.plainArgs(f, off)
	if len(raw) < spec.min || spec.max >= 0 && len(raw) > spec.max {
		c.fail(off, "%s takes %s: %s", upper, argCount(spec.min, spec.max), usageOf(upper, spec))
	}
	var args []*node
	if !spec.raw {
		args = make([]*node, len(raw))
		for i, a := range raw {
			args[i] = c.expr(a, sc)
		}
	}
	return spec.build(c, args, raw, sc, off)
}

func winUsageShort(name string) string {
	switch name {
	case "hop":
		return "HOP(ts, slide, size)"
	case "session":
		return "SESSION(ts, INTERVAL '30' SECOND)"
	}
	return strings.ToUpper(name) + "(ts, INTERVAL '1' MINUTE)"
}

func argCount(lo, hi int) string {
	switch {
	case hi < 0:
		return "at least " + strconv.Itoa(lo) + " argument" + plural(lo)
	case lo == hi:
		return strconv.Itoa(lo) + " argument" + plural(lo)
	}
	return strconv.Itoa(lo) + " to " + strconv.Itoa(hi) + " arguments"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func usageOf(upper string, s fnSpec) string {
	if s.usage != "" {
		return s.usage
	}
	switch {
	case s.max == 0:
		return upper + "()"
	case s.max < 0:
		return upper + "(a, b, ...)"
	}
	return upper + "(x)"
}

// cast converts to a SQL type by name.
func (c *compiler) cast(x *node, typ string, off int) *node {
	var fn func(v value.Value) value.Value
	switch strings.ToLower(typ) {
	case "bigint", "int", "integer", "smallint", "tinyint", "signed", "unsigned":
		fn = func(v value.Value) value.Value {
			switch v.Kind {
			case value.KindInt, value.KindBool, value.KindTime:
				return value.Int(v.I)
			case value.KindString:
				if i, err := strconv.ParseInt(strings.TrimSpace(v.S), 10, 64); err == nil {
					return value.Int(i)
				}
			}
			f, ok := v.AsFloat()
			if !ok || math.IsNaN(f) || math.Abs(f) >= 1<<63 {
				return value.Null
			}
			return value.Int(int64(math.Round(f)))
		}
	case "double", "float", "real", "decimal", "numeric":
		fn = func(v value.Value) value.Value {
			if f, ok := v.AsFloat(); ok {
				return value.Float(f)
			}
			return value.Null
		}
	case "varchar", "char", "string", "text", "nchar":
		fn = func(v value.Value) value.Value {
			if v.IsNull() {
				return v
			}
			return value.String(v.Text())
		}
	case "boolean", "bool":
		fn = func(v value.Value) value.Value {
			if v.Kind == value.KindString {
				switch strings.ToLower(strings.TrimSpace(v.S)) {
				case "true", "t", "yes", "1":
					return vTrue
				case "false", "f", "no", "0":
					return vFalse
				}
				return value.Null
			}
			t, k := truth(v)
			if !k {
				return value.Null
			}
			return value.Bool(t)
		}
	case "timestamp", "datetime":
		fn = func(v value.Value) value.Value {
			if ms, ok := v.AsTime(); ok {
				return value.Time(ms)
			}
			return value.Null
		}
	case "date":
		fn = func(v value.Value) value.Value {
			if ms, ok := v.AsTime(); ok {
				return value.Time(floorDiv(ms, 86_400_000) * 86_400_000)
			}
			return value.Null
		}
	default:
		c.fail(off, "cannot CAST to %s: the types are BIGINT, DOUBLE, VARCHAR, BOOLEAN, TIMESTAMP and DATE", strings.ToUpper(typ))
	}
	return pure(func(ev *Evaluator) value.Value { return fn(x.eval(ev)) }, x)
}

func substrNode(a []*node) *node {
	return pure(func(ev *Evaluator) value.Value {
		s, p := a[0].eval(ev), a[1].eval(ev)
		pos, ok := p.AsFloat()
		if s.IsNull() || !ok {
			return value.Null
		}
		r := []rune(s.Text())
		start := int64(pos)
		switch {
		case start > 0:
			start--
		case start < 0:
			start += int64(len(r))
			if start < 0 {
				return value.String("")
			}
		default:
			return value.String("")
		}
		if start >= int64(len(r)) {
			return value.String("")
		}
		end := int64(len(r))
		if len(a) == 3 {
			n, ok := a[2].eval(ev).AsFloat()
			if !ok {
				return value.Null
			}
			if n < 1 {
				return value.String("")
			}
			if n < float64(end-start) {
				end = start + int64(n)
			}
		}
		return value.String(string(r[start:end]))
	}, a...)
}

func strInt(a []*node, f func(string, int64) string) *node {
	return pure(func(ev *Evaluator) value.Value {
		s := a[0].eval(ev)
		n, ok := a[1].eval(ev).AsFloat()
		if s.IsNull() || !ok || math.IsNaN(n) {
			return value.Null
		}
		return value.String(f(s.Text(), int64(max(-1, min(n, 1<<40)))))
	}, a...)
}

// locateNode is LOCATE(sub, s[, start]): the 1-based character position
// of sub in s, 0 when absent.
func locateNode(sub, s *node, from []*node) *node {
	all := append([]*node{sub, s}, from...)
	return pure(func(ev *Evaluator) value.Value {
		sv, tv := sub.eval(ev), s.eval(ev)
		if sv.IsNull() || tv.IsNull() {
			return value.Null
		}
		r := []rune(tv.Text())
		start := 0
		if len(from) == 1 {
			f, ok := from[0].eval(ev).AsFloat()
			if !ok {
				return value.Null
			}
			if f < 1 || f > float64(len(r)+1) {
				return value.Int(0)
			}
			start = int(f) - 1
		}
		i := strings.Index(string(r[start:]), sv.Text())
		if i < 0 {
			return value.Int(0)
		}
		return value.Int(int64(start + utf8.RuneCountInString(string(r[start:])[:i]) + 1))
	}, all...)
}

func coalesceNode(a []*node) *node {
	return pure(func(ev *Evaluator) value.Value {
		for _, x := range a {
			if v := x.eval(ev); !v.IsNull() {
				return v
			}
		}
		return value.Null
	}, a...)
}

// extremeNode is GREATEST (dir 1) or LEAST (dir -1): NULL if any argument
// is NULL, as in MySQL.
func extremeNode(a []*node, dir int) *node {
	return pure(func(ev *Evaluator) value.Value {
		var best value.Value
		for i, x := range a {
			v := x.eval(ev)
			if v.IsNull() {
				return value.Null
			}
			if i == 0 {
				best = v
				continue
			}
			if r, ok := compare(v, best); ok && r*dir > 0 {
				best = v
			}
		}
		return best
	}, a...)
}

func roundNode(a []*node) *node {
	return pure(func(ev *Evaluator) value.Value {
		v := a[0].eval(ev)
		d := int64(0)
		if len(a) == 2 {
			dv, ok := a[1].eval(ev).AsFloat()
			if !ok {
				return value.Null
			}
			d = int64(max(-30, min(dv, 30)))
		}
		if v.Kind == value.KindInt && d >= 0 {
			return v
		}
		f, ok := v.AsFloat()
		if !ok {
			return value.Null
		}
		scale := math.Pow(10, float64(d))
		r := math.Round(f*scale) / scale
		if v.Kind == value.KindInt && math.Abs(r) < 1<<63 {
			return value.Int(int64(r))
		}
		return value.Float(r)
	}, a...)
}

// floorCeil is FLOOR/CEIL of a number, or of a timestamp to a unit:
// FLOOR(ts TO MINUTE), FLOOR(ts, INTERVAL '5' MINUTE).
func (c *compiler) floorCeil(raw []sqlparser.Expr, sc *scope, off int, ceil bool) *node {
	x := c.expr(raw[0], sc)
	if len(raw) == 1 {
		return pure(func(ev *Evaluator) value.Value {
			v := x.eval(ev)
			if v.Kind == value.KindInt {
				return v
			}
			f, ok := v.AsFloat()
			if !ok {
				return value.Null
			}
			if ceil {
				f = math.Ceil(f)
			} else {
				f = math.Floor(f)
			}
			if math.Abs(f) < 1<<63 {
				return value.Int(int64(f))
			}
			return value.Float(f)
		}, x)
	}
	var step int64
	var months int
	switch u := raw[1].(type) {
	case *sqlparser.IntervalExpr:
		step = c.interval(u)
		if step <= 0 {
			c.fail(off, "the interval must be positive")
		}
	case *sqlparser.ColName:
		unit := u.Name.Lowered()
		c.seekIdent(unit)
		switch unit {
		case "month":
			months = 1
		case "quarter":
			months = 3
		case "year":
			months = 12
		default:
			step = unitMs[unit]
		}
		if step == 0 && months == 0 {
			c.fail(off, "FLOOR(ts TO unit) takes SECOND, MINUTE, HOUR, DAY, MONTH, QUARTER or YEAR")
		}
	default:
		c.fail(off, "write FLOOR(ts TO MINUTE) or FLOOR(ts, INTERVAL '5' MINUTE)")
	}
	return pure(func(ev *Evaluator) value.Value {
		ms, ok := x.eval(ev).AsTime()
		if !ok {
			return value.Null
		}
		var r int64
		if months > 0 {
			t := time.UnixMilli(ms).UTC()
			m := (int(t.Month()) - 1) / months * months
			ft := time.Date(t.Year(), time.Month(m+1), 1, 0, 0, 0, 0, time.UTC)
			if ceil && !ft.Equal(t) {
				ft = ft.AddDate(0, months, 0)
			}
			r = ft.UnixMilli()
		} else {
			r = floorDiv(ms, step) * step
			if ceil && r != ms {
				r += step
			}
		}
		return value.Time(r)
	}, x)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

var extractUnits = map[string]bool{
	"year": true, "quarter": true, "month": true, "week": true, "day": true, "dayofweek": true,
	"dayofyear": true, "hour": true, "minute": true, "second": true, "millisecond": true, "epoch": true,
}

// extractNode reads one field of a timestamp, in UTC. DAYOFWEEK is 1 for
// Sunday as in MySQL; WEEK is the ISO week; EPOCH is seconds.
func extractNode(unit string, x *node) *node {
	return pure(func(ev *Evaluator) value.Value {
		ms, ok := x.eval(ev).AsTime()
		if !ok {
			return value.Null
		}
		t := time.UnixMilli(ms).UTC()
		var r int
		switch unit {
		case "year":
			r = t.Year()
		case "quarter":
			r = (int(t.Month())-1)/3 + 1
		case "month":
			r = int(t.Month())
		case "week":
			_, r = t.ISOWeek()
		case "day":
			r = t.Day()
		case "dayofweek":
			r = int(t.Weekday()) + 1
		case "dayofyear":
			r = t.YearDay()
		case "hour":
			r = t.Hour()
		case "minute":
			r = t.Minute()
		case "second":
			r = t.Second()
		case "millisecond":
			r = t.Nanosecond() / 1e6
		case "epoch":
			return value.Int(floorDiv(ms, 1000))
		}
		return value.Int(int64(r))
	}, x)
}

// dateFormat renders ms with MySQL's DATE_FORMAT specifiers, in UTC.
func dateFormat(ms int64, f string) string {
	t := time.UnixMilli(ms).UTC()
	var b strings.Builder
	two := func(n int) {
		if n < 10 {
			b.WriteByte('0')
		}
		b.WriteString(strconv.Itoa(n))
	}
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		switch f[i] {
		case 'Y':
			b.WriteString(strconv.Itoa(t.Year()))
		case 'y':
			two(t.Year() % 100)
		case 'm':
			two(int(t.Month()))
		case 'c':
			b.WriteString(strconv.Itoa(int(t.Month())))
		case 'd':
			two(t.Day())
		case 'e':
			b.WriteString(strconv.Itoa(t.Day()))
		case 'H':
			two(t.Hour())
		case 'k':
			b.WriteString(strconv.Itoa(t.Hour()))
		case 'h', 'I':
			two((t.Hour()+11)%12 + 1)
		case 'l':
			b.WriteString(strconv.Itoa((t.Hour()+11)%12 + 1))
		case 'i':
			two(t.Minute())
		case 's', 'S':
			two(t.Second())
		case 'f':
			b.WriteString(t.Format(".000000")[1:])
		case 'p':
			b.WriteString(t.Format("PM"))
		case 'T':
			b.WriteString(t.Format("15:04:05"))
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 'W':
			b.WriteString(t.Format("Monday"))
		case 'b':
			b.WriteString(t.Format("Jan"))
		case 'M':
			b.WriteString(t.Format("January"))
		case 'j':
			b.WriteString(t.Format("002"))
		default:
			b.WriteByte(f[i])
		}
	}
	return b.String()
}
