package schema

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func recs(lines ...string) [][]byte {
	out := make([][]byte, len(lines))
	for i, l := range lines {
		out[i] = []byte(l)
	}
	return out
}

func TestInfer(t *testing.T) {
	tests := []struct {
		name       string
		records    [][]byte
		want       []Column
		notObjects int
	}{
		{
			name: "stock ticker",
			records: recs(
				`{"ticker_symbol":"AAPL","sector":"TECHNOLOGY","price":190.5,"change":-0.25,"event_time":"2026-11-22T03:00:00.123Z"}`,
				`{"ticker_symbol":"XOM","sector":"ENERGY","price":115,"change":1,"event_time":"2026-11-22T03:00:01.000Z"}`,
			),
			want: []Column{
				{Name: "ticker_symbol", Expr: "ticker_symbol", Type: TypeVarchar, Presence: 1, Example: `"XOM"`},
				{Name: "sector", Expr: "sector", Type: TypeVarchar, Presence: 1, Example: `"ENERGY"`},
				{Name: "price", Expr: "price", Type: TypeDouble, Presence: 1, Example: `115`},
				{Name: "change", Expr: "change", Type: TypeDouble, Presence: 1, Example: `1`},
				{Name: "event_time", Expr: "event_time", Type: TypeTimestamp, Presence: 1, Example: `"2026-11-22T03:00:01.000Z"`, Note: "timestamp strings"},
			},
		},
		{
			name: "epoch milliseconds need a time-like name",
			records: recs(
				`{"ts":1790000000000,"id":1790000000000,"created_at":1790000000,"n":3}`,
				`{"ts":1790000000500,"id":1790000000001,"created_at":1790000001,"n":4}`,
			),
			want: []Column{
				{Name: "ts", Expr: "ts", Type: TypeTimestamp, Presence: 1, Example: `1790000000500`, Note: "epoch milliseconds"},
				{Name: "id", Expr: "id", Type: TypeBigint, Presence: 1, Example: `1790000000001`},
				{Name: "created_at", Expr: "created_at", Type: TypeBigint, Presence: 1, Example: `1790000001`,
					Note: "looks like epoch seconds; as a TIMESTAMP use created_at * 1000"},
				{Name: "n", Expr: "n", Type: TypeBigint, Presence: 1, Example: `4`},
			},
		},
		{
			name:    "small numbers in a time field stay BIGINT",
			records: recs(`{"time":5}`),
			want:    []Column{{Name: "time", Expr: "time", Type: TypeBigint, Presence: 1, Example: `5`}},
		},
		{
			name: "nullable, missing, booleans, digit strings",
			records: recs(
				`{"ok":true,"code":"123","maybe":null}`,
				`{"ok":false,"code":"0042"}`,
				`{"ok":null,"code":"7","extra":1.5e3}`,
			),
			want: []Column{
				{Name: "ok", Expr: "ok", Type: TypeBoolean, Nullable: true, Presence: 2.0 / 3, Example: `false`},
				{Name: "code", Expr: "code", Type: TypeVarchar, Presence: 1, Example: `"7"`},
				{Name: "maybe", Expr: "maybe", Type: TypeVarchar, Nullable: true, Presence: 0, Note: "only null or missing in the sample"},
				{Name: "extra", Expr: "extra", Type: TypeDouble, Nullable: true, Presence: 1.0 / 3, Example: `1.5e3`},
			},
		},
		{
			name: "nested objects become paths",
			records: recs(
				`{"order":{"id":7,"customer":{"name":"ann","vip":true}},"items":[1,2]}`,
				`{"order":{"id":8,"customer":{"name":"bob"},"ship-to":"x'y"},"items":[]}`,
			),
			want: []Column{
				{Name: "order.id", Expr: "`order`->>'$.id'", Type: TypeBigint, Presence: 1, Example: `8`},
				{Name: "order.customer.name", Expr: "`order`->>'$.customer.name'", Type: TypeVarchar, Presence: 1, Example: `"bob"`},
				{Name: "order.customer.vip", Expr: "`order`->>'$.customer.vip'", Type: TypeBoolean, Nullable: true, Presence: 0.5, Example: `true`},
				{Name: "items", Expr: "items", Type: TypeVarchar, Presence: 1, Example: `[]`, Note: "JSON array, read as its JSON text"},
				{Name: "order.ship-to", Expr: "`order`->>'$.\"ship-to\"'", Type: TypeVarchar, Nullable: true, Presence: 0.5, Example: `"x'y"`},
			},
		},
		{
			name: "mixed kinds and odd names",
			records: recs(
				`{"v":1,"my field":"a","key":1,"o":{"a":1}}`,
				`{"v":"one","my field":"b","key":2,"o":3}`,
				`[1,2]`, `not json`,
			),
			notObjects: 2,
			want: []Column{
				{Name: "v", Expr: "v", Type: TypeVarchar, Presence: 1, Example: `"one"`, Note: "mixed JSON types (number, string): read as text"},
				{Name: "my field", Expr: "`my field`", Type: TypeVarchar, Presence: 1, Example: `"b"`},
				{Name: "key", Expr: "`key`", Type: TypeBigint, Presence: 1, Example: `2`},
				{Name: "o", Expr: "o", Type: TypeVarchar, Presence: 1, Example: `3`, Note: "mixed JSON types (number, object): read as text"},
				{Name: "o.a", Expr: "o->>'$.a'", Type: TypeBigint, Nullable: true, Presence: 0.5, Example: `1`},
			},
		},
		{
			name:    "too deep is one column",
			records: recs(`{"a":{"b":{"c":{"d":{"e":1}}}}}`),
			want: []Column{{Name: "a.b.c.d", Expr: "a->>'$.b.c.d'", Type: TypeVarchar, Presence: 1, Example: `{"e":1}`,
				Note: "nested deeper than the schema looks; read as JSON text"}},
		},
		{
			name:    "long examples are cut",
			records: recs(`{"s":"` + strings.Repeat("é", 40) + `"}`),
			want:    []Column{{Name: "s", Expr: "s", Type: TypeVarchar, Presence: 1, Example: `"` + strings.Repeat("é", 30) + "..."}},
		},
		{name: "empty", records: nil, want: []Column{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Infer(tt.records)
			if got.Sampled != len(tt.records) || got.NotObjects != tt.notObjects {
				t.Errorf("sampled %d, not objects %d; want %d, %d", got.Sampled, got.NotObjects, len(tt.records), tt.notObjects)
			}
			if !reflect.DeepEqual(got.Columns, tt.want) {
				t.Errorf("columns:\n%s\nwant:\n%s", dump(got.Columns), dump(tt.want))
			}
		})
	}
}

func dump(cols []Column) string {
	var b strings.Builder
	for _, c := range cols {
		fmt.Fprintf(&b, "%+v\n", c)
	}
	return b.String()
}
