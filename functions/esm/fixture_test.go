package esm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/functions"
	"github.com/spatehq/spate/functions/destination"
	"github.com/spatehq/spate/shard"
)

// testEvent decodes what a handler receives (the members of aws-lambda-go's
// events.KinesisEvent and KinesisTimeWindowEvent that the tests look at).
type testEvent struct {
	Records []struct {
		Kinesis struct {
			KinesisSchemaVersion        string  `json:"kinesisSchemaVersion"`
			PartitionKey                string  `json:"partitionKey"`
			SequenceNumber              string  `json:"sequenceNumber"`
			Data                        []byte  `json:"data"`
			ApproximateArrivalTimestamp float64 `json:"approximateArrivalTimestamp"`
		} `json:"kinesis"`
		EventSource    string `json:"eventSource"`
		EventID        string `json:"eventID"`
		EventName      string `json:"eventName"`
		EventSourceARN string `json:"eventSourceARN"`
	} `json:"Records"`
	Window *struct {
		Start time.Time `json:"start"`
		End   time.Time `json:"end"`
	} `json:"window"`
	State                   json.RawMessage `json:"state"`
	ShardID                 string          `json:"shardId"`
	IsFinalInvokeForWindow  bool            `json:"isFinalInvokeForWindow"`
	IsWindowTerminatedEarly bool            `json:"isWindowTerminatedEarly"`
}

func (e testEvent) datas() []string {
	out := make([]string, len(e.Records))
	for i, r := range e.Records {
		out[i] = string(r.Kinesis.Data)
	}
	return out
}

// handler is a fake function: it gets the decoded event and answers.
type handler func(ctx context.Context, ev testEvent) (functions.Result, error)

// fakeInvoker is a functions.Invoker over handlers by name.
type fakeInvoker struct {
	mu    sync.Mutex
	fns   map[string]handler
	calls []testEvent // every invocation, in order
	raw   [][]byte
}

func newFakeInvoker() *fakeInvoker { return &fakeInvoker{fns: map[string]handler{}} }

const testFnPrefix = "arn:aws:lambda:us-east-1:000000000000:function:"

func (f *fakeInvoker) set(name string, h handler) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fns[name] = h
}

func (f *fakeInvoker) FunctionARN(ctx context.Context, function string) (string, error) {
	name := strings.TrimPrefix(function, testFnPrefix)
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.fns[name]; !ok {
		return "", apierr.New(apierr.ResourceNotFound, "Function not found: %s", testFnPrefix+name)
	}
	return testFnPrefix + name, nil
}

func (f *fakeInvoker) Invoke(ctx context.Context, function string, payload []byte) (functions.Result, error) {
	var ev testEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return functions.Result{}, fmt.Errorf("fake invoker: undecodable event: %w", err)
	}
	f.mu.Lock()
	h := f.fns[strings.TrimPrefix(function, testFnPrefix)]
	f.calls = append(f.calls, ev)
	f.raw = append(f.raw, payload)
	f.mu.Unlock()
	if h == nil {
		return functions.Result{}, apierr.New(apierr.ResourceNotFound, "Function not found: %s", function)
	}
	return h(ctx, ev)
}

func (f *fakeInvoker) history() []testEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]testEvent(nil), f.calls...)
}

func ok(payload string) (functions.Result, error) {
	return functions.Result{Payload: []byte(payload), ExecutedVersion: functions.LatestVersion}, nil
}

func fnError(msg string) (functions.Result, error) {
	return functions.Result{Payload: []byte(`{"errorMessage":"` + msg + `","errorType":"Error"}`),
		FunctionError: "Unhandled", ExecutedVersion: functions.LatestVersion}, nil
}

// memSink is a FailureSink that keeps what it gets.
type memSink struct {
	mu   sync.Mutex
	sent []sentRecord
	fail int // fail the next n sends
}

type sentRecord struct {
	dest string
	rec  invocationRecord
	raw  string
}

func (m *memSink) Send(ctx context.Context, dest string, body []byte, _ ...destination.SendOption) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail > 0 {
		m.fail--
		return fmt.Errorf("destination unavailable")
	}
	var r invocationRecord
	if err := json.Unmarshal(body, &r); err != nil {
		return err
	}
	m.sent = append(m.sent, sentRecord{dest: dest, rec: r, raw: string(body)})
	return nil
}

func (m *memSink) records() []sentRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]sentRecord(nil), m.sent...)
}

type fixture struct {
	t     *testing.T
	dir   string
	store *shard.Store
	svc   *Service
	inv   *fakeInvoker
	sink  *memSink
	opts  []Option
	sopts []shard.Option
}

func newFixture(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir(), inv: newFakeInvoker(), sink: &memSink{}}
	f.opts = append([]Option{
		WithRetryBackoff(time.Millisecond, 20*time.Millisecond),
		WithFailureSink(f.sink),
		WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	}, opts...)
	f.open()
	t.Cleanup(f.close)
	return f
}

func (f *fixture) open() {
	f.t.Helper()
	st, err := shard.Open(f.dir, append([]shard.Option{shard.WithRegion("us-east-1"), shard.WithAccountID("000000000000")}, f.sopts...)...)
	if err != nil {
		f.t.Fatal(err)
	}
	svc, err := New(st, f.inv, f.opts...)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	f.store, f.svc = st, svc
}

func (f *fixture) close() {
	if f.svc != nil {
		_ = f.svc.Close()
		_ = f.store.Close()
		f.svc = nil
	}
}

func (f *fixture) restart() {
	f.close()
	f.open()
}

// stream creates a stream and returns its ARN.
func (f *fixture) stream(name string, shards int) string {
	f.t.Helper()
	if err := f.store.CreateStream(context.Background(), shard.CreateStreamInput{Name: name, ShardCount: shards}); err != nil {
		f.t.Fatal(err)
	}
	return f.store.StreamARN(name)
}

// put appends records (pk, data) and returns their sequence numbers.
func (f *fixture) put(stream string, kv ...string) []string {
	f.t.Helper()
	var entries []shard.Entry
	for i := 0; i < len(kv); i += 2 {
		entries = append(entries, shard.Entry{PartitionKey: kv[i], Data: []byte(kv[i+1])})
	}
	res, err := f.store.Append(context.Background(), stream, entries)
	if err != nil {
		f.t.Fatal(err)
	}
	out := make([]string, len(res))
	for i, r := range res {
		if r.ErrorCode != "" {
			f.t.Fatalf("append: %s", r.ErrorMessage)
		}
		out[i] = r.SequenceNumber
	}
	return out
}

func (f *fixture) create(in CreateInput) Mapping {
	f.t.Helper()
	m, err := f.svc.Create(context.Background(), in)
	if err != nil {
		f.t.Fatalf("create: %v", err)
	}
	return m
}

func (f *fixture) checkpoint(uuid, shardID string) checkpoint {
	f.t.Helper()
	ck, err := f.svc.loadCheckpoint(uuid, shardID)
	if err != nil {
		f.t.Fatal(err)
	}
	return ck
}

// eventually polls cond until it holds, failing the test after a long
// deadline (generous for -race on a loaded machine; never an assertion
// on time).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func intp(v int) *int    { return &v }
func boolp(v bool) *bool { return &v }

// recording registers fn as a function that takes every batch and keeps
// what it got.
func (f *fixture) recording(fn string) *recorder {
	rec := newRecorder()
	f.inv.set(fn, func(ctx context.Context, ev testEvent) (functions.Result, error) {
		rec.note(ev)
		return ok(`{}`)
	})
	return rec
}

// poisoned registers fn as a function that fails every batch holding a
// record whose data is "poison", and keeps the batches it took.
func (f *fixture) poisoned(fn string) *recorder {
	rec := newRecorder()
	f.inv.set(fn, func(ctx context.Context, ev testEvent) (functions.Result, error) {
		for _, d := range ev.datas() {
			if d == "poison" {
				return fnError("bad record")
			}
		}
		rec.note(ev)
		return ok(`{}`)
	})
	return rec
}
