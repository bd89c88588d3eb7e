package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchRunsSpateBench: `spate bench` hands every argument to the
// spate-bench it finds on PATH, and says how to build it when there is none.
func TestBenchRunsSpateBench(t *testing.T) {
	for _, tc := range []struct {
		name    string
		script  string // spate-bench on PATH; "" for none
		args    []string
		wantOut string
		wantErr string
	}{
		{"arguments passed through", "#!/bin/sh\necho \"args: $*\"\n", []string{"--quick", "--targets", "pebble-raw"}, "args: --quick --targets pebble-raw", ""},
		{"help is spate-bench's", "#!/bin/sh\necho \"args: $*\"\n", []string{"--help"}, "args: --help", ""},
		{"failure reported", "#!/bin/sh\nexit 3\n", nil, "", "spate-bench exited with status 3"},
		{"missing", "", nil, "", "build it with 'make bench'"},
		{"help without spate-bench", "", []string{"--help"}, "Usage:", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.script != "" {
				if err := os.WriteFile(filepath.Join(dir, benchBinary), []byte(tc.script), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv("PATH", dir)
			root := newRootCmd()
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&bytes.Buffer{})
			root.SetArgs(append([]string{"bench"}, tc.args...))
			err := root.ExecuteContext(t.Context())
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("output %q lacks %q", out.String(), tc.wantOut)
			}
		})
	}
}
