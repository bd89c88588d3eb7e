// Package membudget bounds the bytes that concurrent work holds in memory:
// a Budget of N bytes hands out Holds, and the sum of the live Holds never
// exceeds N.
//
// It owns the accounting only, not the memory: callers estimate what an
// operation will allocate, hold that much before allocating, shrink the
// Hold to what they actually allocated, and release it once the memory is
// no longer referenced (for a reply, once it has been written). The Spate
// store uses one Budget for every read that builds records in the Go heap
// (GetRecords, Subscribe, Firehose and Analytics reads), so that a burst of
// large reads queues instead of growing the heap without bound.
//
// Two ways to wait: Acquire waits at most the Budget's MaxWait and then
// fails with ErrBusy (for clients, which can retry with backoff); Wait
// waits as long as its context allows (for internal readers, which must
// not fail because others are reading).
//
// Invariant: every byte a Hold holds was acquired from its Budget's
// semaphore and is released to it exactly once (Shrink and Release are
// idempotent past zero), so the semaphore's count is the sum of live Holds.
package membudget
