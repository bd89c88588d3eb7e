package analytics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spatehq/spate/analytics/query"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/shard"
)

// fixture is a store with a source stream and an output stream, and a
// Service over it that checkpoints often.
type fixture struct {
	opts  []Option
	t     *testing.T
	dir   string
	store *shard.Store
	svc   *Service

	// storeOpts are the store's options at the next open.
	storeOpts []shard.Option
}

func newFixture(t *testing.T, shards int, opts ...Option) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir(), opts: opts}
	f.open()
	ctx := context.Background()
	for _, s := range []struct {
		name string
		n    int
	}{{"events", shards}, {"out", 1}, {"late", 1}} {
		if err := f.store.CreateStream(ctx, shard.CreateStreamInput{Name: s.name, ShardCount: s.n}); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { f.close() })
	return f
}

func (f *fixture) open() {
	var err error
	if f.store, err = shard.Open(f.dir, f.storeOpts...); err != nil {
		f.t.Fatal(err)
	}
	opts := append([]Option{WithCheckpointInterval(20 * time.Millisecond)}, f.opts...)
	if f.svc, err = New(context.Background(), f.store, opts...); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) close() {
	if f.svc != nil {
		_ = f.svc.Close()
		_ = f.store.Close()
		f.svc = nil
	}
}

func (f *fixture) put(records ...string) {
	f.t.Helper()
	entries := make([]shard.Entry, len(records))
	for i, r := range records {
		entries[i] = shard.Entry{PartitionKey: fmt.Sprintf("pk%d", i), Data: []byte(r)}
	}
	if _, err := f.store.Append(context.Background(), "events", entries); err != nil {
		f.t.Fatal(err)
	}
}

// read returns every record of a one-shard stream, decoded.
func (f *fixture) read(stream string) []map[string]any {
	f.t.Helper()
	ctx := context.Background()
	c, err := f.store.Seek(ctx, stream, "shardId-000000000000", shard.Position{Type: shard.TrimHorizon})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []map[string]any
	for {
		r, err := f.store.Read(ctx, c, 1000, 1<<20)
		if err != nil {
			f.t.Fatal(err)
		}
		for _, rec := range r.Records {
			var m map[string]any
			if err := json.Unmarshal(rec.Data, &m); err != nil {
				f.t.Fatalf("output %q is not a JSON object: %v", rec.Data, err)
			}
			out = append(out, m)
		}
		if len(r.Records) == 0 {
			return out
		}
		c = r.Next
	}
}

// waitFor polls until cond holds; tests never assert on how long it took.
func (f *fixture) waitFor(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			f.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStatelessInsertWritesFilteredRows(t *testing.T) {
	f := newFixture(t, 2)
	ctx := context.Background()
	_, err := f.svc.Create(ctx, CreateInput{Name: "filter", SQL: `INSERT INTO out SELECT sym, price * 2 AS doubled FROM events WHERE price > 10`})
	if err != nil {
		t.Fatal(err)
	}
	f.put(`{"sym":"A","price":5}`, `{"sym":"B","price":11}`, `not json`, `{"sym":"C","price":20.5}`)
	f.waitFor("two output rows", func() bool { return len(f.read("out")) == 2 })
	rows := f.read("out")
	sort.Slice(rows, func(i, j int) bool { return rows[i]["sym"].(string) < rows[j]["sym"].(string) })
	if rows[0]["sym"] != "B" || rows[0]["doubled"] != 22.0 || rows[1]["sym"] != "C" || rows[1]["doubled"] != 41.0 {
		t.Fatalf("rows = %v", rows)
	}
	f.waitFor("stats", func() bool {
		d, _ := f.svc.Describe(ctx, "filter")
		return d.RowsIn == 4 && d.BadRows == 1 && d.RowsOut == 2
	})
	d, _ := f.svc.Describe(ctx, "filter")
	if d.Status != StatusRunning || len(d.Inputs) != 2 || d.Source != "events" || d.Target != "out" {
		t.Fatalf("describe = %+v", d)
	}
	// The application reads as a named consumer: its iterator age has its
	// own series, and deleting the application drops it.
	consumerAges := func() int {
		m, err := f.store.StreamMetrics(ctx, "events")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, sh := range m.Shards {
			if _, ok := sh.ConsumerAgesMs["analytics:filter"]; ok {
				n++
			}
		}
		return n
	}
	if n := consumerAges(); n != 2 {
		t.Fatalf("shards with an analytics:filter iterator age = %d, want 2", n)
	}
	if err := f.svc.Delete(ctx, "filter"); err != nil {
		t.Fatal(err)
	}
	if n := consumerAges(); n != 0 {
		t.Fatalf("after delete, shards with an analytics:filter iterator age = %d, want 0", n)
	}
}

func TestTumblingWindowSurvivesRestartExactlyOnce(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	sql := `INSERT INTO out SELECT k, TUMBLE_START(ts, INTERVAL '10' SECOND) AS ws, COUNT(*) AS c, SUM(v) AS s
FROM events GROUP BY k, TUMBLE(ts, INTERVAL '10' SECOND)`
	if _, err := f.svc.Create(ctx, CreateInput{Name: "tumble", SQL: sql}); err != nil {
		t.Fatal(err)
	}
	// Window [0, 10 s): a=2 rows, b=1 row. The row at 10 s closes it.
	f.put(`{"k":"a","ts":1000,"v":1}`, `{"k":"b","ts":2000,"v":5}`, `{"k":"a","ts":"1970-01-01T00:00:09.999Z","v":2}`)
	f.put(`{"k":"a","ts":10000,"v":7}`)
	f.waitFor("first window", func() bool { return len(f.read("out")) == 2 })

	// Restart everything: the open window [10 s, 20 s) lives on in the
	// checkpoint, and nothing already written is written again.
	f.waitFor("checkpoint of input", func() bool {
		d, _ := f.svc.Describe(ctx, "tumble")
		return d.RowsIn == 4
	})
	f.close()
	f.open()
	f.put(`{"k":"a","ts":12000,"v":1}`, `{"k":"a","ts":25000,"v":1}`)
	f.waitFor("second window", func() bool { return len(f.read("out")) == 3 })
	rows := f.read("out")
	got := map[string]float64{}
	for _, r := range rows {
		got[fmt.Sprintf("%s@%s", r["k"], r["ws"])] = r["c"].(float64)*1000 + r["s"].(float64)
	}
	want := map[string]float64{
		"a@1970-01-01T00:00:00.000Z": 2*1000 + 3,
		"b@1970-01-01T00:00:00.000Z": 1*1000 + 5,
		"a@1970-01-01T00:00:10.000Z": 2*1000 + 8,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("windows = %v, want %v", got, want)
	}
}

func TestBareSelectStreamsResults(t *testing.T) {
	f := newFixture(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := f.svc.Create(ctx, CreateInput{Name: "adhoc", SQL: `SELECT sym FROM events WHERE sym LIKE 'A%'`, Temporary: true}); err != nil {
		t.Fatal(err)
	}
	f.put(`{"sym":"AAPL"}`, `{"sym":"MSFT"}`, `{"sym":"AMZN"}`)
	var cols []string
	var got []string
	err := f.svc.Results(ctx, "adhoc", func(c []string) error { cols = c; return nil }, func(r Row) error {
		got = append(got, r[0].Value.S)
		if len(got) == 2 {
			return errDone
		}
		return nil
	})
	if !errors.Is(err, errDone) {
		t.Fatal(err)
	}
	if fmt.Sprint(cols) != "[sym]" || fmt.Sprint(got) != "[AAPL AMZN]" {
		t.Fatalf("columns %v rows %v", cols, got)
	}
	// The temporary application went away with its last subscriber.
	if _, err := f.svc.Describe(ctx, "adhoc"); !apierr.Is(err, apierr.ResourceNotFound) {
		t.Fatalf("temporary application after its subscriber left: %v", err)
	}
}

var errDone = errors.New("done")

func TestStopStartDeleteAndPersistence(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	if _, err := f.svc.Create(ctx, CreateInput{Name: "p", SQL: `INSERT INTO out SELECT v FROM events`}); err != nil {
		t.Fatal(err)
	}
	f.put(`{"v":1}`)
	f.waitFor("row 1", func() bool { return len(f.read("out")) == 1 })
	if err := f.svc.Stop(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	f.put(`{"v":2}`)
	if d, _ := f.svc.Describe(ctx, "p"); d.Status != StatusStopped {
		t.Fatalf("status after stop = %s", d.Status)
	}
	// A stopped application stays stopped across a restart.
	f.close()
	f.open()
	if d, err := f.svc.Describe(ctx, "p"); err != nil || d.Status != StatusStopped {
		t.Fatalf("after restart: %+v, %v", d, err)
	}
	if n := len(f.read("out")); n != 1 {
		t.Fatalf("a stopped application wrote: %d rows", n)
	}
	if err := f.svc.Start(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	f.waitFor("row 2", func() bool { return len(f.read("out")) == 2 })
	if err := f.svc.Delete(ctx, "p"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Describe(ctx, "p"); !apierr.Is(err, apierr.ResourceNotFound) {
		t.Fatalf("describe after delete: %v", err)
	}
	if _, ok, _ := f.store.GetValue(namespace, "state/p"); ok {
		t.Fatal("state left after delete")
	}
}

func TestCreateRejects(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	if _, err := f.svc.Create(ctx, CreateInput{Name: "dup", SQL: `INSERT INTO out SELECT v FROM events`}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   CreateInput
		code apierr.Code // "" means a *query.Error
	}{
		{"bad name", CreateInput{Name: "a b", SQL: `SELECT v FROM events`}, apierr.InvalidArgument},
		{"duplicate", CreateInput{Name: "dup", SQL: `SELECT v FROM events`}, apierr.ResourceInUse},
		{"missing source", CreateInput{Name: "x", SQL: `SELECT v FROM nope`}, apierr.ResourceNotFound},
		{"missing target", CreateInput{Name: "x", SQL: `INSERT INTO nope SELECT v FROM events`}, apierr.ResourceNotFound},
		{"temporary insert", CreateInput{Name: "x", SQL: `INSERT INTO out SELECT v FROM events`, Temporary: true}, apierr.InvalidArgument},
		{"sql error", CreateInput{Name: "x", SQL: `SELECT COUNT(*) FROM events`}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.Create(ctx, tc.in)
			if tc.code == "" {
				var qe *query.Error
				if !errors.As(err, &qe) {
					t.Fatalf("err = %v, want a *query.Error", err)
				}
				return
			}
			if !apierr.Is(err, tc.code) {
				t.Fatalf("err = %v, want %s", err, tc.code)
			}
		})
	}
	list, _ := f.svc.List(ctx)
	if len(list) != 1 {
		t.Fatalf("rejected creates left applications: %+v", list)
	}
}

func TestLateRowsGoToLateStream(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	sql := `SET late_rows = 'late';
INSERT INTO out SELECT COUNT(*) AS c FROM events GROUP BY TUMBLE(ts, INTERVAL '1' SECOND)`
	if _, err := f.svc.Create(ctx, CreateInput{Name: "l", SQL: sql}); err != nil {
		t.Fatal(err)
	}
	f.put(`{"ts":100}`, `{"ts":1500}`, `{"ts":200}`, `{"ts":2500}`)
	f.waitFor("windows and the late row", func() bool { return len(f.read("out")) == 2 && len(f.read("late")) == 1 })
	if late := f.read("late"); late[0]["ts"] != 200.0 {
		t.Fatalf("late row = %v", late[0])
	}
	d, _ := f.svc.Describe(ctx, "l")
	if d.LateRows != 1 {
		t.Fatalf("late rows = %d", d.LateRows)
	}
}

// streamOutputs resolves delivery-stream names the way Firehose does, to
// the internal stream that buffers them.
type streamOutputs map[string]string

func (o streamOutputs) DirectPutStream(name string) (string, error) {
	if s, ok := o[name]; ok {
		return s, nil
	}
	return "", apierr.New(apierr.ResourceNotFound, "delivery stream %s not found", name)
}

func TestInsertIntoDeliveryStream(t *testing.T) {
	f := newFixture(t, 1, WithOutputs(streamOutputs{"deliver": "firehose:deliver"}))
	ctx := context.Background()
	if err := f.store.CreateStream(ctx, shard.CreateStreamInput{Name: "firehose:deliver", ShardCount: 1, Internal: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Create(ctx, CreateInput{Name: "d", SQL: `INSERT INTO deliver SELECT v FROM events`}); err != nil {
		t.Fatal(err)
	}
	f.put(`{"v":1}`, `{"v":2}`)
	f.waitFor("rows in the delivery stream's buffer", func() bool { return len(f.read("firehose:deliver")) == 2 })
}

func TestStreamTagsSetDefaults(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	// One second of allowed lateness by default for every reader of events.
	if err := f.store.AddTags(ctx, "events", map[string]string{"analytics.allowed_lateness": "1s"}); err != nil {
		t.Fatal(err)
	}
	window := `FROM events GROUP BY TUMBLE(ts, INTERVAL '1' SECOND)`
	if _, err := f.svc.Create(ctx, CreateInput{Name: "tagged", SQL: `INSERT INTO out SELECT COUNT(*) AS c ` + window}); err != nil {
		t.Fatal(err)
	}
	// The script's own SET wins over the tag.
	if _, err := f.svc.Create(ctx, CreateInput{Name: "strict", SQL: `SET allowed_lateness = 0; INSERT INTO late SELECT COUNT(*) AS c ` + window}); err != nil {
		t.Fatal(err)
	}
	// 200 arrives after the watermark reached 1500: late without
	// lateness, on time with one second of it.
	f.put(`{"ts":100}`, `{"ts":1500}`, `{"ts":200}`, `{"ts":9000}`)
	f.waitFor("both applications' windows", func() bool { return len(f.read("out")) == 2 && len(f.read("late")) == 2 })
	tagged, strict := f.read("out"), f.read("late")
	if tagged[0]["c"] != 2.0 || strict[0]["c"] != 1.0 {
		t.Fatalf("first window: with the tag's lateness %v, with SET allowed_lateness = 0 %v", tagged[0], strict[0])
	}

	if err := f.store.AddTags(ctx, "events", map[string]string{"analytics.emit": "sometimes"}); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.Create(ctx, CreateInput{Name: "bad", SQL: `INSERT INTO out SELECT COUNT(*) AS c ` + window})
	if !apierr.Is(err, apierr.InvalidArgument) {
		t.Fatalf("a bad default: err = %v, want InvalidArgument", err)
	}
}

func TestLatestStartIsPinnedAtCreation(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	f.put(`{"v":0}`) // before the application: LATEST skips it
	if _, err := f.svc.Create(ctx, CreateInput{Name: "latest", SQL: `SET start_position = 'LATEST'; INSERT INTO out SELECT v FROM events`}); err != nil {
		t.Fatal(err)
	}
	f.waitFor("the first checkpoint", func() bool {
		_, ok, _ := f.store.GetValue(namespace, "state/latest")
		return ok
	})
	// A record that arrives while the server is down must not be skipped
	// by seeking LATEST again at the restart.
	f.close()
	store, err := shard.Open(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, "events", []shard.Entry{{PartitionKey: "p", Data: []byte(`{"v":1}`)}}); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	f.open()
	f.waitFor("the record put while down", func() bool { return len(f.read("out")) == 1 })
	if rows := f.read("out"); rows[0]["v"] != 1.0 {
		t.Fatalf("rows = %v", rows)
	}
}

// TestInternalStreamsAreHidden: a delivery stream's buffer ("firehose:x")
// cannot be read or written through Analytics (issue 11 defect 6): it is
// refused by name, exactly as a name that exists nowhere.
func TestInternalStreamsAreHidden(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	if err := f.store.CreateStream(ctx, shard.CreateStreamInput{Name: "firehose:x", ShardCount: 1, Internal: true}); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		"SELECT v FROM `firehose:x`",
		"SELECT v FROM `firehose:nope`",
		"INSERT INTO `firehose:x` SELECT v FROM events",
		"SET late_rows = 'firehose:x'; INSERT INTO out SELECT COUNT(*) AS c FROM events GROUP BY TUMBLE(ts, INTERVAL '1' SECOND)",
	} {
		t.Run(sql, func(t *testing.T) {
			for op, err := range map[string]error{
				"validate": func() error { _, err := f.svc.Validate(sql); return err }(),
				"create":   func() error { _, err := f.svc.Create(ctx, CreateInput{Name: "x", SQL: sql}); return err }(),
			} {
				var qe *query.Error
				if !errors.As(err, &qe) || !strings.Contains(qe.Msg, "firehose:") && !strings.Contains(qe.Msg, "late_rows must name a stream") {
					t.Errorf("%s: err = %v, want a *query.Error naming the stream", op, err)
				}
			}
		})
	}
	if list, _ := f.svc.List(ctx); len(list) != 0 {
		t.Fatalf("applications on an internal stream: %+v", list)
	}
}

// TestScriptSizeLimitWithDefaults: a script of the largest size allowed
// compiles with its stream's default settings in front, also on restart.
func TestScriptSizeLimitWithDefaults(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	if err := f.store.AddTags(ctx, "events", map[string]string{"analytics.allowed_lateness": "1s"}); err != nil {
		t.Fatal(err)
	}
	sql := `INSERT INTO out SELECT COUNT(*) AS c FROM events GROUP BY TUMBLE(ts, INTERVAL '1' SECOND)`
	sql = strings.Repeat(" ", query.MaxScriptBytes-len(sql)) + sql
	if _, err := f.svc.Create(ctx, CreateInput{Name: "big", SQL: sql}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Create(ctx, CreateInput{Name: "bigger", SQL: " " + sql}); err == nil || !strings.Contains(err.Error(), "the limit is 102400 bytes") {
		t.Fatalf("a script over the limit: err = %v", err)
	}
	f.close()
	f.open()
	if d, err := f.svc.Describe(ctx, "big"); err != nil || d.Status == StatusFailed {
		t.Fatalf("after a restart: %+v, %v", d, err)
	}
}
