package integration

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
)

// spateCLI returns a runner of spate's client commands against the gRPC API
// at grpcAddr: it feeds stdin, fails the test when the command fails, and
// returns what it printed.
func spateCLI(ctx context.Context, t *testing.T, grpcAddr string) func(stdin string, args ...string) string {
	return func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, spateBin, append([]string{"--grpc-addr", grpcAddr}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("spate %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		return stdout.String()
	}
}
