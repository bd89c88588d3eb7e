package awsproto

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/spatehq/spate/apierr"
)

// Model-derived request types.
//
// A ModelAction's request is decoded into a Go type built from the model's
// input shape at bind time (reflect.StructOf), so that every member the
// model declares, including those the action's own type leaves out, is
// decoded and validated. The validated value is then checked for members
// the action's type has no field for (answered InvalidArgumentException
// "... is not supported by Spate") and carried over into the action's type
// by encoding it as JSON and decoding that: the derived types use the
// model's member names as JSON names and leave absent members out, so the
// action's type sees exactly the members the client sent.

// deriver builds the Go types of a model's shapes.
type deriver struct {
	done map[*shape]reflect.Type
	busy map[*shape]bool
}

func newDeriver() *deriver {
	return &deriver{done: make(map[*shape]reflect.Type), busy: make(map[*shape]bool)}
}

// typeOf returns the Go type that carries values of s: the types
// bindPlan accepts, with every structure member a pointer (or a slice or map,
// nil when absent) tagged with its wire name and omitempty.
func (d *deriver) typeOf(s *shape) (reflect.Type, error) {
	if t, ok := d.done[s]; ok {
		return t, nil
	}
	if d.busy[s] {
		return nil, fmt.Errorf("shape %s is recursive; give the action a request type of its own", s.name)
	}
	d.busy[s] = true
	defer delete(d.busy, s)
	var t reflect.Type
	switch s.kind {
	case kindString:
		t = reflect.TypeFor[string]()
	case kindBlob:
		t = reflect.TypeFor[Blob]()
	case kindInteger:
		t = reflect.TypeFor[int32]()
	case kindLong:
		t = reflect.TypeFor[int64]()
	case kindBoolean:
		t = reflect.TypeFor[bool]()
	case kindDouble:
		t = reflect.TypeFor[float64]()
	case kindTimestamp:
		t = reflect.TypeFor[EpochSeconds]()
	case kindList:
		e, err := d.typeOf(s.elem)
		if err != nil {
			return nil, err
		}
		t = reflect.SliceOf(e)
	case kindMap:
		if s.key.kind != kindString {
			return nil, fmt.Errorf("map shape %s: keys of kind %s are not supported", s.name, s.key.kind)
		}
		v, err := d.typeOf(s.value)
		if err != nil {
			return nil, err
		}
		t = reflect.MapOf(reflect.TypeFor[string](), v)
	case kindStructure:
		fields := make([]reflect.StructField, len(s.members))
		for i, m := range s.members {
			ft, err := d.typeOf(m.shape)
			if err != nil {
				return nil, err
			}
			if k := ft.Kind(); k != reflect.Slice && k != reflect.Map {
				ft = reflect.PointerTo(ft)
			}
			fields[i] = reflect.StructField{
				Name: "M" + strconv.Itoa(i),
				Type: ft,
				Tag:  reflect.StructTag(`json:"` + m.name + `,omitempty"`),
			}
		}
		t = reflect.StructOf(fields)
	default:
		return nil, fmt.Errorf("shape %s: unsupported kind %s", s.name, s.kind)
	}
	d.done[s] = t
	return t, nil
}

// A carryPlan says, for a value of a shape, which of its members the
// action's type can take.
type carryPlan struct {
	raw    bool         // the action's type takes any JSON here (json.RawMessage)
	fields []*carryPlan // structure: one per member, in model order; nil: no field for it
	elem   *carryPlan   // list member or map value
}

// bindCarry checks that Go type t can take every value of s that it has a
// field for, and returns the plan that finds the members it has none for.
// Fields of t are matched to members by their json tags (the field name
// when untagged); fields that match no member are left alone, so that one
// Go type can serve several shapes (a configuration and its update).
func bindCarry(s *shape, t reflect.Type) (*carryPlan, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[json.RawMessage]() {
		return &carryPlan{raw: true}, nil
	}
	want := func(ok bool, what string) error {
		if !ok {
			return fmt.Errorf("shape %s (%s) needs %s, got Go type %s", s.name, s.kind, what, t)
		}
		return nil
	}
	c := &carryPlan{}
	var err error
	switch s.kind {
	case kindString:
		err = want(t.Kind() == reflect.String, "a string")
	case kindBlob:
		err = want(t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8, "a byte slice")
	case kindInteger, kindLong:
		k := t.Kind()
		err = want(k == reflect.Int || k == reflect.Int32 || k == reflect.Int64, "an int, int32 or int64")
	case kindBoolean:
		err = want(t.Kind() == reflect.Bool, "a bool")
	case kindDouble:
		err = want(t.Kind() == reflect.Float64, "a float64")
	case kindTimestamp:
		err = want(t == reflect.TypeFor[EpochSeconds](), "awsproto.EpochSeconds")
	case kindList:
		if err = want(t.Kind() == reflect.Slice, "a slice"); err == nil {
			c.elem, err = bindCarry(s.elem, t.Elem())
		}
	case kindMap:
		if err = want(t.Kind() == reflect.Map && t.Key().Kind() == reflect.String, "a map with string keys"); err == nil {
			c.elem, err = bindCarry(s.value, t.Elem())
		}
	case kindStructure:
		if err := want(t.Kind() == reflect.Struct, "a struct"); err != nil {
			return nil, err
		}
		fields := make(map[string]reflect.StructField)
		for _, f := range reflect.VisibleFields(t) {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous || name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fields[name] = f
		}
		c.fields = make([]*carryPlan, len(s.members))
		for i, m := range s.members {
			f, ok := fields[m.name]
			if !ok {
				continue
			}
			if c.fields[i], err = bindCarry(m.shape, f.Type); err != nil {
				return nil, fmt.Errorf("%s.%s: %w", s.name, m.name, err)
			}
		}
	default:
		err = fmt.Errorf("shape %s: unsupported kind %s", s.name, s.kind)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// unsupported returns the path ("A.B[2].C") of the first member set in v,
// a value bound to p, that the plan's type has no field for, or "".
func (c *carryPlan) unsupported(p *plan, v reflect.Value, path string) string {
	if c.raw {
		return ""
	}
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	if p.shape.kind != kindStructure && c.elem.scalar() {
		return ""
	}
	switch p.shape.kind {
	case kindStructure:
		for i := range p.fields {
			f := &p.fields[i]
			fv := v.FieldByIndex(f.index)
			if fv.IsNil() {
				continue
			}
			name := f.member.name
			if path != "" {
				name = path + "." + name
			}
			if c.fields[i] == nil {
				return name
			}
			if u := c.fields[i].unsupported(f.plan, fv, name); u != "" {
				return u
			}
		}
	case kindList:
		for i := range v.Len() {
			if u := c.elem.unsupported(p.elem, v.Index(i), path+"["+strconv.Itoa(i)+"]"); u != "" {
				return u
			}
		}
	case kindMap:
		for _, k := range sortedKeys(v) {
			if u := c.elem.unsupported(p.elem, v.MapIndex(k), path+"["+k.String()+"]"); u != "" {
				return u
			}
		}
	}
	return ""
}

// scalar reports whether c is the plan of a scalar value (or nil, for a
// value that has no elements).
func (c *carryPlan) scalar() bool {
	return c == nil || (c.fields == nil && c.elem == nil)
}

// carry moves a validated request from its model-derived type into the
// action's type: an InvalidArgumentException names the first member the
// action's type cannot take.
func (op *Operation) carry(in any) (any, error) {
	if path := op.carryPlan.unsupported(op.plan, reflect.ValueOf(in), ""); path != "" {
		return nil, apierr.New(apierr.InvalidArgument, "%s is not supported by Spate; leave it out", path)
	}
	b, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("%s: re-encode the request: %w", op.name, err)
	}
	out := reflect.New(op.target)
	if err := json.Unmarshal(b, out.Interface()); err != nil {
		return nil, fmt.Errorf("%s: carry the request into %s: %w", op.name, op.target, err)
	}
	return out.Interface(), nil
}
