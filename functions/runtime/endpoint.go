package runtime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/functions"
)

// callEndpoint runs an HTTP-endpoint function: the event is POSTed to
// fn.Endpoint and a 2xx body is the response. Anything else (another
// status, no answer, an answer over the payload limit, the timeout) is a
// function error, as a handler's would be.
func (m *Manager) callEndpoint(fn functions.Config, c *call) (functions.Result, error) {
	m.logStart(fn, c)
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fn.Endpoint, bytes.NewReader(c.payload))
	if err != nil {
		return functions.Result{}, apierr.New(apierr.InvalidRuntime, "function %s: endpoint %q: %v", fn.Name, fn.Endpoint, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(hdrRequestID, c.id)
	req.Header.Set(hdrFunctionARN, c.functionARN)
	req.Header.Set(hdrDeadline, fmt.Sprint(began.Add(c.timeout).UnixMilli()))
	req.Header.Set(hdrTraceID, c.traceID)
	if c.clientContext != "" {
		req.Header.Set(hdrClientContext, c.clientContext)
	}

	res, doc := m.post(req, c)
	timedOut := ""
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && doc != nil {
		now := time.Now()
		d := timedOutDoc(now, c.id, now.Sub(began))
		doc, timedOut = &d, d.ErrorMessage
	}
	m.logEnd(c, fn.Name, fn.MemorySize, 0, began, 0, timedOut)
	if doc != nil {
		m.cfg.logger.Warn("function endpoint failed", "function", fn.Name, "request_id", c.id, "error", doc.ErrorMessage)
		return unhandled(*doc), nil
	}
	return res, nil
}

// post sends req and reads a 2xx answer, or returns the error document of
// the failure.
func (m *Manager) post(req *http.Request, c *call) (functions.Result, *errorDoc) {
	resp, err := m.client.Do(req)
	if err != nil {
		return functions.Result{}, &errorDoc{ErrorType: errEndpointUnreachable,
			ErrorMessage: fmt.Sprintf("RequestId: %s Error: %v", c.id, err)}
	}
	defer resp.Body.Close()
	body, tooLarge, err := readBody(resp.Body)
	switch {
	case err != nil:
		return functions.Result{}, &errorDoc{ErrorType: errEndpointUnreachable,
			ErrorMessage: fmt.Sprintf("RequestId: %s Error: reading the answer: %v", c.id, err)}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		const maxQuote = 1 << 10
		if len(body) > maxQuote {
			body = body[:maxQuote]
		}
		return functions.Result{}, &errorDoc{ErrorType: errEndpointStatus,
			ErrorMessage: fmt.Sprintf("RequestId: %s Error: the endpoint answered %s: %s", c.id, resp.Status, bytes.TrimSpace(body))}
	case tooLarge:
		return functions.Result{}, &errorDoc{ErrorType: errResponseTooLarge,
			ErrorMessage: fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", maxPayload)}
	}
	return functions.Result{Payload: body}, nil
}
