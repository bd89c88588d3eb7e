package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spatehq/spate/bench"
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
		{"negative analytics events", []string{"--analytics-events", "-1"}, "--analytics-events -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := newBenchCmd()
			root.SetArgs(tc.args)
			root.SetOut(&bytes.Buffer{})
			root.SetErr(&bytes.Buffer{})
			err := root.ExecuteContext(t.Context())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestBenchWorkloads: which workloads the dimension flags select.
func TestBenchWorkloads(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		want  int
		check func(ws []bench.Workload) string
	}{
		{"default: the standard cases", nil, 14, func(ws []bench.Workload) string {
			if ws[0] != bench.Headline {
				return "first is not the headline case"
			}
			return ""
		}},
		{"durable only", []string{"--relaxed=false"}, 7, nil},
		{"one dimension given, the others at the headline", []string{"--sizes", "100,1024", "--relaxed=false"}, 2, func(ws []bench.Workload) string {
			for _, w := range ws {
				if w.Batch != 500 || w.Shards != 4 || w.Producers != 1 {
					return "a dimension that was not given left the headline value: " + w.Case()
				}
			}
			return ""
		}},
		{"two dimensions crossed", []string{"--shards", "1,16", "--producers", "1,8"}, 8, nil},
		{"cross product of the defaults", []string{"--cross"}, 48, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f benchFlags
			cmd := newBenchCmd()
			if err := cmd.ParseFlags(tc.args); err != nil {
				t.Fatal(err)
			}
			fl := cmd.Flags()
			var err error
			get := func(name string) []int {
				v, e := fl.GetIntSlice(name)
				err = errors.Join(err, e)
				return v
			}
			f.sizes, f.batches, f.shards, f.producers = get("sizes"), get("batches"), get("shards"), get("producers")
			f.cross, _ = fl.GetBool("cross")
			f.relaxed, _ = fl.GetBool("relaxed")
			if err != nil {
				t.Fatal(err)
			}
			ws := benchWorkloads(cmd, f)
			if len(ws) != tc.want {
				t.Fatalf("%d workloads, want %d", len(ws), tc.want)
			}
			if tc.check != nil {
				if msg := tc.check(ws); msg != "" {
					t.Error(msg)
				}
			}
		})
	}
}

// TestBenchRun runs the smallest real bench, pebble-raw alone, and checks
// the table and the JSON line it writes (not the figures).
func TestBenchRun(t *testing.T) {
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "out.jsonl")
	root := newBenchCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&bytes.Buffer{})
	root.SetArgs([]string{"--targets", "pebble-raw,nats", "--sizes", "100", "--batches", "10", "--shards", "2",
		"--producers", "1", "--rounds", "1", "--duration", "50ms", "--relaxed=false", "--json", jsonPath,
		"--tools-dir", filepath.Join(dir, "no-tools"), "--tmp-dir", dir,
		"--analytics-events", "2000", "--s3-endpoint", ""})
	if err := root.ExecuteContext(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"### 100 B records, batch 10, 2 shards, 1 producer",
		"| pebble-raw | ",
		"| nats | not installed (run scripts/bench-peers.sh) |",
		"| self-grpc / pebble-raw | – | – |", // self-grpc was not asked for
		"### Analytics: Nexmark-shaped queries, events/s per core",
		"| q11 | SESSION(10 s) count per bidder | ",
		"| PutRecordBatch to S3, GZIP | no S3 endpoint (run scripts/s3-server.sh start) |",
		"### Resharding under load",
		"| resharding | ",
		"### Producer SDK",
		"| SDK over produce, single records | ",
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
	// pebble-raw, nats, q5, q7, q11, Firehose, resharding, and the
	// producer SDK's batched figure and two transports.
	if len(lines) != 10 || !strings.Contains(lines[6], `"target":"reshard-under-load"`) ||
		!strings.Contains(lines[7], `"target":"producer-batched-putrecords"`) || !strings.Contains(lines[9], `"target":"producer-sdk-putrecords"`) || !strings.Contains(lines[0], `"target":"pebble-raw"`) || !strings.Contains(lines[1], `"status":"not installed`) ||
		!strings.Contains(lines[4], `"query":"q11"`) || !strings.Contains(lines[5], `"target":"firehose-s3-gzip"`) {
		t.Errorf("json lines = %q", lines)
	}
}
