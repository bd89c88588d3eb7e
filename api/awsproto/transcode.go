package awsproto

import (
	"bytes"
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
// keep their JSON type. Maps and arrays keep their JSON order.
//
// js is the handler's own encoding of a reply, so it is valid JSON; an
// error means a reply broke its shape (a program defect).
func jsonToCBOR(dst []byte, s *shape, js []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	t := transcoder{dec: dec}
	return t.value(dst, s)
}

type transcoder struct {
	dec *json.Decoder
}

func (t *transcoder) value(dst []byte, s *shape) ([]byte, error) {
	tok, err := t.dec.Token()
	if err != nil {
		return nil, fmt.Errorf("transcode reply: %w", err)
	}
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return t.object(dst, s)
		}
		return t.array(dst, s)
	case string:
		return t.str(dst, s, v)
	case json.Number:
		return t.number(dst, s, v)
	case bool:
		return appendCBORBool(dst, v), nil
	case nil:
		return appendCBORNull(dst), nil
	}
	return nil, fmt.Errorf("transcode reply: unexpected JSON token %v", tok)
}

// object transcodes a JSON object (its '{' read) as a structure of s, or
// a map of s, or (s nil) a value of no known shape. The members are
// encoded apart first, as a definite-length map's head needs their count.
func (t *transcoder) object(dst []byte, s *shape) ([]byte, error) {
	var body []byte
	n := 0
	for t.dec.More() {
		tok, err := t.dec.Token()
		if err != nil {
			return nil, fmt.Errorf("transcode reply: %w", err)
		}
		key, _ := tok.(string)
		var ms *shape
		if s != nil {
			switch s.kind {
			case kindStructure:
				ms = s.member(key)
			case kindMap:
				ms = s.value
			}
		}
		body = AppendCBORText(body, key)
		if body, err = t.value(body, ms); err != nil {
			return nil, err
		}
		n++
	}
	if _, err := t.dec.Token(); err != nil { // '}'
		return nil, fmt.Errorf("transcode reply: %w", err)
	}
	dst = AppendCBORMap(dst, n)
	return append(dst, body...), nil
}

func (t *transcoder) array(dst []byte, s *shape) ([]byte, error) {
	var es *shape
	if s != nil && s.kind == kindList {
		es = s.elem
	}
	var body []byte
	n := 0
	for t.dec.More() {
		var err error
		if body, err = t.value(body, es); err != nil {
			return nil, err
		}
		n++
	}
	if _, err := t.dec.Token(); err != nil { // ']'
		return nil, fmt.Errorf("transcode reply: %w", err)
	}
	dst = AppendCBORArray(dst, n)
	return append(dst, body...), nil
}

func (t *transcoder) str(dst []byte, s *shape, v string) ([]byte, error) {
	if s != nil && s.kind == kindBlob {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("transcode reply: blob %s is not base64: %w", s.name, err)
		}
		return AppendCBORBytes(dst, b), nil
	}
	return AppendCBORText(dst, v), nil
}

func (t *transcoder) number(dst []byte, s *shape, v json.Number) ([]byte, error) {
	kind := kindDouble
	if s != nil {
		kind = s.kind
	}
	switch kind {
	case kindTimestamp:
		tm, ok := parseEpoch(string(v))
		if !ok {
			return nil, fmt.Errorf("transcode reply: timestamp %s out of range", v)
		}
		return AppendCBORTime(dst, tm), nil
	case kindInteger, kindLong:
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("transcode reply: %s %s: %w", s.name, v, err)
		}
		return AppendCBORInt(dst, n), nil
	}
	// A double, or a number of no known shape: an integer when it is one.
	if s == nil {
		if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return AppendCBORInt(dst, n), nil
		}
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return nil, fmt.Errorf("transcode reply: number %s: %w", v, err)
	}
	return appendCBORFloat(dst, f), nil
}

// member returns the shape of s's member name, or nil.
func (s *shape) member(name string) *shape {
	for _, m := range s.members {
		if m.name == name {
			return m.shape
		}
	}
	return nil
}
