package agg

import (
	"encoding/binary"
	"slices"

	"github.com/spatehq/spate/analytics/value"
)

var _ State = (*distinctState)(nil)

// distinctState is COUNT, SUM, AVG and APPROX_PERCENTILE over DISTINCT x.
// It keeps every distinct non-NULL value under its value.AppendKey bytes
// (the first value seen of each key: 3 and 3.0 are one value) and folds
// them into a plain state, in key order so the result is deterministic,
// when Result is read.
//
// Encoding: the number of values as a uvarint, then each value
// (AppendValue) in key order. The key is recomputed on decode.
type distinctState struct {
	spec    Spec
	vals    map[string]value.Value
	scratch []byte // key buffer: lookups of present values allocate nothing
}

func (s *distinctState) Add(v value.Value, _ int64) {
	if v.Kind == value.KindNull {
		return
	}
	s.scratch = value.AppendKey(s.scratch[:0], v)
	if _, ok := s.vals[string(s.scratch)]; ok {
		return
	}
	s.vals[string(s.scratch)] = ownValue(v)
}

func (s *distinctState) Merge(other State) {
	o, ok := other.(*distinctState)
	if !ok || o.spec != s.spec {
		panic(mismatch(s, other))
	}
	for k, v := range o.vals {
		if _, ok := s.vals[k]; !ok {
			s.vals[k] = v // strings are immutable: sharing is safe
		}
	}
}

func (s *distinctState) Reset() { clear(s.vals) }

// keys returns the value keys in ascending order.
func (s *distinctState) keys() []string {
	keys := make([]string, 0, len(s.vals))
	for k := range s.vals {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (s *distinctState) Result() value.Value {
	if s.spec.Kind == Count {
		return value.Int(int64(len(s.vals)))
	}
	st := newPlain(s.spec)
	for _, k := range s.keys() {
		st.Add(s.vals[k], 0)
	}
	return st.Result()
}

func (s *distinctState) AppendBinary(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s.vals)))
	for _, k := range s.keys() {
		dst = AppendValue(dst, s.vals[k])
	}
	return dst
}

func (s *distinctState) decode(data []byte) ([]byte, error) {
	n, data, err := readUvarint(data)
	if err != nil {
		return nil, err
	}
	if n > uint64(len(data)) { // every value takes at least one byte
		return nil, errShort
	}
	for range n {
		var v value.Value
		if v, data, err = DecodeValue(data); err != nil {
			return nil, err
		}
		s.vals[string(value.AppendKey(nil, v))] = v
	}
	return data, nil
}
