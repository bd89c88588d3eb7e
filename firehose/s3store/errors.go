package s3store

import (
	"errors"
	"net/http"

	"github.com/minio/minio-go/v7"
)

// retryableCode reports whether an S3 error code says "try again later":
// throttling, server trouble, timeouts, damage in transit. The status code
// alone would miss some (RequestTimeTooSkewed is a 403, BadDigest a 400).
func retryableCode(code string) bool {
	switch code {
	case "InternalError", "ServiceUnavailable",
		"SlowDown", "SlowDownRead", "SlowDownWrite",
		"Throttling", "ThrottlingException", "RequestLimitExceeded", "RequestThrottled", "TooManyRequestsException",
		"RequestTimeout", "RequestTimeTooSkewed", "ExpiredToken", "ExpiredTokenException", "OperationAborted",
		"BadDigest", "IncompleteBody", "XAmzContentSHA256Mismatch",
		"XMinioServerNotInitialized":
		return true
	}
	return false
}

// IsRetryable reports whether the operation that returned err may succeed if
// tried again later unchanged: the store was unreachable, timed out, was
// throttling or failed on its side (5xx), or the call was cancelled. It is
// false when the store gave a definite answer that retrying will not change:
// NoSuchBucket, AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch,
// InvalidBucketName, EntityTooLarge and other 4xx refusals, and requests
// the client refused to send.
//
// An error this package cannot classify counts as retryable, so that a
// caller who backs up permanently failing data never does so on a guess.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	resp, ok := response(err)
	if !ok {
		// Transport failures (connection refused, reset, DNS, TLS),
		// timeouts, cancellation and anything else.
		return true
	}
	switch {
	case retryableCode(resp.Code):
		return true
	case resp.Code == "NotImplemented", resp.Code == "APINotSupported":
		return false
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode == http.StatusRequestTimeout,
		resp.StatusCode >= 500:
		return true
	case resp.StatusCode >= 400:
		return false
	case resp.StatusCode == 0 && resp.Code != "":
		// Refused by minio-go before sending (InvalidBucketName,
		// InvalidArgument, EntityTooLarge...).
		return false
	default:
		return true
	}
}

// IsNotFound reports whether err says the bucket or the object does not
// exist.
func IsNotFound(err error) bool {
	resp, ok := response(err)
	if !ok {
		return false
	}
	switch resp.Code {
	case "NoSuchBucket", "NoSuchKey", "NotFound":
		return true
	}
	return resp.StatusCode == http.StatusNotFound
}

// Code returns the S3 error code in err ("NoSuchBucket", "SlowDown", ...),
// or "" if err carries none (a transport failure, for one).
func Code(err error) string {
	resp, _ := response(err)
	return resp.Code
}

// response finds the store's (or minio-go's) error response in err's chain.
func response(err error) (minio.ErrorResponse, bool) {
	var resp minio.ErrorResponse
	if !errors.As(err, &resp) || (resp.Code == "" && resp.StatusCode == 0) {
		return minio.ErrorResponse{}, false
	}
	return resp, true
}
