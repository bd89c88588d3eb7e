// Package firehose runs Firehose delivery streams: it buffers records from a
// source, processes and compresses them, and delivers batches to an
// S3-compatible store or to Elasticsearch, exactly once in S3.
//
// A delivery stream reads a Spate stream: for DirectPut, an internal stream
// "firehose:<name>" that PutRecord and PutRecordBatch append to (so an
// acknowledged record is as durable as any stream record); for
// KinesisStreamAsSource, the user's stream, from the position it had when
// the delivery stream was created. One worker per source shard reads from
// its checkpoint through the same store API any consumer uses.
//
// # Exactly once
//
// Invariant: before a worker delivers a batch it persists an intent (the
// batch's first and last sequence numbers) beside its checkpoint; after the
// delivery succeeds it advances the checkpoint past the batch and clears the
// intent in one write. After a crash the worker re-delivers exactly the
// intent's range. Everything about the objects a batch produces is a
// function of that range (object keys from the delivery stream, shard and
// sequence range; timestamps from record arrival times; compression without
// wall-clock headers), so a re-delivery overwrites the same objects with the
// same bytes. Elasticsearch documents get their _id from the record's
// sequence number, so re-indexing them is idempotent.
//
// A Lambda processor (transform.go) runs again on re-delivery. Its events
// are a function of the range too (record IDs are sequence numbers,
// invocation IDs hash the range), so the objects keep their names, and
// their bytes when the function is deterministic; otherwise the last run's
// output overwrites the first's. Either way each record is in S3 once,
// unless the function changes a record's result or partition keys between
// the two runs (the names then differ, as the records' places do).
//
// A Kinesis stream source's KPL aggregates are expanded into their user
// records inside the batch that read them (see deaggregate), so the
// invariant above holds per Kinesis record and needs no sub-record index.
//
// The package does not speak any wire protocol: the Firehose JSON API and
// gRPC decode requests into the configuration types here and call Service.
package firehose
