package esm

import (
	"context"
	"encoding/json"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/functions"
	"github.com/spatehq/spate/functions/destination"
	"github.com/spatehq/spate/shard"
)

// Delivering a batch, as Lambda does for stream sources:
//
//   - A throttled invocation (TooManyRequestsException) is retried with
//     backoff and counts no attempt.
//   - So is an invocation that did not run (an invoke error: the function
//     not found or not startable, the service failing), until the records
//     are too old.
//   - A failed one (a function error) counts an attempt. With
//     BisectBatchOnFunctionError the batch is split in two halves,
//     delivered in order, each with its own attempts: splitting counts no
//     attempt. Otherwise the batch is retried with backoff.
//   - With ReportBatchItemFailures the function names the failed records;
//     the records before the first of them are handled and the rest is
//     retried (an empty or unknown itemIdentifier fails the whole batch).
//   - Once a batch's attempts exceed MaximumRetryAttempts, or its oldest
//     records are older than MaximumRecordAgeInSeconds, they are given up:
//     the invocation record goes to the on-failure destination and the
//     shard moves on.
//
// The lane waits meanwhile, so a shard's (a partition key's) records are
// handled in order.

// outcome is what one invocation of a batch came to.
type outcome struct {
	throttled bool
	ok        int  // records handled: a prefix of the batch
	failed    bool // the rest failed
	state     json.RawMessage
	status    int
	res       functions.Result
	err       error
	requestID string
}

// chunk is a part of a batch being delivered, with its attempts.
type chunk struct {
	items    []item
	attempts int
	last     outcome
}

func records(items []item) []shard.Record {
	out := make([]shard.Record, len(items))
	for i, it := range items {
		out[i] = it.rec
	}
	return out
}

// deliver delivers a batch until every record is handled; it returns an
// error only when ctx ended or the lease was lost (then nothing after the
// last checkpoint counts as handled).
func (l *lane) deliver(ctx context.Context, batch []item, windowed bool) error {
	set := l.p.set
	queue := []chunk{{items: batch}}
	backoff := l.p.s.cfg.retryMin
	grow := func() { backoff = min(2*backoff, l.p.s.cfg.retryMax) }
	for len(queue) > 0 {
		c := &queue[0]
		if set.maxAge > 0 {
			cut := l.p.now().Add(-set.maxAge)
			n := 0
			for n < len(c.items) && c.items[n].rec.ArrivalTime.Before(cut) {
				n++
			}
			if n > 0 {
				if err := l.giveUp(ctx, c.items[:n], ConditionRecordAge, c.attempts, c.last); err != nil {
					return err
				}
				c.items = c.items[n:]
			}
		}
		if len(c.items) == 0 {
			queue = queue[1:]
			continue
		}
		recs := records(c.items)
		var payload []byte
		if windowed {
			payload = l.p.es.windowEvent(recs, l.win.StartMs, set.tumbling, l.win.State, false, false)
		} else {
			payload = l.p.es.event(recs)
		}
		out := l.invoke(ctx, recs, payload, windowed)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if out.throttled || (out.err != nil && !apierr.Is(out.err, apierr.RequestTooLarge)) {
			// The function was not invoked (throttled, not found, not
			// startable, the service failing): Lambda retries until the
			// records are too old, counting no attempt and never
			// bisecting ("Before invocation" in its Kinesis error
			// handling guide), so a function deleted or broken for a while
			// does not discard the shard's records.
			if !out.throttled {
				c.last = out
			}
			if err := l.sleep(ctx, backoff); err != nil {
				return err
			}
			grow()
			continue
		}
		if out.ok > 0 {
			if err := l.handled(ctx, c.items[:out.ok], out.state, windowed); err != nil {
				return err
			}
			c.items = c.items[out.ok:]
		}
		if !out.failed {
			queue = queue[1:]
			backoff = l.p.s.cfg.retryMin
			continue
		}
		if out.ok == 0 && len(c.items) > 1 && apierr.Is(out.err, apierr.RequestTooLarge) {
			// The batch outgrew the invocation payload limit (the size
			// estimate is loose for keys full of escapes, and a window's
			// state adds to it): Lambda never sends such a batch, so
			// halve it without counting an attempt.
			h := len(c.items) / 2
			halves := []chunk{{items: c.items[:h], attempts: c.attempts, last: c.last}, {items: c.items[h:], attempts: c.attempts, last: c.last}}
			queue = append(halves, queue[1:]...)
			continue
		}
		c.attempts++
		c.last = out
		if set.bisect && out.ok == 0 && len(c.items) > 1 {
			h := len(c.items) / 2
			halves := []chunk{{items: c.items[:h], last: out}, {items: c.items[h:], last: out}}
			queue = append(halves, queue[1:]...)
			continue
		}
		if set.maxRetries >= 0 && c.attempts > set.maxRetries {
			if err := l.giveUp(ctx, c.items, ConditionRetriesExhausted, c.attempts, out); err != nil {
				return err
			}
			queue = queue[1:]
			continue
		}
		if err := l.sleep(ctx, backoff); err != nil {
			return err
		}
		grow()
	}
	return nil
}

// handled marks records handled (with a window's new state) and moves the
// checkpoint.
func (l *lane) handled(ctx context.Context, items []item, state json.RawMessage, windowed bool) error {
	idxs := make([]int64, len(items))
	for i, it := range items {
		idxs[i] = it.idx
	}
	if windowed && state != nil {
		l.win.State = state
	}
	var win *windowState
	if windowed {
		w := *l.win
		win = &w
	}
	return l.p.progress(ctx, idxs, win, windowed)
}

// invoke invokes the function once with payload.
func (l *lane) invoke(ctx context.Context, recs []shard.Record, payload []byte, windowed bool) outcome {
	p := l.p
	s := p.s
	uuid := p.r.uuid
	out := outcome{requestID: newUUID()}
	if len(recs) > 0 {
		s.metrics.iteratorAge.WithLabelValues(uuid, p.shardID).Set(float64(p.now().Sub(recs[len(recs)-1].ArrivalTime).Milliseconds()))
	}
	ictx, cancel := context.WithTimeout(ctx, s.cfg.invokeTimeout)
	defer cancel()
	l.life.busy(p.now(), s.cfg.invokeTimeout)
	s.metrics.concurrent.WithLabelValues(uuid).Inc()
	s.metrics.invocations.WithLabelValues(uuid).Inc()
	res, err := s.inv.Invoke(ictx, p.set.fn, payload)
	s.metrics.concurrent.WithLabelValues(uuid).Dec()
	l.life.idle(p.now())
	if ctx.Err() != nil {
		return out
	}
	out.res, out.err = res, err
	switch {
	case apierr.Is(err, apierr.TooManyRequests):
		s.metrics.throttles.WithLabelValues(uuid).Inc()
		out.throttled = true
		return out
	case err != nil:
		s.metrics.errors.WithLabelValues(uuid).Inc()
		if apierr.Is(err, apierr.ResourceNotFound) {
			s.setResult(uuid, "PROBLEM: Function not found")
		} else {
			s.setResult(uuid, "PROBLEM: Function call failed")
		}
		out.failed, out.status = true, statusOf(err)
		p.log().Warn("invoking the function failed", "err", err, "records", len(recs))
		return out
	case res.FunctionError != "":
		s.metrics.errors.WithLabelValues(uuid).Inc()
		s.setResult(uuid, "PROBLEM: Function call failed")
		out.failed, out.status = true, 200
		return out
	}
	out.status = 200
	var resp response
	decoded := json.Unmarshal(res.Payload, &resp) == nil
	if windowed && (!decoded || len(resp.State) == 0 || string(resp.State) == "null") {
		// Lambda takes a window invocation without state for a failure.
		s.metrics.errors.WithLabelValues(uuid).Inc()
		s.setResult(uuid, "PROBLEM: Function response has no state (required with TumblingWindowInSeconds)")
		out.failed = true
		return out
	}
	if windowed && len(resp.State) > maxStateBytes {
		// No later invocation could carry it, the window's final one
		// included (retried until it succeeds): the shard would wait
		// forever.
		s.metrics.errors.WithLabelValues(uuid).Inc()
		s.setResult(uuid, "PROBLEM: Function response state too large")
		out.failed = true
		return out
	}
	out.state = resp.State
	out.ok = len(recs)
	if p.set.rbif && decoded && len(resp.BatchItemFailures) > 0 {
		out.ok = firstFailed(recs, resp)
		out.failed = true
	}
	s.setResult(uuid, "OK")
	return out
}

// maxStateBytes is the largest window state a function may answer: what
// a final invocation can carry under the payload limit, with room for the
// event around it. (A state over MaxWindowStateBytes ends the window
// early; one over this fails the invocation.)
const maxStateBytes = MaxPayloadBytes - 4<<10

// firstFailed is the index of the first record a ReportBatchItemFailures
// response names; 0 (the whole batch) when an identifier is empty or not
// in the batch, as Lambda treats them.
func firstFailed(recs []shard.Record, resp response) int {
	pos := make(map[string]int, len(recs))
	for i, r := range recs {
		pos[r.SequenceNumber] = i
	}
	first := len(recs)
	for _, f := range resp.BatchItemFailures {
		if f.ItemIdentifier == nil || *f.ItemIdentifier == "" {
			return 0
		}
		i, ok := pos[*f.ItemIdentifier]
		if !ok {
			return 0
		}
		first = min(first, i)
	}
	return first
}

// statusOf is the HTTP status Lambda's Invoke would answer err with.
func statusOf(err error) int {
	switch apierr.CodeOf(err) {
	case apierr.ResourceNotFound:
		return 404
	case apierr.RequestTooLarge:
		return 413
	case apierr.TooManyRequests:
		return 429
	case apierr.InvalidParameterValue, apierr.InvalidRequestContent:
		return 400
	case apierr.InvalidRuntime, apierr.ResourceNotReady, apierr.InvalidZipFile:
		return 502
	}
	return 500
}

// giveUp reports records given up on to the on-failure destination (the
// shard waits, retrying, until it takes them) and marks them handled.
func (l *lane) giveUp(ctx context.Context, items []item, condition string, attempts int, last outcome) error {
	p := l.p
	s := p.s
	first, lastRec := items[0].rec, items[len(items)-1].rec
	rec := invocationRecord{
		RequestContext: requestContext{RequestID: last.requestID, FunctionArn: p.set.fn, Condition: condition, ApproximateInvokeCount: attempts},
		ResponseContext: responseContext{StatusCode: last.status, ExecutedVersion: last.res.ExecutedVersion,
			FunctionError: last.res.FunctionError},
		Version: "1.0", Timestamp: isoMillis(p.now()),
		BatchInfo: batchInfo{ShardID: p.shardID, StartSequenceNumber: first.SequenceNumber, EndSequenceNumber: lastRec.SequenceNumber,
			ApproximateArrivalOfFirstRecord: isoMillis(first.ArrivalTime), ApproximateArrivalOfLastRecord: isoMillis(lastRec.ArrivalTime),
			BatchSize: len(items), StreamArn: p.es.streamARN},
	}
	if rec.RequestContext.RequestID == "" {
		rec.RequestContext.RequestID = newUUID() // never invoked (too old at once)
	}
	if rec.ResponseContext.ExecutedVersion == "" && last.status == 200 {
		rec.ResponseContext.ExecutedVersion = functions.LatestVersion
	}
	if p.set.onFailure != "" && destination.NeedsPayload(p.set.onFailure) {
		rec.Payload = p.es.event(records(items))
	}
	body, _ := jsonMarshal(rec)
	p.log().Warn("giving up on records", "condition", condition, "attempts", attempts,
		"first", first.SequenceNumber, "last", lastRec.SequenceNumber, "records", len(items), "destination", p.set.onFailure)
	if p.set.onFailure != "" {
		backoff := s.cfg.retryMin
		for {
			const sendTimeout = time.Minute
			sctx, cancel := context.WithTimeout(ctx, sendTimeout)
			l.life.busy(p.now(), sendTimeout)
			err := s.cfg.sink.Send(sctx, p.set.onFailure, body, destination.MappingUUID(p.r.uuid))
			cancel()
			l.life.idle(p.now())
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			p.log().Error("sending the invocation record to the on-failure destination failed; retrying", "err", err)
			if err := l.sleep(ctx, backoff); err != nil {
				return err
			}
			backoff = min(2*backoff, s.cfg.retryMax)
		}
	}
	s.metrics.onFailure.WithLabelValues(p.r.uuid, condition).Inc()
	s.metrics.dropped.WithLabelValues(p.r.uuid, condition).Add(float64(len(items)))
	return l.handled(ctx, items, nil, l.win != nil && p.set.tumbling > 0)
}

// deliverWindowed delivers a batch of one tumbling window, closing the
// open window first when the batch starts a new one.
func (l *lane) deliverWindowed(ctx context.Context, batch []item) error {
	start := windowStart(batch[0].rec, l.p.set.tumbling)
	if l.win != nil && l.win.StartMs != start {
		if err := l.finalInvoke(ctx, false); err != nil {
			return err
		}
	}
	if l.win == nil {
		l.win = &windowState{StartMs: start, State: json.RawMessage("{}")}
	}
	if err := l.deliver(ctx, batch, true); err != nil {
		return err
	}
	if len(l.win.State) > MaxWindowStateBytes {
		return l.finalInvoke(ctx, true)
	}
	return nil
}

// finalInvoke closes the open window: an invocation with no records,
// isFinalInvokeForWindow set and the window's state, retried while the
// shard waits. As Lambda applies the mapping's retry policy to tumbling
// windows, a final invocation whose function failed more than
// MaximumRetryAttempts times is given up (logged; it has no records to
// report) and the window's state with it. early marks a window cut short
// because its state outgrew MaxWindowStateBytes: the window goes on with
// a fresh state.
func (l *lane) finalInvoke(ctx context.Context, early bool) error {
	p := l.p
	backoff := p.s.cfg.retryMin
	attempts := 0
	for {
		payload := p.es.windowEvent(nil, l.win.StartMs, p.set.tumbling, l.win.State, true, early)
		out := l.invoke(ctx, nil, payload, false)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !out.throttled && !out.failed {
			break
		}
		if !out.throttled && out.err == nil { // the function ran and failed
			attempts++
			if p.set.maxRetries >= 0 && attempts > p.set.maxRetries {
				p.log().Warn("giving up on a tumbling window's final invocation; its state is lost",
					"window_start", time.UnixMilli(l.win.StartMs).UTC(), "attempts", attempts, "function_error", out.res.FunctionError)
				break
			}
		}
		if err := l.sleep(ctx, backoff); err != nil {
			return err
		}
		backoff = min(2*backoff, p.s.cfg.retryMax)
	}
	if early {
		l.win.State = json.RawMessage("{}")
		w := *l.win
		return p.progress(ctx, nil, &w, true)
	}
	l.win = nil
	return p.progress(ctx, nil, nil, true)
}
