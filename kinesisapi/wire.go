package kinesisapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/spatehq/spate/apierr"
)

// Request structs. Each mirrors an input shape of the service model: the
// json tag is the member's wire name, and every member the model declares is
// present (newHandler binds each struct to its shape and refuses a missing or
// unknown member), so the validator sees every value a client can send.
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
	NextToken               *string        `json:"NextToken"`
	ExclusiveStartShardID   *string        `json:"ExclusiveStartShardId"`
	MaxResults              *int32         `json:"MaxResults"`
	StreamCreationTimestamp *epochSeconds  `json:"StreamCreationTimestamp"`
	ShardFilter             *shardFilterIn `json:"ShardFilter"`
}

type shardFilterIn struct {
	Type      *string       `json:"Type"`
	ShardID   *string       `json:"ShardId"`
	Timestamp *epochSeconds `json:"Timestamp"`
}

type putRecordRequest struct {
	streamRef
	Data                      blob    `json:"Data"`
	PartitionKey              *string `json:"PartitionKey"`
	ExplicitHashKey           *string `json:"ExplicitHashKey"`
	SequenceNumberForOrdering *string `json:"SequenceNumberForOrdering"`
}

type putRecordsRequest struct {
	streamRef
	Records []putRecordsEntry `json:"Records"`
}

type putRecordsEntry struct {
	Data            blob    `json:"Data"`
	ExplicitHashKey *string `json:"ExplicitHashKey"`
	PartitionKey    *string `json:"PartitionKey"`
}

type getShardIteratorRequest struct {
	streamRef
	ShardID                *string       `json:"ShardId"`
	ShardIteratorType      *string       `json:"ShardIteratorType"`
	StartingSequenceNumber *string       `json:"StartingSequenceNumber"`
	Timestamp              *epochSeconds `json:"Timestamp"`
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
	StreamName              string             `json:"StreamName"`
	StreamARN               string             `json:"StreamARN"`
	StreamStatus            string             `json:"StreamStatus"`
	StreamModeDetails       *streamModeDetails `json:"StreamModeDetails,omitempty"`
	Shards                  []shardOut         `json:"Shards"`
	HasMoreShards           bool               `json:"HasMoreShards"`
	RetentionPeriodHours    int                `json:"RetentionPeriodHours"`
	StreamCreationTimestamp epochSeconds       `json:"StreamCreationTimestamp"`
	EnhancedMonitoring      []enhancedMetrics  `json:"EnhancedMonitoring"`
	EncryptionType          string             `json:"EncryptionType,omitempty"`
}

type describeStreamReply struct {
	StreamDescription streamDescription `json:"StreamDescription"`
}

type streamDescriptionSummary struct {
	StreamName              string             `json:"StreamName"`
	StreamARN               string             `json:"StreamARN"`
	StreamStatus            string             `json:"StreamStatus"`
	StreamModeDetails       *streamModeDetails `json:"StreamModeDetails,omitempty"`
	RetentionPeriodHours    int                `json:"RetentionPeriodHours"`
	StreamCreationTimestamp epochSeconds       `json:"StreamCreationTimestamp"`
	EnhancedMonitoring      []enhancedMetrics  `json:"EnhancedMonitoring"`
	EncryptionType          string             `json:"EncryptionType,omitempty"`
	OpenShardCount          int                `json:"OpenShardCount"`
	ConsumerCount           int                `json:"ConsumerCount"`
}

type describeStreamSummaryReply struct {
	StreamDescriptionSummary streamDescriptionSummary `json:"StreamDescriptionSummary"`
}

type streamSummary struct {
	StreamName              string             `json:"StreamName"`
	StreamARN               string             `json:"StreamARN"`
	StreamStatus            string             `json:"StreamStatus"`
	StreamModeDetails       *streamModeDetails `json:"StreamModeDetails,omitempty"`
	StreamCreationTimestamp *epochSeconds      `json:"StreamCreationTimestamp,omitempty"`
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

type recordOut struct {
	SequenceNumber              string       `json:"SequenceNumber"`
	ApproximateArrivalTimestamp epochSeconds `json:"ApproximateArrivalTimestamp"`
	Data                        []byte       `json:"Data"` // base64 (std) by encoding/json
	PartitionKey                string       `json:"PartitionKey"`
}

type childShardOut struct {
	ShardID      string       `json:"ShardId"`
	ParentShards []string     `json:"ParentShards"`
	HashKeyRange hashKeyRange `json:"HashKeyRange"`
}

type getRecordsReply struct {
	Records            []recordOut     `json:"Records"`
	NextShardIterator  string          `json:"NextShardIterator,omitempty"`
	MillisBehindLatest int64           `json:"MillisBehindLatest"`
	ChildShards        []childShardOut `json:"ChildShards,omitempty"`
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

type errorReply struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// blob is a model blob: standard base64 (with padding) on the wire, bytes in
// Go. It decodes itself so that a request's blobs are unquoted and decoded in
// one pass into one allocation each; nil means the member was absent or null.
type blob []byte

// UnmarshalJSON decodes a JSON string of standard base64. The decoded bytes
// never alias b.
func (d *blob) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) < 2 || b[0] != '"' {
		return apierr.New(apierr.Serialization,
			"expected a base64 string for a blob member (Data), got JSON %s", jsonKind(b))
	}
	src := b[1 : len(b)-1]
	if bytes.IndexByte(src, '\\') >= 0 { // escaped characters: rare, take the slow path
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return apierr.New(apierr.Serialization, "blob member (Data) is not a valid JSON string: %v", err)
		}
		src = []byte(s)
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(src)))
	n, err := base64.StdEncoding.Decode(out, src)
	if err != nil {
		return apierr.New(apierr.Serialization,
			"Value '%s' can not be converted to a Blob: %v; blobs must be standard base64 with padding (RFC 4648 section 4)",
			truncate(string(src), 64), err)
	}
	*d = out[:n:n]
	return nil
}

// epochSeconds is a model timestamp: seconds since the Unix epoch with a
// fraction on the wire (both ways), a time.Time in Go. Requests may also
// send a numeric string or an RFC 3339 string.
type epochSeconds time.Time

// maxEpochSeconds is 9999-12-31T23:59:59Z; later timestamps are rejected.
const maxEpochSeconds = 253402300799

// UnmarshalJSON accepts 1700000000, 1700000000.123, "1700000000.123" and
// "2023-11-14T22:13:20.123Z".
func (e *epochSeconds) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	text := string(b)
	quoted := len(b) >= 2 && b[0] == '"'
	if quoted {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return apierr.New(apierr.Serialization, "timestamp is not a valid JSON string: %v", err)
		}
		text = s
	} else if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return apierr.New(apierr.Serialization,
			"expected a timestamp (epoch seconds such as 1700000000.123), got JSON %s", jsonKind(b))
	}
	if t, ok := parseEpoch(text); ok {
		*e = epochSeconds(t)
		return nil
	}
	if quoted {
		if t, err := time.Parse(time.RFC3339Nano, text); err == nil {
			*e = epochSeconds(t)
			return nil
		}
	}
	return apierr.New(apierr.Serialization,
		"Value '%s' is not a valid timestamp: send seconds since the Unix epoch (such as 1700000000.123) or an RFC 3339 time",
		truncate(text, 64))
}

// parseEpoch parses decimal epoch seconds. Plain decimals are parsed exactly
// (to the nanosecond); exponent forms go through float64.
func parseEpoch(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	neg := s[0] == '-'
	digits := s
	if neg {
		digits = s[1:]
	}
	intPart, frac := digits, ""
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c == '.' {
			intPart, frac = digits[:i], digits[i+1:]
			break
		}
		if c < '0' || c > '9' {
			return parseEpochFloat(s)
		}
	}
	if intPart == "" || !allDigits(frac) {
		return parseEpochFloat(s)
	}
	if len(intPart) > 12 {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil || sec > maxEpochSeconds {
		return time.Time{}, false
	}
	var nsec int64
	for i := 0; i < 9; i++ {
		nsec *= 10
		if i < len(frac) {
			nsec += int64(frac[i] - '0')
		}
	}
	if neg {
		sec, nsec = -sec, -nsec
	}
	return time.Unix(sec, nsec), true
}

func parseEpochFloat(s string) (time.Time, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > maxEpochSeconds {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9))), true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MarshalJSON writes seconds since the epoch with millisecond precision
// (Kinesis timestamps have milliseconds), e.g. 1700000000.123.
func (e epochSeconds) MarshalJSON() ([]byte, error) {
	return appendEpoch(nil, time.Time(e)), nil
}

func appendEpoch(dst []byte, t time.Time) []byte {
	ms := t.UnixMilli()
	sec, frac := ms/1000, ms%1000
	if frac < 0 { // floor division for times before 1970
		sec, frac = sec-1, frac+1000
	}
	dst = strconv.AppendInt(dst, sec, 10)
	dst = append(dst, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	return dst
}

// jsonKind names the kind of a JSON value from its first byte.
func jsonKind(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
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
