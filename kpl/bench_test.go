package kpl

import (
	"fmt"
	"testing"
)

// benchRecords is an aggregate's worth of typical user records: 500 JSON
// records of about 100 bytes over 10 partition keys (about 50 KB, the KPL's
// default aggregate size).
func benchRecords() []Record {
	recs := make([]Record, 500)
	for i := range recs {
		recs[i] = Record{PartitionKey: fmt.Sprintf("device-%d", i%10), Data: fmt.Appendf(nil, `{"device":%d,"seq":%d,"temperature":21.5,"status":"ok","pad":"%070d"}`, i%10, i, i)}
	}
	return recs
}

func BenchmarkDeaggregate(b *testing.B) {
	agg := Aggregate(benchRecords())
	b.SetBytes(int64(len(agg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Deaggregate(agg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAggregator(b *testing.B) {
	recs := benchRecords()
	b.SetBytes(int64(len(Aggregate(recs))))
	b.ReportAllocs()
	a := NewAggregator()
	for b.Loop() {
		for _, r := range recs {
			if err := a.Add(r); err != nil {
				b.Fatal(err)
			}
		}
		a.Drain()
	}
}
