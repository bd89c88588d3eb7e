package firehoseapi

import (
	"encoding/json"

	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/firehose"
)

// Request types.
//
// PutRecord and PutRecordBatch, the hot path, decode straight into
// request structs bound to their input shapes (awsproto.Action: every member,
// scalars as pointers). Every other action is an awsproto.ModelAction: the
// request is decoded and validated in a type derived from the model, then
// carried into the type below, which names the members Spate acts on; a
// member it leaves out answers InvalidArgumentException "... is not
// supported by Spate". The configuration types are the firehose package's,
// which mirror the API's shapes member for member.

type recordIn struct {
	Data awsproto.Blob `json:"Data"`
}

type putRecordRequest struct {
	DeliveryStreamName *string   `json:"DeliveryStreamName"`
	Record             *recordIn `json:"Record"`
}

type putRecordBatchRequest struct {
	DeliveryStreamName *string    `json:"DeliveryStreamName"`
	Records            []recordIn `json:"Records"`
}

// createDeliveryStreamRequest is CreateDeliveryStream's input.
// DirectPutSourceConfiguration (a throughput hint) is accepted and
// ignored: Spate has no throughput provisioning.
type createDeliveryStreamRequest struct {
	firehose.CreateDeliveryStreamInput
	DirectPutSourceConfiguration json.RawMessage `json:"DirectPutSourceConfiguration"`
}

type deleteDeliveryStreamRequest struct {
	DeliveryStreamName string `json:"DeliveryStreamName"`
	// AllowForceDelete is accepted: Spate holds no KMS grants whose
	// retirement could fail, so every deletion is a forced one.
	AllowForceDelete *bool `json:"AllowForceDelete"`
}

type describeDeliveryStreamRequest struct {
	DeliveryStreamName          string `json:"DeliveryStreamName"`
	Limit                       int    `json:"Limit"`
	ExclusiveStartDestinationID string `json:"ExclusiveStartDestinationId"`
}

type listDeliveryStreamsRequest struct {
	Limit                            int    `json:"Limit"`
	DeliveryStreamType               string `json:"DeliveryStreamType"`
	ExclusiveStartDeliveryStreamName string `json:"ExclusiveStartDeliveryStreamName"`
}

type tagDeliveryStreamRequest struct {
	DeliveryStreamName string         `json:"DeliveryStreamName"`
	Tags               []firehose.Tag `json:"Tags"`
}

type untagDeliveryStreamRequest struct {
	DeliveryStreamName string   `json:"DeliveryStreamName"`
	TagKeys            []string `json:"TagKeys"`
}

type listTagsForDeliveryStreamRequest struct {
	DeliveryStreamName   string `json:"DeliveryStreamName"`
	ExclusiveStartTagKey string `json:"ExclusiveStartTagKey"`
	Limit                int    `json:"Limit"`
}

// Reply types. Members the model marks required are always written;
// optional ones carry omitempty.

// empty is the reply of actions whose output shape is empty: "{}".
type empty struct{}

type createDeliveryStreamReply struct {
	DeliveryStreamARN string `json:"DeliveryStreamARN"`
}

type kinesisStreamSourceDescription struct {
	KinesisStreamARN       string                 `json:"KinesisStreamARN"`
	RoleARN                string                 `json:"RoleARN,omitempty"`
	DeliveryStartTimestamp *awsproto.EpochSeconds `json:"DeliveryStartTimestamp,omitempty"`
}

type sourceDescription struct {
	KinesisStreamSourceDescription *kinesisStreamSourceDescription `json:"KinesisStreamSourceDescription,omitempty"`
}

type deliveryStreamDescription struct {
	DeliveryStreamName   string                            `json:"DeliveryStreamName"`
	DeliveryStreamARN    string                            `json:"DeliveryStreamARN"`
	DeliveryStreamStatus string                            `json:"DeliveryStreamStatus"`
	DeliveryStreamType   string                            `json:"DeliveryStreamType"`
	VersionID            string                            `json:"VersionId"`
	CreateTimestamp      *awsproto.EpochSeconds            `json:"CreateTimestamp,omitempty"`
	LastUpdateTimestamp  *awsproto.EpochSeconds            `json:"LastUpdateTimestamp,omitempty"`
	Source               *sourceDescription                `json:"Source,omitempty"`
	Destinations         []firehose.DestinationDescription `json:"Destinations"`
	HasMoreDestinations  bool                              `json:"HasMoreDestinations"`

	DeliveryStreamEncryptionConfiguration *firehose.EncryptionConfiguration `json:"DeliveryStreamEncryptionConfiguration,omitempty"`

	// SpateDeliveryErrors is not in Firehose's model (Firehose sends
	// destination errors to CloudWatch Logs): the last delivery errors,
	// newest first, absent when there are none. The SDKs and the AWS CLI
	// skip members they do not know.
	SpateDeliveryErrors []deliveryError `json:"SpateDeliveryErrors,omitempty"`
}

// deliveryError is one entry of SpateDeliveryErrors (firehose.DeliveryError).
type deliveryError struct {
	Timestamp      *awsproto.EpochSeconds `json:"Timestamp"`
	FirstTimestamp *awsproto.EpochSeconds `json:"FirstTimestamp"`
	Destination    string                 `json:"Destination"`
	ErrorCode      string                 `json:"ErrorCode"`
	ErrorMessage   string                 `json:"ErrorMessage"`
	Count          int                    `json:"Count"`
}

type describeDeliveryStreamReply struct {
	DeliveryStreamDescription deliveryStreamDescription `json:"DeliveryStreamDescription"`
}

type listDeliveryStreamsReply struct {
	DeliveryStreamNames    []string `json:"DeliveryStreamNames"`
	HasMoreDeliveryStreams bool     `json:"HasMoreDeliveryStreams"`
}

type putRecordReply struct {
	RecordID  string `json:"RecordId"`
	Encrypted bool   `json:"Encrypted"`
}

type putRecordBatchResult struct {
	RecordID     string `json:"RecordId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

type putRecordBatchReply struct {
	FailedPutCount   int                    `json:"FailedPutCount"`
	Encrypted        bool                   `json:"Encrypted"`
	RequestResponses []putRecordBatchResult `json:"RequestResponses"`
}

type listTagsForDeliveryStreamReply struct {
	Tags        []firehose.Tag `json:"Tags"`
	HasMoreTags bool           `json:"HasMoreTags"`
}
