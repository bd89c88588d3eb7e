// Package metricsapi serves GET /v1/metrics: a JSON snapshot of the
// current value of the server's Prometheus series that match label
// filters, for the web console's charts and for scripts that want a few
// figures without a Prometheus.
//
//	GET /v1/metrics?stream=orders&name_prefix=spate_shard_
//
//	{"timestamp": 1765000000123,                       // unix milliseconds
//	 "metrics": [{"name": "spate_shard_incoming_records_total", "type": "counter",
//	              "labels": {"stream": "orders", "shard": "shardId-000000000000"},
//	              "value": 42}, ...]}
//
// Every query parameter but name_prefix is a label filter, and a series
// is given only when all of them match (a label the series lacks reads as
// the empty string, as in PromQL). name_prefix keeps the entries whose
// name starts with it. Types are Prometheus's in lower case (counter,
// gauge, histogram, summary, untyped, gaugehistogram); a histogram or a
// summary gives two entries, NAME_count and NAME_sum, of its type. A value
// that JSON cannot carry (NaN, ±Inf) is null.
//
// It reads the registry (a prometheus.Gatherer), never the /metrics
// listener, so it answers the same whether /metrics is on --http-addr or
// on --metrics-addr.
//
// Bounds: at most MaxFilters parameters, names of at most 128 bytes,
// values of at most 256, the query at most 4 KiB, each parameter once; a
// reply of at most MaxSeries entries (WithMaxSeries). Beyond them, or for
// a parameter that is not a label name, it answers 400 with
// InvalidArgumentException; more matching series than a reply holds is a
// 400 LimitExceededException that says how many matched.
//
// With a guard (WithGuard) a request must be signed with SigV4 for the
// signing name "monitoring" and is authorized as
// "cloudwatch:GetMetricData" on "*": CloudWatch's GetMetricData is the
// AWS call that reads metric values. Authentication errors answer as on
// the Analytics HTTP API (403 MissingAuthenticationTokenException, 400
// for a bad signature, 403 AccessDeniedException).
//
// A method other than GET (or HEAD) is a 405 UnknownOperationException.
// Errors are {"__type": "<AWS error name>", "message": "..."} with the
// type also in X-Amzn-ErrorType.
package metricsapi
