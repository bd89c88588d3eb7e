// Package awsproto serves AWS JSON 1.1 APIs over HTTP: the protocol the
// Kinesis Data Streams and Firehose APIs (and the AWS CLI and SDKs that
// call them) speak. POST / with X-Amz-Target "<TargetPrefix>.<Action>", a
// JSON body with base64 blobs and epoch-second timestamps, and errors as
// HTTP 400 (500 for internal failures) with {"__type", "message"}, an
// X-Amzn-ErrorType header and an x-amzn-RequestId on every reply. The same
// requests may come in AWS CBOR 1.1 (cbor.go: byte-string blobs, tag 1
// timestamps in milliseconds), as the AWS SDK for Java sends them; every
// reply, errors included, is in the request's encoding.
//
// It owns what such APIs share, not any one of them: loading an AWS service
// model (botocore service-2.json, with documented overlays for a server's
// extensions) and validating requests against it in AWS's wording
// (Model, and the validator behind Handler), the request envelope and body
// limit, panic recovery, the error envelope, request IDs, the Blob and
// EpochSeconds wire types, a one-pass decoder for hot requests (FastParser),
// and a Router that serves several APIs on one port (and, with
// WithRegisterer, times each request in the Prometheus histogram
// spate_api_request_duration_seconds). Packages kinesisapi and
// firehoseapi hold the actions and wire structs of one service each and
// build a Handler from a Service.
//
// An action whose reply is an EventStream (SubscribeToShard's) answers
// an application/vnd.amazon.eventstream body instead (eventstream.go): an
// initial response, events flushed as they are sent, an exception message
// when it ends on an error; Handler.Close ends such streams for a graceful
// shutdown.
//
// An action's request is either a hand-written struct bound member for
// member to the model's input shape (Action, FastAction: one decode, for hot
// paths), or decoded into a type derived from the shape and carried into a
// struct that names only the members the action uses (ModelAction: every
// member the model declares is still validated, and one the action cannot
// use is refused by name instead of dropped).
//
// Invariant: a request that fails decoding or validation never reaches an
// action, and every reply, errors included, carries an x-amzn-RequestId
// header; errors become replies in one place (writeError), through
// apierr.CodeOf and apierr.MessageOf, so an error that is not an
// *apierr.Error is a 500 InternalFailure whose cause goes to the log only.
package awsproto
