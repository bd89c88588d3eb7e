// Package faults injects failures into API requests at random, so that
// users can test their retry code against Spate (spate serve --fault-rate,
// in the spirit of LocalStack's KINESIS_ERROR_PROBABILITY, but per action
// and per error).
//
// A Plan says, for each action of each API, the probability that a request
// fails with a throttling error and the probability that it fails with an
// internal failure (Parse reads it from the flag's syntax). An Injector
// draws from a seeded generator and turns a draw into the error the action
// would answer on AWS:
//
//   - PutRecords and Firehose's PutRecordBatch fail per record, with
//     FailedRecordCount / FailedPutCount, HTTP 200, as AWS throttles them;
//     each record draws on its own.
//   - PutRecord (both APIs) and GetRecords fail as a whole.
//   - The other actions fail as a whole before they run.
//
// Record and read faults travel to the store in the request's context
// (shard.WithFaults), so the store refuses exactly those records and stores
// the others, and a failed request changes nothing.
//
// Invariant: an injected fault never changes state; every action with a
// fault either does not run, or runs without the records that failed.
package faults
