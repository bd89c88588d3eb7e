package apierr

import (
	"errors"
	"fmt"
)

// Code is an AWS error type name.
type Code string

// The error types Spate's APIs answer with.
const (
	InvalidArgument               Code = "InvalidArgumentException"
	Validation                    Code = "ValidationException"
	ResourceNotFound              Code = "ResourceNotFoundException"
	ResourceInUse                 Code = "ResourceInUseException"
	LimitExceeded                 Code = "LimitExceededException"
	ExpiredIterator               Code = "ExpiredIteratorException"
	ExpiredNextToken              Code = "ExpiredNextTokenException"
	ProvisionedThroughputExceeded Code = "ProvisionedThroughputExceededException"
	Serialization                 Code = "SerializationException"
	UnknownOperation              Code = "UnknownOperationException"
	AccessDenied                  Code = "AccessDeniedException"
	ConcurrentModification        Code = "ConcurrentModificationException"
	InternalFailure               Code = "InternalFailure"
	// LeaseLost is Spate's consumer groups' error (package groups): the
	// caller no longer holds the lease it named (its counter moved on).
	LeaseLost Code = "LeaseLostException"

	// The authentication errors of AWS's JSON services (package auth).
	MissingAuthenticationToken Code = "MissingAuthenticationTokenException"
	IncompleteSignature        Code = "IncompleteSignatureException"
	UnrecognizedClient         Code = "UnrecognizedClientException"
	InvalidSignature           Code = "InvalidSignatureException"

	// ServiceUnavailable is AWS's common 503 error (the SDKs and the CLI
	// retry it): Spate answers it on the Kinesis API when the disk is
	// full (shard.DiskFullError).
	ServiceUnavailable Code = "ServiceUnavailable"
	// ServiceUnavailableException is the 503 that Firehose's model names
	// for PutRecord and PutRecordBatch, the same condition on that API.
	ServiceUnavailableException Code = "ServiceUnavailableException"
)

// Error is an API-facing error: an AWS error type and a message for the user.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// New returns an *Error with a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the Code of the first *Error in err's chain, or
// InternalFailure when there is none (an unexpected error is the server's
// fault, never the caller's).
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return InternalFailure
}

// MessageOf returns the user-facing message of err: the *Error's message when
// there is one, otherwise a generic text that does not leak internals.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal failure; see the server log"
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
