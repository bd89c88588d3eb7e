package runtime

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/functions"
)

// maxConns caps the connections one instance's runtime may hold open to its
// Runtime API (a runtime needs one or two).
const maxConns = 16

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

// Execute runs one invocation of fn; see functions.Executor. When ctx ends
// first, Execute returns its error at once and the invocation goes on to its
// end or timeout, holding its concurrency slot, as on Lambda; it reads
// inv.Payload until then, so the caller must not modify it.
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
		// ones when their invocation ends (put sees the revision).
		f.revision = fn.RevisionID
		stop, f.idle = f.idle, nil
	}
	defer stopAll(stop)
	switch {
	case f.busy >= fn.MaxConcurrency:
		// MaxConcurrency is the reserved concurrency when there is one,
		// else the server's unreserved limit: the shared pool's.
		if (m.cfg.unreserved > 0 && fn.MaxConcurrency == m.cfg.unreserved) || fn.MaxConcurrency >= m.cfg.accountLimit {
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
