package runtime

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// The Runtime API's headers (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
const (
	hdrRequestID     = "Lambda-Runtime-Aws-Request-Id"
	hdrDeadline      = "Lambda-Runtime-Deadline-Ms"
	hdrFunctionARN   = "Lambda-Runtime-Invoked-Function-Arn"
	hdrTraceID       = "Lambda-Runtime-Trace-Id"
	hdrClientContext = "Lambda-Runtime-Client-Context"
	// Lambda-Runtime-Cognito-Identity is never sent: Spate's invokers
	// carry no Cognito identity.
	hdrErrorType = "Lambda-Runtime-Function-Error-Type"
	// aws-lambda-go streams a response; when reading it fails half-way it
	// reports the error in these trailers instead of the body.
	trlErrorType = "Lambda-Runtime-Function-Error-Type"
	trlErrorBody = "Lambda-Runtime-Function-Error-Body"
)

// The Runtime API's own error types, as Lambda's runtime interface
// emulator answers them.
const (
	apiInvalidRequestID       = "InvalidRequestID"
	apiInvalidStateTransition = "InvalidStateTransition"
	apiRequestEntityTooLarge  = "RequestEntityTooLarge"
)

// call is one invocation on its way through an instance.
type call struct {
	id            string
	functionARN   string
	payload       []byte
	clientContext string // decoded JSON, "" when none
	traceID       string
	timeout       time.Duration
	log           *tail

	// delivered is closed when a runtime took the call from /next;
	// deadline is set before.
	delivered chan struct{}
	deadline  time.Time
	// done receives the call's outcome once (capacity 1).
	done chan outcome
}

// outcome is what the runtime answered.
type outcome struct {
	payload []byte
	failed  bool // payload is an error document
}

// api is one instance's Runtime API: the state an instance's runtime moves
// through (initializing, waiting in /next, invoking, answering) and the
// calls handed to it. It holds no process, so it is tested and fuzzed alone.
type api struct {
	// calls carries the one invocation this instance is given at a time
	// (capacity 1: the Manager hands an instance a call only when it
	// holds it exclusively, so the send never blocks).
	calls chan *call
	// stop is closed when the instance stops: /next stops waiting.
	stop chan struct{}
	// initFailed receives the error a runtime posted to /init/error
	// (capacity 1; only the first is accepted).
	initFailed chan outcome
	now        func() time.Time

	mu       sync.Mutex
	started  bool  // a runtime has called /next once: init is over
	failed   bool  // it posted /init/error
	cur      *call // the invocation the runtime holds, until answered
	last     *call // the latest call handed over (for log attribution)
	claimed  bool  // cur's answer is being read: another one is refused
	stopOnce sync.Once
}

func newAPI() *api {
	return &api{
		calls:      make(chan *call, 1),
		stop:       make(chan struct{}),
		initFailed: make(chan outcome, 1),
		now:        time.Now,
	}
}

func (a *api) close() { a.stopOnce.Do(func() { close(a.stop) }) }

// handler routes the four calls of the Runtime API. Anything else is 404
// (or 405), as on Lambda.
func (a *api) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", a.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", a.response)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", a.invocationError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", a.initError)
	return mux
}

// next blocks until the instance is given an invocation, then answers it
// with the event as body and its metadata in headers.
func (a *api) next(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	if a.cur != nil {
		a.mu.Unlock()
		// The runtime asks for more work while it holds an unanswered
		// invocation: Lambda's state machine refuses that transition.
		renderError(w, http.StatusForbidden, apiInvalidStateTransition,
			"State transition from Invoking to InvocationNext failed for runtime: the invocation "+
				"in progress has no response yet")
		return
	}
	a.started = true
	a.mu.Unlock()

	var c *call
	select {
	case c = <-a.calls:
	case <-a.stop:
		// The instance is stopping (its process is being killed): the
		// connection goes with it.
		renderError(w, http.StatusInternalServerError, "InternalServerError", "the instance is stopping")
		return
	case <-r.Context().Done():
		return
	}

	a.mu.Lock()
	if a.cur != nil {
		// Another /next took a call meanwhile: impossible while the
		// Manager hands one call at a time, and refused if it were not.
		a.mu.Unlock()
		a.calls <- c
		renderError(w, http.StatusForbidden, apiInvalidStateTransition, "an invocation is in progress")
		return
	}
	c.deadline = a.now().Add(c.timeout)
	a.cur, a.claimed = c, false // hand (or newInstance) already set a.last = c
	a.mu.Unlock()
	close(c.delivered)

	h := w.Header()
	h.Set(hdrRequestID, c.id)
	h.Set(hdrDeadline, strconv.FormatInt(c.deadline.UnixMilli(), 10))
	h.Set(hdrFunctionARN, c.functionARN)
	h.Set(hdrTraceID, c.traceID)
	if c.clientContext != "" {
		h.Set(hdrClientContext, c.clientContext)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(c.payload)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(c.payload) // a failed write is the runtime dying: its exit is seen
}

// claim marks the invocation id as being answered, so one answer is read
// at a time (a body is up to 6 MB: a runtime posting many at once must not
// make Spate hold many). It writes the refusal itself when it fails.
func (a *api) claim(w http.ResponseWriter, id string) *call {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.cur == nil:
		renderError(w, http.StatusForbidden, apiInvalidStateTransition,
			"State transition to InvocationResponse failed for runtime: no invocation is in progress")
		return nil
	case a.cur.id != id:
		renderError(w, http.StatusBadRequest, apiInvalidRequestID, "Invalid request ID")
		return nil
	case a.claimed:
		renderError(w, http.StatusForbidden, apiInvalidStateTransition,
			"State transition to InvocationResponse failed for runtime: a response is being sent")
		return nil
	}
	a.claimed = true
	return a.cur
}

// finish delivers c's outcome unless c was abandoned (timed out) while its
// answer was read, and frees the instance for its next /next.
func (a *api) finish(c *call, o outcome) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cur != c {
		return false
	}
	a.cur, a.claimed = nil, false
	c.done <- o
	return true
}

// unclaim gives up an answer that could not be read (the connection broke).
func (a *api) unclaim(c *call) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cur == c {
		a.claimed = false
	}
}

// abandon forgets c (it timed out, or its instance died): a late answer for
// it is refused.
func (a *api) abandon(c *call) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cur == c {
		a.cur, a.claimed = nil, false
	}
}

// hand gives c to the runtime's /next (now or when it asks). The caller
// holds the instance exclusively.
func (a *api) hand(c *call) {
	a.mu.Lock()
	a.last = c
	a.mu.Unlock()
	a.calls <- c
}

// current returns the call a log line written now belongs to: the one in
// progress or, before the runtime takes it (init) and after it answered,
// the latest one handed over; invoking says it is in progress.
func (a *api) current() (*call, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cur != nil {
		return a.cur, true
	}
	return a.last, false
}

func (a *api) response(w http.ResponseWriter, r *http.Request) {
	c := a.claim(w, r.PathValue("id"))
	if c == nil {
		return
	}
	body, tooLarge, err := readBody(r.Body)
	if err != nil {
		a.unclaim(c)
		renderError(w, http.StatusBadRequest, "TruncatedHTTPRequest", "HTTP request detected as truncated")
		return
	}
	if tooLarge {
		doc := errorDoc{
			ErrorType:    errResponseTooLarge,
			ErrorMessage: "Response payload size exceeded maximum allowed payload size (" + strconv.Itoa(maxPayload) + " bytes).",
		}
		a.finish(c, outcome{payload: doc.bytes(), failed: true})
		renderError(w, http.StatusRequestEntityTooLarge, apiRequestEntityTooLarge,
			"Exceeded maximum allowed payload size ("+strconv.Itoa(maxPayload)+" bytes).")
		return
	}
	o := outcome{payload: body}
	if t := r.Trailer.Get(trlErrorType); t != "" {
		// The response stream broke in the runtime: what it reports in
		// the trailers is the invocation's error.
		o = outcome{payload: errorBody(trailerBody(r.Trailer.Get(trlErrorBody)), t), failed: true}
	}
	if !a.finish(c, o) {
		renderError(w, http.StatusBadRequest, apiInvalidRequestID, "Invalid request ID")
		return
	}
	renderAccepted(w)
}

func (a *api) invocationError(w http.ResponseWriter, r *http.Request) {
	c := a.claim(w, r.PathValue("id"))
	if c == nil {
		return
	}
	body, _, err := readBody(r.Body) // an over-long error document is cut
	if err != nil {
		a.unclaim(c)
		renderError(w, http.StatusBadRequest, "TruncatedHTTPRequest", "HTTP request detected as truncated")
		return
	}
	if !a.finish(c, outcome{payload: errorBody(body, r.Header.Get(hdrErrorType)), failed: true}) {
		renderError(w, http.StatusBadRequest, apiInvalidRequestID, "Invalid request ID")
		return
	}
	renderAccepted(w)
}

func (a *api) initError(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	if a.started || a.failed {
		a.mu.Unlock()
		renderError(w, http.StatusForbidden, apiInvalidStateTransition,
			"State transition to InitError failed for runtime: init is over")
		return
	}
	a.failed = true
	a.mu.Unlock()
	body, _, err := readBody(r.Body)
	if err != nil {
		body = nil
	}
	a.initFailed <- outcome{payload: errorBody(body, r.Header.Get(hdrErrorType)), failed: true}
	renderAccepted(w)
}

// readBody reads at most maxPayload bytes of b; tooLarge says there was
// more (the rest is not read: the connection is closed with the answer).
func readBody(b io.Reader) (body []byte, tooLarge bool, err error) {
	body, err = io.ReadAll(io.LimitReader(b, maxPayload+1))
	if err != nil {
		return nil, false, err
	}
	if len(body) > maxPayload {
		return body[:maxPayload], true, nil
	}
	return body, false, nil
}

// errorBody is the error document an invoker gets for a runtime's error:
// the body it posted when that is a JSON object (aws-lambda-go's
// {"errorMessage","errorType","stackTrace"}), else a document made of the
// body's text and the Lambda-Runtime-Function-Error-Type header.
func errorBody(body []byte, errType string) []byte {
	var obj map[string]json.RawMessage
	if len(body) > 0 && json.Unmarshal(body, &obj) == nil {
		return body
	}
	if errType == "" {
		errType = errRuntimeUnknown
	}
	const maxMessage = 64 << 10
	if len(body) > maxMessage {
		body = body[:maxMessage]
	}
	return errorDoc{ErrorMessage: string(body), ErrorType: errType}.bytes()
}

func trailerBody(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil
	}
	return b
}

var statusOK = []byte(`{"status":"OK"}`)

func renderAccepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write(statusOK)
}

func renderError(w http.ResponseWriter, status int, errType, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(errorDoc{ErrorMessage: msg, ErrorType: errType}.bytes())
}
