// Package groups holds consumer groups: named sets of shard leases and
// checkpoints on a stream, kept in the stream store's own Pebble database
// (the shard.Store value space), so no other service is needed to run
// KCL-style consuming applications.
//
// It owns the group records, the lease rules (acquire, renew, steal,
// expire, release, fence) and checkpoints; it knows no wire protocol (the
// gRPC and HTTP faces decode requests into its types) and reads no records
// (the SDK's consumer reads the shards it leases).
//
// # Key layout
//
// In value namespace "groups" (shard.Store GetValue/ScanValues/Commit),
// with the stream's ID as 8 hex digits, so a group never outlives its
// stream into a new stream of the same name:
//
//	"m/" + streamID + "/" + group                   → groupMeta (JSON)
//	"l/" + streamID + "/" + group + "/" + shardID   → leaseRecord (JSON)
//	"w/" + streamID + "/" + group + "/" + workerID  → workerRecord (JSON)
//
// A lease or worker record carries the generation of the group that wrote
// it; records of an earlier group of the same name (deleted, then created
// again) are ignored and swept.
//
// # Atomicity
//
// Every change is a read-modify-write: read the group, decide, and commit
// the new records with shard.Commit expecting the records read
// (shard.ValueExpect). The store's single writer checks the expectations
// and writes in one step, so two workers acquiring one lease cannot both
// win, with no lock in this process (a future multi-node store can keep the
// same contract); a change that lost a race is computed again. Commits are
// fsynced whatever the store's durability mode (shard.Commit.Sync): a lease
// or checkpoint a crash took back would break fencing and monotonic
// checkpoints. Invariant: the namespace is written only through Commit.
//
// # Leases
//
// A lease is live while its expiry, renewed by Heartbeat, is in the
// future by the server's clock. Its counter grows by one each time it is
// acquired; calls that act on a lease name the counter and fail with
// LeaseLostException once it moved on (fencing), so a worker paused past
// its timeout cannot overwrite its successor's checkpoint. Checkpoints
// never go backwards. A child shard may be leased only once each parent is
// finished (checkpointed with shard_end) or dropped by retention.
//
// # Bounds
//
// Memory is bounded by the records of one group at a time (a lease per
// shard, a record per worker): groups per stream and live workers per
// group are limited (WithLimits), and nothing is kept between calls but
// the rebalance counters, one per group.
package groups
