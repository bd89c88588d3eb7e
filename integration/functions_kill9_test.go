package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spatehq/spate/shard"
)

// TestFunctionsKill9 kills the server with SIGKILL while a mapping is
// processing, restarts it, then kills a function instance while it
// processes a batch; nothing is lost and checkpoints never go backwards.
//
// The handler (examples/function, slowed by DELAY so that both kills land
// mid-processing) appends each record it is given to OUTPUT_FILE with the
// record's source sequence number, so the file is the history of
// deliveries per source shard. Checkpoints are checked two ways:
//
//   - read from the store (the mapping's "c/UUID/SHARD" values, the
//     layout functions/esm documents) while the server is down after the
//     kill, and after a clean stop at the end: a checkpoint is a record
//     that was delivered, the restarted server's first delivery on each
//     shard is the record right after it (no record lost, none before it
//     replayed), and the final checkpoint is not behind the first (nor
//     more than the batch in flight at the stop behind the shard's end);
//   - from the deliveries: per shard, in file order, a record delivered
//     again lies at most BatchSize records behind the furthest delivered
//     before it (only the batch in flight is replayed).
func TestFunctionsKill9(t *testing.T) {
	t.Parallel()
	zipPath := buildHandler(t, "function")
	l := newFnLab(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	src, srcARN := l.newStream(ctx, t, 2)
	outFile := filepath.Join(t.TempDir(), "out.jsonl")
	fnName := uniqueName(t)
	l.createFunction(ctx, t, fnName, zipPath, map[string]string{"OUTPUT_FILE": outFile, "DELAY": "200ms"})

	const n, keys, batchSize = 1000, 10, 20
	// The records are written once the mapping runs, so that processing
	// starts only then.
	m := l.createMapping(ctx, t, "--function-name", fnName, "--event-source-arn", srcARN,
		"--batch-size", itoa(batchSize), "--starting-position", "TRIM_HORIZON")
	s, _, _ := l.writeKeyed(ctx, t, src, n, keys, -1, nil, "")
	pos := map[string]int{} // sequence number -> position in its shard
	for _, seqs := range s.byShard {
		for i, seq := range seqs {
			pos[seq] = i
		}
	}

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

	// kill -9 of the server. Its instances die with it (the kernel kills
	// them); wait for that before reading what they wrote.
	atKill := waitDistinct("kill -9 of the server", n/10)
	l.srv.Kill9(t)
	for len(functionPIDs(t, fnName)) > 0 {
		pause(ctx, t, "the function's instances to die with the server")
	}
	before := readOutputFile(t, outFile)
	cp1 := readCheckpoints(t, l.srv.DataDir, m.UUID)
	handled := map[string]bool{}
	for _, ln := range before {
		handled[ln.SequenceNumber] = true
	}
	for shardID, seq := range cp1 {
		if seq != "" && !handled[seq] {
			t.Errorf("%s: the checkpoint %s is a record never delivered", shardID, seq)
		}
	}
	l.restart(t)
	l.cli.endpoint = l.srv.Endpoint()
	t.Logf("server killed with %d of %d records in the output; checkpoints then: %v", atKill, n, positions(cp1, pos))

	// kill -9 of the function's instances, busy with a batch.
	atFnKill := waitDistinct("kill -9 of a function instance", fileDelivered(before).distinct()+n/10)
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

	// The restarted server resumed each shard right after its checkpoint.
	firstAfter := map[string]string{}
	for _, ln := range lines[len(before):] {
		r := s.bySeq[ln.SequenceNumber]
		if _, ok := firstAfter[r.shardID]; !ok {
			firstAfter[r.shardID] = ln.SequenceNumber
		}
	}
	for shardID, seqs := range s.byShard {
		want := 0
		if cp := cp1[shardID]; cp != "" {
			want = pos[cp] + 1
		}
		if want >= len(seqs) {
			continue // the shard was done before the kill
		}
		if first, ok := firstAfter[shardID]; !ok || pos[first] != want {
			t.Errorf("%s: after the restart, delivery resumed at record %d; the checkpoint says %d", shardID, pos[first], want)
		}
	}

	// No replay deeper than a batch.
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

	// The final checkpoints, read after a clean stop: not behind the first
	// ones, and at most the batch that was in flight at the stop (its
	// records written, its invocation not yet returned) is not covered.
	l.srv.Stop(t)
	cp2 := readCheckpoints(t, l.srv.DataDir, m.UUID)
	for shardID, seqs := range s.byShard {
		end := -1
		if cp := cp2[shardID]; cp != "" {
			end = pos[cp]
		}
		if end < len(seqs)-1-batchSize {
			t.Errorf("%s: the final checkpoint is record %d of %d, though all were delivered", shardID, end, len(seqs))
		}
		if cp := cp1[shardID]; cp != "" && end < pos[cp] {
			t.Errorf("%s: the checkpoint went back from record %d to %d", shardID, pos[cp], end)
		}
	}
	t.Logf("final checkpoints: %v", positions(cp2, pos))
	t.Logf("%d deliveries of %d records; deepest replay per shard: %v", len(lines), n, deepest)
}

// readCheckpoints reads a mapping's checkpoints from a stopped server's
// store: the last sequence number handled per shard ("" when none yet),
// as functions/esm keeps them (namespace "esm", keys "c/UUID/SHARD", JSON
// {"after": SEQ, ...}).
func readCheckpoints(t *testing.T, dataDir, uuid string) map[string]string {
	t.Helper()
	st, err := shard.Open(dataDir)
	if err != nil {
		t.Fatalf("open the store of %s: %v", dataDir, err)
	}
	defer func() {
		if err := st.Close(); err != nil {
			t.Errorf("close the store: %v", err)
		}
	}()
	prefix := "c/" + uuid + "/"
	out := map[string]string{}
	err = st.ScanValues("esm", prefix, func(key string, v []byte) error {
		var cp struct {
			After string `json:"after"`
		}
		if err := json.Unmarshal(v, &cp); err != nil {
			return fmt.Errorf("checkpoint %s: %w", key, err)
		}
		out[strings.TrimPrefix(key, prefix)] = cp.After
		return nil
	})
	if err != nil {
		t.Fatalf("read the checkpoints of mapping %s: %v", uuid, err)
	}
	return out
}

// positions shows checkpoints as positions in their shards, for the log.
func positions(cps map[string]string, pos map[string]int) map[string]int {
	out := map[string]int{}
	for shardID, seq := range cps {
		out[shardID] = -1
		if seq != "" {
			out[shardID] = pos[seq]
		}
	}
	return out
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
