// Package esm runs event source mappings: Lambda's poller model over Spate
// streams. A mapping names a stream (by ARN) and a function; per shard a
// poller reads batches, filters them, invokes the function synchronously
// with the aws:kinesis event and checkpoints what succeeded, retrying,
// bisecting and finally reporting a failed batch to its on-failure
// destination while the shard waits, so order per shard is kept.
//
// The package knows no wire protocol: api/lambdaapi decodes the Lambda API's
// event-source-mapping calls into the types here, which carry the model's
// JSON names so the face can decode and encode them directly. It invokes
// functions through functions.Invoker, compiles filters through a
// FilterCompiler and sends failure records through a FailureSink, so it
// depends on none of their implementations.
//
// # Key layout
//
// In the store's value namespace "esm" (shard.Store GetValue/ScanValues/
// Commit), every write fsynced:
//
//	"m/" + UUID                → record (JSON): the mapping and its stream's ID
//	"c/" + UUID + "/" + shard  → checkpoint (JSON): last handled sequence number,
//	                             Finished, the open tumbling window's state
//	"l/" + UUID + "/" + shard  → lease (JSON): owner, counter, expiry
//
// A mapping records its stream's store ID, so it never reads a later
// stream of the same name.
//
// # Running
//
// Create, Update and Delete write the record (State Creating, Updating,
// Deleting) and return; a background step per mapping then starts, restarts
// or stops the mapping's runner and records the state reached (Enabled,
// Disabled) or removes the mapping's keys, expecting the record's revision
// so a newer change is never overwritten. The runner starts a poller per
// shard as package shard/lineage allows (a parent handled to its end before
// its children), and replaces pollers whose lease lapsed (lease.go). Each
// poller reads with the store's Read and Wait (no polling), hands records
// to up to ParallelizationFactor lanes by partition key, and checkpoints
// only past records every lane has handled (poller.go); lanes deliver
// batches with Lambda's retry, bisect, partial-failure and record-age rules
// (deliver.go) and tumbling windows (lane.go).
//
// Invariant: a checkpoint never moves back, and never past a record not yet
// handled, so a crash (kill -9) re-delivers at least once from the last
// checkpoint and loses nothing.
package esm
