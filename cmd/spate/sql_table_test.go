package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/spatehq/spate/shard"
)

func TestFormatNumber(t *testing.T) {
	tests := []struct{ lit, want string }{
		// Integers keep every digit, however long.
		{"42", "42"},
		{"-12345678901", "-12345678901"},
		{"123456789012345678901234567890", "123456789012345678901234567890"},
		// Binary-fraction and summing noise goes.
		{"185.78000000000003", "185.78"},
		{"-0.19999999999999998", "-0.2"},
		{"0.30000000000000004", "0.3"},
		{"-0.040000000000000036", "-0.04"},
		// Real digits stay, up to twelve significant ones.
		{"410.3675", "410.3675"},
		{"165.02166666666668", "165.021666667"},
		{"9999999999.99", "9999999999.99"},
		// Trailing zeros and the sign of zero are not information.
		{"2.50", "2.5"},
		{"3.0", "3"},
		{"-0.0", "0"},
		// Exponent form where plain digits would mislead.
		{"1.5e15", "1.5e+15"},
		{"0.00001234", "1.234e-05"},
		{"2.5E6", "2500000"},
		// Beyond float64: as the server sent it.
		{"1e400", "1e400"},
	}
	for _, tt := range tests {
		t.Run(tt.lit, func(t *testing.T) {
			if got := formatNumber(tt.lit); got != tt.want {
				t.Errorf("formatNumber(%s) = %s, want %s", tt.lit, got, tt.want)
			}
		})
	}
}

func TestLiveTable(t *testing.T) {
	tests := []struct {
		name string
		cols []string
		rows []string
		want string
	}{
		{
			name: "the header comes with the first row, as wide as it",
			cols: []string{"ticker_symbol", "started", "trades", "net_change"},
			rows: []string{
				`{"ticker_symbol":"TGT","started":"2026-12-07T23:43:41.910Z","trades":1,"net_change":-0.14}`,
				`{"ticker_symbol":"NVDA","started":"2026-12-07T23:43:41.808Z","trades":3,"net_change":-0.040000000000000036}`,
				`{"ticker_symbol":"CVX","started":"2026-12-07T23:43:42.221Z","trades":12,"net_change":-0.21999999999999997}`,
			},
			want: "" +
				"TICKER_SYMBOL  STARTED                     TRADES  NET_CHANGE\n" +
				"TGT            2026-12-07T23:43:41.910Z         1       -0.14\n" +
				"NVDA           2026-12-07T23:43:41.808Z         3       -0.04\n" +
				"CVX            2026-12-07T23:43:42.221Z        12       -0.22\n",
		},
		{
			name: "a wider value prints the header again; widths never shrink",
			cols: []string{"sym", "n"},
			rows: []string{
				`{"sym":"A","n":1}`,
				`{"sym":"much longer","n":-12345678901}`,
				`{"sym":"B","n":2.5}`,
			},
			want: "" +
				"SYM              N\n" +
				"A                1\n" +
				"SYM                     N\n" +
				"much longer  -12345678901\n" +
				"B                     2.5\n",
		},
		{
			name: "strings, NULL, booleans, JSON, and runes counted as one",
			cols: []string{"sym", "flag", "extra"},
			rows: []string{
				`{"sym":"é","flag":true,"extra":{"x": [1, 2]}}`,
				`{"sym":"ab","flag":null,"extra":null}`,
			},
			want: "" +
				"SYM       FLAG      EXTRA\n" +
				"é         true      {\"x\":[1,2]}\n" +
				"ab        NULL      NULL\n",
		},
		{
			name: "a row with more values than columns",
			cols: []string{"a"},
			rows: []string{`{"a":"x"}`, `{"a":"y","b":"z"}`},
			want: "" +
				"A\n" +
				"x\n" +
				"A\n" +
				"y         z\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			tbl := newLiveTable(&b, tt.cols)
			for _, row := range tt.rows {
				cells, err := rowCells([]byte(row))
				if err != nil {
					t.Fatal(err)
				}
				if err := tbl.row(cells); err != nil {
					t.Fatal(err)
				}
			}
			if b.String() != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), tt.want)
			}
		})
	}
	if _, err := rowCells([]byte(`[1]`)); err == nil {
		t.Error("an array was read as a row")
	}
}

// TestExampleSQL keeps the README's Analytics script valid: `spate sql
// validate` accepts every script in examples/sql against the streams they
// name.
func TestExampleSQL(t *testing.T) {
	s := startAnalyticsServer(t)
	ctx := clientTestContext(t)
	for _, name := range []string{"stock_ticker", "minute_bars"} {
		if err := s.store.CreateStream(ctx, shard.CreateStreamInput{Name: name, ShardCount: 1}); err != nil {
			t.Fatal(err)
		}
	}
	files, err := filepath.Glob("../../examples/sql/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples/sql/*.sql: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			out, _, err := s.run(ctx, nil, "sql", "validate", f)
			if err != nil || !strings.HasPrefix(out, "ok: reads stock_ticker") {
				t.Errorf("sql validate %s = %q, %v", f, out, err)
			}
		})
	}
}
