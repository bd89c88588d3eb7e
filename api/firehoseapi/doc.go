// Package firehoseapi serves the Amazon Data Firehose API over HTTP: the
// AWS JSON 1.1 protocol (POST / with X-Amz-Target
// "Firehose_20150804.<Action>", base64 record data, epoch-second
// timestamps), so that the AWS CLI and SDKs (service/firehose) work against
// a Spate server unchanged.
//
// It owns the Firehose wire format only: the actions, their request and
// reply structs, and the embedded service model with Spate's overlay
// (awsmodel/README.md: CompressionFormat also takes ZSTD;
// SchemaConfiguration has a Columns member for an inline Parquet schema; an
// Elasticsearch ClusterEndpoint may be http: as well as https:).
// The protocol (envelope, validation, errors) is package awsproto's, and
// every action is one call on a *firehose.Service, which holds the delivery
// streams and makes the semantic checks. NewHandler is the whole entry
// point; awsproto.Router serves it beside the Kinesis API on one port.
//
// Served: every action of the model: CreateDeliveryStream,
// DeleteDeliveryStream, DescribeDeliveryStream, ListDeliveryStreams,
// PutRecord, PutRecordBatch, UpdateDestination, TagDeliveryStream,
// UntagDeliveryStream, ListTagsForDeliveryStream,
// StartDeliveryStreamEncryption and StopDeliveryStreamEncryption. A request
// member Spate cannot act on (RedshiftDestinationConfiguration,
// VpcConfiguration, ...) answers InvalidArgumentException naming it, rather
// than being dropped.
//
// Error types: Firehose's model declares InvalidArgumentException for bad
// requests, and the Firehose SDKs decode it into a typed error, so a request
// that breaks the model's constraints (a malformed BucketARN, BufferingHints
// out of range, an unknown CompressionFormat, a record over 1,000 KiB, more
// than 500 records) answers InvalidArgumentException. The message keeps
// AWS's validation wording but names the member as the API spells it, as the
// service's own messages do ("1 validation error detected: Value '0' at
// 'ExtendedS3DestinationConfiguration.BufferingHints.SizeInMBs' failed to
// satisfy constraint: Member must have value greater than or equal to 1").
// AWS's front end may answer such requests with ValidationException and
// lower-case paths; Spate answers the type the model declares, the one the
// configuration errors the service finds (an unusable prefix, a missing S3
// endpoint, ...) have too, so a client handles every bad configuration
// alike. Malformed JSON and bad base64 answer SerializationException.
//
// Invariant: a request that fails decoding or validation never reaches the
// service; every reply carries an x-amzn-RequestId header.
package firehoseapi
