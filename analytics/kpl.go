package analytics

import (
	"github.com/spatehq/spate/kpl"
	"github.com/spatehq/spate/shard"
)

// processAggregate feeds the user records of a KPL aggregate to the
// pipeline, each as a row with its own partition key and the aggregate's
// arrival time, and reports whether any carried an event time. A record
// with the KPL magic that does not decode is processed as it is (it then
// counts as a bad row unless it happens to be a JSON object).
//
// Invariant: an aggregate is consumed whole within one readPass, and
// checkpoints store positions between Kinesis records, so a restart never
// resumes inside an aggregate: its rows are counted exactly once.
func (r *runner) processAggregate(input int, rec shard.Record, procMs int64) (timed bool) {
	users, err := kpl.Deaggregate(rec.Data)
	if err != nil {
		return r.p.process(input, rec.Data, rec.PartitionKey, rec.ArrivalTime.UnixMilli(), procMs, r)
	}
	for _, u := range users {
		if r.p.process(input, u.Data, u.PartitionKey, rec.ArrivalTime.UnixMilli(), procMs, r) {
			timed = true
		}
	}
	return timed
}
