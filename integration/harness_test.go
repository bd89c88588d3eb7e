package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/spatehq/spate/internal/sdkhttp"
)

// Generous bounds for a server to come up or go down. They only stop a hung
// test; no test asserts on how long anything takes.
const (
	startTimeout = 2 * time.Minute
	stopTimeout  = 2 * time.Minute
)

// server is a running `spate serve` process started by startServer.
type server struct {
	HTTPAddr string // host:port the Kinesis JSON API listens on
	GRPCAddr string // host:port the gRPC API listens on
	DataDir  string

	cfg  serverConfig
	proc *process // the current process; replaced by Restart
	log  *logBuffer
	gen  int // how many processes were started
}

type serverConfig struct {
	dataDir string
	args    []string
}

// serverOption configures startServer.
type serverOption func(*serverConfig)

// withDataDir runs the server on dir instead of a fresh t.TempDir().
func withDataDir(dir string) serverOption {
	return func(c *serverConfig) { c.dataDir = dir }
}

// withArgs adds flags to `spate serve`, e.g. "--create-delay", "2s".
func withArgs(args ...string) serverOption {
	return func(c *serverConfig) { c.args = append(c.args, args...) }
}

// startServer starts `spate serve` on loopback ports chosen by the kernel
// (the server binds 127.0.0.1:0 and logs the bound addresses), waits until
// it serves, and stops it when the test ends. The server's log goes into the
// test log when the test fails.
func startServer(t *testing.T, opts ...serverOption) *server {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test; skipped with -short")
	}
	var cfg serverConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.dataDir == "" {
		cfg.dataDir = t.TempDir()
	}
	s := &server{DataDir: cfg.dataDir, cfg: cfg, log: &logBuffer{}}
	t.Cleanup(func() {
		switch {
		case s.proc == nil:
		case !s.proc.exited():
			if err := s.proc.stop(stopTimeout); err != nil {
				t.Errorf("stop server: %v", err)
			}
		case !s.proc.signalled:
			t.Errorf("server exited on its own during the test: %v", s.proc.waitErr)
		}
		if t.Failed() {
			t.Logf("server log (%s):\n%s", s.DataDir, s.log.String())
		}
	})
	s.start(t)
	return s
}

func (s *server) start(t *testing.T) {
	t.Helper()
	s.gen++
	s.log.header(fmt.Sprintf("=== spate serve #%d", s.gen))
	args := append([]string{
		"serve",
		"--data-dir", s.DataDir,
		"--http-addr", "127.0.0.1:0",
		"--grpc-addr", "127.0.0.1:0",
		"--log-format", "json",
		"--log-level", "debug",
	}, s.cfg.args...)
	p, err := startProcess(s.log, spateBin, args...)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	s.proc = p
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	select {
	case addrs := <-p.ready:
		s.HTTPAddr, s.GRPCAddr = addrs.HTTP, addrs.GRPC
	case <-p.done:
		t.Fatalf("server exited before serving: %v (its log follows)", p.waitErr)
	case <-ctx.Done():
		_ = p.kill()
		t.Fatalf("server did not log %q: %v (its log follows)", readyMsg, ctx.Err())
	}
}

// Kill9 sends SIGKILL and waits for the process to die.
func (s *server) Kill9(t *testing.T) {
	t.Helper()
	if err := s.proc.kill(); err != nil {
		t.Fatalf("kill -9 server: %v", err)
	}
}

// Stop sends SIGTERM, waits for the process to exit and asserts that it
// exited cleanly (status 0).
func (s *server) Stop(t *testing.T) {
	t.Helper()
	if err := s.proc.stop(stopTimeout); err != nil {
		t.Fatalf("stop server: %v", err)
	}
}

// Restart starts the server again on the same data directory, stopping it
// first (SIGTERM, clean exit asserted) if it still runs. The addresses may
// change; the fields are updated.
func (s *server) Restart(t *testing.T) {
	t.Helper()
	switch {
	case !s.proc.exited():
		s.Stop(t)
	case !s.proc.signalled:
		t.Fatalf("server exited on its own before Restart: %v", s.proc.waitErr)
	}
	s.start(t)
}

// Endpoint is the Kinesis API's base URL, "http://127.0.0.1:PORT".
func (s *server) Endpoint() string { return "http://" + s.HTTPAddr }

// Kinesis returns an aws-sdk-go-v2 Kinesis client for the server with
// static credentials and no retries, so every error reaches the test as the
// server sent it and no put is ever sent twice. Its requests go through
// sdkhttp.PlainBodies (see there why).
func (s *server) Kinesis(t *testing.T) *kinesis.Client {
	t.Helper()
	return s.kinesisClient(t, retry.AddWithMaxAttempts(retry.NewStandard(), 1))
}

// kinesisClient is an aws-sdk-go-v2 Kinesis client for the server with
// static credentials and retryer (nil: the SDK's default).
func (s *server) kinesisClient(t *testing.T, retryer aws.Retryer) *kinesis.Client {
	t.Helper()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(transport.CloseIdleConnections)
	return kinesis.New(kinesis.Options{
		BaseEndpoint: aws.String(s.Endpoint()),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		Retryer:      retryer,
		HTTPClient:   &http.Client{Transport: sdkhttp.PlainBodies(transport)},
	})
}

// kin is a running server and an SDK client for it: the fixture of every test
// that drives the server with aws-sdk-go-v2. Its stream helpers are in
// sdk_helpers_test.go.
type kin struct {
	srv *server
	c   *kinesis.Client
}

// newKin starts a server (startServer) and makes a client for it.
func newKin(t *testing.T, opts ...serverOption) *kin {
	t.Helper()
	s := startServer(t, opts...)
	return &kin{srv: s, c: s.Kinesis(t)}
}

// restart restarts the server on its data directory (server.Restart: a
// running server is stopped with SIGTERM first) and replaces the client,
// since the ports may change.
func (k *kin) restart(t *testing.T) {
	t.Helper()
	k.srv.Restart(t)
	k.c = k.srv.Kinesis(t)
}

// testTimeout bounds every test's context. It only stops a hung test; no
// test asserts on how long anything takes.
const testTimeout = 3 * time.Minute

// testCtx returns a context that ends with the test or after testTimeout.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// eachDurability runs test as parallel subtests named after the server's
// --durability modes, once per mode.
func eachDurability(t *testing.T, test func(t *testing.T, durability string)) {
	for _, durability := range []string{"sync", "relaxed"} {
		t.Run(durability, func(t *testing.T) {
			t.Parallel()
			test(t, durability)
		})
	}
}

// uniqueName returns a valid stream name ([a-zA-Z0-9_.-]{1,128}) made from
// the test's name and a random suffix, different on every call.
func uniqueName(t *testing.T) string {
	t.Helper()
	base := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			return r
		}
		return '-'
	}, t.Name())
	if len(base) > 100 {
		base = base[:100]
	}
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatalf("uniqueName: %v", err)
	}
	return base + "-" + hex.EncodeToString(suffix)
}

// readyMsg is the log message `spate serve` writes, with the bound
// addresses as http_addr and grpc_addr, once both listeners accept.
const readyMsg = "spate serving"

type boundAddrs struct{ HTTP, GRPC string }

// process is one run of the server binary.
type process struct {
	cmd     *exec.Cmd
	ready   chan boundAddrs // receives the bound addresses once
	done    chan struct{}   // closed when the process has exited
	waitErr error           // set before done is closed
	// signalled is set when the harness sent SIGKILL or SIGTERM, so an exit
	// is expected.
	signalled bool
}

func startProcess(log *logBuffer, bin string, args ...string) (*process, error) {
	p := &process{ready: make(chan boundAddrs, 1), done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	w := &readyWriter{log: log, ready: p.ready}
	p.cmd.Stdout = w
	p.cmd.Stderr = w
	p.cmd.SysProcAttr = sysProcAttr()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the exit.
func (p *process) kill() error {
	if p.exited() {
		return fmt.Errorf("server already exited: %v", p.waitErr)
	}
	p.signalled = true
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("send SIGKILL: %w", err)
	}
	<-p.done
	return nil
}

// stop sends SIGTERM, waits up to timeout for the exit (then kills), and
// returns an error unless the process exited with status 0.
func (p *process) stop(timeout time.Duration) error {
	if p.exited() {
		return fmt.Errorf("server had already exited: %v", p.waitErr)
	}
	p.signalled = true
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("send SIGTERM: %w", err)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("server did not exit within %v of SIGTERM; killed", timeout)
	}
	if p.waitErr != nil {
		return fmt.Errorf("server exited uncleanly after SIGTERM: %w", p.waitErr)
	}
	return nil
}

// readyWriter copies the server's output into the log and watches it, line
// by line, for the JSON log record that carries the bound addresses.
type readyWriter struct {
	log     *logBuffer
	ready   chan<- boundAddrs
	partial []byte
	found   bool
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.log.write(p)
	if w.found {
		return len(p), nil
	}
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := w.partial[:i]
		w.partial = w.partial[i+1:]
		var rec struct {
			Msg      string `json:"msg"`
			HTTPAddr string `json:"http_addr"`
			GRPCAddr string `json:"grpc_addr"`
		}
		if json.Unmarshal(line, &rec) == nil && rec.Msg == readyMsg && rec.HTTPAddr != "" && rec.GRPCAddr != "" {
			w.found = true
			w.partial = nil
			w.ready <- boundAddrs{HTTP: rec.HTTPAddr, GRPC: rec.GRPCAddr}
			break
		}
	}
	return len(p), nil
}

// logBuffer accumulates the output of every process a server ran.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) write(p []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
}

func (b *logBuffer) header(s string) { b.write([]byte(s + "\n")) }

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
