package value

import (
	"cmp"
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"time"
)

// Kind is the type of a Value.
type Kind uint8

// The kinds, in the order Compare sorts values of different kinds.
const (
	KindNull Kind = iota
	KindBool
	KindInt
	KindFloat
	KindTime
	KindString
)

func (k Kind) String() string {
	switch k {
	case KindNull:
		return "NULL"
	case KindBool:
		return "BOOLEAN"
	case KindInt:
		return "BIGINT"
	case KindFloat:
		return "DOUBLE"
	case KindTime:
		return "TIMESTAMP"
	case KindString:
		return "VARCHAR"
	}
	return "UNKNOWN"
}

// Value is one SQL value. The zero Value is NULL.
//
// Only the field that matches Kind is meaningful: I for KindInt, KindBool
// (0 or 1) and KindTime (epoch milliseconds), F for KindFloat, S for
// KindString.
type Value struct {
	Kind Kind
	I    int64
	F    float64
	S    string
}

// Null is the SQL NULL.
var Null = Value{}

// Int returns a BIGINT value.
func Int(i int64) Value { return Value{Kind: KindInt, I: i} }

// Float returns a DOUBLE value.
func Float(f float64) Value { return Value{Kind: KindFloat, F: f} }

// String returns a VARCHAR value.
func String(s string) Value { return Value{Kind: KindString, S: s} }

// Bool returns a BOOLEAN value.
func Bool(b bool) Value {
	if b {
		return Value{Kind: KindBool, I: 1}
	}
	return Value{Kind: KindBool}
}

// Time returns a TIMESTAMP value of epoch milliseconds.
func Time(ms int64) Value { return Value{Kind: KindTime, I: ms} }

// IsNull reports whether v is NULL.
func (v Value) IsNull() bool { return v.Kind == KindNull }

// Truthy reports whether v counts as TRUE in WHERE and HAVING: a true
// BOOLEAN or a non-zero number. NULL and strings are not true.
func (v Value) Truthy() bool {
	switch v.Kind {
	case KindBool, KindInt:
		return v.I != 0
	case KindFloat:
		return v.F != 0
	}
	return false
}

// Numeric reports whether v is a number (BIGINT or DOUBLE).
func (v Value) Numeric() bool { return v.Kind == KindInt || v.Kind == KindFloat }

// AsFloat returns v as a float64 and whether it is a number, a timestamp
// (its epoch milliseconds) or a string that parses as a number.
func (v Value) AsFloat() (float64, bool) {
	switch v.Kind {
	case KindInt, KindTime, KindBool:
		return float64(v.I), true
	case KindFloat:
		return v.F, true
	case KindString:
		f, err := strconv.ParseFloat(strings.TrimSpace(v.S), 64)
		return f, err == nil
	}
	return 0, false
}

// AsTime interprets v as a timestamp: a TIMESTAMP, epoch milliseconds as a
// number, or an RFC 3339 string (also "2006-01-02 15:04:05[.fff]", read as
// UTC). It reports false for anything else.
func (v Value) AsTime() (int64, bool) {
	switch v.Kind {
	case KindTime, KindInt:
		return v.I, true
	case KindFloat:
		if math.IsNaN(v.F) || math.IsInf(v.F, 0) {
			return 0, false
		}
		return int64(v.F), true
	case KindString:
		return ParseTime(v.S)
	}
	return 0, false
}

// ParseTime parses an RFC 3339 timestamp, a "2006-01-02 15:04:05[.fff]"
// timestamp (UTC), or a string of epoch milliseconds.
func ParseTime(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if c := s[0]; c >= '0' && c <= '9' && !strings.ContainsAny(s, "-:T ") {
		if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
			return ms, true
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UnixMilli(), true
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UnixMilli(), true
		}
	}
	return 0, false
}

// FormatTime renders epoch milliseconds as RFC 3339 in UTC with
// milliseconds, the form result rows carry: 2026-11-22T03:00:00.000Z.
func FormatTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// Text renders v the way a result table prints it: NULL as "NULL",
// timestamps with FormatTime, floats in the shortest form that round-trips.
func (v Value) Text() string {
	switch v.Kind {
	case KindNull:
		return "NULL"
	case KindBool:
		if v.I != 0 {
			return "true"
		}
		return "false"
	case KindInt:
		return strconv.FormatInt(v.I, 10)
	case KindFloat:
		return strconv.FormatFloat(v.F, 'g', -1, 64)
	case KindTime:
		return FormatTime(v.I)
	}
	return v.S
}

// Compare orders a and b: numbers and timestamps by numeric value, strings
// bytewise, booleans false before true. Values of kinds that do not compare
// order by kind, NULL first. ok is false when either side is NULL or the
// kinds do not compare, which SQL comparison operators read as NULL.
func Compare(a, b Value) (c int, ok bool) {
	if a.Kind == KindNull || b.Kind == KindNull {
		return cmp.Compare(a.Kind, b.Kind), false
	}
	an, bn := a.Kind == KindInt || a.Kind == KindFloat || a.Kind == KindTime, b.Kind == KindInt || b.Kind == KindFloat || b.Kind == KindTime
	switch {
	case an && bn:
		if a.Kind != KindFloat && b.Kind != KindFloat {
			return cmp.Compare(a.I, b.I), true
		}
		af, _ := a.AsFloat()
		bf, _ := b.AsFloat()
		return cmpFloat(af, bf), true
	case a.Kind == KindString && b.Kind == KindString:
		return strings.Compare(a.S, b.S), true
	case a.Kind == KindBool && b.Kind == KindBool:
		return cmp.Compare(a.I, b.I), true
	case a.Kind == KindTime && b.Kind == KindString:
		if bt, ok := ParseTime(b.S); ok {
			return cmp.Compare(a.I, bt), true
		}
	case a.Kind == KindString && b.Kind == KindTime:
		if at, ok := ParseTime(a.S); ok {
			return cmp.Compare(at, b.I), true
		}
	}
	return cmp.Compare(a.Kind, b.Kind), false
}

// Equal reports SQL equality: false (not unknown) when either is NULL.
func Equal(a, b Value) bool {
	c, ok := Compare(a, b)
	return ok && c == 0
}

// cmpFloat orders floats, and counts NaN equal to everything (unlike
// cmp.Compare, which orders it first).
func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// AppendKey appends an encoding of v to dst that is equal for values that
// group together: numbers that are equal compare equal whatever their kind
// (an Int and an integral Float encode alike). The encoding is
// self-delimiting, so keys of several values can be concatenated.
func AppendKey(dst []byte, v Value) []byte {
	switch v.Kind {
	case KindNull:
		return append(dst, 0)
	case KindBool:
		return append(dst, 1, byte(v.I))
	case KindInt:
		dst = append(dst, 2)
		return binary.BigEndian.AppendUint64(dst, uint64(v.I))
	case KindFloat:
		if v.F == math.Trunc(v.F) && math.Abs(v.F) < 1<<63 {
			dst = append(dst, 2)
			return binary.BigEndian.AppendUint64(dst, uint64(int64(v.F)))
		}
		dst = append(dst, 3)
		return binary.BigEndian.AppendUint64(dst, math.Float64bits(v.F))
	case KindTime:
		dst = append(dst, 4)
		return binary.BigEndian.AppendUint64(dst, uint64(v.I))
	}
	dst = append(dst, 5)
	dst = binary.AppendUvarint(dst, uint64(len(v.S)))
	return append(dst, v.S...)
}
