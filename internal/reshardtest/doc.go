// Package reshardtest drives a stream through splits and merges while
// producers write keyed records, and checks what a reader delivered: every
// acknowledged record exactly once, and the records of each partition key
// in the order they were written. The tests of every reader that follows
// resharding (spate tail, Firehose, Analytics) share it.
package reshardtest
