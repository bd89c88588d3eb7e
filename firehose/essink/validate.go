package essink

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrNotJSONObject is wrapped by [ValidateJSONObject]'s errors, so callers can
// tell an unusable record from other failures with errors.Is.
var ErrNotJSONObject = errors.New("record is not a UTF-8 JSON object")

// ValidateJSONObject reports whether body can be an Elasticsearch document:
// valid UTF-8 holding exactly one JSON object (surrounding whitespace
// allowed). Firehose treats any other record as a failed document, backed up
// with this error; it is never sent. The error wraps [ErrNotJSONObject] and
// says what is wrong. body is only read.
func ValidateJSONObject(body []byte) error {
	if !utf8.Valid(body) {
		return fmt.Errorf("%w: invalid UTF-8", ErrNotJSONObject)
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return fmt.Errorf("%w: empty record", ErrNotJSONObject)
	}
	if trimmed[0] != '{' {
		return fmt.Errorf("%w: starts with %q, not '{'", ErrNotJSONObject, firstRune(trimmed))
	}
	if !json.Valid(trimmed) {
		// Decode for the position and cause; json.Valid only says no.
		var v any
		err := json.Unmarshal(trimmed, &v)
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return fmt.Errorf("%w: %v", ErrNotJSONObject, err)
	}
	return nil
}

func firstRune(b []byte) rune {
	r, _ := utf8.DecodeRune(b)
	return r
}

// compactJSON returns body with insignificant whitespace removed, so that it
// fits on one line of the bulk API's newline-delimited body. body must have
// passed ValidateJSONObject.
func compactJSON(body []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(body))
	if err := json.Compact(&buf, body); err != nil {
		return nil, fmt.Errorf("compact document: %w", err)
	}
	return buf.Bytes(), nil
}
