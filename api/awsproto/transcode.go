package awsproto

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
)

// jsonToCBOR appends the CBOR form of js, a reply's JSON body, read by the
// model's shape s (the operation's output shape; nil when it has none):
// blob members (base64 text in JSON) become byte strings, timestamps
// (epoch seconds) become tag 1 with integer milliseconds, integers and
// longs become integers, doubles floats; members the model does not know
// keep their JSON type. Maps and arrays keep their JSON order and get
// definite lengths.
//
// js is the handler's own encoding of a reply (encoding/json's or an
// Appender's), so it is valid JSON; an error means a reply broke its shape
// (a program defect). It is read in one pass without allocating per
// value: a container's members are appended after room for its longest
// head, which is then written and the members moved up to it.
func jsonToCBOR(dst []byte, s *shape, js []byte) ([]byte, error) {
	t := transcoder{js: js}
	dst, err := t.value(dst, s)
	if err != nil {
		return nil, err
	}
	if t.skipSpace(); t.i != len(t.js) {
		return nil, t.errorf("trailing data")
	}
	return dst, nil
}

type transcoder struct {
	js []byte
	i  int
}

func (t *transcoder) errorf(format string, args ...any) error {
	return fmt.Errorf("transcode reply at byte %d: %s", t.i, fmt.Sprintf(format, args...))
}

func (t *transcoder) skipSpace() {
	for t.i < len(t.js) {
		switch t.js[t.i] {
		case ' ', '\t', '\n', '\r':
			t.i++
		default:
			return
		}
	}
}

func (t *transcoder) value(dst []byte, s *shape) ([]byte, error) {
	t.skipSpace()
	if t.i >= len(t.js) {
		return nil, t.errorf("unexpected end")
	}
	switch c := t.js[t.i]; c {
	case '{':
		return t.object(dst, s)
	case '[':
		return t.array(dst, s)
	case '"':
		str, err := t.str()
		if err != nil {
			return nil, err
		}
		if s != nil && s.kind == kindBlob {
			return appendBase64AsCBOR(dst, str, s)
		}
		dst = AppendCBORHead(dst, cborMajorText, uint64(len(str)))
		return append(dst, str...), nil
	case 't', 'f', 'n':
		for _, lit := range [...]string{"true", "false", "null"} {
			if len(t.js)-t.i >= len(lit) && string(t.js[t.i:t.i+len(lit)]) == lit {
				t.i += len(lit)
				switch lit[0] {
				case 't':
					return appendCBORBool(dst, true), nil
				case 'f':
					return appendCBORBool(dst, false), nil
				}
				return appendCBORNull(dst), nil
			}
		}
		return nil, t.errorf("bad literal")
	default:
		start := t.i
		for t.i < len(t.js) && isNumberByte(t.js[t.i]) {
			t.i++
		}
		if t.i == start {
			return nil, t.errorf("unexpected %q", c)
		}
		return appendNumberAsCBOR(dst, s, string(t.js[start:t.i]))
	}
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// maxHeadLen is the longest head of a map or array (a 64-bit count).
const maxHeadLen = 9

// container appends the members of a JSON object or array (its opening
// byte at t.i) through each, which appends one member (an object's key and
// value, or an array's element), then puts the head in front of them.
func (t *transcoder) container(dst []byte, major byte, closing byte, each func([]byte) ([]byte, error)) ([]byte, error) {
	t.i++ // '{' or '['
	start := len(dst)
	dst = append(dst, make([]byte, maxHeadLen)...)
	n := 0
	for {
		t.skipSpace()
		if t.i >= len(t.js) {
			return nil, t.errorf("unexpected end")
		}
		if t.js[t.i] == closing {
			t.i++
			break
		}
		if n > 0 {
			if t.js[t.i] != ',' {
				return nil, t.errorf("want ',' or %q", closing)
			}
			t.i++
		}
		var err error
		if dst, err = each(dst); err != nil {
			return nil, err
		}
		n++
	}
	var head [maxHeadLen]byte
	h := AppendCBORHead(head[:0], major, uint64(n))
	copy(dst[start:], h)
	copy(dst[start+len(h):], dst[start+maxHeadLen:])
	return dst[:len(dst)-(maxHeadLen-len(h))], nil
}

// object transcodes a JSON object as a structure of s, or a map of s, or
// (s nil) a value of no known shape.
func (t *transcoder) object(dst []byte, s *shape) ([]byte, error) {
	return t.container(dst, cborMajorMap, '}', func(dst []byte) ([]byte, error) {
		t.skipSpace()
		if t.i >= len(t.js) || t.js[t.i] != '"' {
			return nil, t.errorf("want a member name")
		}
		key, err := t.str()
		if err != nil {
			return nil, err
		}
		t.skipSpace()
		if t.i >= len(t.js) || t.js[t.i] != ':' {
			return nil, t.errorf("want ':'")
		}
		t.i++
		var ms *shape
		if s != nil {
			switch s.kind {
			case kindStructure:
				ms = s.memberBytes(key)
			case kindMap:
				ms = s.value
			}
		}
		dst = AppendCBORHead(dst, cborMajorText, uint64(len(key)))
		dst = append(dst, key...)
		return t.value(dst, ms)
	})
}

func (t *transcoder) array(dst []byte, s *shape) ([]byte, error) {
	var es *shape
	if s != nil && s.kind == kindList {
		es = s.elem
	}
	return t.container(dst, cborMajorArray, ']', func(dst []byte) ([]byte, error) {
		return t.value(dst, es)
	})
}

// str reads a JSON string (its quote at t.i) and returns its text: a slice
// of js when it has no escapes (almost always), else a decoded copy.
func (t *transcoder) str() ([]byte, error) {
	start := t.i
	t.i++
	escaped := false
	for t.i < len(t.js) {
		switch t.js[t.i] {
		case '\\':
			escaped = true
			t.i += 2
			continue
		case '"':
			t.i++
			raw := t.js[start:t.i]
			if !escaped {
				return raw[1 : len(raw)-1], nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, t.errorf("bad string: %v", err)
			}
			return []byte(s), nil
		}
		t.i++
	}
	return nil, t.errorf("unterminated string")
}

// appendBase64AsCBOR appends the blob whose standard base64 is src as a
// byte string.
func appendBase64AsCBOR(dst, src []byte, s *shape) ([]byte, error) {
	n := len(src) / 4 * 3
	if len(src)%4 != 0 {
		return nil, fmt.Errorf("transcode reply: blob %s is not padded base64", s.name)
	}
	if len(src) > 0 && src[len(src)-1] == '=' {
		n--
		if len(src) > 1 && src[len(src)-2] == '=' {
			n--
		}
	}
	dst = AppendCBORHead(dst, cborMajorBytes, uint64(n))
	out, err := base64.StdEncoding.AppendDecode(dst, src)
	if err != nil {
		return nil, fmt.Errorf("transcode reply: blob %s is not base64: %w", s.name, err)
	}
	return out, nil
}

func appendNumberAsCBOR(dst []byte, s *shape, v string) ([]byte, error) {
	kind := kindDouble
	if s != nil {
		kind = s.kind
	}
	switch kind {
	case kindTimestamp:
		tm, ok := parseEpoch(v)
		if !ok {
			return nil, fmt.Errorf("transcode reply: timestamp %s out of range", v)
		}
		return AppendCBORTime(dst, tm), nil
	case kindInteger, kindLong:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("transcode reply: %s %s: %w", s.name, v, err)
		}
		return AppendCBORInt(dst, n), nil
	}
	// A double, or a number of no known shape: an integer when it is one.
	if s == nil {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return AppendCBORInt(dst, n), nil
		}
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return nil, fmt.Errorf("transcode reply: number %s: %w", v, err)
	}
	return appendCBORFloat(dst, f), nil
}

// memberBytes returns the shape of s's member name, or nil.
func (s *shape) memberBytes(name []byte) *shape {
	for _, m := range s.members {
		if m.name == string(name) {
			return m.shape
		}
	}
	return nil
}
