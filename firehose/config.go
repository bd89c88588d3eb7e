package firehose

import (
	"encoding/json"
	"time"
)

// The configuration types mirror the Firehose API's shapes, member for
// member and with the same JSON names, so the JSON API decodes requests
// straight into them and the store persists them as they came. Pointer
// fields distinguish "absent" (take the default) from zero.

// BufferingHints bound a buffer by size and by time, whichever comes first.
type BufferingHints struct {
	SizeInMBs         *int `json:"SizeInMBs,omitempty"`
	IntervalInSeconds *int `json:"IntervalInSeconds,omitempty"`
}

// ProcessorParameter is one parameter of a processor.
type ProcessorParameter struct {
	ParameterName  string `json:"ParameterName"`
	ParameterValue string `json:"ParameterValue"`
}

// Processor is one step of record processing.
type Processor struct {
	Type       string               `json:"Type"`
	Parameters []ProcessorParameter `json:"Parameters,omitempty"`
}

// ProcessingConfiguration lists the processors applied to each record.
// Spate supports AppendDelimiterToRecord and MetadataExtraction (JQ, for
// dynamic partitioning).
type ProcessingConfiguration struct {
	Enabled    *bool       `json:"Enabled,omitempty"`
	Processors []Processor `json:"Processors,omitempty"`
}

// RetryOptions says how long to retry a failing delivery.
type RetryOptions struct {
	DurationInSeconds *int `json:"DurationInSeconds,omitempty"`
}

// DynamicPartitioningConfiguration enables partitionKeyFromQuery prefixes.
type DynamicPartitioningConfiguration struct {
	Enabled      *bool         `json:"Enabled,omitempty"`
	RetryOptions *RetryOptions `json:"RetryOptions,omitempty"`
}

// SchemaConfiguration names the schema of converted records. With no Glue
// catalogue, Spate takes the columns inline (see Columns).
type SchemaConfiguration struct {
	RoleARN      string `json:"RoleARN,omitempty"`
	CatalogId    string `json:"CatalogId,omitempty"`
	DatabaseName string `json:"DatabaseName,omitempty"`
	TableName    string `json:"TableName,omitempty"`
	Region       string `json:"Region,omitempty"`
	VersionId    string `json:"VersionId,omitempty"`
	// Columns is a Spate extension: the schema inline, as
	// "name:type,name:type" or a JSON array of {"Name","Type"}.
	Columns string `json:"Columns,omitempty"`
}

// ParquetSerDe configures Parquet output.
type ParquetSerDe struct {
	Compression string `json:"Compression,omitempty"`
}

// Serializer selects the output format.
type Serializer struct {
	ParquetSerDe *ParquetSerDe   `json:"ParquetSerDe,omitempty"`
	OrcSerDe     json.RawMessage `json:"OrcSerDe,omitempty"`
}

// OutputFormatConfiguration wraps the serializer.
type OutputFormatConfiguration struct {
	Serializer *Serializer `json:"Serializer,omitempty"`
}

// DataFormatConversionConfiguration converts JSON records to Parquet.
type DataFormatConversionConfiguration struct {
	Enabled                   *bool                      `json:"Enabled,omitempty"`
	SchemaConfiguration       *SchemaConfiguration       `json:"SchemaConfiguration,omitempty"`
	InputFormatConfiguration  json.RawMessage            `json:"InputFormatConfiguration,omitempty"`
	OutputFormatConfiguration *OutputFormatConfiguration `json:"OutputFormatConfiguration,omitempty"`
}

// S3DestinationConfiguration is the plain S3 destination (also the backup
// bucket of other destinations).
type S3DestinationConfiguration struct {
	RoleARN                  string          `json:"RoleARN,omitempty"`
	BucketARN                string          `json:"BucketARN,omitempty"`
	Prefix                   string          `json:"Prefix,omitempty"`
	ErrorOutputPrefix        string          `json:"ErrorOutputPrefix,omitempty"`
	BufferingHints           *BufferingHints `json:"BufferingHints,omitempty"`
	CompressionFormat        string          `json:"CompressionFormat,omitempty"`
	EncryptionConfiguration  json.RawMessage `json:"EncryptionConfiguration,omitempty"`
	CloudWatchLoggingOptions json.RawMessage `json:"CloudWatchLoggingOptions,omitempty"`
}

// ExtendedS3DestinationConfiguration is the S3 destination with processing,
// dynamic partitioning and format conversion.
type ExtendedS3DestinationConfiguration struct {
	RoleARN                           string                             `json:"RoleARN,omitempty"`
	BucketARN                         string                             `json:"BucketARN,omitempty"`
	Prefix                            string                             `json:"Prefix,omitempty"`
	ErrorOutputPrefix                 string                             `json:"ErrorOutputPrefix,omitempty"`
	BufferingHints                    *BufferingHints                    `json:"BufferingHints,omitempty"`
	CompressionFormat                 string                             `json:"CompressionFormat,omitempty"`
	EncryptionConfiguration           json.RawMessage                    `json:"EncryptionConfiguration,omitempty"`
	CloudWatchLoggingOptions          json.RawMessage                    `json:"CloudWatchLoggingOptions,omitempty"`
	ProcessingConfiguration           *ProcessingConfiguration           `json:"ProcessingConfiguration,omitempty"`
	S3BackupMode                      string                             `json:"S3BackupMode,omitempty"`
	S3BackupConfiguration             *S3DestinationConfiguration        `json:"S3BackupConfiguration,omitempty"`
	DataFormatConversionConfiguration *DataFormatConversionConfiguration `json:"DataFormatConversionConfiguration,omitempty"`
	DynamicPartitioningConfiguration  *DynamicPartitioningConfiguration  `json:"DynamicPartitioningConfiguration,omitempty"`
	FileExtension                     string                             `json:"FileExtension,omitempty"`
	CustomTimeZone                    string                             `json:"CustomTimeZone,omitempty"`
}

// ElasticsearchDestinationConfiguration is the Elasticsearch destination
// (also used for AmazonopensearchserviceDestinationConfiguration, whose
// members Spate uses are the same).
type ElasticsearchDestinationConfiguration struct {
	RoleARN                  string                      `json:"RoleARN,omitempty"`
	DomainARN                string                      `json:"DomainARN,omitempty"`
	ClusterEndpoint          string                      `json:"ClusterEndpoint,omitempty"`
	IndexName                string                      `json:"IndexName,omitempty"`
	TypeName                 string                      `json:"TypeName,omitempty"`
	IndexRotationPeriod      string                      `json:"IndexRotationPeriod,omitempty"`
	BufferingHints           *BufferingHints             `json:"BufferingHints,omitempty"`
	RetryOptions             *RetryOptions               `json:"RetryOptions,omitempty"`
	S3BackupMode             string                      `json:"S3BackupMode,omitempty"`
	S3Configuration          *S3DestinationConfiguration `json:"S3Configuration,omitempty"`
	ProcessingConfiguration  *ProcessingConfiguration    `json:"ProcessingConfiguration,omitempty"`
	CloudWatchLoggingOptions json.RawMessage             `json:"CloudWatchLoggingOptions,omitempty"`
	DocumentIdOptions        json.RawMessage             `json:"DocumentIdOptions,omitempty"`
}

// KinesisStreamSourceConfiguration names a Spate stream to read from.
type KinesisStreamSourceConfiguration struct {
	KinesisStreamARN string `json:"KinesisStreamARN"`
	RoleARN          string `json:"RoleARN,omitempty"`
}

// Tag is a delivery stream tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value,omitempty"`
}

// Delivery stream types.
const (
	TypeDirectPut             = "DirectPut"
	TypeKinesisStreamAsSource = "KinesisStreamAsSource"
)

// Delivery stream statuses.
const (
	StatusCreating = "CREATING"
	StatusActive   = "ACTIVE"
	StatusDeleting = "DELETING"
)

// CreateDeliveryStreamInput creates a delivery stream with exactly one
// destination.
type CreateDeliveryStreamInput struct {
	DeliveryStreamName                              string                                 `json:"DeliveryStreamName"`
	DeliveryStreamType                              string                                 `json:"DeliveryStreamType,omitempty"`
	KinesisStreamSourceConfiguration                *KinesisStreamSourceConfiguration      `json:"KinesisStreamSourceConfiguration,omitempty"`
	S3DestinationConfiguration                      *S3DestinationConfiguration            `json:"S3DestinationConfiguration,omitempty"`
	ExtendedS3DestinationConfiguration              *ExtendedS3DestinationConfiguration    `json:"ExtendedS3DestinationConfiguration,omitempty"`
	ElasticsearchDestinationConfiguration           *ElasticsearchDestinationConfiguration `json:"ElasticsearchDestinationConfiguration,omitempty"`
	AmazonopensearchserviceDestinationConfiguration *ElasticsearchDestinationConfiguration `json:"AmazonopensearchserviceDestinationConfiguration,omitempty"`
	Tags                                            []Tag                                  `json:"Tags,omitempty"`
	// DeliveryStreamEncryptionConfigurationInput turns server-side
	// encryption on at creation (DirectPut only; encryption.go).
	DeliveryStreamEncryptionConfigurationInput *EncryptionConfigurationInput `json:"DeliveryStreamEncryptionConfigurationInput,omitempty"`
}

// UpdateDestinationInput replaces (merges into) a destination's
// configuration. CurrentDeliveryStreamVersionId must match the stream's
// VersionId (optimistic concurrency, as in Firehose).
type UpdateDestinationInput struct {
	DeliveryStreamName                       string                                 `json:"DeliveryStreamName"`
	CurrentDeliveryStreamVersionId           string                                 `json:"CurrentDeliveryStreamVersionId"`
	DestinationId                            string                                 `json:"DestinationId"`
	S3DestinationUpdate                      *S3DestinationConfiguration            `json:"S3DestinationUpdate,omitempty"`
	ExtendedS3DestinationUpdate              *ExtendedS3DestinationConfiguration    `json:"ExtendedS3DestinationUpdate,omitempty"`
	ElasticsearchDestinationUpdate           *ElasticsearchDestinationConfiguration `json:"ElasticsearchDestinationUpdate,omitempty"`
	AmazonopensearchserviceDestinationUpdate *ElasticsearchDestinationConfiguration `json:"AmazonopensearchserviceDestinationUpdate,omitempty"`
}

// DestinationDescription describes the one destination of a delivery
// stream. Exactly one of S3 (with Extended) or Elasticsearch is set; for
// an OpenSearch destination Opensearch is true.
type DestinationDescription struct {
	DestinationId                                 string                                 `json:"DestinationId"`
	S3DestinationDescription                      *S3DestinationConfiguration            `json:"S3DestinationDescription,omitempty"`
	ExtendedS3DestinationDescription              *ExtendedS3DestinationConfiguration    `json:"ExtendedS3DestinationDescription,omitempty"`
	ElasticsearchDestinationDescription           *ElasticsearchDestinationConfiguration `json:"ElasticsearchDestinationDescription,omitempty"`
	AmazonopensearchserviceDestinationDescription *ElasticsearchDestinationConfiguration `json:"AmazonopensearchserviceDestinationDescription,omitempty"`
}

// SourceDescription describes where records come from.
type SourceDescription struct {
	KinesisStreamSourceDescription *KinesisStreamSourceDescription `json:"KinesisStreamSourceDescription,omitempty"`
}

// KinesisStreamSourceDescription describes a Kinesis stream source.
type KinesisStreamSourceDescription struct {
	KinesisStreamARN       string    `json:"KinesisStreamARN"`
	RoleARN                string    `json:"RoleARN,omitempty"`
	DeliveryStartTimestamp time.Time `json:"-"`
}

// DeliveryStreamDescription is DescribeDeliveryStream's answer.
type DeliveryStreamDescription struct {
	DeliveryStreamName   string
	DeliveryStreamARN    string
	DeliveryStreamStatus string
	DeliveryStreamType   string
	VersionId            string
	CreateTimestamp      time.Time
	LastUpdateTimestamp  time.Time
	Source               *SourceDescription
	Destinations         []DestinationDescription
	HasMoreDestinations  bool
	// DeliveryStreamEncryptionConfiguration is never nil: Status DISABLED
	// when encryption is off.
	DeliveryStreamEncryptionConfiguration *EncryptionConfiguration
	// DeliveryErrors are the last delivery errors, newest first (a Spate
	// addition: Firehose logs them to CloudWatch Logs; see
	// deliveryerrors.go).
	DeliveryErrors []DeliveryError
}

// PutRecordBatchEntry is the outcome of one record of PutRecordBatch.
type PutRecordBatchEntry struct {
	RecordId     string
	ErrorCode    string
	ErrorMessage string
}

// PutRecordBatchOutput is PutRecordBatch's answer.
type PutRecordBatchOutput struct {
	// Encrypted is set when the records are stored encrypted.
	Encrypted        bool
	FailedPutCount   int
	RequestResponses []PutRecordBatchEntry
}
