package kinesisapi

import (
	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/shard"
)

// Request structs. Each mirrors an input shape of the service model: the
// json tag is the member's wire name, and every member the model declares is
// present (awsproto.NewHandler binds each struct to its shape and refuses a
// missing or unknown member), so the validator sees every value a client can send.
//
// Presence matters (a missing required member and an empty one fail with
// different messages), so a structure's scalar members are pointers, and
// lists, maps and blobs are nil when absent.

// streamRef names the stream a request acts on: StreamName or StreamARN (or
// both, naming the same stream). StreamId is reserved by AWS and ignored.
type streamRef struct {
	StreamName *string `json:"StreamName"`
	StreamARN  *string `json:"StreamARN"`
	StreamID   *string `json:"StreamId"`
}

type createStreamRequest struct {
	StreamName          *string              `json:"StreamName"`
	ShardCount          *int32               `json:"ShardCount"`
	StreamModeDetails   *streamModeDetailsIn `json:"StreamModeDetails"`
	Tags                map[string]string    `json:"Tags"`
	WarmThroughputMiBps *int32               `json:"WarmThroughputMiBps"`
	MaxRecordSizeInKiB  *int32               `json:"MaxRecordSizeInKiB"`
}

type streamModeDetailsIn struct {
	StreamMode *string `json:"StreamMode"`
}

type deleteStreamRequest struct {
	streamRef
	EnforceConsumerDeletion *bool `json:"EnforceConsumerDeletion"`
}

type describeStreamRequest struct {
	streamRef
	Limit                 *int32  `json:"Limit"`
	ExclusiveStartShardID *string `json:"ExclusiveStartShardId"`
}

type describeStreamSummaryRequest struct {
	streamRef
}

type listStreamsRequest struct {
	Limit                    *int32  `json:"Limit"`
	ExclusiveStartStreamName *string `json:"ExclusiveStartStreamName"`
	NextToken                *string `json:"NextToken"`
}

type listShardsRequest struct {
	streamRef
	NextToken               *string                `json:"NextToken"`
	ExclusiveStartShardID   *string                `json:"ExclusiveStartShardId"`
	MaxResults              *int32                 `json:"MaxResults"`
	StreamCreationTimestamp *awsproto.EpochSeconds `json:"StreamCreationTimestamp"`
	ShardFilter             *shardFilterIn         `json:"ShardFilter"`
}

type shardFilterIn struct {
	Type      *string                `json:"Type"`
	ShardID   *string                `json:"ShardId"`
	Timestamp *awsproto.EpochSeconds `json:"Timestamp"`
}

type putRecordRequest struct {
	streamRef
	Data                      awsproto.Blob `json:"Data"`
	PartitionKey              *string       `json:"PartitionKey"`
	ExplicitHashKey           *string       `json:"ExplicitHashKey"`
	SequenceNumberForOrdering *string       `json:"SequenceNumberForOrdering"`
}

type putRecordsRequest struct {
	streamRef
	Records []putRecordsEntry `json:"Records"`
}

type putRecordsEntry struct {
	Data            awsproto.Blob `json:"Data"`
	ExplicitHashKey *string       `json:"ExplicitHashKey"`
	PartitionKey    *string       `json:"PartitionKey"`
}

type getShardIteratorRequest struct {
	streamRef
	ShardID                *string                `json:"ShardId"`
	ShardIteratorType      *string                `json:"ShardIteratorType"`
	StartingSequenceNumber *string                `json:"StartingSequenceNumber"`
	Timestamp              *awsproto.EpochSeconds `json:"Timestamp"`
}

type getRecordsRequest struct {
	ShardIterator *string `json:"ShardIterator"`
	Limit         *int32  `json:"Limit"`
	// StreamARN and StreamId are accepted and ignored: the iterator names
	// the stream.
	StreamARN *string `json:"StreamARN"`
	StreamID  *string `json:"StreamId"`
}

type retentionRequest struct {
	streamRef
	RetentionPeriodHours *int32 `json:"RetentionPeriodHours"`
}

type addTagsRequest struct {
	streamRef
	Tags map[string]string `json:"Tags"`
}

type removeTagsRequest struct {
	streamRef
	TagKeys []string `json:"TagKeys"`
}

type listTagsRequest struct {
	streamRef
	ExclusiveStartTagKey *string `json:"ExclusiveStartTagKey"`
	Limit                *int32  `json:"Limit"`
}

type describeLimitsRequest struct{}

// enhancedMonitoringRequest is the input of EnableEnhancedMonitoring and
// DisableEnhancedMonitoring.
type enhancedMonitoringRequest struct {
	streamRef
	ShardLevelMetrics []string `json:"ShardLevelMetrics"`
}

// Reply structs. Members the model marks required are always written;
// optional ones carry omitempty, so an unset optional member is left out.

// empty is the reply of actions whose output shape is empty: "{}".
type empty struct{}

type streamModeDetails struct {
	StreamMode string `json:"StreamMode"`
}

type hashKeyRange struct {
	StartingHashKey string `json:"StartingHashKey"`
	EndingHashKey   string `json:"EndingHashKey"`
}

type sequenceNumberRange struct {
	StartingSequenceNumber string `json:"StartingSequenceNumber"`
	EndingSequenceNumber   string `json:"EndingSequenceNumber,omitempty"`
}

type shardOut struct {
	ShardID               string              `json:"ShardId"`
	ParentShardID         string              `json:"ParentShardId,omitempty"`
	AdjacentParentShardID string              `json:"AdjacentParentShardId,omitempty"`
	HashKeyRange          hashKeyRange        `json:"HashKeyRange"`
	SequenceNumberRange   sequenceNumberRange `json:"SequenceNumberRange"`
}

type enhancedMetrics struct {
	ShardLevelMetrics []string `json:"ShardLevelMetrics"`
}

type streamDescription struct {
	StreamName              string                `json:"StreamName"`
	StreamARN               string                `json:"StreamARN"`
	StreamStatus            string                `json:"StreamStatus"`
	StreamModeDetails       *streamModeDetails    `json:"StreamModeDetails,omitempty"`
	Shards                  []shardOut            `json:"Shards"`
	HasMoreShards           bool                  `json:"HasMoreShards"`
	RetentionPeriodHours    int                   `json:"RetentionPeriodHours"`
	StreamCreationTimestamp awsproto.EpochSeconds `json:"StreamCreationTimestamp"`
	EnhancedMonitoring      []enhancedMetrics     `json:"EnhancedMonitoring"`
	EncryptionType          string                `json:"EncryptionType,omitempty"`
	KeyID                   string                `json:"KeyId,omitempty"`
}

type describeStreamReply struct {
	StreamDescription streamDescription `json:"StreamDescription"`
}

type streamDescriptionSummary struct {
	StreamName              string                `json:"StreamName"`
	StreamARN               string                `json:"StreamARN"`
	StreamStatus            string                `json:"StreamStatus"`
	StreamModeDetails       *streamModeDetails    `json:"StreamModeDetails,omitempty"`
	RetentionPeriodHours    int                   `json:"RetentionPeriodHours"`
	StreamCreationTimestamp awsproto.EpochSeconds `json:"StreamCreationTimestamp"`
	EnhancedMonitoring      []enhancedMetrics     `json:"EnhancedMonitoring"`
	EncryptionType          string                `json:"EncryptionType,omitempty"`
	KeyID                   string                `json:"KeyId,omitempty"`
	OpenShardCount          int                   `json:"OpenShardCount"`
	ConsumerCount           int                   `json:"ConsumerCount"`
	WarmThroughput          *warmThroughputOut    `json:"WarmThroughput,omitempty"`
	MaxRecordSizeInKiB      int                   `json:"MaxRecordSizeInKiB,omitempty"`
}

type describeStreamSummaryReply struct {
	StreamDescriptionSummary streamDescriptionSummary `json:"StreamDescriptionSummary"`
}

type streamSummary struct {
	StreamName              string                 `json:"StreamName"`
	StreamARN               string                 `json:"StreamARN"`
	StreamStatus            string                 `json:"StreamStatus"`
	StreamModeDetails       *streamModeDetails     `json:"StreamModeDetails,omitempty"`
	StreamCreationTimestamp *awsproto.EpochSeconds `json:"StreamCreationTimestamp,omitempty"`
}

type listStreamsReply struct {
	StreamNames     []string        `json:"StreamNames"`
	HasMoreStreams  bool            `json:"HasMoreStreams"`
	NextToken       string          `json:"NextToken,omitempty"`
	StreamSummaries []streamSummary `json:"StreamSummaries"`
}

type listShardsReply struct {
	Shards    []shardOut `json:"Shards"`
	NextToken string     `json:"NextToken,omitempty"`
}

type putRecordReply struct {
	ShardID        string `json:"ShardId"`
	SequenceNumber string `json:"SequenceNumber"`
	EncryptionType string `json:"EncryptionType,omitempty"`
}

type putRecordsResult struct {
	SequenceNumber string `json:"SequenceNumber,omitempty"`
	ShardID        string `json:"ShardId,omitempty"`
	ErrorCode      string `json:"ErrorCode,omitempty"`
	ErrorMessage   string `json:"ErrorMessage,omitempty"`
}

type putRecordsReply struct {
	FailedRecordCount int                `json:"FailedRecordCount"`
	Records           []putRecordsResult `json:"Records"`
	EncryptionType    string             `json:"EncryptionType,omitempty"`
}

type getShardIteratorReply struct {
	ShardIterator string `json:"ShardIterator,omitempty"`
}

type childShardOut struct {
	ShardID      string       `json:"ShardId"`
	ParentShards []string     `json:"ParentShards"`
	HashKeyRange hashKeyRange `json:"HashKeyRange"`
}

// getRecordsReply encodes itself (getrecords.go): see awsproto.Appender.
type getRecordsReply struct {
	Records            *recordBlock    `json:"-"` // records.go; nil for none
	NextShardIterator  string          `json:"NextShardIterator,omitempty"`
	MillisBehindLatest int64           `json:"MillisBehindLatest"`
	ChildShards        []childShardOut `json:"ChildShards,omitempty"`
	// src holds the store's read budget until the reply is written.
	src shard.GetRecordsOutput
	// blocks takes Records back once the reply is written (nil: none).
	blocks *recordBlocks
}

type tagOut struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type listTagsReply struct {
	Tags        []tagOut `json:"Tags"`
	HasMoreTags bool     `json:"HasMoreTags"`
}

type describeLimitsReply struct {
	ShardLimit               int `json:"ShardLimit"`
	OpenShardCount           int `json:"OpenShardCount"`
	OnDemandStreamCount      int `json:"OnDemandStreamCount"`
	OnDemandStreamCountLimit int `json:"OnDemandStreamCountLimit"`
}

// enhancedMonitoringReply is EnhancedMonitoringOutput.
type enhancedMonitoringReply struct {
	StreamName               string   `json:"StreamName"`
	StreamARN                string   `json:"StreamARN"`
	CurrentShardLevelMetrics []string `json:"CurrentShardLevelMetrics"`
	DesiredShardLevelMetrics []string `json:"DesiredShardLevelMetrics"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func num(p *int32) int {
	if p == nil {
		return 0
	}
	return int(*p)
}
