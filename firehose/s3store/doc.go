// Package s3store is a thin client for S3-compatible object stores (Amazon
// S3, MinIO, versitygw, ...) over minio-go: put, get and list whole objects,
// create a bucket, parse a bucket ARN, and tell a retryable failure from a
// permanent one.
//
// It owns the S3 wire details (endpoint, signing, multipart thresholds,
// error codes) so that the firehose core deals only in buckets, keys and
// byte slices. It does not retry on the caller's behalf beyond a few quick
// attempts inside one call (see WithMaxRetries), does not create buckets
// unless asked (EnsureBucket), and does not name objects.
//
// Invariant: Put is idempotent. In a bucket without versioning, writing the
// same bytes under the same key again leaves the store as one write did. An
// object appears whole or not at all: a multipart upload that fails is
// aborted, and one cut short by a crash stays an incomplete upload that
// readers never see (the store's lifecycle rules reclaim it). The firehose
// core's exactly-once delivery rests on this.
//
// The subpackage s3test starts a real S3 server for tests.
package s3store
