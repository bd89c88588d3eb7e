package runtime

import (
	"bufio"
	"io"
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

// output reads an instance's stdout and stderr (one pipe, so their lines
// keep their order) line by line until the pipe closes: each line goes to
// the log tail of the invocation it belongs to and to Spate's log with the
// function's name and the request id.
type output struct {
	logger   *slog.Logger
	function string
	current  func() *call
	budget   budget
}

func (o *output) read(r io.Reader) {
	br := bufio.NewReaderSize(r, maxLine)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			o.line(line)
		}
		if err != nil && err != bufio.ErrBufferFull {
			o.flushDropped()
			return
		}
	}
}

func (o *output) line(b []byte) {
	text := string(b)
	if text[len(text)-1] != '\n' {
		text += "\n" // a cut line: the tail shows it as one
	}
	c := o.current()
	id := ""
	if c != nil {
		id = c.id
		c.log.write(text)
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
