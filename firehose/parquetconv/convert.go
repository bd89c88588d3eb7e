package parquetconv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
)

// ErrorCodeMalformedData is the error code to report, with error-output-type
// "format-conversion-failed", for a record that does not match the schema.
// (Firehose's guide documents the error record but not its codes; this is
// the code Firehose emulators and users report for such records.)
const ErrorCodeMalformedData = "DataFormatConversion.MalformedData"

// createdBy is written in every file's footer in place of parquet-go's
// default, which names the parquet-go version found in the binary's build
// information: a file's bytes must not change when Spate is rebuilt.
const createdBy = "spate firehose parquetconv"

// Options carries the Parquet serializer and JSON deserializer settings of a
// delivery stream's DataFormatConversionConfiguration. The zero value is
// Firehose's defaults.
type Options struct {
	// Compression is ParquetSerDe.Compression: SNAPPY (the default when
	// empty), GZIP or UNCOMPRESSED.
	Compression string
	// PageSizeBytes is ParquetSerDe.PageSizeBytes: the target page size, at
	// least 64 KiB; 0 means 1 MiB.
	PageSizeBytes int
	// WriterVersion is ParquetSerDe.WriterVersion: V1 (the default when
	// empty) writes data pages v1, V2 data pages v2.
	WriterVersion string
	// EnableDictionaryCompression is ParquetSerDe.EnableDictionaryCompression:
	// dictionary-encode every column but booleans.
	EnableDictionaryCompression bool

	// CaseSensitive is the negation of OpenXJsonSerDe.CaseInsensitive, whose
	// default is true: by default JSON keys match column names whatever
	// their case.
	CaseSensitive bool
	// ConvertDotsInJSONKeysToUnderscores is the OpenXJsonSerDe option of that
	// name: the JSON key "a.b" fills the column "a_b".
	ConvertDotsInJSONKeysToUnderscores bool
	// ColumnToJSONKeyMappings is the OpenXJsonSerDe option of that name: it
	// maps a top-level column name to the JSON key that fills it, for example
	// {"ts": "timestamp"}.
	ColumnToJSONKeyMappings map[string]string
}

// RecordError reports a record that could not be converted. Index is its
// position in the slice given to Convert.
type RecordError struct {
	Index int
	Err   error
}

func (e RecordError) Error() string { return fmt.Sprintf("record %d: %v", e.Index, e.Err) }

func (e RecordError) Unwrap() error { return e.Err }

// Converter converts JSON records to Parquet files of one schema. It is
// immutable and safe for concurrent use.
type Converter struct {
	cols   []compiledColumn
	schema *parquet.Schema
	leaves int
	codec  compress.Codec
	page   int
	pageV  int
	opts   Options
}

type compiledColumn struct {
	name    string   // as declared
	jsonKey string   // the key that fills it: name, or its mapping
	typ     *colType // parsed type
	leaf    int      // index of its first leaf column
}

// NewConverter validates cols and opts and compiles the schema. Its errors
// describe a bad configuration (InvalidArgumentException material).
func NewConverter(cols []Column, opts Options) (*Converter, error) {
	types, err := compileSchema(cols)
	if err != nil {
		return nil, err
	}
	c := &Converter{opts: opts, page: 1 << 20, pageV: 1}
	switch strings.ToUpper(opts.Compression) {
	case "", "SNAPPY":
		c.codec = &parquet.Snappy
	case "GZIP":
		c.codec = &parquet.Gzip
	case "UNCOMPRESSED":
		c.codec = &parquet.Uncompressed
	default:
		return nil, fmt.Errorf("parquet compression %q: want SNAPPY, GZIP or UNCOMPRESSED", opts.Compression)
	}
	switch {
	case opts.PageSizeBytes == 0:
	case opts.PageSizeBytes < 64<<10:
		return nil, fmt.Errorf("parquet page size %d: the minimum is 65536", opts.PageSizeBytes)
	default:
		c.page = opts.PageSizeBytes
	}
	switch strings.ToUpper(opts.WriterVersion) {
	case "", "V1":
	case "V2":
		c.pageV = 2
	default:
		return nil, fmt.Errorf("parquet writer version %q: want V1 or V2", opts.WriterVersion)
	}
	mapped := map[string]bool{}
	for col := range opts.ColumnToJSONKeyMappings {
		mapped[strings.ToLower(col)] = false
	}
	names := make([]string, len(cols))
	nodes := make([]parquet.Node, len(cols))
	for i, col := range cols {
		cc := compiledColumn{name: col.Name, jsonKey: col.Name, typ: types[i], leaf: c.leaves}
		for from, to := range opts.ColumnToJSONKeyMappings {
			if strings.EqualFold(from, col.Name) {
				cc.jsonKey = to
				mapped[strings.ToLower(from)] = true
			}
		}
		c.cols = append(c.cols, cc)
		c.leaves += types[i].leaves()
		names[i] = col.Name
		nodes[i] = parquet.Optional(c.node(types[i]))
	}
	for col, used := range mapped {
		if !used {
			return nil, fmt.Errorf("ColumnToJsonKeyMappings names column %q, which is not in the schema", col)
		}
	}
	c.schema = parquet.NewSchema("schema", newGroup(names, nodes))
	return c, nil
}

// compileSchema validates cols and parses their types.
func compileSchema(cols []Column) ([]*colType, error) {
	if len(cols) == 0 {
		return nil, errors.New("the schema has no columns")
	}
	types := make([]*colType, len(cols))
	seen := map[string]bool{}
	leaves := 0
	for i, col := range cols {
		if col.Name == "" {
			return nil, fmt.Errorf("column %d has no name", i+1)
		}
		if strings.ContainsAny(col.Name, "<>(),:") {
			return nil, fmt.Errorf("column name %q contains one of <>(),:", col.Name)
		}
		if seen[strings.ToLower(col.Name)] {
			return nil, fmt.Errorf("duplicate column %q (names are case-insensitive)", col.Name)
		}
		seen[strings.ToLower(col.Name)] = true
		t, err := parseType(col.Type, 0)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", col.Name, err)
		}
		types[i] = t
		if leaves += t.leaves(); leaves > MaxColumns {
			return nil, fmt.Errorf("the schema has more than %d leaf columns", MaxColumns)
		}
	}
	return types, nil
}

// node returns the parquet node of t (required; the caller makes it optional).
func (c *Converter) node(t *colType) parquet.Node {
	var n parquet.Node
	switch t.kind {
	case kString:
		n = parquet.String()
	case kTinyint:
		n = parquet.Int(8)
	case kSmallint:
		n = parquet.Int(16)
	case kInt:
		n = parquet.Int(32)
	case kBigint:
		n = parquet.Int(64)
	case kFloat:
		n = parquet.Leaf(parquet.FloatType)
	case kDouble:
		n = parquet.Leaf(parquet.DoubleType)
	case kBoolean:
		return parquet.Leaf(parquet.BooleanType) // no dictionary for booleans
	case kTimestamp:
		n = parquet.Timestamp(parquet.Millisecond)
	case kDate:
		n = parquet.Date()
	case kDecimal:
		switch {
		case t.precision <= 9:
			n = parquet.Decimal(t.scale, t.precision, parquet.Int32Type)
		case t.precision <= 18:
			n = parquet.Decimal(t.scale, t.precision, parquet.Int64Type)
		default:
			n = parquet.Decimal(t.scale, t.precision, parquet.FixedLenByteArrayType(decimalBytes(t.precision)))
		}
	case kArray:
		return parquet.List(parquet.Optional(c.node(t.elem)))
	case kStruct:
		names := make([]string, len(t.fields))
		nodes := make([]parquet.Node, len(t.fields))
		for i, f := range t.fields {
			names[i] = f.name
			nodes[i] = parquet.Optional(c.node(f.typ))
		}
		return newGroup(names, nodes)
	}
	if c.opts.EnableDictionaryCompression {
		n = parquet.Encoded(n, &parquet.RLEDictionary)
	}
	return n
}

// Convert converts records to one Parquet file with the schema cols.
// It is NewConverter followed by Converter.Convert.
func Convert(cols []Column, records [][]byte, opts Options) (file []byte, failed []RecordError, err error) {
	c, err := NewConverter(cols, opts)
	if err != nil {
		return nil, nil, err
	}
	return c.Convert(records)
}

// Convert converts each record, a JSON object, to one row, and returns the
// Parquet file of the rows that converted, in record order, with the records
// that did not in failed (in record order too). file is nil when no record
// converted. err reports a failure to write the file, not a bad record.
//
// Records are matched to the schema as OpenX JSON SerDe matches them: keys
// are matched to column names case-insensitively (unless
// Options.CaseSensitive), a missing key or a JSON null is a null, keys that
// are not columns are ignored. A value that cannot be converted to its
// column's type fails its record.
//
// The output is a function of the schema, the options and the records only:
// converting the same records again gives the same bytes.
// Convert does not retain records.
func (c *Converter) Convert(records [][]byte) (file []byte, failed []RecordError, err error) {
	var buf bytes.Buffer
	var w *parquet.Writer
	const batch = 256
	rows := make([]parquet.Row, 0, batch)
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		if w == nil {
			w = parquet.NewWriter(&buf, c.schema,
				parquet.Compression(c.codec),
				parquet.PageBufferSize(c.page),
				parquet.DataPageVersion(c.pageV),
				&parquet.WriterConfig{CreatedBy: createdBy})
		}
		if _, err := w.WriteRows(rows); err != nil {
			return fmt.Errorf("write parquet rows: %w", err)
		}
		rows = rows[:0]
		return nil
	}
	cols := make([][]parquet.Value, c.leaves)
	for i, rec := range records {
		row, err := c.row(rec, cols)
		if err != nil {
			failed = append(failed, RecordError{Index: i, Err: err})
			continue
		}
		if rows = append(rows, row); len(rows) == batch {
			if err := flush(); err != nil {
				return nil, nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, nil, err
	}
	if w == nil {
		return nil, failed, nil
	}
	if err := w.Close(); err != nil {
		return nil, nil, fmt.Errorf("close parquet file: %w", err)
	}
	return buf.Bytes(), failed, nil
}

// row converts one record. cols is scratch space, one slice per leaf column.
func (c *Converter) row(record []byte, cols [][]parquet.Value) (parquet.Row, error) {
	if !utf8.Valid(record) {
		return nil, errors.New("record is not valid UTF-8")
	}
	trimmed := bytes.TrimLeft(record, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errors.New("record is not a JSON object")
	}
	obj, err := c.decodeObject(record)
	if err != nil {
		return nil, fmt.Errorf("record is not a JSON object: %w", err)
	}
	for i := range cols {
		cols[i] = cols[i][:0]
	}
	for _, col := range c.cols {
		raw, err := obj.get(col.jsonKey)
		if err != nil {
			return nil, err
		}
		if err := c.shred(col.typ, raw, col.leaf, 0, 0, 0, cols); err != nil {
			return nil, fmt.Errorf("column %q: %w", col.name, err)
		}
	}
	n := 0
	for _, vs := range cols {
		n += len(vs)
	}
	row := make(parquet.Row, 0, n)
	for _, vs := range cols {
		row = append(row, vs...)
	}
	return row, nil
}

// shred appends the values of one optional node of type t, whose leaf
// columns start at leaf, to cols (Dremel record shredding). raw is the JSON
// value (nil when the key is missing), rep the repetition level of its first
// value, def the definition level of its parent, and depth the number of
// repeated ancestors.
//
// Invariant: every leaf under t gets at least one value, so each column's
// values line up row by row.
func (c *Converter) shred(t *colType, raw json.RawMessage, leaf, rep, def, depth int, cols [][]parquet.Value) error {
	if raw == nil || string(raw) == "null" {
		for i := leaf; i < leaf+t.leaves(); i++ {
			cols[i] = append(cols[i], parquet.NullValue().Level(rep, def, i))
		}
		return nil
	}
	def++ // this optional node is present
	switch t.kind {
	case kStruct:
		if raw[0] != '{' {
			return fmt.Errorf("%s is not an object (want %s)", preview(raw), t)
		}
		obj, err := c.decodeObject(raw)
		if err != nil {
			return err
		}
		for _, f := range t.fields {
			v, err := obj.get(f.name)
			if err != nil {
				return err
			}
			if err := c.shred(f.typ, v, leaf, rep, def, depth, cols); err != nil {
				return fmt.Errorf("field %q: %w", f.name, err)
			}
			leaf += f.typ.leaves()
		}
		return nil
	case kArray:
		if raw[0] != '[' {
			return fmt.Errorf("%s is not an array (want %s)", preview(raw), t)
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return err
		}
		if len(elems) == 0 {
			// An empty list: present (def), no element.
			for i := leaf; i < leaf+t.leaves(); i++ {
				cols[i] = append(cols[i], parquet.NullValue().Level(rep, def, i))
			}
			return nil
		}
		for i, e := range elems {
			r := rep
			if i > 0 {
				r = depth + 1
			}
			// def+1: the repeated "list" group holds an element.
			if err := c.shred(t.elem, e, leaf, r, def+1, depth+1, cols); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
		return nil
	}
	v, err := leafValue(t, raw)
	if err != nil {
		return err
	}
	cols[leaf] = append(cols[leaf], v.Level(rep, def, leaf))
	return nil
}

// object is a decoded JSON object indexed for OpenX's key matching.
type object struct {
	keys  map[string]json.RawMessage
	index map[string]string   // normalized key → the key
	dups  map[string][]string // normalized key → every key, when several
	norm  func(string) string
}

func (c *Converter) decodeObject(raw []byte) (*object, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	o := &object{keys: m, index: make(map[string]string, len(m)), norm: c.normalize}
	for k := range m {
		n := c.normalize(k)
		prev, ok := o.index[n]
		if !ok {
			o.index[n] = k
			continue
		}
		if o.dups == nil {
			o.dups = map[string][]string{}
		}
		if o.dups[n] == nil {
			o.dups[n] = []string{prev}
		}
		o.dups[n] = append(o.dups[n], k)
	}
	return o, nil
}

// normalize maps a JSON key or a column name to the form they are matched in.
func (c *Converter) normalize(s string) string {
	if c.opts.ConvertDotsInJSONKeysToUnderscores {
		s = strings.ReplaceAll(s, ".", "_")
	}
	if !c.opts.CaseSensitive {
		s = strings.ToLower(s)
	}
	return s
}

// get returns the value of the key that matches name, or nil when none does.
// Two keys that both match (say "Name" and "name") are an error: which one
// OpenX would take depends on its parser, and the choice must not depend on
// map order.
func (o *object) get(name string) (json.RawMessage, error) {
	n := o.norm(name)
	if found := o.dups[n]; found != nil {
		found = slices.Clone(found)
		slices.Sort(found)
		return nil, fmt.Errorf("keys %q all match column %q", found, name)
	}
	k, ok := o.index[n]
	if !ok {
		return nil, nil
	}
	return o.keys[k], nil
}
