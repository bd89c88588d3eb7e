package prefix

import (
	"errors"
	"testing"
	"time"
)

func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"",
		"logs/",
		"a}b{",
		"!{",
		"!{}",
		"!{timestamp:''''}",
		"!{timestamp:'}",
		"myPrefix/year=!{timestamp:yyyy}/month=!{timestamp:MM}/!{firehose:random-string}",
		"!{timestamp:'year='yyyy'/month='MM'/day='dd'/hour='HH}/!{firehose:error-output-type}",
		"customer_id=!{partitionKeyFromQuery:customer_id}/!{partitionKeyFromLambda:x}",
		"!{timestamp:yyyyyyyyyyyyyyyyyyyyyyyy}",
	} {
		f.Add(s)
	}
	in := Input{
		ArrivalTime:     time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC),
		RandomString:    "abcdefghijk",
		ErrorOutputType: ProcessingFailed,
	}
	f.Fuzz(func(t *testing.T, s string) {
		check := func(tmpl *Template, err error) {
			if err != nil {
				var se *SyntaxError
				if errors.As(err, &se) && (se.Offset < 0 || se.Offset > len(s)) {
					t.Fatalf("offset %d outside [0, %d] for %q: %v", se.Offset, len(s), s, err)
				}
				return
			}
			keys := map[string]string{}
			for _, k := range tmpl.UsesKeys() {
				keys[k] = "v"
			}
			in := in
			in.Keys = keys
			if _, err := tmpl.Render(in); err != nil && len(s) < MaxEvaluatedLen/8 {
				t.Fatalf("Render of %q (compiled from %q): %v", tmpl, s, err)
			}
		}
		check(Compile(s))
		check(CompileErrorOutput(s, ""))
		check(CompileErrorOutput("", s))
	})
}
