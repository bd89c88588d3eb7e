package trunc

import "unicode/utf8"

// String returns s cut to at most n bytes, on a rune boundary, with "..."
// marking the cut; s itself when it is no longer than n.
func String(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// Fit cuts s to at most max bytes, the mark "…" included, on a rune
// boundary: for text that must stay within a stated size.
func Fit(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const mark = "…"
	n := max - len(mark)
	if n < 0 {
		n = 0
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + mark
}
