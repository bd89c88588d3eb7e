package prefix

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Object keys are paths to most of what stores them (S3 servers backed by a
// file system, sync tools, clients that clean URL paths), so an evaluated
// prefix must never name a place outside itself. The rules, kept at both
// ends:
//   - Compile and CompileErrorOutput refuse a prefix whose evaluation can
//     hold a "." or ".." path segment, a control character or bytes that
//     are not UTF-8 (the API answers InvalidArgumentException);
//   - Render refuses a partition key value that is not one safe key
//     segment (empty, ".", "..", containing '/', a control character or
//     bytes that are not UTF-8), and checks the whole evaluated prefix
//     against the same segment rules. A record whose prefix cannot be
//     rendered goes to ErrorOutputPrefix, as Firehose sends a record whose
//     partition keys cannot be evaluated.

// unsafeValue says why v, the value of partition key, cannot be one segment
// of an object key, or returns "".
func unsafeValue(v string) string {
	switch {
	case v == "":
		return "it is empty"
	case v == "." || v == "..":
		return "it is a relative path segment"
	case strings.Contains(v, "/"):
		return "it contains '/'"
	}
	return unsafeText(v)
}

// unsafeText says why s cannot be part of an object key, or returns "".
func unsafeText(s string) string {
	if !utf8.ValidString(s) {
		return "it is not valid UTF-8"
	}
	if i := strings.IndexFunc(s, isControl); i >= 0 {
		return fmt.Sprintf("it contains the control character %U", []rune(s[i:])[0])
	}
	return ""
}

func isControl(r rune) bool { return r < 0x20 || r >= 0x7f && r < 0xa0 }

// unsafeSegment returns the first "." or ".." segment of the evaluated
// prefix p, or "".
func unsafeSegment(p string) string {
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." {
			return seg
		}
	}
	return ""
}

// checkEvaluated checks an evaluated prefix against the segment rules.
func checkEvaluated(p string) error {
	if seg := unsafeSegment(p); seg != "" {
		return fmt.Errorf("render prefix: evaluated prefix %q has the path segment %q", truncate(p), seg)
	}
	if why := unsafeText(p); why != "" {
		return fmt.Errorf("render prefix: evaluated prefix %q is not a safe object key: %s", truncate(p), why)
	}
	return nil
}

// sampleKey stands for every partition key in checkSafe's trial rendering:
// Render refuses values that could form a bad segment with the text around
// them ("", ".", "..", '/'), so any other value shows the same segments.
const sampleKey = "k"

// checkSafe refuses a template whose evaluation can hold a "." or ".."
// segment, a control character or bytes that are not UTF-8, whatever the
// time and the partition keys, or is always longer than MaxEvaluatedLen: it renders the template once with sample
// values (timestamp patterns evaluate to digits, month names and their
// quoted literals, which is where such text would come from).
func (t *Template) checkSafe() error {
	if why := unsafeText(t.src); why != "" {
		return &SyntaxError{Offset: 0, Msg: "the prefix is not a safe object key: " + why}
	}
	keys := make(map[string]string, len(t.keys))
	for _, k := range t.keys {
		keys[k] = sampleKey
	}
	lambdaKeys := make(map[string]string, len(t.lambdaKeys))
	for _, k := range t.lambdaKeys {
		lambdaKeys[k] = sampleKey
	}
	// May has the shortest month name, and keys are at least one
	// character, so the sample is the shortest evaluation there can be.
	in := Input{
		ArrivalTime:     time.Date(2006, time.May, 2, 15, 4, 5, 0, time.UTC),
		Keys:            keys,
		LambdaKeys:      lambdaKeys,
		RandomString:    RandomString(nil),
		ErrorOutputType: ProcessingFailed,
	}
	p, err := t.render(in)
	if err != nil {
		// Every key and value is supplied: the evaluation is too long.
		return &SyntaxError{Offset: 0, Msg: fmt.Sprintf(
			"%v even with the shortest values; Firehose allows at most %d characters after evaluation (shorten the prefix)", err, MaxEvaluatedLen)}
	}
	if seg := unsafeSegment(p); seg != "" {
		at := strings.Index(t.src, seg)
		return &SyntaxError{Offset: max(at, 0), Msg: fmt.Sprintf(
			"the prefix evaluates to %q, which has the path segment %q: object keys must not contain . or .. segments (remove them; a prefix names a place under the bucket, not relative to it)",
			truncate(p), seg)}
	}
	return nil
}
