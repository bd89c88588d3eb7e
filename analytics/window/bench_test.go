package window

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"

	"github.com/spatehq/spate/analytics/agg"
	"github.com/spatehq/spate/analytics/value"
)

// benchOperator feeds b.N rows of random keys (of nkeys) through a COUNT(*)
// operator, event time rising by one ms every rowsPerMs rows with a little
// disorder, the watermark following every 1000 rows: the shape of the
// Nexmark q5/q7/q11 queries without the JSON decoding.
func benchOperator(b *testing.B, spec Spec, nkeys, rowsPerMs int) {
	o, err := New(Config{Spec: spec, Aggs: []agg.Spec{{Kind: agg.Count, Star: true}}})
	if err != nil {
		b.Fatal(err)
	}
	keys := make([][]value.Value, nkeys)
	keyBytes := make([][]byte, nkeys)
	for i := range keys {
		keys[i] = []value.Value{value.Int(int64(1000 + i))}
		keyBytes[i] = value.AppendKey(nil, keys[i][0])
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 1 << 16
	pick := make([]int, n)
	jitter := make([]int64, n)
	for i := range pick {
		pick[i] = rng.IntN(nkeys)
		jitter[i] = rng.Int64N(50)
	}
	args := []value.Value{value.Null}
	emitted := 0
	emit := func(Result) { emitted++ }
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		ts := int64(i/rowsPerMs) + 1_700_000_000_000
		k := pick[i&(n-1)]
		o.Add(keyBytes[k], keys[k], ts-jitter[i&(n-1)], args)
		if i%1000 == 999 {
			o.Advance(ts-100, emit)
		}
	}
	b.StopTimer()
	// The process's CPU time per row (GC included): wall time is unreliable
	// on a shared machine.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(emitted)/float64(b.N), "results/op")
}

// cpuTime is the user+system CPU time of the process in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func BenchmarkTumbleCount(b *testing.B) {
	// q7-like: TUMBLE(10 s), 1000 keys, 100 rows per ms of event time.
	benchOperator(b, Spec{Kind: Tumble, Size: 10_000}, 1000, 100)
}

func BenchmarkHopCount(b *testing.B) {
	// q5-like: HOP(2 s, 10 s) count per auction.
	for _, nkeys := range []int{1000, 100_000} {
		b.Run(fmt.Sprintf("keys=%d", nkeys), func(b *testing.B) {
			benchOperator(b, Spec{Kind: Hop, Slide: 2_000, Size: 10_000}, nkeys, 100)
		})
	}
}

func BenchmarkSessionCount(b *testing.B) {
	// q11-like: SESSION(10 s) per bidder; with 10000 bidders and a row per
	// ms, a bidder's rows are ~10 s apart, so sessions both grow and end.
	benchOperator(b, Spec{Kind: Session, Gap: 10_000}, 10_000, 1)
}
