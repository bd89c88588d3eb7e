// Package s3test gives tests a real S3-compatible server.
//
// Server returns the server named by the SPATE_TEST_S3_* environment
// variables when they are set (scripts/s3-server.sh env prints them; any
// S3-compatible server, MinIO included, will do). Otherwise it starts
// versitygw from the repository's .tools/bin (installing it with
// scripts/s3-server.sh if missing) on a free loopback port, once per test
// process, and every test in the package shares it. Tests must use only the
// S3 API, never the server's files.
//
// A package that calls Server should stop the server after its tests:
//
//	func TestMain(m *testing.M) { os.Exit(s3test.Main(m)) }
//
// Without that the server still dies with the test process (on Linux), but
// its data directory stays in the temporary directory until the next run
// that starts a server removes it.
package s3test

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spatehq/spate/firehose/s3store"
)

// The environment variables Server reads.
const (
	EnvEndpoint  = "SPATE_TEST_S3_ENDPOINT"
	EnvAccessKey = "SPATE_TEST_S3_ACCESS_KEY"
	EnvSecretKey = "SPATE_TEST_S3_SECRET_KEY"
	EnvRegion    = "SPATE_TEST_S3_REGION"
	// EnvVersitygw, if set, is the versitygw binary to run instead of
	// .tools/bin/versitygw.
	EnvVersitygw = "SPATE_TEST_VERSITYGW"
)

const (
	dirPattern    = "spate-s3test-*"
	ownerFile     = "owner.pid"
	healthPath    = "/healthz"
	healthTimeout = 30 * time.Second
)

// shared is the server this test process started. It is the package's only
// state: one server per test process, stopped by Main.
var shared struct {
	once sync.Once
	srv  *server
	err  error
}

// Server returns the configuration of a running S3-compatible server,
// starting one on first use if the environment names none. It fails the
// test if no server can be had.
func Server(t testing.TB) s3store.Config {
	t.Helper()
	if cfg, ok := fromEnv(); ok {
		return cfg
	}
	shared.once.Do(func() { shared.srv, shared.err = start() })
	if shared.err != nil {
		t.Fatalf("s3test: %v", shared.err)
	}
	return shared.srv.cfg
}

// Main runs the tests, then stops the server Server started (if it did) and
// deletes its data. It returns m.Run's exit code.
func Main(m *testing.M) int {
	code := m.Run()
	if shared.srv != nil {
		shared.srv.stop()
	}
	return code
}

// Bucket creates a new, empty bucket on the server cfg names and returns its
// name, derived from the test's name plus a random suffix so that tests
// sharing a server never collide.
func Bucket(t testing.TB, cfg s3store.Config) string {
	t.Helper()
	name := bucketName(t.Name())
	c, err := s3store.New(cfg)
	if err != nil {
		t.Fatalf("s3test: %v", err)
	}
	if err := c.EnsureBucket(t.Context(), name); err != nil {
		t.Fatalf("s3test: %v", err)
	}
	return name
}

// bucketName turns a test name into a valid, unique bucket name.
func bucketName(test string) string {
	var b strings.Builder
	b.WriteString("t-")
	dash := true
	for _, r := range strings.ToLower(test) {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 44 {
			break
		}
	}
	name := strings.TrimRight(b.String(), "-")
	return name + "-" + randomHex(4)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

func fromEnv() (s3store.Config, bool) {
	endpoint := os.Getenv(EnvEndpoint)
	if endpoint == "" {
		return s3store.Config{}, false
	}
	return s3store.Config{
		Endpoint:  endpoint,
		AccessKey: os.Getenv(EnvAccessKey),
		SecretKey: os.Getenv(EnvSecretKey),
		Region:    os.Getenv(EnvRegion),
	}, true
}

// server is a versitygw process this test process started.
type server struct {
	cfg    s3store.Config
	dir    string // holds owner.pid, data/, versitygw.log
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
}

func start() (*server, error) {
	bin, err := versitygw()
	if err != nil {
		return nil, err
	}
	removeOrphans()
	dir, err := os.MkdirTemp("", dirPattern)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(dir)
		}
	}()
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		return nil, err
	}
	access, secret := "spate-test", randomHex(16)
	// A port free now may be taken before versitygw binds it: try again.
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		srv := &server{
			dir: dir,
			cfg: s3store.Config{
				Endpoint:  "http://127.0.0.1:" + strconv.Itoa(port),
				AccessKey: access,
				SecretKey: secret,
				Region:    s3store.DefaultRegion,
			},
		}
		lastErr = srv.run(bin, port, data)
		if lastErr == nil {
			ok = true
			return srv, nil
		}
		if !strings.Contains(lastErr.Error(), "address already in use") {
			return nil, lastErr
		}
	}
	return nil, lastErr
}

// run starts versitygw on port and waits until it is healthy.
func (s *server) run(bin string, port int, data string) error {
	logPath := filepath.Join(s.dir, "versitygw.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close() // the child has its own descriptor
	cmd := exec.Command(bin, "--port", "127.0.0.1:"+strconv.Itoa(port), "--health", healthPath, "--quiet",
		"posix", data)
	cmd.Env = append(os.Environ(),
		"ROOT_ACCESS_KEY="+s.cfg.AccessKey,
		"ROOT_SECRET_KEY="+s.cfg.SecretKey,
		"VGW_REGION="+s.cfg.Region)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = dieWithParent()
	s.cmd, s.exited = cmd, make(chan struct{})

	// The child gets SIGKILL when the thread that started it ends (see
	// dieWithParent), so start and wait for it on a thread of its own that
	// lives exactly as long as the child.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(s.exited)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(healthTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("versitygw exited before it was healthy: %s", strings.TrimSpace(string(log)))
		default:
		}
		resp, err := client.Get(s.cfg.Endpoint + healthPath)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.kill()
	log, _ := os.ReadFile(logPath)
	return fmt.Errorf("versitygw not healthy after %v: %s", healthTimeout, strings.TrimSpace(string(log)))
}

// stop ends the server and deletes its directory.
func (s *server) stop() {
	s.kill()
	os.RemoveAll(s.dir)
}

func (s *server) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// versitygw returns the binary to run, installing it if needed.
func versitygw() (string, error) {
	if bin := os.Getenv(EnvVersitygw); bin != "" {
		return bin, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, ".tools", "bin", "versitygw")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	script := filepath.Join(root, "scripts", "s3-server.sh")
	out, err := exec.Command(script, "install").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("install versitygw with %s: %w\n%s", script, err, out)
	}
	return bin, nil
}

// repoRoot finds the directory holding Spate's go.mod above the working
// directory (a test runs in its package's directory).
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(mod), "module github.com/spatehq/spate\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no github.com/spatehq/spate go.mod above the working directory; set " +
				EnvEndpoint + " (see scripts/s3-server.sh) or " + EnvVersitygw)
		}
		dir = parent
	}
}

// freePort returns a loopback TCP port nothing listens on right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// removeOrphans deletes the directories of servers whose test process is
// gone (it was killed, or its package has no TestMain calling Main).
func removeOrphans() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPattern))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // being created, or not ours
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(dir)
		}
	}
}
