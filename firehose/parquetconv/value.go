package parquetconv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
)

// maxNumberLen bounds the text of a number converted to an integer or a
// decimal, so that a hostile record cannot make big-number arithmetic slow.
// 400 characters is far beyond any value that fits a bigint or decimal(38).
const maxNumberLen = 400

// leafValue converts one JSON value (not null) to the parquet value of a
// scalar column of type t, with OpenX JSON SerDe's leniency: numbers may come
// as strings, a string column takes any JSON value as text.
func leafValue(t *colType, raw json.RawMessage) (parquet.Value, error) {
	switch t.kind {
	case kString:
		s, err := stringOf(raw)
		if err != nil {
			return parquet.Value{}, err
		}
		return parquet.ByteArrayValue(s), nil
	case kTinyint, kSmallint, kInt, kBigint:
		bits := intBits(t.kind)
		text, err := numberText(raw)
		if err != nil {
			return parquet.Value{}, err
		}
		n, err := parseInteger(text, bits)
		if err != nil {
			return parquet.Value{}, err
		}
		if bits == 64 {
			return parquet.Int64Value(n), nil
		}
		return parquet.Int32Value(int32(n)), nil
	case kFloat, kDouble:
		bits := 64
		if t.kind == kFloat {
			bits = 32
		}
		text, err := numberText(raw)
		if err != nil {
			return parquet.Value{}, err
		}
		f, err := strconv.ParseFloat(text, bits)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return parquet.Value{}, fmt.Errorf("%s is out of range for %s", text, t)
			}
			return parquet.Value{}, fmt.Errorf("%q is not a number", text)
		}
		if bits == 32 {
			return parquet.FloatValue(float32(f)), nil
		}
		return parquet.DoubleValue(f), nil
	case kBoolean:
		switch {
		case string(raw) == "true":
			return parquet.BooleanValue(true), nil
		case string(raw) == "false":
			return parquet.BooleanValue(false), nil
		case raw[0] == '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return parquet.Value{}, err
			}
			if strings.EqualFold(s, "true") {
				return parquet.BooleanValue(true), nil
			}
			if strings.EqualFold(s, "false") {
				return parquet.BooleanValue(false), nil
			}
		}
		return parquet.Value{}, fmt.Errorf("%s is not a boolean", preview(raw))
	case kTimestamp:
		ms, err := timestampMillis(raw)
		if err != nil {
			return parquet.Value{}, err
		}
		return parquet.Int64Value(ms), nil
	case kDate:
		if raw[0] != '"' {
			return parquet.Value{}, fmt.Errorf("%s is not a date (want \"yyyy-MM-dd\")", preview(raw))
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return parquet.Value{}, err
		}
		d, err := time.Parse("2006-1-2", s)
		if err != nil {
			return parquet.Value{}, fmt.Errorf("%q is not a date (want yyyy-MM-dd)", s)
		}
		return parquet.Int32Value(int32(d.Unix() / 86400)), nil
	case kDecimal:
		text, err := numberText(raw)
		if err != nil {
			return parquet.Value{}, err
		}
		return decimalValue(text, t.precision, t.scale)
	}
	return parquet.Value{}, fmt.Errorf("internal error: %s is not a scalar type", t)
}

func intBits(k kind) int {
	switch k {
	case kTinyint:
		return 8
	case kSmallint:
		return 16
	case kInt:
		return 32
	}
	return 64
}

// stringOf renders a JSON value as the text of a string column: a string as
// itself, a number or boolean as written, an object or array as compact JSON
// (OpenX turns nested JSON into strings; the Hive SerDe does not).
func stringOf(raw json.RawMessage) ([]byte, error) {
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return []byte(s), nil
	case '{', '[':
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	return bytes.Clone(raw), nil
}

// numberText returns the text of a JSON number, or of a string that holds
// one.
func numberText(raw json.RawMessage) (string, error) {
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		if s == "" {
			return "", errors.New(`"" is not a number`)
		}
		return s, nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return string(raw), nil
	}
	return "", fmt.Errorf("%s is not a number", preview(raw))
}

// parseInteger converts text to an integer of the given bit size. Like OpenX,
// it accepts hexadecimal with a 0x prefix and truncates a fraction toward
// zero ("2.9" is 2); unlike OpenX, which logs and stores 0, it rejects what is
// not a number or does not fit.
func parseInteger(text string, bits int) (int64, error) {
	if h, ok := strings.CutPrefix(strings.ToLower(text), "0x"); ok {
		n, err := strconv.ParseInt(h, 16, bits)
		if err != nil {
			return 0, fmt.Errorf("%q is not a %d-bit hexadecimal integer", text, bits)
		}
		return n, nil
	}
	if n, err := strconv.ParseInt(text, 10, bits); err == nil {
		return n, nil
	}
	m, exp, err := parseDecimal(text)
	if err != nil {
		return 0, err
	}
	switch {
	case m.Sign() == 0:
		return 0, nil
	case exp > 40:
		return 0, fmt.Errorf("%s is out of range for a %d-bit integer", text, bits)
	case exp >= 0:
		m.Mul(m, pow10(exp))
	case exp < -maxNumberLen:
		return 0, nil
	default:
		m.Quo(m, pow10(-exp)) // truncates toward zero
	}
	lo := new(big.Int).Lsh(big.NewInt(-1), uint(bits-1))
	hi := new(big.Int).Sub(new(big.Int).Neg(lo), big.NewInt(1))
	if m.Cmp(lo) < 0 || m.Cmp(hi) > 0 {
		return 0, fmt.Errorf("%s is out of range for a %d-bit integer", text, bits)
	}
	return m.Int64(), nil
}

// parseDecimal parses a decimal number (optional sign, digits with an
// optional point, optional exponent) into m × 10^exp.
func parseDecimal(text string) (m *big.Int, exp int, err error) {
	bad := func() (*big.Int, int, error) { return nil, 0, fmt.Errorf("%q is not a number", text) }
	if len(text) > maxNumberLen {
		return nil, 0, fmt.Errorf("number %.20s... is longer than %d characters", text, maxNumberLen)
	}
	s := text
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	mant, expText, hasExp := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return bad()
	}
	if hasExp {
		e, err := strconv.Atoi(expText)
		if err != nil || expText == "" || expText[0] == ' ' {
			return bad()
		}
		// Clamp: past ±100000 every caller rounds to 0 or rejects, and
		// subtracting len(frac) below must not overflow.
		exp = max(-100_000, min(e, 100_000))
	}
	exp -= len(frac)
	m, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return bad()
	}
	if neg {
		m.Neg(m)
	}
	return m, exp, nil
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// decimalValue converts text to a decimal(precision, scale): it rounds half
// away from zero to scale digits (Hive's HiveDecimal rounds HALF_UP), and
// rejects a value with more than precision digits (where Hive would store
// null).
func decimalValue(text string, precision, scale int) (parquet.Value, error) {
	m, exp, err := parseDecimal(text)
	if err != nil {
		return parquet.Value{}, err
	}
	shift := exp + scale
	switch {
	case m.Sign() == 0:
	case shift > 40:
		return parquet.Value{}, fmt.Errorf("%s does not fit decimal(%d,%d)", text, precision, scale)
	case shift >= 0:
		m.Mul(m, pow10(shift))
	case shift < -2*maxNumberLen:
		m.SetInt64(0)
	default:
		d := pow10(-shift)
		q, r := new(big.Int).QuoRem(m, d, new(big.Int))
		if r.Abs(r).Lsh(r, 1).Cmp(d) >= 0 {
			q.Add(q, big.NewInt(int64(m.Sign())))
		}
		m = q
	}
	if new(big.Int).Abs(m).Cmp(pow10(precision)) >= 0 {
		return parquet.Value{}, fmt.Errorf("%s does not fit decimal(%d,%d)", text, precision, scale)
	}
	switch {
	case precision <= 9:
		return parquet.Int32Value(int32(m.Int64())), nil
	case precision <= 18:
		return parquet.Int64Value(m.Int64()), nil
	}
	n := decimalBytes(precision)
	if m.Sign() < 0 {
		m.Add(m, new(big.Int).Lsh(big.NewInt(1), uint(8*n))) // two's complement
	}
	return parquet.FixedLenByteArrayValue(m.FillBytes(make([]byte, n))), nil
}

// decimalBytes is the number of bytes of a FIXED_LEN_BYTE_ARRAY that holds
// any signed value of precision decimal digits.
func decimalBytes(precision int) int {
	largest := new(big.Int).Sub(pow10(precision), big.NewInt(1))
	n := 1
	for largest.BitLen() >= 8*n {
		n++
	}
	return n
}

// timestampLayouts are the date-time forms OpenX JSON SerDe reads (the
// record-format-conversion guide lists yyyy-MM-dd'T'HH:mm:ss[.S]'Z' and
// yyyy-[M]M-[d]d HH:mm:ss[.S]; OpenX also takes ±hh:mm and ±hhmm offsets). A
// fraction of up to nine digits may follow the seconds. Without a zone the
// time is UTC.
var timestampLayouts = []string{
	"2006-1-2T15:04:05Z07:00",
	"2006-1-2 15:04:05Z07:00",
	"2006-1-2T15:04:05Z0700",
	"2006-1-2 15:04:05Z0700",
	"2006-1-2T15:04:05",
	"2006-1-2 15:04:05",
}

// timestampMillis converts a JSON value to milliseconds since the epoch by
// OpenX JSON SerDe's rules: text with a ':' is a date-time; a number (or
// numeric string) with a '.' or an exponent is epoch seconds; an integer of
// 13 or more characters is epoch milliseconds, a shorter one epoch seconds.
func timestampMillis(raw json.RawMessage) (int64, error) {
	text, err := numberText(raw)
	if err != nil {
		return 0, fmt.Errorf("%s is not a timestamp", preview(raw))
	}
	if strings.Contains(text, ":") {
		for _, layout := range timestampLayouts {
			if t, err := time.Parse(layout, text); err == nil {
				return t.UnixMilli(), nil
			}
		}
		return 0, fmt.Errorf("%q is not a timestamp (want RFC 3339 or yyyy-MM-dd HH:mm:ss[.f])", text)
	}
	if strings.ContainsAny(text, ".eE") {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsNaN(f) || math.Abs(f*1000) >= math.MaxInt64 {
			return 0, fmt.Errorf("%q is not a timestamp in epoch seconds", text)
		}
		return int64(f * 1000), nil // truncates toward zero, as Java's (long) cast
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a timestamp", text)
	}
	if len(text) >= 13 {
		return n, nil
	}
	return n * 1000, nil // at most 12 characters: cannot overflow
}

// preview shortens a JSON value for an error message.
func preview(raw json.RawMessage) string {
	const limit = 40
	if len(raw) > limit {
		return string(raw[:limit]) + "..."
	}
	return string(raw)
}
