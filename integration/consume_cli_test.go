package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSpateConsumeExec runs `spate consume --exec` with a command that
// fails its first batch: that batch is piped again until the command exits
// 0, every record reaches the command as a JSON line, and once the worker
// is stopped (SIGTERM: exit 0) the group has no workers and is
// checkpointed at the end of each shard.
func TestSpateConsumeExec(t *testing.T) {
	t.Parallel()
	k := newKin(t)
	ctx := testCtx(t)
	sdk := newSDKClient(t, k.srv)
	stream, group := uniqueName(t), "exec"
	k.create(ctx, t, stream, 2)
	want := putKeyed(ctx, t, k, stream, "k", 8, 0, 5)

	dir := t.TempDir()
	out, mark := filepath.Join(dir, "out"), filepath.Join(dir, "failed-once")
	// Each run appends its batch to $OUT; the very first run then fails.
	script := `cat >> "$OUT" && { test -e "$MARK" || { touch "$MARK"; echo failing on purpose >&2; exit 3; }; }`
	w := startWorkerProc(t, "consume", []string{"OUT=" + out, "MARK=" + mark}, spateBin,
		"--grpc-addr", k.srv.GRPCAddr, "consume", stream, "--group", group, "--exec", script, "--lease-timeout", "1s")

	// piped reads every record the command was given so far, by key (the
	// first, failed batch twice once it was retried), and how many.
	piped := func() (map[string][]string, int) {
		byKey, lines := map[string][]string{}, 0
		b, _ := os.ReadFile(out)
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			var r jsonLine
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("the command was given %q, not a JSON record: %v", sc.Text(), err)
			}
			byKey[r.PartitionKey] = append(byKey[r.PartitionKey], string(r.Data))
			lines++
		}
		return byKey, lines
	}
	waitUntil(ctx, t, "every shard checkpointed at its last record", func() bool {
		g := tryDescribe(ctx, sdk, stream, group)
		for _, l := range g.GetLeases() {
			if l.GetCheckpoint() == "" || l.GetLagRecords() != 0 {
				return false
			}
		}
		return g != nil
	})
	w.stop(t)

	got, lines := piped()
	if !(&keyedProducers{acked: want}).allRead(got) {
		t.Errorf("the command was given %v, want every record of %v", got, want)
	}
	if _, err := os.Stat(mark); err != nil {
		t.Errorf("the command never failed: %v", err)
	}
	if lines <= countAll(want) {
		t.Errorf("the command was given %d records for %d: the failed batch was not piped again", lines, countAll(want))
	}
	if !strings.Contains(w.log.String(), "failing on purpose") || !strings.Contains(w.log.String(), "retrying") {
		t.Errorf("spate consume's standard error does not pass the command's on and report the retry:\n%s", w.log.String())
	}
	g := describeGroup(ctx, t, sdk, stream, group)
	if len(g.GetWorkers()) != 0 {
		t.Errorf("workers %v after the worker stopped", g.GetWorkers())
	}
}
