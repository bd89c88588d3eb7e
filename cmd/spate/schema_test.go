package main

import (
	"strings"
	"testing"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

func TestFormatSchema(t *testing.T) {
	var b strings.Builder
	err := formatSchema(&b, &spatev1.DiscoverSchemaResponse{StreamName: "s", Sampled: 3, NotObjects: 1, Columns: []*spatev1.SchemaColumn{
		{Name: "ts", Expr: "ts", Type: "TIMESTAMP", Presence: 1, Example: "1790000000000", Note: "epoch milliseconds"},
		{Name: "q.bid", Expr: "q->>'$.bid'", Type: "DOUBLE", Nullable: true, Presence: 0.5, Example: "1.5"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := `Stream s: sampled 3 records (1 not JSON objects)

COLUMN  TYPE       NULL      PRESENT  EXAMPLE        SQL
ts      TIMESTAMP  NOT NULL  100%     1790000000000  ts
q.bid   DOUBLE     NULL      50%      1.5            q->>'$.bid'

Notes:
  ts: epoch milliseconds
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestStreamSchema(t *testing.T) {
	s := startAnalyticsServer(t)
	ctx := clientTestContext(t)
	s.put(t, `{"sym":"A","price":1.5,"at":"2026-11-22T03:00:00.000Z"}`, `{"sym":"B","price":2,"at":"2026-11-22T03:00:01.000Z"}`, `oops`)
	out, _, err := s.run(ctx, nil, "stream", "schema", "events", "--limit", "10")
	if err != nil {
		t.Fatal(err)
	}
	want := `Stream events: sampled 3 records (1 not JSON objects)

COLUMN  TYPE       NULL      PRESENT  EXAMPLE                     SQL
sym     VARCHAR    NOT NULL  100%     "B"                         sym
price   DOUBLE     NOT NULL  100%     2                           price
at      TIMESTAMP  NOT NULL  100%     "2026-11-22T03:00:01.000Z"  at

Notes:
  at: timestamp strings
`
	if out != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
	if _, _, err := s.run(ctx, nil, "stream", "schema", "nope"); err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Errorf("missing stream: %v", err)
	}
	if _, _, err := s.run(ctx, nil, "stream", "schema", "events", "-n", "0"); err == nil || !strings.Contains(err.Error(), "--limit") {
		t.Errorf("limit 0: %v", err)
	}
}
