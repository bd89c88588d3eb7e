// Package apierr defines the typed errors that every Spate API returns.
//
// Each Code is the exact AWS error type name (ResourceNotFoundException, ...),
// so the wire protocols translate errors in one table instead of in every
// handler: the Kinesis JSON API writes Code as "__type", the gRPC API maps it
// to a status code and carries the name in the status message.
//
// Invariant: an *Error's Message says what was wrong and what is allowed; it
// is shown to API users verbatim.
package apierr
