package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/spatehq/spate/analytics/demo"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

func TestDemoStockTicker(t *testing.T) {
	s := startAPIServer(t)
	ctx, cancel := context.WithCancel(clientTestContext(t))
	defer cancel()
	var errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- s.runTo(ctx, nil, &syncBuffer{}, &errOut, "demo", "stock-ticker", "--stream", "ticks", "--rate", "500", "--shards", "2", "--seed", "42")
	}()

	// Read the records of both shards until 50 have arrived.
	var got []*spatev1.Record
	waitFor(t, "50 trades", func() bool {
		got = got[:0]
		for _, id := range []string{"shardId-000000000000", "shardId-000000000001"} {
			it, err := s.api.GetShardIterator(ctx, &spatev1.GetShardIteratorRequest{StreamName: "ticks", ShardId: id,
				ShardIteratorType: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON})
			if err != nil {
				return false // not created yet
			}
			recs, err := s.api.GetRecords(ctx, &spatev1.GetRecordsRequest{ShardIterator: it.GetShardIterator()})
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, recs.GetRecords()...)
		}
		return len(got) >= 50
	})
	cancel() // Ctrl-C
	if err := <-done; err != nil {
		t.Fatalf("demo after interrupt = %v, want nil", err)
	}
	if !strings.Contains(errOut.String(), "putting 500 stock trades per second into ticks") ||
		!strings.Contains(errOut.String(), "trades into ticks") {
		t.Errorf("stderr = %q", errOut.String())
	}

	// Every record is one of the seed's trades: compare the multiset of
	// (ticker, price) pairs of the first trades with the generator's.
	want := map[string]int{}
	g := demo.NewGenerator(42)
	for range 2000 {
		tr := g.Next(time.Time{})
		want[tr.TickerSymbol+" "+jsonNumber(tr.Price)]++
	}
	for _, r := range got {
		var tr demo.Trade
		if err := json.Unmarshal(r.GetData(), &tr); err != nil {
			t.Fatalf("record %s: %v", r.GetData(), err)
		}
		key := tr.TickerSymbol + " " + jsonNumber(tr.Price)
		if want[key] == 0 || r.GetPartitionKey() != tr.TickerSymbol || !strings.HasSuffix(tr.EventTime, "Z") {
			t.Fatalf("record %s (key %s) is not one of seed 42's first trades", r.GetData(), r.GetPartitionKey())
		}
		want[key]--
	}

	// The stream exists now: ensuring it again is no error.
	c := &apiConn{addr: s.addr, api: s.api}
	if err := ensureStream(clientTestContext(t), c, "ticks", 1); err != nil {
		t.Errorf("ensureStream on an existing stream = %v", err)
	}
	if _, _, err := s.run(clientTestContext(t), nil, "demo", "stock-ticker", "--rate", "0"); err == nil || !strings.Contains(err.Error(), "--rate") {
		t.Errorf("--rate 0: %v", err)
	}
}

func jsonNumber(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}
