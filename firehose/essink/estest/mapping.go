package estest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// field is a node of an index mapping. An index's mapping is an object field
// whose props are the top-level properties.
type field struct {
	typ   string            // one of the fieldType constants
	props map[string]*field // for typeObject
}

// Field types. Elasticsearch's many types are folded into the few whose
// parsing rules differ; typeOther accepts any value.
const (
	typeLong    = "long"
	typeFloat   = "float"
	typeBoolean = "boolean"
	typeText    = "text"
	typeDate    = "date"
	typeObject  = "object"
	typeOther   = "other"
)

func newObject() *field { return &field{typ: typeObject, props: map[string]*field{}} }

func (f *field) clone() *field {
	c := &field{typ: f.typ}
	if f.props != nil {
		c.props = make(map[string]*field, len(f.props))
		for k, v := range f.props {
			c.props[k] = v.clone()
		}
	}
	return c
}

// propertiesJSON renders the properties of an object field as in
// GET /{index}.
func (f *field) propertiesJSON() map[string]any {
	out := make(map[string]any, len(f.props))
	for name, p := range f.props {
		switch p.typ {
		case typeObject:
			out[name] = map[string]any{"properties": p.propertiesJSON()}
		case typeText:
			out[name] = map[string]any{"type": "text", "fields": map[string]any{
				"keyword": map[string]any{"type": "keyword", "ignore_above": 256}}}
		case typeOther:
			out[name] = map[string]any{"type": "keyword"}
		default:
			out[name] = map[string]any{"type": p.typ}
		}
	}
	return out
}

// parseProperties reads the "properties" of an explicit mapping
// (PUT /{index} {"mappings":{"properties":{...}}}).
func parseProperties(props map[string]json.RawMessage) (*field, error) {
	obj := newObject()
	for name, raw := range props {
		var def struct {
			Type       string                     `json:"type"`
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(raw, &def); err != nil {
			return nil, fmt.Errorf("Failed to parse mapping: field [%s]: %v", name, err)
		}
		switch def.Type {
		case "", "object", "nested":
			if def.Type == "" && def.Properties == nil {
				return nil, fmt.Errorf("No type specified for field [%s]", name)
			}
			sub, err := parseProperties(def.Properties)
			if err != nil {
				return nil, err
			}
			obj.props[name] = sub
		case "long", "integer", "short", "byte", "unsigned_long":
			obj.props[name] = &field{typ: typeLong}
		case "double", "float", "half_float", "scaled_float":
			obj.props[name] = &field{typ: typeFloat}
		case "boolean":
			obj.props[name] = &field{typ: typeBoolean}
		case "text", "keyword", "match_only_text", "wildcard", "constant_keyword":
			obj.props[name] = &field{typ: typeText}
		case "date", "date_nanos":
			obj.props[name] = &field{typ: typeDate}
		default:
			obj.props[name] = &field{typ: typeOther}
		}
	}
	return obj, nil
}

// mapDocument checks doc against mapping, adding dynamic mappings for new
// fields as Elasticsearch's defaults do, and returns the updated mapping (a
// copy; mapping itself is not changed) or the mapper_parsing_exception a
// cluster would give.
func mapDocument(mapping *field, doc map[string]any, id string) (*field, *esError) {
	m := mapping.clone()
	p := mapper{id: id}
	if e := p.object(m, "", doc); e != nil {
		return nil, e
	}
	return m, nil
}

type mapper struct{ id string }

func (p mapper) object(obj *field, prefix string, doc map[string]any) *esError {
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic errors
	for _, key := range keys {
		if strings.TrimSpace(key) == "" {
			return &esError{Type: "mapper_parsing_exception", Reason: "failed to parse",
				CausedBy: &esError{Type: "illegal_argument_exception", Reason: "field name cannot be an empty string"}}
		}
		// A dotted name is shorthand for nested objects: {"a.b":1} is {"a":{"b":1}}.
		parent, path := obj, prefix
		names := strings.Split(key, ".")
		for _, name := range names[:len(names)-1] {
			path = join(path, name)
			next := parent.props[name]
			if next == nil {
				next = newObject()
				parent.props[name] = next
			} else if next.typ != typeObject {
				return &esError{Type: "mapper_parsing_exception", Reason: fmt.Sprintf(
					"Could not dynamically add mapping for field [%s]. Existing mapping for [%s] must be of type object but found [%s].",
					join(prefix, key), path, next.typ)}
			}
			parent = next
		}
		if e := p.value(parent, path, names[len(names)-1], doc[key]); e != nil {
			return e
		}
	}
	return nil
}

func (p mapper) value(parent *field, prefix, name string, v any) *esError {
	full := join(prefix, name)
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		for _, el := range v {
			if e := p.value(parent, prefix, name, el); e != nil {
				return e
			}
		}
		return nil
	}
	f := parent.props[name]
	if f == nil {
		f = &field{typ: dynamicType(v)}
		if f.typ == typeObject {
			f.props = map[string]*field{}
		}
		parent.props[name] = f
	}
	if f.typ == typeObject {
		obj, ok := v.(map[string]any)
		if !ok {
			return &esError{Type: "mapper_parsing_exception", Reason: fmt.Sprintf(
				"object mapping for [%s] tried to parse field [%s] as object, but found a concrete value", full, name)}
		}
		return p.object(f, full, obj)
	}
	if cause := accepts(f.typ, v); cause != nil {
		return &esError{
			Type: "mapper_parsing_exception",
			Reason: fmt.Sprintf("failed to parse field [%s] of type [%s] in document with id '%s'. Preview of field's value: '%s'",
				full, f.typ, p.id, preview(v)),
			CausedBy: cause,
		}
	}
	return nil
}

// dynamicType is the type Elasticsearch's default dynamic mapping gives a
// new field: numbers are long or float, strings that look like dates are
// dates (date_detection), other strings text.
func dynamicType(v any) string {
	switch v := v.(type) {
	case bool:
		return typeBoolean
	case json.Number:
		if strings.ContainsAny(string(v), ".eE") {
			return typeFloat
		}
		return typeLong
	case string:
		if looksLikeDate(v) {
			return typeDate
		}
		return typeText
	case map[string]any:
		return typeObject
	}
	return typeOther
}

// accepts returns nil if a field of type typ takes the scalar or object v
// (with Elasticsearch's default coercion), else the cause of the failure.
func accepts(typ string, v any) *esError {
	if _, isObj := v.(map[string]any); isObj && typ != typeOther {
		return &esError{Type: "illegal_state_exception", Reason: "Can't get text on a START_OBJECT"}
	}
	switch typ {
	case typeLong, typeFloat:
		switch v := v.(type) {
		case json.Number:
			return nil
		case string:
			if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				return nil
			}
			return &esError{Type: "number_format_exception", Reason: fmt.Sprintf("For input string: %q", v)}
		default:
			return &esError{Type: "illegal_argument_exception", Reason: "Current token is not numeric"}
		}
	case typeBoolean:
		switch v := v.(type) {
		case bool:
			return nil
		case string:
			if v == "true" || v == "false" || v == "" {
				return nil
			}
			return &esError{Type: "illegal_argument_exception",
				Reason: fmt.Sprintf("Failed to parse value [%s] as only [true] or [false] are allowed.", v)}
		default:
			return &esError{Type: "illegal_argument_exception",
				Reason: fmt.Sprintf("Failed to parse value [%v] as only [true] or [false] are allowed.", v)}
		}
	case typeDate:
		switch v := v.(type) {
		case json.Number:
			return nil
		case string:
			if looksLikeDate(v) {
				return nil
			}
			return &esError{Type: "illegal_argument_exception",
				Reason: fmt.Sprintf("failed to parse date field [%s] with format [strict_date_optional_time||epoch_millis]", v)}
		default:
			return &esError{Type: "illegal_argument_exception", Reason: "failed to parse date field"}
		}
	}
	return nil // text and other take any scalar
}

// dateRE approximates the default dynamic_date_formats,
// strict_date_optional_time and "yyyy/MM/dd HH:mm:ss||yyyy/MM/dd".
var dateRE = regexp.MustCompile(`^(\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])` +
	`(T([01]\d|2[0-3])(:[0-5]\d(:[0-5]\d([.,]\d{1,9})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?` +
	`|\d{4}/(0[1-9]|1[0-2])/(0[1-9]|[12]\d|3[01])( ([01]\d|2[0-3]):[0-5]\d:[0-5]\d)?)$`)

func looksLikeDate(s string) bool { return dateRE.MatchString(s) }

// preview renders a value the way Elasticsearch's error messages do (Java's
// toString of the parsed value).
func preview(v any) string {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + preview(v[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		parts := make([]string, len(v))
		for i, el := range v {
			parts[i] = preview(el)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case nil:
		return "null"
	default:
		return fmt.Sprint(v)
	}
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}
