package awsproto

import (
	"context"
	"strings"
	"testing"
)

func TestCompilePattern(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		match   []string
		noMatch []string
	}{
		{"plain, anchored at both ends", `[a-z]+`, []string{"abc"}, []string{"", "ab1", "1ab"}},
		{"alternation is anchored as a whole", `0|([1-9]\d{0,2})`, []string{"0", "999"}, []string{"01", "1000"}},
		{"leading look-ahead excludes a prefix", `^(?!aws:)[\p{L}\p{Z}\p{N}_.:\/=+\-@%]*$`,
			[]string{"", "team", "my aws:key", "aw:s"}, []string{"aws:", "aws:team", "bad!"}},
		{"leading look-ahead excludes blank values", `^(?!\s*$).+`, []string{"a", " a "}, []string{"", " ", "\t\t"}},
		{"look-ahead without ^", `(?!x)[a-z]`, []string{"a"}, []string{"x"}},
		{"look-ahead with a class holding a parenthesis", `^(?![)(])\S+$`, []string{"a)"}, []string{")a", "(a"}},
		{"Java unicode escapes", `[\u0001-\uFFFF]*`, []string{"", "abc", "é"}, []string{"\x00"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := compilePattern(tt.pattern)
			if !ok {
				t.Fatalf("compilePattern(%q) failed", tt.pattern)
			}
			for _, s := range tt.match {
				if !p.MatchString(s) {
					t.Errorf("%q does not match %q", tt.pattern, s)
				}
			}
			for _, s := range tt.noMatch {
				if p.MatchString(s) {
					t.Errorf("%q matches %q", tt.pattern, s)
				}
			}
		})
	}
	for _, unsupported := range []string{
		`jdbc:(redshift|postgresql)://((?!-)[A-Za-z0-9-]{1,63}(?<!-)\.)+x`, // look-behind, look-ahead inside
		`(?!unclosed`,
	} {
		if _, ok := compilePattern(unsupported); ok {
			t.Errorf("compilePattern(%q) should report that RE2 cannot check it", unsupported)
		}
	}
}

func TestLoadModelRecordsUncheckedPatterns(t *testing.T) {
	m, err := LoadModel([]byte(`{"metadata": {"targetPrefix": "T"},
		"operations": {"Op": {"input": {"shape": "In"}}},
		"shapes": {
			"In": {"type": "structure", "members": {"Url": {"shape": "Url"}}},
			"Url": {"type": "string", "pattern": "a(?<!b)c"}
		}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.UncheckedPatterns(); len(got) != 1 || got[0] != "Url: a(?<!b)c" {
		t.Errorf("UncheckedPatterns = %q", got)
	}
	// The member is still decoded and its other constraints checked.
	h := newTestHandlerFor(t, m, Action("Op", func(context.Context, *struct {
		Url *string `json:"Url"`
	}) (ok, error) {
		return ok{}, nil
	}))
	if _, err := h.Decode("Op", []byte(`{"Url":"anything"}`)); err != nil {
		t.Errorf("unchecked pattern rejected a value: %v", err)
	}
}

func TestLoadModelOverlay(t *testing.T) {
	m := loadTestModel(t, `{"shapes": {
		"Tag": {"members": {"Extra": {"shape": "Note"}}, "required": ["Value"]},
		"Note": {"type": "string", "max": 3},
		"Size": {"max": 256},
		"Name": {"pattern": "[a-z0-9]+"}
	}}`)
	tag := m.operations["Configure"].members[2].shape.elem
	var names []string
	for _, mem := range tag.members {
		names = append(names, mem.name)
	}
	if got := strings.Join(names, ","); got != "Key,Value,Color,Extra" {
		t.Errorf("Tag members = %s, want the overlay's appended in order", got)
	}
	if !tag.members[1].required {
		t.Error("overlay's required member is not required")
	}
	if n := tag.members[3].shape; n.name != "Note" || !n.hasMax || n.max != 3 {
		t.Errorf("new shape Note = %+v", n)
	}
	hints := m.operations["Configure"].members[1].shape.members[1].shape
	if size := hints.members[0].shape; size.max != 256 || size.min != 1 {
		t.Errorf("Size bounds = %d..%d, want 1..256", size.min, size.max)
	}
	if p := m.operations["Put"].members[0].shape.pattern; !p.MatchString("a1") {
		t.Error("overlay pattern not applied")
	}

	for _, tt := range []struct{ name, overlay, want string }{
		{"duplicate member", `{"shapes": {"Tag": {"members": {"Key": {"shape": "Name"}}}}}`, "already has member Key"},
		{"type change", `{"shapes": {"Size": {"type": "string"}}}`, "type integer cannot become string"},
		{"not JSON", `{`, "overlay 1: parse"},
		{"unknown shape referenced", `{"shapes": {"Tag": {"members": {"X": {"shape": "Nope"}}}}}`, "shape Nope is not defined"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadModel([]byte(testModel), []byte(tt.overlay))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadModel error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestModelOperations(t *testing.T) {
	m := loadTestModel(t)
	if got := strings.Join(m.Operations(), ","); got != "Configure,NoInput,Ping,Put,Unserved" {
		t.Errorf("Operations = %s", got)
	}
	if m.TargetPrefix() != "Test_20200101" {
		t.Errorf("TargetPrefix = %s", m.TargetPrefix())
	}
}
