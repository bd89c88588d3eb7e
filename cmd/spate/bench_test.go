package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBenchFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown target", []string{"--targets", "kafka"}, `unknown target "kafka"`},
		{"batch too large", []string{"--batches", "501"}, "batch 1 to 500"},
		{"record too small", []string{"--sizes", "4"}, "record size >= 8"},
		{"no rounds", []string{"--rounds", "0"}, "--rounds 0"},
		{"bad number", []string{"--shards", "x"}, `invalid argument "x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := newRootCmd()
			root.SetArgs(append([]string{"bench"}, tc.args...))
			root.SetOut(&bytes.Buffer{})
			root.SetErr(&bytes.Buffer{})
			err := root.ExecuteContext(t.Context())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestBenchRun runs the smallest real bench, pebble-raw alone, and checks
// the table and the JSON line it writes (not the figures).
func TestBenchRun(t *testing.T) {
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "out.jsonl")
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&bytes.Buffer{})
	root.SetArgs([]string{"bench", "--targets", "pebble-raw,nats", "--sizes", "100", "--batches", "10", "--shards", "2",
		"--producers", "1", "--rounds", "1", "--duration", "50ms", "--relaxed=false", "--json", jsonPath,
		"--tools-dir", filepath.Join(dir, "no-tools"), "--tmp-dir", dir})
	if err := root.ExecuteContext(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"### 100 B records, batch 10, 2 shards, 1 producer",
		"| pebble-raw | ",
		"| nats | not installed (run scripts/bench-peers.sh) |",
		"| self-grpc / pebble-raw | – | – |", // self-grpc was not asked for
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"target":"pebble-raw"`) || !strings.Contains(lines[1], `"status":"not installed`) {
		t.Errorf("json lines = %q", lines)
	}
}
