package main

import (
	"bytes"

	"github.com/spatehq/spate/kpl"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// formatRecords appends the lines of one Kinesis record: one per user record
// when it is a KPL aggregate (and raw is not set), else formatRecord's. An
// aggregate that does not decode is printed as stored, as consumers such as
// the KCL treat it.
func formatRecords(buf *bytes.Buffer, format, shardID string, r *spatev1.Record, raw bool) error {
	if raw || !kpl.IsAggregated(r.GetData()) {
		return formatRecord(buf, format, shardID, r)
	}
	users, err := kpl.Deaggregate(r.GetData())
	if err != nil {
		return formatRecord(buf, format, shardID, r)
	}
	for i, u := range users {
		user := &spatev1.Record{SequenceNumber: r.GetSequenceNumber(), PartitionKey: u.PartitionKey, Data: u.Data,
			ApproximateArrivalTimestamp: r.GetApproximateArrivalTimestamp()}
		if err := formatLine(buf, format, shardID, user, jsonRecord{SubSequence: &i, ExplicitHashKey: u.ExplicitHashKey}); err != nil {
			return err
		}
	}
	return nil
}
