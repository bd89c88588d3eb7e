package agg

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/axiomhq/hyperloglog"

	"github.com/spatehq/spate/analytics/value"
)

var (
	_ State = (*hllState)(nil)
	_ State = (*percentileState)(nil)
)

// hllState is APPROX_COUNT_DISTINCT(x): a HyperLogLog sketch of precision
// 14 over the value.AppendKey bytes of the non-NULL inputs (see the package
// doc for the error bound). The sketch is made on the first input, so empty
// groups cost nothing.
//
// Encoding: the length of the sketch's own binary form as a uvarint (0: no
// input yet), then that form.
type hllState struct {
	sk      *hyperloglog.Sketch
	scratch []byte
}

func (s *hllState) Add(v value.Value, _ int64) {
	if v.Kind == value.KindNull {
		return
	}
	if s.sk == nil {
		s.sk = hyperloglog.New14()
	}
	s.scratch = value.AppendKey(s.scratch[:0], v)
	s.sk.Insert(s.scratch)
}

func (s *hllState) Merge(other State) {
	o, ok := other.(*hllState)
	if !ok {
		panic(mismatch(s, other))
	}
	switch {
	case o.sk == nil:
	case s.sk == nil:
		s.sk = o.sk.Clone()
	default:
		// Both are precision 14, the only error Merge returns is a
		// precision mismatch.
		if err := s.sk.Merge(o.sk); err != nil {
			panic(fmt.Sprintf("agg: merge HyperLogLog: %v", err))
		}
	}
}

func (s *hllState) Reset() { s.sk = nil }

func (s *hllState) Result() value.Value {
	if s.sk == nil {
		return value.Int(0)
	}
	return value.Int(int64(s.sk.Estimate()))
}

func (s *hllState) AppendBinary(dst []byte) []byte {
	if s.sk == nil {
		return append(dst, 0)
	}
	b, err := s.sk.MarshalBinary()
	if err != nil { // only for a zero-value sketch, which New14 never is
		panic(fmt.Sprintf("agg: encode HyperLogLog: %v", err))
	}
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

func (s *hllState) decode(data []byte) ([]byte, error) {
	b, rest, err := readBytes(data)
	if err != nil || len(b) == 0 {
		return rest, err
	}
	s.sk = hyperloglog.New14()
	if err := s.sk.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("HyperLogLog: %w", err)
	}
	return rest, nil
}

// Percentile sketch parameters; the package doc states the bounds they give.
const (
	percentileAccuracy = 0.01
	percentileBins     = 2048
)

func newPercentileSketch() *ddsketch.DDSketch {
	sk, err := ddsketch.LogCollapsingLowestDenseDDSketch(percentileAccuracy, percentileBins)
	if err != nil { // only for an accuracy outside (0, 1)
		panic(fmt.Sprintf("agg: new DDSketch: %v", err))
	}
	return sk
}

// percentileState is APPROX_PERCENTILE(x, p): a DDSketch of the numeric
// inputs, made on the first one.
//
// Encoding: the length of the sketch's encoding (without its index mapping,
// which is fixed by the constants above) as a uvarint, 0 for no input yet,
// then that encoding.
type percentileState struct {
	sk *ddsketch.DDSketch
	p  float64
}

func (s *percentileState) Add(v value.Value, _ int64) {
	var f float64
	switch v.Kind {
	case value.KindInt:
		f = float64(v.I)
	case value.KindFloat:
		f = v.F
	default:
		return
	}
	if s.sk == nil {
		s.sk = newPercentileSketch()
	}
	// The sketch refuses NaN and magnitudes past ~1e308; those are ignored
	// (the package doc says so) rather than failing the row.
	_ = s.sk.Add(f)
}

func (s *percentileState) Merge(other State) {
	o, ok := other.(*percentileState)
	if !ok || o.p != s.p {
		panic(mismatch(s, other))
	}
	switch {
	case o.sk == nil:
	case s.sk == nil:
		s.sk = o.sk.Copy()
	default:
		if err := s.sk.MergeWith(o.sk); err != nil { // same mapping: never
			panic(fmt.Sprintf("agg: merge DDSketch: %v", err))
		}
	}
}

func (s *percentileState) Reset() {
	if s.sk != nil {
		s.sk.Clear()
	}
}

func (s *percentileState) Result() value.Value {
	if s.sk == nil || s.sk.IsEmpty() {
		return value.Null
	}
	q, err := s.sk.GetValueAtQuantile(s.p)
	if err != nil || math.IsNaN(q) {
		return value.Null
	}
	return value.Float(q)
}

func (s *percentileState) AppendBinary(dst []byte) []byte {
	if s.sk == nil {
		return append(dst, 0)
	}
	var b []byte
	s.sk.Encode(&b, true)
	if len(b) == 0 {
		// An empty sketch encodes to nothing; keep "no input" and
		// "empty sketch" the same.
		return append(dst, 0)
	}
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

func (s *percentileState) decode(data []byte) ([]byte, error) {
	b, rest, err := readBytes(data)
	if err != nil || len(b) == 0 {
		return rest, err
	}
	s.sk = newPercentileSketch()
	if err := s.sk.DecodeAndMergeWith(b); err != nil {
		return nil, fmt.Errorf("DDSketch: %w", err)
	}
	return rest, nil
}
