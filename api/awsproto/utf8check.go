package awsproto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/spatehq/spate/apierr"
)

// checkStrings refuses a request body, already accepted by encoding/json,
// whose strings are not Unicode text: raw bytes that are not UTF-8, and
// \uD800–\uDFFF escapes that are not a high surrogate followed by a low one.
// encoding/json decodes both to U+FFFD without a word, so a partition key
// of bytes 0xff 0xfe would be stored, hashed and read back as "\ufffd\ufffd"
// (and collide with every other such key); gRPC refuses the same key
// (shard's entry validation). The error has the service's validation code
// and names the member at fault in its path style.
//
// The common body is valid UTF-8 without surrogate escapes, and costs one
// utf8.Valid and one search for `\u`; only a suspect body is walked.
func checkStrings(body []byte, code apierr.Code, style PathStyle) error {
	if utf8.Valid(body) && !hasSurrogateEscape(body) {
		return nil
	}
	path, what, ok := findBadString(body)
	if ok {
		return nil
	}
	vd := validator{style: style, path: path}
	var b strings.Builder
	b.WriteString("1 validation error detected: Value at '")
	vd.writePath(&b)
	b.WriteString("' failed to satisfy constraint: Member must be valid Unicode text: ")
	b.WriteString(what)
	b.WriteString("; send strings as UTF-8, and escape a character outside the Basic Multilingual Plane as a surrogate pair (\\ud83d\\ude00)")
	return &apierr.Error{Code: code, Message: b.String()}
}

// CheckUnicode is the check of checkStrings for a JSON body decoded
// outside a Handler (the Analytics API): nil, or an error with code that
// names the member, in wire style, whose string is not Unicode text.
func CheckUnicode(body []byte, code apierr.Code) error {
	return checkStrings(body, code, WirePaths)
}

// hasSurrogateEscape reports whether b may hold an escape \uD800–\uDFFF
// (it does not tell an escaped backslash followed by "uD800" apart: the walk
// that follows does).
func hasSurrogateEscape(b []byte) bool {
	for {
		i := bytes.Index(b, []byte(`\u`))
		if i < 0 || i+4 > len(b) {
			return false
		}
		if c, d := b[i+2], b[i+3]; (c == 'd' || c == 'D') && (d >= '8' && d <= '9' || d >= 'a' && d <= 'f' || d >= 'A' && d <= 'F') {
			return true
		}
		b = b[i+2:]
	}
}

// jsonFrame is one open object or list of findBadString's walk.
type jsonFrame struct {
	list     bool
	index    int  // list: position of the current element
	wantKey  bool // object: the next string is a member name
	haveName bool // object: a member name has been read (path has its segment)
}

// findBadString walks body, valid JSON apart from the contents of its
// strings, and returns the path of the first string that is not Unicode
// text and what is wrong with it; ok is true if there is none.
func findBadString(body []byte) (path []pathSeg, what string, ok bool) {
	var stack []jsonFrame
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '{':
			stack = append(stack, jsonFrame{wantKey: true})
		case '[':
			stack = append(stack, jsonFrame{list: true})
			path = append(path, pathSeg{index: 0})
		case '}', ']':
			top := stack[len(stack)-1]
			if top.list || top.haveName {
				path = path[:len(path)-1]
			}
			stack = stack[:len(stack)-1]
		case ',':
			top := &stack[len(stack)-1]
			if top.list {
				top.index++
				path[len(path)-1].index = top.index
			} else {
				top.wantKey = true
			}
		case '"':
			end, bad := scanString(body, i)
			isName := len(stack) > 0 && !stack[len(stack)-1].list && stack[len(stack)-1].wantKey
			if isName {
				top := &stack[len(stack)-1]
				top.wantKey = false
				if top.haveName {
					path = path[:len(path)-1]
				}
				top.haveName = true
				name := string(body[i+1 : end-1])
				if err := json.Unmarshal(body[i:end], &name); err != nil {
					name = string(body[i+1 : end-1])
				}
				path = append(path, pathSeg{member: &member{name: name, path: lowerFirst(name)}})
			}
			if bad != "" {
				if isName {
					bad = "the member name " + bad
				}
				return path, bad, false
			}
			i = end - 1
		}
	}
	return nil, "", true
}

// scanString scans the JSON string that starts at b[start] (a '"') and
// returns the index just past its closing quote and, if it is not Unicode
// text, why.
func scanString(b []byte, start int) (end int, bad string) {
	for i := start + 1; i < len(b); {
		c := b[i]
		switch {
		case c == '"':
			return i + 1, bad
		case c == '\\':
			if i+1 < len(b) && b[i+1] == 'u' && i+6 <= len(b) {
				r := hex4(b[i+2 : i+6])
				if bad == "" && utf16.IsSurrogate(r) {
					paired := r < 0xdc00 && i+12 <= len(b) && b[i+6] == '\\' && b[i+7] == 'u' &&
						utf16.DecodeRune(r, hex4(b[i+8:i+12])) != utf8.RuneError
					if !paired {
						bad = fmt.Sprintf("the escape %s (at byte %d) is an unpaired UTF-16 surrogate", b[i:i+6], i)
					} else {
						i += 6
					}
				}
				i += 6
				continue
			}
			i += 2
		case c < utf8.RuneSelf:
			i++
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 && bad == "" {
				bad = "byte 0x" + strconv.FormatUint(uint64(c), 16) + " (at byte " + strconv.Itoa(i) + ") is not UTF-8"
			}
			i += n
		}
	}
	return len(b), bad
}

// hex4 decodes four hex digits (already checked by encoding/json).
func hex4(h []byte) rune {
	v, err := strconv.ParseUint(string(h), 16, 16)
	if err != nil {
		return utf8.RuneError
	}
	return rune(v)
}
