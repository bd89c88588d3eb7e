package runtime

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// feedAll runs chunks through an output and returns the lines it made (in
// the call's tail, which keeps them all when short).
func feedAll(chunks [][]byte) []string {
	c := &call{id: "id", log: &tail{}}
	var lines []string
	o := &output{
		logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		function: "f",
		current:  func() (*call, bool) { return c, true },
	}
	o.lineHook = func(s string) { lines = append(lines, s) }
	for _, b := range chunks {
		o.feed(b)
	}
	o.end()
	return lines
}

func TestOutputLines(t *testing.T) {
	long := strings.Repeat("x", maxLine+10)
	for _, tc := range []struct {
		name   string
		chunks []string
		want   []string
	}{
		{"lines", []string{"a\nb\n"}, []string{"a\n", "b\n"}},
		{"split across reads", []string{"he", "llo\nwo", "rld\n"}, []string{"hello\n", "world\n"}},
		{"no final newline", []string{"a\nb"}, []string{"a\n", "b\n"}},
		{"empty lines", []string{"\n\n"}, []string{"\n", "\n"}},
		{"long line cut", []string{long + "\n"}, []string{long[:maxLine] + "\n", long[maxLine:] + "\n"}},
		{"long partial then end", []string{long[:maxLine-1], "yz\n"}, []string{long[:maxLine-1] + "y\n", "z\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var chunks [][]byte
			for _, c := range tc.chunks {
				chunks = append(chunks, []byte(c))
			}
			got := feedAll(chunks)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("lines %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTail(t *testing.T) {
	var tl tail
	for i := range 1000 {
		tl.write(strings.Repeat("x", i%50) + "\n")
	}
	tl.write("last\n")
	b := tl.bytes()
	if len(b) != tailSize || !bytes.HasSuffix(b, []byte("\nlast\n")) {
		t.Fatalf("tail of %d bytes ending %q", len(b), b[len(b)-10:])
	}
	var big tail
	big.write(strings.Repeat("y", 3*tailSize) + "end\n")
	if b := big.bytes(); len(b) != tailSize || !bytes.HasSuffix(b, []byte("yend\n")) {
		t.Fatalf("tail of %d bytes", len(b))
	}
}

func TestBudget(t *testing.T) {
	var b budget
	now := time.Unix(0, 0)
	if !b.take(logBurst, now) || b.take(1, now) {
		t.Fatal("the burst is not the limit")
	}
	if !b.take(logRate/2, now.Add(time.Second)) || b.dropped != 1 {
		t.Fatalf("no refill, or the drop not counted: %+v", b)
	}
}

// FuzzOutputLines: whatever a runtime writes, in whatever pieces, every
// line is at most maxLine bytes and the lines are the output in order
// (a newline added to a cut or unterminated line).
func FuzzOutputLines(f *testing.F) {
	f.Add([]byte("a\nbc\n"), uint16(1))
	f.Add([]byte(strings.Repeat("z", maxLine+5)), uint16(7))
	f.Fuzz(func(t *testing.T, data []byte, step uint16) {
		n := int(step)%(maxLine+3) + 1
		var chunks [][]byte
		for b := data; len(b) > 0; {
			k := min(n, len(b))
			chunks = append(chunks, b[:k])
			b = b[k:]
		}
		var joined strings.Builder
		for _, l := range feedAll(chunks) {
			if len(l) == 0 || len(l) > maxLine+1 || l[len(l)-1] != '\n' {
				t.Fatalf("line of %d bytes", len(l))
			}
			joined.WriteString(l)
		}
		// Dropping the added newlines gives the input back.
		got, want := strings.ReplaceAll(joined.String(), "\n", ""), strings.ReplaceAll(string(data), "\n", "")
		if got != want {
			t.Fatal("the lines are not the output")
		}
	})
}
