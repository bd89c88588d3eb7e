package query

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Error is an invalid or unsupported construct in a script, with the
// position of the offending token.
type Error struct {
	Line, Column int // 1-based; Column counts characters (runes), not bytes
	Offset       int // byte offset of the token in the script
	Msg          string
}

func (e *Error) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// newError places msg at byte offset off of src.
func newError(src string, off int, msg string) *Error {
	off = max(0, min(off, len(src)))
	line, col := 1, 1
	for _, r := range src[:off] {
		if r == '\n' {
			line++
			col = 1
			continue
		}
		col++
	}
	return &Error{Line: line, Column: col, Offset: off, Msg: msg}
}

// tokKind is the class of a lexical token. The lexer here is ours, not
// sqlparser's: sqlparser's AST carries no positions, so the compiler finds
// the offending construct of an error by searching these tokens.
type tokKind uint8

const (
	tkWord   tokKind = iota + 1 // unquoted identifier or keyword (text lowered)
	tkQuoted                    // `backquoted identifier` (text unquoted, lowered)
	tkString                    // 'string'
	tkNumber                    // 1, 1.5, 1e3, 0x1f
	tkPunct                     // operators and punctuation
)

type token struct {
	kind       tokKind
	text       string
	start, end int // byte offsets in the text the token came from
	depth      int // parenthesis depth: '(' itself is outside, ')' too
}

func isWordByte(c byte) bool {
	return c == '_' || c == '@' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// lex splits src into tokens, skipping whitespace and the comments
// sqlparser skips (--, //, #, /* */). dq is the offset of the first
// double-quote character outside strings, comments and backquotes, or -1.
// Unterminated strings and comments run to the end; sqlparser reports them.
func lex(src string) (toks []token, dq int) {
	dq = -1
	depth := 0
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
			continue
		case c == '#' || (c == '-' || c == '/') && i+1 < len(src) && src[i+1] == c:
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				i = len(src)
			} else {
				i += end + 4
			}
			continue
		}
		t := token{start: i, depth: depth}
		switch {
		case c == '\'' || c == '"' || c == '`':
			if c == '"' && dq < 0 {
				dq = i
			}
			j := i + 1
			for j < len(src) {
				if src[j] == '\\' && c != '`' {
					j += 2
					continue
				}
				if src[j] == c {
					if j+1 < len(src) && src[j+1] == c { // doubled quote
						j += 2
						continue
					}
					break
				}
				j++
			}
			t.end = min(j+1, len(src))
			t.kind = tkString
			if c == '`' {
				t.kind = tkQuoted
				t.text = strings.ToLower(strings.ReplaceAll(src[i+1:max(i+1, min(j, len(src)))], "``", "`"))
			} else {
				t.text = src[i:t.end]
			}
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := i + 1
			for j < len(src) && (isWordByte(src[j]) || src[j] == '.' ||
				(src[j] == '+' || src[j] == '-') && (src[j-1] == 'e' || src[j-1] == 'E')) {
				j++
			}
			t.kind, t.end, t.text = tkNumber, j, src[i:j]
		case isWordByte(c):
			j := i + 1
			for j < len(src) && isWordByte(src[j]) {
				j++
			}
			t.kind, t.end, t.text = tkWord, j, strings.ToLower(src[i:j])
		default:
			n := 1
			for _, op := range []string{"->>", "<=>", "->", "<=", ">=", "<>", "!=", "<<", ">>", "||", "&&", ":="} {
				if strings.HasPrefix(src[i:], op) {
					n = len(op)
					break
				}
			}
			if n == 1 && c >= utf8.RuneSelf {
				_, n = utf8.DecodeRuneInString(src[i:])
			}
			t.kind, t.end, t.text = tkPunct, i+n, src[i:i+n]
			switch t.text {
			case "(":
				depth++
			case ")":
				depth--
				t.depth = depth
			}
		}
		toks = append(toks, t)
		i = t.end
	}
	return toks, dq
}

// edit replaces src[start:end] with repl.
type edit struct {
	start, end int
	repl       string
}

// span records where one edit landed, to map offsets back.
type span struct{ newStart, newEnd, origStart, origEnd int }

// offsetMap maps byte offsets of rewritten text back to the original.
type offsetMap []span

func (m offsetMap) orig(n int) int {
	delta := 0
	for _, s := range m {
		if n < s.newStart {
			break
		}
		if n < s.newEnd {
			return s.origStart
		}
		delta = s.origEnd - s.newEnd
	}
	return n + delta
}

func applyEdits(src string, edits []edit) (string, offsetMap) {
	sort.Slice(edits, func(i, j int) bool { return edits[i].start < edits[j].start })
	var b strings.Builder
	var m offsetMap
	last := 0
	for _, e := range edits {
		if e.start < last {
			continue // overlapping edits cannot happen for well-formed input; keep the first
		}
		b.WriteString(src[last:e.start])
		ns := b.Len()
		b.WriteString(e.repl)
		m = append(m, span{newStart: ns, newEnd: b.Len(), origStart: e.start, origEnd: e.end})
		last = e.end
	}
	b.WriteString(src[last:])
	return b.String(), m
}

// rewrite turns standard-SQL forms that the MySQL grammar of sqlparser
// cannot read into function calls it can, keeping a map back to the
// original offsets:
//
//	CAST(x AS type)            -> __cast(x, type)       (any type name)
//	SUBSTRING(x FROM a FOR b)  -> __substr(x, a, b)     (any first argument)
//	EXTRACT(unit FROM ts)      -> EXTRACT(unit, ts)
//	FLOOR(ts TO unit)          -> FLOOR(ts, unit)       (also CEIL)
//	POSITION(a IN b)           -> POSITION(a, b)
//	STEP(ts BY INTERVAL ...)   -> STEP(ts, INTERVAL ...)
//	TIMESTAMP '...'            -> __timestamp('...')
func rewrite(src string, toks []token) (string, offsetMap) {
	var edits []edit
	// inner finds, inside the parentheses opening at toks[open], the
	// tokens at the argument depth with text word.
	inner := func(open int, word string, fn func(k int)) {
		d := toks[open].depth + 1
		for k := open + 1; k < len(toks) && toks[k].depth >= d; k++ {
			if toks[k].depth == d && toks[k].kind == tkWord && toks[k].text == word {
				fn(k)
			}
		}
	}
	comma := func(k int) { edits = append(edits, edit{toks[k].start, toks[k].end, ","}) }
	for i, t := range toks {
		if t.kind != tkWord {
			continue
		}
		if t.text == "timestamp" && i+1 < len(toks) && toks[i+1].kind == tkString && (i == 0 || toks[i-1].text != "as") {
			edits = append(edits, edit{t.start, t.end, "__timestamp("}, edit{toks[i+1].end, toks[i+1].end, ")"})
			continue
		}
		if i+1 >= len(toks) || toks[i+1].text != "(" || (i > 0 && toks[i-1].text == ".") {
			continue
		}
		switch t.text {
		case "cast":
			// sqlparser reads CAST(x AS type) for MySQL's types; other
			// type names become __cast(x, type). Only the first AS counts:
			// looking for the closing parenthesis from each would take
			// quadratic time on CAST(x AS a AS a AS a ...).
			first := true
			inner(i+1, "as", func(k int) {
				if !first || k+1 >= len(toks) || mysqlCastTypes[toks[k+1].text] {
					first = false
					return
				}
				first = false
				closeTok := k + 1
				for closeTok < len(toks) && !(toks[closeTok].text == ")" && toks[closeTok].depth == toks[i+1].depth) {
					closeTok++
				}
				if closeTok == len(toks) {
					return // unbalanced: let sqlparser report it
				}
				// The type (BOOLEAN, VARCHAR(20), DOUBLE PRECISION) becomes
				// a string: some type names are reserved words to sqlparser.
				typ := strings.NewReplacer("'", "", "\\", "", "\"", "", "`", "").Replace(src[toks[k+1].start:toks[closeTok].start])
				edits = append(edits, edit{t.start, t.end, "__cast"})
				comma(k)
				edits = append(edits, edit{toks[k+1].start, toks[closeTok].start, "'" + strings.TrimSpace(typ) + "'"})
			})
		case "substring", "substr":
			edits = append(edits, edit{t.start, t.end, "__substr"})
			inner(i+1, "from", comma)
			inner(i+1, "for", comma)
		case "extract":
			inner(i+1, "from", comma)
		case "floor", "ceil", "ceiling":
			inner(i+1, "to", comma)
		case "position":
			inner(i+1, "in", comma)
		case "step":
			inner(i+1, "by", comma)
		}
	}
	if len(edits) == 0 {
		return src, nil
	}
	return applyEdits(src, edits)
}

// mysqlCastTypes are the CAST target types sqlparser's grammar reads.
var mysqlCastTypes = map[string]bool{
	"binary": true, "char": true, "date": true, "datetime": true, "decimal": true, "json": true,
	"nchar": true, "signed": true, "time": true, "unsigned": true,
}
