package kpl

import (
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// wrap frames a protobuf message as an aggregate with a correct MD5.
func wrap(msg []byte) []byte {
	sum := md5.Sum(msg)
	return append(append(append([]byte(nil), Magic[:]...), msg...), sum[:]...)
}

// field helpers for hand-built messages.
func bytesField(b []byte, num protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), v)
}

func varintField(b []byte, num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
}

func record(pk uint64, ehk *uint64, data string) []byte {
	r := varintField(nil, fieldPartitionKeyIndex, pk)
	if ehk != nil {
		r = varintField(r, fieldExplicitHashKeyIndex, *ehk)
	}
	return bytesField(r, fieldData, []byte(data))
}

func TestDeaggregate(t *testing.T) {
	one := uint64(1)
	zero := uint64(0)
	tables := bytesField(bytesField(bytesField(nil, fieldPartitionKeyTable, []byte("a")), fieldPartitionKeyTable, []byte("b")),
		fieldExplicitHashKeyTable, []byte("170141183460469231731687303715884105728"))
	valid := bytesField(bytesField(tables, fieldRecords, record(0, nil, "x")), fieldRecords, record(1, &zero, "yy"))
	badMD5 := wrap(valid)
	badMD5[len(badMD5)-1] ^= 1
	cases := []struct {
		name string
		data []byte
		want []Record
		err  error
	}{
		{"plain", []byte(`{"a":1}`), nil, ErrNotAggregated},
		{"magic only", Magic[:], nil, ErrNotAggregated},
		{"empty aggregate", wrap(nil), []Record{}, nil},
		{"two records", wrap(valid), []Record{{"a", "", []byte("x")}, {"b", "170141183460469231731687303715884105728", []byte("yy")}}, nil},
		{"records before tables", wrap(append(bytesField(nil, fieldRecords, record(1, nil, "z")), tables...)), []Record{{"b", "", []byte("z")}}, nil},
		{"unknown fields and tags skipped", wrap(varintField(bytesField(tables, fieldRecords,
			bytesField(bytesField(record(0, nil, ""), 4, bytesField(nil, 1, []byte("tag"))), 9, []byte("?"))), 7, 5)),
			[]Record{{"a", "", []byte{}}}, nil},
		{"last index wins", wrap(bytesField(tables, fieldRecords, varintField(record(0, nil, "q"), fieldPartitionKeyIndex, 1))),
			[]Record{{"b", "", []byte("q")}}, nil},
		{"bad md5", badMD5, nil, ErrCorrupt},
		{"truncated protobuf", wrap(valid[:len(valid)-1]), nil, ErrCorrupt},
		{"partition key index out of range", wrap(bytesField(tables, fieldRecords, record(2, nil, "x"))), nil, ErrCorrupt},
		{"hash key index out of range", wrap(bytesField(tables, fieldRecords, record(0, &one, "x"))), nil, ErrCorrupt},
		{"no partition key index", wrap(bytesField(tables, fieldRecords, bytesField(nil, fieldData, []byte("x")))), nil, ErrCorrupt},
		{"no data", wrap(bytesField(tables, fieldRecords, varintField(nil, fieldPartitionKeyIndex, 0))), nil, ErrCorrupt},
		{"index with the wrong wire type is unknown", wrap(bytesField(tables, fieldRecords,
			bytesField(bytesField(nil, fieldPartitionKeyIndex, []byte{0}), fieldData, []byte("x")))), nil, ErrCorrupt},
		{"huge length", wrap(append(protowire.AppendTag(nil, fieldRecords, protowire.BytesType), 0xff, 0xff, 0xff, 0xff, 0x0f)), nil, ErrCorrupt},
		{"bad tag", wrap([]byte{0x80}), nil, ErrCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Deaggregate(c.data)
			if !errors.Is(err, c.err) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
			if err == nil && !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

// TestDeaggregateDataAliases: data is not copied, and appending to a
// record's data cannot overwrite the next record.
func TestDeaggregateDataAliases(t *testing.T) {
	agg := Aggregate([]Record{{PartitionKey: "k", Data: []byte("ab")}, {PartitionKey: "k", Data: []byte("cd")}})
	recs, err := Deaggregate(agg)
	if err != nil {
		t.Fatal(err)
	}
	_ = append(recs[0].Data, 'X')
	if again, _ := Deaggregate(agg); !bytes.Equal(again[1].Data, []byte("cd")) || !bytes.Equal(recs[1].Data, []byte("cd")) {
		t.Fatalf("appending to record 0 changed record 1: %q", recs[1].Data)
	}
}

// randomRecords draws n records whose keys repeat, so the tables share
// entries, with and without explicit hash keys and with empty data.
func randomRecords(rng *rand.Rand, n int) []Record {
	recs := make([]Record, n)
	for i := range recs {
		r := Record{PartitionKey: fmt.Sprintf("pk-%d", rng.IntN(5)), Data: make([]byte, rng.IntN(300))}
		for j := range r.Data {
			r.Data[j] = byte(rng.Uint32())
		}
		if rng.IntN(3) == 0 {
			r.ExplicitHashKey = fmt.Sprint(rng.Uint64())
		}
		recs[i] = r
	}
	return recs
}

// TestRoundTrip is the property Aggregate → Deaggregate = identity, on
// random record sets.
func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		recs := randomRecords(rng, rng.IntN(50))
		got, err := Deaggregate(Aggregate(recs))
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if len(got) != len(recs) {
			t.Fatalf("case %d: %d records back, want %d", i, len(got), len(recs))
		}
		for j := range recs {
			if got[j].PartitionKey != recs[j].PartitionKey || got[j].ExplicitHashKey != recs[j].ExplicitHashKey || !bytes.Equal(got[j].Data, recs[j].Data) {
				t.Fatalf("case %d record %d: got %+v, want %+v", i, j, got[j], recs[j])
			}
		}
	}
}

// TestAggregatorLimits: Size predicts the drained record exactly, nothing
// exceeds the limit, every record comes out once, in order.
func TestAggregatorLimits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	recs := randomRecords(rng, 2000)
	const limit = 4096
	a := NewAggregator(WithMaxSize(limit))
	var out []Record
	drain := func() {
		size := a.Size()
		agg, ok := a.Drain()
		if !ok {
			t.Fatal("Drain of a non-empty aggregator returned nothing")
		}
		if got := len(agg.Data) + len(agg.PartitionKey); got != size || got > limit {
			t.Fatalf("drained %d bytes; Size said %d, limit %d", got, size, limit)
		}
		back, err := Deaggregate(agg.Data)
		if err != nil {
			t.Fatal(err)
		}
		if len(back) != agg.Records || back[0].PartitionKey != agg.PartitionKey || back[0].ExplicitHashKey != agg.ExplicitHashKey {
			t.Fatalf("aggregate of %d records, key %q/%q: first record %+v", agg.Records, agg.PartitionKey, agg.ExplicitHashKey, back[0])
		}
		out = append(out, back...)
	}
	for _, r := range recs {
		err := a.Add(r)
		if errors.Is(err, ErrFull) {
			drain()
			err = a.Add(r)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	drain()
	if _, ok := a.Drain(); ok {
		t.Fatal("Drain of an empty aggregator returned an aggregate")
	}
	if len(out) != len(recs) {
		t.Fatalf("%d records back, want %d", len(out), len(recs))
	}
	for i := range recs {
		if !bytes.Equal(out[i].Data, recs[i].Data) || out[i].PartitionKey != recs[i].PartitionKey {
			t.Fatalf("record %d differs", i)
		}
	}
	if err := NewAggregator(WithMaxSize(100)).Add(Record{PartitionKey: "k", Data: make([]byte, 100)}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a record larger than the limit: err = %v, want ErrTooLarge", err)
	}
}

// TestAggregateBytes pins the encoding byte for byte: tables first in order
// of first use, then the records, as the KPL writes them.
func TestAggregateBytes(t *testing.T) {
	got := Aggregate([]Record{{PartitionKey: "a", Data: []byte("x")}, {PartitionKey: "b", ExplicitHashKey: "7", Data: []byte("y")}, {PartitionKey: "a", Data: []byte("z")}})
	msg := bytesField(nil, fieldPartitionKeyTable, []byte("a"))
	msg = bytesField(msg, fieldPartitionKeyTable, []byte("b"))
	msg = bytesField(msg, fieldExplicitHashKeyTable, []byte("7"))
	zero := uint64(0)
	msg = bytesField(msg, fieldRecords, record(0, nil, "x"))
	msg = bytesField(msg, fieldRecords, record(1, &zero, "y"))
	msg = bytesField(msg, fieldRecords, record(0, nil, "z"))
	if want := wrap(msg); !bytes.Equal(got, want) {
		t.Fatalf("Aggregate:\n got %x\nwant %x", got, want)
	}
	if got, want := Aggregate(nil), wrap(nil); !bytes.Equal(got, want) {
		t.Fatalf("Aggregate(nil) = %x, want %x", got, want)
	}
}
