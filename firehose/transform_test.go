package firehose

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/firehose/compress"
	"github.com/spatehq/spate/firehose/essink/estest"
	"github.com/spatehq/spate/functions"
	"github.com/spatehq/spate/shard"
)

const testFunctionARN = "arn:aws:lambda:us-east-1:000000000000:function:transform"

// fakeInvoker is a functions.Invoker whose one function, "transform", is
// handle. It records every event it was invoked with.
type fakeInvoker struct {
	handle func(ev fhTestEvent, call int) (functions.Result, error)

	mu     sync.Mutex
	events []fhTestEvent
}

// fhTestEvent decodes the transformation event as a handler does (the
// members of aws-lambda-go's events.KinesisFirehoseEvent).
type fhTestEvent struct {
	InvocationID           string `json:"invocationId"`
	DeliveryStreamArn      string `json:"deliveryStreamArn"`
	SourceKinesisStreamArn string `json:"sourceKinesisStreamArn"`
	Region                 string `json:"region"`
	Records                []struct {
		RecordID                    string `json:"recordId"`
		ApproximateArrivalTimestamp int64  `json:"approximateArrivalTimestamp"`
		Data                        []byte `json:"data"`
		KinesisRecordMetadata       *struct {
			ShardID                     string `json:"shardId"`
			PartitionKey                string `json:"partitionKey"`
			SequenceNumber              string `json:"sequenceNumber"`
			SubsequenceNumber           int64  `json:"subsequenceNumber"`
			ApproximateArrivalTimestamp int64  `json:"approximateArrivalTimestamp"`
		} `json:"kinesisRecordMetadata"`
	} `json:"records"`
}

func (f *fakeInvoker) FunctionARN(_ context.Context, fn string) (string, error) {
	if strings.Contains(fn, ":local:") {
		// The registry parses ARNs more strictly than LambdaArn's shape.
		return "", apierr.New(apierr.InvalidParameterValue, "FunctionName %q is invalid", fn)
	}
	name := strings.TrimSuffix(fn[strings.LastIndex(fn, "function:")+len("function:"):], ":$LATEST")
	if name != "transform" {
		return "", apierr.New(apierr.ResourceNotFound, "Function not found: %s", fn)
	}
	return testFunctionARN, nil
}

func (f *fakeInvoker) Invoke(ctx context.Context, fn string, payload []byte) (functions.Result, error) {
	if _, err := f.FunctionARN(ctx, fn); err != nil {
		return functions.Result{}, err
	}
	var ev fhTestEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return functions.Result{}, fmt.Errorf("event is not JSON: %w", err)
	}
	f.mu.Lock()
	f.events = append(f.events, ev)
	call := len(f.events)
	f.mu.Unlock()
	return f.handle(ev, call)
}

func (f *fakeInvoker) calls() []fhTestEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fhTestEvent(nil), f.events...)
}

// respond answers an event with one response record per event record, as
// result decides from the record's data ("" leaves the record out).
func respond(ev fhTestEvent, result func(data []byte) (string, []byte, map[string]string)) (functions.Result, error) {
	type rec struct {
		RecordID string          `json:"recordId"`
		Result   string          `json:"result"`
		Data     []byte          `json:"data"`
		Metadata json.RawMessage `json:"metadata,omitempty"`
	}
	var out struct {
		Records []rec `json:"records"`
	}
	for _, r := range ev.Records {
		res, data, keys := result(r.Data)
		if res == "" {
			continue
		}
		o := rec{RecordID: r.RecordID, Result: res, Data: data}
		if keys != nil {
			o.Metadata, _ = json.Marshal(map[string]any{"partitionKeys": keys})
		}
		out.Records = append(out.Records, o)
	}
	b, _ := json.Marshal(out)
	return functions.Result{Payload: b}, nil
}

// lambdaProcessing is a ProcessingConfiguration with a Lambda processor
// (extra parameters after LambdaArn) and a delimiter.
func lambdaProcessing(arn string, params ...string) *ProcessingConfiguration {
	p := Processor{Type: "Lambda", Parameters: []ProcessorParameter{{ParameterName: "LambdaArn", ParameterValue: arn}}}
	for i := 0; i+1 < len(params); i += 2 {
		p.Parameters = append(p.Parameters, ProcessorParameter{ParameterName: params[i], ParameterValue: params[i+1]})
	}
	return &ProcessingConfiguration{Enabled: boolp(true), Processors: []Processor{p, {Type: "AppendDelimiterToRecord"}}}
}

// errorLines decodes the error records under prefix.
func (f *fixture) errorLines(prefix string, n int) []errorRecord {
	f.t.Helper()
	var out []errorRecord
	for _, l := range f.waitLines(prefix, compress.Uncompressed, n) {
		var e errorRecord
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			f.t.Fatalf("error record %s: %v", l, err)
		}
		out = append(out, e)
	}
	return out
}

// TestLambdaTransformOkDroppedFailed: each record's result is honoured:
// Ok records are delivered as the function rewrote them, Dropped ones are
// not delivered, ProcessingFailed ones land under the processing-failed
// error prefix with their original data and the function's ARN; the event
// has the documented members.
func TestLambdaTransformOkDroppedFailed(t *testing.T) {
	reg := prometheus.NewRegistry()
	inv := &fakeInvoker{handle: func(ev fhTestEvent, _ int) (functions.Result, error) {
		return respond(ev, func(data []byte) (string, []byte, map[string]string) {
			var v struct{ N int }
			_ = json.Unmarshal(data, &v)
			switch v.N % 5 {
			case 1:
				return "Dropped", nil, nil
			case 2:
				return "ProcessingFailed", data, nil
			}
			return "Ok", fmt.Appendf(nil, `{"rewritten":%d}`, v.N), nil
		})
	}}
	f := newFixture(t, WithInvoker(inv), WithRegisterer(reg))
	ctx := context.Background()
	_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "xf",
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
			BucketARN: f.bucketARN(), Prefix: "xf/", ErrorOutputPrefix: "xf-errors/", BufferingHints: intervalZero(),
			ProcessingConfiguration: lambdaProcessing(testFunctionARN),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.putN("xf", 50, "N")
	var want []string
	for i := 0; i < 50; i++ {
		if i%5 != 1 && i%5 != 2 {
			want = append(want, fmt.Sprintf(`{"rewritten":%d}`, i))
		}
	}
	sort.Strings(want)
	got := f.waitLines("xf/", compress.Uncompressed, len(want))
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("delivered %d records %.300v, want the %d rewritten Ok records", len(got), got, len(want))
	}
	errs := f.errorLines("xf-errors/processing-failed/", 10)
	if len(errs) != 10 {
		t.Fatalf("%d error records, want the 10 ProcessingFailed ones", len(errs))
	}
	for _, e := range errs {
		raw, _ := base64.StdEncoding.DecodeString(e.RawData)
		var v struct{ N int }
		if err := json.Unmarshal(raw, &v); err != nil || v.N%5 != 2 {
			t.Errorf("error record rawData %q is not an original ProcessingFailed record", raw)
		}
		if e.ErrorCode != "Lambda.ProcessingFailed" || e.LambdaArn != testFunctionARN || e.AttemptsMade != 1 || e.ArrivalTimestamp == 0 {
			t.Errorf("error record %+v", e)
		}
	}
	calls := inv.calls()
	if len(calls) == 0 {
		t.Fatal("the function was never invoked")
	}
	ev := calls[0]
	if ev.DeliveryStreamArn != f.svc.ARN("xf") || ev.Region != "us-east-1" || len(ev.InvocationID) != 36 || ev.SourceKinesisStreamArn != "" {
		t.Errorf("event header %+v", ev)
	}
	for _, r := range ev.Records {
		if r.RecordID == "" || r.ApproximateArrivalTimestamp < time.Now().Add(-time.Hour).UnixMilli() || r.KinesisRecordMetadata != nil {
			t.Errorf("event record %+v", r)
		}
	}
	for result, want := range map[string]float64{"ok": 30, "dropped": 10, "failed": 10} {
		if got := counterOf(t, f.svc.metrics.processedRecords.WithLabelValues("xf", result)); got != want {
			t.Errorf("processing records %s = %v, want %v", result, got, want)
		}
	}
	if got := counterOf(t, f.svc.metrics.invocations.WithLabelValues("xf", "success")); got != float64(len(calls)) {
		t.Errorf("successful invocations %v, want %d", got, len(calls))
	}
}

// TestLambdaInvocationFailures: an invocation that fails is retried
// NumberOfRetries times and then its records go to processing-failed with
// the error; one that recovers within the retries delivers everything.
func TestLambdaInvocationFailures(t *testing.T) {
	okAll := func(ev fhTestEvent) (functions.Result, error) {
		return respond(ev, func(d []byte) (string, []byte, map[string]string) { return "Ok", d, nil })
	}
	tests := []struct {
		name     string
		retries  string
		handle   func(ev fhTestEvent, call int) (functions.Result, error)
		calls    int    // invocations in all (one event)
		wantCode string // "" when the records are delivered
		wantMsg  string
	}{
		{name: "function error", retries: "2", calls: 3, wantCode: "Lambda.FunctionError", wantMsg: "Error: boom",
			handle: func(fhTestEvent, int) (functions.Result, error) {
				return functions.Result{FunctionError: "Unhandled", Payload: []byte(`{"errorMessage":"boom","errorType":"Error"}`)}, nil
			}},
		{name: "no retries", retries: "0", calls: 1, wantCode: "Lambda.FunctionError",
			handle: func(fhTestEvent, int) (functions.Result, error) {
				return functions.Result{FunctionError: "Unhandled"}, nil
			}},
		{name: "throttled", retries: "1", calls: 2, wantCode: "Lambda.InvokeLimitExceeded",
			handle: func(fhTestEvent, int) (functions.Result, error) {
				return functions.Result{}, apierr.New(apierr.TooManyRequests, "Rate Exceeded.")
			}},
		{name: "missing record IDs", retries: "1", calls: 2, wantCode: "Lambda.MissingRecordId",
			handle: func(ev fhTestEvent, _ int) (functions.Result, error) {
				ev.Records = ev.Records[1:]
				return okAll(ev)
			}},
		{name: "duplicated record ID", retries: "1", calls: 2, wantCode: "Lambda.DuplicatedRecordId",
			handle: func(ev fhTestEvent, _ int) (functions.Result, error) {
				ev.Records = append(ev.Records, ev.Records[0])
				return okAll(ev)
			}},
		{name: "unknown record ID", retries: "1", calls: 2, wantCode: "Lambda.JsonProcessingException",
			handle: func(ev fhTestEvent, _ int) (functions.Result, error) {
				ev.Records[0].RecordID = "not-mine"
				return okAll(ev)
			}},
		{name: "unknown result", retries: "1", calls: 2, wantCode: "Lambda.JsonProcessingException", wantMsg: `"Fine"`,
			handle: func(ev fhTestEvent, _ int) (functions.Result, error) {
				return respond(ev, func(d []byte) (string, []byte, map[string]string) { return "Fine", d, nil })
			}},
		{name: "Ok without data", retries: "1", calls: 2, wantCode: "Lambda.JsonProcessingException",
			handle: func(ev fhTestEvent, _ int) (functions.Result, error) {
				return functions.Result{Payload: fmt.Appendf(nil, `{"records":[{"recordId":%q,"result":"Ok"}]}`, ev.Records[0].RecordID)}, nil
			}},
		{name: "not JSON", retries: "1", calls: 2, wantCode: "Lambda.JsonProcessingException",
			handle: func(fhTestEvent, int) (functions.Result, error) {
				return functions.Result{Payload: []byte("null?")}, nil
			}},
		{name: "recovers within the retries", retries: "3", calls: 3,
			handle: func(ev fhTestEvent, call int) (functions.Result, error) {
				if call < 3 {
					return functions.Result{FunctionError: "Unhandled"}, nil
				}
				return okAll(ev)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &fakeInvoker{handle: tt.handle}
			f := newFixture(t, WithInvoker(inv))
			ctx := context.Background()
			_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
				DeliveryStreamName: "fail",
				ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
					BucketARN: f.bucketARN(), Prefix: "ok/", ErrorOutputPrefix: "errors/", BufferingHints: intervalZero(),
					ProcessingConfiguration: lambdaProcessing(testFunctionARN, "NumberOfRetries", tt.retries),
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			// One PutRecordBatch is read as one batch: one event.
			f.putN("fail", 5, "k")
			if tt.wantCode == "" {
				wantLines(t, f.waitLines("ok/", compress.Uncompressed, 5), 5, "k")
			} else {
				errs := f.errorLines("errors/processing-failed/", 5)
				if len(errs) != 5 {
					t.Fatalf("%d error records, want all 5 records of the failed event", len(errs))
				}
				for _, e := range errs {
					if e.ErrorCode != tt.wantCode || e.AttemptsMade != tt.calls || e.LambdaArn != testFunctionARN || !strings.Contains(e.ErrorMessage, tt.wantMsg) {
						t.Errorf("error record %+v, want code %s after %d attempts, message with %q", e, tt.wantCode, tt.calls, tt.wantMsg)
					}
				}
				if objs := f.objects("ok/"); len(objs) != 0 {
					t.Errorf("records of a failed event were delivered: %v", objs)
				}
			}
			if got := len(inv.calls()); got != tt.calls {
				t.Errorf("%d invocations, want %d", got, tt.calls)
			}
			// The last delivery errors name the function's failures
			// (one entry: the retries of an event fail alike), or none
			// once an invocation succeeded.
			errs, err := f.svc.DeliveryErrors("fail")
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.wantCode == "" && len(errs) != 0:
				t.Errorf("delivery errors %+v after the function recovered, want none", errs)
			case tt.wantCode != "" && (len(errs) != 1 || errs[0].Destination != ErrorDestinationLambda || errs[0].ErrorCode != tt.wantCode || errs[0].Count != tt.calls):
				t.Errorf("delivery errors %+v, want one Lambda entry %s counted %d times", errs, tt.wantCode, tt.calls)
			}
		})
	}
}

// TestLambdaBufferSize: an invocation carries at most BufferSizeInMBs of
// record data (a larger record goes alone), every record exactly once,
// in order.
func TestLambdaBufferSize(t *testing.T) {
	inv := &fakeInvoker{handle: func(ev fhTestEvent, _ int) (functions.Result, error) {
		return respond(ev, func(d []byte) (string, []byte, map[string]string) { return "Ok", d[:8], nil })
	}}
	f := newFixture(t, WithInvoker(inv))
	ctx := context.Background()
	_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "buf",
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
			BucketARN: f.bucketARN(), Prefix: "buf/", BufferingHints: intervalZero(),
			ProcessingConfiguration: lambdaProcessing(testFunctionARN, "BufferSizeInMBs", "0.2"),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	const limit = 209715 // 0.2 MiB
	var batch [][]byte
	for i := 0; i < 12; i++ {
		size := 50 << 10
		if i == 5 {
			size = 300 << 10 // over the buffer on its own
		}
		batch = append(batch, fmt.Appendf(nil, "rec%05d%s", i, bytes.Repeat([]byte("x"), size-8)))
	}
	if _, err := f.svc.PutRecordBatch(ctx, "buf", batch); err != nil {
		t.Fatal(err)
	}
	if got := f.waitLines("buf/", compress.Uncompressed, 12); len(got) != 12 {
		t.Fatalf("%d records delivered, want 12", len(got))
	}
	var order []string
	for _, ev := range inv.calls() {
		size := 0
		for _, r := range ev.Records {
			size += len(r.Data)
			order = append(order, string(r.Data[:8]))
		}
		if size > limit && len(ev.Records) > 1 {
			t.Errorf("an invocation carries %d records, %d bytes: more than BufferSizeInMBs", len(ev.Records), size)
		}
	}
	if len(inv.calls()) < 4 {
		t.Errorf("%d invocations for 850 KiB with a 0.2 MB buffer, want at least 4", len(inv.calls()))
	}
	for i, id := range order {
		if id != fmt.Sprintf("rec%05d", i) {
			t.Fatalf("records went to the function as %v, want each once in order", order)
		}
	}
}

// TestLambdaEventPayloadLimit: many tiny records fill Lambda's 6 MB
// request before BufferSizeInMBs of data: the event is split there.
func TestLambdaEventPayloadLimit(t *testing.T) {
	s := &Service{cfg: defaultConfig()}
	w := &worker{s: s, meta: dsMeta{Name: "tiny", Type: TypeDirectPut}, shardID: "shardId-000000000000"}
	lp := &lambdaProcessor{arn: testFunctionARN, bufferBytes: 3 << 20}
	b := &batch{shardID: w.shardID}
	for i := 0; i < 100000; i++ {
		b.records = append(b.records, shard.Record{SequenceNumber: fmt.Sprintf("%056d", i), ArrivalTime: time.UnixMilli(1e12), Data: []byte("x")})
	}
	b.first, b.last = b.records[0].SequenceNumber, b.records[len(b.records)-1].SequenceNumber
	seen := 0
	ids := map[string]bool{}
	for start, n := 0, 0; start < len(b.records); n++ {
		payload, end := w.transformEvent(lp, b, start, n)
		if len(payload) > maxInvokePayload {
			t.Fatalf("event %d is %d bytes, over Lambda's %d", n, len(payload), maxInvokePayload)
		}
		var ev fhTestEvent
		if err := json.Unmarshal(payload, &ev); err != nil || len(ev.Records) != end-start {
			t.Fatalf("event %d: %d records for [%d,%d): %v", n, len(ev.Records), start, end, err)
		}
		if ids[ev.InvocationID] {
			t.Fatalf("invocation ID %s repeats within a batch", ev.InvocationID)
		}
		ids[ev.InvocationID] = true
		seen += end - start
		start = end
	}
	if seen != len(b.records) || len(ids) < 2 {
		t.Fatalf("%d records in %d events, want all %d in more than one", seen, len(ids), len(b.records))
	}
}

// TestLambdaPartitionKeys: the keys a function returns in
// metadata.partitionKeys render !{partitionKeyFromLambda:NAME}; a record
// without them goes to the error output, as a query key would.
func TestLambdaPartitionKeys(t *testing.T) {
	inv := &fakeInvoker{handle: func(ev fhTestEvent, _ int) (functions.Result, error) {
		return respond(ev, func(d []byte) (string, []byte, map[string]string) {
			var v struct{ K string }
			_ = json.Unmarshal(d, &v)
			if v.K == "" {
				return "Ok", d, nil
			}
			return "Ok", d, map[string]string{"tenant": v.K}
		})
	}}
	f := newFixture(t, WithInvoker(inv))
	ctx := context.Background()
	_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "lk",
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
			BucketARN: f.bucketARN(), Prefix: "lk/tenant=!{partitionKeyFromLambda:tenant}/", ErrorOutputPrefix: "lk-errors/!{firehose:error-output-type}/",
			BufferingHints:                   intervalZero(),
			DynamicPartitioningConfiguration: &DynamicPartitioningConfiguration{Enabled: boolp(true)},
			ProcessingConfiguration:          lambdaProcessing(testFunctionARN),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	batch := [][]byte{[]byte(`{"K":"a","n":1}`), []byte(`{"K":"b","n":2}`), []byte(`{"K":"a","n":3}`), []byte(`{"n":4}`)}
	if _, err := f.svc.PutRecordBatch(ctx, "lk", batch); err != nil {
		t.Fatal(err)
	}
	if got := f.waitLines("lk/tenant=a/", compress.Uncompressed, 2); strings.Join(got, "|") != `{"K":"a","n":1}|{"K":"a","n":3}` {
		t.Errorf("tenant a holds %v", got)
	}
	if got := f.waitLines("lk/tenant=b/", compress.Uncompressed, 1); strings.Join(got, "|") != `{"K":"b","n":2}` {
		t.Errorf("tenant b holds %v", got)
	}
	errs := f.errorLines("lk-errors/processing-failed/", 1)
	if len(errs) != 1 || errs[0].ErrorCode != "DynamicPartitioning.PartitionKeyError" {
		t.Errorf("error records %+v, want the record without keys", errs)
	}
}

// TestLambdaKinesisSourceEvent: with a Kinesis stream source the event
// names the stream and each record carries its Kinesis metadata.
func TestLambdaKinesisSourceEvent(t *testing.T) {
	inv := &fakeInvoker{handle: func(ev fhTestEvent, _ int) (functions.Result, error) {
		return respond(ev, func(d []byte) (string, []byte, map[string]string) { return "Ok", d, nil })
	}}
	f := newFixture(t, WithInvoker(inv))
	ctx := context.Background()
	if err := f.store.CreateStream(ctx, shard.CreateStreamInput{Name: "xf-src", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "ks", DeliveryStreamType: TypeKinesisStreamAsSource,
		KinesisStreamSourceConfiguration: &KinesisStreamSourceConfiguration{KinesisStreamARN: f.store.StreamARN("xf-src")},
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
			BucketARN: f.bucketARN(), Prefix: "ks/", BufferingHints: intervalZero(), ProcessingConfiguration: lambdaProcessing(testFunctionARN),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.store.Append(ctx, "xf-src", []shard.Entry{{PartitionKey: "pk-1", Data: []byte(`{"a":1}`)}})
	if err != nil {
		t.Fatal(err)
	}
	f.waitLines("ks/", compress.Uncompressed, 1)
	ev := inv.calls()[0]
	if ev.SourceKinesisStreamArn != f.store.StreamARN("xf-src") || len(ev.Records) != 1 {
		t.Fatalf("event %+v", ev)
	}
	m := ev.Records[0].KinesisRecordMetadata
	if m == nil || m.ShardID != "shardId-000000000000" || m.PartitionKey != "pk-1" || m.SequenceNumber != res[0].SequenceNumber ||
		m.ApproximateArrivalTimestamp != ev.Records[0].ApproximateArrivalTimestamp {
		t.Errorf("kinesisRecordMetadata %+v", m)
	}
}

// TestLambdaRedeliverySameObjects: a batch transformed and prepared again
// (a re-delivery after a crash) sends the function the same events and,
// the function being deterministic, yields the same objects.
func TestLambdaRedeliverySameObjects(t *testing.T) {
	inv := &fakeInvoker{handle: func(ev fhTestEvent, _ int) (functions.Result, error) {
		return respond(ev, func(d []byte) (string, []byte, map[string]string) {
			if bytes.Contains(d, []byte(`"n":3`)) {
				return "ProcessingFailed", d, nil
			}
			return "Ok", bytes.ToUpper(d), nil
		})
	}}
	f := newFixture(t, WithInvoker(inv))
	ctx := context.Background()
	cfg := &ExtendedS3DestinationConfiguration{
		BucketARN: f.bucketARN(), Prefix: "re/", ErrorOutputPrefix: "re-errors/", CompressionFormat: "GZIP",
		ProcessingConfiguration: lambdaProcessing(testFunctionARN, "BufferSizeInMBs", "0.2"),
	}
	meta := dsMeta{Name: "re", CreatedAtMs: 1, Version: 1, Type: TypeDirectPut, DestKind: "ExtendedS3", S3: cfg}
	sw, err := newS3Writer(f.svc, meta, "ExtendedS3DestinationConfiguration", cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := &worker{s: f.svc, meta: meta, shardID: "shardId-000000000000", out: &s3Deliverer{w: sw}}
	batchOf := func() *batch {
		b := &batch{shardID: w.shardID}
		for i := 0; i < 20; i++ {
			b.records = append(b.records, shard.Record{SequenceNumber: fmt.Sprintf("%056d", i+1), ArrivalTime: time.UnixMilli(1.7e12 + int64(i)),
				Data: fmt.Appendf(nil, `{"n":%d,"pad":%q}`, i, strings.Repeat("p", 20<<10))})
		}
		b.first, b.last = b.records[0].SequenceNumber, b.records[19].SequenceNumber
		return b
	}
	var objects [2][]object
	for i := range objects {
		sh, err := w.prepareWithRetry(ctx, batchOf())
		if err != nil {
			t.Fatal(err)
		}
		objects[i] = sh.(*s3Shipment).objects
	}
	if len(objects[0]) != 2 {
		t.Fatalf("%d objects, want the records and the processing-failed one", len(objects[0]))
	}
	if len(objects[1]) != len(objects[0]) {
		t.Fatalf("re-delivery made %d objects, the first delivery %d", len(objects[1]), len(objects[0]))
	}
	for i, o := range objects[0] {
		if p := objects[1][i]; p.key != o.key || !bytes.Equal(p.body, o.body) {
			t.Errorf("object %s differs on re-delivery (%s)", o.key, p.key)
		}
	}
	calls := inv.calls()
	if len(calls)%2 != 0 || len(calls) < 4 {
		t.Fatalf("%d invocations for two deliveries of a batch split in several events", len(calls))
	}
	half := len(calls) / 2
	for i := 0; i < half; i++ {
		a, _ := json.Marshal(calls[i])
		b, _ := json.Marshal(calls[half+i])
		if !bytes.Equal(a, b) {
			t.Errorf("event %d differs on re-delivery", i)
		}
	}
}

// TestLambdaStopsWithContext: an invocation cut short by shutdown fails
// nothing: the batch stays untransformed for its re-delivery.
func TestLambdaStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	inv := &fakeInvoker{handle: func(fhTestEvent, int) (functions.Result, error) {
		cancel()
		return functions.Result{}, context.Canceled
	}}
	s := &Service{cfg: defaultConfig()}
	s.cfg.invoker = inv
	lp := &lambdaProcessor{arn: testFunctionARN, bufferBytes: 1 << 20, retries: 3}
	w := &worker{s: s, meta: dsMeta{Name: "stop", Type: TypeDirectPut}, out: &s3Deliverer{w: &s3Writer{procs: processors{lambda: lp}}}}
	s.metrics, _ = newMetrics(nil, s)
	b := &batch{records: []shard.Record{{SequenceNumber: "1", Data: []byte("x")}}, first: "1", last: "1"}
	if err := w.transform(ctx, b); err == nil || b.lambda != nil {
		t.Fatalf("transform = %v with outcomes %v, want ctx's error and none", err, b.lambda)
	}
	if n := len(inv.calls()); n != 1 {
		t.Errorf("%d invocations after shutdown, want 1", n)
	}
}

// TestLambdaConfigurations: what CreateDeliveryStream and UpdateDestination
// accept and refuse in a Lambda processor.
func TestLambdaConfigurations(t *testing.T) {
	f := newFixture(t, WithInvoker(&fakeInvoker{}))
	ctx := context.Background()
	s3 := func(pc *ProcessingConfiguration, mod ...func(*ExtendedS3DestinationConfiguration)) *ExtendedS3DestinationConfiguration {
		c := &ExtendedS3DestinationConfiguration{BucketARN: f.bucketARN(), ProcessingConfiguration: pc}
		for _, m := range mod {
			m(c)
		}
		return c
	}
	arn := testFunctionARN
	tests := []struct {
		name string
		c    *ExtendedS3DestinationConfiguration
		want string // "" is accepted
	}{
		{"defaults", s3(lambdaProcessing(arn)), ""},
		{"every parameter", s3(lambdaProcessing(arn+":$LATEST", "BufferSizeInMBs", "3", "BufferIntervalInSeconds", "0",
			"NumberOfRetries", "300", "RoleArn", "arn:aws:iam::000000000000:role/firehose")), ""},
		{"no LambdaArn", s3(&ProcessingConfiguration{Enabled: boolp(true), Processors: []Processor{{Type: "Lambda"}}}), "needs the parameter LambdaArn"},
		{"LambdaArn a name", s3(lambdaProcessing("transform")), "not a Lambda function ARN"},
		{"LambdaArn of another service", s3(lambdaProcessing("arn:aws:sqs:us-east-1:000000000000:transform")), "not a Lambda function ARN"},
		{"unknown function", s3(lambdaProcessing("arn:aws:lambda:us-east-1:000000000000:function:nope")), "no such function"},
		{"ARN the registry refuses", s3(lambdaProcessing("arn:aws:lambda:local:000000000000:function:transform")), "is invalid"},
		{"buffer too small", s3(lambdaProcessing(arn, "BufferSizeInMBs", "0.1")), "BufferSizeInMBs"},
		{"buffer too large", s3(lambdaProcessing(arn, "BufferSizeInMBs", "3.5")), "BufferSizeInMBs"},
		{"buffer not a number", s3(lambdaProcessing(arn, "BufferSizeInMBs", "NaN")), "BufferSizeInMBs"},
		{"interval too long", s3(lambdaProcessing(arn, "BufferIntervalInSeconds", "901")), "BufferIntervalInSeconds"},
		{"interval negative", s3(lambdaProcessing(arn, "BufferIntervalInSeconds", "-1")), "BufferIntervalInSeconds"},
		{"retries too many", s3(lambdaProcessing(arn, "NumberOfRetries", "301")), "NumberOfRetries"},
		{"retries not an integer", s3(lambdaProcessing(arn, "NumberOfRetries", "1.5")), "NumberOfRetries"},
		{"parameter of another processor", s3(lambdaProcessing(arn, "MetadataExtractionQuery", "{a:.a}")), "does not apply to a Lambda processor"},
		{"unknown parameter", s3(lambdaProcessing(arn, "Memory", "1")), "unknown parameter"},
		{"parameter twice", s3(lambdaProcessing(arn, "NumberOfRetries", "1", "NumberOfRetries", "2")), "given twice"},
		{"two Lambda processors", s3(&ProcessingConfiguration{Enabled: boolp(true), Processors: append(lambdaProcessing(arn).Processors, lambdaProcessing(arn).Processors[0])}),
			"only one Lambda processor"},
		{"Lambda keys without a Lambda processor", s3(delimiter(), func(c *ExtendedS3DestinationConfiguration) {
			c.Prefix, c.ErrorOutputPrefix = "!{partitionKeyFromLambda:k}/", "e/"
			c.DynamicPartitioningConfiguration = &DynamicPartitioningConfiguration{Enabled: boolp(true)}
		}), "needs a Lambda processor"},
		{"Lambda keys without dynamic partitioning", s3(lambdaProcessing(arn), func(c *ExtendedS3DestinationConfiguration) {
			c.Prefix, c.ErrorOutputPrefix = "!{partitionKeyFromLambda:k}/", "e/"
		}), "needs DynamicPartitioningConfiguration.Enabled"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("cfg-%d", i)
			_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{DeliveryStreamName: name, ExtendedS3DestinationConfiguration: tt.c})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				d, err := f.svc.DescribeDeliveryStream(ctx, name)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := json.Marshal(d.Destinations[0].ExtendedS3DestinationDescription.ProcessingConfiguration)
				want, _ := json.Marshal(tt.c.ProcessingConfiguration)
				if !bytes.Equal(got, want) {
					t.Errorf("described processing\n got %s\nwant %s", got, want)
				}
				return
			}
			if apierr.CodeOf(err) != apierr.InvalidArgument || !strings.Contains(apierr.MessageOf(err), tt.want) {
				t.Fatalf("got %v, want InvalidArgumentException mentioning %q", err, tt.want)
			}
		})
	}

	// An update to an unknown function is refused and changes nothing.
	d, err := f.svc.DescribeDeliveryStream(ctx, "cfg-0")
	if err != nil {
		t.Fatal(err)
	}
	err = f.svc.UpdateDestination(ctx, UpdateDestinationInput{
		DeliveryStreamName: "cfg-0", CurrentDeliveryStreamVersionId: d.VersionId, DestinationId: d.Destinations[0].DestinationId,
		ExtendedS3DestinationUpdate: &ExtendedS3DestinationConfiguration{ProcessingConfiguration: lambdaProcessing("arn:aws:lambda:us-east-1:000000000000:function:gone")},
	})
	if apierr.CodeOf(err) != apierr.InvalidArgument || !strings.Contains(apierr.MessageOf(err), "no such function") {
		t.Fatalf("update to an unknown function: %v", err)
	}
}

// TestLambdaWithoutFunctions: a server without an invoker refuses a Lambda
// processor, and one restarted without it leaves such a delivery stream
// stopped, its records waiting, instead of failing them.
func TestLambdaWithoutFunctions(t *testing.T) {
	inv := &fakeInvoker{handle: func(ev fhTestEvent, _ int) (functions.Result, error) {
		return respond(ev, func(d []byte) (string, []byte, map[string]string) { return "Ok", d, nil })
	}}
	f := newFixture(t)
	ctx := context.Background()
	in := CreateDeliveryStreamInput{DeliveryStreamName: "nofn", ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
		BucketARN: f.bucketARN(), Prefix: "nofn/", BufferingHints: intervalZero(), ProcessingConfiguration: lambdaProcessing(testFunctionARN),
	}}
	_, err := f.svc.CreateDeliveryStream(ctx, in)
	if apierr.CodeOf(err) != apierr.InvalidArgument || !strings.Contains(apierr.MessageOf(err), "functions, which are not enabled") {
		t.Fatalf("create without functions: %v", err)
	}
	f.opts = append(f.opts, WithInvoker(inv))
	f.restart()
	if _, err := f.svc.CreateDeliveryStream(ctx, in); err != nil {
		t.Fatal(err)
	}
	f.close()
	f.opts = f.opts[:len(f.opts)-1] // functions off again
	f.open()
	if _, err := f.svc.DescribeDeliveryStream(ctx, "nofn"); err == nil {
		t.Fatal("a delivery stream with a Lambda processor started on a server without functions")
	}
}

// TestLambdaToElasticsearch: an Elasticsearch destination indexes what
// the function returned, skips Dropped records and backs up
// ProcessingFailed ones to S3 under processing-failed; it takes no other
// processor.
func TestLambdaToElasticsearch(t *testing.T) {
	es := estest.New(t)
	inv := &fakeInvoker{handle: func(ev fhTestEvent, _ int) (functions.Result, error) {
		return respond(ev, func(d []byte) (string, []byte, map[string]string) {
			var v struct{ N int }
			_ = json.Unmarshal(d, &v)
			switch v.N {
			case 1:
				return "Dropped", nil, nil
			case 2:
				return "ProcessingFailed", d, nil
			}
			return "Ok", fmt.Appendf(nil, `{"doubled":%d}`, 2*v.N), nil
		})
	}}
	f := newFixture(t, WithInvoker(inv))
	ctx := context.Background()
	es3 := func(pc *ProcessingConfiguration) *ElasticsearchDestinationConfiguration {
		return &ElasticsearchDestinationConfiguration{
			ClusterEndpoint: es.URL(), IndexName: "xf", IndexRotationPeriod: "NoRotation",
			BufferingHints: &BufferingHints{IntervalInSeconds: intp(0)}, ProcessingConfiguration: pc,
			S3Configuration: &S3DestinationConfiguration{BucketARN: f.bucketARN(), Prefix: "esb/"},
		}
	}
	_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{DeliveryStreamName: "bad-es", ElasticsearchDestinationConfiguration: es3(delimiter())})
	if apierr.CodeOf(err) != apierr.InvalidArgument || !strings.Contains(apierr.MessageOf(err), "takes only a Lambda processor") {
		t.Fatalf("Elasticsearch with a delimiter: %v", err)
	}
	lambdaOnly := lambdaProcessing(testFunctionARN)
	lambdaOnly.Processors = lambdaOnly.Processors[:1]
	if _, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{DeliveryStreamName: "es-xf", ElasticsearchDestinationConfiguration: es3(lambdaOnly)}); err != nil {
		t.Fatal(err)
	}
	res, err := f.svc.PutRecordBatch(ctx, "es-xf", [][]byte{[]byte(`{"N":0}`), []byte(`{"N":1}`), []byte(`{"N":2}`), []byte(`{"N":3}`)})
	if err != nil {
		t.Fatal(err)
	}
	errs := f.errorLines("esb/processing-failed/", 1)
	if len(errs) != 1 || errs[0].ErrorCode != "Lambda.ProcessingFailed" || errs[0].RawData != base64.StdEncoding.EncodeToString([]byte(`{"N":2}`)) {
		t.Fatalf("backed-up error records %+v", errs)
	}
	deadline := time.Now().Add(60 * time.Second)
	for es.Count("xf") < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := es.Count("xf"); n != 2 {
		t.Fatalf("index holds %d documents, want the 2 Ok records", n)
	}
	for i, want := range map[int]string{0: `{"doubled":0}`, 3: `{"doubled":6}`} {
		if got, ok := es.Source("xf", res.RequestResponses[i].RecordId); !ok || string(got) != want {
			t.Errorf("document of record %d = %s, want %s", i, got, want)
		}
	}
}

// FuzzApplyResponse: whatever a function returns, applyResponse does not
// panic, and either accepts it, giving every record an outcome, or refuses
// it and changes nothing.
func FuzzApplyResponse(f *testing.F) {
	f.Add([]byte(`{"records":[{"recordId":"a","result":"Ok","data":"eA=="},{"recordId":"b","result":"Dropped"}]}`))
	f.Add([]byte(`{"records":[{"recordId":"a","result":"ProcessingFailed"},{"recordId":"b","result":"Ok","data":"","metadata":{"partitionKeys":{"k":"v"}}}]}`))
	f.Add([]byte(`{"records":[{"recordId":"a","result":"Ok","data":"eA=="},{"recordId":"a","result":"Ok","data":"eA=="}]}`))
	f.Add([]byte(`{"records":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		ids := map[string]int{"a": 0, "b": 1}
		sentinel := lambdaOutcome{result: 255}
		out := []lambdaOutcome{sentinel, sentinel}
		code, msg := applyResponse(payload, ids, out)
		if code == "" {
			for i, o := range out {
				if o.result > outcomeFailed {
					t.Fatalf("accepted %q but record %d has no outcome", payload, i)
				}
			}
			return
		}
		if msg == "" {
			t.Fatalf("refused %q with code %s and no message", payload, code)
		}
		for i, o := range out {
			if o.result != sentinel.result {
				t.Fatalf("refused %q but changed record %d", payload, i)
			}
		}
	})
}

// A hostile function's error document must not multiply into the error
// output: every failed record of the invocation carries the message, so
// a 5 MB errorMessage over a thousand records would write 5 GB.
func TestFunctionErrorMessageBounded(t *testing.T) {
	huge := strings.Repeat("é", 2<<20)
	for _, doc := range []string{
		`{"errorType":"Error","errorMessage":"` + huge + `"}`,
		`{"errorType":"` + huge + `"}`,
	} {
		msg := functionErrorMessage([]byte(doc))
		if len(msg) > maxErrorMessage+100 {
			t.Errorf("message of %d bytes; want at most about %d", len(msg), maxErrorMessage)
		}
		if !utf8.ValidString(msg) {
			t.Errorf("message cut inside a character")
		}
	}
}
