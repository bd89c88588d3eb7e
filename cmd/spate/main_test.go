package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestRootHelpNamesEverythingServed: `spate --help` is where a new user
// looks first; it names every face the server has, not only Kinesis and
// gRPC.
func TestRootHelpNamesEverythingServed(t *testing.T) {
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Kinesis Data Streams", "Firehose", "Analytics", "Lambda",
		"http://127.0.0.1:4567/console/", "/metrics", "gRPC", "spate serve",
	} {
		t.Run(want, func(t *testing.T) {
			if !strings.Contains(out.String(), want) {
				t.Errorf("spate --help does not mention %q:\n%s", want, out.String())
			}
		})
	}
}
