//go:build unix

package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spatehq/spate/functions"
)

// The test handler (testdata/handler) is built as bootstrap once for the
// whole test binary, by the first test that needs it: not in TestMain, so
// that fuzzing workers, which run TestMain, start at once.
var (
	buildOnce sync.Once
	builtDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if builtDir != "" {
		_ = os.RemoveAll(builtDir)
	}
	os.Exit(code)
}

// handlerDir is the code directory of the built test handler.
func handlerDir(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		builtDir, buildErr = os.MkdirTemp("", "spate-runtime-test-")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", filepath.Join(builtDir, "bootstrap"), "./testdata/handler")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build the test handler: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtDir
}

// testConfig is a function running the test handler.
func testConfig(t testing.TB, name string) functions.Config {
	return functions.Config{
		Name:           name,
		ARN:            "arn:aws:lambda:eu-west-1:000000000000:function:" + name,
		Version:        functions.LatestVersion,
		Runtime:        functions.RuntimeProvidedAL2023,
		Handler:        "bootstrap",
		Timeout:        30 * time.Second,
		MemorySize:     256,
		Environment:    map[string]string{"GREETING": "hello"},
		CodeDir:        handlerDir(t),
		RevisionID:     "rev-1",
		MaxConcurrency: 10,
	}
}

// logBuffer collects a Manager's log for assertions.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newManager(t *testing.T, opts ...Option) (*Manager, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	opts = append([]Option{
		WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		WithWorkDir(t.TempDir()),
	}, opts...)
	m := New(opts...)
	t.Cleanup(func() { _ = m.Close() })
	return m, logs
}

func invoke(t *testing.T, m *Manager, fn functions.Config, event any) functions.Result {
	t.Helper()
	res, err := invokeErr(m, fn, event)
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	return res
}

func invokeErr(m *Manager, fn functions.Config, event any) (functions.Result, error) {
	payload, err := json.Marshal(event)
	if err != nil {
		return functions.Result{}, err
	}
	return m.Execute(context.Background(), fn, functions.Invocation{RequestID: newRequestID(), Payload: payload, LogTail: true})
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// alive says whether pid is a live process (a zombie counts as gone).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// waitGone waits until pid has exited (the kill is asynchronous: an idle
// expiry or Retire signals, the kernel tears down), failing after a bound
// far above what it takes.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still running", pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func pidOf(t *testing.T, res functions.Result) int {
	t.Helper()
	v := decode(t, res.Payload)
	pid, ok := v["pid"].(float64)
	if !ok {
		t.Fatalf("no pid in %s", res.Payload)
	}
	return int(pid)
}
