// Package essink delivers documents to Elasticsearch (or OpenSearch) with
// the bulk API, the way Amazon Kinesis Data Firehose's Elasticsearch
// destination does.
//
// It owns three things: naming the target index ([IndexName], with
// Firehose's IndexRotationPeriod suffixes), deciding whether a record can be
// a document at all ([ValidateJSONObject]), and the bulk delivery loop
// ([Client.Deliver]) with Firehose's retry semantics. It does not own
// buffering, checkpoints, document IDs or the S3 backup of failed documents:
// the firehose core derives a [Doc]'s ID and index, calls Deliver, and backs
// up whatever comes back in [Result.Failed].
//
// Invariant: a document Elasticsearch acknowledged (item status 2xx) is never
// sent again by the same Deliver call, and every document passed to Deliver
// ends up either counted in [Result.Succeeded] or listed in [Result.Failed]
// (unless Deliver returns an error, which only happens when the context ends
// or the call itself is malformed). Documents are indexed with an explicit
// _id, so a later re-delivery of the same batch overwrites rather than
// duplicates.
package essink
