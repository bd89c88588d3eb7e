package essink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/olivere/elastic/v7"
)

// Doc is one document to index.
type Doc struct {
	// ID is the document's _id, required. The firehose core derives it from
	// the record's position in its source, so delivering the same record
	// again overwrites the same document instead of adding a copy.
	ID string
	// Index is the target index, required; see IndexName.
	Index string
	// Body is the document source. It must be a UTF-8 JSON object (see
	// ValidateJSONObject); it may span lines, since Deliver compacts it
	// before putting it in the newline-delimited bulk body.
	Body []byte
}

// Failed is a document Deliver gave up on, with the last error it got.
type Failed struct {
	// Doc is the caller's document, as passed to Deliver (sharing its Body).
	Doc Doc
	// Status is the HTTP status Elasticsearch gave the document (the bulk
	// item's status, or the whole request's when the request failed). It is
	// 0 when there was no answer: a transport error, or a document that was
	// never sent because it is not a JSON object.
	Status int
	// Type is the error type Elasticsearch gave, such as
	// "mapper_parsing_exception" or "es_rejected_execution_exception"; empty
	// when the error did not come from Elasticsearch.
	Type string
	// Error is the error in full: Elasticsearch's "type: reason" (and its
	// cause, if it gave one), a transport error, or ValidateJSONObject's
	// error. It is what the firehose core writes to the S3 backup.
	Error string
	// Attempts is how many times the document was sent (0 if never).
	Attempts int
}

// Result describes one Deliver call.
type Result struct {
	// Succeeded counts documents Elasticsearch acknowledged.
	Succeeded int
	// Failed lists the documents that were not delivered, in the order they
	// were passed in.
	Failed []Failed
	// Attempts counts delivery rounds: the first send of the batch plus each
	// retry of the documents still pending (Firehose's "attemptsMade").
	Attempts int
	// Requests counts bulk HTTP requests sent (a round is split into several
	// when the batch exceeds the maximum bulk size).
	Requests int
	// Retried counts document sends after the first: the sum, over retry
	// rounds, of the documents the round re-sent.
	Retried int
}

// Client delivers documents to one Elasticsearch cluster. It is safe for
// concurrent use.
type Client struct {
	es  *elastic.Client
	cfg config
}

// New returns a Client for the cluster at url (such as
// "http://localhost:9200"). Sniffing and health checks are off unless
// enabled by options, in which case New contacts the cluster; otherwise it
// does not.
func New(rawURL string, opts ...Option) (*Client, error) {
	if rawURL == "" {
		return nil, errors.New("essink: empty Elasticsearch URL")
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("essink: invalid Elasticsearch URL %q: want scheme://host[:port]", redact(rawURL))
	}
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	eopts := []elastic.ClientOptionFunc{
		elastic.SetURL(rawURL),
		elastic.SetSniff(cfg.sniff),
		elastic.SetHealthcheck(cfg.healthcheck),
		elastic.SetHttpClient(cfg.httpClient),
	}
	if cfg.basicAuth {
		eopts = append(eopts, elastic.SetBasicAuth(cfg.username, cfg.password))
	}
	es, err := elastic.NewClient(eopts...)
	if err != nil {
		return nil, fmt.Errorf("essink: client for %s: %w", redact(rawURL), err)
	}
	return &Client{es: es, cfg: cfg}, nil
}

// Close stops the background sniffer and health checker, if enabled.
func (c *Client) Close() {
	c.es.Stop()
}

// docState is Deliver's bookkeeping for one document.
type docState struct {
	body     []byte // compacted source; nil if the document is never sent
	done     bool
	attempts int
	status   int
	errType  string
	errMsg   string
}

func (s *docState) fail(status int, errType, msg string) {
	s.status, s.errType, s.errMsg = status, errType, msg
}

// failed reports d, whose state s is, as failed with its last error.
func (s *docState) failed(d Doc) Failed {
	return Failed{Doc: d, Status: s.status, Type: s.errType, Error: s.errMsg, Attempts: s.attempts}
}

// Deliver indexes docs with the bulk API, each with an explicit _id (the
// "index" action, so re-delivery overwrites), and retries as Firehose does:
//
//   - A document Elasticsearch acknowledges is never sent again.
//   - Every failed document is retried, whatever the failure: item errors
//     such as 429 es_rejected_execution_exception and 400
//     mapper_parsing_exception, and whole-request failures (connection
//     refused, 5xx), which retry all the documents that request carried.
//   - Retries wait with capped, jittered exponential backoff and continue
//     until retryFor has passed since the first attempt (Firehose's
//     RetryOptions.DurationInSeconds, including the first attempt; 0 means
//     a single attempt). A final attempt is made at the deadline.
//   - What still fails then is returned in Result.Failed with the last error.
//
// A document whose Body is not a UTF-8 JSON object is not sent: it goes
// straight to Result.Failed with ValidateJSONObject's error.
//
// Delivery failures are reported in the Result, never as an error. Deliver
// returns an error only if ctx ends (the Result then counts the work done so
// far, but its Failed list is incomplete: the caller must treat the batch as
// not delivered and deliver it again later, which is safe since documents
// carry their _id) or if the call is malformed (a document without ID or
// Index, a negative retryFor), in which case nothing is sent.
//
// Deliver does not modify docs or their bodies, nor keep them after it
// returns, except as Result.Failed[i].Doc.
func (c *Client) Deliver(ctx context.Context, docs []Doc, retryFor time.Duration) (Result, error) {
	var res Result
	if retryFor < 0 {
		return res, fmt.Errorf("essink: deliver: negative retry duration %v", retryFor)
	}
	for i, d := range docs {
		if d.ID == "" {
			return res, fmt.Errorf("essink: deliver: document %d has no ID", i)
		}
		if d.Index == "" {
			return res, fmt.Errorf("essink: deliver: document %d (ID %q) has no index", i, d.ID)
		}
	}

	states := make([]docState, len(docs))
	pending := make([]int, 0, len(docs))
	for i, d := range docs {
		if err := ValidateJSONObject(d.Body); err != nil {
			states[i].fail(0, "", err.Error())
			continue
		}
		body, err := compactJSON(d.Body)
		if err != nil {
			states[i].fail(0, "", err.Error())
			continue
		}
		states[i].body = body
		pending = append(pending, i)
	}

	deadline := c.cfg.now().Add(retryFor)
	for round := 1; len(pending) > 0; round++ {
		if round > 1 {
			res.Retried += len(pending)
		}
		res.Attempts++
		var err error
		pending, err = c.round(ctx, docs, states, pending, &res)
		if err != nil {
			return res, fmt.Errorf("essink: deliver: %w", err)
		}
		if len(pending) == 0 {
			break
		}
		remaining := deadline.Sub(c.cfg.now())
		if remaining <= 0 {
			break
		}
		if c.cfg.onRetry != nil {
			c.cfg.onRetry(len(pending), states[pending[0]].failed(docs[pending[0]]))
		}
		if err := c.cfg.sleep(ctx, min(c.backoff(round), remaining)); err != nil {
			return res, fmt.Errorf("essink: deliver: wait to retry: %w", err)
		}
	}

	for i := range states {
		if s := &states[i]; !s.done {
			res.Failed = append(res.Failed, s.failed(docs[i]))
		}
	}
	return res, nil
}

// round sends the pending documents once and returns those still pending.
// It returns an error only when ctx has ended.
func (c *Client) round(ctx context.Context, docs []Doc, states []docState, pending []int, res *Result) ([]int, error) {
	var next []int
	for _, chunk := range c.chunks(docs, states, pending) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res.Requests++
		for _, i := range chunk {
			states[i].attempts++
		}
		resp, err := c.send(ctx, docs, states, chunk)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, ctxErr
			}
			status, errType, msg := describeRequestError(err)
			for _, i := range chunk {
				states[i].fail(status, errType, msg)
			}
			next = append(next, chunk...)
			continue
		}
		if len(resp.Items) != len(chunk) {
			msg := fmt.Sprintf("bulk response has %d items for %d documents", len(resp.Items), len(chunk))
			for _, i := range chunk {
				states[i].fail(0, "", msg)
			}
			next = append(next, chunk...)
			continue
		}
		for k, i := range chunk {
			item := firstItem(resp.Items[k])
			switch {
			case item == nil:
				states[i].fail(0, "", "empty bulk response item")
			case item.Id != docs[i].ID:
				states[i].fail(item.Status, "", fmt.Sprintf("bulk response item %d is for _id %q, not %q", k, item.Id, docs[i].ID))
			case item.Error == nil && item.Status >= 200 && item.Status < 300:
				// Invariant: done documents leave pending for good, so they
				// are never sent again.
				states[i].done = true
				res.Succeeded++
				continue
			case item.Error != nil:
				states[i].fail(item.Status, item.Error.Type, formatDetails(item.Error))
			default:
				states[i].fail(item.Status, "", fmt.Sprintf("HTTP %d %s", item.Status, http.StatusText(item.Status)))
			}
			next = append(next, i)
		}
	}
	return next, nil
}

// send makes one bulk request of the chunk's documents.
func (c *Client) send(ctx context.Context, docs []Doc, states []docState, chunk []int) (*elastic.BulkResponse, error) {
	bulk := c.es.Bulk()
	for _, i := range chunk {
		bulk.Add(elastic.NewBulkIndexRequest().
			Index(docs[i].Index).
			Id(docs[i].ID).
			Doc(json.RawMessage(states[i].body)))
	}
	resp, err := bulk.Do(ctx)
	if elastic.IsConnErr(err) && ctx.Err() == nil {
		// After a transport error olivere marks the (only) node dead. With
		// sniffing and health checks off it then fails the next request with
		// ErrNoClient without sending it, marking the node alive again for
		// the request after. Send once more so that every attempt we count
		// reaches the cluster. A failed Do keeps the bulk's actions.
		resp, err = bulk.Do(ctx)
	}
	return resp, err
}

// chunks splits pending into bulk requests of at most maxBulkBytes each
// (approximately: the action lines are estimated), keeping order.
func (c *Client) chunks(docs []Doc, states []docState, pending []int) [][]int {
	var out [][]int
	var cur []int
	size := 0
	for _, i := range pending {
		// {"index":{"_index":"...","_id":"..."}}\n + body + \n
		n := len(docs[i].Index) + len(docs[i].ID) + 40 + len(states[i].body)
		if len(cur) > 0 && size+n > c.cfg.maxBulkBytes {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, i)
		size += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// backoff returns the wait after the given round (1 for the first): the
// initial backoff doubled per round, capped, then jittered to [d/2, d].
func (c *Client) backoff(round int) time.Duration {
	d := c.cfg.initialBackoff
	for r := 1; r < round && d < c.cfg.maxBackoff; r++ {
		d *= 2
	}
	d = min(d, c.cfg.maxBackoff)
	half := d / 2
	return half + rand.N(d-half+1)
}

func firstItem(m map[string]*elastic.BulkResponseItem) *elastic.BulkResponseItem {
	for _, item := range m {
		return item
	}
	return nil
}

// describeRequestError turns a failed bulk request into a status, an
// Elasticsearch error type, and a message.
func describeRequestError(err error) (status int, errType, msg string) {
	var e *elastic.Error
	if errors.As(err, &e) {
		if e.Details != nil && e.Details.Type != "" {
			return e.Status, e.Details.Type, formatDetails(e.Details)
		}
		return e.Status, "", fmt.Sprintf("bulk request: HTTP %d %s", e.Status, http.StatusText(e.Status))
	}
	return 0, "", "bulk request: " + err.Error()
}

// formatDetails renders an Elasticsearch error as "type: reason", followed by
// its cause when it gave one.
func formatDetails(d *elastic.ErrorDetails) string {
	var b strings.Builder
	b.WriteString(d.Type)
	b.WriteString(": ")
	b.WriteString(d.Reason)
	if t, _ := d.CausedBy["type"].(string); t != "" {
		r, _ := d.CausedBy["reason"].(string)
		fmt.Fprintf(&b, " (caused by %s: %s)", t, r)
	}
	return b.String()
}

// redact hides the user-info part of a URL, which may not parse, for error
// messages.
func redact(raw string) string {
	at := strings.LastIndex(raw, "@")
	if at < 0 {
		return raw
	}
	start := strings.Index(raw, "://")
	if start < 0 || start > at {
		start = 0
	} else {
		start += len("://")
	}
	return raw[:start] + "xxxxx" + raw[at:]
}
