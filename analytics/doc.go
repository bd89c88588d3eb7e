// Package analytics runs continuous SQL applications over Spate streams.
//
// An application is a name and a SQL script (parsed and planned by package
// query). It reads every shard of its source stream from its own
// checkpoint, filters and projects each record or folds it into group
// windows (package window, with aggregates from package agg), and writes
// each result row as a JSON record to a stream, to a Firehose delivery
// stream, or to the subscribers of a bare SELECT.
//
// # Exactly once
//
// Invariant: an application's output records, its window state and its
// input positions are committed in one Pebble batch (shard.Store.Commit),
// so after a crash the application restarts from a checkpoint whose
// outputs are exactly the rows emitted before it: nothing is written twice
// and nothing is lost. Rows emitted between checkpoints are held in memory
// until the next one.
//
// The package does not speak any wire protocol: the HTTP API, gRPC and the
// CLI call Service.
package analytics
