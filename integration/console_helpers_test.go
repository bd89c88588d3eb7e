package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// consoleBrowser runs the web console's end-to-end specs
// (integration/browser/*.spec.js) in Debian's chromium through
// playwright-core, which scripts/npm-clients.sh installs.
type consoleBrowser struct {
	node     string
	chromium string
	runner   string // integration/browser/run.js
	dir      string // integration/browser
	modules  string // .tools/npm-clients/node_modules
}

// findConsoleBrowser fails the test (never skips it) when node, chromium
// or playwright-core is missing: the console's tests are part of make test.
func findConsoleBrowser(t *testing.T) consoleBrowser {
	t.Helper()
	n := findNodeClients(t, "playwright-core")
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("the web console's tests need Debian's chromium: %v\nRun scripts/test-deps.sh (make test does).", err)
	}
	dir := filepath.Join(filepath.Dir(n.scripts), "browser")
	return consoleBrowser{node: n.node, chromium: chromium, runner: filepath.Join(dir, "run.js"), dir: dir, modules: n.modules}
}

// run runs spec (a file of integration/browser) against s with the extra
// environment env ("NAME=value") and returns the JSON lines the spec
// logged, failing the test with the runner's output when the spec fails.
// With SPATE_SCREENSHOTS set (make console-screenshots), the spec's
// screenshots are written there.
func (b consoleBrowser) run(t *testing.T, s *server, spec string, env ...string) []map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.node, b.runner, filepath.Join(b.dir, spec))
	cmd.Env = append(os.Environ(), "NODE_PATH="+b.modules, "SPATE_URL="+s.Endpoint(), "CHROMIUM="+b.chromium)
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("browser spec %s: %v\n%s\nstdout:\n%s", spec, err, stderr.String(), stdout.String())
	}
	var lines []map[string]any
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("browser spec %s printed a line that is not JSON: %q", spec, sc.Text())
		}
		lines = append(lines, m)
	}
	return lines
}
