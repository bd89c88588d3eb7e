package kpl

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDeaggregate feeds Deaggregate hostile input two ways: as given (almost
// always stopped by the magic or the MD5) and framed with a correct MD5, so
// the protobuf parser sees it. Deaggregate must not panic, must return
// ErrNotAggregated or ErrCorrupt on failure, must not return more than its
// input holds, and what it returns must aggregate and decode back the same.
func FuzzDeaggregate(f *testing.F) {
	f.Add([]byte(nil))
	f.Add(Aggregate([]Record{{PartitionKey: "a", Data: []byte("x")}, {PartitionKey: "b", ExplicitHashKey: "1", Data: []byte("yy")}}))
	agg := Aggregate([]Record{{PartitionKey: "p", Data: []byte(`{"n":1}`)}})
	f.Add(agg[len(Magic) : len(agg)-16]) // a message body, framed below
	f.Fuzz(func(t *testing.T, in []byte) {
		check(t, in)
		check(t, wrap(in))
	})
}

func check(t *testing.T, in []byte) {
	recs, err := Deaggregate(in)
	if err != nil {
		if !errors.Is(err, ErrNotAggregated) && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error %v wraps neither ErrNotAggregated nor ErrCorrupt", err)
		}
		return
	}
	// Each record costs at least 2 bytes of its own (tag and length) plus
	// its data; the keys come from tables in the input.
	total := 0
	for _, r := range recs {
		total += 2 + len(r.Data)
	}
	if total > len(in) {
		t.Fatalf("%d records with %d bytes of data out of %d bytes of input", len(recs), total, len(in))
	}
	back, err := Deaggregate(Aggregate(recs))
	if err != nil {
		t.Fatalf("re-aggregated records do not decode: %v", err)
	}
	if len(back) != len(recs) {
		t.Fatalf("%d records after a round trip, want %d", len(back), len(recs))
	}
	for i := range recs {
		if back[i].PartitionKey != recs[i].PartitionKey || back[i].ExplicitHashKey != recs[i].ExplicitHashKey || !bytes.Equal(back[i].Data, recs[i].Data) {
			t.Fatalf("record %d changed in a round trip: %+v, want %+v", i, back[i], recs[i])
		}
	}
}
