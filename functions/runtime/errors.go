package runtime

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spatehq/spate/apierr"
)

// The Reasons of Lambda's TooManyRequestsException for concurrency.
const (
	// ReasonReserved: the function's own limit (its reserved concurrency)
	// is used up.
	ReasonReserved = "ReservedFunctionConcurrentInvocationLimitExceeded"
	// ReasonAccount: the account's (the Manager's) limit is used up.
	ReasonAccount = "ConcurrentInvocationLimitExceeded"
)

// ThrottleError is the TooManyRequestsException an invocation gets when a
// concurrency limit is used up. It wraps the *apierr.Error (apierr.CodeOf
// finds it) and carries Lambda's Reason, which the Lambda face returns in
// the error's body; it finds it with errors.As or through the
// ThrottleReason method.
type ThrottleError struct {
	Err    *apierr.Error
	Reason string
}

func (e *ThrottleError) Error() string { return e.Err.Error() + " (" + e.Reason + ")" }

// Unwrap returns the *apierr.Error.
func (e *ThrottleError) Unwrap() error { return e.Err }

// ThrottleReason returns Reason: the Lambda face checks for this method
// rather than importing this package.
func (e *ThrottleError) ThrottleReason() string { return e.Reason }

func throttled(reason string) error {
	// "Rate Exceeded." is Lambda's message for both reasons.
	return &ThrottleError{Err: apierr.New(apierr.TooManyRequests, "Rate Exceeded."), Reason: reason}
}

// The function error types Spate reports itself, as Lambda names them.
const (
	errRuntimeExit      = "Runtime.ExitError"
	errRuntimeUnknown   = "Runtime.Unknown"
	errResponseTooLarge = "Function.ResponseSizeTooLarge"
	errSandboxTimedOut  = "Sandbox.Timedout"
	// The HTTP-endpoint target's own (Lambda has no such target).
	errEndpointStatus      = "Endpoint.HTTPStatus"
	errEndpointUnreachable = "Endpoint.Unreachable"
)

// maxPayload is Lambda's limit on a synchronous response: 6 MB, and the
// 100 bytes of slack its runtime interface emulator allows too.
const maxPayload = 6*1024*1024 + 100

// errorDoc is Lambda's error document: what a runtime posts to /error and
// what an invoker gets when FunctionError is set.
type errorDoc struct {
	ErrorMessage string   `json:"errorMessage"`
	ErrorType    string   `json:"errorType,omitempty"`
	StackTrace   []string `json:"stackTrace,omitempty"`
}

func (d errorDoc) bytes() []byte {
	b, err := json.Marshal(d)
	if err != nil { // strings and a []string always marshal
		panic(err)
	}
	return b
}

// timedOutDoc is Lambda's payload for an invocation that ran out of time:
// {"errorMessage":"2024-01-02T03:04:05.678Z <id> Task timed out after 3.00 seconds"},
// with no errorType.
func timedOutDoc(at time.Time, requestID string, elapsed time.Duration) errorDoc {
	return errorDoc{ErrorMessage: timedOutLine(at, requestID, elapsed)}
}

func timedOutLine(at time.Time, requestID string, elapsed time.Duration) string {
	return fmt.Sprintf("%s %s Task timed out after %.2f seconds",
		at.UTC().Format("2006-01-02T15:04:05.000Z"), requestID, elapsed.Seconds())
}

// exitDoc is Lambda's payload for a runtime that exited while an
// invocation ran (or before it could take one).
func exitDoc(requestID, how string) errorDoc {
	return errorDoc{
		ErrorType:    errRuntimeExit,
		ErrorMessage: fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %s", requestID, how),
	}
}
