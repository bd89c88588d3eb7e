// Package filter is Lambda's event filtering for Kinesis event source
// mappings: a mapping's FilterCriteria (up to five patterns, each a JSON
// document in the EventBridge-style syntax Lambda documents) compiled once
// into a Set, and Set.Match deciding per record whether the function sees it.
//
// A pattern addresses the record as Lambda presents a Kinesis record to a
// filter: the metadata keys partitionKey, sequenceNumber,
// approximateArrivalTimestamp and kinesisSchemaVersion at the top, and
// "data", the record's data decoded from JSON. Records whose data is not
// valid JSON never match a pattern that names "data"; patterns without it
// still filter them on the metadata keys (Lambda's documented table).
//
// The package owns the syntax and its limits (a pattern is at most 4096
// characters and nests at most MaxDepth objects); the caller (package
// functions/esm) owns the number of patterns per mapping. Compile's errors
// are *apierr.Error InvalidParameterValueException naming the pattern and
// the path in it that is wrong. A compiled Set is immutable and safe for
// concurrent use.
package filter
