//go:build unix

package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/functions"
)

func TestExecuteSuccess(t *testing.T) {
	m, logs := newManager(t)
	fn := testConfig(t, "ok")
	res := invoke(t, m, fn, map[string]any{"op": "echo", "msg": "hi"})
	if res.FunctionError != "" {
		t.Fatalf("FunctionError %q: %s", res.FunctionError, res.Payload)
	}
	if v := decode(t, res.Payload); v["msg"] != "hi" {
		t.Fatalf("payload %s", res.Payload)
	}
	if res.ExecutedVersion != functions.LatestVersion {
		t.Fatalf("ExecutedVersion %q", res.ExecutedVersion)
	}
	tail := string(res.LogTail)
	for _, re := range []string{
		// The handler's line is in the tail, between START and END.
		`(?s)START RequestId: [0-9a-f-]{36} Version: \$LATEST\n.*handling echo\n.*END RequestId`,
		`(?m)^START RequestId: [0-9a-f-]{36} Version: \$LATEST$`,
		`(?m)^END RequestId: [0-9a-f-]{36}$`,
		`(?m)^REPORT RequestId: [0-9a-f-]{36}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms\t$`,
	} {
		if !regexp.MustCompile(re).MatchString(tail) {
			t.Errorf("log tail lacks %s:\n%s", re, tail)
		}
	}
	// The handler's own output reaches Spate's log with the function's
	// name (the request id once it runs).
	waitFor(t, func() bool { return strings.Contains(logs.String(), "handling echo") })
	if !strings.Contains(logs.String(), "function=ok") {
		t.Fatalf("log lacks the function name:\n%s", logs)
	}
}

// waitFor polls cond (for what happens on another goroutine, such as a log
// line read from a pipe) with a generous bound.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestExecuteFunctionErrors(t *testing.T) {
	m, _ := newManager(t)
	for _, tc := range []struct {
		name      string
		event     map[string]any
		errorType string
		message   *regexp.Regexp
	}{
		// aws-lambda-go names the Go type of the returned error.
		{"returned error", map[string]any{"op": "error", "msg": "r7"}, "PoisonError", regexp.MustCompile(`^poison record r7$`)},
		// A panic is reported with the panic value's type, then the
		// process exits.
		{"panic", map[string]any{"op": "panic"}, "string", regexp.MustCompile(`^boom$`)},
		// Lambda's answer for a runtime that dies mid-invocation.
		{"exit", map[string]any{"op": "exit"}, "Runtime.ExitError",
			regexp.MustCompile(`^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: exit status 3$`)},
		{"unknown op", map[string]any{"op": "nope"}, "errorString", regexp.MustCompile(`^unknown op nope$`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := invoke(t, m, testConfig(t, "errs"), tc.event)
			if res.FunctionError != "Unhandled" {
				t.Fatalf("FunctionError %q: %s", res.FunctionError, res.Payload)
			}
			v := decode(t, res.Payload)
			if v["errorType"] != tc.errorType || !tc.message.MatchString(fmt.Sprint(v["errorMessage"])) {
				t.Fatalf("payload %s", res.Payload)
			}
			// The function still works afterwards (on a new instance
			// when the old one died).
			if res := invoke(t, m, testConfig(t, "errs"), map[string]any{"op": "echo"}); res.FunctionError != "" {
				t.Fatalf("next invocation: %s", res.Payload)
			}
		})
	}
}

func TestExecuteTimeout(t *testing.T) {
	m, _ := newManager(t)
	fn := testConfig(t, "slow")
	fn.Timeout = 300 * time.Millisecond
	first := invoke(t, m, fn, map[string]any{"op": "echo"})
	pid := pidOf(t, first)

	res, err := m.Execute(t.Context(), fn, functions.Invocation{RequestID: "11111111-2222-3333-4444-555555555555",
		Payload: []byte(`{"op":"sleep"}`), LogTail: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.FunctionError != "Unhandled" {
		t.Fatalf("FunctionError %q: %s", res.FunctionError, res.Payload)
	}
	// Lambda's payload exactly: a message and no errorType.
	re := regexp.MustCompile(`^\{"errorMessage":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 11111111-2222-3333-4444-555555555555 Task timed out after \d+\.\d\d seconds"\}$`)
	if !re.Match(res.Payload) {
		t.Fatalf("payload %s", res.Payload)
	}
	if !strings.Contains(string(res.LogTail), "Task timed out after") {
		t.Fatalf("log tail:\n%s", res.LogTail)
	}
	// The instance was killed, and the next invocation gets a new one.
	waitGone(t, pid)
	if next := pidOf(t, invoke(t, m, fn, map[string]any{"op": "echo"})); next == pid {
		t.Fatal("the timed-out instance served again")
	}
}

func TestWarmReuseAndRevisions(t *testing.T) {
	m, _ := newManager(t)
	fn := testConfig(t, "warm")
	a := pidOf(t, invoke(t, m, fn, map[string]any{"op": "echo"}))
	b := invoke(t, m, fn, map[string]any{"op": "echo"})
	if pidOf(t, b) != a {
		t.Fatalf("second invocation ran in pid %d, not the warm %d", pidOf(t, b), a)
	}
	// A warm invocation has no Init Duration.
	if strings.Contains(string(b.LogTail), "Init Duration") {
		t.Fatalf("warm invocation reports an init:\n%s", b.LogTail)
	}
	fn.RevisionID = "rev-2"
	c := pidOf(t, invoke(t, m, fn, map[string]any{"op": "echo"}))
	if c == a {
		t.Fatal("a new revision ran on the old instance")
	}
	waitGone(t, a)
}

func TestEnvironment(t *testing.T) {
	m, _ := newManager(t, WithEndpoint("http://127.0.0.1:4567"), WithCredentials("AKID", "SECRET", "TOKEN"))
	fn := testConfig(t, "envfn")
	before := time.Now()
	res, err := m.Execute(t.Context(), fn, functions.Invocation{
		RequestID:     "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
		Payload:       []byte(`{"op":"env"}`),
		ClientContext: "eyJjdXN0b20iOnsiayI6InYifX0=", // {"custom":{"k":"v"}}
	})
	if err != nil || res.FunctionError != "" {
		t.Fatalf("Execute: %v %s", err, res.Payload)
	}
	v := decode(t, res.Payload)
	for k, want := range map[string]any{
		"functionName": "envfn",
		"memory":       float64(256),
		"version":      "$LATEST",
		"logGroup":     "/aws/lambda/envfn",
		"requestId":    "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
		"arn":          fn.ARN,
		"wd":           handlerDir(t),
	} {
		if v[k] != want {
			t.Errorf("%s = %v, want %v", k, v[k], want)
		}
	}
	if cc, _ := v["clientCustom"].(map[string]any); cc["k"] != "v" {
		t.Errorf("client context %v", v["clientCustom"])
	}
	deadline := time.UnixMilli(int64(v["deadlineMs"].(float64)))
	if deadline.Before(before.Add(fn.Timeout-time.Second)) || deadline.After(time.Now().Add(fn.Timeout)) {
		t.Errorf("deadline %v is not the timeout (%v) after the invocation", deadline, fn.Timeout)
	}
	env, _ := v["env"].(map[string]any)
	for k, want := range map[string]string{
		"GREETING":                        "hello",
		"_HANDLER":                        "bootstrap",
		"AWS_LAMBDA_FUNCTION_NAME":        "envfn",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_REGION":                      "eu-west-1",
		"AWS_DEFAULT_REGION":              "eu-west-1",
		"LAMBDA_TASK_ROOT":                handlerDir(t),
		"TZ":                              ":UTC",
		"AWS_ENDPOINT_URL":                "http://127.0.0.1:4567",
		"AWS_ACCESS_KEY_ID":               "AKID",
		"AWS_SECRET_ACCESS_KEY":           "SECRET",
		"AWS_SESSION_TOKEN":               "TOKEN",
	} {
		if env[k] != want {
			t.Errorf("env %s = %v, want %q", k, env[k], want)
		}
	}
	// WithEndpointFunc is asked as each instance starts.
	var later atomic.Value
	later.Store("")
	m2, _ := newManager(t, WithEndpointFunc(func() string { return later.Load().(string) }))
	later.Store("http://127.0.0.1:9999")
	res2 := invoke(t, m2, fn, map[string]any{"op": "env"})
	if env2, _ := decode(t, res2.Payload)["env"].(map[string]any); env2["AWS_ENDPOINT_URL"] != "http://127.0.0.1:9999" {
		t.Errorf("WithEndpointFunc: AWS_ENDPOINT_URL %v", env2["AWS_ENDPOINT_URL"])
	}
	if !regexp.MustCompile(`^127\.0\.0\.1:\d+$`).MatchString(fmt.Sprint(env["AWS_LAMBDA_RUNTIME_API"])) {
		t.Errorf("AWS_LAMBDA_RUNTIME_API %v", env["AWS_LAMBDA_RUNTIME_API"])
	}
	if !regexp.MustCompile(`^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$`).MatchString(fmt.Sprint(env["AWS_LAMBDA_LOG_STREAM_NAME"])) {
		t.Errorf("AWS_LAMBDA_LOG_STREAM_NAME %v", env["AWS_LAMBDA_LOG_STREAM_NAME"])
	}
	// Spate's own environment does not leak in.
	if _, ok := env["HOME"]; ok {
		t.Errorf("HOME leaked into the function's environment")
	}
}

func TestConcurrencyLimit(t *testing.T) {
	m, _ := newManager(t, WithAccountConcurrency(3))
	release := filepath.Join(t.TempDir(), "release")
	fn := testConfig(t, "limited")
	fn.MaxConcurrency = 1

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if res, err := invokeErr(m, fn, map[string]any{"op": "block", "wait": release}); err != nil || res.FunctionError != "" {
			t.Errorf("blocked invocation: %v %s", err, res.Payload)
		}
	}()
	// Once the first invocation holds the only slot, a second is throttled
	// with the function's reason.
	waitFor(t, func() bool { return busyOf(m, fn.ARN) == 1 })
	var terr *ThrottleError
	if _, err := invokeErr(m, fn, map[string]any{"op": "echo"}); !errors.As(err, &terr) ||
		terr.Reason != ReasonReserved || apierr.CodeOf(err) != apierr.TooManyRequests {
		t.Fatalf("over the function's limit: %v", err)
	}
	// Other functions hit the account's limit (3) once it is used up.
	other := testConfig(t, "other")
	other.MaxConcurrency = 10
	var owg sync.WaitGroup
	for i := range 2 {
		owg.Add(1)
		go func() {
			defer owg.Done()
			if _, err := invokeErr(m, other, map[string]any{"op": "block", "wait": release}); err != nil {
				t.Errorf("other: %v", err)
			}
		}()
		waitFor(t, func() bool { return busyOf(m, other.ARN) == i+1 })
	}
	if _, err := invokeErr(m, other, map[string]any{"op": "echo"}); !errors.As(err, &terr) || terr.Reason != ReasonAccount {
		t.Fatalf("over the account limit: %v", err)
	}
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	owg.Wait()
	if res := invoke(t, m, fn, map[string]any{"op": "echo"}); res.FunctionError != "" {
		t.Fatalf("after release: %s", res.Payload)
	}

	// Reserved concurrency 0 throttles every invocation.
	fn.MaxConcurrency = 0
	if _, err := invokeErr(m, fn, map[string]any{"op": "echo"}); !errors.As(err, &terr) || terr.Reason != ReasonReserved {
		t.Fatalf("reserved 0: %v", err)
	}
}

// The Reason of a throttle: the function's own limit, or the shared pool's.
func TestThrottleReason(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		opts                   []Option
		maxConcurrency, others int // others: invocations of other functions running
		want                   string
	}{
		{"reserved", nil, 1, 0, ReasonReserved},
		{"reserved zero", nil, 0, 0, ReasonReserved},
		{"unreserved", []Option{WithUnreservedConcurrency(1)}, 1, 0, ReasonAccount},
		{"reserved beside unreserved", []Option{WithUnreservedConcurrency(5)}, 1, 0, ReasonReserved},
		{"at the account limit", []Option{WithAccountConcurrency(1)}, 1, 0, ReasonAccount},
		{"account used up", []Option{WithAccountConcurrency(2)}, 5, 1, ReasonAccount},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New(tc.opts...)
			fn := testConfig(t, "f")
			fn.MaxConcurrency = tc.maxConcurrency
			var held []*function
			for i := range tc.others {
				other := testConfig(t, fmt.Sprint("other", i))
				f, err := m.acquire(other)
				if err != nil {
					t.Fatal(err)
				}
				held = append(held, f)
			}
			if tc.maxConcurrency > 0 {
				f, err := m.acquire(fn)
				if err != nil {
					t.Fatal(err)
				}
				held = append(held, f)
			}
			var terr *ThrottleError
			if _, err := m.acquire(fn); !errors.As(err, &terr) || terr.Reason != tc.want {
				t.Fatalf("err %v, want %s", err, tc.want)
			}
			for _, f := range held {
				m.release(f)
				m.wg.Done()
			}
		})
	}
}

func TestRetire(t *testing.T) {
	m, _ := newManager(t)
	fn := testConfig(t, "retired")

	// One instance busy until release exists, another idle.
	release := filepath.Join(t.TempDir(), "release")
	done := make(chan int, 1)
	go func() {
		res, err := invokeErr(m, fn, map[string]any{"op": "block", "wait": release})
		if err != nil || res.FunctionError != "" {
			t.Errorf("busy invocation: %v %s", err, res.Payload)
			done <- 0
			return
		}
		done <- pidOf(t, res)
	}()
	waitFor(t, func() bool { return busyOf(m, fn.ARN) == 1 })
	idle := pidOf(t, invoke(t, m, fn, map[string]any{"op": "echo"}))

	m.Retire(fn.ARN)
	waitGone(t, idle)
	// The busy one finishes its invocation, then stops.
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	busy := <-done
	if busy == 0 {
		return
	}
	if busy == idle {
		t.Fatal("the two invocations shared an instance")
	}
	waitGone(t, busy)
}

// busyOf is how many invocations of the function run now.
func busyOf(m *Manager, arn string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f := m.fns[arn]; f != nil {
		return f.busy
	}
	return 0
}

func TestIdleExpiry(t *testing.T) {
	m, _ := newManager(t, WithIdleTimeout(50*time.Millisecond))
	pid := pidOf(t, invoke(t, m, testConfig(t, "idle"), map[string]any{"op": "echo"}))
	waitGone(t, pid)
}

func TestCloseLeavesNoProcess(t *testing.T) {
	m, _ := newManager(t)
	res := invoke(t, m, testConfig(t, "forker"), map[string]any{"op": "fork"})
	v := decode(t, res.Payload)
	pid, child := int(v["pid"].(float64)), int(v["child"].(float64))
	if !alive(pid) || !alive(child) {
		t.Fatal("the instance or its child is not running before Close")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	// Close returns when the instance has exited; its child was killed
	// with its process group.
	if alive(pid) {
		t.Fatalf("instance %d survives Close", pid)
	}
	waitGone(t, child)
	if _, err := invokeErr(m, testConfig(t, "forker"), map[string]any{"op": "echo"}); apierr.CodeOf(err) != apierr.Service {
		t.Fatalf("Execute after Close: %v", err)
	}
}

func TestInvalidRuntime(t *testing.T) {
	m, _ := newManager(t)
	noExec := t.TempDir()
	if err := os.WriteFile(filepath.Join(noExec, "bootstrap"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	notBinary := t.TempDir()
	if err := os.WriteFile(filepath.Join(notBinary, "bootstrap"), []byte("garbage"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*functions.Config){
		"no bootstrap":        func(c *functions.Config) { c.CodeDir = t.TempDir() },
		"not executable":      func(c *functions.Config) { c.CodeDir = noExec },
		"not a program":       func(c *functions.Config) { c.CodeDir = notBinary },
		"unsupported runtime": func(c *functions.Config) { c.Runtime = "python3.13" },
	} {
		t.Run(name, func(t *testing.T) {
			fn := testConfig(t, "bad")
			mod(&fn)
			if _, err := invokeErr(m, fn, map[string]any{"op": "echo"}); apierr.CodeOf(err) != apierr.InvalidRuntime {
				t.Fatalf("err %v, want InvalidRuntime", err)
			}
		})
	}
}

func TestInitError(t *testing.T) {
	m, _ := newManager(t)
	fn := testConfig(t, "initfail")
	fn.Environment = map[string]string{"INIT_ERROR": "no config"}
	res := invoke(t, m, fn, map[string]any{"op": "echo"})
	if res.FunctionError != "Unhandled" {
		t.Fatalf("FunctionError %q", res.FunctionError)
	}
	if v := decode(t, res.Payload); v["errorMessage"] != "no config" || v["errorType"] != "InitFailed" {
		t.Fatalf("payload %s", res.Payload)
	}
}

func TestResponseTooLarge(t *testing.T) {
	m, _ := newManager(t)
	res := invoke(t, m, testConfig(t, "big"), map[string]any{"op": "big", "size": 7 << 20})
	if v := decode(t, res.Payload); res.FunctionError != "Unhandled" || v["errorType"] != "Function.ResponseSizeTooLarge" {
		t.Fatalf("%q %.200s", res.FunctionError, res.Payload)
	}
	// Just under the limit passes (the JSON string's quotes count).
	res = invoke(t, m, testConfig(t, "big"), map[string]any{"op": "big", "size": 6 << 20})
	if res.FunctionError != "" || len(res.Payload) != 6<<20+2 {
		t.Fatalf("%q %d bytes", res.FunctionError, len(res.Payload))
	}
}
