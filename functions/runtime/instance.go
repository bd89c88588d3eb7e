package runtime

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/netutil"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/functions"
)

// instance is one running bootstrap process with its Runtime API listener.
type instance struct {
	m        *Manager
	fn       *function
	revision string
	name     string // the function's, for logs
	memory   int    // its memory setting, for REPORT lines
	api      *api
	out      *outputReader
	srv      *http.Server
	cmd      *exec.Cmd
	pid      int
	tmpDir   string
	started  time.Time

	// exited is closed when the process has exited and its group was
	// killed; how says how it ended ("exit status 2", "signal: killed").
	exited chan struct{}
	how    string
	// outputDone is closed when its stdout and stderr are read to the end.
	outputDone chan struct{}

	// procMu orders a kill after the process was reaped: its pid may be
	// reused then, so only the reaping (wait) kills what the group left.
	procMu sync.Mutex
	reaped bool

	// Guarded by m.mu.
	registered  bool        // counted in m.live and fn.all (take did it)
	gone        bool        // forget has run: its process exited
	initialized bool        // it has taken an invocation: the next ones are warm
	retired     bool        // stop it when its invocation ends
	idleTimer   *time.Timer // armed while it is idle
	lastUsed    time.Time
}

// start launches an instance of fn's code for the call c (what it writes
// while it initializes goes to c's log tail). Its errors are the Executor's:
// InvalidRuntime when the bootstrap cannot run, Service otherwise.
func (m *Manager) start(f *function, fn functions.Config, first *call) (*instance, error) {
	codeDir, err := filepath.Abs(fn.CodeDir)
	if err != nil {
		return nil, apierr.New(apierr.Service, "function %s: code directory: %v", fn.Name, err)
	}
	bootstrap := filepath.Join(codeDir, "bootstrap")
	st, err := os.Stat(bootstrap)
	switch {
	case err != nil:
		return nil, apierr.New(apierr.InvalidRuntime,
			"function %s: the code has no bootstrap at its root: a %s function's zip needs an executable named bootstrap", fn.Name, fn.Runtime)
	case !st.Mode().IsRegular() || st.Mode().Perm()&0o111 == 0:
		return nil, apierr.New(apierr.InvalidRuntime,
			"function %s: bootstrap is not an executable file (zip it with its execute permission)", fn.Name)
	}
	if err := os.MkdirAll(m.cfg.workDir, 0o700); err != nil {
		return nil, apierr.New(apierr.Service, "function %s: work directory: %v", fn.Name, err)
	}
	tmpDir, err := os.MkdirTemp(m.cfg.workDir, "instance-")
	if err != nil {
		return nil, apierr.New(apierr.Service, "function %s: scratch directory: %v", fn.Name, err)
	}
	// Each instance listens on a port of its own: AWS_LAMBDA_RUNTIME_API
	// is host:port with no room for a path that would tell instances
	// apart, and a listener per instance also ends with the instance.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = os.RemoveAll(tmpDir)
		return nil, apierr.New(apierr.Service, "function %s: runtime API listener: %v", fn.Name, err)
	}
	in := &instance{
		m:          m,
		fn:         f,
		revision:   fn.RevisionID,
		name:       fn.Name,
		memory:     fn.MemorySize,
		api:        newAPI(),
		tmpDir:     tmpDir,
		exited:     make(chan struct{}),
		outputDone: make(chan struct{}),
	}
	in.api.last = first
	in.srv = &http.Server{
		Handler:           in.api.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.cfg.logger.Handler(), slog.LevelDebug),
	}
	ln = netutil.LimitListener(ownerListener{ln, m.cfg.logger, fn.Name}, maxConns)

	pr, pw, err := os.Pipe()
	if err != nil {
		_ = ln.Close()
		_ = os.RemoveAll(tmpDir)
		return nil, apierr.New(apierr.Service, "function %s: output pipe: %v", fn.Name, err)
	}
	out, err := newOutputReader(&output{logger: m.cfg.logger, function: fn.Name, current: in.api.current}, pr)
	if err != nil {
		_, _, _ = pr.Close(), pw.Close(), ln.Close()
		_ = os.RemoveAll(tmpDir)
		return nil, apierr.New(apierr.Service, "function %s: output pipe: %v", fn.Name, err)
	}
	in.out = out
	cmd := exec.Command(bootstrap)
	cmd.Dir = codeDir
	cmd.Env = m.environ(fn, codeDir, tmpDir, ln.Addr().String())
	cmd.Stdout, cmd.Stderr = pw, pw // one pipe: stdout and stderr lines keep their order
	cmd.SysProcAttr = sysProcAttr()
	in.started = time.Now()
	if err := cmd.Start(); err != nil {
		_ = pr.Close()
		_ = pw.Close()
		_ = ln.Close()
		_ = os.RemoveAll(tmpDir)
		return nil, apierr.New(apierr.InvalidRuntime, "function %s: bootstrap cannot start: %v", fn.Name, err)
	}
	_ = pw.Close() // the process holds the write end now
	in.cmd, in.pid = cmd, cmd.Process.Pid

	m.wg.Add(3)
	go func() {
		defer m.wg.Done()
		_ = in.srv.Serve(ln)
	}()
	go func() {
		defer m.wg.Done()
		defer close(in.outputDone)
		out.run()
		_ = pr.Close()
	}()
	go func() {
		defer m.wg.Done()
		in.wait(pr)
	}()
	m.cfg.logger.Debug("function instance started", "function", fn.Name, "pid", in.pid, "runtime_api", ln.Addr().String())
	return in, nil
}

// wait reaps the process, kills what it left in its group, and tears the
// instance down.
func (in *instance) wait(pr *os.File) {
	err := in.cmd.Wait()
	in.procMu.Lock()
	in.reaped = true
	killGroup(in.pid) // its children, if any: they keep the group id alive
	in.procMu.Unlock()
	var ee *exec.ExitError
	switch {
	case err == nil:
		in.how = "exit status 0"
	case errors.As(err, &ee):
		in.how = ee.ProcessState.String()
	default:
		in.how = err.Error()
	}
	in.api.close()
	close(in.exited)
	_ = in.srv.Close()
	// A child that left the process group may still hold the pipe open:
	// do not wait for it for ever.
	select {
	case <-in.outputDone:
	case <-time.After(2 * time.Second):
		_ = pr.Close()
	}
	_ = os.RemoveAll(in.tmpDir)
	in.m.forget(in)
}

// stop kills the instance; wait finishes the teardown.
func (in *instance) stop() {
	in.procMu.Lock()
	defer in.procMu.Unlock()
	if !in.reaped {
		killGroup(in.pid)
	}
}

// environ is the process's whole environment: the function's variables and,
// over them, Lambda's reserved ones
// (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
// Nothing of Spate's own environment leaks in.
func (m *Manager) environ(fn functions.Config, codeDir, tmpDir, apiAddr string) []string {
	env := maps.Clone(fn.Environment)
	if env == nil {
		env = map[string]string{}
	}
	if _, ok := env["TMPDIR"]; !ok {
		env["TMPDIR"] = tmpDir // Lambda's /tmp: per instance, removed with it
	}
	region := regionOf(fn.ARN, m.cfg.region)
	version := fn.Version
	if version == "" {
		version = functions.LatestVersion
	}
	reserved := map[string]string{
		"_HANDLER":                        fn.Handler,
		"AWS_LAMBDA_FUNCTION_NAME":        fn.Name,
		"AWS_LAMBDA_FUNCTION_VERSION":     version,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(fn.MemorySize),
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + fn.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      time.Now().UTC().Format("2006/01/02") + "/[" + version + "]" + randomHex(16),
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_REGION":                      region,
		"AWS_DEFAULT_REGION":              region,
		"LAMBDA_TASK_ROOT":                codeDir,
		"LAMBDA_RUNTIME_DIR":              codeDir,
		"AWS_LAMBDA_RUNTIME_API":          apiAddr,
		"TZ":                              ":UTC",
		"LANG":                            "en_US.UTF-8",
		"PATH":                            "/usr/local/bin:/usr/bin:/bin:/opt/bin",
		"LD_LIBRARY_PATH":                 codeDir + "/lib:/lib64:/usr/lib64:/usr/local/lib:/usr/lib:/lib",
	}
	// AWS_EXECUTION_ENV is left out on purpose: Lambda does not set it for
	// the OS-only (provided.*) runtimes.
	endpoint := m.cfg.endpointURL
	if m.cfg.endpointFunc != nil {
		endpoint = m.cfg.endpointFunc()
	}
	if endpoint != "" {
		reserved["AWS_ENDPOINT_URL"] = endpoint
	}
	if c := m.cfg.credentials; c.accessKeyID != "" {
		reserved["AWS_ACCESS_KEY_ID"] = c.accessKeyID
		reserved["AWS_SECRET_ACCESS_KEY"] = c.secretAccessKey
		if c.sessionToken != "" {
			reserved["AWS_SESSION_TOKEN"] = c.sessionToken
		}
	}
	maps.Copy(env, reserved)
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// regionOf is the region in a function ARN (arn:aws:lambda:REGION:...), or
// def.
func regionOf(arn, def string) string {
	parts := strings.SplitN(arn, ":", 5)
	if len(parts) == 5 && parts[3] != "" {
		return parts[3]
	}
	return def
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ownerListener drops connections from processes of other users (see
// sameUser): the Runtime API has no credentials of its own, as on Lambda
// where nothing else shares the sandbox.
type ownerListener struct {
	net.Listener
	logger   *slog.Logger
	function string
}

func (l ownerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || sameUser(c) {
			return c, err
		}
		l.logger.Warn("runtime API: refused a connection from another user's process",
			"function", l.function, "peer", c.RemoteAddr().String())
		_ = c.Close()
	}
}
