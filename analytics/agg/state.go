package agg

import (
	"errors"
	"fmt"

	"github.com/spatehq/spate/analytics/value"
)

// State is the running state of one aggregate over one group of one window.
//
// States are not safe for concurrent use.
type State interface {
	// Add folds one row: v is the aggregate's argument (ignored by
	// COUNT(*)), ts the row's event time in ms, which FIRST_VALUE and
	// LAST_VALUE order by. v may be reused by the caller after Add returns;
	// a state that keeps a string keeps its own copy.
	Add(v value.Value, ts int64)
	// Merge folds every row folded into other, which must come from a Spec
	// equal to the receiver's (it panics otherwise: that is a planner bug).
	// other is not changed and may be used afterwards; the receiver shares
	// no mutable memory with it.
	Merge(other State)
	// Result is the aggregate's SQL value over the rows folded so far. It
	// may be read any number of times, between Adds too.
	Result() value.Value
	// AppendBinary appends the state's encoding to dst. Decode with the same
	// Spec reads it back.
	AppendBinary(dst []byte) []byte
	// Reset empties the state, as New made it, keeping what memory it can:
	// window operators reuse the states they merge panes into.
	Reset()
}

// String names the function as SQL writes it.
func (k Kind) String() string {
	switch k {
	case Count:
		return "COUNT"
	case Sum:
		return "SUM"
	case Avg:
		return "AVG"
	case Min:
		return "MIN"
	case Max:
		return "MAX"
	case FirstValue:
		return "FIRST_VALUE"
	case LastValue:
		return "LAST_VALUE"
	case ApproxCountDistinct:
		return "APPROX_COUNT_DISTINCT"
	case ApproxPercentile:
		return "APPROX_PERCENTILE"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Validate reports whether New accepts s.
func (s Spec) Validate() error {
	if s.Kind < Count || s.Kind > ApproxPercentile {
		return fmt.Errorf("agg: unknown aggregate kind %d", uint8(s.Kind))
	}
	if s.Star && s.Kind != Count {
		return fmt.Errorf("agg: %s(*) is not an aggregate; only COUNT takes *", s.Kind)
	}
	if s.Kind == ApproxPercentile && !(s.Param >= 0 && s.Param <= 1) {
		return fmt.Errorf("agg: APPROX_PERCENTILE percentile %v is outside [0, 1]", s.Param)
	}
	return nil
}

// distinctMatters reports whether DISTINCT changes the result of s, so the
// state must keep the set of values.
func (s Spec) distinctMatters() bool {
	return s.Distinct && !s.Star && (s.Kind == Count || s.Kind == Sum || s.Kind == Avg || s.Kind == ApproxPercentile)
}

// New returns the empty state of s. s must be valid (see Spec.Validate);
// New panics otherwise, because specs come from the planner, which
// validates them.
func New(s Spec) State {
	if err := s.Validate(); err != nil {
		panic(err)
	}
	if s.distinctMatters() {
		return &distinctState{spec: s, vals: map[string]value.Value{}}
	}
	return newPlain(s)
}

// newPlain is New without DISTINCT.
func newPlain(s Spec) State {
	switch s.Kind {
	case Count:
		return &countState{star: s.Star}
	case Sum:
		return &sumState{}
	case Avg:
		return &sumState{avg: true}
	case Min:
		return &extremeState{}
	case Max:
		return &extremeState{max: true}
	case FirstValue:
		return &edgeState{}
	case LastValue:
		return &edgeState{last: true}
	case ApproxCountDistinct:
		return &hllState{}
	case ApproxPercentile:
		return &percentileState{p: s.Param}
	}
	panic(fmt.Sprintf("agg: unknown kind %d", uint8(s.Kind)))
}

// errShort is returned when an encoding ends early.
var errShort = errors.New("truncated")

// Decode reads a state of s that AppendBinary wrote at the start of data and
// returns it with the bytes after it. The state does not keep data.
func Decode(s Spec, data []byte) (State, []byte, error) {
	if err := s.Validate(); err != nil {
		return nil, nil, err
	}
	st := New(s)
	rest, err := st.(decoder).decode(data)
	if err != nil {
		return nil, nil, fmt.Errorf("agg: decode %s state: %w", s.Kind, err)
	}
	return st, rest, nil
}

// decoder is implemented by every state: it reads the encoding into an
// empty state.
type decoder interface {
	decode(data []byte) (rest []byte, err error)
}

// mismatch is the panic of a Merge of states of different Specs.
func mismatch(recv, other State) string {
	return fmt.Sprintf("agg: merge of %T into %T", other, recv)
}

// addInt adds b to a and reports whether the sum did not overflow.
func addInt(a, b int64) (int64, bool) {
	c := a + b
	return c, (c > a) == (b > 0) || b == 0
}
