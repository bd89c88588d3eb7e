package apierr

// The KMS error types that Kinesis Data Streams answers when the key of an
// encrypted stream cannot be used (server-side encryption, package kms).
const (
	KMSNotFound        Code = "KMSNotFoundException"
	KMSDisabled        Code = "KMSDisabledException"
	KMSInvalidState    Code = "KMSInvalidStateException"
	KMSAccessDenied    Code = "KMSAccessDeniedException"
	KMSOptInRequired   Code = "KMSOptInRequired"
	KMSThrottling      Code = "KMSThrottlingException"
	InvalidKMSResource Code = "InvalidKMSResourceException" // Firehose's single KMS error type
)
