package parquetconv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Column is one column of the table schema, named as in AWS Glue's Column
// structure. Type is a Hive type name as Glue stores it: string, varchar(n),
// char(n), tinyint, smallint, int, bigint, float, double, boolean,
// timestamp, date, decimal, decimal(p) or decimal(p,s), array<T>, or
// struct<name:T,...>. Type names are case-insensitive; map<K,V>, binary and
// uniontype are not supported.
type Column struct {
	Name string
	Type string
}

// MaxColumns bounds the number of columns (leaf columns included) of a schema.
const MaxColumns = 1000

// maxTypeDepth bounds the nesting of array<> and struct<>.
const maxTypeDepth = 16

// ParseColumns parses an inline schema. It accepts either the compact form
//
//	name:string,age:int,ts:timestamp,tags:array<string>,price:decimal(10,2)
//
// (commas inside <> and () belong to the type; spaces around names and types
// are ignored), or a JSON array in the shape of Glue's Column list:
//
//	[{"Name":"name","Type":"string"},{"Name":"age","Type":"int"}]
//
// Column names must be unique, compared case-insensitively (Hive column
// names are), and every type must be supported.
func ParseColumns(spec string) ([]Column, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("empty column list")
	}
	var cols []Column
	if spec[0] == '[' {
		dec := json.NewDecoder(strings.NewReader(spec))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cols); err != nil {
			return nil, fmt.Errorf("column list: %w", err)
		}
		if dec.More() {
			return nil, errors.New("column list: data after the JSON array")
		}
	} else {
		items, err := splitTopLevel(spec, ',')
		if err != nil {
			return nil, fmt.Errorf("column list: %w", err)
		}
		for i, item := range items {
			name, typ, ok := strings.Cut(item, ":")
			if !ok {
				return nil, fmt.Errorf("column %d %q: want name:type", i+1, strings.TrimSpace(item))
			}
			cols = append(cols, Column{Name: strings.TrimSpace(name), Type: strings.TrimSpace(typ)})
		}
	}
	if _, err := compileSchema(cols); err != nil {
		return nil, err
	}
	return cols, nil
}

// splitTopLevel splits s at sep where sep is outside <> and ().
func splitTopLevel(s string, sep byte) ([]string, error) {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<', '(':
			depth++
		case '>', ')':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("unbalanced %q at offset %d", s[i], i)
			}
		case sep:
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("unbalanced brackets in %q", s)
	}
	return append(out, s[start:]), nil
}

// kind is a Hive column type.
type kind uint8

const (
	kString kind = iota
	kTinyint
	kSmallint
	kInt
	kBigint
	kFloat
	kDouble
	kBoolean
	kTimestamp
	kDate
	kDecimal
	kArray
	kStruct
)

// colType is a parsed Hive type.
type colType struct {
	kind             kind
	precision, scale int         // kDecimal
	elem             *colType    // kArray
	fields           []namedType // kStruct
}

type namedType struct {
	name string
	typ  *colType
}

var scalarTypes = map[string]kind{
	"string":    kString,
	"tinyint":   kTinyint,
	"smallint":  kSmallint,
	"int":       kInt,
	"integer":   kInt,
	"bigint":    kBigint,
	"float":     kFloat,
	"double":    kDouble,
	"boolean":   kBoolean,
	"timestamp": kTimestamp,
	"date":      kDate,
}

// parseType parses a Hive type name.
func parseType(s string, depth int) (*colType, error) {
	if depth > maxTypeDepth {
		return nil, fmt.Errorf("type nested more than %d deep", maxTypeDepth)
	}
	s = strings.TrimSpace(s)
	lower := strings.ToLower(s)
	if k, ok := scalarTypes[lower]; ok {
		return &colType{kind: k}, nil
	}
	head, args, hasArgs, err := splitTypeArgs(s)
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(head) {
	case "varchar", "char":
		if !hasArgs || args[0] != '(' {
			return nil, fmt.Errorf("type %q: want %s(n)", s, head)
		}
		n, err := strconv.Atoi(strings.TrimSpace(args[1 : len(args)-1]))
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("type %q: length must be 1 to 65535", s)
		}
		return &colType{kind: kString}, nil
	case "decimal":
		// Hive's default is decimal(10,0).
		p, sc := 10, 0
		if hasArgs {
			if args[0] != '(' {
				return nil, fmt.Errorf("type %q: want decimal(precision,scale)", s)
			}
			parts := strings.Split(args[1:len(args)-1], ",")
			if len(parts) > 2 {
				return nil, fmt.Errorf("type %q: want decimal(precision,scale)", s)
			}
			if p, err = strconv.Atoi(strings.TrimSpace(parts[0])); err != nil {
				return nil, fmt.Errorf("type %q: bad precision", s)
			}
			sc = 0
			if len(parts) == 2 {
				if sc, err = strconv.Atoi(strings.TrimSpace(parts[1])); err != nil {
					return nil, fmt.Errorf("type %q: bad scale", s)
				}
			}
		}
		if p < 1 || p > 38 || sc < 0 || sc > p {
			return nil, fmt.Errorf("type %q: precision must be 1 to 38 and scale 0 to precision", s)
		}
		return &colType{kind: kDecimal, precision: p, scale: sc}, nil
	case "array":
		if !hasArgs || args[0] != '<' {
			return nil, fmt.Errorf("type %q: want array<type>", s)
		}
		elem, err := parseType(args[1:len(args)-1], depth+1)
		if err != nil {
			return nil, fmt.Errorf("type %q: %w", s, err)
		}
		return &colType{kind: kArray, elem: elem}, nil
	case "struct":
		if !hasArgs || args[0] != '<' {
			return nil, fmt.Errorf("type %q: want struct<name:type,...>", s)
		}
		items, err := splitTopLevel(args[1:len(args)-1], ',')
		if err != nil {
			return nil, fmt.Errorf("type %q: %w", s, err)
		}
		t := &colType{kind: kStruct}
		seen := map[string]bool{}
		for _, item := range items {
			name, ft, ok := strings.Cut(item, ":")
			name = strings.TrimSpace(name)
			if !ok || name == "" {
				return nil, fmt.Errorf("type %q: field %q: want name:type", s, strings.TrimSpace(item))
			}
			if seen[strings.ToLower(name)] {
				return nil, fmt.Errorf("type %q: duplicate field %q", s, name)
			}
			seen[strings.ToLower(name)] = true
			typ, err := parseType(ft, depth+1)
			if err != nil {
				return nil, fmt.Errorf("type %q: field %q: %w", s, name, err)
			}
			t.fields = append(t.fields, namedType{name: name, typ: typ})
		}
		return t, nil
	case "map", "uniontype", "binary":
		return nil, fmt.Errorf("type %q is not supported", s)
	}
	return nil, fmt.Errorf("unknown type %q", s)
}

// splitTypeArgs splits "decimal(10,2)" into "decimal" and "(10,2)", and
// "array<int>" into "array" and "<int>". The arguments must close at the end
// of s.
func splitTypeArgs(s string) (head, args string, ok bool, err error) {
	i := strings.IndexAny(s, "<(")
	if i < 0 {
		return s, "", false, nil
	}
	head, args = strings.TrimSpace(s[:i]), s[i:]
	closer := byte('>')
	if args[0] == '(' {
		closer = ')'
	}
	if args[len(args)-1] != closer {
		return "", "", false, fmt.Errorf("type %q: missing %q at the end", s, closer)
	}
	// The opening bracket must close at the very end, not before.
	depth := 0
	for j := 0; j < len(args); j++ {
		switch args[j] {
		case '<', '(':
			depth++
		case '>', ')':
			depth--
			if depth == 0 && j != len(args)-1 {
				return "", "", false, fmt.Errorf("type %q: unexpected text after %q", s, args[:j+1])
			}
		}
	}
	if depth != 0 {
		return "", "", false, fmt.Errorf("type %q: unbalanced brackets", s)
	}
	return head, args, true, nil
}

// String renders t as a Hive type name, in lower case.
func (t *colType) String() string {
	switch t.kind {
	case kDecimal:
		return fmt.Sprintf("decimal(%d,%d)", t.precision, t.scale)
	case kArray:
		return "array<" + t.elem.String() + ">"
	case kStruct:
		var b bytes.Buffer
		b.WriteString("struct<")
		for i, f := range t.fields {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(f.name + ":" + f.typ.String())
		}
		b.WriteByte('>')
		return b.String()
	}
	return kindNames[t.kind]
}

var kindNames = [...]string{
	kString:    "string",
	kTinyint:   "tinyint",
	kSmallint:  "smallint",
	kInt:       "int",
	kBigint:    "bigint",
	kFloat:     "float",
	kDouble:    "double",
	kBoolean:   "boolean",
	kTimestamp: "timestamp",
	kDate:      "date",
	kDecimal:   "decimal",
	kArray:     "array",
	kStruct:    "struct",
}

// leaves counts the leaf columns of t.
func (t *colType) leaves() int {
	switch t.kind {
	case kArray:
		return t.elem.leaves()
	case kStruct:
		n := 0
		for _, f := range t.fields {
			n += f.typ.leaves()
		}
		return n
	}
	return 1
}
