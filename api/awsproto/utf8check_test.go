package awsproto

import (
	"strings"
	"testing"

	"github.com/spatehq/spate/apierr"
)

func TestCheckStrings(t *testing.T) {
	tests := []struct {
		name, body string
		style      PathStyle
		want       string // "" when the body passes
	}{
		{"ascii", `{"A":"b","C":[1,"d"]}`, AWSPaths, ""},
		{"utf8 and pairs", `{"A":"é😀\ud83d\ude00\u00e9"}`, AWSPaths, ""},
		{"escaped backslash before u", `{"A":"\\ud800"}`, AWSPaths, ""},
		{"escaped quote", `{"A":"\"\ud800"}`, AWSPaths, `'a' failed to satisfy constraint: Member must be valid Unicode text: the escape \ud800 (at byte 8)`},
		{"raw byte", "{\"A\":\"x\xff\"}", AWSPaths, "'a' failed to satisfy constraint: Member must be valid Unicode text: byte 0xff (at byte 7) is not UTF-8"},
		{"list position, AWS style", `{"Records":[{"K":"a"},{"K":"a","P":"\udfff"}]}`, AWSPaths, "'records.2.member.p'"},
		{"list position, wire style", `{"Records":[{"K":"a"},{"K":"a","P":"\udfff"}]}`, WirePaths, "'Records[1].P'"},
		{"after a closed object", `{"A":{"B":"x"},"C":"\ud800"}`, WirePaths, "'C'"},
		{"member name", `{"Tags":{"k\ud800":"v"}}`, WirePaths, "the member name the escape"},
		{"nested lists", `{"A":[[],["x","\ud800"]]}`, WirePaths, "'A[1][1]'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkStrings([]byte(tt.body), apierr.Validation, tt.style)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want == "":
			case err == nil:
				t.Fatalf("accepted, want an error with %q", tt.want)
			case apierr.CodeOf(err) != apierr.Validation || !strings.Contains(err.Error(), tt.want):
				t.Fatalf("error %v, want ValidationException with %q", err, tt.want)
			}
		})
	}
}
