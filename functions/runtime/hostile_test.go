//go:build unix

package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spatehq/spate/functions"
)

// scriptConfig is a function whose bootstrap is a shell script.
func scriptConfig(t *testing.T, name, script string) functions.Config {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	fn := testConfig(t, name)
	fn.CodeDir = dir
	return fn
}

// readPid reads the pid a script or the test handler wrote to path.
func readPid(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid file %s: %v", path, err)
	}
	return pid
}

// settled waits until the Manager holds nothing: no instance alive, no
// function state left behind.
func settled(t *testing.T, m *Manager) {
	t.Helper()
	waitFor(t, func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.live == 0 && m.busy == 0 && len(m.fns) == 0
	})
}

func TestNeverAsksForWork(t *testing.T) {
	m, _ := newManager(t, WithInitTimeout(2*time.Second), WithIdleTimeout(time.Hour))
	pidFile := filepath.Join(t.TempDir(), "pid")
	fn := scriptConfig(t, "mute", "echo $$ > "+pidFile+"\nexec sleep 1000\n")
	res := invoke(t, m, fn, map[string]any{})
	if v := decode(t, res.Payload); res.FunctionError != "Unhandled" || v["errorType"] != "Sandbox.Timedout" {
		t.Fatalf("%q %s", res.FunctionError, res.Payload)
	}
	waitGone(t, readPid(t, pidFile))
	settled(t, m)
}

func TestExitsDuringInit(t *testing.T) {
	m, _ := newManager(t)
	fn := scriptConfig(t, "quitter", "echo starting; exit 2\n")
	for range 3 {
		res := invoke(t, m, fn, map[string]any{})
		v := decode(t, res.Payload)
		if res.FunctionError != "Unhandled" || v["errorType"] != "Runtime.ExitError" ||
			!strings.HasSuffix(fmt.Sprint(v["errorMessage"]), "Error: Runtime exited with error: exit status 2") {
			t.Fatalf("%q %s", res.FunctionError, res.Payload)
		}
		if !strings.Contains(string(res.LogTail), "starting\n") {
			t.Fatalf("log tail:\n%s", res.LogTail)
		}
	}
	// Every dead instance is forgotten, however early it died.
	settled(t, m)
}

// A caller that gives up gets its answer at once; the invocation keeps its
// concurrency slot until it ends, as on Lambda.
func TestCallerGivesUp(t *testing.T) {
	m, _ := newManager(t)
	fn := testConfig(t, "abandoned")
	release := filepath.Join(t.TempDir(), "release")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := m.Execute(ctx, fn, functions.Invocation{RequestID: newRequestID(), Payload: []byte(`{"op":"block","wait":"` + release + `"}`)})
		done <- err
	}()
	waitFor(t, func() bool { return busyOf(m, fn.ARN) == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if busyOf(m, fn.ARN) != 1 {
		t.Fatal("the slot was given back while the invocation runs")
	}
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return busyOf(m, fn.ARN) == 0 })
}

// A handler writing far more output than Spate's log takes: the excess is
// dropped and counted, the tail keeps the last 4 KB, long lines are cut.
func TestLogFlood(t *testing.T) {
	m, logs := newManager(t)
	fn := testConfig(t, "chatty")
	// 100 lines of 200 KB: 20 MB, each line cut in 64 KB pieces.
	res := invoke(t, m, fn, map[string]any{"op": "log", "lines": 100, "size": 200 << 10})
	if res.FunctionError != "" {
		t.Fatalf("%s", res.Payload)
	}
	if len(res.LogTail) > tailSize || !strings.Contains(string(res.LogTail), "REPORT RequestId") {
		t.Fatalf("log tail of %d bytes:\n%.300s", len(res.LogTail), res.LogTail)
	}
	waitFor(t, func() bool { return strings.Contains(logs.String(), "function output dropped") })
	if n := len(logs.String()); n > 20<<20 {
		t.Fatalf("Spate's log took %d bytes", n)
	}
	longest := 0
	for _, l := range strings.Split(logs.String(), "\n") {
		longest = max(longest, len(l))
	}
	if longest > maxLine+1024 {
		t.Fatalf("a log line of %d bytes", longest)
	}
}

func TestTimeoutKillsChildren(t *testing.T) {
	m, _ := newManager(t)
	childFile := filepath.Join(t.TempDir(), "child")
	fn := testConfig(t, "spawner")
	fn.Timeout = 300 * time.Millisecond
	// The handler starts a child, writes its pid, and hangs.
	res := invoke(t, m, fn, map[string]any{"op": "forkhang", "wait": childFile})
	if !regexp.MustCompile(`Task timed out after`).Match(res.Payload) {
		t.Fatalf("%s", res.Payload)
	}
	waitGone(t, readPid(t, childFile))
	settled(t, m)
}

// Close during an invocation ends it (the instance is killed) and returns
// once nothing is left running.
func TestCloseDuringInvocation(t *testing.T) {
	m, _ := newManager(t)
	fn := testConfig(t, "busy")
	pidFile := filepath.Join(t.TempDir(), "child")
	done := make(chan functions.Result, 1)
	go func() {
		res, err := invokeErr(m, fn, map[string]any{"op": "forkhang", "wait": pidFile})
		if err != nil {
			t.Errorf("Execute: %v", err)
		}
		done <- res
	}()
	waitFor(t, func() bool { _, err := os.Stat(pidFile); return err == nil })
	child := readPid(t, pidFile)
	if !alive(child) {
		t.Fatalf("child %d not running", child)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	res := <-done
	if v := decode(t, res.Payload); res.FunctionError != "Unhandled" || v["errorType"] != "Runtime.ExitError" {
		t.Fatalf("%q %s", res.FunctionError, res.Payload)
	}
	waitGone(t, child)
	settled(t, m)
}

// Another user's process cannot reach an instance's Runtime API (to take
// its events or answer for it); Spate's user can.
func TestRuntimeAPIRefusesOtherUsers(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("running a process as another user needs root")
	}
	m, _ := newManager(t)
	res := invoke(t, m, testConfig(t, "guarded"), map[string]any{"op": "env"})
	env, _ := decode(t, res.Payload)["env"].(map[string]any)
	addr := fmt.Sprint(env["AWS_LAMBDA_RUNTIME_API"])

	// The probe (the test handler in another mode) must be executable by
	// nobody.
	dir, err := os.MkdirTemp("", "spate-probe-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin, err := os.ReadFile(filepath.Join(handlerDir(t), "bootstrap"))
	if err != nil {
		t.Fatal(err)
	}
	probe := filepath.Join(dir, "probe")
	if err := os.WriteFile(probe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		uid  uint32
		want string
	}{{0, "404 Not Found"}, {65534, "refused"}} {
		cmd := exec.Command(probe)
		cmd.Env = []string{"PROBE=" + addr}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: tc.uid, Gid: tc.uid}}
		out, err := cmd.Output()
		if err != nil || string(out) != tc.want {
			t.Errorf("uid %d: %q %v, want %q", tc.uid, out, err, tc.want)
		}
	}
}
