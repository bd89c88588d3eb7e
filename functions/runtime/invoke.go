package runtime

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/spatehq/spate/functions"
)

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
