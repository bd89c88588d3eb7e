package client

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// The consumer's defaults, in one place. Each is documented on the option
// that changes it.
const (
	defaultHeartbeatFraction = 3
	defaultMaxBatchRecords   = 10000
	defaultHandlerBackoffMin = 100 * time.Millisecond
	defaultHandlerBackoffMax = 10 * time.Second
	defaultShutdownTimeout   = 30 * time.Second
	defaultPollInterval      = 200 * time.Millisecond
	defaultCallTimeout       = 10 * time.Second
	// exactlyOnceMaxBatch keeps an exactly-once batch's output within one
	// Checkpoint call when the handler writes a record per record read:
	// the output records go in one request, under PutRecords' limits.
	exactlyOnceMaxBatch = 500
)

// ConsumerOption configures a Consumer.
type ConsumerOption func(*consumerOptions)

type consumerOptions struct {
	workerID        string
	initial         *spatev1.StartingPosition
	leaseTimeout    time.Duration
	heartbeat       time.Duration
	getRecords      bool
	pollInterval    time.Duration
	maxBatchRecords int
	batchSet        bool   // WithMaxBatchRecords was given
	outputStream    string // exactly-once when set
	stopOnError     bool
	backoffMin      time.Duration
	backoffMax      time.Duration
	shutdownTimeout time.Duration
	hooks           ConsumerHooks
}

func defaultConsumerOptions() consumerOptions {
	return consumerOptions{
		initial:         &spatev1.StartingPosition{Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON},
		pollInterval:    defaultPollInterval,
		maxBatchRecords: defaultMaxBatchRecords,
		backoffMin:      defaultHandlerBackoffMin,
		backoffMax:      defaultHandlerBackoffMax,
		shutdownTimeout: defaultShutdownTimeout,
	}
}

// WithWorkerID names this worker in the group: 1 to 128 characters of
// [a-zA-Z0-9_.:-], unique among the group's workers. Default: the host
// name, the process id and a random suffix ("host:1234:9f3a0c"), so a
// restarted process is a new worker and never renews a lease its previous
// life held.
func WithWorkerID(id string) ConsumerOption { return func(o *consumerOptions) { o.workerID = id } }

// WithInitialPosition says where a shard is read from when the group has no
// checkpoint for it: TRIM_HORIZON (the default), LATEST, or AT_TIMESTAMP
// with ts. It is stored with the group when the group is created (by its
// first worker) and ignored afterwards. Children of a resharded shard are
// always read from their start, so no record is skipped across a reshard.
func WithInitialPosition(t spatev1.ShardIteratorType, ts time.Time) ConsumerOption {
	return func(o *consumerOptions) {
		o.initial = &spatev1.StartingPosition{Type: t}
		if t == spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_AT_TIMESTAMP {
			o.initial.Timestamp = timestampOf(ts)
		}
	}
}

// WithLeaseTimeout is the group's lease timeout, set when the group is
// created (by its first worker): how long a worker's leases outlive its
// last heartbeat. Default: the server's. Shorter timeouts move the shards
// of a dead worker sooner and cost more heartbeats.
func WithLeaseTimeout(d time.Duration) ConsumerOption {
	return func(o *consumerOptions) { o.leaseTimeout = d }
}

// WithHeartbeatInterval is how often the worker renews its leases and
// looks for shards to take. Default: a third of the group's lease timeout,
// so two heartbeats in a row may be lost before a lease lapses.
func WithHeartbeatInterval(d time.Duration) ConsumerOption {
	return func(o *consumerOptions) { o.heartbeat = d }
}

// WithGetRecords reads shards by polling GetRecords, waiting interval
// after an empty read, instead of the default Subscribe stream, whose
// server pushes records as they are appended. Polling suits proxies that
// do not carry long-lived gRPC streams.
func WithGetRecords(interval time.Duration) ConsumerOption {
	return func(o *consumerOptions) {
		o.getRecords = true
		if interval > 0 {
			o.pollInterval = interval
		}
	}
}

// WithMaxBatchRecords caps the records of one Batch. A batch is what the
// server sent in one message, or several of them merged while the handler
// was busy with the previous batch, up to this many records. Default 10000;
// 500 with WithExactlyOnce.
func WithMaxBatchRecords(n int) ConsumerOption {
	return func(o *consumerOptions) { o.maxBatchRecords, o.batchSet = n, true }
}

// WithExactlyOnce makes the consumer exactly-once for a handler that writes
// back into Spate: the records the handler passes to Batch.Output are
// appended to outputStream in the same atomic batch as the checkpoint of
// the records they came from, and only if the worker still holds the
// shard's lease. A batch processed again after a crash therefore never
// writes its output twice. Side effects outside Spate stay at-least-once.
func WithExactlyOnce(outputStream string) ConsumerOption {
	return func(o *consumerOptions) { o.outputStream = outputStream }
}

// WithStopOnHandlerError makes Run stop (gracefully, handing the leases
// back) and return the first error a handler returns. Default: the batch is
// retried with a jittered exponential backoff (WithHandlerBackoff) until
// the handler succeeds or the lease is lost; its checkpoint waits for it.
func WithStopOnHandlerError() ConsumerOption {
	return func(o *consumerOptions) { o.stopOnError = true }
}

// WithHandlerBackoff bounds the wait between retries of a failed batch:
// it starts at min and doubles up to max, with full jitter. Default 100 ms
// to 10 s. The same backoff paces reconnecting to a shard.
//
// A non-positive min means the default; a max below min means the larger
// of min and the default max.
func WithHandlerBackoff(min, max time.Duration) ConsumerOption {
	return func(o *consumerOptions) { o.backoffMin, o.backoffMax = min, max }
}

// WithShutdownTimeout bounds a graceful stop: how long the handlers may
// take to finish the batches in hand before their contexts are cancelled
// and the leases handed back anyway. Default 30 s.
func WithShutdownTimeout(d time.Duration) ConsumerOption {
	return func(o *consumerOptions) { o.shutdownTimeout = d }
}

// ConsumerHooks are callbacks for metrics and logs. Each may be nil. They
// are called synchronously from the consumer's goroutines (several at
// once), so they must be quick and safe for concurrent use.
type ConsumerHooks struct {
	// OnBatch follows each successful handler call: the shard, the
	// batch's records, how far behind the shard's newest record it was,
	// and how long the handler took (retries included).
	OnBatch func(shardID string, records int, millisBehindLatest int64, took time.Duration)
	// OnHandlerError follows each failed handler call; attempt counts
	// from 1.
	OnHandlerError func(shardID string, attempt int, err error)
	// OnCheckpoint follows each Checkpoint call.
	OnCheckpoint func(shardID, sequenceNumber string, err error)
	// OnLeaseAcquired follows a lease taken; stolen says it was taken from
	// a live worker to even out the load.
	OnLeaseAcquired func(shardID string, stolen bool)
	// OnLeaseLost follows a shard stopped at once: its lease moved to
	// another worker or lapsed, or a graceful stop ran out of time.
	OnLeaseLost func(shardID string)
	// OnShardEnd follows the checkpoint of a closed shard's last batch.
	OnShardEnd func(shardID string)
	// OnError reports an error the consumer retries on its own: a failed
	// heartbeat, a broken subscription, a failed acquire.
	OnError func(op string, err error)
}

// WithConsumerHooks sets the consumer's callbacks.
func WithConsumerHooks(h ConsumerHooks) ConsumerOption {
	return func(o *consumerOptions) { o.hooks = h }
}

// defaultWorkerID is host:pid:random, with characters outside the worker
// id pattern replaced by '-'.
func defaultWorkerID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "worker"
	}
	host = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			return r
		}
		return '-'
	}, host)
	if len(host) > 100 {
		host = host[:100]
	}
	return fmt.Sprintf("%s:%d:%06x", host, os.Getpid(), rand.Uint32()&0xffffff)
}
