// Package estest is an in-process Elasticsearch 7.17 HTTP API for tests: the
// part of the API the firehose Elasticsearch sink and its tests use, with the
// documents kept in memory, and fault injection.
//
// It serves the bulk API (POST /_bulk, POST /{index}/_bulk with index, create
// and delete actions, per-item results shaped like Elasticsearch 7.x), index
// auto-creation and PUT/HEAD/GET/DELETE /{index}, GET /{index}/_doc/{id},
// _search and _count (match_all and ids queries, size and from), _refresh,
// GET / (cluster info) and GET /_nodes/http (for olivere/elastic's sniffer). Indices get Elasticsearch-like dynamic mappings
// (long, float, boolean, text, date, object), so a document whose field
// contradicts the mapping is rejected with mapper_parsing_exception as a real
// cluster would. Search is always up to date: _refresh is accepted and does
// nothing.
//
// Faults: RejectDocs rejects chosen documents with a status and error of the
// test's choosing (mapping errors, 429), FailRequests fails whole bulk
// requests, and counters (BulkRequests, Received) let tests assert what was
// sent.
//
// Invariant: documents are keyed by index and _id, so indexing a known _id
// again replaces the document (version+1, result "updated") and the count is
// unchanged; that is how tests observe idempotent re-delivery.
//
// It does not own durability, sharding, scoring, or any query beyond the
// ones above; use a real cluster (ES_URL) for those.
package estest
