// Package lambdaapi is the Lambda API's REST-JSON face
// (lambda-2015-03-31): it routes a request by method and path (the
// model's versioned prefixes, /2015-03-31/functions/..., /2017-10-31/...),
// decodes the path, query, headers and JSON body into package functions'
// and functions/esm's types, calls them, and encodes the reply or the
// error as Lambda does (the model's HTTP status, X-Amzn-ErrorType, and a
// JSON body {"Type","Message"}).
//
// It owns no state: functions live in package functions, event source
// mappings in package functions/esm. Bodies are read whole within a limit
// per action (the size of a function's zip for CreateFunction and
// UpdateFunctionCode, 6 MB for Invoke, 1 MB otherwise) and JSON bodies are
// checked for nesting depth before they are decoded.
package lambdaapi
