package throttle

import "time"

// bucket is a token bucket that refills at rate per second up to burst and
// may go into debt (see the package doc). A zero rate is no limit. It is not
// safe for concurrent use: its owner locks.
type bucket struct {
	rate   float64 // tokens per second; 0: unlimited
	burst  float64 // the most it holds
	tokens float64
	last   time.Time // when tokens was last refilled
}

// newBucket returns a full bucket of rate per second holding one second.
func newBucket(rate float64, now time.Time) bucket {
	return bucket{rate: rate, burst: rate, tokens: rate, last: now}
}

// refill adds what the rate earned since the last refill. A clock that
// steps back earns nothing (and is not remembered, so it earns nothing
// twice either).
func (b *bucket) refill(now time.Time) {
	if dt := now.Sub(b.last); dt > 0 {
		b.tokens = min(b.burst, b.tokens+dt.Seconds()*b.rate)
		b.last = now
	}
}

// can reports whether n tokens may be taken now: the bucket holds n, or it
// is full and n is more than it can ever hold. The caller has refilled it.
func (b *bucket) can(n float64) bool {
	return b.rate == 0 || b.tokens >= min(n, b.burst)
}

// take removes n tokens, into debt if need be.
func (b *bucket) take(n float64) {
	if b.rate != 0 {
		b.tokens -= n
	}
}
