// Package grpcapi serves a *shard.Store over gRPC as the spate.v1
// StreamService and a *firehose.Service as the spate.v1 FirehoseService
// (proto/spate/v1), and gives clients the way back from a gRPC status to the
// API error it carries (FromStatus) and from an AWS JSON Firehose
// configuration to its gRPC form (EncodeCreateDeliveryStream).
//
// It owns decoding protobuf requests into shard and firehose calls, encoding
// the answers, and translating errors; it owns no storage or delivery
// semantics (validation, limits, paging and defaults all live in packages
// shard and firehose, so the gRPC and the AWS JSON APIs behave the same).
// Subscribe relays shard.Store.Subscribe, which blocks on append
// notifications: no polling.
//
// Invariant: every error a handler returns goes through one table
// (codesByAPI in errors.go), which maps the apierr.Code to a gRPC code and
// keeps the AWS error name visible in the status message
// ("ResourceNotFoundException: ...") and as the Reason of a
// google.rpc.ErrorInfo detail (Domain ErrorDomain).
package grpcapi
