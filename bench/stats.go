package bench

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Median returns the median of xs, ignoring NaNs (a round that failed); NaN
// when none is left. With an even count it is the mean of the middle two.
func Median(xs []float64) float64 {
	v := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	m := len(v) / 2
	if len(v)%2 == 1 {
		return v[m]
	}
	return (v[m-1] + v[m]) / 2
}

// medianOf is the Median of f over xs: one figure of a set of rounds.
func medianOf[T any](xs []T, f func(T) float64) float64 {
	v := make([]float64, len(xs))
	for i, x := range xs {
		v[i] = f(x)
	}
	return Median(v)
}

// Ratio returns a/b, or NaN when either is missing (NaN) or b is not
// positive.
func Ratio(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) || b <= 0 {
		return math.NaN()
	}
	return a / b
}

// Noisy reports whether two fsync-rate probes differ by more than 30% of the
// larger one: the disk's speed changed during the run, so ratios taken across
// it are suspect.
func Noisy(before, after float64) bool {
	hi := math.Max(before, after)
	if hi <= 0 {
		return false
	}
	return math.Abs(before-after)/hi > 0.30
}

// ProbeFsync writes n small records to a temporary file in dir, fsyncing
// after each, and returns the fsyncs per second: how fast this disk makes
// data durable right now.
func ProbeFsync(dir string, n int) (float64, error) {
	f, err := os.CreateTemp(dir, "fsync-probe-*")
	if err != nil {
		return 0, fmt.Errorf("fsync probe: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 128)
	start := time.Now()
	for i := range n {
		binary.BigEndian.PutUint64(buf, uint64(i))
		if _, err := f.Write(buf); err != nil {
			return 0, fmt.Errorf("fsync probe %s: %w", filepath.Base(f.Name()), err)
		}
		if err := f.Sync(); err != nil {
			return 0, fmt.Errorf("fsync probe %s: %w", filepath.Base(f.Name()), err)
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// Payload layout: the first 8 bytes of every record are the time, in Unix
// nanoseconds, big-endian, at which its put was scheduled; the rest is
// filler. A tailing consumer subtracts it from its own clock to get the
// put-to-get latency (the bench and the targets share the machine's clock).
const stampLen = 8

// Stamp writes t into the payload's first 8 bytes. len(p) must be at least
// 8.
func Stamp(p []byte, t time.Time) { binary.BigEndian.PutUint64(p, uint64(t.UnixNano())) }

// StampOf reads the time Stamp wrote; ok is false for a payload too short
// to hold one.
func StampOf(p []byte) (t time.Time, ok bool) {
	if len(p) < stampLen {
		return time.Time{}, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(p))), true
}

// Latencies is an HDR histogram of durations from 1 µs to 1 minute with 3
// significant digits, safe for concurrent use. A value above the range is
// recorded as the maximum, so a stall shows in p99 instead of vanishing.
type Latencies struct {
	mu sync.Mutex
	h  *hdrhistogram.Histogram
}

const maxLatencyMicros = 60_000_000

// NewLatencies returns an empty histogram.
func NewLatencies() *Latencies {
	return &Latencies{h: hdrhistogram.New(1, maxLatencyMicros, 3)}
}

// Record adds one duration.
func (l *Latencies) Record(d time.Duration) {
	us := min(max(d.Microseconds(), 1), maxLatencyMicros)
	l.mu.Lock()
	_ = l.h.RecordValue(us) // in range by construction
	l.mu.Unlock()
}

// Count is the number of durations recorded.
func (l *Latencies) Count() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.h.TotalCount()
}

// Quantile returns the q-th percentile (0-100) in milliseconds, NaN when
// nothing was recorded.
func (l *Latencies) Quantile(q float64) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.h.TotalCount() == 0 {
		return math.NaN()
	}
	return float64(l.h.ValueAtQuantile(q)) / 1000
}
