package parquetconv

import (
	"testing"
)

// FuzzConvert feeds arbitrary records (they come from the network) through
// a schema with every type: Convert must never panic, and every record
// either converts to one readable row or fails alone.
func FuzzConvert(f *testing.F) {
	for _, s := range []string{
		`{"s": "x", "i": 1, "b": 2, "f": 1.5, "d": 2.5, "bo": true, "ts": "2020-01-01T00:00:00Z", "dt": "2020-01-01",
		  "d1": 1.25, "d2": "-3.5", "arr": [1, null], "st": {"a": "x", "b": [[1]]}}`,
		`{"S": 1e400, "I": "0x7fffffff", "ts": 1518033528.5, "d2": 1e-400}`,
		`{"arr": [], "st": null, "d1": "99.995"}`,
		`not json`,
		`{"i": 1}{"i": 2}`,
	} {
		f.Add([]byte(s))
	}
	cols, err := ParseColumns("s:string,i:int,b:bigint,f:float,d:double,bo:boolean,ts:timestamp,dt:date," +
		"d1:decimal(5,2),d2:decimal(30,3),arr:array<int>,st:struct<a:string,b:array<array<int>>>")
	if err != nil {
		f.Fatal(err)
	}
	c, err := NewConverter(cols, Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, record []byte) {
		file, failed, err := c.Convert([][]byte{record, []byte(`{"i": 7}`)})
		if err != nil {
			t.Fatalf("Convert: %v", err)
		}
		_, rows := readFile(t, file)
		if len(rows)+len(failed) != 2 {
			t.Fatalf("%d rows and %d failures for 2 records", len(rows), len(failed))
		}
		if len(failed) == 1 && failed[0].Index != 0 {
			t.Fatalf("the good record failed: %v", failed)
		}
	})
}

// FuzzParseColumns: a schema comes from an API request; parsing it and
// building the Parquet schema must never panic.
func FuzzParseColumns(f *testing.F) {
	for _, s := range []string{
		"name:string,age:int",
		"a:decimal(38,38),b:array<struct<c:decimal(9,0),d:array<date>>>",
		`[{"Name":"a","Type":"varchar(3)"}]`,
		"a:struct<>", "a:array<>", "a:decimal()", "a:(", "a:<", "a:decimal(1,2,3)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		cols, err := ParseColumns(spec)
		if err != nil {
			return
		}
		if _, err := NewConverter(cols, Options{EnableDictionaryCompression: true}); err != nil {
			t.Fatalf("ParseColumns accepted %q but NewConverter failed: %v", spec, err)
		}
	})
}
