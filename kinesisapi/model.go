package kinesisapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// serviceModel is the AWS service model of Kinesis Data Streams (Apache-2.0;
// see awsmodel/README.md for its origin).
//
//go:embed awsmodel/kinesis-2013-12-02.json
var serviceModel []byte

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
)

// kindNames lists the model's type names in shapeKind order.
func kindNames() [9]string {
	return [...]string{"string", "blob", "integer", "long", "boolean", "timestamp", "structure", "list", "map"}
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

	pattern    *regexp.Regexp // whole-match form of patternSrc
	patternSrc string         // as the model spells it, for messages
	enum       []string

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

// model is the compiled service model.
type model struct {
	targetPrefix string
	// operations maps an action name to its input shape (nil when the
	// operation takes no input).
	operations map[string]*shape
}

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

// loadModel parses and compiles a service model in the botocore JSON format.
func loadModel(data []byte) (*model, error) {
	var raw struct {
		Metadata struct {
			TargetPrefix string `json:"targetPrefix"`
		} `json:"metadata"`
		Operations map[string]struct {
			Input *shapeRef `json:"input"`
		} `json:"operations"`
		Shapes map[string]rawShape `json:"shapes"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parse service model: %w", err)
	}
	c := compiler{raw: raw.Shapes, done: make(map[string]*shape)}
	m := &model{targetPrefix: raw.Metadata.TargetPrefix, operations: make(map[string]*shape)}
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
	return m, nil
}

type compiler struct {
	raw  map[string]rawShape
	done map[string]*shape
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
		// The model's patterns are Java regular expressions that must match
		// the whole value; RE2 accepts the ones AWS uses.
		if s.pattern, err = regexp.Compile(`^(?:` + r.Pattern + `)$`); err != nil {
			return nil, fmt.Errorf("shape %s: pattern: %w", name, err)
		}
		s.patternSrc = r.Pattern
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
