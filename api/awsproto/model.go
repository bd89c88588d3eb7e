package awsproto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// shapeKind is a model shape's type.
type shapeKind int

const (
	kindString shapeKind = iota
	kindBlob
	kindInteger
	kindLong
	kindBoolean
	kindTimestamp
	kindStructure
	kindList
	kindMap
	kindDouble
)

// kindNames lists the model's type names in shapeKind order.
func kindNames() [10]string {
	return [...]string{"string", "blob", "integer", "long", "boolean", "timestamp", "structure", "list", "map", "double"}
}

func parseKind(name string) (shapeKind, bool) {
	for i, n := range kindNames() {
		if n == name {
			return shapeKind(i), true
		}
	}
	return 0, false
}

func (k shapeKind) String() string {
	if names := kindNames(); int(k) >= 0 && int(k) < len(names) {
		return names[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// shape is a compiled model shape: its type and the constraints a value of
// it must satisfy. Shapes are immutable once the model is compiled and are
// shared by every request.
type shape struct {
	name string
	kind shapeKind

	// min and max bound a string's length (UTF-16 code units, as Java
	// counts), a blob's decoded length, a list's or map's size, or a
	// number's value.
	min, max       int64
	hasMin, hasMax bool

	pattern *pattern // nil when the shape has none (or RE2 cannot check it)
	enum    []string

	members []*member // structure members, in model order
	elem    *shape    // list member
	key     *shape    // map key
	value   *shape    // map value
}

// member is one member of a structure shape.
type member struct {
	name     string // as on the wire, e.g. "StreamName"
	path     string // as validation messages name it, e.g. "streamName"
	shape    *shape
	required bool
}

// hasConstraints reports whether a value of s can fail validation on its own.
func (s *shape) hasConstraints() bool {
	return s.hasMin || s.hasMax || s.pattern != nil || len(s.enum) > 0
}

// Model is a compiled AWS service model: the input shape of every
// operation, with its constraints. It is immutable and safe for concurrent
// use.
type Model struct {
	targetPrefix string
	// operations maps an action name to its input shape (nil when the
	// operation takes no input).
	operations map[string]*shape
	// outputs maps an action name to its output shape (nil when it has
	// none): how a reply is transcoded to CBOR.
	outputs map[string]*shape
	// unchecked lists the patterns (shape: pattern) that RE2 cannot
	// express even after translation; values of those shapes are not
	// checked against them.
	unchecked []string
}

// TargetPrefix is the service half of the X-Amz-Target header of the
// model's requests ("Kinesis_20131202").
func (m *Model) TargetPrefix() string { return m.targetPrefix }

// Operations lists the model's actions, sorted.
func (m *Model) Operations() []string {
	names := make([]string, 0, len(m.operations))
	for n := range m.operations {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// UncheckedPatterns lists, as "Shape: pattern", the patterns whose
// constraint the validator does not check because Go's RE2 cannot express
// them (look-behind, or look-ahead other than at the start), sorted.
func (m *Model) UncheckedPatterns() []string { return slices.Clone(m.unchecked) }

type shapeRef struct {
	Shape string `json:"shape"`
}

type rawShape struct {
	Type     string         `json:"type"`
	Required []string       `json:"required"`
	Members  orderedMembers `json:"members"`
	Member   *shapeRef      `json:"member"`
	Key      *shapeRef      `json:"key"`
	Value    *shapeRef      `json:"value"`
	Min      *json.Number   `json:"min"`
	Max      *json.Number   `json:"max"`
	Pattern  string         `json:"pattern"`
	Enum     []string       `json:"enum"`
}

type rawMember struct {
	name  string
	shape string
}

// orderedMembers keeps a structure's members in the order the model lists
// them, so that validation messages come out in a stable, readable order.
type orderedMembers []rawMember

func (o *orderedMembers) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("members: expected an object")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := t.(string)
		var m struct {
			Shape string `json:"shape"`
		}
		if err := dec.Decode(&m); err != nil {
			return fmt.Errorf("member %s: %w", name, err)
		}
		*o = append(*o, rawMember{name: name, shape: m.Shape})
	}
	return nil
}

type rawModel struct {
	Metadata struct {
		TargetPrefix string `json:"targetPrefix"`
	} `json:"metadata"`
	Operations map[string]struct {
		Input  *shapeRef `json:"input"`
		Output *shapeRef `json:"output"`
	} `json:"operations"`
	Shapes map[string]rawShape `json:"shapes"`
}

// LoadModel parses and compiles a service model in the botocore JSON format
// (service-2.json), after applying overlays in order.
//
// An overlay is a JSON document {"shapes": {...}} in the same format that
// extends the model, for a server's documented extensions of the AWS API:
// a shape the model lacks is added; for a shape it has, an overlay's
// "members" are appended (a member the shape already has is an error),
// "required" names are added, and "enum", "min", "max" and "pattern",
// when given, replace the model's. Validation then treats the extended
// model as the contract.
func LoadModel(model []byte, overlays ...[]byte) (*Model, error) {
	var raw rawModel
	if err := json.Unmarshal(model, &raw); err != nil {
		return nil, fmt.Errorf("parse service model: %w", err)
	}
	for i, o := range overlays {
		if err := applyOverlay(raw.Shapes, o); err != nil {
			return nil, fmt.Errorf("overlay %d: %w", i+1, err)
		}
	}
	c := compiler{raw: raw.Shapes, done: make(map[string]*shape)}
	m := &Model{targetPrefix: raw.Metadata.TargetPrefix, operations: make(map[string]*shape)}
	for name, op := range raw.Operations {
		if op.Input == nil {
			m.operations[name] = nil
			continue
		}
		s, err := c.compile(op.Input.Shape)
		if err != nil {
			return nil, fmt.Errorf("operation %s: %w", name, err)
		}
		m.operations[name] = s
	}
	m.unchecked = c.unchecked
	slices.Sort(m.unchecked)
	// Output shapes only guide the CBOR encoding of replies (their
	// constraints are never checked). One that does not compile leaves
	// its replies to the shapeless transcoding.
	m.outputs = make(map[string]*shape)
	for name, op := range raw.Operations {
		if op.Output != nil {
			if s, err := c.compile(op.Output.Shape); err == nil {
				m.outputs[name] = s
			}
		}
	}
	return m, nil
}

func applyOverlay(shapes map[string]rawShape, overlay []byte) error {
	var o struct {
		Shapes map[string]rawShape `json:"shapes"`
	}
	if err := json.Unmarshal(overlay, &o); err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	// Sorted, so that an overlay with several errors reports the same one
	// every time.
	names := make([]string, 0, len(o.Shapes))
	for n := range o.Shapes {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		add := o.Shapes[name]
		s, ok := shapes[name]
		if !ok {
			shapes[name] = add
			continue
		}
		if add.Type != "" && add.Type != s.Type {
			return fmt.Errorf("shape %s: type %s cannot become %s", name, s.Type, add.Type)
		}
		for _, m := range add.Members {
			if slices.ContainsFunc(s.Members, func(x rawMember) bool { return x.name == m.name }) {
				return fmt.Errorf("shape %s already has member %s", name, m.name)
			}
		}
		s.Members = append(slices.Clone(s.Members), add.Members...)
		s.Required = append(slices.Clone(s.Required), add.Required...)
		if add.Enum != nil {
			s.Enum = add.Enum
		}
		if add.Min != nil {
			s.Min = add.Min
		}
		if add.Max != nil {
			s.Max = add.Max
		}
		if add.Pattern != "" {
			s.Pattern = add.Pattern
		}
		shapes[name] = s
	}
	return nil
}

type compiler struct {
	raw       map[string]rawShape
	done      map[string]*shape
	unchecked []string
}

func (c *compiler) compile(name string) (*shape, error) {
	if s, ok := c.done[name]; ok {
		return s, nil
	}
	r, ok := c.raw[name]
	if !ok {
		return nil, fmt.Errorf("shape %s is not defined", name)
	}
	kind, ok := parseKind(r.Type)
	if !ok {
		return nil, fmt.Errorf("shape %s: unsupported type %q", name, r.Type)
	}
	s := &shape{name: name, kind: kind, enum: r.Enum}
	c.done[name] = s // before recursing, so that recursive shapes terminate
	var err error
	if s.min, s.hasMin, err = bound(r.Min); err != nil {
		return nil, fmt.Errorf("shape %s: min: %w", name, err)
	}
	if s.max, s.hasMax, err = bound(r.Max); err != nil {
		return nil, fmt.Errorf("shape %s: max: %w", name, err)
	}
	if r.Pattern != "" {
		if s.pattern, ok = compilePattern(r.Pattern); !ok {
			c.unchecked = append(c.unchecked, name+": "+r.Pattern)
		}
	}
	switch kind {
	case kindStructure:
		required := make(map[string]bool, len(r.Required))
		for _, n := range r.Required {
			required[n] = true
		}
		for _, rm := range r.Members {
			ms, err := c.compile(rm.shape)
			if err != nil {
				return nil, fmt.Errorf("shape %s member %s: %w", name, rm.name, err)
			}
			s.members = append(s.members, &member{
				name: rm.name, path: lowerFirst(rm.name), shape: ms, required: required[rm.name],
			})
			delete(required, rm.name)
		}
		for n := range required {
			return nil, fmt.Errorf("shape %s: required member %s is not declared", name, n)
		}
	case kindList:
		if r.Member == nil {
			return nil, fmt.Errorf("list shape %s has no member", name)
		}
		if s.elem, err = c.compile(r.Member.Shape); err != nil {
			return nil, fmt.Errorf("shape %s: %w", name, err)
		}
	case kindMap:
		if r.Key == nil || r.Value == nil {
			return nil, fmt.Errorf("map shape %s lacks a key or value", name)
		}
		if s.key, err = c.compile(r.Key.Shape); err != nil {
			return nil, fmt.Errorf("shape %s: %w", name, err)
		}
		if s.value, err = c.compile(r.Value.Shape); err != nil {
			return nil, fmt.Errorf("shape %s: %w", name, err)
		}
	}
	return s, nil
}

func bound(n *json.Number) (int64, bool, error) {
	if n == nil {
		return 0, false, nil
	}
	if v, err := n.Int64(); err == nil {
		return v, true, nil
	}
	f, err := n.Float64()
	if err != nil {
		return 0, false, err
	}
	return int64(f), true, nil
}

// lowerFirst turns a member name into the form AWS validation messages use
// ("StreamName" → "streamName").
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// pattern is a model pattern: a Java regular expression that must match
// the whole value. Go's RE2 lacks look-around, so a leading negative
// look-ahead, the one form AWS models use at the start of a pattern
// ("^(?!aws:)[...]*$", "^(?!\s*$).+"), is checked as a second expression
// that must not match at the start of the value.
type pattern struct {
	src     string         // as the model spells it, for messages
	must    *regexp.Regexp // whole-match form of the pattern (without the look-ahead)
	mustNot *regexp.Regexp // anchored at the start; nil without a look-ahead
}

// MatchString reports whether s satisfies the pattern.
func (p *pattern) MatchString(s string) bool {
	return p.must.MatchString(s) && (p.mustNot == nil || !p.mustNot.MatchString(s))
}

// javaUnicodeEscape matches Java's \uXXXX escapes, which RE2 spells \x{XXXX}.
var javaUnicodeEscape = regexp.MustCompile(`\\u([0-9a-fA-F]{4})`)

// compilePattern translates a model pattern to RE2. It reports false when
// the pattern uses what RE2 cannot express.
func compilePattern(src string) (*pattern, bool) {
	expr := javaUnicodeEscape.ReplaceAllString(src, `\x{$1}`)
	p := &pattern{src: src}
	anchored := strings.HasPrefix(expr, "^")
	rest := strings.TrimPrefix(expr, "^")
	if ahead, after, ok := leadingLookahead(rest); ok {
		not, err := regexp.Compile(`^(?:` + ahead + `)`)
		if err != nil {
			return nil, false
		}
		p.mustNot = not
		expr = after
		if anchored {
			expr = "^" + after
		}
	}
	must, err := regexp.Compile(`^(?:` + expr + `)$`)
	if err != nil {
		return nil, false
	}
	p.must = must
	return p, true
}

// leadingLookahead splits "(?!X)Y" into X and Y.
func leadingLookahead(s string) (ahead, after string, ok bool) {
	if !strings.HasPrefix(s, "(?!") {
		return "", "", false
	}
	depth, inClass := 1, false
	for i := 3; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++ // skip the escaped character
		case inClass:
			inClass = c != ']'
		case c == '[':
			inClass = true
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return s[3:i], s[i+1:], true
			}
		}
	}
	return "", "", false
}
