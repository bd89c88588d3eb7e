package filter

import (
	"testing"
	"time"

	"github.com/spatehq/spate/apierr"
)

var fuzzPatterns = []string{
	`{"data": {"order": {"type": ["buy"]}}}`,
	`{"partitionKey": ["1"], "data": {"Location": ["Los Angeles"]}}`,
	`{"data": {"Temperature": [{"numeric": [">", 50, "<=", 60]}]}}`,
	`{"data": {"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}}`,
	`{"data": {"a": [null, "", true, 1.5e3, {"prefix": "x"}, {"suffix": {"equals-ignore-case": "Y"}}]}}`,
	`{"data": {"a": [{"anything-but": {"prefix": "us-"}}, {"anything-but": [1, 2]}, {"exists": false}]}}`,
	`{"$or": [{"partitionKey": [{"equals-ignore-case": "K"}]}, {"approximateArrivalTimestamp": [{"numeric": ["=", 0]}]}]}`,
	`{"data": {"items": {"sku": ["b"], "qty": [2]}}}`,
}

// FuzzCompile feeds Compile patterns as a peer would send them: it must
// never panic, and refuse with InvalidParameterValueException only.
// Memory is bounded by MaxPatternLength and MaxDepth.
func FuzzCompile(f *testing.F) {
	for _, p := range fuzzPatterns {
		f.Add(p)
	}
	f.Add(`{"a": [[[[[[1]]]]]]}`)
	f.Add(`{"data": {"a": [{"numeric": [">", 1e999]}]}}`)
	f.Fuzz(func(t *testing.T, pattern string) {
		s, err := Compile([]string{pattern})
		if err != nil {
			if !apierr.Is(err, apierr.InvalidParameterValue) {
				t.Fatalf("Compile error %v is not InvalidParameterValueException", err)
			}
			return
		}
		if s.Len() != 1 {
			t.Fatalf("Len = %d", s.Len())
		}
	})
}

// FuzzMatch checks that Match never panics and that a Set is the OR of
// its patterns.
func FuzzMatch(f *testing.F) {
	for i, p := range fuzzPatterns {
		f.Add(p, fuzzPatterns[(i+1)%len(fuzzPatterns)], []byte(`{"order": {"type": "buy"}, "a": [1, "x", null], "Day": "Monday"}`), "1", int64(0))
	}
	f.Add(`{"data": {"a": [{"exists": false}]}}`, `{"partitionKey": [""]}`, []byte(`not json`), "", int64(1545084650987))
	f.Fuzz(func(t *testing.T, p1, p2 string, data []byte, pk string, ms int64) {
		s1, err1 := Compile([]string{p1})
		s2, err2 := Compile([]string{p2})
		if err1 != nil || err2 != nil {
			return
		}
		both, err := Compile([]string{p1, p2})
		if err != nil {
			t.Fatalf("Compile of two valid patterns: %v", err)
		}
		r := Record{PartitionKey: pk, SequenceNumber: "1", Data: data, ApproximateArrivalTimestamp: time.UnixMilli(ms)}
		m1, m2 := s1.Match(r), s2.Match(r)
		if got := both.Match(r); got != (m1 || m2) {
			t.Fatalf("Match of both = %v, of each = %v, %v", got, m1, m2)
		}
	})
}
