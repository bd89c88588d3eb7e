package bench

import (
	"math"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name string
		in   []float64
		want float64
	}{
		{"odd", []float64{3, 1, 2}, 2},
		{"even", []float64{4, 1, 3, 2}, 2.5},
		{"one", []float64{7}, 7},
		{"failed rounds ignored", []float64{nan, 5, 9, nan}, 7},
		{"all failed", []float64{nan, nan}, nan},
		{"empty", nil, nan},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Median(tc.in)
			if got != tc.want && !(math.IsNaN(got) && math.IsNaN(tc.want)) {
				t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestRatio(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b float64
		want float64
	}{
		{"plain", 300, 600, 0.5},
		{"above one", 900, 300, 3},
		{"zero denominator", 1, 0, math.NaN()},
		{"missing numerator", math.NaN(), 1, math.NaN()},
		{"missing denominator", 1, math.NaN(), math.NaN()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Ratio(tc.a, tc.b)
			if got != tc.want && !(math.IsNaN(got) && math.IsNaN(tc.want)) {
				t.Errorf("Ratio(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestNoisy(t *testing.T) {
	for _, tc := range []struct {
		before, after float64
		want          bool
	}{
		{1000, 1000, false},
		{1000, 750, false}, // 25% of the larger
		{1000, 690, true},  // 31%
		{690, 1000, true},  // either direction
		{0, 0, false},
	} {
		if got := Noisy(tc.before, tc.after); got != tc.want {
			t.Errorf("Noisy(%v, %v) = %v, want %v", tc.before, tc.after, got, tc.want)
		}
	}
}

func TestStamp(t *testing.T) {
	at := time.Unix(1700000000, 123456789)
	p := make([]byte, 100)
	Stamp(p, at)
	got, ok := StampOf(p)
	if !ok || !got.Equal(at) {
		t.Errorf("StampOf = %v, %v; want %v", got, ok, at)
	}
	if _, ok := StampOf(p[:7]); ok {
		t.Error("StampOf of 7 bytes: ok")
	}
}

func TestLatencies(t *testing.T) {
	l := NewLatencies()
	if !math.IsNaN(l.Quantile(50)) {
		t.Error("empty histogram has a median")
	}
	for i := 1; i <= 100; i++ {
		l.Record(time.Duration(i) * time.Millisecond)
	}
	l.Record(time.Hour) // above the range: kept as the maximum, not dropped
	if n := l.Count(); n != 101 {
		t.Errorf("Count = %d, want 101", n)
	}
	// HDR with 3 significant digits: within 0.1%.
	if p50 := l.Quantile(50); math.Abs(p50-51) > 0.06 {
		t.Errorf("p50 = %v ms, want about 51", p50)
	}
	if p100 := l.Quantile(100); p100 < 59_000 {
		t.Errorf("p100 = %v ms, want the clamped hour (60 s)", p100)
	}
}

func TestNewBatch(t *testing.T) {
	b := NewBatch(3, 100)
	if len(b) != 3 {
		t.Fatalf("len = %d", len(b))
	}
	Stamp(b[0], time.Unix(1, 0))
	for i, r := range b {
		if len(r) != 100 || cap(r) != 100 {
			t.Errorf("record %d: len %d cap %d, want 100 and 100 (an append must not spill into the next)", i, len(r), cap(r))
		}
	}
	if b[1][0] == b[0][0] && b[1][1] == b[0][1] && b[1][7] == b[0][7] {
		t.Error("stamping record 0 changed record 1")
	}
	for _, n := range []int{1, 7, 500} { // the filler is a..z repeated across records
		var all []byte
		for _, r := range NewBatch(n, 100) {
			all = append(all, r...)
		}
		for i, c := range all {
			if c != 'a'+byte(i%26) {
				t.Fatalf("NewBatch(%d, 100): byte %d is %q, want %q", n, i, c, 'a'+byte(i%26))
			}
		}
	}
	if got := NewBatch(1, 3); len(got[0]) != stampLen {
		t.Errorf("record of 3 bytes: len %d, want room for the stamp (%d)", len(got[0]), stampLen)
	}
}
