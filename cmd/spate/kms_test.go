package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runKMS(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"kms"}, args...))
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// TestKMSCommands creates keys with spate kms and lists them: the file is
// created with mode 0600, ARNs follow --region and --account-id, and the
// refusals say why.
func TestKMSCommands(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	flags := []string{"--kms-keys", path, "--region", "eu-west-1", "--account-id", "111122223333"}
	out, err := runKMS(t, append([]string{"create-key", "--alias", "alias/orders", "--alias", "alias/b"}, flags...)...)
	if err != nil || !strings.Contains(out, "alias/orders,alias/b") || !strings.Contains(out, "arn:aws:kms:eu-west-1:111122223333:key/") {
		t.Fatalf("create-key: %v\n%s", err, out)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("keyring: %v %v, want mode 0600", fi, err)
	}
	if _, err := runKMS(t, append([]string{"create-key"}, flags...)...); err != nil {
		t.Fatal(err)
	}
	out, err = runKMS(t, append([]string{"list-keys"}, flags...)...)
	if err != nil || strings.Count(out, "Enabled") != 2 || strings.Contains(out, "material") {
		t.Fatalf("list-keys: %v\n%s", err, out)
	}
	for _, tc := range []struct{ alias, want string }{
		{"alias/orders", "already names a key"},
		{"alias/aws/kinesis", "reserved"},
		{"orders", "alias/NAME"},
	} {
		if _, err := runKMS(t, append([]string{"create-key", "--alias", tc.alias}, flags...)...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("create-key --alias %s: %v, want an error with %q", tc.alias, err, tc.want)
		}
	}
}
