// Package kinesisapi serves the Amazon Kinesis Data Streams API over HTTP:
// the AWS JSON 1.1 protocol (POST / with X-Amz-Target
// "Kinesis_20131202.<Action>", base64 blobs, epoch-second timestamps) and
// its CBOR twin (awsproto), so that the AWS CLI and the AWS SDKs, the Java
// ones included, work against a Spate server unchanged.
//
// It owns the Kinesis wire format only: the actions, their request and reply
// structs, the PutRecords fast path, GetRecords' own JSON and CBOR encoders
// and the embedded service model. The
// protocol itself (envelope, validation, error replies, request IDs) is
// package awsproto's. It owns no stream state; every action is one call on a
// *shard.Store, which makes the semantic checks (PutResourcePolicy also has
// package auth check the policy language, which the store does not know). NewHandler is the whole
// entry point; awsproto.Router serves it beside the Firehose API on one port.
//
// The AWS service model (awsmodel/kinesis-2013-12-02.json, Apache-2.0) is
// embedded. Each action's request struct is bound to the model's input shape
// when the handler is built, and every request is checked against that shape
// (required members, lengths, patterns, ranges, enums) before the store sees
// it; failures answer ValidationException in AWS's wording.
//
// SubscribeToShard (enhanced fan-out, subscribe.go) answers an
// application/vnd.amazon.eventstream reply (awsproto.EventStream) fed by
// the store's blocking reads; the handler keeps its running subscriptions
// (one per consumer and shard) to enforce the takeover rule and end them
// when their consumer is deregistered, and Close (awsproto) ends them.
//
// Actions the model defines but Spate does not serve (none of the
// 2013-12-02 model's, today) answer
// UnknownOperationException with a message saying they are not supported
// yet.
//
// Invariant: a request that fails decoding or validation never reaches the
// store, and every reply, errors included, carries an x-amzn-RequestId
// header; errors become replies in one place (awsproto), through
// apierr.CodeOf and apierr.MessageOf.
package kinesisapi
