package agg

import (
	"encoding/binary"
	"math"

	"github.com/spatehq/spate/analytics/value"
)

var (
	_ State = (*countState)(nil)
	_ State = (*sumState)(nil)
	_ State = (*extremeState)(nil)
	_ State = (*edgeState)(nil)
)

// countState is COUNT(*) and COUNT(x). Encoding: n as a uvarint.
type countState struct {
	n    int64
	star bool
}

func (s *countState) Add(v value.Value, _ int64) {
	if s.star || v.Kind != value.KindNull {
		s.n++
	}
}

func (s *countState) Merge(other State) {
	o, ok := other.(*countState)
	if !ok {
		panic(mismatch(s, other))
	}
	s.n += o.n
}

func (s *countState) Reset() { s.n = 0 }

func (s *countState) Result() value.Value { return value.Int(s.n) }

func (s *countState) AppendBinary(dst []byte) []byte {
	return binary.AppendUvarint(dst, uint64(s.n))
}

func (s *countState) decode(data []byte) ([]byte, error) {
	n, rest, err := readUvarint(data)
	s.n = int64(n)
	return rest, err
}

// sumState is SUM(x) and AVG(x). Integers sum exactly in i until one
// overflows; floats (and the overflowing integer) sum in f. Keeping the two
// apart makes an integer SUM exact whatever the grouping of merges.
//
// Encoding: n as a uvarint, i as a varint, then one flags byte (1: some
// input was a DOUBLE or overflowed) and, with the flag, the 8 bytes of f.
type sumState struct {
	n      int64 // numeric inputs folded
	i      int64
	f      float64
	floats bool // f holds something: the result is DOUBLE
	avg    bool
}

func (s *sumState) Add(v value.Value, _ int64) {
	switch v.Kind {
	case value.KindInt:
		s.n++
		if c, ok := addInt(s.i, v.I); ok {
			s.i = c
		} else {
			s.f += float64(v.I)
			s.floats = true
		}
	case value.KindFloat:
		s.n++
		s.f += v.F
		s.floats = true
	}
}

func (s *sumState) Merge(other State) {
	o, ok := other.(*sumState)
	if !ok || o.avg != s.avg {
		panic(mismatch(s, other))
	}
	s.n += o.n
	if c, ok := addInt(s.i, o.i); ok {
		s.i = c
	} else {
		s.f += float64(o.i)
		s.floats = true
	}
	if o.floats {
		s.f += o.f
		s.floats = true
	}
}

func (s *sumState) Reset() { *s = sumState{avg: s.avg} }

func (s *sumState) Result() value.Value {
	if s.n == 0 {
		return value.Null
	}
	if s.avg {
		return value.Float((s.f + float64(s.i)) / float64(s.n))
	}
	if s.floats {
		return value.Float(s.f + float64(s.i))
	}
	return value.Int(s.i)
}

func (s *sumState) AppendBinary(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(s.n))
	dst = binary.AppendVarint(dst, s.i)
	if !s.floats {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(s.f))
}

func (s *sumState) decode(data []byte) ([]byte, error) {
	n, data, err := readUvarint(data)
	if err != nil {
		return nil, err
	}
	s.n = int64(n)
	if s.i, data, err = readVarint(data); err != nil {
		return nil, err
	}
	flag, data, err := readByte(data)
	if err != nil {
		return nil, err
	}
	if flag == 0 {
		return data, nil
	}
	if len(data) < 8 {
		return nil, errShort
	}
	s.floats = true
	s.f = math.Float64frombits(binary.LittleEndian.Uint64(data))
	return data[8:], nil
}

// extremeState is MIN(x) and MAX(x). Encoding: one byte (1 if any input),
// then the value (AppendValue).
type extremeState struct {
	v   value.Value
	has bool
	max bool
}

func (s *extremeState) Add(v value.Value, _ int64) {
	if v.Kind == value.KindNull {
		return
	}
	if s.has {
		c, _ := value.Compare(v, s.v)
		if (s.max && c <= 0) || (!s.max && c >= 0) {
			return
		}
	}
	s.v, s.has = ownValue(v), true
}

func (s *extremeState) Merge(other State) {
	o, ok := other.(*extremeState)
	if !ok || o.max != s.max {
		panic(mismatch(s, other))
	}
	if o.has {
		// Strings are immutable: sharing o's is safe.
		s.Add(o.v, 0)
	}
}

func (s *extremeState) Reset() { *s = extremeState{max: s.max} }

func (s *extremeState) Result() value.Value {
	if !s.has {
		return value.Null
	}
	return s.v
}

func (s *extremeState) AppendBinary(dst []byte) []byte {
	if !s.has {
		return append(dst, 0)
	}
	return AppendValue(append(dst, 1), s.v)
}

func (s *extremeState) decode(data []byte) ([]byte, error) {
	has, data, err := readByte(data)
	if err != nil || has == 0 {
		return data, err
	}
	s.has = true
	s.v, data, err = DecodeValue(data)
	return data, err
}

// edgeState is FIRST_VALUE(x) and LAST_VALUE(x): the value of the row with
// the smallest (largest) event time. Encoding: one byte (1 if any row), then
// ts as a varint and the value.
type edgeState struct {
	v    value.Value
	ts   int64
	has  bool
	last bool
}

func (s *edgeState) Add(v value.Value, ts int64) {
	// Ties: FIRST keeps the first added, LAST takes the last added.
	if s.has && ((s.last && ts < s.ts) || (!s.last && ts >= s.ts)) {
		return
	}
	s.v, s.ts, s.has = ownValue(v), ts, true
}

func (s *edgeState) Merge(other State) {
	o, ok := other.(*edgeState)
	if !ok || o.last != s.last {
		panic(mismatch(s, other))
	}
	if o.has {
		// o's rows count as added after the receiver's.
		s.Add(o.v, o.ts)
	}
}

func (s *edgeState) Reset() { *s = edgeState{last: s.last} }

func (s *edgeState) Result() value.Value {
	if !s.has {
		return value.Null
	}
	return s.v
}

func (s *edgeState) AppendBinary(dst []byte) []byte {
	if !s.has {
		return append(dst, 0)
	}
	dst = binary.AppendVarint(append(dst, 1), s.ts)
	return AppendValue(dst, s.v)
}

func (s *edgeState) decode(data []byte) ([]byte, error) {
	has, data, err := readByte(data)
	if err != nil || has == 0 {
		return data, err
	}
	s.has = true
	if s.ts, data, err = readVarint(data); err != nil {
		return nil, err
	}
	s.v, data, err = DecodeValue(data)
	return data, err
}
