package client

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// Defaults of a Producer, written down once. Each is the value of the
// option named after it when the option is not given.
const (
	// DefaultBatchMaxRecords is the most Kinesis records in one batch:
	// PutRecords' limit.
	DefaultBatchMaxRecords = 500
	// DefaultBatchMaxBytes is the most data and partition keys in one
	// batch: half of PutRecords' 10 MiB limit (5 MiB before AWS's 2025
	// change), which keeps a batch's message well under gRPC's limit.
	DefaultBatchMaxBytes = 5 << 20
	// maxBatchBytes is PutRecords' limit, the most WithBatchMaxBytes
	// takes.
	maxBatchBytes = 10 << 20
	// DefaultLinger is how long a record may wait for others to fill its
	// batch while its shard has no batch in flight (franz-go and Kafka 4
	// wait 5 ms too). Records put while a batch is in flight wait for it
	// anyway, so under load batches fill without lingering.
	DefaultLinger = 5 * time.Millisecond
	// DefaultMaxBufferedRecords and DefaultMaxBufferedBytes bound the
	// records put and not yet acknowledged or failed; Put blocks (or
	// fails with ErrBufferFull) beyond them.
	DefaultMaxBufferedRecords = 100_000
	DefaultMaxBufferedBytes   = 64 << 20
	// DefaultRecordTimeout is how long after Put a record may be retried;
	// then it fails with the last error (Kafka's delivery.timeout.ms).
	DefaultRecordTimeout = 2 * time.Minute
	// DefaultRequestTimeout bounds one batch's round trip.
	DefaultRequestTimeout = 30 * time.Second
	// DefaultRetryBackoffMin and DefaultRetryBackoffMax bound the backoff
	// before a shard's failed records are sent again: exponential from
	// the minimum, capped at the maximum, jittered: from half to all of it.
	DefaultRetryBackoffMin = 50 * time.Millisecond
	DefaultRetryBackoffMax = 2 * time.Second
	// DefaultAggregateMaxBytes is the size of a KPL aggregate
	// (WithAggregation): the KPL's AggregationMaxSize.
	DefaultAggregateMaxBytes = 51_200
)

// ProducerOption configures a Producer.
type ProducerOption func(*producerConfig)

// Transport is how a Producer sends its batches.
type Transport int

const (
	// TransportProduce sends batches on one gRPC Produce stream, with
	// per-record acknowledgements and no unary call per batch. The
	// default.
	TransportProduce Transport = iota
	// TransportPutRecords sends each batch as a unary gRPC PutRecords.
	TransportPutRecords
	// TransportHTTP sends each batch as a PutRecords of the Kinesis HTTP
	// API, with the aws-sdk-go-v2 client given to WithHTTP.
	TransportHTTP
)

func (t Transport) String() string {
	switch t {
	case TransportProduce:
		return "produce"
	case TransportPutRecords:
		return "putrecords"
	case TransportHTTP:
		return "http"
	}
	return "unknown"
}

type producerConfig struct {
	transport          Transport
	kinesis            *kinesis.Client
	batchMaxRecords    int
	batchMaxBytes      int
	linger             time.Duration
	maxBufferedRecords int
	maxBufferedBytes   int
	failFast           bool
	recordTimeout      time.Duration
	requestTimeout     time.Duration
	backoffMin         time.Duration
	backoffMax         time.Duration
	aggregate          bool
	aggregateMaxBytes  int
	onResult           func(*PutResult)
	hooks              ProducerHooks
}

// defaultProducerConfig holds every default in one place.
func defaultProducerConfig() producerConfig {
	return producerConfig{
		transport:          TransportProduce,
		batchMaxRecords:    DefaultBatchMaxRecords,
		batchMaxBytes:      DefaultBatchMaxBytes,
		linger:             DefaultLinger,
		maxBufferedRecords: DefaultMaxBufferedRecords,
		maxBufferedBytes:   DefaultMaxBufferedBytes,
		recordTimeout:      DefaultRecordTimeout,
		requestTimeout:     DefaultRequestTimeout,
		backoffMin:         DefaultRetryBackoffMin,
		backoffMax:         DefaultRetryBackoffMax,
		aggregateMaxBytes:  DefaultAggregateMaxBytes,
	}
}

// WithTransport chooses how batches travel (default TransportProduce).
// TransportHTTP needs WithHTTP too.
func WithTransport(t Transport) ProducerOption {
	return func(c *producerConfig) { c.transport = t }
}

// WithHTTP sends batches over the Kinesis HTTP API with k, a client of
// aws-sdk-go-v2 configured for the server (its BaseEndpoint, credentials
// and retryer are k's): it implies TransportHTTP. The Producer's own
// retries come on top of k's; set k's retryer to aws.NopRetryer to leave
// them to the Producer.
func WithHTTP(k *kinesis.Client) ProducerOption {
	return func(c *producerConfig) { c.transport, c.kinesis = TransportHTTP, k }
}

// WithBatchMaxRecords caps the Kinesis records of one batch (default
// DefaultBatchMaxRecords, 1 to 500).
func WithBatchMaxRecords(n int) ProducerOption {
	return func(c *producerConfig) { c.batchMaxRecords = n }
}

// WithBatchMaxBytes caps the data and partition keys of one batch
// (default DefaultBatchMaxBytes, at most 10 MiB).
func WithBatchMaxBytes(n int) ProducerOption {
	return func(c *producerConfig) { c.batchMaxBytes = n }
}

// WithLinger sets how long a record waits for a fuller batch when its
// shard has none in flight (default DefaultLinger; 0 sends at once).
func WithLinger(d time.Duration) ProducerOption {
	return func(c *producerConfig) { c.linger = d }
}

// WithMaxBuffered bounds the records put and not yet finished, by count
// and by bytes of data and partition keys (defaults
// DefaultMaxBufferedRecords, DefaultMaxBufferedBytes). A record larger
// than the byte bound is taken when nothing else is buffered.
func WithMaxBuffered(records, bytes int) ProducerOption {
	return func(c *producerConfig) { c.maxBufferedRecords, c.maxBufferedBytes = records, bytes }
}

// WithFailFast makes Put fail at once with ErrBufferFull when the buffer
// is full, instead of blocking until there is room or its context ends
// (the default).
func WithFailFast() ProducerOption {
	return func(c *producerConfig) { c.failFast = true }
}

// WithRecordTimeout sets how long after Put a record may still be sent
// (default DefaultRecordTimeout): retries stop at that deadline.
func WithRecordTimeout(d time.Duration) ProducerOption {
	return func(c *producerConfig) { c.recordTimeout = d }
}

// WithRequestTimeout bounds one batch's round trip (default
// DefaultRequestTimeout); a batch that times out is retried.
func WithRequestTimeout(d time.Duration) ProducerOption {
	return func(c *producerConfig) { c.requestTimeout = d }
}

// WithRetryBackoff sets the bounds of the jittered exponential backoff
// between attempts of a shard's failed records (defaults
// DefaultRetryBackoffMin, DefaultRetryBackoffMax).
func WithRetryBackoff(min, max time.Duration) ProducerOption {
	return func(c *producerConfig) { c.backoffMin, c.backoffMax = min, max }
}

// WithAggregation packs the records of a batch into KPL aggregated records
// of up to maxBytes each (0: DefaultAggregateMaxBytes), which consumers
// de-aggregate (the KCL, Spate's Firehose and `spate tail --kpl` do).
// Every record of an aggregate gets the aggregate's sequence number, and
// PutResult.SubSequenceNumber its place in it. Default: off.
func WithAggregation(maxBytes int) ProducerOption {
	return func(c *producerConfig) {
		c.aggregate = true
		if maxBytes > 0 {
			c.aggregateMaxBytes = maxBytes
		}
	}
}

// WithOnResult calls fn with every record once it is finished (stored or
// failed), from the goroutine that learned it: fn must not block for long.
// Default: none (use PutResult.Wait).
func WithOnResult(fn func(*PutResult)) ProducerOption {
	return func(c *producerConfig) { c.onResult = fn }
}

// WithHooks reports every batch's outcome to h (metrics). Default: none.
func WithHooks(h ProducerHooks) ProducerOption {
	return func(c *producerConfig) { c.hooks = h }
}

// ProducerHooks receives a Producer's events, for metrics. Its methods are
// called from the Producer's goroutines, outside its locks; they must not
// block for long.
type ProducerHooks interface {
	// OnBatch is called once per attempt of a batch, when its answer (or
	// failure) arrives.
	OnBatch(BatchEvent)
}

// BatchEvent is one attempt of one batch.
type BatchEvent struct {
	ShardID string        // the shard the batch was routed to
	Records int           // user records in the batch
	Entries int           // Kinesis records sent (fewer with aggregation)
	Bytes   int           // data and partition keys of the user records
	Attempt int           // 1 for a shard's first try, 2 and up for retries
	Stored  int           // user records acknowledged
	Retried int           // user records queued for another attempt
	Failed  int           // user records failed for good
	Latency time.Duration // the round trip
	Err     error         // the batch-level error; nil when answered
}
