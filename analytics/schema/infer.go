package schema

import (
	"bytes"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/spatehq/spate/analytics/value"
)

// SQL types that Infer proposes.
const (
	TypeBoolean   = "BOOLEAN"
	TypeBigint    = "BIGINT"
	TypeDouble    = "DOUBLE"
	TypeVarchar   = "VARCHAR"
	TypeTimestamp = "TIMESTAMP"
)

// MaxDepth is how deep Infer looks into nested objects: a field at depth
// MaxDepth that holds an object is proposed as one VARCHAR column.
const MaxDepth = 4

// maxExample bounds an example value's length, in bytes.
const maxExample = 64

// Epoch-millisecond bounds for a whole number to count as a time: 2001-09-09
// to 2286-11-20.
const (
	minEpochMs = 1_000_000_000_000
	maxEpochMs = 10_000_000_000_000
)

// Column is one proposed column.
type Column struct {
	// Name is the field's path: "price", or "quote.bid" for a nested one.
	Name string `json:"name"`
	// Expr is the SQL that reads it: the name (back-quoted when it is not a
	// plain identifier or is a keyword), or col->>'$.a.b' for a nested
	// field.
	Expr string `json:"expr"`
	// Type is one of the Type constants.
	Type string `json:"type"`
	// Nullable is set when a sampled record lacks the field or holds null.
	Nullable bool `json:"nullable"`
	// Presence is the fraction of sampled JSON objects that hold a non-null
	// value, from 0 to 1.
	Presence float64 `json:"presence"`
	// Example is the most recent non-null value, as JSON text (cut to 64
	// bytes, ending in "...").
	Example string `json:"example"`
	// Note says why the type was chosen when that is not obvious (epoch
	// milliseconds, mixed types).
	Note string `json:"note,omitempty"`
}

// Schema is a proposal for one stream.
type Schema struct {
	Stream string `json:"stream"`
	// Sampled is the number of records read; NotObjects of them were not
	// JSON objects and count for no column.
	Sampled    int      `json:"sampled"`
	NotObjects int      `json:"not_objects"`
	Columns    []Column `json:"columns"`
}

// field gathers what was seen of one path.
type field struct {
	path                                                 []string
	present                                              int // non-null values
	bools, ints, floats, strs, timeStrs, arrays, objects int
	minInt, maxInt                                       int64
	example                                              []byte
}

// Infer proposes columns for records, given oldest first. Columns are in
// the order their fields first appear; the result's Stream is empty.
// records are not retained.
func Infer(records [][]byte) Schema {
	s := Schema{Sampled: len(records), Columns: []Column{}}
	fields := map[string]*field{}
	var order []*field
	var p fastjson.Parser
	objects := 0
	for _, rec := range records {
		v, err := p.ParseBytes(rec)
		if err != nil || v.Type() != fastjson.TypeObject {
			s.NotObjects++
			continue
		}
		objects++
		o, _ := v.Object()
		visit(o, nil, fields, &order)
	}
	for _, f := range order {
		scalars := f.bools + f.ints + f.floats + f.strs + f.arrays
		if f.objects > 0 && scalars == 0 && len(f.path) < MaxDepth {
			continue // its leaves are the columns
		}
		c := Column{
			Name:     strings.Join(f.path, "."),
			Expr:     expr(f.path),
			Nullable: f.present < objects,
			Example:  exampleText(f.example),
		}
		if objects > 0 {
			c.Presence = float64(f.present) / float64(objects)
		}
		c.Type, c.Note = f.sqlType()
		s.Columns = append(s.Columns, c)
	}
	return s
}

// visit records the fields of o under prefix and recurses into nested
// objects.
func visit(o *fastjson.Object, prefix []string, fields map[string]*field, order *[]*field) {
	o.Visit(func(k []byte, v *fastjson.Value) {
		path := append(prefix[:len(prefix):len(prefix)], string(k))
		key := strings.Join(path, "\x00")
		f, ok := fields[key]
		if !ok {
			f = &field{path: path}
			fields[key] = f
			*order = append(*order, f)
		}
		if v.Type() == fastjson.TypeNull {
			return
		}
		f.present++
		f.example = v.MarshalTo(f.example[:0])
		switch v.Type() {
		case fastjson.TypeTrue, fastjson.TypeFalse:
			f.bools++
		case fastjson.TypeNumber:
			if i, ok := wholeNumber(v); ok {
				if f.ints == 0 || i < f.minInt {
					f.minInt = i
				}
				if f.ints == 0 || i > f.maxInt {
					f.maxInt = i
				}
				f.ints++
			} else {
				f.floats++
			}
		case fastjson.TypeString:
			f.strs++
			b, _ := v.StringBytes()
			if isTimeString(string(b)) {
				f.timeStrs++
			}
		case fastjson.TypeArray:
			f.arrays++
		case fastjson.TypeObject:
			f.objects++
			if len(path) < MaxDepth {
				inner, _ := v.Object()
				visit(inner, path, fields, order)
			}
		}
	})
}

// wholeNumber reports whether a JSON number is written without fraction or
// exponent and fits an int64.
func wholeNumber(v *fastjson.Value) (int64, bool) {
	var buf [32]byte
	raw := v.MarshalTo(buf[:0])
	if bytes.ContainsAny(raw, ".eE") {
		return 0, false
	}
	i, err := v.Int64()
	return i, err == nil
}

// isTimeString reports whether s is a timestamp the engine reads (RFC 3339
// or "2006-01-02 15:04:05"). A string of digits is not: the engine would
// read it as epoch milliseconds, but it is as likely an id.
func isTimeString(s string) bool {
	if strings.Trim(s, "0123456789") == "" {
		return false
	}
	_, ok := value.ParseTime(s)
	return ok
}

// timeName matches field names that say they hold a time.
var timeName = regexp.MustCompile(`(?i)(time|date|^ts$|_ts$|_at$|_ms$|^ts_)`)

// sqlType applies the rules of the package documentation.
func (f *field) sqlType() (typ, note string) {
	name := f.path[len(f.path)-1]
	kinds := 0
	for _, n := range []int{f.bools, f.ints + f.floats, f.strs, f.arrays, f.objects} {
		if n > 0 {
			kinds++
		}
	}
	switch {
	case f.present == 0:
		return TypeVarchar, "only null or missing in the sample"
	case kinds > 1:
		return TypeVarchar, "mixed JSON types (" + f.kindNames() + "): read as text"
	case f.bools > 0:
		return TypeBoolean, ""
	case f.floats > 0:
		return TypeDouble, ""
	case f.ints > 0:
		if timeName.MatchString(name) {
			if f.minInt >= minEpochMs && f.maxInt < maxEpochMs {
				return TypeTimestamp, "epoch milliseconds"
			}
			if f.minInt >= minEpochMs/1000 && f.maxInt < maxEpochMs/1000 {
				return TypeBigint, "looks like epoch seconds; as a TIMESTAMP use " + expr(f.path) + " * 1000"
			}
		}
		return TypeBigint, ""
	case f.strs > 0:
		if f.timeStrs == f.strs {
			return TypeTimestamp, "timestamp strings"
		}
		return TypeVarchar, ""
	case f.arrays > 0:
		return TypeVarchar, "JSON array, read as its JSON text"
	}
	return TypeVarchar, "nested deeper than the schema looks; read as JSON text"
}

func (f *field) kindNames() string {
	var names []string
	for _, k := range []struct {
		n    int
		name string
	}{{f.bools, "boolean"}, {f.ints + f.floats, "number"}, {f.strs, "string"}, {f.arrays, "array"}, {f.objects, "object"}} {
		if k.n > 0 {
			names = append(names, k.name)
		}
	}
	return strings.Join(names, ", ")
}

// plainIdent is an identifier that needs no quoting.
var plainIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// reserved are SQL words that cannot be a bare column name (or that are
// safer quoted); quoting a name is always allowed, so the list errs on the
// side of quoting.
var reserved = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`add all alter and as asc between by case cast check collate column
		convert create cross current_date current_time current_timestamp database default delete desc
		distinct div drop else end exists false for force from fulltext group having if ignore in index
		inner insert interval into is join key keys left like limit lock match mod natural not null on
		or order outer primary procedure range read references regexp rename replace right schema
		select separator set show spatial table then to true union unique unsigned update use using
		values when where with write xor`) {
		reserved[w] = true
	}
}

// ident quotes a column name for SQL: back-quoted (MySQL style; a
// double-quoted name is a string) unless it is a plain identifier that is
// not a keyword.
func ident(name string) string {
	if plainIdent.MatchString(name) && !reserved[strings.ToLower(name)] {
		return name
	}
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// expr is the SQL that reads the field at path.
func expr(path []string) string {
	if len(path) == 1 {
		return ident(path[0])
	}
	var b strings.Builder
	b.WriteString(ident(path[0]))
	b.WriteString("->>'$")
	for _, p := range path[1:] {
		b.WriteByte('.')
		if plainIdent.MatchString(p) {
			b.WriteString(p)
			continue
		}
		// A JSON path member in double quotes, inside a SQL string whose
		// single quotes are doubled.
		q := `"` + strings.ReplaceAll(strings.ReplaceAll(p, `\`, `\\`), `"`, `\"`) + `"`
		b.WriteString(strings.ReplaceAll(q, "'", "''"))
	}
	b.WriteByte('\'')
	return b.String()
}

func exampleText(b []byte) string {
	if len(b) <= maxExample {
		return string(b)
	}
	cut := maxExample - 3
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return string(b[:cut]) + "..."
}
