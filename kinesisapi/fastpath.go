package kinesisapi

import (
	"encoding/base64"
	"unicode/utf8"
)

// decodePutRecordsFast decodes the common shape of a PutRecords body in one
// pass over its bytes: an object with string members StreamName, StreamARN,
// StreamId and Records, a list of objects with string members Data,
// PartitionKey and ExplicitHashKey, with JSON whitespace anywhere allowed.
//
// It gives up (ok == false) on anything else: other member names, nulls,
// numbers, escaped or non-UTF-8 strings, bad base64, malformed JSON. The
// caller then decodes with encoding/json, which accepts the rest of JSON
// and words the errors. Invariant: whenever it returns ok, the request
// equals what encoding/json would have decoded from body (a differential
// fuzz test checks this); validation follows either way.
//
// encoding/json spends most of its time scanning each byte twice (once to
// check the whole document, once to decode); this is why the fast path
// exists. The decoded request never aliases body.
func decodePutRecordsFast(body []byte) (*putRecordsRequest, bool) {
	p := fastParser{b: body}
	in := &putRecordsRequest{}
	ok := p.object(func(key []byte) bool {
		switch string(key) {
		case "StreamName":
			return p.optString(&in.StreamName)
		case "StreamARN":
			return p.optString(&in.StreamARN)
		case "StreamId":
			return p.optString(&in.StreamID)
		case "Records":
			return p.records(&in.Records)
		}
		return false
	})
	if !ok {
		return nil, false
	}
	p.ws()
	return in, p.i == len(p.b)
}

type fastParser struct {
	b []byte
	i int
}

// ws skips JSON whitespace.
func (p *fastParser) ws() {
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
func (p *fastParser) consume(c byte) bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// object parses {"key": value, ...}, calling member with p positioned at
// each value.
func (p *fastParser) object(member func(key []byte) bool) bool {
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

// rawString returns the contents of the JSON string at p, which must hold
// no escapes, no control characters and only valid UTF-8 (encoding/json
// would rewrite invalid UTF-8; such input takes the slow path).
func (p *fastParser) rawString() ([]byte, bool) {
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

func (p *fastParser) optString(dst **string) bool {
	s, ok := p.rawString()
	if !ok {
		return false
	}
	v := string(s)
	*dst = &v
	return true
}

func (p *fastParser) records(dst *[]putRecordsEntry) bool {
	// A repeated Records member takes the slow path: encoding/json decodes
	// it over the first list's elements, merging the two.
	if *dst != nil || !p.consume('[') {
		return false
	}
	recs := make([]putRecordsEntry, 0, 16)
	if !p.consume(']') {
		for {
			var e putRecordsEntry
			ok := p.object(func(key []byte) bool {
				switch string(key) {
				case "Data":
					s, ok := p.rawString()
					if !ok {
						return false
					}
					data := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
					n, err := base64.StdEncoding.Decode(data, s)
					e.Data = data[:n:n]
					return err == nil
				case "PartitionKey":
					return p.optString(&e.PartitionKey)
				case "ExplicitHashKey":
					return p.optString(&e.ExplicitHashKey)
				}
				return false
			})
			if !ok {
				return false
			}
			recs = append(recs, e)
			if p.consume(',') {
				continue
			}
			if !p.consume(']') {
				return false
			}
			break
		}
	}
	*dst = recs
	return true
}
