package s3store_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"syscall"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/spatehq/spate/firehose/s3store"
)

func TestErrorClassification(t *testing.T) {
	resp := func(code string, status int) error {
		return minio.ErrorResponse{Code: code, StatusCode: status, Message: "from the store"}
	}
	tests := []struct {
		name      string
		err       error
		retryable bool
		notFound  bool
		code      string
	}{
		{name: "nil", err: nil},
		{name: "NoSuchBucket", err: resp("NoSuchBucket", 404), notFound: true, code: "NoSuchBucket"},
		{name: "NoSuchKey", err: resp("NoSuchKey", 404), notFound: true, code: "NoSuchKey"},
		{name: "AccessDenied", err: resp("AccessDenied", 403), code: "AccessDenied"},
		{name: "InvalidAccessKeyId", err: resp("InvalidAccessKeyId", 403), code: "InvalidAccessKeyId"},
		{name: "SignatureDoesNotMatch", err: resp("SignatureDoesNotMatch", 403), code: "SignatureDoesNotMatch"},
		{name: "EntityTooLarge", err: resp("EntityTooLarge", 400), code: "EntityTooLarge"},
		{name: "client-side InvalidBucketName", err: resp("InvalidBucketName", 0), code: "InvalidBucketName"},
		{name: "NotImplemented", err: resp("NotImplemented", 501), code: "NotImplemented"},
		{name: "SlowDown", err: resp("SlowDown", 503), retryable: true, code: "SlowDown"},
		{name: "InternalError", err: resp("InternalError", 500), retryable: true, code: "InternalError"},
		{name: "bare 502", err: resp("", 502), retryable: true},
		{name: "bare 429", err: resp("", 429), retryable: true},
		{name: "RequestTimeout", err: resp("RequestTimeout", 400), retryable: true, code: "RequestTimeout"},
		{name: "RequestTimeTooSkewed", err: resp("RequestTimeTooSkewed", 403), retryable: true, code: "RequestTimeTooSkewed"},
		{name: "wrapped NoSuchBucket", err: fmt.Errorf("deliver: %w", fmt.Errorf("s3 put: %w", resp("NoSuchBucket", 404))),
			notFound: true, code: "NoSuchBucket"},
		{name: "wrapped SlowDown", err: fmt.Errorf("deliver: %w", resp("SlowDown", 503)), retryable: true, code: "SlowDown"},
		{name: "connection refused", err: &url.Error{Op: "Put", URL: "http://127.0.0.1:1/b/k",
			Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}, retryable: true},
		{name: "canceled", err: fmt.Errorf("s3 put: %w", context.Canceled), retryable: true},
		{name: "deadline", err: context.DeadlineExceeded, retryable: true},
		{name: "unknown", err: errors.New("something odd"), retryable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s3store.IsRetryable(tt.err); got != tt.retryable {
				t.Errorf("IsRetryable = %v, want %v", got, tt.retryable)
			}
			if got := s3store.IsNotFound(tt.err); got != tt.notFound {
				t.Errorf("IsNotFound = %v, want %v", got, tt.notFound)
			}
			if got := s3store.Code(tt.err); got != tt.code {
				t.Errorf("Code = %q, want %q", got, tt.code)
			}
		})
	}
}
