// Package shard stores Kinesis-style streams in one Pebble database: named
// streams of shards, each shard an append-only log of records with sequence
// numbers that grow within the shard.
//
// It owns storage, routing, sequence numbers, iterators, retention and the
// Kinesis semantics of stream metadata (status, shards, tags, paging). It
// knows no wire protocol: the JSON and gRPC APIs decode requests, call a
// *Store and encode the reply; errors are apierr values whose Code is the AWS
// error type.
//
// # Key layout
//
// All integers are big-endian, so keys sort in numeric order.
//
//	"m" + streamName                        → stream metadata (JSON, streamMeta)
//	"s" + name                              → store settings ("iterator-secret", "next-stream-id",
//	                                          "account-settings": JSON, accountState)
//	"r" + streamID u32 + shard u32 + ctr u64 → record value
//	"t" + streamID u32 + shard u32 + ms u64  → ctr u64 (time index)
//	"h" + streamID u32 + shard u32           → next ctr u64 + last arrival ms i64 (high-water mark)
//
// A stream ID is assigned once and never reused, so data of a deleted stream
// can never be read as data of a new stream with the same name.
//
// # Record encoding
//
//	arrival ms (8 bytes, big-endian) | uvarint len(partition key) | partition key | data
//
// # Encrypted records
//
// A record appended while its stream is encrypted (StartEncryption,
// encryption.go) is sealed:
//
//	arrival ms | 1<<63 (8 bytes) | uvarint data key version | epoch (4 bytes) |
//	AES-256-GCM(uvarint len(partition key) | partition key | data) | tag (16 bytes)
//
// The top bit of the arrival time marks a sealed value (arrival times are
// far below 2^63), so clear records, written before a Start or after a Stop,
// keep their encoding and their decoding cost. The data key version names
// one of the stream's data keys (streamMeta.Encryption.DataKeys, wrapped by
// a master key of the keyring); the record's shard seals under a key
// derived from it with HKDF-SHA256 (info "spate-record-1" | stream ID u32 |
// shard u32 | version u32). The nonce is epoch u32 | counter u64, and the
// additional data is the record's key and the 8-byte header, so a value
// cannot be moved to another position or given another arrival time.
// Invariant: a nonce is never used twice under one key: counters are unique
// within a shard, and the writer draws a new epoch at every open and after
// every failed commit (whose counters it hands out again).
//
// # Sequence numbers
//
// A sequence number is 56 decimal digits:
//
//	"49" | stream ID (10 digits) | shard index (12 digits) | counter (32 digits)
//
// Every sequence number has the same length, so comparing two as strings
// gives the same answer as comparing them as big integers (the Kinesis Client
// Library parses them as BigInteger). The counter is the record's position in
// its shard: counter 0 is the shard's StartingSequenceNumber and records are
// numbered from 1. The stream ID and shard index let the store reject a
// sequence number that belongs to another stream or shard.
//
// # Time index
//
// Arrival times are non-decreasing within a shard (the writer clamps a clock
// that steps back). The writer adds a "t" entry for the first record of every
// new millisecond, so AT_TIMESTAMP is one SeekGE on the index, and retention
// finds the cut-off counter the same way and trims with DeleteRange.
//
// # Resharding
//
// SplitShard, MergeShards and UpdateShardCount (reshard.go) close shards and
// open children, which take the next shard indexes and name their parents.
// A reshard is a write operation of the writer goroutine, applied in batch
// order with the appends around it: a closed shard's EndingCounter is the
// last counter the writer assigned it (a shard that took no record ends at
// counter 0, its StartingSequenceNumber), appends queued for it are re-routed
// by hash key to its children, and the new metadata commits in the same
// (always fsynced) batch. Invariant: no record is ever stored in a closed
// shard beyond its EndingCounter. A child's shard index is above its
// parents', so sequence numbers keep growing from parent to child. Closed
// shards stay readable until retention empties them; then their metadata
// and keys are deleted, and their indexes are never reused.
//
// # Writes and durability
//
// One writer goroutine owns sequence assignment and commits (group commit):
// concurrent appends queue while a commit is in flight and the next commit
// takes all of them in one Pebble batch, so producers share fsyncs.
// Invariant: a shard's readable high-water mark (shardState.next) only
// advances after the batch holding those records has committed, and the
// persisted "h" key is written in that same batch, so counters never repeat,
// even after every record has been trimmed away.
package shard
