package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestFunctionsReportBatchItemFailures maps examples/function, which
// reports a poison record in batchItemFailures, with
// FunctionResponseTypes ReportBatchItemFailures: Lambda then resumes from
// the first failed item, so the records before the poison in its batch are
// processed once (not replayed with the batch), the batch reported to the
// on-failure destination starts at the poison, and the shard goes on after
// it.
func TestFunctionsReportBatchItemFailures(t *testing.T) {
	t.Parallel()
	zipPath := buildHandler(t, "function")
	l := newFnLab(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	src, srcARN := l.newStream(ctx, t, 1)
	dlq, dlqARN := l.newStream(ctx, t, 1)
	outFile := filepath.Join(t.TempDir(), "out.jsonl")
	const poison = "poison record"
	fnName := uniqueName(t)
	fnARN := l.createFunction(ctx, t, fnName, zipPath, map[string]string{
		"OUTPUT_FILE": outFile, "POISON": poison, "REPORT_ITEM_FAILURES": "1"})

	// Written before the mapping starts, so its first batches are full:
	// the poison is the 11th record of the third batch of 20.
	const n, batchSize = 100, 20
	s, poisonSeq, shardID := l.writeKeyed(ctx, t, src, n, 5, 2*batchSize+10, []byte(poison), "k03")
	seqs := s.byShard[shardID]
	l.createMapping(ctx, t, "--function-name", fnName, "--event-source-arn", srcARN,
		"--batch-size", itoa(batchSize), "--starting-position", "TRIM_HORIZON",
		"--function-response-types", "ReportBatchItemFailures", "--maximum-retry-attempts", "1",
		"--destination-config", mustJSON(t, map[string]any{"OnFailure": map[string]string{"Destination": dlqARN}}))

	last := s.bySeq[seqs[len(seqs)-1]]
	var lines []fileLine
	var reports []invocationRecord
	for {
		lines = readOutputFile(t, outFile)
		if len(reports) == 0 {
			reports = l.invocationRecords(ctx, t, dlq)
		}
		if len(reports) > 0 && containsInt(fileDelivered(lines).perKey[last.Key], last.I) {
			break
		}
		pause(ctx, t, "the poison's report and the shard's last record")
	}

	if len(reports) != 1 {
		t.Fatalf("the destination holds %d invocation records, want 1: %+v", len(reports), reports)
	}
	ir := reports[0]
	bi := ir.KinesisBatchInfo
	if bi == nil {
		t.Fatalf("invocation record without KinesisBatchInfo: %+v", ir)
	}
	if ir.RequestContext.Condition != "RetryAttemptsExhausted" || ir.RequestContext.FunctionArn != fnARN {
		t.Errorf("requestContext = %+v; want RetryAttemptsExhausted of %s", ir.RequestContext, fnARN)
	}
	// The reported batch starts at the first failed item.
	start, end := slices.Index(seqs, bi.StartSequenceNumber), slices.Index(seqs, bi.EndSequenceNumber)
	if bi.StartSequenceNumber != poisonSeq || end < start || bi.BatchSize != end-start+1 || bi.ShardID != shardID || bi.StreamArn != srcARN {
		t.Errorf("KinesisBatchInfo = %+v; want a batch of %s starting at the poison %s", *bi, shardID, poisonSeq)
	}

	delivered := map[string]int{} // sequence number -> deliveries
	for _, ln := range lines {
		delivered[ln.SequenceNumber]++
	}
	for i, seq := range seqs {
		switch {
		case seq == poisonSeq:
			if delivered[seq] != 0 {
				t.Errorf("the poison was delivered")
			}
		case i < start:
			// Before the poison: processed exactly once. Without
			// ReportBatchItemFailures the records before the poison in
			// its batch would be written again by every retry.
			if delivered[seq] != 1 {
				t.Errorf("record %d (%s) before the poison was delivered %d times, want once", i, seq, delivered[seq])
			}
		case i > end:
			if delivered[seq] == 0 {
				t.Errorf("record %d (%s) after the reported batch was not delivered", i, seq)
			}
		}
	}
	t.Logf("the reported batch: records %d..%d of %d; %d deliveries", start, end, len(seqs), len(lines))
}

// TestFunctionsFilterCriteria maps examples/function with a filter on the
// records' JSON data: only the matching records reach the function, each
// of them does, and the shard goes on past the others.
func TestFunctionsFilterCriteria(t *testing.T) {
	t.Parallel()
	zipPath := buildHandler(t, "function")
	l := newFnLab(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	src, srcARN := l.newStream(ctx, t, 1)
	outFile := filepath.Join(t.TempDir(), "out.jsonl")
	fnName := uniqueName(t)
	l.createFunction(ctx, t, fnName, zipPath, map[string]string{"OUTPUT_FILE": outFile})
	pattern := `{"data": {"type": ["buy"], "qty": [{"numeric": [">", 10]}]}}`
	l.createMapping(ctx, t, "--function-name", fnName, "--event-source-arn", srcARN,
		"--batch-size", "10", "--starting-position", "TRIM_HORIZON",
		"--filter-criteria", mustJSON(t, map[string]any{"Filters": []map[string]string{{"Pattern": pattern}}}))

	// Orders of every type and quantity, a record that is not JSON, and a
	// matching order last: once it is delivered, every record before it
	// was either delivered or filtered out.
	var entries []types.PutRecordsRequestEntry
	var want []string
	for i := range 120 {
		typ := []string{"buy", "sell", "BUY"}[i%3]
		data := fmt.Sprintf(`{"type":%q,"qty":%d,"n":%d}`, typ, i%25, i)
		if typ == "buy" && i%25 > 10 {
			want = append(want, data)
		}
		entries = append(entries, types.PutRecordsRequestEntry{Data: []byte(data), PartitionKey: aws.String(fmt.Sprint(i % 7))})
	}
	entries = append(entries, types.PutRecordsRequestEntry{Data: []byte("not json"), PartitionKey: aws.String("x")})
	lastData := `{"type":"buy","qty":99,"n":-1}`
	want = append(want, lastData)
	entries = append(entries, types.PutRecordsRequestEntry{Data: []byte(lastData), PartitionKey: aws.String("x")})
	l.putRecords(ctx, t, src, entries)

	var lines []fileLine
	for {
		lines = readOutputFile(t, outFile)
		if slices.ContainsFunc(lines, func(ln fileLine) bool { return ln.Data == lastData }) {
			break
		}
		pause(ctx, t, "the last matching record")
	}
	got := map[string]bool{}
	for _, ln := range lines {
		got[ln.Data] = true
	}
	for _, d := range want {
		if !got[d] {
			t.Errorf("matching record %s was not delivered", d)
		}
		delete(got, d)
	}
	for d := range got {
		t.Errorf("record %s does not match %s and was delivered", d, pattern)
	}
	t.Logf("%d of %d records matched; %d deliveries", len(want), len(entries), len(lines))
}

// windowTotal is what examples/window-function writes when a window
// closes.
type windowTotal struct {
	ShardID string    `json:"shardId"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Sum     int64     `json:"sum"`
	Count   int64     `json:"count"`
}

// TestFunctionsTumblingWindow maps examples/window-function, which sums
// the values of a window's records in the state Lambda passes between the
// window's invocations, with TumblingWindowInSeconds: each window's total,
// written on its final invocation, is the sum of the records of its shard
// that arrived within it; windows do not overlap; every record is counted
// once.
func TestFunctionsTumblingWindow(t *testing.T) {
	t.Parallel()
	zipPath := buildHandler(t, "window-function")
	l := newFnLab(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	src, srcARN := l.newStream(ctx, t, 2)
	out, _ := l.newStream(ctx, t, 1)
	fnName := uniqueName(t)
	l.createFunction(ctx, t, fnName, zipPath, map[string]string{"OUTPUT_STREAM": out})
	const window = 2
	l.createMapping(ctx, t, "--function-name", fnName, "--event-source-arn", srcARN,
		"--batch-size", "10", "--starting-position", "TRIM_HORIZON",
		"--tumbling-window-in-seconds", itoa(window))

	totals := func() []windowTotal {
		var ts []windowTotal
		for _, recs := range l.readAll(ctx, t, out) {
			for _, r := range recs {
				var w windowTotal
				if err := json.Unmarshal(r.Data, &w); err != nil {
					t.Fatalf("the output holds %q: %v", r.Data, err)
				}
				ts = append(ts, w)
			}
		}
		return ts
	}
	put := func(from, to int) {
		var entries []types.PutRecordsRequestEntry
		for i := from; i < to; i++ {
			entries = append(entries, types.PutRecordsRequestEntry{
				Data: fmt.Appendf(nil, `{"v":%d}`, i), PartitionKey: aws.String(fmt.Sprint("p", i))})
		}
		l.putRecords(ctx, t, src, entries)
	}
	// Two rounds of records: the second is written once a window of the
	// first has closed, so they fall in different windows.
	const n = 200
	put(1, n/2+1)
	for len(totals()) == 0 {
		pause(ctx, t, "a window to close")
	}
	put(n/2+1, n+1)

	// What each shard holds, with arrival times.
	type arrival struct {
		at time.Time
		v  int64
	}
	written := map[string][]arrival{}
	var count int
	for shardID, recs := range l.readAll(ctx, t, src) {
		for _, r := range recs {
			var d struct{ V int64 }
			if err := json.Unmarshal(r.Data, &d); err != nil {
				t.Fatal(err)
			}
			written[shardID] = append(written[shardID], arrival{aws.ToTime(r.ApproximateArrivalTimestamp), d.V})
			count++
		}
	}
	if count != n {
		t.Fatalf("the source holds %d records, want %d", count, n)
	}

	var ts []windowTotal
	for {
		ts = totals()
		var counted int64
		for _, w := range ts {
			counted += w.Count
		}
		if counted >= n {
			break
		}
		pause(ctx, t, fmt.Sprintf("windows counting all %d records (%d so far)", n, counted))
	}
	byShard := map[string][]windowTotal{}
	for _, w := range ts {
		byShard[w.ShardID] = append(byShard[w.ShardID], w)
	}
	for shardID, ws := range byShard {
		arrivals, ok := written[shardID]
		if !ok {
			t.Errorf("a window total names shard %q, which holds no records", shardID)
			continue
		}
		slices.SortFunc(ws, func(a, b windowTotal) int { return a.Start.Compare(b.Start) })
		var sum, cnt int64
		for i, w := range ws {
			if w.End.Sub(w.Start) != window*time.Second {
				t.Errorf("%s: window %v..%v is not %ds long", shardID, w.Start, w.End, window)
			}
			if i > 0 && w.Start.Before(ws[i-1].End) {
				t.Errorf("%s: window %v..%v overlaps the one before, %v..%v", shardID, w.Start, w.End, ws[i-1].Start, ws[i-1].End)
			}
			// The window holds exactly the records that arrived in it.
			var wantSum, wantCount int64
			for _, a := range arrivals {
				if !a.at.Before(w.Start) && a.at.Before(w.End) {
					wantSum += a.v
					wantCount++
				}
			}
			if w.Sum != wantSum || w.Count != wantCount {
				t.Errorf("%s: window %v..%v totals %d over %d records; its records sum to %d over %d",
					shardID, w.Start, w.End, w.Sum, w.Count, wantSum, wantCount)
			}
			sum += w.Sum
			cnt += w.Count
		}
		var wantSum int64
		for _, a := range arrivals {
			wantSum += a.v
		}
		if sum != wantSum || cnt != int64(len(arrivals)) {
			t.Errorf("%s: its windows total %d over %d records; it holds %d over %d", shardID, sum, cnt, wantSum, len(arrivals))
		}
	}
	for shardID := range written {
		if len(byShard[shardID]) == 0 {
			t.Errorf("%s holds records and no window of it closed", shardID)
		}
	}
	t.Logf("%d windows closed over %d shards", len(ts), len(byShard))
}
