package parquetconv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// readFile opens a Parquet file written by Convert and returns its rows.
func readFile(t *testing.T, file []byte) (*parquet.File, []parquet.Row) {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatalf("open parquet file: %v", err)
	}
	var rows []parquet.Row
	for _, rg := range f.RowGroups() {
		r := rg.Rows()
		buf := make([]parquet.Row, 64)
		for {
			n, err := r.ReadRows(buf)
			for _, row := range buf[:n] {
				rows = append(rows, row.Clone())
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("read rows: %v", err)
			}
		}
		r.Close()
	}
	return f, rows
}

// reconstruct turns a row into nested Go values (map[string]any, []any).
func reconstruct(t *testing.T, f *parquet.File, row parquet.Row) map[string]any {
	t.Helper()
	m := map[string]any{}
	if err := f.Schema().Reconstruct(&m, row); err != nil {
		t.Fatalf("reconstruct %v: %v", row, err)
	}
	return m
}

func mustConvert(t *testing.T, spec string, records []string, opts Options) ([]byte, []RecordError) {
	t.Helper()
	cols, err := ParseColumns(spec)
	if err != nil {
		t.Fatalf("ParseColumns(%q): %v", spec, err)
	}
	recs := make([][]byte, len(records))
	for i, r := range records {
		recs[i] = []byte(r)
	}
	file, failed, err := Convert(cols, recs, opts)
	if err != nil {
		t.Fatalf("Convert: %v", err)
	}
	return file, failed
}

// decimalBytesOf is the big-endian two's complement of v in n bytes.
func decimalBytesOf(v int64, n int) []byte {
	x := big.NewInt(v)
	if v < 0 {
		x.Add(x, new(big.Int).Lsh(big.NewInt(1), uint(8*n)))
	}
	return x.FillBytes(make([]byte, n))
}

// TestScalarRoundTrip converts one value into a one-column file, reads the
// file back, and compares the stored parquet value.
func TestScalarRoundTrip(t *testing.T) {
	ms := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			panic(err)
		}
		return tm.UnixMilli()
	}
	tests := []struct {
		name  string
		typ   string
		value string // JSON text
		want  any    // nil, string, bool, int32, int64, float32, float64, []byte
	}{
		{"string", "string", `"héllo"`, "héllo"},
		{"string from number", "string", `1.50`, "1.50"},
		{"string from boolean", "string", `true`, "true"},
		{"string from object", "string", `{"a": [1, 2],  "b": null}`, `{"a":[1,2],"b":null}`},
		{"varchar", "varchar(3)", `"longer than three"`, "longer than three"},
		{"null", "string", `null`, nil},
		{"tinyint", "tinyint", `-128`, int32(-128)},
		{"smallint", "smallint", `32767`, int32(32767)},
		{"int", "int", `2147483647`, int32(2147483647)},
		{"int from string", "int", `"42"`, int32(42)},
		{"int from hex string", "int", `"0x1F"`, int32(31)},
		{"int truncates a fraction", "int", `-2.9`, int32(-2)},
		{"int from exponent", "int", `1.5e3`, int32(1500)},
		{"bigint", "bigint", `-9223372036854775808`, int64(-9223372036854775808)},
		{"bigint from string", "bigint", `"9007199254740993"`, int64(9007199254740993)},
		{"float", "float", `1.5`, float32(1.5)},
		{"float from string", "float", `"-0.25"`, float32(-0.25)},
		{"double", "double", `3.141592653589793`, 3.141592653589793},
		{"double from integer", "double", `7`, 7.0},
		{"boolean", "boolean", `false`, false},
		{"boolean from string", "boolean", `"TRUE"`, true},
		{"timestamp RFC 3339", "timestamp", `"2017-02-07T15:13:01.39256Z"`, ms("2017-02-07T15:13:01.392Z")},
		{"timestamp with offset", "timestamp", `"2017-02-07T17:13:01+02:00"`, ms("2017-02-07T15:13:01Z")},
		{"timestamp with compact offset", "timestamp", `"2017-02-07T10:13:01-0500"`, ms("2017-02-07T15:13:01Z")},
		{"timestamp Hive form", "timestamp", `"2017-2-7 15:13:01.14"`, ms("2017-02-07T15:13:01.14Z")},
		{"timestamp without zone is UTC", "timestamp", `"2017-02-07T15:13:01"`, ms("2017-02-07T15:13:01Z")},
		{"timestamp epoch seconds", "timestamp", `1518033528`, int64(1518033528000)},
		{"timestamp epoch milliseconds", "timestamp", `1518033528123`, int64(1518033528123)},
		{"timestamp float epoch seconds", "timestamp", `1518033528.123`, int64(1518033528123)},
		{"timestamp epoch seconds as string", "timestamp", `"1518033528"`, int64(1518033528000)},
		{"timestamp before 1970", "timestamp", `"1969-12-31T23:59:59.5Z"`, int64(-500)},
		{"date", "date", `"1970-01-02"`, int32(1)},
		{"date before 1970", "date", `"1969-12-31"`, int32(-1)},
		{"date without padding", "date", `"2020-3-1"`, int32(18322)},
		{"decimal int32", "decimal(5,2)", `123.45`, int32(12345)},
		{"decimal rounds half up", "decimal(5,2)", `1.005`, int32(101)},
		{"decimal rounds negative away from zero", "decimal(5,2)", `-1.005`, int32(-101)},
		{"decimal from string", "decimal(5,2)", `"-0.5"`, int32(-50)},
		{"decimal scale 0", "decimal", `12345.4`, int64(12345)},
		{"decimal int64", "decimal(18,3)", `123456789012345.678`, int64(123456789012345678)},
		{"decimal fixed", "decimal(30,4)", `-3.5`, decimalBytesOf(-35000, decimalBytes(30))},
		{"decimal fixed large", "decimal(38,0)", `99999999999999999999999999999999999999`,
			func() []byte {
				x, _ := new(big.Int).SetString("99999999999999999999999999999999999999", 10)
				return x.FillBytes(make([]byte, decimalBytes(38)))
			}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file, failed := mustConvert(t, "v:"+tt.typ, []string{`{"v": ` + tt.value + `}`}, Options{})
			if len(failed) > 0 {
				t.Fatalf("record failed: %v", failed)
			}
			_, rows := readFile(t, file)
			if len(rows) != 1 || len(rows[0]) != 1 {
				t.Fatalf("rows = %v, want one row of one value", rows)
			}
			v := rows[0][0]
			var got any
			switch tt.want.(type) {
			case nil:
				if !v.IsNull() {
					got = v.String()
				}
			case string:
				got = string(v.ByteArray())
			case []byte:
				got = v.ByteArray()
			case bool:
				got = v.Boolean()
			case int32:
				got = v.Int32()
			case int64:
				got = v.Int64()
			case float32:
				got = v.Float()
			case float64:
				got = v.Double()
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("stored %v (%v), want %v", got, v, tt.want)
			}
		})
	}
}

func TestScalarErrors(t *testing.T) {
	tests := []struct {
		name    string
		typ     string
		value   string
		wantMsg string
	}{
		{"int from word", "int", `"abc"`, `"abc" is not a number`},
		{"int from boolean", "int", `true`, "true is not a number"},
		{"int from object", "int", `{"a": 1}`, "is not a number"},
		{"int overflow", "int", `2147483648`, "out of range for a 32-bit integer"},
		{"tinyint overflow", "tinyint", `128`, "out of range for a 8-bit integer"},
		{"bigint huge exponent", "bigint", `1e300`, "out of range"},
		{"int with spaces", "int", `" 1"`, "is not a number"},
		{"int empty string", "int", `""`, "is not a number"},
		{"int very long", "int", `"` + strings.Repeat("1", 500) + `"`, "longer than"},
		{"double from word", "double", `"x"`, "is not a number"},
		{"float overflow", "float", `1e39`, "out of range"},
		{"boolean from number", "boolean", `1`, "is not a boolean"},
		{"boolean from word", "boolean", `"yes"`, "is not a boolean"},
		{"timestamp from word", "timestamp", `"yesterday"`, "is not a timestamp"},
		{"timestamp bad date-time", "timestamp", `"2017-13-07 15:13:01"`, "is not a timestamp"},
		{"timestamp from boolean", "timestamp", `true`, "is not a timestamp"},
		{"date with time", "date", `"2020-01-01T00:00:00Z"`, "is not a date"},
		{"date from number", "date", `20200101`, "is not a date"},
		{"decimal overflow", "decimal(5,2)", `1000`, "does not fit decimal(5,2)"},
		{"decimal rounding overflows", "decimal(3,2)", `9.999`, "does not fit decimal(3,2)"},
		{"decimal huge exponent", "decimal(38,2)", `1e100000`, "does not fit"},
		{"array from scalar", "array<int>", `1`, "is not an array"},
		{"array bad element", "array<int>", `[1, "x"]`, `element 1: "x" is not a number`},
		{"struct from array", "struct<a:int>", `[1]`, "is not an object"},
		{"struct bad field", "struct<a:int>", `{"a": "x"}`, `field "a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file, failed := mustConvert(t, "v:"+tt.typ, []string{`{"v": ` + tt.value + `}`}, Options{})
			if file != nil {
				t.Errorf("file is %d bytes, want nil: no record converted", len(file))
			}
			if len(failed) != 1 {
				t.Fatalf("failed = %v, want the one record", failed)
			}
			if failed[0].Index != 0 {
				t.Errorf("Index = %d, want 0", failed[0].Index)
			}
			if !strings.Contains(failed[0].Error(), tt.wantMsg) || !strings.Contains(failed[0].Error(), `column "v"`) {
				t.Errorf("error %q does not name column v and contain %q", failed[0], tt.wantMsg)
			}
		})
	}
}

func TestDecimalSmallExponentIsZero(t *testing.T) {
	file, failed := mustConvert(t, "v:decimal(10,2),i:int", []string{`{"v": 5e-100000, "i": 7e-100000}`}, Options{})
	if len(failed) > 0 {
		t.Fatal(failed)
	}
	_, rows := readFile(t, file)
	if got := rows[0][0].Int64(); got != 0 {
		t.Errorf("decimal = %d, want 0", got)
	}
	if got := rows[0][1].Int32(); got != 0 {
		t.Errorf("int = %d, want 0", got)
	}
}

func TestNestedRoundTrip(t *testing.T) {
	spec := "tags:array<string>,addr:struct<city:string,zip:int,lines:array<string>>,pts:array<struct<x:int,y:int>>,grid:array<array<int>>"
	records := []string{
		`{"tags": ["a", null, "c"], "addr": {"CITY": "Lyon", "zip": 69001, "lines": ["1 rue", "2e"]},
		  "pts": [{"x": 1, "y": 2}, null, {"x": 3}], "grid": [[1, 2], [], null, [3]]}`,
		`{"tags": [], "addr": {"city": "Nantes"}, "pts": [], "grid": []}`,
		`{"tags": null}`,
		`{}`,
	}
	want := []map[string]any{
		{
			"tags": []any{"a", nil, "c"},
			"addr": map[string]any{"city": "Lyon", "zip": int32(69001), "lines": []any{"1 rue", "2e"}},
			"pts":  []any{map[string]any{"x": int32(1), "y": int32(2)}, nil, map[string]any{"x": int32(3), "y": nil}},
			"grid": []any{[]any{int32(1), int32(2)}, []any{}, nil, []any{int32(3)}},
		},
		{
			"tags": []any{},
			"addr": map[string]any{"city": "Nantes", "zip": nil, "lines": nil},
			"pts":  []any{},
			"grid": []any{},
		},
		{"tags": nil, "addr": nil, "pts": nil, "grid": nil},
		{"tags": nil, "addr": nil, "pts": nil, "grid": nil},
	}
	file, failed := mustConvert(t, spec, records, Options{})
	if len(failed) > 0 {
		t.Fatal(failed)
	}
	f, rows := readFile(t, file)
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, row := range rows {
		t.Run(fmt.Sprint("row ", i), func(t *testing.T) {
			got := reconstruct(t, f, row)
			if !reflect.DeepEqual(got, want[i]) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want[i])
				t.Errorf("row %d =\n %s\nwant\n %s\n(%#v)", i, g, w, got)
			}
		})
	}
}

func TestKeyMatching(t *testing.T) {
	tests := []struct {
		name   string
		spec   string
		opts   Options
		record string
		want   map[string]any
		// wantErr, when set, is the error of the record instead.
		wantErr string
	}{
		{name: "keys match names case-insensitively", spec: "UserName:string,age:int",
			record: `{"username": "ann", "AGE": 30}`, want: map[string]any{"UserName": "ann", "age": int32(30)}},
		{name: "struct fields too", spec: "a:struct<Inner:string>",
			record: `{"A": {"INNER": "x"}}`, want: map[string]any{"a": map[string]any{"Inner": "x"}}},
		{name: "case-sensitive when asked", spec: "name:string,Age:int", opts: Options{CaseSensitive: true},
			record: `{"NAME": "ann", "Age": 3}`, want: map[string]any{"name": nil, "Age": int32(3)}},
		{name: "missing fields are null, extra keys ignored", spec: "a:string,b:int,c:double",
			record: `{"b": 2, "zzz": [1, 2, 3]}`, want: map[string]any{"a": nil, "b": int32(2), "c": nil}},
		{name: "dots to underscores", spec: "a_b:int", opts: Options{ConvertDotsInJSONKeysToUnderscores: true},
			record: `{"a.b": 5}`, want: map[string]any{"a_b": int32(5)}},
		{name: "dots kept by default", spec: "a_b:int", record: `{"a.b": 5}`, want: map[string]any{"a_b": nil}},
		{name: "column to key mapping", spec: "ts:bigint,other:int",
			opts:   Options{ColumnToJSONKeyMappings: map[string]string{"ts": "timestamp"}},
			record: `{"timestamp": 9, "ts": 1, "other": 2}`, want: map[string]any{"ts": int64(9), "other": int32(2)}},
		{name: "ambiguous keys", spec: "name:string", record: `{"Name": "a", "name": "b"}`,
			wantErr: `keys ["Name" "name"] all match column "name"`},
		{name: "ambiguity in an unused key is fine", spec: "a:int", record: `{"a": 1, "X": 1, "x": 2}`,
			want: map[string]any{"a": int32(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file, failed := mustConvert(t, tt.spec, []string{tt.record}, tt.opts)
			if tt.wantErr != "" {
				if len(failed) != 1 || !strings.Contains(failed[0].Error(), tt.wantErr) {
					t.Fatalf("failed = %v, want an error containing %q", failed, tt.wantErr)
				}
				return
			}
			if len(failed) > 0 {
				t.Fatal(failed)
			}
			f, rows := readFile(t, file)
			if got := reconstruct(t, f, rows[0]); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("row = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestBadRecordsFailOthersConvert(t *testing.T) {
	records := []string{
		`{"id": 1, "name": "one"}`,
		`{"id": "not a number", "name": "two"}`,
		`not json`,
		`{"id": 4, "name": "four"}`,
		`[{"id": 5}]`,
		`{"id": 6}{"id": 7}`,
		"{\"id\": 8, \"name\": \"\xff\"}",
		`null`,
		` {"id": 9, "name": "nine"} `,
		`{"id": 10, "name": "ten"`,
	}
	file, failed := mustConvert(t, "id:int,name:string", records, Options{})
	var idx []int
	for _, f := range failed {
		idx = append(idx, f.Index)
		var re RecordError
		if !errors.As(error(f), &re) || f.Unwrap() == nil {
			t.Errorf("%v does not unwrap", f)
		}
	}
	if want := []int{1, 2, 4, 5, 6, 7, 9}; !slices.Equal(idx, want) {
		t.Errorf("failed records %v, want %v (%v)", idx, want, failed)
	}
	f, rows := readFile(t, file)
	var got []string
	for _, row := range rows {
		m := reconstruct(t, f, row)
		got = append(got, fmt.Sprint(m["id"], "=", m["name"]))
	}
	if want := []string{"1=one", "4=four", "9=nine"}; !slices.Equal(got, want) {
		t.Errorf("rows %v, want %v in record order", got, want)
	}
}

func TestNoRecords(t *testing.T) {
	file, failed := mustConvert(t, "a:int", nil, Options{})
	if file != nil || failed != nil {
		t.Errorf("Convert(no records) = %d bytes, %v; want nil, nil", len(file), failed)
	}
}

func TestManyRowsAcrossBatches(t *testing.T) {
	const n = 1000 // more than one internal batch of rows
	records := make([]string, n)
	for i := range records {
		records[i] = fmt.Sprintf(`{"i": %d, "s": "v%d"}`, i, i%10)
	}
	file, failed := mustConvert(t, "i:int,s:string", records, Options{EnableDictionaryCompression: true})
	if len(failed) > 0 {
		t.Fatal(failed)
	}
	_, rows := readFile(t, file)
	if len(rows) != n {
		t.Fatalf("%d rows, want %d", len(rows), n)
	}
	for i, row := range rows {
		if row[0].Int32() != int32(i) || string(row[1].ByteArray()) != fmt.Sprintf("v%d", i%10) {
			t.Fatalf("row %d = %v", i, row)
		}
	}
}

func TestDeterministic(t *testing.T) {
	spec := "id:bigint,name:string,ts:timestamp,price:decimal(30,2),tags:array<string>,addr:struct<city:string,zip:int>"
	var recs [][]byte
	for i := range 500 {
		recs = append(recs, fmt.Appendf(nil,
			`{"id": %d, "NAME": "n%d", "ts": %d, "price": "%d.%02d", "tags": ["a", "b%d"], "addr": {"city": "c%d", "zip": %d}, "x%d": 1}`,
			i, i%7, 1518033528123+int64(i), i, i%100, i%3, i%5, i, i))
	}
	recs = append(recs, []byte(`{"id": "bad"}`))
	cols, err := ParseColumns(spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, compression := range []string{"SNAPPY", "GZIP", "UNCOMPRESSED"} {
		t.Run(compression, func(t *testing.T) {
			opts := Options{Compression: compression, EnableDictionaryCompression: true}
			a, _, err := Convert(cols, recs, opts)
			if err != nil {
				t.Fatal(err)
			}
			// A separate Converter, as after a restart.
			c, err := NewConverter(cols, opts)
			if err != nil {
				t.Fatal(err)
			}
			b, _, err := c.Convert(recs)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Fatalf("two conversions of the same records differ (%d and %d bytes)", len(a), len(b))
			}
			// The same Converter again, concurrently with another.
			done := make(chan []byte)
			go func() {
				x, _, _ := c.Convert(recs)
				done <- x
			}()
			d, _, err := c.Convert(recs)
			if err != nil {
				t.Fatal(err)
			}
			if x := <-done; !bytes.Equal(a, d) || !bytes.Equal(a, x) {
				t.Fatal("a reused Converter wrote different bytes")
			}
		})
	}
}

func TestFileMetadata(t *testing.T) {
	tests := []struct {
		compression string
		want        format.CompressionCodec
	}{
		{"", format.Snappy},
		{"SNAPPY", format.Snappy},
		{"gzip", format.Gzip},
		{"UNCOMPRESSED", format.Uncompressed},
	}
	for _, tt := range tests {
		t.Run("compression "+tt.compression, func(t *testing.T) {
			file, _ := mustConvert(t, "b:string,a:int,c:struct<z:int,y:int>", []string{`{"a": 1, "b": "x", "c": {"y": 2}}`},
				Options{Compression: tt.compression})
			f, _ := readFile(t, file)
			md := f.Metadata()
			if md.CreatedBy != createdBy {
				t.Errorf("CreatedBy = %q, want %q", md.CreatedBy, createdBy)
			}
			for _, c := range md.RowGroups[0].Columns {
				if c.MetaData.Codec != tt.want {
					t.Errorf("column %v codec = %v, want %v", c.MetaData.PathInSchema, c.MetaData.Codec, tt.want)
				}
			}
			// Columns keep the declared order, not alphabetical order.
			var paths []string
			for _, p := range f.Schema().Columns() {
				paths = append(paths, strings.Join(p, "."))
			}
			if want := []string{"b", "a", "c.z", "c.y"}; !slices.Equal(paths, want) {
				t.Errorf("columns %v, want %v", paths, want)
			}
		})
	}
}

func TestNewConverterErrors(t *testing.T) {
	cols := []Column{{"a", "int"}}
	tests := []struct {
		name    string
		cols    []Column
		opts    Options
		wantMsg string
	}{
		{"compression", cols, Options{Compression: "ZSTD"}, "want SNAPPY, GZIP or UNCOMPRESSED"},
		{"page size", cols, Options{PageSizeBytes: 1024}, "minimum is 65536"},
		{"writer version", cols, Options{WriterVersion: "V3"}, "want V1 or V2"},
		{"mapping to an unknown column", cols, Options{ColumnToJSONKeyMappings: map[string]string{"b": "x"}}, `names column "b"`},
		{"no columns", nil, Options{}, "no columns"},
		{"bad type", []Column{{"a", "nope"}}, Options{}, `unknown type "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewConverter(tt.cols, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("NewConverter: err = %v, want one containing %q", err, tt.wantMsg)
			}
		})
	}
}

func TestWriterOptions(t *testing.T) {
	for _, opts := range []Options{
		{WriterVersion: "V2", PageSizeBytes: 64 << 10},
		{WriterVersion: "v1", EnableDictionaryCompression: true},
	} {
		t.Run(fmt.Sprintf("%+v", opts), func(t *testing.T) {
			file, failed := mustConvert(t, "a:int,b:string,c:boolean", []string{`{"a": 1, "b": "x", "c": true}`, `{"a": 2}`}, opts)
			if len(failed) > 0 {
				t.Fatal(failed)
			}
			f, rows := readFile(t, file)
			got := []map[string]any{reconstruct(t, f, rows[0]), reconstruct(t, f, rows[1])}
			want := []map[string]any{{"a": int32(1), "b": "x", "c": true}, {"a": int32(2), "b": nil, "c": nil}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("rows %v, want %v", got, want)
			}
		})
	}
}
