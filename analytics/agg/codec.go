package agg

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/spatehq/spate/analytics/value"
)

// Value encoding (AppendValue): one kind byte (value.Kind), then
//
//	NULL               nothing
//	BOOLEAN, BIGINT,
//	TIMESTAMP          I as a zig-zag varint
//	DOUBLE             the IEEE 754 bits of F, 8 bytes little endian
//	VARCHAR            len(S) as a uvarint, then the bytes of S
//
// Unlike value.AppendKey it keeps the kind, so a value decodes to exactly
// what was encoded (3 stays BIGINT, 3.0 DOUBLE).

// AppendValue appends the exact encoding of v to dst. Window snapshots use
// it for group keys.
func AppendValue(dst []byte, v value.Value) []byte {
	dst = append(dst, byte(v.Kind))
	switch v.Kind {
	case value.KindNull:
	case value.KindBool, value.KindInt, value.KindTime:
		dst = binary.AppendVarint(dst, v.I)
	case value.KindFloat:
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.F))
	default:
		dst = binary.AppendUvarint(dst, uint64(len(v.S)))
		dst = append(dst, v.S...)
	}
	return dst
}

// DecodeValue reads a value AppendValue wrote at the start of data and
// returns it with the bytes after it. Strings are copied out of data.
func DecodeValue(data []byte) (value.Value, []byte, error) {
	if len(data) == 0 {
		return value.Null, nil, fmt.Errorf("value: %w", errShort)
	}
	k := value.Kind(data[0])
	data = data[1:]
	switch k {
	case value.KindNull:
		return value.Null, data, nil
	case value.KindBool, value.KindInt, value.KindTime:
		i, n := binary.Varint(data)
		if n <= 0 {
			return value.Null, nil, fmt.Errorf("value: bad varint")
		}
		return value.Value{Kind: k, I: i}, data[n:], nil
	case value.KindFloat:
		if len(data) < 8 {
			return value.Null, nil, fmt.Errorf("value: %w", errShort)
		}
		return value.Float(math.Float64frombits(binary.LittleEndian.Uint64(data))), data[8:], nil
	case value.KindString:
		b, rest, err := readBytes(data)
		if err != nil {
			return value.Null, nil, fmt.Errorf("value: %w", err)
		}
		return value.String(string(b)), rest, nil
	}
	return value.Null, nil, fmt.Errorf("value: unknown kind %d", uint8(k))
}

// readBytes reads a uvarint length and that many bytes; the result aliases
// data.
func readBytes(data []byte) (b, rest []byte, err error) {
	n, w := binary.Uvarint(data)
	if w <= 0 {
		return nil, nil, fmt.Errorf("bad length")
	}
	data = data[w:]
	if uint64(len(data)) < n {
		return nil, nil, errShort
	}
	return data[:n], data[n:], nil
}

func readVarint(data []byte) (int64, []byte, error) {
	i, n := binary.Varint(data)
	if n <= 0 {
		return 0, nil, fmt.Errorf("bad varint")
	}
	return i, data[n:], nil
}

func readUvarint(data []byte) (uint64, []byte, error) {
	u, n := binary.Uvarint(data)
	if n <= 0 {
		return 0, nil, fmt.Errorf("bad uvarint")
	}
	return u, data[n:], nil
}

func readByte(data []byte) (byte, []byte, error) {
	if len(data) == 0 {
		return 0, nil, errShort
	}
	return data[0], data[1:], nil
}

// ownValue returns v with a string of its own, so a kept value never pins
// the caller's buffer (a decoded record, say).
func ownValue(v value.Value) value.Value {
	if v.Kind == value.KindString {
		v.S = strings.Clone(v.S)
	}
	return v
}
