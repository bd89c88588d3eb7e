package esm

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/functions"
)

func TestCreateValidation(t *testing.T) {
	f := newFixture(t)
	arn := f.stream("src", 1)
	f.inv.set("fn", func(ctx context.Context, ev testEvent) (functions.Result, error) { return ok(`{}`) })
	base := func() CreateInput {
		return CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON", Enabled: boolp(false)}
	}
	tests := []struct {
		name   string
		change func(in *CreateInput)
		code   apierr.Code
		says   string
	}{
		{"no source", func(in *CreateInput) { in.EventSourceArn = "" }, apierr.InvalidParameterValue, "EventSourceArn is required"},
		{"not an ARN", func(in *CreateInput) { in.EventSourceArn = "src" }, apierr.InvalidParameterValue, "not a Kinesis stream"},
		{"no such stream", func(in *CreateInput) { in.EventSourceArn = strings.Replace(arn, "/src", "/nope", 1) }, apierr.InvalidParameterValue, "Stream not found"},
		{"consumer", func(in *CreateInput) { in.EventSourceArn = arn + "/consumer/c:1" }, apierr.InvalidParameterValue, "consumer"},
		{"no function", func(in *CreateInput) { in.FunctionName = "nope" }, apierr.ResourceNotFound, "Function not found"},
		{"no starting position", func(in *CreateInput) { in.StartingPosition = "" }, apierr.InvalidParameterValue, "StartingPosition is required"},
		{"bad starting position", func(in *CreateInput) { in.StartingPosition = "AT_SEQUENCE_NUMBER" }, apierr.InvalidParameterValue, "TRIM_HORIZON, LATEST or AT_TIMESTAMP"},
		{"timestamp missing", func(in *CreateInput) { in.StartingPosition = "AT_TIMESTAMP" }, apierr.InvalidParameterValue, "StartingPositionTimestamp is required"},
		{"batch 0", func(in *CreateInput) { in.BatchSize = intp(0) }, apierr.InvalidParameterValue, "BatchSize must be between 1 and 10000"},
		{"batch 10001", func(in *CreateInput) { in.BatchSize = intp(10001) }, apierr.InvalidParameterValue, "BatchSize"},
		{"window 301", func(in *CreateInput) { in.MaximumBatchingWindowInSeconds = intp(301) }, apierr.InvalidParameterValue, "MaximumBatchingWindowInSeconds"},
		{"parallel 11", func(in *CreateInput) { in.ParallelizationFactor = intp(11) }, apierr.InvalidParameterValue, "ParallelizationFactor"},
		{"retries -2", func(in *CreateInput) { in.MaximumRetryAttempts = intp(-2) }, apierr.InvalidParameterValue, "MaximumRetryAttempts"},
		{"retries 10001", func(in *CreateInput) { in.MaximumRetryAttempts = intp(10001) }, apierr.InvalidParameterValue, "MaximumRetryAttempts"},
		{"age 59", func(in *CreateInput) { in.MaximumRecordAgeInSeconds = intp(59) }, apierr.InvalidParameterValue, "MaximumRecordAgeInSeconds must be -1"},
		{"age 604801", func(in *CreateInput) { in.MaximumRecordAgeInSeconds = intp(604801) }, apierr.InvalidParameterValue, "MaximumRecordAgeInSeconds"},
		{"tumbling 901", func(in *CreateInput) { in.TumblingWindowInSeconds = intp(901) }, apierr.InvalidParameterValue, "TumblingWindowInSeconds"},
		{"response type", func(in *CreateInput) { in.FunctionResponseTypes = []string{"Other"} }, apierr.InvalidParameterValue, "ReportBatchItemFailures"},
		{"bad filter", func(in *CreateInput) {
			in.FilterCriteria = &FilterCriteria{Filters: []Filter{{Pattern: `{"data":{"a":[1]}}`}, {Pattern: `{"data":[1]}`}}}
		}, apierr.InvalidParameterValue, "FilterCriteria.Filters[1].Pattern"},
		{"sqs destination", func(in *CreateInput) {
			in.DestinationConfig = &DestinationConfig{OnFailure: &Destination{Destination: "arn:aws:sqs:us-east-1:000000000000:dlq"}}
		}, apierr.InvalidParameterValue, "arn:aws:kinesis:REGION:ACCOUNT:stream/NAME"},
		{"on success", func(in *CreateInput) {
			in.DestinationConfig = &DestinationConfig{OnSuccess: &Destination{Destination: "arn:aws:kinesis:us-east-1:000000000000:stream/x"}}
		}, apierr.InvalidParameterValue, "OnSuccess"},
		{"on failure not an ARN", func(in *CreateInput) {
			in.DestinationConfig = &DestinationConfig{OnFailure: &Destination{Destination: "bucket"}}
		}, apierr.InvalidParameterValue, "not an ARN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := base()
			tc.change(&in)
			_, err := f.svc.Create(context.Background(), in)
			if !apierr.Is(err, tc.code) || !strings.Contains(apierr.MessageOf(err), tc.says) {
				t.Fatalf("got %v; want %s saying %q", err, tc.code, tc.says)
			}
		})
	}
	// Nothing was created by the refused requests.
	out, err := f.svc.List(context.Background(), ListInput{})
	if err != nil || len(out.EventSourceMappings) != 0 {
		t.Fatalf("list after refusals: %v %+v", err, out)
	}
}

func TestCreateDefaultsGetListDelete(t *testing.T) {
	f := newFixture(t)
	arn := f.stream("src", 1)
	arn2 := f.stream("src2", 1)
	f.inv.set("fn", func(ctx context.Context, ev testEvent) (functions.Result, error) { return ok(`{}`) })
	f.inv.set("other", func(ctx context.Context, ev testEvent) (functions.Result, error) { return ok(`{}`) })
	ctx := context.Background()
	m := f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "LATEST"})
	if m.State != StateCreating || m.BatchSize != 100 || m.ParallelizationFactor != 1 || *m.MaximumRetryAttempts != -1 ||
		*m.MaximumRecordAgeInSeconds != -1 || *m.MaximumBatchingWindowInSeconds != 0 || *m.BisectBatchOnFunctionError ||
		*m.TumblingWindowInSeconds != 0 || m.FunctionArn != testFnPrefix+"fn" ||
		m.EventSourceMappingArn != "arn:aws:lambda:us-east-1:000000000000:event-source-mapping:"+m.UUID {
		t.Fatalf("defaults: %+v", m)
	}
	if len(m.UUID) != 36 || m.UUID[14] != '4' {
		t.Fatalf("UUID %q is not a version 4 UUID", m.UUID)
	}
	b, _ := json.Marshal(m)
	if !strings.Contains(string(b), `"DestinationConfig":{"OnFailure":{}}`) || !strings.Contains(string(b), `"LastProcessingResult":"No records processed"`) {
		t.Fatalf("JSON view: %s", b)
	}
	eventually(t, "Enabled", func() bool {
		g, err := f.svc.Get(ctx, m.UUID)
		return err == nil && g.State == StateEnabled
	})
	_, err := f.svc.Create(ctx, CreateInput{EventSourceArn: arn, FunctionName: testFnPrefix + "fn", StartingPosition: "LATEST"})
	if !apierr.Is(err, apierr.ResourceConflict) || !strings.Contains(apierr.MessageOf(err), m.UUID) {
		t.Fatalf("duplicate mapping: %v", err)
	}
	m2 := f.create(CreateInput{EventSourceArn: arn, FunctionName: "other", StartingPosition: "TRIM_HORIZON", Enabled: boolp(false)})
	m3 := f.create(CreateInput{EventSourceArn: arn2, FunctionName: "fn", StartingPosition: "TRIM_HORIZON", Enabled: boolp(false)})
	eventually(t, "Disabled", func() bool {
		g, err := f.svc.Get(ctx, m2.UUID)
		return err == nil && g.State == StateDisabled
	})

	all, err := f.svc.List(ctx, ListInput{})
	if err != nil || len(all.EventSourceMappings) != 3 || all.NextMarker != "" {
		t.Fatalf("list all: %v %+v", err, all)
	}
	bySource, _ := f.svc.List(ctx, ListInput{EventSourceArn: arn})
	byFn, _ := f.svc.List(ctx, ListInput{FunctionName: "fn"})
	if len(bySource.EventSourceMappings) != 2 || len(byFn.EventSourceMappings) != 2 {
		t.Fatalf("filters: by source %d, by function %d; want 2 and 2", len(bySource.EventSourceMappings), len(byFn.EventSourceMappings))
	}
	// Paging visits every mapping once.
	seen := map[string]bool{}
	marker := ""
	for pages := 0; ; pages++ {
		page, err := f.svc.List(ctx, ListInput{MaxItems: 2, Marker: marker})
		if err != nil || pages > 3 {
			t.Fatalf("paging: %v after %d pages", err, pages)
		}
		for _, x := range page.EventSourceMappings {
			if seen[x.UUID] {
				t.Fatalf("mapping %s listed twice", x.UUID)
			}
			seen[x.UUID] = true
		}
		if page.NextMarker == "" {
			break
		}
		marker = page.NextMarker
	}
	if len(seen) != 3 || !seen[m.UUID] || !seen[m2.UUID] || !seen[m3.UUID] {
		t.Fatalf("paging saw %v", seen)
	}
	if _, err := f.svc.List(ctx, ListInput{MaxItems: 10001}); !apierr.Is(err, apierr.InvalidParameterValue) {
		t.Fatalf("MaxItems 10001: %v", err)
	}

	d, err := f.svc.Delete(ctx, m.UUID)
	if err != nil || d.State != StateDeleting {
		t.Fatalf("delete: %v %+v", err, d)
	}
	eventually(t, "the mapping to go", func() bool {
		_, err := f.svc.Get(ctx, m.UUID)
		return apierr.Is(err, apierr.ResourceNotFound)
	})
	if _, err := f.svc.Delete(ctx, m.UUID); !apierr.Is(err, apierr.ResourceNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	n := 0
	_ = f.store.ScanValues(valuesNS, checkpointPrefix(m.UUID), func(string, []byte) error { n++; return nil })
	_ = f.store.ScanValues(valuesNS, leasePrefix(m.UUID), func(string, []byte) error { n++; return nil })
	if n != 0 {
		t.Fatalf("%d checkpoint or lease keys left after delete", n)
	}
	if _, err := f.svc.Update(ctx, UpdateInput{UUID: m.UUID, BatchSize: intp(5)}); !apierr.Is(err, apierr.ResourceNotFound) {
		t.Fatalf("update of a deleted mapping: %v", err)
	}
	if _, err := f.svc.Update(ctx, UpdateInput{UUID: m2.UUID, BatchSize: intp(0)}); !apierr.Is(err, apierr.InvalidParameterValue) {
		t.Fatalf("update with BatchSize 0: %v", err)
	}
	u, err := f.svc.Update(ctx, UpdateInput{UUID: m2.UUID, BatchSize: intp(7), MaximumRetryAttempts: intp(3)})
	if err != nil || u.State != StateUpdating || u.BatchSize != 7 || *u.MaximumRetryAttempts != 3 {
		t.Fatalf("update: %v %+v", err, u)
	}
	eventually(t, "Disabled after the update", func() bool {
		g, err := f.svc.Get(ctx, m2.UUID)
		return err == nil && g.State == StateDisabled && g.BatchSize == 7
	})
	// Moving a mapping onto a function another mapping of the stream has
	// is a conflict, as creating it would be.
	m4 := f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "LATEST", Enabled: boolp(false)})
	if _, err := f.svc.Update(ctx, UpdateInput{UUID: m2.UUID, FunctionName: "fn"}); !apierr.Is(err, apierr.ResourceConflict) ||
		!strings.Contains(apierr.MessageOf(err), m4.UUID) {
		t.Fatalf("update onto a mapped function: %v", err)
	}
	// A change while one is under way is refused: a Service not started
	// leaves its new mapping Creating.
	idle, err := New(f.store, f.inv)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	m5, err := idle.Create(ctx, CreateInput{EventSourceArn: arn2, FunctionName: "other", StartingPosition: "LATEST"})
	if err != nil || m5.State != StateCreating {
		t.Fatalf("create: %v %s", err, m5.State)
	}
	if _, err := idle.Update(ctx, UpdateInput{UUID: m5.UUID, BatchSize: intp(4)}); !apierr.Is(err, apierr.ResourceInUse) ||
		!strings.Contains(apierr.MessageOf(err), "State Creating") {
		t.Fatalf("update while Creating: %v", err)
	}
}

// records puts n records of keys k0..k(keys-1), data "key:i", and returns
// their data in order per key.
func putKeyed(f *fixture, stream string, keys, n, from int) map[string][]string {
	want := map[string][]string{}
	var kv []string
	for i := from; i < from+n; i++ {
		k := fmt.Sprintf("k%d", i%keys)
		d := fmt.Sprintf("%s:%d", k, i)
		kv = append(kv, k, d)
		want[k] = append(want[k], d)
	}
	for len(kv) > 0 {
		c := min(len(kv), 2*500)
		f.put(stream, kv[:c]...)
		kv = kv[c:]
	}
	return want
}

// seenPerKey is the data the function got successfully, in order per key.
type recorder struct {
	mu  chanMutex
	got map[string][]string
	all []string
}

type chanMutex chan struct{}

func (m chanMutex) lock()   { m <- struct{}{} }
func (m chanMutex) unlock() { <-m }

func newRecorder() *recorder { return &recorder{mu: make(chanMutex, 1), got: map[string][]string{}} }

func (r *recorder) note(ev testEvent) {
	r.mu.lock()
	defer r.mu.unlock()
	for _, rec := range ev.Records {
		r.got[rec.Kinesis.PartitionKey] = append(r.got[rec.Kinesis.PartitionKey], string(rec.Kinesis.Data))
		r.all = append(r.all, string(rec.Kinesis.Data))
	}
}

func (r *recorder) count() int {
	r.mu.lock()
	defer r.mu.unlock()
	return len(r.all)
}

func (r *recorder) perKey() map[string][]string {
	r.mu.lock()
	defer r.mu.unlock()
	out := map[string][]string{}
	for k, v := range r.got {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// checkOrder checks that got holds want's records per key, in order; with
// dups allowed, a record may repeat (at least once) but never go back
// before one already seen after it... here: exact.
func checkExact(t *testing.T, got, want map[string][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d keys, want %d", len(got), len(want))
	}
	for k, w := range want {
		g := got[k]
		if strings.Join(g, ",") != strings.Join(w, ",") {
			t.Fatalf("key %s: got %d records %v..., want %d in order", k, len(g), g[:min(5, len(g))], len(w))
		}
	}
}

func TestDeliversInOrderCheckpointsAndResumes(t *testing.T) {
	f := newFixture(t)
	arn := f.stream("src", 1)
	rec := newRecorder()
	f.inv.set("fn", func(ctx context.Context, ev testEvent) (functions.Result, error) {
		rec.note(ev)
		return ok(`null`)
	})
	want := putKeyed(f, "src", 5, 250, 0)
	m := f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON", BatchSize: intp(40)})
	eventually(t, "250 records", func() bool { return rec.count() >= 250 })
	checkExact(t, rec.perKey(), want)
	for _, ev := range f.inv.history() {
		if len(ev.Records) > 40 {
			t.Fatalf("a batch of %d records; BatchSize is 40", len(ev.Records))
		}
	}
	// The event is the aws:kinesis shape.
	first := f.inv.history()[0].Records[0]
	if first.EventSource != "aws:kinesis" || first.EventName != "aws:kinesis:record" || first.Kinesis.KinesisSchemaVersion != "1.0" ||
		first.EventID != "shardId-000000000000:"+first.Kinesis.SequenceNumber || first.EventSourceARN != arn ||
		first.Kinesis.ApproximateArrivalTimestamp < 1e9 {
		t.Fatalf("event record: %+v", first)
	}
	eventually(t, "the checkpoint at the last record", func() bool {
		return f.checkpoint(m.UUID, "shardId-000000000000").After != ""
	})
	g, _ := f.svc.Get(context.Background(), m.UUID)
	if g.LastProcessingResult != "OK" {
		t.Fatalf("LastProcessingResult %q", g.LastProcessingResult)
	}

	// Restart: the mapping resumes after its checkpoint; the records
	// already handled are not delivered again.
	eventually(t, "checkpoint past every record", func() bool {
		ck := f.checkpoint(m.UUID, "shardId-000000000000")
		return ck.After != "" && strings.HasSuffix(ck.After, fmt.Sprintf("%032d", 250))
	})
	f.restart()
	more := putKeyed(f, "src", 5, 50, 250)
	eventually(t, "300 records", func() bool { return rec.count() >= 300 })
	for k, v := range more {
		want[k] = append(want[k], v...)
	}
	checkExact(t, rec.perKey(), want)
}

func TestRetriesExhaustedReportsAndMovesOn(t *testing.T) {
	f := newFixture(t)
	arn := f.stream("src", 1)
	rec := f.poisoned("fn")
	seqs := f.put("src", "a", "1", "a", "poison", "a", "2")
	dest := "arn:aws:s3:::failures"
	m := f.create(CreateInput{EventSourceArn: arn, FunctionName: "fn", StartingPosition: "TRIM_HORIZON",
		MaximumRetryAttempts: intp(2), DestinationConfig: &DestinationConfig{OnFailure: &Destination{Destination: dest}}})
	eventually(t, "the failure record", func() bool { return len(f.sink.records()) == 1 })
	s := f.sink.records()[0]
	r := s.rec
	if s.dest != dest || r.RequestContext.Condition != ConditionRetriesExhausted || r.RequestContext.ApproximateInvokeCount != 3 ||
		r.RequestContext.FunctionArn != testFnPrefix+"fn" || r.ResponseContext.FunctionError != "Unhandled" ||
		r.ResponseContext.StatusCode != 200 || r.ResponseContext.ExecutedVersion != "$LATEST" || r.Version != "1.0" ||
		r.BatchInfo.BatchSize != 3 || r.BatchInfo.StartSequenceNumber != seqs[0] || r.BatchInfo.EndSequenceNumber != seqs[2] ||
		r.BatchInfo.ShardID != "shardId-000000000000" || r.BatchInfo.StreamArn != arn || len(r.RequestContext.RequestID) != 36 {
		t.Fatalf("invocation record: %s", s.raw)
	}
	if !strings.HasPrefix(s.raw, `{"requestContext":{"requestId":`) || !strings.Contains(s.raw, `"KinesisBatchInfo":{"shardId":`) {
		t.Fatalf("invocation record layout: %s", s.raw)
	}
	// An S3 destination's record carries the batch's event, as AWS's do.
	var payload testEvent
	if err := json.Unmarshal(r.Payload, &payload); err != nil || strings.Join(payload.datas(), ",") != "1,poison,2" {
		t.Fatalf("payload %s: %v", r.Payload, err)
	}
	if calls := len(f.inv.history()); calls != 3 {
		t.Fatalf("%d invocations; want 3 (1 + MaximumRetryAttempts 2)", calls)
	}
	// The shard moves on past the failed batch.
	f.put("src", "a", "3")
	eventually(t, "the next record", func() bool { return rec.count() == 1 })
	if got := rec.perKey()["a"]; len(got) != 1 || got[0] != "3" {
		t.Fatalf("after the failed batch the function got %v; want [3]", got)
	}
	eventually(t, "the checkpoint past it", func() bool {
		return strings.HasSuffix(f.checkpoint(m.UUID, "shardId-000000000000").After, fmt.Sprintf("%032d", 4))
	})
}
