package bench

import (
	"context"
	"errors"
	"fmt"
)

// Workload is one cell of the benchmark matrix.
type Workload struct {
	RecordSize int  // bytes of data per record (the payload's timestamp included)
	Batch      int  // records per put; 1 means the single-record call (PutRecord)
	Shards     int  // shards, partitions or streams the records spread over
	Producers  int  // concurrent producers in the throughput run
	Durable    bool // fsync before the put is acknowledged
}

// Mode names the durability column a workload belongs to.
func (w Workload) Mode() string {
	if w.Durable {
		return "durable"
	}
	return "relaxed"
}

// Case is the workload without its durability: the rows of one table.
func (w Workload) Case() string {
	return fmt.Sprintf("%s records, batch %d, %s, %s", formatSize(w.RecordSize), w.Batch,
		plural(w.Shards, "shard"), plural(w.Producers, "producer"))
}

func formatSize(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return fmt.Sprintf("%d KiB", n/1024)
	}
	return fmt.Sprintf("%d B", n)
}

// Driver starts one target and drives it. The runner calls Setup once per
// measurement, then Producer, Tail and CatchUp as the measurement needs, then
// Close; a Driver is reused for the next measurement after Close. Drivers
// are not safe for concurrent use, but the Producers they return are.
type Driver interface {
	// Name is the target's name in the table ("self-grpc", "kfake", ...).
	Name() string
	// Available reports whether the target can run here; when it cannot,
	// the error says why (ErrNotInstalled for a peer that
	// scripts/bench-peers.sh installs).
	Available() error
	// Setup starts the target on loopback with fresh storage and creates
	// the stream (topic, JetStream streams) for w with w.Shards shards.
	Setup(ctx context.Context, w Workload) error
	// Producer returns a producer of the stream Setup created. Each call
	// may open its own connection.
	Producer(ctx context.Context) (Producer, error)
	// Tail reads every record appended from now on, on all shards, and calls
	// fn with each record's data, until ctx is done. It returns once the
	// reader is in place (records put after it returns are seen) and stops
	// its goroutines when ctx is done; the returned function waits for them.
	// Targets with no way to wait for new records return ErrUnsupported.
	Tail(ctx context.Context, fn func(data []byte)) (wait func() error, err error)
	// CatchUp reads the stream from the start (TRIM_HORIZON) until it has
	// read want records (the number acknowledged), and returns how many it
	// read: more than want means the target returned records twice. A
	// target may make acknowledged records readable a moment later (Spate's
	// relaxed mode publishes after the next fsync), so an empty read before
	// want is retried until ctx is done.
	CatchUp(ctx context.Context, want int) (int, error)
	// Close stops the target and removes its storage.
	Close() error
}

// Settler is a Driver that can settle after a preload: finish the
// background work its writes left, so that a read that follows measures the
// read alone (Spate and pebble-raw flush Pebble's memtable to disk and wait
// for it). The catch-up measurement settles every target that can before it
// reads; the others (kfake, out-of-process peers) have nothing to wait for
// that the bench can see.
type Settler interface {
	Settle(ctx context.Context) error
}

// Producer puts records. Put must be safe for concurrent use.
type Producer interface {
	// Put writes records and returns once all are acknowledged (durably
	// when the workload is durable). The caller may reuse the records after
	// Put returns. The records spread over the stream's shards.
	Put(ctx context.Context, records [][]byte) error
	Close() error
}

// ErrNotInstalled marks a peer that is not installed here.
var ErrNotInstalled = errors.New("not installed (run scripts/bench-peers.sh)")

// ErrUnsupported marks a measurement a target cannot take (pebble-raw has
// no way to tail).
var ErrUnsupported = errors.New("not applicable")

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
