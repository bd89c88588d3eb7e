package filter

import "testing"

// BenchmarkMatch measures the per-record cost the poller pays: one small
// JSON record against the doc's order filter.
func BenchmarkMatch(b *testing.B) {
	s, err := Compile([]string{`{"data": {"order": {"type": ["buy"]}}}`, `{"partitionKey": [{"prefix": "vip-"}]}`})
	if err != nil {
		b.Fatal(err)
	}
	r := rec(`{"record": 12345, "order": {"type": "sell", "stock": "ANYCO", "quantity": 1000}}`)
	b.ReportAllocs()
	for b.Loop() {
		if s.Match(r) {
			b.Fatal("matched")
		}
	}
}
