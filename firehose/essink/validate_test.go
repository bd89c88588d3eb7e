package essink_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/spatehq/spate/firehose/essink"
)

func TestValidateJSONObject(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantErr string // substring; "" means valid
	}{
		{"object", `{"a":1}`, ""},
		{"empty object", `{}`, ""},
		{"surrounding whitespace", " \n\t{\"a\": [1, 2, {\"b\": null}]}\r\n ", ""},
		{"multi-line", "{\n  \"a\": 1,\n  \"b\": \"x\"\n}\n", ""},
		{"unicode", `{"név":"árvíztűrő 🐟"}`, ""},
		{"empty", ``, "empty record"},
		{"only whitespace", " \n ", "empty record"},
		{"array", `[{"a":1}]`, "not '{'"},
		{"string", `"hello"`, "not '{'"},
		{"number", `42`, "not '{'"},
		{"null", `null`, "not '{'"},
		{"plain text", `hello world`, "not '{'"},
		{"truncated", `{"a":1`, "unexpected end of JSON input"},
		{"two objects", `{"a":1}{"b":2}`, "invalid character"},
		{"trailing garbage", `{"a":1} x`, "invalid character"},
		{"single quotes", `{'a':1}`, "invalid character"},
		{"invalid utf-8", "{\"a\":\"\xff\xfe\"}", "invalid UTF-8"},
		{"utf-8 bom", "\xef\xbb\xbf{\"a\":1}", "not '{'"},
		{"raw newline in string", "{\"a\":\"x\ny\"}", "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := essink.ValidateJSONObject([]byte(tt.body))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidateJSONObject(%q) = %v, want nil", tt.body, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ValidateJSONObject(%q) = nil, want error containing %q", tt.body, tt.wantErr)
			}
			if !errors.Is(err, essink.ErrNotJSONObject) {
				t.Errorf("error %v does not wrap ErrNotJSONObject", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

// FuzzValidateJSONObject checks ValidateJSONObject never panics and accepts
// exactly the UTF-8 JSON texts whose value is an object.
func FuzzValidateJSONObject(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[]`, `{`, "{\"\xff\":1}", ` {} `, `null`, `{"a":{"b":[1,"x",true]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		err := essink.ValidateJSONObject(body)
		var v any
		want := utf8.Valid(body) && json.Unmarshal(body, &v) == nil
		if want {
			_, want = v.(map[string]any)
		}
		if (err == nil) != want {
			t.Fatalf("ValidateJSONObject(%q) = %v, want valid=%v", body, err, want)
		}
	})
}
