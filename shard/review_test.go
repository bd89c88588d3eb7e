package shard

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/spatehq/spate/apierr"
)

// AFTER_SEQUENCE_NUMBER of the number the next record will get must be
// refused: accepting it skipped that record.
func TestAfterNextNumberRejected(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "")
	mustCreate(t, s, "a", 1)
	res, err := s.Append(ctx, "a", []Entry{{PartitionKey: "k", Data: []byte("1")}})
	if err != nil {
		t.Fatal(err)
	}
	id, sh, ctr, _ := parseSeq(res[0].SequenceNumber)
	next := formatSeq(id, sh, ctr+1)
	_, err = s.ShardIterator(ctx, "a", res[0].ShardID, Position{Type: AfterSequenceNumber, SequenceNumber: next})
	wantCode(t, err, apierr.InvalidArgument)
	// AT the next number is fine: it reads the next record.
	it, err := s.ShardIterator(ctx, "a", res[0].ShardID, Position{Type: AtSequenceNumber, SequenceNumber: next})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "a", []Entry{{PartitionKey: "k", Data: []byte("2")}}); err != nil {
		t.Fatal(err)
	}
	out, err := s.GetRecords(ctx, it, 0)
	if err != nil || len(out.Records) != 1 || string(out.Records[0].Data) != "2" {
		t.Fatalf("AT the next number read %+v, %v; want the record put after", out.Records, err)
	}
}

// A clock that steps back neither makes an ACTIVE stream CREATING nor makes
// arrival times go back; AT_TIMESTAMP stays right.
func TestClockStepsBack(t *testing.T) {
	ctx := context.Background()
	clock := &fakeClock{}
	clock.ms.Store(1_700_000_000_000)
	s := openTest(t, "", WithClock(clock.now))
	mustCreate(t, s, "c", 1)
	put := func(data string) Record {
		t.Helper()
		if _, err := s.Append(ctx, "c", []Entry{{PartitionKey: "k", Data: []byte(data)}}); err != nil {
			t.Fatalf("append %s: %v", data, err)
		}
		recs := readAll(t, s, "c", "shardId-000000000000", Position{Type: TrimHorizon})
		return recs[len(recs)-1]
	}
	a := put("a")
	clock.advance(-time.Hour)
	if d, _ := s.DescribeStreamSummary(ctx, "c"); d.Status != StatusActive {
		t.Fatalf("status %s after the clock stepped back, want ACTIVE", d.Status)
	}
	b := put("b")
	if b.ArrivalTime.Before(a.ArrivalTime) {
		t.Fatalf("arrival time went back: %v then %v", a.ArrivalTime, b.ArrivalTime)
	}
	clock.advance(2 * time.Hour)
	c := put("c")
	got := readAll(t, s, "c", "shardId-000000000000", Position{Type: AtTimestamp, Timestamp: a.ArrivalTime.Add(time.Millisecond)})
	if len(got) != 1 || got[0].SequenceNumber != c.SequenceNumber {
		t.Fatalf("AT_TIMESTAMP after the first arrival read %d records, want only c", len(got))
	}
}

// Close wakes waiters, and reads after Close fail cleanly.
func TestCloseWakesWaitersAndStopsReads(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "w", 1)
	c, err := s.Seek(ctx, "w", "shardId-000000000000", Position{Type: Latest})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Wait(ctx, c) }()
	time.Sleep(20 * time.Millisecond) // let it park; the test does not depend on it
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, errClosed) {
			t.Fatalf("Wait after Close = %v, want the store-closing error", err)
		}
	case <-ctx.Done():
		t.Fatal("Wait still blocked after Close")
	}
	if _, err := s.Read(ctx, c, 10, 1<<20); !errors.Is(err, errClosed) {
		t.Fatalf("Read after Close = %v, want the store-closing error", err)
	}
}
