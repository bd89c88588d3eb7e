package analytics

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"github.com/spatehq/spate/kpl"
	"github.com/spatehq/spate/shard"
)

// TestKPLAggregatesAreRows: each user record of a KPL aggregate is a row
// with its own partition key; a corrupt aggregate is one bad row.
func TestKPLAggregatesAreRows(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	if _, err := f.svc.Create(ctx, CreateInput{Name: "kpl", SQL: `INSERT INTO out SELECT sym FROM events WHERE price > 10`}); err != nil {
		t.Fatal(err)
	}
	var users []kpl.Record
	for i := range 3 {
		users = append(users, kpl.Record{PartitionKey: fmt.Sprintf("u%d", i), Data: fmt.Appendf(nil, `{"sym":"U%d","price":%d}`, i, 20+i)})
	}
	users = append(users, kpl.Record{PartitionKey: "cheap", Data: []byte(`{"sym":"X","price":1}`)})
	corrupt := kpl.Aggregate(users[:1])
	corrupt[len(kpl.Magic)] ^= 1 // the MD5 no longer matches
	entries := []shard.Entry{
		{PartitionKey: "plain", Data: []byte(`{"sym":"P","price":11}`)},
		{PartitionKey: "agg", Data: kpl.Aggregate(users)},
		{PartitionKey: "bad", Data: corrupt},
	}
	if _, err := f.store.Append(ctx, "events", entries); err != nil {
		t.Fatal(err)
	}
	f.waitFor("stats", func() bool {
		d, _ := f.svc.Describe(ctx, "kpl")
		return d.RowsIn == 6 && d.BadRows == 1 && d.RowsOut == 4
	})
	f.waitFor("four output rows", func() bool { return len(f.read("out")) == 4 })
	c, err := f.store.Seek(ctx, "out", "shardId-000000000000", shard.Position{Type: shard.TrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.store.Read(ctx, c, 100, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Records {
		got = append(got, r.PartitionKey+"="+string(r.Data))
	}
	sort.Strings(got)
	want := []string{`plain={"sym":"P"}`, `u0={"sym":"U0"}`, `u1={"sym":"U1"}`, `u2={"sym":"U2"}`}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("output %v, want %v", got, want)
	}
}
