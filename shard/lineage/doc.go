// Package lineage decides which shards of a resharded stream a reader may
// read now, so that records of one partition key are read in the order they
// were written across a split or a merge: a parent to its end before any of
// its children.
//
// It owns only that bookkeeping: which shards the reader knows (with their
// parents), which it has read to their end, and which it has already been
// handed. It reads no shard and knows no store; readers (spate tail,
// Firehose workers, Analytics applications) feed it the stream's listing and
// the ends they reach, and start the shards it hands them.
//
// Invariant: Take hands out a shard at most once, and only when each of its
// parents is finished or gone (absent from the latest listing because
// retention emptied and dropped it).
//
// New shards are discovered without polling: a reshard only creates children
// of open shards, and a reader that reads every shard to its end learns the
// children there (ChildShards of the last read). A child may name a parent
// the reader has not met yet (the other parent of a merge, itself a child of
// a shard still being read); Missing then asks the reader to list the stream
// again, which tells a parent still to read from one retention dropped.
package lineage
