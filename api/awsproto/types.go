package awsproto

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/internal/trunc"
)

// Blob is a model blob: standard base64 (with padding) on the wire, bytes in
// Go. It decodes itself so that a request's blobs are unquoted and decoded in
// one pass into one allocation each; nil means the member was absent or null.
type Blob []byte

// UnmarshalJSON decodes a JSON string of standard base64. The decoded bytes
// never alias b.
func (d *Blob) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) < 2 || b[0] != '"' {
		return apierr.New(apierr.Serialization,
			"expected a base64 string for a blob member, got JSON %s", jsonKind(b))
	}
	src := b[1 : len(b)-1]
	if bytes.IndexByte(src, '\\') >= 0 { // escaped characters: rare, take the slow path
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return apierr.New(apierr.Serialization, "blob member is not a valid JSON string: %v", err)
		}
		src = []byte(s)
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(src)))
	n, err := base64.StdEncoding.Decode(out, src)
	if err != nil {
		return apierr.New(apierr.Serialization,
			"Value '%s' can not be converted to a Blob: %v; blobs must be standard base64 with padding (RFC 4648 section 4)",
			trunc.String(string(src), 64), err)
	}
	*d = out[:n:n]
	return nil
}

// EpochSeconds is a model timestamp: seconds since the Unix epoch with a
// fraction on the wire (both ways), a time.Time in Go. Requests may also
// send a numeric string or an RFC 3339 string.
type EpochSeconds time.Time

// maxEpochSeconds is 9999-12-31T23:59:59Z; later timestamps are rejected.
const maxEpochSeconds = 253402300799

// UnmarshalJSON accepts 1700000000, 1700000000.123, "1700000000.123" and
// "2023-11-14T22:13:20.123Z".
func (e *EpochSeconds) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	text := string(b)
	quoted := len(b) >= 2 && b[0] == '"'
	if quoted {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return apierr.New(apierr.Serialization, "timestamp is not a valid JSON string: %v", err)
		}
		text = s
	} else if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return apierr.New(apierr.Serialization,
			"expected a timestamp (epoch seconds such as 1700000000.123), got JSON %s", jsonKind(b))
	}
	if t, ok := parseEpoch(text); ok {
		*e = EpochSeconds(t)
		return nil
	}
	if quoted {
		if t, err := time.Parse(time.RFC3339Nano, text); err == nil {
			*e = EpochSeconds(t)
			return nil
		}
	}
	return apierr.New(apierr.Serialization,
		"Value '%s' is not a valid timestamp: send seconds since the Unix epoch (such as 1700000000.123) or an RFC 3339 time",
		trunc.String(text, 64))
}

// parseEpoch parses decimal epoch seconds. Plain decimals are parsed exactly
// (to the nanosecond); exponent forms go through float64.
func parseEpoch(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	neg := s[0] == '-'
	digits := s
	if neg {
		digits = s[1:]
	}
	intPart, frac := digits, ""
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c == '.' {
			intPart, frac = digits[:i], digits[i+1:]
			break
		}
		if c < '0' || c > '9' {
			return parseEpochFloat(s)
		}
	}
	if intPart == "" || !allDigits(frac) {
		return parseEpochFloat(s)
	}
	if len(intPart) > 12 {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil || sec > maxEpochSeconds {
		return time.Time{}, false
	}
	var nsec int64
	for i := 0; i < 9; i++ {
		nsec *= 10
		if i < len(frac) {
			nsec += int64(frac[i] - '0')
		}
	}
	if neg {
		sec, nsec = -sec, -nsec
	}
	return time.Unix(sec, nsec), true
}

func parseEpochFloat(s string) (time.Time, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > maxEpochSeconds {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9))), true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MarshalJSON writes seconds since the epoch with millisecond precision
// (Kinesis timestamps have milliseconds), e.g. 1700000000.123.
func (e EpochSeconds) MarshalJSON() ([]byte, error) {
	return appendEpoch(nil, time.Time(e)), nil
}

// AppendJSON appends e as MarshalJSON writes it, without allocating.
func (e EpochSeconds) AppendJSON(dst []byte) []byte { return appendEpoch(dst, time.Time(e)) }

func appendEpoch(dst []byte, t time.Time) []byte {
	ms := t.UnixMilli()
	if ms < 0 {
		// A time before 1970 is written as its distance back, -1.500 for
		// -1500 ms: the sign applies to the fraction too, as parseEpoch
		// (and every JSON reader) reads it.
		dst = append(dst, '-')
		ms = -ms
	}
	sec, frac := ms/1000, ms%1000
	dst = strconv.AppendInt(dst, sec, 10)
	dst = append(dst, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	return dst
}

// jsonKind names the kind of a JSON value from its first byte.
func jsonKind(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}
