package integration

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestConsoleShell: the console the binary serves loads in chromium with
// no request outside the server, and every area is reachable from the
// navigation, by mouse and by keyboard.
func TestConsoleShell(t *testing.T) {
	b := findConsoleBrowser(t)
	s := startServer(t)
	b.run(t, s, "shell.spec.js")
}

// TestConsoleSignIn: with --credentials the console signs in with a
// profile's keys, refuses a wrong secret with the server's error, and never
// puts the secret in a URL.
func TestConsoleSignIn(t *testing.T) {
	b := findConsoleBrowser(t)
	s := startAuthServer(t)
	b.run(t, s.server, "signin.spec.js", "SPEC_KEY_ID=AKIDADMIN", "SPEC_SECRET=admin-secret")
}

// TestConsoleFirefox: the console works in Debian's Firefox too (the
// issue asks for current Chromium and Firefox): every area renders, the
// stream the test made is listed, its page draws the shard table and a
// uPlot chart, the SQL page mounts CodeMirror, and nothing throws. Driven
// over WebDriver BiDi by integration/browser/firefox.js, since
// playwright-core drives only its own Firefox build.
func TestConsoleFirefox(t *testing.T) {
	n := findNodeClients(t)
	firefox, err := exec.LookPath("firefox-esr")
	if err != nil {
		t.Fatalf("this test needs Debian's firefox-esr: %v\nRun scripts/test-deps.sh (make test does).", err)
	}
	s := startServer(t)
	ctx := testCtx(t)
	k := &kin{srv: s, c: s.Kinesis(t)}
	k.create(ctx, t, "firefox-orders", 2)
	k.put(ctx, t, "firefox-orders", "k", []byte(`{"n":1}`))
	cmd := exec.CommandContext(ctx, n.node, "--experimental-websocket", filepath.Join(filepath.Dir(n.scripts), "browser", "firefox.js"))
	cmd.Env = append(os.Environ(), "SPATE_URL="+s.Endpoint(), "FIREFOX="+firefox, "SPEC_STREAM=firefox-orders")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("firefox.js: %v\n%s", err, stderr.String())
	}
	if strings.TrimSpace(string(out)) != `{"firefox":"ok"}` {
		t.Fatalf("firefox.js printed %q, want its ok line", out)
	}
}
