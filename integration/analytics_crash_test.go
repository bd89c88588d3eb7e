package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/spatehq/spate/kpl"
)

// TestAnalyticsExactlyOnceAcrossKill9 runs a windowed INSERT INTO
// application while records arrive, kills the server with SIGKILL in the
// middle, restarts it and goes on. The output stream must hold every
// window's result exactly once, with the counts and sums of every record
// acknowledged before and after the kill.
func TestAnalyticsExactlyOnceAcrossKill9(t *testing.T) { testAnalyticsKill9(t, false, false) }

// TestAnalyticsKPLExactlyOnceAcrossKill9 is the same with the records put
// as KPL aggregates of up to ten user records: every user record is a row,
// counted once across the kill.
func TestAnalyticsKPLExactlyOnceAcrossKill9(t *testing.T) { testAnalyticsKill9(t, true, false) }

// TestAnalyticsReshardAcrossKill9 is the same while the source goes
// 2 → 4 shards just before the kill and 4 → 3 → 2 → 1 after it: the
// application reads parents before children, and every window's result is
// still written once with every record counted once.
func TestAnalyticsReshardAcrossKill9(t *testing.T) { testAnalyticsKill9(t, false, true) }

func testAnalyticsKill9(t *testing.T, aggregated, reshard bool) {
	k := newKin(t)
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	source, out := uniqueName(t), uniqueName(t)
	k.create(ctx, t, source, 2)
	k.create(ctx, t, out, 1)
	sql := fmt.Sprintf(`INSERT INTO %s
SELECT k, TUMBLE_START(ts, INTERVAL '1' SECOND) AS ws, COUNT(*) AS c, SUM(v) AS s
FROM %s GROUP BY k, TUMBLE(ts, INTERVAL '1' SECOND)`, "`"+out+"`", "`"+source+"`")
	createApp(ctx, t, k.srv.Endpoint(), "crash", sql)

	// Record i has event time i*10 ms (100 per window) and key k(i%5);
	// want accumulates each (key, window)'s count and sum.
	type agg struct{ c, s int64 }
	want := map[string]agg{}
	next := 0
	putBatch := func(n int) {
		entries := make([]types.PutRecordsRequestEntry, n)
		for j := range entries {
			i := next + j
			key := fmt.Sprintf("k%d", i%5)
			data := fmt.Appendf(nil, `{"k":%q,"ts":%d,"v":%d}`, key, i*10, i%7)
			entries[j] = types.PutRecordsRequestEntry{Data: data, PartitionKey: aws.String(fmt.Sprint(i))}
		}
		if aggregated {
			k.putRecords(ctx, t, source, aggregateEntries(t, entries, 10))
		} else {
			k.putRecords(ctx, t, source, entries)
		}
		for j := range entries {
			i := next + j
			id := fmt.Sprintf("k%d@%d", i%5, (i*10)/1000*1000)
			a := want[id]
			a.c++
			a.s += int64(i % 7)
			want[id] = a
		}
		next += n
	}

	// Put until the application has written some windows, then kill it
	// while it is working on the next ones.
	deadline := time.Now().Add(time.Minute)
	for len(k.readAll(ctx, t, out)["shardId-000000000000"]) < 10 {
		if time.Now().After(deadline) {
			t.Fatal("no windows written within a minute")
		}
		putBatch(50)
		time.Sleep(10 * time.Millisecond)
	}
	scale := func(n int32) {
		if !reshard {
			return
		}
		if _, err := k.c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String(source), TargetShardCount: aws.Int32(n), ScalingType: types.ScalingTypeUniformScaling}); err != nil {
			t.Fatalf("UpdateShardCount %d: %v", n, err)
		}
		k.waitActive(ctx, t, source)
	}
	putBatch(150)
	scale(4)
	putBatch(150)
	k.srv.Kill9(t)
	k.restart(t)
	for i := range 20 {
		putBatch(50)
		switch i {
		case 4:
			scale(3)
		case 9:
			scale(2)
		case 14:
			scale(1)
		}
	}
	// A record far ahead on every shard closes every window so far.
	last := next
	k.putRecords(ctx, t, source, []types.PutRecordsRequestEntry{
		{Data: fmt.Appendf(nil, `{"k":"end","ts":%d,"v":0}`, (last+1000)*10), PartitionKey: aws.String("a")},
		{Data: fmt.Appendf(nil, `{"k":"end","ts":%d,"v":0}`, (last+1000)*10), PartitionKey: aws.String("b")},
	})

	wantWindows := len(want)
	got := map[string]agg{}
	for {
		recs := k.readAll(ctx, t, out)["shardId-000000000000"]
		if len(recs) >= wantWindows {
			for _, r := range recs {
				var row struct {
					K  string `json:"k"`
					WS string `json:"ws"`
					C  int64  `json:"c"`
					S  int64  `json:"s"`
				}
				if err := json.Unmarshal(r.Data, &row); err != nil {
					t.Fatalf("output %q: %v", r.Data, err)
				}
				ws, err := time.Parse(time.RFC3339Nano, row.WS)
				if err != nil {
					t.Fatalf("window start %q: %v", row.WS, err)
				}
				id := fmt.Sprintf("%s@%d", row.K, ws.UnixMilli())
				if _, dup := got[id]; dup {
					t.Fatalf("window %s written twice", id)
				}
				got[id] = agg{row.C, row.S}
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("%d of %d windows written", len(recs), wantWindows)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("window %s: got count/sum %+v, want %+v", id, got[id], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d windows written, want %d", len(got), len(want))
	}
}

// aggregateEntries packs entries into KPL aggregates of at most per user
// records each, keyed by their first record, as the KPL does.
func aggregateEntries(t *testing.T, entries []types.PutRecordsRequestEntry, per int) []types.PutRecordsRequestEntry {
	t.Helper()
	var out []types.PutRecordsRequestEntry
	a := kpl.NewAggregator()
	drain := func() {
		if agg, ok := a.Drain(); ok {
			out = append(out, types.PutRecordsRequestEntry{Data: agg.Data, PartitionKey: aws.String(agg.PartitionKey)})
		}
	}
	for _, e := range entries {
		if a.Len() == per {
			drain()
		}
		if err := a.Add(kpl.Record{PartitionKey: aws.ToString(e.PartitionKey), Data: e.Data}); err != nil {
			t.Fatal(err)
		}
	}
	drain()
	return out
}

// createApp creates an application through the HTTP API.
func createApp(ctx context.Context, t *testing.T, endpoint, name, sql string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"name": name, "sql": sql})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/v1/applications", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("create application: %s: %s", resp.Status, b)
	}
}
