//go:build unix

package runtime

import (
	"errors"
	"os"
	"syscall"
)

// outputReader reads the pipe with non-blocking reads under output.mu, so
// that settle can drain it from another goroutine: when an invocation ends,
// every line its runtime wrote before answering is in its log tail and
// attributed to it, however late the reading goroutine would wake.
type outputReader struct {
	*output
	conn syscall.RawConn
	buf  []byte
	eof  bool // guarded by mu
}

func newOutputReader(o *output, f *os.File) (*outputReader, error) {
	conn, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	return &outputReader{output: o, conn: conn, buf: make([]byte, 32<<10)}, nil
}

// run reads until the pipe's end (every writer gone) or until the file is
// closed.
func (r *outputReader) run() {
	// Go's poller is edge-triggered: each wake-up drains to EAGAIN.
	_ = r.conn.Read(func(fd uintptr) bool { return r.drain(fd, 0) })
	r.mu.Lock()
	r.eof = true
	r.end()
	r.mu.Unlock()
}

// settle handles what the pipe holds now (at most 1 MB: a runtime that
// keeps writing is not waited for).
func (r *outputReader) settle() {
	_ = r.conn.Control(func(fd uintptr) { r.drain(fd, 1<<20) })
}

// drain reads until the pipe is empty, or limit bytes when limit > 0, and
// reports whether the pipe has ended. A chunk at a time under mu, so the
// other reader gets its turn.
func (r *outputReader) drain(fd uintptr, limit int) bool {
	total := 0
	for {
		r.mu.Lock()
		if r.eof {
			r.mu.Unlock()
			return true
		}
		n, err := syscall.Read(int(fd), r.buf)
		if n > 0 {
			r.feed(r.buf[:n])
		}
		ended := n == 0 && err == nil
		r.mu.Unlock()
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EAGAIN):
			return false
		case err != nil || ended:
			return true
		}
		total += n
		if limit > 0 && total >= limit {
			return false
		}
	}
}
