package value

import (
	"bytes"
	"testing"
)

func TestCompare(t *testing.T) {
	tests := []struct {
		name   string
		a, b   Value
		want   int
		wantOK bool
	}{
		{"int<float", Int(1), Float(1.5), -1, true},
		{"int=float", Int(2), Float(2), 0, true},
		{"time>int", Time(10), Int(9), 1, true},
		{"strings", String("a"), String("b"), -1, true},
		{"null", Null, Int(1), -1, false},
		{"time vs rfc3339", Time(0), String("1970-01-01T00:00:00.001Z"), -1, true},
		{"string vs int", String("x"), Int(1), 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Compare(tc.a, tc.b)
			if got != tc.want || ok != tc.wantOK {
				t.Fatalf("Compare(%v, %v) = %d, %v; want %d, %v", tc.a, tc.b, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestAppendKeyGroupsEqualNumbers(t *testing.T) {
	if !bytes.Equal(AppendKey(nil, Int(3)), AppendKey(nil, Float(3))) {
		t.Fatal("Int(3) and Float(3) must share a group key")
	}
	if bytes.Equal(AppendKey(nil, Int(3)), AppendKey(nil, Float(3.5))) {
		t.Fatal("3 and 3.5 must not share a group key")
	}
	// Concatenated keys must not collide across boundaries.
	a := AppendKey(AppendKey(nil, String("ab")), String("c"))
	b := AppendKey(AppendKey(nil, String("a")), String("bc"))
	if bytes.Equal(a, b) {
		t.Fatal("('ab','c') and ('a','bc') collide")
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1970-01-01T00:00:01Z", 1000, true},
		{"1970-01-01T01:00:00+01:00", 0, true},
		{"1970-01-01 00:00:00.250", 250, true},
		{"1500", 1500, true},
		{"yesterday", 0, false},
	}
	for _, tc := range tests {
		got, ok := ParseTime(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseTime(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestAppendObjectKeepsOrder(t *testing.T) {
	got := string(AppendObject(nil, []Column{{"z", Int(1)}, {"a", Time(0)}, {"s", String("q\"")}, {"n", Null}}))
	want := `{"z":1,"a":"1970-01-01T00:00:00.000Z","s":"q\"","n":null}`
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
