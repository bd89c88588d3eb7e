package runtime

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"golang.org/x/net/netutil"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/functions"
)

// maxConns caps the connections one instance's runtime may hold open to its
// Runtime API (a runtime needs one or two).
const maxConns = 16

var limitListener = netutil.LimitListener

// Manager runs functions' code: provided.* functions as local instances of
// their bootstrap, HTTP-endpoint functions as a POST. It is the
// functions.Executor; New makes one, Close stops everything it started.
type Manager struct {
	cfg    config
	client *http.Client // for HTTP-endpoint functions

	mu     sync.Mutex
	closed bool
	fns    map[string]*function // by unqualified ARN
	busy   int                  // invocations running, every function
	live   int                  // instances alive (busy or idle)
	// wg counts every goroutine the Manager starts; Close waits for them.
	wg sync.WaitGroup
}

var _ functions.Executor = (*Manager)(nil)

// function is the Manager's state for one function (by ARN). Guarded by
// Manager.mu.
type function struct {
	arn      string
	revision string // the newest RevisionID seen: other instances retire
	busy     int    // its invocations running
	// idle are instances waiting for an invocation, the most recently
	// used last (taken first, so the others age out).
	idle []*instance
	all  map[*instance]struct{}
}

// New returns a Manager with the options applied over the defaults.
func New(opts ...Option) *Manager {
	cfg := defaults()
	for _, o := range opts {
		o(&cfg)
	}
	client := cfg.httpClient
	if client == nil {
		client = &http.Client{
			// An endpoint answers the event itself: a redirect is its
			// answer (a non-2xx), not a place to send the event again.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return &Manager{cfg: cfg, client: client, fns: map[string]*function{}}
}

// Execute runs one invocation of fn; see functions.Executor.
func (m *Manager) Execute(ctx context.Context, fn functions.Config, inv functions.Invocation) (functions.Result, error) {
	switch fn.Runtime {
	case functions.RuntimeHTTP, functions.RuntimeProvidedAL2023, functions.RuntimeProvidedAL2:
	default:
		return functions.Result{}, apierr.New(apierr.InvalidRuntime, "function %s: runtime %q is not supported: use %s, %s or %s",
			fn.Name, fn.Runtime, functions.RuntimeProvidedAL2023, functions.RuntimeProvidedAL2, functions.RuntimeHTTP)
	}
	if err := ctx.Err(); err != nil {
		return functions.Result{}, fmt.Errorf("invoke %s: %w", fn.Name, err)
	}
	f, err := m.acquire(fn)
	if err != nil {
		return functions.Result{}, err
	}
	c := newCall(fn, inv)
	type answer struct {
		res functions.Result
		err error
	}
	done := make(chan answer, 1)
	// The invocation runs on its own goroutine: a caller that gives up
	// (ctx) gets its answer at once, while the invocation still holds its
	// concurrency slot until it ends or times out, as on Lambda.
	go func() {
		defer m.wg.Done() // added by acquire
		var a answer
		if fn.Runtime == functions.RuntimeHTTP {
			a.res, a.err = m.callEndpoint(fn, c)
		} else {
			a.res, a.err = m.run(f, fn, c)
		}
		m.release(f)
		if a.err == nil && inv.LogTail {
			a.res.LogTail = c.log.bytes()
		}
		a.res.ExecutedVersion = versionOf(fn)
		done <- a
	}()
	select {
	case a := <-done:
		return a.res, a.err
	case <-ctx.Done():
		return functions.Result{}, fmt.Errorf("invoke %s: %w", fn.Name, ctx.Err())
	}
}

func newCall(fn functions.Config, inv functions.Invocation) *call {
	id := inv.RequestID
	if id == "" {
		id = newRequestID()
	}
	c := &call{
		id:          id,
		functionARN: fn.ARN,
		payload:     inv.Payload,
		traceID:     newTraceID(),
		timeout:     fn.Timeout,
		log:         &tail{},
		delivered:   make(chan struct{}),
		done:        make(chan outcome, 1),
	}
	if c.timeout <= 0 {
		c.timeout = 3 * time.Second // Lambda's default
	}
	if inv.ClientContext != "" {
		// The Invoke API's X-Amz-Client-Context is base64 JSON; the
		// runtime gets the JSON.
		if b, err := base64.StdEncoding.DecodeString(inv.ClientContext); err == nil && json.Valid(b) {
			c.clientContext = string(b)
		}
	}
	return c
}

// acquire takes a concurrency slot for fn (and a wg count for the
// invocation's goroutine), or answers TooManyRequests.
func (m *Manager) acquire(fn functions.Config) (*function, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, apierr.New(apierr.Service, "function %s: the executor is closed", fn.Name)
	}
	f := m.fns[fn.ARN]
	if f == nil {
		f = &function{arn: fn.ARN, revision: fn.RevisionID, all: map[*instance]struct{}{}}
		m.fns[fn.ARN] = f
	}
	var stop []*instance
	if f.revision != fn.RevisionID {
		// A new revision: the old one's idle instances go now, its busy
		// ones when their invocation ends (release sees the revision).
		f.revision = fn.RevisionID
		stop, f.idle = f.idle, nil
	}
	defer stopAll(stop)
	switch {
	case f.busy >= fn.MaxConcurrency:
		// MaxConcurrency is the reserved concurrency when there is one,
		// else the server's unreserved limit: the latter is the account's.
		if fn.MaxConcurrency >= m.cfg.accountLimit {
			return nil, throttled(ReasonAccount)
		}
		return nil, throttled(ReasonReserved)
	case m.busy >= m.cfg.accountLimit:
		return nil, throttled(ReasonAccount)
	}
	f.busy++
	m.busy++
	m.wg.Add(1)
	return f, nil
}

// release gives back the slot acquire took.
func (m *Manager) release(f *function) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f.busy--
	m.busy--
	m.dropIfUnused(f)
}

func stopAll(ins []*instance) {
	for _, in := range ins {
		in.stop()
	}
}

// take returns an idle instance of fn's revision, or starts one (cold)
// for c.
func (m *Manager) take(f *function, fn functions.Config, c *call) (*instance, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, apierr.New(apierr.Service, "function %s: the executor is closed", fn.Name)
	}
	for len(f.idle) > 0 {
		in := f.idle[len(f.idle)-1]
		f.idle = f.idle[:len(f.idle)-1]
		in.idleTimer.Stop()
		if in.revision == fn.RevisionID && !in.retired {
			m.mu.Unlock()
			return in, nil
		}
		in.stop()
	}
	var evict *instance
	if m.live >= m.cfg.accountLimit {
		// Room for a new instance: the longest idle one of any function
		// goes (instances past the limit are all busy otherwise, and
		// acquire keeps busy ones under it).
		evict = m.oldestIdleLocked()
	}
	m.live++
	m.mu.Unlock()
	if evict != nil {
		evict.stop()
	}
	in, err := m.start(f, fn, c)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil || in.gone {
		// It did not start, or already exited (forget found nothing to
		// undo): serve sees the exit.
		m.live--
		return in, err
	}
	in.registered = true
	f.all[in] = struct{}{}
	if m.closed {
		in.stop()
	}
	return in, nil
}

// put returns in to its function's idle instances after an invocation that
// left it healthy, or stops it.
func (m *Manager) put(f *function, in *instance, healthy bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	in.initialized = true
	if !healthy || in.retired || in.revision != f.revision || m.closed || isClosed(in.exited) {
		in.stop()
		return
	}
	in.lastUsed = time.Now()
	f.idle = append(f.idle, in)
	if in.idleTimer == nil {
		in.idleTimer = time.AfterFunc(m.cfg.idleTimeout, func() { m.expire(f, in) })
	} else {
		in.idleTimer.Reset(m.cfg.idleTimeout)
	}
}

// expire stops in if it is still idle: it has not been used for the idle
// timeout.
func (m *Manager) expire(f *function, in *instance) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if removeIdle(f, in) {
		in.stop()
	}
}

// forget drops an instance whose process has exited.
func (m *Manager) forget(in *instance) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := in.fn
	removeIdle(f, in)
	if in.idleTimer != nil {
		in.idleTimer.Stop()
	}
	in.gone = true
	if in.registered {
		delete(f.all, in)
		m.live--
	}
	m.dropIfUnused(f)
	m.cfg.logger.Debug("function instance stopped", "function", in.name, "pid", in.pid, "how", in.how)
}

// dropIfUnused forgets a function with nothing running (a deleted
// function must not stay in the map).
func (m *Manager) dropIfUnused(f *function) {
	if f.busy == 0 && len(f.all) == 0 && m.fns[f.arn] == f {
		delete(m.fns, f.arn)
	}
}

func removeIdle(f *function, in *instance) bool {
	for i, x := range f.idle {
		if x == in {
			f.idle = append(f.idle[:i], f.idle[i+1:]...)
			return true
		}
	}
	return false
}

func (m *Manager) oldestIdleLocked() *instance {
	var oldest *instance
	var of *function
	for _, f := range m.fns {
		if len(f.idle) > 0 && (oldest == nil || f.idle[0].lastUsed.Before(oldest.lastUsed)) {
			oldest, of = f.idle[0], f
		}
	}
	if oldest != nil {
		removeIdle(of, oldest)
		oldest.idleTimer.Stop()
	}
	return oldest
}

// Retire stops the function's idle instances now and its busy ones when
// their invocation ends.
func (m *Manager) Retire(functionARN string) {
	m.mu.Lock()
	f := m.fns[functionARN]
	if f == nil {
		m.mu.Unlock()
		return
	}
	stop := f.idle
	f.idle = nil
	for in := range f.all {
		in.retired = true
	}
	m.mu.Unlock()
	stopAll(stop)
}

// Close stops every instance and waits until every process has exited and
// every invocation has returned. Executes after Close answer Service.
func (m *Manager) Close() error {
	m.mu.Lock()
	m.closed = true
	var stop []*instance
	for _, f := range m.fns {
		for in := range f.all {
			stop = append(stop, in)
		}
		f.idle = nil
	}
	m.mu.Unlock()
	stopAll(stop)
	m.wg.Wait()
	return nil
}

// run runs c on an instance of fn: a warm one when there is, else a new
// one. A warm instance that dies before it takes the call (it was exiting
// after its last invocation) hands it to a new one.
func (m *Manager) run(f *function, fn functions.Config, c *call) (functions.Result, error) {
	m.logStart(fn, c)
	for attempt := 0; ; attempt++ {
		in, err := m.take(f, fn, c)
		if err != nil {
			return functions.Result{}, err
		}
		m.mu.Lock()
		warm := in.initialized
		m.mu.Unlock()
		r := in.serve(c, warm)
		if r.undelivered && warm && attempt == 0 {
			m.put(f, in, false)
			continue
		}
		m.put(f, in, r.healthy)
		return r.result, nil
	}
}

// served is how an invocation on an instance ended.
type served struct {
	result      functions.Result
	healthy     bool // the instance may serve again
	undelivered bool // it never took the call
}

// serve hands c to the instance and waits for its answer, its death, or
// the timeout (the instance is killed then).
func (in *instance) serve(c *call, warm bool) served {
	m := in.m
	began := time.Now()
	in.api.hand(c)

	// Init (a new instance) or the hand-over (a warm one): the runtime
	// must ask for the invocation within the init timeout.
	initTimer := time.NewTimer(m.cfg.initTimeout)
	defer initTimer.Stop()
	var initDur time.Duration
	select {
	case <-c.delivered:
		if !warm {
			initDur = time.Since(in.started)
		}
	case o := <-in.api.initFailed:
		in.stop()
		in.report(c, began, 0, "")
		return served{result: functions.Result{Payload: o.payload, FunctionError: "Unhandled"}}
	case <-in.exited:
		if warm {
			return served{undelivered: true}
		}
		in.report(c, began, 0, "")
		return served{result: unhandled(exitDoc(c.id, in.how))}
	case <-initTimer.C:
		in.stop()
		in.report(c, began, 0, "")
		return served{result: unhandled(errorDoc{
			ErrorType: errSandboxTimedOut,
			ErrorMessage: fmt.Sprintf("RequestId: %s Error: the runtime did not ask for the invocation within %s (init timeout)",
				c.id, m.cfg.initTimeout),
		})}
	}

	invoked := time.Now()
	timer := time.NewTimer(c.timeout)
	defer timer.Stop()
	select {
	case o := <-c.done:
		in.report(c, invoked, initDur, "")
		return served{result: resultOf(o), healthy: true}
	case <-in.exited:
		// An answer posted just before the exit (aws-lambda-go reports a
		// panic, then exits) is the result.
		select {
		case o := <-c.done:
			in.report(c, invoked, initDur, "")
			return served{result: resultOf(o)}
		default:
		}
		in.api.abandon(c)
		in.report(c, invoked, initDur, "")
		return served{result: unhandled(exitDoc(c.id, in.how))}
	case <-timer.C:
		in.api.abandon(c)
		in.stop()
		now := time.Now()
		line := timedOutLine(now, c.id, now.Sub(invoked))
		in.report(c, invoked, initDur, line)
		return served{result: unhandled(timedOutDoc(now, c.id, now.Sub(invoked)))}
	}
}

// logStart writes Lambda's START line to the invocation's log tail and to
// Spate's log.
func (m *Manager) logStart(fn functions.Config, c *call) {
	c.log.write("START RequestId: " + c.id + " Version: " + versionOf(fn) + "\n")
	m.cfg.logger.Info("START RequestId: "+c.id+" Version: "+versionOf(fn), "function", fn.Name, "request_id", c.id)
}

// report writes Lambda's END and REPORT lines (and a timeout's line after
// them) for an invocation of an instance.
func (in *instance) report(c *call, began time.Time, initDur time.Duration, timedOut string) {
	in.out.settle() // what the runtime wrote before answering belongs before END
	in.m.logEnd(c, in.name, in.memory, peakMemoryMB(in.pid), began, initDur, timedOut)
}

// logEnd writes Lambda's END and REPORT lines (and a timeout's line after
// them) to the invocation's log tail and to Spate's log.
func (m *Manager) logEnd(c *call, name string, memory, peakMB int, began time.Time, initDur time.Duration, timedOut string) {
	ms := float64(time.Since(began)) / float64(time.Millisecond)
	report := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %.0f ms\tMemory Size: %d MB\tMax Memory Used: %d MB\t",
		c.id, ms, math.Ceil(ms), memory, peakMB)
	if initDur > 0 {
		report += fmt.Sprintf("Init Duration: %.2f ms\t", float64(initDur)/float64(time.Millisecond))
	}
	end := "END RequestId: " + c.id
	c.log.write(end + "\n")
	c.log.write(report + "\n")
	l := m.cfg.logger
	l.Info(end, "function", name, "request_id", c.id)
	l.Info(report, "function", name, "request_id", c.id)
	if timedOut != "" {
		c.log.write(timedOut + "\n")
		l.Warn(timedOut, "function", name, "request_id", c.id)
	}
}

func resultOf(o outcome) functions.Result {
	if o.failed {
		return functions.Result{Payload: o.payload, FunctionError: "Unhandled"}
	}
	return functions.Result{Payload: o.payload}
}

func unhandled(d errorDoc) functions.Result {
	return functions.Result{Payload: d.bytes(), FunctionError: "Unhandled"}
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func versionOf(fn functions.Config) string {
	if fn.Version == "" {
		return functions.LatestVersion
	}
	return fn.Version
}

func newRequestID() string {
	b := []byte(randomHex(16))
	return string(b[0:8]) + "-" + string(b[8:12]) + "-" + string(b[12:16]) + "-" + string(b[16:20]) + "-" + string(b[20:32])
}

// newTraceID is an X-Ray trace header as Lambda passes it
// (Root=1-<epoch hex>-<96 bits>;Parent=<64 bits>;Sampled=0).
func newTraceID() string {
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", time.Now().Unix(), randomHex(12), randomHex(8))
}
