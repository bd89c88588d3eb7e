// Package esm runs event source mappings: Lambda's poller model over Spate
// streams. A mapping names a stream (by ARN) and a function; per shard a
// poller reads batches, filters them, invokes the function synchronously
// with the aws:kinesis event and checkpoints what succeeded, retrying,
// bisecting and finally reporting a failed batch to its on-failure
// destination while the shard waits, so order per shard is kept.
//
// The package knows no wire protocol: api/lambdaapi decodes the Lambda API's
// event-source-mapping calls into the types here, which carry the model's
// JSON names so the face can decode and encode them directly.
package esm
