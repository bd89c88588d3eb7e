// Package functions holds Spate's functions: handlers written for AWS Lambda
// that run as local processes, invoked through the Lambda API, by event
// source mappings (package functions/esm) and by Firehose transformations.
//
// The package owns the registry (each function's configuration, tags,
// concurrency and code, kept in the stream store's value space and the data
// directory) and the Invoker that the rest of Spate calls. Running code is
// the Executor's job (package functions/runtime: instances of a function's
// bootstrap talking to Spate's Lambda Runtime API, or an HTTP endpoint); the
// registry hands it a Config snapshot per invocation, so an update never
// changes an invocation already running.
//
// The package knows no wire protocol: api/lambdaapi decodes the Lambda
// REST-JSON API into its types.
package functions
