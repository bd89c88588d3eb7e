package firehose

import (
	"errors"
	"strconv"

	"github.com/spatehq/spate/kpl"
	"github.com/spatehq/spate/shard"
)

// deaggregate replaces the KPL aggregates among b's records by their user
// records, as Firehose does for a Kinesis stream source (a DirectPut
// delivery stream delivers what was put, aggregated or not). A record that
// starts with the KPL magic but is not a valid aggregate (wrong MD5, bad
// protobuf) is delivered as it is and counted.
//
// Invariant: a batch is a range of whole Kinesis records (its intent holds
// their first and last sequence numbers), and deaggregation happens inside
// the batch, so the user records of one aggregate are always delivered
// together, in one batch, and a re-delivery after a crash yields the same
// user records in the same objects. The checkpoint needs no sub-record
// index. The price is that a batch may exceed SizeInMBs by less than one
// Kinesis record, as it already could.
func (w *worker) deaggregate(b *batch) {
	if w.meta.Type != TypeKinesisStreamAsSource || b.deaggregated {
		return
	}
	b.deaggregated = true
	var out []shard.Record
	var subs []int32
	users, invalid := 0, 0
	var firstErr error
	for i := range b.records {
		r := &b.records[i]
		if !kpl.IsAggregated(r.Data) {
			if out != nil {
				out, subs = append(out, *r), append(subs, -1)
			}
			continue
		}
		recs, err := kpl.Deaggregate(r.Data)
		if err != nil {
			invalid++
			if firstErr == nil {
				firstErr = errors.Join(err, errors.New("sequence number "+r.SequenceNumber))
			}
			if out != nil {
				out, subs = append(out, *r), append(subs, -1)
			}
			continue
		}
		if out == nil {
			// The first aggregate: copy the plain records before it.
			out = make([]shard.Record, 0, len(b.records)+len(recs))
			out = append(out, b.records[:i]...)
			subs = make([]int32, i, cap(out))
			for j := range subs {
				subs[j] = -1
			}
		}
		for j, u := range recs {
			out = append(out, shard.Record{SequenceNumber: r.SequenceNumber, ArrivalTime: r.ArrivalTime, PartitionKey: u.PartitionKey, Data: u.Data})
			subs = append(subs, int32(j))
		}
		users += len(recs)
	}
	if invalid > 0 {
		w.s.metrics.kplInvalid.WithLabelValues(w.meta.Name).Add(float64(invalid))
		w.log().Warn("KPL aggregates that do not decode are delivered as they are", "count", invalid, "first_error", firstErr)
	}
	if out == nil {
		return
	}
	w.s.metrics.kplUserRecords.WithLabelValues(w.meta.Name).Add(float64(users))
	b.records, b.subs = out, subs
}

// recordID names record i of b uniquely within the delivery stream: its
// sequence number, followed by ":" and its sub-sequence number when it
// came out of a KPL aggregate (Elasticsearch document ids).
func (b *batch) recordID(i int) string {
	r := b.records[i]
	if b.subs == nil || b.subs[i] < 0 {
		return r.SequenceNumber
	}
	return r.SequenceNumber + ":" + strconv.Itoa(int(b.subs[i]))
}
