package shard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"testing"
	"time"
)

// collectSink keeps a copy of every record it is handed, as a Record.
type collectSink struct {
	recs []Record
	fail error // returned by AppendRecord when set
}

func (c *collectSink) AppendRecord(r *RecordView) error {
	if c.fail != nil {
		return c.fail
	}
	c.recs = append(c.recs, Record{
		SequenceNumber: string(r.SequenceNumber), ArrivalTime: fromMillis(r.ArrivalMs),
		PartitionKey: string(r.PartitionKey), Data: bytes.Clone(r.Data), Encrypted: r.Encrypted,
	})
	return nil
}

func (c *collectSink) HeldBytes() int64 { return int64(len(c.recs)) * 1000 }

// TestReadIntoMatchesRead: a sink is handed exactly the records Read
// returns, and the rest of the result (next cursor, milliseconds behind,
// the end of a closed shard and its children) is Read's, for plain and
// encrypted records, in reads bounded by count and by bytes.
func TestReadIntoMatchesRead(t *testing.T) {
	for _, encrypt := range []bool{false, true} {
		t.Run(fmt.Sprintf("encrypt=%v", encrypt), func(t *testing.T) {
			ctx := context.Background()
			clock := newFakeClock()
			s := openTest(t, "", WithKeys(openKeyring(t, "")), WithClock(clock.now))
			mustCreate(t, s, "s", 1)
			if encrypt {
				if err := s.StartEncryption(ctx, "s", "KMS", "alias/aws/kinesis"); err != nil {
					t.Fatal(err)
				}
			}
			putMarked(t, s, "s", "a", 40, encrypt)
			clock.advance(5 * time.Second) // a read behind the tip is 5 s behind
			if err := s.SplitShard(ctx, SplitShardInput{Stream: "s", ShardToSplit: ShardID(0), NewStartingHashKey: new(big.Int).Lsh(big.NewInt(1), 127).String()}); err != nil {
				t.Fatal(err)
			}
			for _, bound := range []struct{ limit, maxBytes int }{{7, MaxGetRecordsBytes}, {MaxGetRecordsLimit, 100}, {MaxGetRecordsLimit, MaxGetRecordsBytes}} {
				c, err := s.Seek(ctx, "s", ShardID(0), Position{Type: TrimHorizon})
				if err != nil {
					t.Fatal(err)
				}
				total := 0
				for {
					want, err := s.Read(ctx, c, bound.limit, bound.maxBytes)
					if err != nil {
						t.Fatal(err)
					}
					var sink collectSink
					got, err := s.ReadInto(ctx, c, bound.limit, bound.maxBytes, &sink)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(sink.recs, want.Records) && len(sink.recs)+len(want.Records) > 0 {
						t.Fatalf("%+v: sink got %+v, Read %+v", bound, sink.recs, want.Records)
					}
					if len(got.Records) != 0 {
						t.Fatalf("ReadInto returned %d records besides the sink's", len(got.Records))
					}
					got.Records, want.Records = nil, nil
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("%+v: ReadInto %+v, Read %+v", bound, got, want)
					}
					if want.MillisBehindLatest != 0 && want.MillisBehindLatest != 5000 {
						t.Fatalf("%+v: %d ms behind, want 5000 or 0", bound, want.MillisBehindLatest)
					}
					total += len(sink.recs)
					if want.ShardEnded {
						break
					}
					if len(sink.recs) == 0 {
						t.Fatalf("%+v: no records and no end after %d records", bound, total)
					}
					c = want.Next
				}
				if total != 40 {
					t.Fatalf("%+v: read %d records, want 40", bound, total)
				}
			}
		})
	}
}

// TestGetRecordsIntoHoldsTheSink: GetRecordsInto's output holds the read
// budget for what the sink holds (not also for a reply built from Records)
// until its Release, and a sink's error ends the read with it.
func TestGetRecordsIntoHoldsTheSink(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "", WithReadBudget(1<<30, time.Second))
	mustCreate(t, s, "s", 1)
	entries := putMarked(t, s, "s", "a", 30, false)
	it, err := s.ShardIterator(ctx, "s", ShardID(0), Position{Type: TrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	var sink collectSink
	out, err := s.GetRecordsInto(ctx, it, 0, &sink)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, sink.recs, entries)
	data := 0
	for _, e := range entries {
		data += len(e.PartitionKey) + len(e.Data)
	}
	if want := readCost(sink.HeldBytes(), int64(data), int64(len(entries)), readAdmission{}); out.hold.Bytes() != want {
		t.Errorf("output holds %d bytes, want %d", out.hold.Bytes(), want)
	}
	if len(out.Records) != 0 || out.NextIterator == "" {
		t.Errorf("output %+v: want no records and a next iterator", out)
	}
	out.Release()
	if out.hold.Bytes() != 0 {
		t.Errorf("after Release the output holds %d bytes", out.hold.Bytes())
	}

	failing := collectSink{fail: errors.New("sink full")}
	if _, err := s.GetRecordsInto(ctx, it, 0, &failing); !errors.Is(err, failing.fail) {
		t.Errorf("GetRecordsInto with a failing sink: %v, want its error", err)
	}
}
