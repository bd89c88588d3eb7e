// Package logdata generates the JSON application-log records the Firehose
// benchmarks compress and deliver: deterministic, about 1 KiB each, with
// repeated keys, a small vocabulary and random numbers, so GZIP works about
// as hard as on real logs.
package logdata

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

var words = strings.Fields("order placed payment authorised cart updated user signed in shipment created " +
	"inventory reserved coupon applied refund issued address verified session expired token refreshed")

// Records returns n records, each one JSON object ending in a newline. The
// same n gives the same records.
func Records(n int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([][]byte, n)
	for i := range out {
		var msg strings.Builder
		for msg.Len() < 800 {
			fmt.Fprintf(&msg, "%s %s=%d ", words[rng.IntN(len(words))], words[rng.IntN(len(words))], rng.IntN(1_000_000))
		}
		out[i] = fmt.Appendf(nil, `{"time":"2026-11-22T04:%02d:%02d.%03dZ","level":"info","service":"checkout-%d","user_id":%d,"trace_id":"%016x","message":%q}`+"\n",
			i/60%60, i%60, rng.IntN(1000), rng.IntN(7), rng.IntN(100_000), rng.Uint64(), msg.String())
	}
	return out
}
