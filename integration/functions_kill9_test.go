package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFunctionsKill9 kills the server with SIGKILL while a mapping is
// processing, restarts it, then kills a function instance while it
// processes a batch; nothing is lost and checkpoints never go backwards.
//
// The handler (examples/function, slowed by DELAY so that both kills land
// mid-processing) appends each record it is given to OUTPUT_FILE with the
// record's source sequence number, so the file is the history of
// deliveries per source shard. A checkpoint is where a shard's delivery
// resumes after a restart or a failed invocation; it went backwards if the
// deliveries replayed more than the batch that was in flight. So, per
// shard, in file order, every record delivered again may lie at most
// BatchSize records behind the furthest record delivered before it.
func TestFunctionsKill9(t *testing.T) {
	l := newFnLab(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	zipPath := buildHandler(t, "function")

	src := uniqueName(t)
	l.create(ctx, t, src, 2)
	srcARN := l.streamARN(ctx, t, src)
	outFile := filepath.Join(t.TempDir(), "out.jsonl")
	fnName := uniqueName(t)
	l.createFunction(ctx, t, fnName, zipPath, map[string]string{"OUTPUT_FILE": outFile, "DELAY": "100ms"})

	const n, keys, batchSize = 1000, 10, 20
	s, _, _ := l.writeKeyed(ctx, t, src, n, keys, -1, nil, "")
	l.createMapping(ctx, t, "--function-name", fnName, "--event-source-arn", srcARN,
		"--batch-size", itoa(batchSize), "--starting-position", "TRIM_HORIZON")

	// waitDistinct waits until the file holds at least min distinct
	// records, and fails if it already holds them all: the kill would not
	// be in the middle of processing.
	waitDistinct := func(what string, min int) int {
		for {
			d := fileDelivered(readOutputFile(t, outFile)).distinct()
			if d >= n {
				t.Fatalf("all %d records were processed before %s: nothing was in flight", n, what)
			}
			if d >= min {
				return d
			}
			pause(ctx, t, fmt.Sprintf("%d records in the output before %s (there are %d)", min, what, d))
		}
	}

	atKill := waitDistinct("kill -9 of the server", n/10)
	l.kill9Restart(t)
	atRestart := fileDelivered(readOutputFile(t, outFile)).distinct()
	t.Logf("server killed with %d of %d records in the output (%d after the kill)", atKill, n, atRestart)

	atFnKill := waitDistinct("kill -9 of a function instance", atRestart+n/10)
	pids := functionPIDs(t, fnName)
	if len(pids) == 0 {
		t.Fatalf("no process runs function %s", fnName)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill -9 %d: %v", pid, err)
		}
	}
	t.Logf("function instances %v killed with %d of %d records in the output", pids, atFnKill, n)

	var lines []fileLine
	for {
		lines = readOutputFile(t, outFile)
		if fileDelivered(lines).distinct() >= n {
			break
		}
		pause(ctx, t, "every record in the output")
	}

	// Nothing lost, in order per key.
	got := fileDelivered(lines)
	for key, want := range s.perKey {
		seen := map[int]bool{}
		for _, i := range got.perKey[key] {
			seen[i] = true
		}
		if len(seen) != want {
			t.Errorf("key %s: %d of its %d records reached the output", key, len(seen), want)
		}
		if err := checkKeyOrder(got.perKey[key]); err != nil {
			t.Errorf("key %s: out of order: %v", key, err)
		}
	}

	// Checkpoints never went backwards: no replay deeper than a batch.
	pos := map[string]int{} // sequence number -> position in its shard
	for _, seqs := range s.byShard {
		for i, seq := range seqs {
			pos[seq] = i
		}
	}
	furthest := map[string]int{}
	deepest := map[string]int{}
	for _, ln := range lines {
		r, ok := s.bySeq[ln.SequenceNumber]
		if !ok {
			t.Fatalf("the output names sequence number %s, which was not written", ln.SequenceNumber)
		}
		p := pos[ln.SequenceNumber]
		f, started := furthest[r.shardID]
		if !started {
			f = -1
		}
		if p <= f {
			deepest[r.shardID] = max(deepest[r.shardID], f-p+1)
		}
		furthest[r.shardID] = max(f, p)
	}
	for shardID, depth := range deepest {
		if depth > batchSize {
			t.Errorf("%s: a replay went %d records back, more than a batch (%d): a checkpoint went backwards", shardID, depth, batchSize)
		}
	}
	t.Logf("%d deliveries of %d records; deepest replay per shard: %v", len(lines), n, deepest)
}

// functionPIDs returns the process ids of the running instances of the
// function named name: the processes whose environment holds Lambda's
// AWS_LAMBDA_FUNCTION_NAME=name (names are unique per test).
func functionPIDs(t *testing.T, name string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatalf("list processes: %v", err)
	}
	want := "AWS_LAMBDA_FUNCTION_NAME=" + name
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue // gone, or not ours
		}
		for _, kv := range strings.Split(string(env), "\x00") {
			if kv == want {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}
