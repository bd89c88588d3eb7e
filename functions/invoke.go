package functions

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/spatehq/spate/apierr"
)

// maxClientContext is the largest X-Amz-Client-Context Lambda takes.
const maxClientContext = 3583

// FunctionARN resolves a function reference to its unqualified ARN.
func (s *Service) FunctionARN(ctx context.Context, function string) (string, error) {
	rec, err := s.get(function)
	if err != nil {
		return "", err
	}
	return s.ARN(rec.Name), nil
}

// Invoke calls the function synchronously with payload (the Invoker of
// event source mappings and Firehose transformations).
func (s *Service) Invoke(ctx context.Context, function string, payload []byte) (Result, error) {
	out, err := s.InvokeAs(ctx, InvokeInput{FunctionName: function, Payload: payload})
	return out.Result, err
}

// InvokeAs is the Lambda API's Invoke: RequestResponse runs the function
// and waits (200); Event queues it and returns at once (202), running it
// later with up to two retries after a failure; DryRun only checks the
// request (204).
func (s *Service) InvokeAs(ctx context.Context, in InvokeInput) (InvokeOutput, error) {
	rec, unpin, err := s.pinned(in.FunctionName)
	if err != nil {
		return InvokeOutput{}, err
	}
	defer unpin()
	if in.Qualifier != "" && in.Qualifier != LatestVersion {
		return InvokeOutput{}, apierr.New(apierr.ResourceNotFound,
			"Function not found: %s:%s (Spate keeps only $LATEST)", s.ARN(rec.Name), clip(in.Qualifier))
	}
	limit := MaxSyncPayload
	if in.InvocationType == InvocationEvent {
		limit = MaxAsyncPayload
	}
	if len(in.Payload) > limit {
		return InvokeOutput{}, apierr.New(apierr.RequestTooLarge,
			"Request must be smaller than %d bytes for the Invoke operation", limit)
	}
	if len(in.Payload) > 0 && !json.Valid(in.Payload) {
		return InvokeOutput{}, apierr.New(apierr.InvalidRequestContent, "Could not parse request body into json: the payload must be a JSON document")
	}
	if err := checkClientContext(in.ClientContext); err != nil {
		return InvokeOutput{}, err
	}
	if in.LogType != "" && in.LogType != "None" && in.LogType != "Tail" {
		return InvokeOutput{}, apierr.New(apierr.InvalidParameterValue, "LogType %q: must be None or Tail", clip(in.LogType))
	}
	inv := Invocation{RequestID: uuid.NewString(), Payload: in.Payload, ClientContext: in.ClientContext,
		LogTail: in.LogType == "Tail"}
	switch in.InvocationType {
	case "", InvocationRequestResponse:
		res, err := s.execute(ctx, rec, inv)
		if err != nil {
			return InvokeOutput{}, err
		}
		if res.ExecutedVersion == "" {
			res.ExecutedVersion = LatestVersion
		}
		if len(res.Payload) > MaxSyncPayload {
			return InvokeOutput{}, apierr.New(apierr.RequestTooLarge,
				"Response payload size (%d bytes) exceeded maximum allowed payload size (%d bytes).", len(res.Payload), MaxSyncPayload)
		}
		return InvokeOutput{StatusCode: http.StatusOK, Result: res}, nil
	case InvocationEvent:
		inv.LogTail = false
		inv.Payload = append([]byte(nil), in.Payload...) // outlives the request
		if err := s.async.enqueue(rec.Name, inv); err != nil {
			if apierr.Is(err, apierr.TooManyRequests) {
				s.count(rec.Name, func(m *metrics) { m.throttled(rec.Name) })
			}
			return InvokeOutput{}, err
		}
		return InvokeOutput{StatusCode: http.StatusAccepted, Result: Result{ExecutedVersion: LatestVersion}}, nil
	case InvocationDryRun:
		return InvokeOutput{StatusCode: http.StatusNoContent, Result: Result{ExecutedVersion: LatestVersion}}, nil
	}
	return InvokeOutput{}, apierr.New(apierr.InvalidParameterValue,
		"InvocationType %q: must be RequestResponse, Event or DryRun", clip(in.InvocationType))
}

// checkClientContext checks X-Amz-Client-Context: base64 of a JSON object,
// at most 3583 bytes.
func checkClientContext(cc string) error {
	if cc == "" {
		return nil
	}
	if len(cc) > maxClientContext {
		return apierr.New(apierr.InvalidParameterValue, "Client context must be at most %d bytes (base64); it is %d", maxClientContext, len(cc))
	}
	raw, err := base64.StdEncoding.DecodeString(cc)
	var obj map[string]any
	if err != nil || json.Unmarshal(raw, &obj) != nil {
		return apierr.New(apierr.InvalidRequestContent, "Client context must be a valid Base64-encoded JSON object.")
	}
	return nil
}

// execConfig is the Config an invocation of rec runs with.
func (s *Service) execConfig(rec *record) Config {
	c := Config{
		Name: rec.Name, ARN: s.ARN(rec.Name), Version: LatestVersion, Runtime: rec.Runtime,
		Handler: rec.Handler, Timeout: time.Duration(rec.Timeout) * time.Second, MemorySize: rec.MemorySize,
		Environment: maps.Clone(rec.Environment), CodeSha256: rec.CodeSha256, RevisionID: rec.RevisionID,
		MaxConcurrency: s.cfg.unreserved,
	}
	if rec.CodeDir != "" {
		c.CodeDir = filepath.Join(s.cfg.codeRoot, filepath.FromSlash(rec.CodeDir))
	}
	if rec.Reserved != nil {
		c.MaxConcurrency = *rec.Reserved
	}
	if rec.Runtime == RuntimeHTTP {
		c.Endpoint = rec.Environment[EndpointVariable]
	}
	return c
}
