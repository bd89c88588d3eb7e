// Package throttle holds the token buckets of `spate serve
// --enforce-limits`: the provisioned throughput of a Kinesis shard (1 MiB
// and 1,000 records per second in, 2 MiB and 5 GetRecords calls per second
// out), the shared capacity of an on-demand stream, and the per-account
// call rates of control-plane actions.
//
// It knows nothing of streams, requests or errors: callers (package shard
// for records, the serve command for control-plane calls) ask a Meter or an
// Actions whether something may pass and answer the refusal themselves.
// Time is always passed in, so tests drive the buckets with a fake clock.
//
// # Burst
//
// Every bucket holds one second of its rate, so a quiet shard takes a burst
// of one second's worth at once. An amount larger than a whole bucket (a
// 10 MiB GetRecords reply, a record larger than 1 MiB) passes when the
// bucket is full and leaves it in debt: nothing more passes until the rate
// has paid the debt back. That is how Kinesis treats reads ("if a call
// returns 10 MiB, subsequent calls made within the next 5 seconds throw an
// exception"); here the full bucket's second counts, so it is 4 seconds.
//
// Invariant: a bucket never holds more than one second of its rate, and only
// Charge (an amount already served) or an amount larger than the bucket
// takes it below zero.
package throttle
