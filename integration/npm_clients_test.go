package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// nodeClients runs the Node.js scripts of integration/js with the npm
// clients scripts/npm-clients.sh installs into .tools/npm-clients.
type nodeClients struct {
	node    string // the node binary
	scripts string // integration/js
	modules string // .tools/npm-clients/node_modules
}

// findNodeClients returns the Node.js runner, failing the test (never
// skipping it) when node or one of the packages is missing: the tests with
// third-party JavaScript clients are part of `make test`.
func findNodeClients(t *testing.T, packages ...string) nodeClients {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test; skipped with -short")
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("this test needs Node.js: %v\nRun scripts/test-deps.sh (make test does): it installs nodejs and npm from Debian's packages and the npm clients.", err)
	}
	n := nodeClients{node: node, scripts: filepath.Join(root, "integration", "js"), modules: filepath.Join(root, ".tools", "npm-clients", "node_modules")}
	for _, p := range packages {
		if _, err := os.Stat(filepath.Join(n.modules, p, "package.json")); err != nil {
			t.Fatalf("this test needs the npm package %s in %s: %v\nRun scripts/npm-clients.sh (make test does).", p, n.modules, err)
		}
	}
	return n
}

// run runs integration/js/<script> with args and returns its standard
// output, failing the test with its standard error when it fails.
func (n nodeClients) run(ctx context.Context, t *testing.T, script string, args ...string) []byte {
	t.Helper()
	cmd := exec.CommandContext(ctx, n.node, append([]string{filepath.Join(n.scripts, script)}, args...)...)
	// CommonJS require() honours NODE_PATH: the scripts resolve their
	// packages in .tools, not in a node_modules beside them.
	cmd.Env = append(os.Environ(), "NODE_PATH="+n.modules)
	var stderr []byte
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = ee.Stderr
	}
	if err != nil {
		t.Fatalf("node %s %v: %v\n%s", script, args, err, stderr)
	}
	return out
}
