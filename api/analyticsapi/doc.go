// Package analyticsapi serves Spate Analytics over HTTP as a small JSON API
// (the Kinesis-style JSON APIs of packages kinesisapi and firehoseapi stay
// at POST /, routed by X-Amz-Target; this one lives under /v1/):
//
//	POST   /v1/applications                 create: {"name", "sql", "temporary"} -> 201, the description
//	GET    /v1/applications                 {"applications": [descriptions]}
//	GET    /v1/applications/{name}          the description
//	POST   /v1/applications/{name}/stop     stop, then the description
//	POST   /v1/applications/{name}/start    start, then the description
//	DELETE /v1/applications/{name}          204
//	GET    /v1/applications/{name}/results  the rows of a bare SELECT, as Server-Sent Events
//	POST   /v1/validate                     {"sql"} -> the description of what it would run
//	GET    /v1/streams/{name}/schema        ?limit=N: a proposed schema (package schema)
//	POST   /v1/demo                         {"stream", "rate"} -> 201 (200: running already), a stock-ticker producer in the server
//	GET    /v1/demo                         {"producers": [...]}
//	DELETE /v1/demo/{stream}                204: the producer stopped
//
// Errors are JSON objects {"__type": "<AWS error name>", "message": "..."}
// with status 400 (bad request or SQL), 404 (ResourceNotFoundException),
// 409 (ResourceInUseException), 429 (LimitExceededException: too many demo
// producers) or 500 (InternalFailure, whose cause goes to the log only). A SQL error (*query.Error) is an
// InvalidArgumentException that also has "line" and "column" (1-based).
//
// The results stream sends an event "columns" whose data is the JSON array
// of column names, then one event "row" per row whose data is a JSON
// object with those keys in that order, each flushed at once, and a
// comment line every 15 seconds while no row comes. It ends when the
// client goes away, or with an event "error" (data: the error object) when
// the application cannot stream any more, or when the handler is closed.
//
// It owns decoding requests, encoding replies and the one table from
// error codes to HTTP statuses (statusOf); the semantics live in package
// analytics.
package analyticsapi
