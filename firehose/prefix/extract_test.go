package prefix

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
)

func TestNewExtractorErrors(t *testing.T) {
	tests := []struct {
		name       string
		query      string
		wantOffset int
		wantMsg    string
	}{
		{"empty", "  ", 0, "empty query"},
		{"unterminated object", "{a: .b", 6, "unexpected EOF"},
		{"bad token", "{a: .b ]}", 8, `unexpected token "]"`},
		{"unknown function", "{a: nosuchfunc}", -1, "nosuchfunc"},
		{"input is not allowed", "{a: input}", -1, "input"},
		{"modules", `import "m" as m; {a: .b}`, -1, "modules"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewExtractor(tt.query)
			if err == nil {
				t.Fatalf("NewExtractor(%q) = %v, want an error", tt.query, e)
			}
			var qe *QueryError
			if !errors.As(err, &qe) {
				t.Fatalf("error %T %v, want *QueryError", err, err)
			}
			if qe.Offset != tt.wantOffset {
				t.Errorf("offset = %d, want %d (%v)", qe.Offset, tt.wantOffset, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestExtract(t *testing.T) {
	const sample = `{"type": {"device": "mobile", "event": "click"}, "customer_id": "1234567890",
		"event_timestamp": 1565382027, "region": "sample_region"}`
	tests := []struct {
		name    string
		query   string
		opts    []ExtractorOption
		record  string
		want    map[string]string
		wantErr string
	}{
		{name: "guide example, nested fields and strftime",
			query:  `{customer_id: .customer_id, device: .type.device, year: .event_timestamp|strftime("%Y"), hour: .event_timestamp|strftime("%H")}`,
			record: sample,
			want:   map[string]string{"customer_id": "1234567890", "device": "mobile", "year": "2019", "hour": "20"}},
		{name: "deeply nested", query: `{region: .device.location.region}`,
			record: `{"device": {"location": {"region": "eu-west-1"}}}`, want: map[string]string{"region": "eu-west-1"}},
		{name: "numbers as jq renders them", query: `{i: .i, neg: .neg, f: .f, e: .e, big: .big, zero: .z, computed: (.i + 1), ratio: (.i / 8)}`,
			record: `{"i": 42, "neg": -0.25, "f": 1.50, "e": 1e2, "big": 12345678901234567890, "z": 0}`,
			want: map[string]string{"i": "42", "neg": "-0.25", "f": "1.5", "e": "100", "big": "12345678901234567890",
				"zero": "0", "computed": "43", "ratio": "5.25"}},
		{name: "booleans", query: `{t: .t, f: .f, cmp: (.n > 1)}`, record: `{"t": true, "f": false, "n": 2}`,
			want: map[string]string{"t": "true", "f": "false", "cmp": "true"}},
		{name: "whitespace around the record", query: `{a: .a}`, record: " \n{\"a\": \"x\"}\r\n", want: map[string]string{"a": "x"}},
		{name: "unicode value", query: `{a: .a}`, record: `{"a": "caf\u00e9/日本"}`, want: map[string]string{"a": "café/日本"}},
		{name: "default with //", query: `{a: (.missing // "none")}`, record: `{}`, want: map[string]string{"a": "none"}},
		{name: "user definitions win over the guards", query: `def now: 7; {a: now}`, record: `{}`, want: map[string]string{"a": "7"}},
		{name: "environment is empty", query: `{n: ($ENV | length)}`, record: `{}`, want: map[string]string{"n": "0"}},

		{name: "missing key", query: `{customer_id: .customer_id}`, record: `{"id": 1}`, wantErr: `partition key "customer_id": value is null`},
		{name: "nested object value", query: `{d: .type}`, record: sample, wantErr: "value is an object"},
		{name: "array value", query: `{d: .xs}`, record: `{"xs": [1]}`, wantErr: "value is an array"},
		{name: "record is an array", query: `{a: .a}`, record: `[{"a": 1}]`, wantErr: "non-JSON record"},
		{name: "record is a string", query: `{a: .a}`, record: `"a"`, wantErr: "non-JSON record"},
		{name: "record is not JSON", query: `{a: .a}`, record: `customer_id=1`, wantErr: "non-JSON record"},
		{name: "record is empty", query: `{a: .a}`, record: ``, wantErr: "non-JSON record"},
		{name: "truncated record", query: `{a: .a}`, record: `{"a": "x"`, wantErr: "non-JSON record"},
		{name: "two objects in one record", query: `{a: .a}`, record: `{"a": 1}{"a": 2}`, wantErr: "data after the JSON object"},
		{name: "invalid UTF-8", query: `{a: .a}`, record: "{\"a\": \"\xff\"}", wantErr: "not valid UTF-8"},
		{name: "query yields a string", query: `.customer_id`, record: sample, wantErr: "query yielded a string"},
		{name: "query yields two objects", query: `{a: .xs[]}`, record: `{"xs": ["1", "2"]}`, wantErr: "more than one value"},
		{name: "query yields nothing", query: `empty`, record: `{}`, wantErr: "no value"},
		{name: "query raises an error", query: `{a: error("boom")}`, record: `{}`, wantErr: "boom"},
		{name: "type error", query: `{a: (.a + 1)}`, record: `{"a": "x"}`, wantErr: "query failed"},
		{name: "now is refused", query: `{d: (now | strftime("%Y"))}`, record: `{}`, wantErr: "now is not supported"},
		{name: "localtime is refused", query: `{d: (0 | localtime | mktime)}`, record: `{}`, wantErr: "localtime is not supported"},
		{name: "infinite loop hits the step budget", query: `{a: last(repeat(1))}`, opts: []ExtractorOption{WithMaxSteps(10_000)},
			record: `{}`, wantErr: "exceeded 10000 steps"},
		{name: "big range hits the step budget", query: `{a: ([range(1e9)] | length)}`, opts: []ExtractorOption{WithMaxSteps(10_000)},
			record: `{}`, wantErr: "exceeded 10000 steps"},
		{name: "nan is not a key", query: `{a: nan}`, record: `{}`, wantErr: "not a finite number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := NewExtractor(tt.query, tt.opts...)
			if err != nil {
				t.Fatalf("NewExtractor(%q): %v", tt.query, err)
			}
			got, err := e.Extract([]byte(tt.record))
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Extract = %v, want an error containing %q", got, tt.wantErr)
				}
				var ee *ExtractError
				if !errors.As(err, &ee) {
					t.Errorf("error %T %v, want *ExtractError", err, err)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q does not contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("Extract = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestExtractStepBudgetIsDeterministic(t *testing.T) {
	// A query just over the budget fails every time, and one under it
	// succeeds every time: the bound counts steps, not wall time.
	e, err := NewExtractor(`{n: ([range(.n)] | length)}`, WithMaxSteps(2_000))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := e.Extract([]byte(`{"n": 10}`)); err != nil {
			t.Fatalf("run %d: small range: %v", i, err)
		}
		if _, err := e.Extract([]byte(`{"n": 100000}`)); err == nil || !strings.Contains(err.Error(), "steps") {
			t.Fatalf("run %d: large range: err = %v, want the step budget", i, err)
		}
	}
}

func TestExtractConcurrent(t *testing.T) {
	e, err := NewExtractor(`{id: .id, even: (.id % 2 == 0)}`)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				id := g*1000 + i
				got, err := e.Extract(fmt.Appendf(nil, `{"id": %d}`, id))
				if err != nil {
					errs <- err
					return
				}
				want := map[string]string{"id": fmt.Sprint(id), "even": fmt.Sprint(id%2 == 0)}
				if !maps.Equal(got, want) {
					errs <- fmt.Errorf("Extract(%d) = %v, want %v", id, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestExtractThenRender(t *testing.T) {
	e, err := NewExtractor(`{customer_id: .customer_id, device: .type.device}`)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := Compile("customer_id=!{partitionKeyFromQuery:customer_id}/device=!{partitionKeyFromQuery:device}/")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := e.Extract([]byte(`{"customer_id": 7, "type": {"device": "mobile"}}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.Render(Input{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	if want := "customer_id=7/device=mobile/"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
