package parquetconv

import (
	"slices"
	"strings"
	"testing"
)

func TestParseColumns(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want []Column
	}{
		{"compact", "name:string,age:int,ts:timestamp",
			[]Column{{"name", "string"}, {"age", "int"}, {"ts", "timestamp"}}},
		{"spaces are trimmed", " name : string ,\n age:INT ",
			[]Column{{"name", "string"}, {"age", "INT"}}},
		{"commas inside types", "price:decimal(10,2),tags:array<string>,addr:struct<city:string,zip:int>,n:bigint",
			[]Column{{"price", "decimal(10,2)"}, {"tags", "array<string>"}, {"addr", "struct<city:string,zip:int>"}, {"n", "bigint"}}},
		{"nested", "x:array<struct<a:array<int>,b:decimal(38,10)>>",
			[]Column{{"x", "array<struct<a:array<int>,b:decimal(38,10)>>"}}},
		{"every scalar", "a:string,b:varchar(10),c:char(1),d:tinyint,e:smallint,f:int,g:integer,h:bigint,i:float,j:double,k:boolean,l:timestamp,m:date,n:decimal,o:decimal(5)",
			[]Column{{"a", "string"}, {"b", "varchar(10)"}, {"c", "char(1)"}, {"d", "tinyint"}, {"e", "smallint"}, {"f", "int"},
				{"g", "integer"}, {"h", "bigint"}, {"i", "float"}, {"j", "double"}, {"k", "boolean"}, {"l", "timestamp"},
				{"m", "date"}, {"n", "decimal"}, {"o", "decimal(5)"}}},
		{"json", `[{"Name":"name","Type":"string"},{"Name":"age","Type":"int"}]`,
			[]Column{{"name", "string"}, {"age", "int"}}},
		{"json, lower-case members", ` [{"name":"n","type":"array<string>"}] `,
			[]Column{{"n", "array<string>"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseColumns(tt.spec)
			if err != nil {
				t.Fatalf("ParseColumns(%q): %v", tt.spec, err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ParseColumns(%q) = %v, want %v", tt.spec, got, tt.want)
			}
		})
	}
}

func TestParseColumnsErrors(t *testing.T) {
	tests := []struct {
		name    string
		spec    string
		wantMsg string
	}{
		{"empty", "  ", "empty column list"},
		{"no type", "name:string,age", `column 2 "age": want name:type`},
		{"empty name", ":string", "column 1 has no name"},
		{"empty type", "a:", `unknown type ""`},
		{"duplicate, case-insensitive", "Name:string,name:int", `duplicate column "name"`},
		{"unknown type", "a:text", `unknown type "text"`},
		{"map", "a:map<string,int>", "is not supported"},
		{"binary", "a:binary", "is not supported"},
		{"precision too large", "a:decimal(39,2)", "precision must be 1 to 38"},
		{"scale above precision", "a:decimal(5,6)", "scale 0 to precision"},
		{"decimal junk", "a:decimal(x)", "bad precision"},
		{"decimal three args", "a:decimal(1,2,3)", "want decimal(precision,scale)"},
		{"varchar without length", "a:varchar", "want varchar(n)"},
		{"varchar zero", "a:varchar(0)", "length must be"},
		{"array without element", "a:array", "want array<type>"},
		{"array bad element", "a:array<nope>", `unknown type "nope"`},
		{"unbalanced", "a:array<int", "unbalanced"},
		{"closing too early", "a:array<int>x>", "unbalanced"},
		{"text after type", "a:decimal(1,0)x", `missing ')'`},
		{"struct field without type", "a:struct<b>", "want name:type"},
		{"struct duplicate field", "a:struct<b:int,B:int>", `duplicate field "B"`},
		{"too deep", "a:" + strings.Repeat("array<", 20) + "int" + strings.Repeat(">", 20), "nested more than"},
		{"reserved character in name", `[{"Name":"a:b","Type":"int"}]`, "contains one of"},
		{"json unknown member", `[{"Name":"a","Type":"int","Comment":"x"}]`, "unknown field"},
		{"json trailing data", `[{"Name":"a","Type":"int"}] []`, "data after"},
		{"json empty list", `[]`, "no columns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseColumns(tt.spec)
			if err == nil {
				t.Fatalf("ParseColumns(%q) = %v, want an error", tt.spec, got)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestTooManyColumns(t *testing.T) {
	cols := make([]Column, MaxColumns+1)
	for i := range cols {
		cols[i] = Column{Name: "c" + strings.Repeat("_", i/26) + string(rune('a'+i%26)), Type: "int"}
	}
	if _, err := NewConverter(cols, Options{}); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("NewConverter with %d columns: err = %v, want too many columns", len(cols), err)
	}
	if _, err := NewConverter(cols[:MaxColumns], Options{}); err != nil {
		t.Errorf("NewConverter with %d columns: %v", MaxColumns, err)
	}
}
