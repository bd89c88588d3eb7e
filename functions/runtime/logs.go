package runtime

import (
	"bytes"
	"log/slog"
	"sync"
	"time"
)

const (
	// tailSize is Lambda's LogResult: the last 4 KB of the invocation's log.
	tailSize = 4 << 10
	// maxLine cuts a longer line into pieces, so a line without an end
	// never grows the reader's buffer.
	maxLine = 64 << 10
	// A noisy instance may send logBurst bytes at once to Spate's log and
	// logRate per second after; what exceeds it is dropped (and counted in
	// a line that says so), so a handler writing gigabytes does not flood
	// Spate's log. The log tail of an invocation keeps every line.
	logBurst = 4 << 20
	logRate  = 1 << 20
)

// tail keeps the last tailSize bytes written to it.
type tail struct {
	mu sync.Mutex
	b  []byte
}

func (t *tail) write(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(s) >= tailSize {
		t.b = append(t.b[:0], s[len(s)-tailSize:]...)
		return
	}
	if len(t.b)+len(s) > 2*tailSize {
		t.b = append(t.b[:0], t.b[len(t.b)-tailSize:]...)
	}
	t.b = append(t.b, s...)
}

func (t *tail) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.b
	if len(b) > tailSize {
		b = b[len(b)-tailSize:]
	}
	return append([]byte(nil), b...)
}

// budget is a token bucket of bytes for Spate's log.
type budget struct {
	tokens  float64
	last    time.Time
	dropped int64
}

func (b *budget) take(n int, now time.Time) bool {
	if b.last.IsZero() {
		b.tokens = logBurst
	} else {
		b.tokens += now.Sub(b.last).Seconds() * logRate
		if b.tokens > logBurst {
			b.tokens = logBurst
		}
	}
	b.last = now
	if b.tokens < float64(n) {
		b.dropped += int64(n)
		return false
	}
	b.tokens -= float64(n)
	return true
}

// output takes an instance's stdout and stderr (one pipe, so their lines
// keep their order) line by line: each line goes to the log tail of the
// invocation it belongs to and to Spate's log with the function's name and
// the request id. How the pipe is read is per platform (output_unix.go).
type output struct {
	logger   *slog.Logger
	function string
	// current is the call a line written now belongs to, and whether it
	// is running (else the instance is initializing for it, or between
	// invocations).
	current func() (c *call, invoking bool)

	mu      sync.Mutex // one reader of the pipe at a time
	partial []byte     // a line without its end yet (shorter than maxLine)
	budget  budget
	// lineHook, when set (tests), sees each line.
	lineHook func(string)
}

// feed splits b into lines, cutting one that would pass maxLine. The
// caller holds o.mu.
func (o *output) feed(b []byte) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		end := i + 1 // how much of b the line takes
		if i < 0 {
			end = len(b)
		}
		if room := maxLine - len(o.partial); end > room { // room > 0: partial is cut before it fills
			o.line(append(o.partial, b[:room]...))
			o.partial, b = o.partial[:0], b[room:]
			continue
		}
		if i < 0 {
			o.partial = append(o.partial, b...)
			return
		}
		if len(o.partial) > 0 {
			o.line(append(o.partial, b[:end]...))
			o.partial = o.partial[:0]
		} else {
			o.line(b[:end])
		}
		b = b[end:]
	}
}

// end flushes what is left when the pipe is closed. The caller holds o.mu.
func (o *output) end() {
	if len(o.partial) > 0 {
		o.line(o.partial)
		o.partial = nil
	}
	o.flushDropped()
}

func (o *output) line(b []byte) {
	text := string(b)
	if text[len(text)-1] != '\n' {
		text += "\n" // a cut line: the tail shows it as one
	}
	if o.lineHook != nil {
		o.lineHook(text)
	}
	c, invoking := o.current()
	id := ""
	if c != nil {
		c.log.write(text)
		if invoking {
			id = c.id
		}
	}
	if !o.budget.take(len(text), time.Now()) {
		return
	}
	o.flushDropped()
	o.logger.Info(trimNewline(text), "function", o.function, "request_id", id)
}

// flushDropped says, once there is budget again (or at the end), how much
// output was dropped.
func (o *output) flushDropped() {
	if o.budget.dropped > 0 {
		o.logger.Warn("function output dropped: over the log rate limit",
			"function", o.function, "bytes", o.budget.dropped)
		o.budget.dropped = 0
	}
}

func trimNewline(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}
