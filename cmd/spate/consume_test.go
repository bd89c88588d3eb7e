package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestConsumeRejectsFlags checks the flags consume refuses before it dials
// (the consuming itself is proven against the real server in
// integration/consume_cli_test.go and consumer_group_proof_test.go).
func TestConsumeRejectsFlags(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no group", []string{"consume", "s"}, "--group is required"},
		{"bad format", []string{"consume", "s", "--group", "g", "--format", "yaml"}, `--format "yaml"`},
		{"bad from", []string{"consume", "s", "-G", "g", "--from", "yesterday"}, `--from "yesterday"`},
		{"no stream", []string{"consume", "--group", "g"}, "accepts 1 arg"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := newRootCmd()
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&out)
			root.SetArgs(append(tt.args, "--grpc-addr", "127.0.0.1:1"))
			err := root.Execute()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("spate %s: %v, want an error with %q", strings.Join(tt.args, " "), err, tt.want)
			}
		})
	}
}
