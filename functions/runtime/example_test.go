//go:build unix

package runtime

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestKinesisExample runs examples/function (the proof's handler) on the
// Manager with a Kinesis event as an event source mapping sends it.
func TestKinesisExample(t *testing.T) {
	dir := t.TempDir()
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", filepath.Join(dir, "bootstrap"), "../../examples/function")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the example: %v\n%s", err, out)
	}
	out := filepath.Join(t.TempDir(), "out.jsonl")
	event := kinesisEvent("a", "b", "POISON", "c")
	m, _ := newManager(t)
	for _, tc := range []struct {
		name        string
		env         map[string]string
		wantFailure bool     // errorType PoisonRecordError
		wantItems   string   // the batchItemFailures
		wantWritten []string // the data written, in order
	}{
		{"clean batch", map[string]string{}, false, `[]`, []string{"a", "b", "POISON", "c"}},
		{"poison fails the batch", map[string]string{"POISON": "POISON"}, true, "", nil},
		{"poison reported", map[string]string{"POISON": "POISON", "REPORT_ITEM_FAILURES": "1"}, false,
			`[{"itemIdentifier":"3"}]`, []string{"a", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_ = os.Remove(out)
			fn := testConfig(t, "example")
			fn.CodeDir = dir
			fn.RevisionID = tc.name // fresh instances: the environment differs
			fn.Environment = map[string]string{"OUTPUT_FILE": out}
			for k, v := range tc.env {
				fn.Environment[k] = v
			}
			res := invoke(t, m, fn, event)
			if tc.wantFailure {
				if v := decode(t, res.Payload); res.FunctionError != "Unhandled" || v["errorType"] != "PoisonRecordError" {
					t.Fatalf("%q %s", res.FunctionError, res.Payload)
				}
			} else {
				var resp struct{ BatchItemFailures json.RawMessage }
				if err := json.Unmarshal(res.Payload, &resp); err != nil || res.FunctionError != "" || string(resp.BatchItemFailures) != tc.wantItems {
					t.Fatalf("%q %s", res.FunctionError, res.Payload)
				}
			}
			if got := readData(t, out); strings.Join(got, ",") != strings.Join(tc.wantWritten, ",") {
				t.Fatalf("written %v, want %v", got, tc.wantWritten)
			}
		})
	}

	t.Run("tumbling window", func(t *testing.T) {
		_ = os.Remove(out)
		fn := testConfig(t, "example")
		fn.CodeDir = dir
		fn.RevisionID = "window"
		fn.Environment = map[string]string{"OUTPUT_FILE": out}
		state := map[string]string{}
		for i, final := range []bool{false, false, true} {
			ev := kinesisEvent("a", "b")
			ev["window"] = map[string]string{"start": "2026-12-07T21:00:00Z", "end": "2026-12-07T21:01:00Z"}
			ev["state"], ev["shardId"], ev["isFinalInvokeForWindow"] = state, "shardId-000000000001", final
			res := invoke(t, m, fn, ev)
			var resp struct{ State map[string]string }
			if err := json.Unmarshal(res.Payload, &resp); err != nil || res.FunctionError != "" || resp.State["count"] != fmt.Sprint(2*(i+1)) {
				t.Fatalf("invocation %d: %q %s", i, res.FunctionError, res.Payload)
			}
			state = resp.State
		}
		if got := readData(t, out); len(got) != 1 || got[0] != `{"count":6,"shardId":"shardId-000000000001","window":"2026-12-07T21:00:00Z"}` {
			t.Fatalf("written %v", got)
		}
	})
}

// kinesisEvent is an aws:kinesis event of records with these data, one
// sequence number each (1, 2, ...).
func kinesisEvent(data ...string) map[string]any {
	var records []map[string]any
	for i, d := range data {
		records = append(records, map[string]any{
			"kinesis": map[string]any{
				"kinesisSchemaVersion":        "1.0",
				"partitionKey":                "pk",
				"sequenceNumber":              fmt.Sprint(i + 1),
				"data":                        base64.StdEncoding.EncodeToString([]byte(d)),
				"approximateArrivalTimestamp": 1.7e9,
			},
			"eventSource":    "aws:kinesis",
			"eventVersion":   "1.0",
			"eventID":        fmt.Sprintf("shardId-000000000000:%d", i+1),
			"eventName":      "aws:kinesis:record",
			"awsRegion":      "us-east-1",
			"eventSourceARN": "arn:aws:kinesis:us-east-1:000000000000:stream/in",
		})
	}
	return map[string]any{"Records": records}
}

func readData(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line struct{ Data string }
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		got = append(got, line.Data)
	}
	return got
}
