package awsproto

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/internal/trunc"
)

// A plan binds a model shape to the Go type that carries its values, so that
// validation walks the decoded request with precomputed field indexes
// instead of looking members up by name.
type plan struct {
	shape  *shape
	fields []fieldPlan // structure: one per model member, in model order
	elem   *plan       // list member or map value
}

type fieldPlan struct {
	member *member
	index  []int // reflect field index (through embedded structs)
	plan   *plan
}

// bindPlan checks that Go type t can carry values of shape s and returns the
// plan to validate them. In a structure every model member must have a field
// (json tag = member name) and every tagged field must be a model member;
// scalar fields are pointers so that a missing member can be told from an
// empty one.
func bindPlan(s *shape, t reflect.Type) (*plan, error) {
	p := &plan{shape: s}
	want := func(ok bool, what string) error {
		if !ok {
			return fmt.Errorf("shape %s (%s) needs %s, got Go type %s", s.name, s.kind, what, t)
		}
		return nil
	}
	switch s.kind {
	case kindString:
		return p, want(t.Kind() == reflect.String, "a string")
	case kindBlob:
		return p, want(t == reflect.TypeFor[Blob](), "awsproto.Blob")
	case kindInteger:
		return p, want(t.Kind() == reflect.Int32, "an int32")
	case kindLong:
		return p, want(t.Kind() == reflect.Int64, "an int64")
	case kindBoolean:
		return p, want(t.Kind() == reflect.Bool, "a bool")
	case kindDouble:
		return p, want(t.Kind() == reflect.Float64, "a float64")
	case kindTimestamp:
		return p, want(t == reflect.TypeFor[EpochSeconds](), "awsproto.EpochSeconds")
	case kindList:
		if err := want(t.Kind() == reflect.Slice && t != reflect.TypeFor[Blob](), "a slice"); err != nil {
			return nil, err
		}
		var err error
		p.elem, err = bindPlan(s.elem, t.Elem())
		return p, err
	case kindMap:
		if err := want(t.Kind() == reflect.Map && t.Key().Kind() == reflect.String, "a map with string keys"); err != nil {
			return nil, err
		}
		if s.key.kind != kindString {
			return nil, fmt.Errorf("map shape %s: keys of kind %s are not supported", s.name, s.key.kind)
		}
		var err error
		p.elem, err = bindPlan(s.value, t.Elem())
		return p, err
	case kindStructure:
		if err := want(t.Kind() == reflect.Struct, "a struct"); err != nil {
			return nil, err
		}
		fields := make(map[string]reflect.StructField)
		for _, f := range reflect.VisibleFields(t) {
			if f.Anonymous {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				return nil, fmt.Errorf("shape %s: field %s of %s has no json tag", s.name, f.Name, t)
			}
			fields[name] = f
		}
		for _, m := range s.members {
			f, ok := fields[m.name]
			if !ok {
				return nil, fmt.Errorf("shape %s: member %s has no field in %s", s.name, m.name, t)
			}
			delete(fields, m.name)
			ft := f.Type
			switch ft.Kind() {
			case reflect.Pointer:
				ft = ft.Elem()
			case reflect.Slice, reflect.Map: // nil when absent
			default:
				return nil, fmt.Errorf("shape %s: field %s of %s must be a pointer, slice or map", s.name, f.Name, t)
			}
			mp, err := bindPlan(m.shape, ft)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", s.name, m.name, err)
			}
			p.fields = append(p.fields, fieldPlan{member: m, index: f.Index, plan: mp})
		}
		for name := range fields {
			return nil, fmt.Errorf("shape %s: %s has field %q that the model does not declare", s.name, t, name)
		}
		return p, nil
	}
	return nil, fmt.Errorf("shape %s: unsupported kind %s", s.name, s.kind)
}

// maxListedErrors is how many validation failures a message spells out.
const maxListedErrors = 10

// maxValueLen caps how much of an offending value a message quotes.
const maxValueLen = 1024

// PathStyle says how validation messages name the member at fault.
type PathStyle int

const (
	// AWSPaths names members as AWS's validation front end does:
	// 'records.3.member.partitionKey' (lower-case first letters, 1-based
	// list positions).
	AWSPaths PathStyle = iota
	// WirePaths names members as the request spells them:
	// 'Records[2].PartitionKey' (0-based list positions), the style of
	// messages that name members in the API's own terms.
	WirePaths
)

// validator collects the constraint failures of one request.
type validator struct {
	style  PathStyle
	path   []pathSeg
	msgs   []string
	failed int
}

// pathSeg is one step of a member path: a member, a list index or a map
// key.
type pathSeg struct {
	member *member // nil for a list index or a map key
	key    string  // map key when member == nil and isKey
	index  int     // list index when member == nil and !isKey
	isKey  bool
}

// validate checks v, a struct carrying p's structure shape, against every
// constraint of the model. It returns nil or an *apierr.Error with the
// given code (ValidationException for most AWS services) whose message uses
// AWS's wording, naming members in the given style.
func validate(p *plan, v reflect.Value, code apierr.Code, style PathStyle) error {
	vd := validator{style: style}
	vd.structure(p, v)
	return vd.err(code)
}

func (vd *validator) err(code apierr.Code) error {
	if vd.failed == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString(strconv.Itoa(vd.failed))
	if vd.failed == 1 {
		b.WriteString(" validation error detected: ")
	} else {
		b.WriteString(" validation errors detected: ")
	}
	b.WriteString(strings.Join(vd.msgs, "; "))
	if more := vd.failed - len(vd.msgs); more > 0 {
		fmt.Fprintf(&b, "; and %d more", more)
	}
	return &apierr.Error{Code: code, Message: b.String()}
}

// fail records that the value at the current path breaks constraint. value
// renders the offending value; it is only called for listed failures.
func (vd *validator) fail(value func() string, constraint string) {
	vd.failed++
	if len(vd.msgs) >= maxListedErrors {
		return
	}
	var b strings.Builder
	b.WriteString("Value ")
	if value == nil {
		b.WriteString("null")
	} else {
		b.WriteByte('\'')
		b.WriteString(value())
		b.WriteByte('\'')
	}
	b.WriteString(" at '")
	vd.writePath(&b)
	b.WriteString("' failed to satisfy constraint: ")
	b.WriteString(constraint)
	vd.msgs = append(vd.msgs, b.String())
}

// writePath writes the current path in the validator's style.
func (vd *validator) writePath(b *strings.Builder) {
	for i, s := range vd.path {
		if vd.style == WirePaths {
			switch {
			case s.member != nil:
				if i > 0 {
					b.WriteByte('.')
				}
				b.WriteString(s.member.name)
			case s.isKey:
				b.WriteString("[" + s.key + "]")
			default:
				b.WriteString("[" + strconv.Itoa(s.index) + "]")
			}
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		switch {
		case s.member != nil:
			b.WriteString(s.member.path)
		case s.isKey:
			b.WriteString(s.key)
		default:
			b.WriteString(strconv.Itoa(s.index + 1))
			b.WriteString(".member")
		}
	}
}

func (vd *validator) push(s pathSeg) { vd.path = append(vd.path, s) }
func (vd *validator) pop()           { vd.path = vd.path[:len(vd.path)-1] }

func (vd *validator) structure(p *plan, v reflect.Value) {
	for i := range p.fields {
		f := &p.fields[i]
		fv := v.FieldByIndex(f.index)
		present := !fv.IsNil()
		if fv.Kind() == reflect.Pointer && present {
			fv = fv.Elem()
		}
		vd.push(pathSeg{member: f.member})
		if !present {
			if f.member.required {
				vd.fail(nil, "Member must not be null")
			}
		} else {
			vd.value(f.plan, fv)
		}
		vd.pop()
	}
}

// value checks one present value against its shape.
func (vd *validator) value(p *plan, v reflect.Value) {
	s := p.shape
	render := func() string { return renderValue(p, v) }
	switch s.kind {
	case kindString:
		str := v.String()
		if len(s.enum) > 0 && !slices.Contains(s.enum, str) {
			vd.fail(render, enumConstraint(s))
		}
		if s.pattern != nil && !s.pattern.MatchString(str) {
			vd.fail(render, patternConstraint(s))
		}
		vd.length(s, int64(javaLen(str)), render)
	case kindBlob, kindList, kindMap:
		vd.length(s, int64(v.Len()), render)
	case kindInteger, kindLong:
		n := v.Int()
		if s.hasMin && n < s.min {
			vd.fail(render, "Member must have value greater than or equal to "+strconv.FormatInt(s.min, 10))
		}
		if s.hasMax && n > s.max {
			vd.fail(render, "Member must have value less than or equal to "+strconv.FormatInt(s.max, 10))
		}
	case kindDouble:
		f := v.Float()
		if s.hasMin && f < float64(s.min) {
			vd.fail(render, "Member must have value greater than or equal to "+strconv.FormatInt(s.min, 10))
		}
		if s.hasMax && f > float64(s.max) {
			vd.fail(render, "Member must have value less than or equal to "+strconv.FormatInt(s.max, 10))
		}
	case kindStructure:
		vd.structure(p, v)
	}

	switch s.kind {
	case kindList:
		if p.elem.shape.kind == kindStructure {
			for i := range v.Len() {
				vd.push(pathSeg{index: i})
				vd.structure(p.elem, v.Index(i))
				vd.pop()
			}
		} else if p.elem.shape.hasConstraints() {
			for i := range v.Len() {
				if !scalarOK(p.elem.shape, v.Index(i)) {
					vd.fail(render, "Member must satisfy constraint: "+constraintList(p.elem.shape))
					break
				}
			}
		}
	case kindMap:
		if s.key.hasConstraints() {
			for it := v.MapRange(); it.Next(); {
				if !scalarOK(s.key, it.Key()) {
					vd.fail(render, "Map keys must satisfy constraint: "+constraintList(s.key))
					break
				}
			}
		}
		if p.elem.shape.kind == kindStructure {
			for _, k := range sortedKeys(v) {
				vd.push(pathSeg{key: k.String(), isKey: true})
				vd.structure(p.elem, v.MapIndex(k))
				vd.pop()
			}
		} else if p.elem.shape.hasConstraints() {
			for it := v.MapRange(); it.Next(); {
				if !scalarOK(p.elem.shape, it.Value()) {
					vd.fail(render, "Map value must satisfy constraint: "+constraintList(p.elem.shape))
					break
				}
			}
		}
	}
}

func (vd *validator) length(s *shape, n int64, render func() string) {
	if s.hasMin && n < s.min {
		vd.fail(render, "Member must have length greater than or equal to "+strconv.FormatInt(s.min, 10))
	}
	if s.hasMax && n > s.max {
		vd.fail(render, "Member must have length less than or equal to "+strconv.FormatInt(s.max, 10))
	}
}

// scalarOK reports whether a list element or map key/value satisfies every
// constraint of its (non-structure) shape.
func scalarOK(s *shape, v reflect.Value) bool {
	var n int64
	switch s.kind {
	case kindString:
		str := v.String()
		if len(s.enum) > 0 && !slices.Contains(s.enum, str) {
			return false
		}
		if s.pattern != nil && !s.pattern.MatchString(str) {
			return false
		}
		n = int64(javaLen(str))
	case kindBlob, kindList, kindMap:
		n = int64(v.Len())
	case kindInteger, kindLong:
		n = v.Int()
	case kindDouble:
		f := v.Float()
		return (!s.hasMin || f >= float64(s.min)) && (!s.hasMax || f <= float64(s.max))
	default:
		return true
	}
	return (!s.hasMin || n >= s.min) && (!s.hasMax || n <= s.max)
}

// constraintList spells out every constraint of a shape the way AWS does
// when an element of a list or map fails one of them.
func constraintList(s *shape) string {
	var c []string
	switch s.kind {
	case kindInteger, kindLong, kindDouble:
		if s.hasMax {
			c = append(c, "Member must have value less than or equal to "+strconv.FormatInt(s.max, 10))
		}
		if s.hasMin {
			c = append(c, "Member must have value greater than or equal to "+strconv.FormatInt(s.min, 10))
		}
	default:
		if s.hasMax {
			c = append(c, "Member must have length less than or equal to "+strconv.FormatInt(s.max, 10))
		}
		if s.hasMin {
			c = append(c, "Member must have length greater than or equal to "+strconv.FormatInt(s.min, 10))
		}
		if s.pattern != nil {
			c = append(c, patternConstraint(s))
		}
		if len(s.enum) > 0 {
			c = append(c, enumConstraint(s))
		}
	}
	return "[" + strings.Join(c, ", ") + "]"
}

func patternConstraint(s *shape) string {
	return "Member must satisfy regular expression pattern: " + s.pattern.src
}

func enumConstraint(s *shape) string {
	return "Member must satisfy enum value set: [" + strings.Join(s.enum, ", ") + "]"
}

// javaLen is the length of s as Java (and so AWS) counts it: UTF-16 code
// units.
func javaLen(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			n := i
			for _, r := range s[i:] {
				if r >= 0x10000 {
					n += 2
				} else {
					n++
				}
			}
			return n
		}
	}
	return len(s)
}

// renderValue renders an offending value as AWS's messages show it (Java's
// toString of the value: blobs as a ByteBuffer, lists as [a, b], maps as
// {k=v}), cut to maxValueLen bytes.
func renderValue(p *plan, v reflect.Value) string {
	var b strings.Builder
	writeValue(&b, p, v)
	return trunc.String(b.String(), maxValueLen)
}

func writeValue(b *strings.Builder, p *plan, v reflect.Value) {
	if b.Len() > maxValueLen { // enough to fill the message; stop walking
		return
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			b.WriteString("null")
			return
		}
		v = v.Elem()
	}
	switch p.shape.kind {
	case kindString:
		b.WriteString(v.String())
	case kindBlob:
		n := strconv.Itoa(v.Len())
		b.WriteString("java.nio.HeapByteBuffer[pos=0 lim=" + n + " cap=" + n + "]")
	case kindInteger, kindLong:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case kindDouble:
		b.WriteString(javaDouble(v.Float()))
	case kindBoolean:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case kindTimestamp:
		if v.CanInterface() {
			b.WriteString(time.Time(v.Interface().(EpochSeconds)).UTC().Format(time.RFC3339Nano))
		} else {
			b.WriteString("(timestamp)")
		}
	case kindList:
		b.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				b.WriteString(", ")
			}
			writeValue(b, p.elem, v.Index(i))
			if b.Len() > maxValueLen {
				break
			}
		}
		b.WriteByte(']')
	case kindMap:
		b.WriteByte('{')
		for i, k := range sortedKeys(v) {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k.String())
			b.WriteByte('=')
			writeValue(b, p.elem, v.MapIndex(k))
			if b.Len() > maxValueLen {
				break
			}
		}
		b.WriteByte('}')
	case kindStructure:
		b.WriteString(p.shape.name)
		b.WriteByte('(')
		n := 0
		for _, f := range p.fields {
			fv := v.FieldByIndex(f.index)
			if fv.IsNil() {
				continue
			}
			if n > 0 {
				b.WriteString(", ")
			}
			n++
			b.WriteString(f.member.path)
			b.WriteByte('=')
			writeValue(b, f.plan, fv)
		}
		b.WriteByte(')')
	}
}

// javaDouble formats f as Java's Double.toString does for ordinary values
// (0.5, 1.0, 1.0E10 aside).
func javaDouble(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".NI") {
		s += ".0"
	}
	return s
}

func sortedKeys(m reflect.Value) []reflect.Value {
	keys := m.MapKeys()
	slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
	return keys
}
