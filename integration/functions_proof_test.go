package integration

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestFunctionsProof is issue 15's proof: a handler written with
// aws-lambda-go (examples/function), zipped as bootstrap, created with the
// AWS CLI and mapped to a 4-shard stream processes 10,000 keyed records:
// each reaches the output stream at least once, in order per partition key
// (checkKeyOrder); the one poison record among them is isolated by
// bisection, retried, and reported alone to the on-failure destination
// stream with the invocation record Lambda sends; and the rest of its shard
// is processed after it.
func TestFunctionsProof(t *testing.T) {
	t.Parallel()
	zipPath := buildHandler(t, "function")
	l := newFnLab(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	src, srcARN := l.newStream(ctx, t, 4)
	out, _ := l.newStream(ctx, t, 2)
	dlq, dlqARN := l.newStream(ctx, t, 1)

	const poison = "poison record"
	fnName := uniqueName(t)
	fnARN := l.createFunction(ctx, t, fnName, zipPath, map[string]string{"OUTPUT_STREAM": out, "POISON": poison})
	l.createMapping(ctx, t, "--function-name", fnName, "--event-source-arn", srcARN,
		"--batch-size", "100", "--starting-position", "TRIM_HORIZON",
		"--bisect-batch-on-function-error", "--maximum-retry-attempts", "2",
		"--destination-config", mustJSON(t, map[string]any{"OnFailure": map[string]string{"Destination": dlqARN}}))

	// 9,999 keyed records over 50 keys and, in the middle, the poison:
	// 10,000 records.
	const n, keys = 9999, 50
	s, poisonSeq, poisonShard := l.writeKeyed(ctx, t, src, n, keys, n/2, []byte(poison), "k13")

	var got delivered
	for {
		got = l.outputOfStream(ctx, t, out)
		if got.distinct() >= n {
			break
		}
		pause(ctx, t, fmt.Sprintf("the output to hold all %d records (it holds %d)", n, got.distinct()))
	}
	var reports []invocationRecord
	for len(reports) == 0 {
		reports = l.invocationRecords(ctx, t, dlq)
		pause(ctx, t, "the poison's invocation record")
	}

	// Each record at least once and nothing else: the poison never reached
	// the output (the handler fails every batch that holds it).
	if len(got.others) > 0 {
		t.Errorf("the output holds %d records that are not the keyed records written, e.g. %q", len(got.others), got.others[0])
	}
	for key, want := range s.perKey {
		seen := map[int]bool{}
		for _, i := range got.perKey[key] {
			if i < 0 || i >= want {
				t.Errorf("key %s: the output holds record %d; %d were written", key, i, want)
			}
			seen[i] = true
		}
		if len(seen) != want {
			t.Errorf("key %s: %d of its %d records reached the output", key, len(seen), want)
		}
		if err := checkKeyOrder(got.perKey[key]); err != nil {
			t.Errorf("key %s: out of order: %v", key, err)
		}
	}

	// The poison alone, not its batch, was reported, after its retries.
	if len(reports) != 1 {
		t.Errorf("the destination holds %d invocation records, want 1 (the poison's): %+v", len(reports), reports)
	}
	// Bisection counts no attempt; the poison alone was invoked once and
	// retried MaximumRetryAttempts (2) times.
	checkBatchInfo(t, reports[0], fnARN, srcARN, poisonShard, poisonSeq, 3)

	// The rest of the poison's shard was processed after it.
	after := 0
	for _, seq := range s.byShard[poisonShard] {
		if !seqLess(t, poisonSeq, seq) {
			continue
		}
		after++
		r := s.bySeq[seq]
		if !containsInt(got.perKey[r.Key], r.I) {
			t.Errorf("record %s/%d after the poison in %s is not in the output", r.Key, r.I, poisonShard)
		}
	}
	if after == 0 {
		t.Fatalf("no record follows the poison in %s: the test wrote it last", poisonShard)
	}
	t.Logf("%d records delivered %d times in all (%d replays); the poison %s in %s, followed by %d records of its shard",
		n, got.total, got.total-n, poisonSeq, poisonShard, after)
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestKeyOrderRule shows that checkKeyOrder, the proofs' order rule,
// accepts replays and refuses every reordering.
func TestKeyOrderRule(t *testing.T) {
	for _, tc := range []struct {
		got []int
		ok  bool
	}{
		{[]int{}, true},
		{[]int{0, 1, 2, 3}, true},
		{[]int{0, 1, 2, 1, 2, 3, 4}, true},       // a batch replayed
		{[]int{0, 1, 2, 3, 0, 1, 2, 3, 4}, true}, // replayed from the start
		{[]int{0, 1, 2, 1, 0, 1, 2, 3}, true},    // a replay started over
		{[]int{0, 1, 2, 2, 3}, true},             // one record twice
		{[]int{1, 2}, false},                     // the first never delivered
		{[]int{0, 2, 1}, false},                  // swapped
		{[]int{0, 1, 3, 2, 4}, false},            // swapped later
		{[]int{0, 1, 2, 3, 1, 3, 4}, false},      // a replay skipping 2
		{[]int{0, 1, 2, 0, 2, 3}, false},         // a replay jumping ahead
		{[]int{0, 1, 2, 4}, false},               // 3 lost
	} {
		err := checkKeyOrder(tc.got)
		if (err == nil) != tc.ok {
			t.Errorf("checkKeyOrder(%v) = %v; want ok %v", tc.got, err, tc.ok)
		}
	}
}
