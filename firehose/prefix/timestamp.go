package prefix

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A tsField is one element of a compiled Java DateTimeFormatter pattern:
// either literal text or a pattern letter repeated count times.
type tsField struct {
	letter  byte   // 0 for literal text
	count   int    // number of repetitions of letter
	literal string // text when letter == 0
}

// maxLetters bounds how many times each supported pattern letter may repeat,
// as java.time.format.DateTimeFormatterBuilder does ("Too many pattern
// letters"). 'y' is unbounded in Java (width up to 19); 19 is its limit.
var maxLetters = map[byte]int{
	'y': 19,
	'M': 4, // M, MM, MMM (Jan), MMMM (January); MMMMM (narrow) is not supported
	'd': 2,
	'H': 2,
	'm': 2,
	's': 2,
}

// compileTimestamp parses a Java DateTimeFormatter pattern (the value of a
// !{timestamp:...} expression). base is the offset of pattern within the whole
// prefix, so errors point at the offending character of the user's input.
//
// Java's rules, restricted to the letters Firehose users write: every ASCII
// letter is a pattern letter; text between single quotes is literal; two
// single quotes stand for one quote, inside or outside quoted text; '[', ']'
// and '#' are reserved (optional sections), and so rejected here.
func compileTimestamp(pattern string, base int) ([]tsField, error) {
	var fields []tsField
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			fields = append(fields, tsField{literal: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(pattern); {
		c := pattern[i]
		switch {
		case c == '\'':
			if i+1 < len(pattern) && pattern[i+1] == '\'' {
				lit.WriteByte('\'')
				i += 2
				continue
			}
			// Quoted literal: up to the next lone quote; '' inside is a quote.
			j := i + 1
			for {
				if j >= len(pattern) {
					return nil, &SyntaxError{Offset: base + i, Msg: "unterminated quoted text in timestamp pattern " + strconv.Quote(pattern)}
				}
				if pattern[j] == '\'' {
					if j+1 < len(pattern) && pattern[j+1] == '\'' {
						lit.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				lit.WriteByte(pattern[j])
				j++
			}
			i = j + 1
		case isASCIILetter(c):
			j := i
			for j < len(pattern) && pattern[j] == c {
				j++
			}
			n := j - i
			limit, ok := maxLetters[c]
			if !ok {
				return nil, &SyntaxError{Offset: base + i, Msg: fmt.Sprintf("unsupported letter %q in timestamp pattern %q (supported: y, M, d, H, m, s; quote literal text like 'T')", c, pattern)}
			}
			if n > limit {
				return nil, &SyntaxError{Offset: base + i, Msg: fmt.Sprintf("too many pattern letters %q in timestamp pattern %q (at most %d)", pattern[i:j], pattern, limit)}
			}
			flush()
			fields = append(fields, tsField{letter: c, count: n})
			i = j
		case c == '[' || c == ']' || c == '#':
			return nil, &SyntaxError{Offset: base + i, Msg: fmt.Sprintf("reserved character %q in timestamp pattern %q (optional sections are not supported; quote it to use it literally)", c, pattern)}
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	if len(fields) == 0 {
		return nil, &SyntaxError{Offset: base, Msg: "empty timestamp pattern"}
	}
	return fields, nil
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// formatTimestamp appends t formatted by fields to b. t must already be in the
// wanted location.
func formatTimestamp(b []byte, fields []tsField, t time.Time) []byte {
	for _, f := range fields {
		switch f.letter {
		case 0:
			b = append(b, f.literal...)
		case 'y':
			y := t.Year()
			if f.count == 2 {
				// Java's reduced two-digit year: the last two digits.
				b = appendPadded(b, ((y%100)+100)%100, 2)
			} else {
				b = appendPadded(b, y, f.count)
			}
		case 'M':
			switch f.count {
			case 3:
				b = append(b, t.Month().String()[:3]...)
			case 4:
				b = append(b, t.Month().String()...)
			default:
				b = appendPadded(b, int(t.Month()), f.count)
			}
		case 'd':
			b = appendPadded(b, t.Day(), f.count)
		case 'H':
			b = appendPadded(b, t.Hour(), f.count)
		case 'm':
			b = appendPadded(b, t.Minute(), f.count)
		case 's':
			b = appendPadded(b, t.Second(), f.count)
		}
	}
	return b
}

// appendPadded appends n in decimal, left-padded with zeros to width digits.
func appendPadded(b []byte, n, width int) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	var digits [20]byte
	s := strconv.AppendInt(digits[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}
