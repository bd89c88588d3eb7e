//go:build !unix

package runtime

import "os"

// outputReader reads the pipe with blocking reads: lines written just
// before an answer may reach the log after its END line.
type outputReader struct {
	*output
	f *os.File
}

func newOutputReader(o *output, f *os.File) (*outputReader, error) {
	return &outputReader{output: o, f: f}, nil
}

func (r *outputReader) run() {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.f.Read(buf)
		r.mu.Lock()
		if n > 0 {
			r.feed(buf[:n])
		}
		if err != nil {
			r.end()
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
	}
}

func (r *outputReader) settle() {}
