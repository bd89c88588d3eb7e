package esm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/functions"
	"github.com/spatehq/spate/shard"
)

// The event is byte for byte the sample of Lambda's Kinesis guide.
func TestEventMatchesAWSSample(t *testing.T) {
	const sample = `{"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"1",` +
		`"sequenceNumber":"49590338271490256608559692538361571095921575989136588898",` +
		`"data":"SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==","approximateArrivalTimestamp":1545084650.987},` +
		`"eventSource":"aws:kinesis","eventVersion":"1.0",` +
		`"eventID":"shardId-000000000006:49590338271490256608559692538361571095921575989136588898",` +
		`"eventName":"aws:kinesis:record","invokeIdentityArn":"arn:aws:iam::123456789012:role/lambda-role",` +
		`"awsRegion":"us-east-2","eventSourceARN":"arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"}]}`
	es := eventSource{identityARN: "arn:aws:iam::123456789012:role/lambda-role", region: "us-east-2",
		streamARN: "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream", shardID: "shardId-000000000006"}
	got := es.event([]shard.Record{{
		SequenceNumber: "49590338271490256608559692538361571095921575989136588898",
		ArrivalTime:    time.UnixMilli(1545084650987), PartitionKey: "1", Data: []byte("Hello, this is a test."),
	}})
	if string(got) != sample {
		t.Fatalf("event\n got %s\nwant %s", got, sample)
	}
	if n := es.recordSize(shard.Record{SequenceNumber: "49590338271490256608559692538361571095921575989136588898",
		PartitionKey: "1", Data: []byte("Hello, this is a test.")}); n < len(sample)-len(`{"Records":[]}`) {
		t.Fatalf("recordSize %d is below the record's %d encoded bytes", n, len(sample))
	}
	// Arrival times keep three decimals, whatever the milliseconds.
	for ms, want := range map[int64]string{1000: "1.000", 1005: "1.005", 1545084650050: "1545084650.050"} {
		b, _ := epochSeconds(time.UnixMilli(ms)).MarshalJSON()
		if string(b) != want {
			t.Errorf("%d ms encodes as %s; want %s", ms, b, want)
		}
	}
	// Partition keys are not HTML-escaped, as Lambda's serializer leaves them.
	if b := es.event([]shard.Record{{PartitionKey: "<a&b>"}}); !bytes.Contains(b, []byte(`"partitionKey":"<a&b>"`)) {
		t.Fatalf("partition key escaped: %s", b)
	}
}

func TestTumblingEventShape(t *testing.T) {
	es := eventSource{shardID: "shardId-000000000006", streamARN: "arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream"}
	start := time.Date(2020, 12, 9, 7, 4, 0, 0, time.UTC).UnixMilli()
	got := string(es.windowEvent(nil, start, 2*time.Minute, json.RawMessage(`{"1":282,"2":715}`), true, false))
	want := `{"Records":[],"window":{"start":"2020-12-09T07:04:00Z","end":"2020-12-09T07:06:00Z"},"state":{"1":282,"2":715},` +
		`"shardId":"shardId-000000000006","eventSourceARN":"arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream",` +
		`"isFinalInvokeForWindow":true,"isWindowTerminatedEarly":false}`
	if got != want {
		t.Fatalf("window event\n got %s\nwant %s", got, want)
	}
}

func TestBisectIsolatesPoisonRecord(t *testing.T) {
	f := newFixture(t)
	arn := f.stream("src", 1)
	rec := f.poisoned("fn")
	var kv []string
	for i := range 16 {
		d := fmt.Sprint(i)
		if i == 11 {
			d = "poison"
		}
		kv = append(kv, "k", d)
	}
	seqs := f.put("src", kv...)
	f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON",
		MaximumRetryAttempts: intp(1), BisectBatchOnFunctionError: boolp(true),
		DestinationConfig: &DestinationConfig{OnFailure: &Destination{Destination: "arn:aws:kinesis:us-east-1:000000000000:stream/dlq"}}})
	eventually(t, "the poison record's report", func() bool { return len(f.sink.records()) == 1 })
	r := f.sink.records()[0].rec
	if r.Payload != nil {
		t.Fatalf("a stream destination's record carries the payload: %s", f.sink.records()[0].raw)
	}
	if r.BatchInfo.BatchSize != 1 || r.BatchInfo.StartSequenceNumber != seqs[11] || r.BatchInfo.EndSequenceNumber != seqs[11] ||
		r.RequestContext.Condition != ConditionRetriesExhausted || r.RequestContext.ApproximateInvokeCount != 2 {
		t.Fatalf("report: %+v", r)
	}
	eventually(t, "the 15 good records", func() bool { return rec.count() == 15 })
	got := strings.Join(rec.perKey()["k"], ",")
	if got != "0,1,2,3,4,5,6,7,8,9,10,12,13,14,15" {
		t.Fatalf("good records delivered %s", got)
	}
	// 16 → 8+8 → (4+4) → (2+2) → (1+1): every batch holding the poison
	// record failed once before being split; bisection took no retry.
	sizes := []int{}
	for _, ev := range f.inv.history() {
		for _, d := range ev.datas() {
			if d == "poison" {
				sizes = append(sizes, len(ev.Records))
			}
		}
	}
	if fmt.Sprint(sizes) != "[16 8 4 2 1 1]" {
		t.Fatalf("batches holding the poison record: %v; want [16 8 4 2 1 1]", sizes)
	}
}

func TestMaximumRecordAge(t *testing.T) {
	// The service's clock jumps a minute ahead while the function keeps
	// failing: the records outlive MaximumRecordAgeInSeconds 60. (A lease
	// of an hour keeps the jump from passing for a stuck poller.)
	var ahead atomic.Int64
	f := newFixture(t, WithLeaseTimeout(time.Hour),
		WithClock(func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }))
	arn := f.stream("src", 1)
	var fail atomic.Bool
	fail.Store(true)
	rec := newRecorder()
	f.inv.set("fn", func(ctx context.Context, ev testEvent) (functions.Result, error) {
		if fail.Load() {
			return fnError("down")
		}
		rec.note(ev)
		return ok(`{}`)
	})
	seqs := f.put("src", "a", "1", "a", "2")
	f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON",
		MaximumRecordAgeInSeconds: intp(60),
		DestinationConfig:         &DestinationConfig{OnFailure: &Destination{Destination: "arn:aws:s3:::failed-batches"}}})
	eventually(t, "failed invocations", func() bool { return len(f.inv.history()) >= 2 })
	if n := len(f.sink.records()); n != 0 {
		t.Fatalf("%d reports before the records were a minute old", n)
	}
	ahead.Store(int64(61 * time.Second))
	eventually(t, "the records to age out", func() bool { return len(f.sink.records()) == 1 })
	r := f.sink.records()[0].rec
	if r.RequestContext.Condition != ConditionRecordAge || r.BatchInfo.BatchSize != 2 ||
		r.BatchInfo.StartSequenceNumber != seqs[0] || r.BatchInfo.EndSequenceNumber != seqs[1] || r.RequestContext.ApproximateInvokeCount < 2 {
		t.Fatalf("report: %+v", r)
	}
	// Records young enough (by the service's clock) go through.
	fail.Store(false)
	ahead.Store(0)
	f.put("src", "a", "3")
	eventually(t, "the next record", func() bool { return rec.count() == 1 })
}

func TestReportBatchItemFailures(t *testing.T) {
	for _, tc := range []struct {
		name     string
		response func(ev testEvent) string
		// wantSecond is the data of the second invocation.
		wantSecond string
	}{
		{"resume at the first failed item", func(ev testEvent) string {
			// Items 3 and 2 failed: resume at 2.
			return fmt.Sprintf(`{"batchItemFailures":[{"itemIdentifier":%q},{"itemIdentifier":%q}]}`,
				ev.Records[3].Kinesis.SequenceNumber, ev.Records[2].Kinesis.SequenceNumber)
		}, "2,3,4"},
		{"empty identifier fails the batch", func(testEvent) string {
			return `{"batchItemFailures":[{"itemIdentifier":""}]}`
		}, "0,1,2,3,4"},
		{"bad key name fails the batch", func(testEvent) string {
			return `{"batchItemFailures":[{"itemId":"x"}]}`
		}, "0,1,2,3,4"},
		{"unknown identifier fails the batch", func(testEvent) string {
			return `{"batchItemFailures":[{"itemIdentifier":"49000"}]}`
		}, "0,1,2,3,4"},
		{"empty list is success", func(testEvent) string { return `{"batchItemFailures":[]}` }, "5"},
		{"null is success", func(testEvent) string { return `null` }, "5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			arn := f.stream("src", 1)
			var calls atomic.Int32
			f.inv.set("fn", func(ctx context.Context, ev testEvent) (functions.Result, error) {
				if calls.Add(1) == 1 {
					return ok(tc.response(ev))
				}
				return ok(`{}`)
			})
			seqs := f.put("src", "a", "0", "a", "1", "a", "2", "a", "3", "a", "4")
			m := f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON",
				FunctionResponseTypes: []string{ReportBatchItemFailures}})
			eventually(t, "the first call", func() bool { return calls.Load() >= 1 })
			if tc.wantSecond == "5" {
				eventually(t, "the checkpoint at the end", func() bool {
					return f.checkpoint(m.UUID, "shardId-000000000000").After == seqs[4]
				})
				f.put("src", "a", "5")
			}
			eventually(t, "the second call", func() bool { return len(f.inv.history()) >= 2 })
			if got := strings.Join(f.inv.history()[1].datas(), ","); got != tc.wantSecond {
				t.Fatalf("second invocation got %s; want %s", got, tc.wantSecond)
			}
		})
	}
}

func TestFiltersSkipAndCheckpoint(t *testing.T) {
	compile := func(patterns []string) (Matcher, error) {
		if patterns[0] == `{"bad":` {
			return nil, fmt.Errorf("pattern is not JSON")
		}
		want := []byte(`"keep":true`)
		return func(r shard.Record) bool { return bytes.Contains(r.Data, want) }, nil
	}
	f := newFixture(t, WithFilterCompiler(compile))
	arn := f.stream("src", 1)
	rec := f.recording("fn")
	if _, err := f.svc.Create(context.Background(), CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "LATEST",
		FilterCriteria: &FilterCriteria{Filters: []Filter{{Pattern: `{"a":1}`}, {Pattern: `{"a":1}`}, {Pattern: `{"a":1}`},
			{Pattern: `{"a":1}`}, {Pattern: `{"a":1}`}, {Pattern: `{"a":1}`}}}}); err == nil || !strings.Contains(err.Error(), "at most 5") {
		t.Fatalf("six filters: %v", err)
	}
	if _, err := f.svc.Create(context.Background(), CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "LATEST",
		FilterCriteria: &FilterCriteria{Filters: []Filter{{Pattern: `{"bad":`}}}}); err == nil || !strings.Contains(err.Error(), "not a JSON document") {
		t.Fatalf("bad pattern: %v", err)
	}
	m := f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON",
		FilterCriteria: &FilterCriteria{Filters: []Filter{{Pattern: `{"data":{"keep":[true]}}`}}}})
	seqs := f.put("src", "a", `{"n":1,"keep":true}`, "a", `{"n":2}`, "a", `{"n":3,"keep":true}`, "a", `{"n":4}`)
	eventually(t, "the checkpoint past the filtered last record", func() bool {
		return f.checkpoint(m.UUID, "shardId-000000000000").After == seqs[3]
	})
	if got := strings.Join(rec.perKey()["a"], " "); got != `{"n":1,"keep":true} {"n":3,"keep":true}` {
		t.Fatalf("the function got %s", got)
	}
	// A batch wholly filtered out invokes nothing.
	calls := len(f.inv.history())
	seqs = f.put("src", "a", `{"n":5}`)
	eventually(t, "the checkpoint past it", func() bool {
		return f.checkpoint(m.UUID, "shardId-000000000000").After == seqs[0]
	})
	if n := len(f.inv.history()); n != calls {
		t.Fatalf("%d invocations for a filtered-out record", n-calls)
	}
}

func TestDefaultFiltersAreLambdas(t *testing.T) {
	f := newFixture(t)
	arn := f.stream("src", 1)
	rec := f.recording("fn")
	m := f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON",
		FilterCriteria: &FilterCriteria{Filters: []Filter{
			{Pattern: `{"data":{"kind":["order"],"amount":[{"numeric":[">",100]}]}}`},
			{Pattern: `{"partitionKey":["vip"]}`},
		}}})
	seqs := f.put("src",
		"a", `{"kind":"order","amount":150}`, // matches the first
		"a", `{"kind":"order","amount":50}`, // too small
		"vip", `not json`, // matches the second on its key
		"a", `{"kind":"refund","amount":500}`)
	eventually(t, "the checkpoint at the last record", func() bool {
		return f.checkpoint(m.UUID, "shardId-000000000000").After == seqs[3]
	})
	got := rec.perKey()
	if strings.Join(got["a"], " ") != `{"kind":"order","amount":150}` || strings.Join(got["vip"], " ") != "not json" {
		t.Fatalf("the function got %v", got)
	}
}

func TestOversizedBatchIsSplit(t *testing.T) {
	f := newFixture(t)
	arn := f.stream("src", 1)
	rec := newRecorder()
	f.inv.set("fn", func(ctx context.Context, ev testEvent) (functions.Result, error) {
		if len(ev.Records) > 2 {
			return functions.Result{}, apierr.New(apierr.RequestTooLarge, "Request must be smaller than 6291456 bytes for the Invoke operation")
		}
		rec.note(ev)
		return ok(`{}`)
	})
	f.put("src", "a", "1", "a", "2", "a", "3", "a", "4", "a", "5")
	f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON", MaximumRetryAttempts: intp(0),
		DestinationConfig: &DestinationConfig{OnFailure: &Destination{Destination: "arn:aws:s3:::failed-batches"}}})
	eventually(t, "every record", func() bool { return rec.count() == 5 })
	if got := strings.Join(rec.perKey()["a"], ","); got != "1,2,3,4,5" || len(f.sink.records()) != 0 {
		t.Fatalf("delivered %s, %d reports; want 1,2,3,4,5 and none", got, len(f.sink.records()))
	}
}

// Large records never make an event over the payload limit, whatever
// BatchSize says: a batch of 10,000 records of 1 MiB would be 13 GB.
func TestBatchOfLargeRecordsStaysUnderPayloadLimit(t *testing.T) {
	f := newFixture(t)
	arn := f.stream("src", 1)
	rec := f.recording("fn")
	big := strings.Repeat("x", 900<<10)
	for i := range 12 {
		f.put("src", "k", fmt.Sprintf("%02d%s", i, big))
	}
	f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON", BatchSize: intp(10000)})
	eventually(t, "every record", func() bool { return rec.count() == 12 })
	f.inv.mu.Lock()
	defer f.inv.mu.Unlock()
	for _, p := range f.inv.raw {
		if len(p) > MaxPayloadBytes {
			t.Fatalf("an event of %d bytes; the limit is %d", len(p), MaxPayloadBytes)
		}
	}
	if len(f.inv.raw) < 3 {
		t.Fatalf("%d invocations for 12 records of 900 KiB; want them split", len(f.inv.raw))
	}
}
