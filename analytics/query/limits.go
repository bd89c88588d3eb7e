package query

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/xwb1989/sqlparser"
)

// Limits on a script. A script comes from the network, and everything
// that reads it (sqlparser's parser, our walks over its AST, sqlparser's
// String and Walk, the compiled closures) recurses once per level of
// nesting, so both its size and its depth are bounded before any of them
// runs.
const (
	// MaxScriptBytes is the longest script Compile accepts unless MaxBytes
	// says otherwise: 100 KiB, the limit Kinesis Data Analytics puts on an
	// application's code (ApplicationCode, at most 102400 characters; we
	// count bytes). Compile time and memory grow linearly with the script
	// within the depth limit.
	MaxScriptBytes = 102400

	// MaxDepth is how deeply an expression may nest. Each operator,
	// parenthesis, function call, CASE and subquery is one level, so a
	// chain of operators at one level counts one per operator: a + b + c
	// is 3 levels deep (sqlparser builds it as ((a + b) + c)). Longer
	// chains are refused rather than compiled: the compiled closures would
	// recurse as deeply on every record. Write a long OR of equalities as
	// IN (...), or group a long chain with parentheses, (a OR b) OR (c OR d).
	MaxDepth = 128
)

// Option configures Compile.
type Option func(*options)

type options struct {
	maxBytes int
}

// MaxBytes sets the longest script Compile accepts (default
// MaxScriptBytes). The analytics service raises it by the length of the
// default settings it puts in front of a user's script.
func MaxBytes(n int) Option { return func(o *options) { o.maxBytes = n } }

// checkSize refuses a script over limit bytes, pointing at the first byte
// past the limit.
func checkSize(script string, limit int) {
	if len(script) > limit {
		panic(newError(script, limit, fmt.Sprintf("the script is %d bytes; the limit is %d bytes "+
			"(as Kinesis Data Analytics limits application code to 100 KiB): split it into several applications", len(script), limit)))
	}
}

const tooDeep = "the expression is nested too deeply: more than %d levels (each operator, parenthesis, function call and CASE is a level); " +
	"write a long OR of equalities as IN (...), group a long chain with parentheses, (a OR b) OR (c OR d), or use a simpler expression"

// checkNesting refuses, before sqlparser sees them, the nestings that
// tokens show: parentheses, CASE ... END, and runs of prefix operators
// (! - + ~ NOT), all counted together. It points at the token that goes
// past MaxDepth. Nesting that only the AST shows (chains of binary
// operators) is left to checkDepth; tokens bound the parser's own work,
// which is iterative, by the script's length.
func checkNesting(script string, toks []token) {
	cases, run := 0, 0
	for i, t := range toks {
		level := t.depth + cases
		switch {
		case t.kind == tkPunct && t.text == "(":
			run = 0
			level++
		case t.kind == tkWord && t.text == "case":
			run = 0
			cases++
			level++
		case t.kind == tkWord && t.text == "end":
			run = 0
			cases = max(0, cases-1)
		case t.kind == tkPunct && (t.text == "!" || t.text == "-" || t.text == "+" || t.text == "~") ||
			t.kind == tkWord && t.text == "not":
			run++
			level += run
		default:
			run = 0
		}
		if level > MaxDepth {
			if t.text == "(" && i > 0 && toks[i-1].kind == tkWord {
				t = toks[i-1] // a function call: point at its name
			}
			panic(newError(script, t.start, fmt.Sprintf(tooDeep, MaxDepth)))
		}
	}
}

// checkDepth refuses a statement whose AST nests more than MaxDepth
// expression levels, walking it with an explicit stack (sqlparser.Walk
// recurses). It runs before anything else walks the AST.
func (c *compiler) checkDepth(stmt sqlparser.Statement) {
	type frame struct {
		n     sqlparser.SQLNode
		depth int
	}
	stack := []frame{{stmt, 0}}
	seen := map[string]int{} // anchors visited, to place an error
	var kids []sqlparser.SQLNode
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if levelOf(f.n) {
			f.depth++
		}
		if f.depth > MaxDepth {
			c.fail(c.anchorOffset(f.n, seen), tooDeep, MaxDepth)
		}
		if k := anchorKey(f.n); k != "" {
			seen[k]++
		}
		kids = children(f.n, kids[:0])
		for i := len(kids) - 1; i >= 0; i-- {
			stack = append(stack, frame{kids[i], f.depth})
		}
	}
}

// levelOf tells whether n is a level of nesting.
func levelOf(n sqlparser.SQLNode) bool {
	switch n.(type) {
	case sqlparser.Expr, sqlparser.TableExpr, *sqlparser.Union, *sqlparser.ParenSelect:
		return true
	}
	return false
}

// children appends n's direct children to out: sqlparser.Walk visits n,
// then each child, and descends no further because visit says so.
func children(n sqlparser.SQLNode, out []sqlparser.SQLNode) []sqlparser.SQLNode {
	self := true
	_ = sqlparser.Walk(func(c sqlparser.SQLNode) (bool, error) {
		if self {
			self = false
			return true, nil
		}
		if v := reflect.ValueOf(c); v.Kind() != reflect.Pointer || !v.IsNil() {
			out = append(out, c)
		}
		return false, nil
	}, n)
	return out
}

// anchorKey names the token a node starts with, for the nodes that start
// with a token of their own: a function's name, CASE, a column, a number.
func anchorKey(n sqlparser.SQLNode) string {
	switch n := n.(type) {
	case *sqlparser.FuncExpr:
		return "f" + n.Name.Lowered()
	case *sqlparser.CaseExpr:
		return "wcase"
	case *sqlparser.ColName:
		return "i" + n.Name.Lowered()
	case *sqlparser.SQLVal:
		if n.Type == sqlparser.IntVal || n.Type == sqlparser.FloatVal {
			return "n" + strings.ToLower(string(n.Val))
		}
	}
	return ""
}

// anchorOffset places an error at node n, which the walk has not
// counted yet: at its first anchor (descending into first children), the
// next occurrence of that token after the seen ones. Failing that, at
// the last construct located.
func (c *compiler) anchorOffset(n sqlparser.SQLNode, seen map[string]int) int {
	var kids []sqlparser.SQLNode
	for n != nil {
		if key := anchorKey(n); key != "" {
			skip := seen[key]
			for i := c.t0; i < c.t1; i++ {
				if tokenKey(c.toks, i) == key {
					if skip == 0 {
						return c.toks[i].start
					}
					skip--
				}
			}
			break
		}
		kids = children(n, kids[:0])
		n = nil
		if len(kids) > 0 {
			n = kids[0]
		}
	}
	return c.last
}

// tokenKey is anchorKey's counterpart for token i.
func tokenKey(toks []token, i int) string {
	t := toks[i]
	switch t.kind {
	case tkNumber:
		return "n" + strings.ToLower(t.text)
	case tkQuoted:
		return "i" + t.text
	case tkWord:
		if t.text == "case" {
			return "wcase"
		}
		if i+1 < len(toks) && toks[i+1].text == "(" {
			return "f" + t.text
		}
		return "i" + t.text
	}
	return ""
}
