package filter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/internal/trunc"
)

// Limits on one pattern. MaxPatternLength is the Lambda model's length
// constraint on Filter.Pattern; MaxDepth is Spate's own (AWS documents
// none): it bounds the recursion of Compile and Match, and no real
// pattern comes near it.
const (
	MaxPatternLength = 4096
	MaxDepth         = 32
)

// dataKey is the top-level key under which a pattern addresses the
// record's data (decoded from JSON), as Lambda names it for Kinesis.
const dataKey = "data"

// Set is a compiled FilterCriteria: a record matches when any of its
// patterns matches. The zero Set (and a nil *Set) has no patterns and
// matches every record, as a mapping without FilterCriteria does.
type Set struct {
	patterns []*pattern
}

// Len returns the number of patterns in the Set.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.patterns)
}

type pattern struct {
	root *node
	// usesData is set when the pattern names "data" at its top (directly
	// or in a top-level $or): such a pattern never matches a record whose
	// data is not JSON.
	usesData bool
}

// node is one object of a pattern: every field must match (AND), and for
// each $or at least one of its alternatives.
type node struct {
	fields []field
	ors    [][]*node
}

// field is one key of a node: either a nested object (sub) or a list of
// rules, any of which may match (OR).
type field struct {
	key   string
	sub   *node
	rules []rule
}

type ruleKind uint8

const (
	ruleString ruleKind = iota
	ruleNumber          // s holds the number's text: Lambda compares numbers by their string form
	ruleBool
	ruleNull
	rulePrefix
	ruleSuffix
	ruleEqualsFold
	ruleNumeric
	ruleExists
	ruleAnythingBut // strs and nums
	ruleAnythingButPrefix
	ruleAnythingButSuffix
	ruleAnythingButFold // strs
)

type rule struct {
	kind ruleKind
	s    string
	fold bool // prefix/suffix ignoring case
	b    bool // the boolean value, or exists' wanted answer
	strs []string
	nums []string
	lo   bound
	hi   bound
}

type bound struct {
	set, incl bool
	v         float64
}

// Compile parses and checks patterns (each a Filter.Pattern) into a Set.
// An error is an *apierr.Error InvalidParameterValueException naming the
// pattern (Filters[i]) and what in it is wrong. Compile(nil) returns a Set
// that matches every record.
func Compile(patterns []string) (*Set, error) {
	s := &Set{patterns: make([]*pattern, 0, len(patterns))}
	for i, text := range patterns {
		p, err := compilePattern(text)
		if err != nil {
			return nil, apierr.New(apierr.InvalidParameterValue,
				"Invalid filter pattern definition: FilterCriteria.Filters[%d].Pattern: %v", i, err)
		}
		s.patterns = append(s.patterns, p)
	}
	return s, nil
}

func compilePattern(text string) (*pattern, error) {
	// Count characters, as the model's length constraint does; the byte
	// length bounds the count from above, so most patterns skip the walk.
	if len(text) > MaxPatternLength && utf8.RuneCountInString(text) > MaxPatternLength {
		return nil, fmt.Errorf("longer than %d characters", MaxPatternLength)
	}
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("not valid JSON: %v", jsonErr(err))
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("not valid JSON: text after the pattern's object")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("a pattern must be a JSON object")
	}
	p := &pattern{}
	c := compiler{p: p}
	root, err := c.object(m, "", 1, true)
	if err != nil {
		return nil, err
	}
	p.root = root
	return p, nil
}

// jsonErr drops encoding/json's Go type names from a decode error.
func jsonErr(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at character %d)", se.Error(), se.Offset)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end"
	}
	return err.Error()
}

type compiler struct {
	p *pattern
}

// object compiles one pattern object at path (for messages). top is set
// for the root and its $or alternatives, where the record's keys live.
func (c *compiler) object(m map[string]any, path string, depth int, top bool) (*node, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("%s: nests deeper than %d objects", where(path), MaxDepth)
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("%s: an empty object filters nothing", where(path))
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic messages and match order
	n := &node{}
	for _, k := range keys {
		v := m[k]
		kp := join(path, k)
		if k == "$or" {
			alts, err := c.or(v, kp, depth, top)
			if err != nil {
				return nil, err
			}
			n.ors = append(n.ors, alts)
			continue
		}
		if top && k == dataKey {
			c.p.usesData = true
			if _, ok := v.(map[string]any); !ok {
				return nil, fmt.Errorf("%s: must be an object of the data's JSON properties (Kinesis data is filtered as JSON)", where(kp))
			}
		}
		switch x := v.(type) {
		case map[string]any:
			sub, err := c.object(x, kp, depth+1, false)
			if err != nil {
				return nil, err
			}
			n.fields = append(n.fields, field{key: k, sub: sub})
		case []any:
			rules, err := c.rules(x, kp)
			if err != nil {
				return nil, err
			}
			n.fields = append(n.fields, field{key: k, rules: rules})
		default:
			return nil, fmt.Errorf("%s: a value must be an array of match values or an object, not %s", where(kp), kind(v))
		}
	}
	return n, nil
}

func (c *compiler) or(v any, path string, depth int, top bool) ([]*node, error) {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return nil, fmt.Errorf("%s: must be a non-empty array of objects", where(path))
	}
	alts := make([]*node, 0, len(arr))
	for i, e := range arr {
		ep := fmt.Sprintf("%s[%d]", path, i)
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: must be an object, not %s", where(ep), kind(e))
		}
		alt, err := c.object(m, ep, depth+1, top)
		if err != nil {
			return nil, err
		}
		alts = append(alts, alt)
	}
	return alts, nil
}

func (c *compiler) rules(arr []any, path string) ([]rule, error) {
	if len(arr) == 0 {
		return nil, fmt.Errorf("%s: an empty array matches nothing", where(path))
	}
	rules := make([]rule, 0, len(arr))
	for _, e := range arr {
		var r rule
		switch x := e.(type) {
		case string:
			r = rule{kind: ruleString, s: x}
		case json.Number:
			r = rule{kind: ruleNumber, s: x.String()}
		case bool:
			r = rule{kind: ruleBool, b: x}
		case nil:
			r = rule{kind: ruleNull}
		case map[string]any:
			var err error
			if r, err = operator(x, path); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%s: a match value must be a string, number, boolean, null or operator object, not %s", where(path), kind(e))
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// operator compiles one operator object such as {"prefix": "us-"}.
func operator(m map[string]any, path string) (rule, error) {
	if len(m) != 1 {
		return rule{}, fmt.Errorf("%s: an operator object must have exactly one key, not %d", where(path), len(m))
	}
	for op, v := range m {
		switch op {
		case "prefix", "suffix":
			kind := rulePrefix
			if op == "suffix" {
				kind = ruleSuffix
			}
			s, fold, ok := stringOrFold(v)
			if !ok {
				return rule{}, fmt.Errorf("%s: %q takes a string or {\"equals-ignore-case\": string}", where(path), op)
			}
			return rule{kind: kind, s: s, fold: fold}, nil
		case "equals-ignore-case":
			s, ok := v.(string)
			if !ok {
				return rule{}, fmt.Errorf("%s: %q takes a string", where(path), op)
			}
			return rule{kind: ruleEqualsFold, s: s}, nil
		case "anything-but":
			return anythingBut(v, path)
		case "numeric":
			return numeric(v, path)
		case "exists":
			b, ok := v.(bool)
			if !ok {
				return rule{}, fmt.Errorf("%s: \"exists\" takes true or false", where(path))
			}
			return rule{kind: ruleExists, b: b}, nil
		case "wildcard", "cidr":
			return rule{}, fmt.Errorf("%s: %q is an EventBridge operator that Lambda event filtering does not support", where(path), op)
		default:
			return rule{}, fmt.Errorf("%s: unknown operator %s", where(path), clip(strconv.Quote(op)))
		}
	}
	panic("unreachable")
}

// stringOrFold reads prefix's and suffix's argument: "s" or
// {"equals-ignore-case": "s"}.
func stringOrFold(v any) (s string, fold, ok bool) {
	switch x := v.(type) {
	case string:
		return x, false, true
	case map[string]any:
		if len(x) != 1 {
			return "", false, false
		}
		s, ok := x["equals-ignore-case"].(string)
		return s, true, ok
	}
	return "", false, false
}

func anythingBut(v any, path string) (rule, error) {
	bad := fmt.Errorf("%s: \"anything-but\" takes a string, a number, a non-empty array of strings or of numbers, or one of {\"prefix\"|\"suffix\"|\"equals-ignore-case\": ...}", where(path))
	switch x := v.(type) {
	case string:
		return rule{kind: ruleAnythingBut, strs: []string{x}}, nil
	case json.Number:
		return rule{kind: ruleAnythingBut, nums: []string{x.String()}}, nil
	case []any:
		if len(x) == 0 {
			return rule{}, bad
		}
		r := rule{kind: ruleAnythingBut}
		for _, e := range x {
			switch y := e.(type) {
			case string:
				r.strs = append(r.strs, y)
			case json.Number:
				r.nums = append(r.nums, y.String())
			default:
				return rule{}, bad
			}
		}
		if len(r.strs) > 0 && len(r.nums) > 0 {
			return rule{}, fmt.Errorf("%s: \"anything-but\" takes strings or numbers, not both", where(path))
		}
		return r, nil
	case map[string]any:
		if len(x) != 1 {
			return rule{}, bad
		}
		for op, arg := range x {
			switch op {
			case "prefix", "suffix":
				s, ok := arg.(string)
				if !ok {
					return rule{}, bad
				}
				kind := ruleAnythingButPrefix
				if op == "suffix" {
					kind = ruleAnythingButSuffix
				}
				return rule{kind: kind, s: s}, nil
			case "equals-ignore-case":
				r := rule{kind: ruleAnythingButFold}
				switch y := arg.(type) {
				case string:
					r.strs = []string{y}
				case []any:
					for _, e := range y {
						s, ok := e.(string)
						if !ok {
							return rule{}, bad
						}
						r.strs = append(r.strs, s)
					}
				}
				if len(r.strs) == 0 {
					return rule{}, bad
				}
				return r, nil
			}
		}
	}
	return rule{}, bad
}

// numeric compiles ["=", n] or one or two comparisons [op, n (, op, n)],
// at most one lower bound (">", ">=") and one upper ("<", "<=").
func numeric(v any, path string) (rule, error) {
	bad := func(why string) (rule, error) {
		return rule{}, fmt.Errorf("%s: \"numeric\" %s", where(path), why)
	}
	arr, ok := v.([]any)
	if !ok || (len(arr) != 2 && len(arr) != 4) {
		return bad(`takes ["=", n] or one or two comparisons such as [">", 0, "<=", 5]`)
	}
	r := rule{kind: ruleNumeric}
	for i := 0; i < len(arr); i += 2 {
		op, ok := arr[i].(string)
		if !ok {
			return bad("expects an operator string (=, <, <=, >, >=) before each number")
		}
		num, ok := arr[i+1].(json.Number)
		if !ok {
			return bad(fmt.Sprintf("expects a number after %q", op))
		}
		f, err := strconv.ParseFloat(num.String(), 64)
		if err != nil || math.IsInf(f, 0) {
			return bad(fmt.Sprintf("number %s is out of range", clip(num.String())))
		}
		b := bound{set: true, v: f}
		switch op {
		case "=":
			if len(arr) != 2 {
				return bad(`"=" cannot be combined with another comparison`)
			}
			b.incl = true
			r.lo, r.hi = b, b
		case ">", ">=":
			if r.lo.set {
				return bad("has two lower bounds")
			}
			b.incl = op == ">="
			r.lo = b
		case "<", "<=":
			if r.hi.set {
				return bad("has two upper bounds")
			}
			b.incl = op == "<="
			r.hi = b
		default:
			return bad(fmt.Sprintf("has unknown comparison %s", clip(strconv.Quote(op))))
		}
	}
	if r.lo.set && r.hi.set && r.lo.v > r.hi.v {
		return bad("range is empty: its lower bound is above its upper bound")
	}
	return r, nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// where renders a path for a message, clipped: keys are the user's own
// but may be long.
func where(path string) string {
	if path == "" {
		return "the pattern"
	}
	return "at " + clip(path)
}

func clip(s string) string { return trunc.String(s, 120) }

func kind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// decodeJSON decodes b as one JSON value (numbers kept as text); ok is
// false when b is not valid JSON.
func decodeJSON(b []byte) (v any, ok bool) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, false
	}
	return v, true
}
