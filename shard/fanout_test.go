package shard

import (
	"testing"
)

// TestContinuationSequenceNumber: AFTER_SEQUENCE_NUMBER from a cursor's
// continuation reads on from the cursor, whether or not a record was read
// before it, and never skips the shard's first record.
func TestContinuationSequenceNumber(t *testing.T) {
	s := openTest(t, t.TempDir())
	ctx := t.Context()
	if err := s.CreateStream(ctx, CreateStreamInput{Name: "s", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	id := ShardID(0)
	read := func(seq string) []string {
		t.Helper()
		c, err := s.Seek(ctx, "s", id, Position{Type: AfterSequenceNumber, SequenceNumber: seq})
		if err != nil {
			t.Fatalf("Seek AFTER %s: %v", seq, err)
		}
		res, err := s.Read(ctx, c, 100, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range res.Records {
			got = append(got, string(r.Data))
		}
		return got
	}
	for _, pos := range []Position{{Type: TrimHorizon}, {Type: Latest}} {
		c, err := s.Seek(ctx, "s", id, pos)
		if err != nil {
			t.Fatal(err)
		}
		empty := c.ContinuationSequenceNumber()
		if _, err := s.Append(ctx, "s", []Entry{{PartitionKey: "k", Data: []byte(pos.Type)}}); err != nil {
			t.Fatal(err)
		}
		if got := read(empty); len(got) == 0 || got[len(got)-1] != string(pos.Type) {
			t.Fatalf("%s: after the empty shard's continuation %s: %q, want the record just written last", pos.Type, empty, got)
		}
	}
	c, err := s.Seek(ctx, "s", id, Position{Type: TrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Read(ctx, c, 1, 1<<20) // the first record only
	if err != nil {
		t.Fatal(err)
	}
	if got := read(res.Next.ContinuationSequenceNumber()); len(got) != 1 || got[0] != string(Latest) {
		t.Fatalf("after the first record's continuation: %q, want the second record", got)
	}
	if s.FanOutLimited("s") {
		t.Error("FanOutLimited without WithThroughputLimits")
	}
	limited := openTest(t, t.TempDir(), WithThroughputLimits(true))
	if err := limited.CreateStream(ctx, CreateStreamInput{Name: "s", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	if !limited.FanOutLimited("s") || limited.FanOutLimited("missing") {
		t.Error("FanOutLimited with WithThroughputLimits: want true for a stream, false for none")
	}
}
