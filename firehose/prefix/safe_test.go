package prefix

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCompileRefusesUnsafePrefixes(t *testing.T) {
	for _, tt := range []struct {
		name, prefix, errorOutput string
		want                      string // in the error; "" when accepted
	}{
		{"parent at the start", "../x/", "err/", `path segment ".."`},
		{"parent inside", "a/../b/", "err/", `path segment ".."`},
		{"parent at the end", "!{partitionKeyFromQuery:k}/..", "err/!{firehose:error-output-type}/", `path segment ".."`},
		// The time path is appended without a separator: "a/..2006/01/02/15/".
		{"dots before the default time path", "a/..", "err/", ""},
		{"current directory", "a/./b/", "err/", `path segment "."`},
		{"parent from a timestamp literal", "a/!{timestamp:'..'}/", "err/!{firehose:error-output-type}/", `path segment ".."`},
		{"parent beside a key", "../!{partitionKeyFromQuery:k}/", "err/!{firehose:error-output-type}/", `path segment ".."`},
		{"control character", "a/\x00/", "err/", "control character U+0000"},
		{"delete character", "a\x7f/", "err/", "control character U+007F"},
		{"not UTF-8", "a/\xff/", "err/", "not valid UTF-8"},
		{"parent in ErrorOutputPrefix", "a/", "../err/", `path segment ".."`},
		{"parent in ErrorOutputPrefix with expressions", "a/", "x/../!{firehose:error-output-type}/", `path segment ".."`},
		{"parent through the default ErrorOutputPrefix", "../", "", `path segment ".."`},
		{"dots inside a segment", "a..b/...x/.hidden/x./", "err/", ""},
		{"empty segments", "a//b/", "err/", ""},
		{"unicode", "données/é/", "erreurs/", ""},
		{"always over 512 once evaluated", strings.Repeat("a/", 250) + "!{timestamp:yyyy/MM/dd/HH}/", "err/", "evaluated prefix is 514 bytes"},
		{"512 once evaluated", strings.Repeat("a", 498) + "!{timestamp:yyyy/MM/dd/HH}/", "err/", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(tt.prefix)
			if err == nil {
				_, err = CompileErrorOutput(tt.errorOutput, tt.prefix)
			}
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want == "":
			case err == nil:
				t.Fatalf("accepted, want an error with %q", tt.want)
			case !strings.Contains(err.Error(), tt.want):
				t.Fatalf("error %q, want it to contain %q", err, tt.want)
			default:
				if _, ok := errors.AsType[*SyntaxError](err); !ok {
					t.Errorf("error %T %v, want *SyntaxError", err, err)
				}
			}
		})
	}
}

func TestRenderRefusesUnsafeKeyValues(t *testing.T) {
	tmpl, err := Compile("out/.!{partitionKeyFromQuery:k}/!{partitionKeyFromQuery:k}/")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tt := range []struct {
		value, want string // want: in the error, or the rendered prefix
		ok          bool
	}{
		{"a.b", "out/.a.b/a.b/", true},
		{"..a", "out/...a/..a/", true},
		{"é ü", "out/.é ü/é ü/", true},
		{"", "it is empty", false},
		{".", "relative path segment", false},
		{"..", "relative path segment", false},
		{"a/b", "contains '/'", false},
		{"../../etc", "contains '/'", false},
		{"/abs", "contains '/'", false},
		{"a\x00", "control character U+0000", false},
		{"a\nb", "control character U+000A", false},
		{"\u0085", "control character U+0085", false},
		{"\xff", "not valid UTF-8", false},
	} {
		t.Run(tt.value, func(t *testing.T) {
			got, err := tmpl.Render(Input{ArrivalTime: at, Keys: map[string]string{"k": tt.value}})
			switch {
			case tt.ok && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.ok && got != tt.want:
				t.Fatalf("rendered %q, want %q", got, tt.want)
			case !tt.ok && err == nil:
				t.Fatalf("rendered %q, want an error with %q", got, tt.want)
			case !tt.ok && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}
