package integration

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestExampleProducer builds examples/producer and runs it against the
// server: `make test` (go test ./...) keeps the example working.
func TestExampleProducer(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "producer")
	build := exec.Command("go", "build", "-o", bin, "./examples/producer")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/producer: %v\n%s", err, out)
	}
	ctx := testCtx(t)
	out, err := exec.CommandContext(ctx, bin, "--grpc-addr", s.GRPCAddr, "--stream", uniqueName(t), "--records", "500", "--keys", "5").CombinedOutput()
	if err != nil {
		t.Fatalf("examples/producer: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "put 500 records") || strings.Count(string(out), "last stored at shardId-") != 5 {
		t.Fatalf("examples/producer printed:\n%s", out)
	}
}
