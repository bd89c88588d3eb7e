// Package destination sends the invocation record of a failed batch (the
// JSON document Lambda writes when an event source mapping gives up on a
// batch) to the mapping's on-failure destination.
//
// Spate has no SQS or SNS, so the destinations are its own: a stream
// (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME), a Firehose delivery stream
// (arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME, DirectPut) and an
// S3 bucket (arn:aws:s3:::BUCKET), the one AWS itself offers. Validate
// checks an ARN's form when a mapping is created or updated, before
// anything changes; Sender.Check also checks that the target is served and
// exists; Sender.Send delivers one record.
//
// The package builds no invocation records (package functions/esm does)
// and knows no mapping: it imports the store, firehose and the S3 client,
// never esm.
package destination
