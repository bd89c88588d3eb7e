package awsproto

import (
	"encoding/base64"
	"unicode/utf8"
)

// FastParser decodes the common shape of a hot request (PutRecords,
// PutRecordBatch) in one pass over its bytes, for an Operation's
// WithFastDecode: objects, lists and strings with JSON whitespace anywhere
// allowed.
//
// Every method reports false on anything outside that subset (numbers,
// nulls, escaped or non-UTF-8 strings, bad base64, malformed JSON); the
// caller then gives up and lets encoding/json decode the body, which accepts
// the rest of JSON and words the errors. Decoded values never alias the
// input.
//
// encoding/json spends most of its time scanning each byte twice (once to
// check the whole document, once to decode); this is why it exists.
type FastParser struct {
	b []byte
	i int
}

// NewFastParser returns a parser at the start of b.
func NewFastParser(b []byte) *FastParser { return &FastParser{b: b} }

// ws skips JSON whitespace.
func (p *FastParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// consume skips whitespace and then c, reporting whether c was there.
func (p *FastParser) consume(c byte) bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// Object parses {"key": value, ...}, calling member with the parser at
// each value; member parses the value and reports whether it could.
func (p *FastParser) Object(member func(key []byte) bool) bool {
	if !p.consume('{') {
		return false
	}
	if p.consume('}') {
		return true
	}
	for {
		p.ws()
		key, ok := p.rawString()
		if !ok || !p.consume(':') {
			return false
		}
		p.ws()
		if !member(key) {
			return false
		}
		if p.consume(',') {
			continue
		}
		return p.consume('}')
	}
}

// List parses [value, ...], calling elem with the parser at each value;
// elem parses the value and reports whether it could.
func (p *FastParser) List(elem func() bool) bool {
	if !p.consume('[') {
		return false
	}
	if p.consume(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if p.consume(',') {
			continue
		}
		return p.consume(']')
	}
}

// End reports whether only whitespace is left.
func (p *FastParser) End() bool {
	p.ws()
	return p.i == len(p.b)
}

// rawString returns the contents of the JSON string at p, which must hold
// no escapes, no control characters and only valid UTF-8 (encoding/json
// would rewrite invalid UTF-8; such input takes the slow path).
func (p *FastParser) rawString() ([]byte, bool) {
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return nil, false
	}
	start := p.i + 1
	ascii := true
	for j := start; j < len(p.b); j++ {
		c := p.b[j]
		switch {
		case c == '"':
			p.i = j + 1
			s := p.b[start:j]
			return s, ascii || utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

// String parses a string into *dst.
func (p *FastParser) String(dst **string) bool {
	s, ok := p.rawString()
	if !ok {
		return false
	}
	v := string(s)
	*dst = &v
	return true
}

// Blob parses a string of standard base64 into *dst, as Blob's
// UnmarshalJSON does ("" is an empty, non-nil blob).
func (p *FastParser) Blob(dst *Blob) bool {
	s, ok := p.rawString()
	if !ok {
		return false
	}
	data := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(data, s)
	*dst = data[:n:n]
	return err == nil
}
