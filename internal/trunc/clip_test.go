package trunc

import "testing"

func TestString(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"", 3, ""},
		{"abc", 3, "abc"},
		{"abcd", 3, "abc..."},
		{"aé", 2, "a..."}, // é is 2 bytes: not cut in half
		{"éé", 3, "é..."},
	} {
		if got := String(tc.s, tc.n); got != tc.want {
			t.Errorf("String(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

func TestFit(t *testing.T) {
	for _, tc := range []struct {
		s    string
		max  int
		want string
	}{
		{"", 4, ""},
		{"abcd", 4, "abcd"},
		{"abcde", 4, "a…"}, // "…" is 3 bytes: the result is 4
		{"éééé", 6, "é…"},  // 2 + 3 bytes: not half of the next é
		{"éééé", 7, "éé…"}, // 4 + 3 bytes
		{"abcdef", 2, "…"}, // a max below the mark's size still marks the cut
	} {
		got := Fit(tc.s, tc.max)
		if got != tc.want {
			t.Errorf("Fit(%q, %d) = %q, want %q", tc.s, tc.max, got, tc.want)
		}
		if len(tc.s) > tc.max && tc.max >= 3 && len(got) > tc.max {
			t.Errorf("Fit(%q, %d) is %d bytes", tc.s, tc.max, len(got))
		}
	}
}
