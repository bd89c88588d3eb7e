package shard

import (
	"time"

	"github.com/spatehq/spate/internal/membudget"
)

// Limits that the Kinesis Data Streams API documents, enforced by the store so
// every protocol (JSON over HTTP, gRPC, in-process callers) gets them.
const (
	MaxStreamNameLen      = 128
	MaxPartitionKeyLen    = 256
	MaxRecordSize         = 1 << 20 // data plus partition key, bytes: a stream's limit until UpdateMaxRecordSize
	MaxPutRecordsEntries  = 500
	MaxPutRecordsSize     = 10 << 20 // sum of data plus partition keys, bytes (5 MiB before 2025)
	MaxGetRecordsLimit    = 10000
	MaxGetRecordsBytes    = 10 << 20
	MinRetentionHours     = 24
	MaxRetentionHours     = 8760
	DefaultRetentionHours = 24
	MaxTagsPerStream      = 50
	MaxTagKeyLen          = 128
	MaxTagValueLen        = 256
	MaxListLimit          = 10000
	DefaultListShards     = 1000
	DefaultListStreams    = 100
	DefaultDescribeLimit  = 100
	OnDemandShardCount    = 4
	IteratorTTL           = 5 * time.Minute
	NextTokenTTL          = 5 * time.Minute
)

// StreamStatus is a stream's lifecycle state, as Kinesis names it.
type StreamStatus string

// Stream statuses.
const (
	StatusCreating StreamStatus = "CREATING"
	StatusActive   StreamStatus = "ACTIVE"
	StatusDeleting StreamStatus = "DELETING"
	StatusUpdating StreamStatus = "UPDATING"
)

// StreamMode is the capacity mode. Spate has no provisioned throughput, so the
// mode only decides the default shard count (ON_DEMAND starts with 4).
type StreamMode string

// Stream modes.
const (
	ModeProvisioned StreamMode = "PROVISIONED"
	ModeOnDemand    StreamMode = "ON_DEMAND"
)

// IteratorType says where a shard iterator starts.
type IteratorType string

// Iterator types, as GetShardIterator names them.
const (
	AtSequenceNumber    IteratorType = "AT_SEQUENCE_NUMBER"
	AfterSequenceNumber IteratorType = "AFTER_SEQUENCE_NUMBER"
	TrimHorizon         IteratorType = "TRIM_HORIZON"
	Latest              IteratorType = "LATEST"
	AtTimestamp         IteratorType = "AT_TIMESTAMP"
)

// ShardFilterType selects shards in ListShards.
type ShardFilterType string

// Shard filter types.
const (
	FilterAfterShardID    ShardFilterType = "AFTER_SHARD_ID"
	FilterAtTrimHorizon   ShardFilterType = "AT_TRIM_HORIZON"
	FilterFromTrimHorizon ShardFilterType = "FROM_TRIM_HORIZON"
	FilterAtLatest        ShardFilterType = "AT_LATEST"
	FilterAtTimestamp     ShardFilterType = "AT_TIMESTAMP"
	FilterFromTimestamp   ShardFilterType = "FROM_TIMESTAMP"
)

// CreateStreamInput describes a new stream.
type CreateStreamInput struct {
	Name       string
	ShardCount int // 0 means the mode's default: 4 for ON_DEMAND; required for PROVISIONED
	Mode       StreamMode
	Tags       map[string]string
	// MaxRecordSizeKiB is the stream's maximum record size (see
	// UpdateMaxRecordSize); 0 means MaxRecordSize.
	MaxRecordSizeKiB int
	// Internal marks a stream that another Spate component owns (a
	// Firehose DirectPut buffer, say). Its name is "owner:name", which no
	// Kinesis API request can spell; it is left out of ListStreams and of
	// the account's shard count, and is ACTIVE at once.
	Internal bool
}

// HashKeyRange is an inclusive range of 128-bit hash keys, as decimal strings.
type HashKeyRange struct {
	Start string
	End   string
}

// SequenceNumberRange is a shard's range of sequence numbers; End is empty
// while the shard is open.
type SequenceNumberRange struct {
	Start string
	End   string
}

// ShardInfo describes one shard, as DescribeStream and ListShards show it.
type ShardInfo struct {
	ShardID               string
	ParentShardID         string // empty when none
	AdjacentParentShardID string // empty when none
	HashKeyRange          HashKeyRange
	SequenceNumberRange   SequenceNumberRange
}

// StreamDescription is a stream's metadata (DescribeStream,
// DescribeStreamSummary).
type StreamDescription struct {
	Name           string
	ARN            string
	Status         StreamStatus
	Mode           StreamMode
	CreatedAt      time.Time
	RetentionHours int
	EncryptionType string // "KMS" or "NONE"
	KeyID          string // the KeyId encryption was started with; empty when NONE
	OpenShardCount int
	ConsumerCount  int
	// MaxRecordSizeKiB is the largest record the stream takes
	// (UpdateMaxRecordSize).
	MaxRecordSizeKiB int
	// WarmThroughput is set for ON_DEMAND streams only.
	WarmThroughput *WarmThroughput
	// ShardLevelMetrics are the enhanced metrics enabled on the stream
	// (EnableEnhancedMonitoring), in AllShardLevelMetrics order; never nil.
	ShardLevelMetrics []ShardLevelMetric
	// Shards holds one page of shards in DescribeStream; HasMoreShards says
	// whether more follow.
	Shards        []ShardInfo
	HasMoreShards bool
}

// StreamSummary is one entry of ListStreams.
type StreamSummary struct {
	Name      string
	ARN       string
	Status    StreamStatus
	Mode      StreamMode
	CreatedAt time.Time
}

// ListStreamsInput pages through stream names in lexical order.
type ListStreamsInput struct {
	Limit                    int // 0 means DefaultListStreams
	ExclusiveStartStreamName string
	NextToken                string
}

// ListStreamsOutput is one page of streams.
type ListStreamsOutput struct {
	Streams        []StreamSummary
	HasMoreStreams bool
	NextToken      string // set when HasMoreStreams
}

// ShardFilter narrows ListShards.
type ShardFilter struct {
	Type      ShardFilterType
	ShardID   string    // for AFTER_SHARD_ID
	Timestamp time.Time // for AT_TIMESTAMP and FROM_TIMESTAMP
}

// ListShardsInput pages through a stream's shards. Either Stream or
// NextToken is set, not both.
type ListShardsInput struct {
	Stream                string
	NextToken             string
	ExclusiveStartShardID string
	MaxResults            int // 0 means DefaultListShards
	Filter                *ShardFilter
	StreamCreatedAt       *time.Time // StreamCreationTimestamp, to tell same-named streams apart
}

// ListShardsOutput is one page of shards.
type ListShardsOutput struct {
	Shards    []ShardInfo
	NextToken string
}

// Entry is a record to append.
type Entry struct {
	PartitionKey    string
	ExplicitHashKey string // decimal, optional; overrides MD5(PartitionKey) for routing
	Data            []byte
}

// AppendResult is the outcome of one Entry, in request order.
type AppendResult struct {
	ShardID        string
	SequenceNumber string
	// Encrypted is set when the record is stored encrypted (PutRecord's
	// EncryptionType KMS).
	Encrypted bool
	// ErrorCode and ErrorMessage are set for an entry that failed on its own
	// (PutRecords' per-entry failures); the other entries still succeeded.
	ErrorCode    string
	ErrorMessage string
}

// Position says where to start reading a shard.
type Position struct {
	Type           IteratorType
	SequenceNumber string    // AT_ and AFTER_SEQUENCE_NUMBER
	Timestamp      time.Time // AT_TIMESTAMP
}

// Record is a stored record.
type Record struct {
	SequenceNumber string
	ArrivalTime    time.Time // millisecond precision
	PartitionKey   string
	Data           []byte // owned by the caller
	// Encrypted is set when the record was sealed at rest (written while the
	// stream's encryption was on): GetRecords reports EncryptionType KMS.
	Encrypted bool
}

// ChildShard names a shard that continues a closed one.
type ChildShard struct {
	ShardID      string
	ParentShards []string
	HashKeyRange HashKeyRange
}

// GetRecordsOutput is one GetRecords page.
type GetRecordsOutput struct {
	Records []Record
	// NextIterator is empty when the shard is closed and fully read.
	NextIterator       string
	MillisBehindLatest int64
	ChildShards        []ChildShard
	// hold is the read budget the records hold until Release.
	hold *membudget.Hold
}

// Limits is DescribeLimits' answer.
type Limits struct {
	ShardLimit               int
	OpenShardCount           int
	OnDemandStreamCount      int
	OnDemandStreamCountLimit int
}
