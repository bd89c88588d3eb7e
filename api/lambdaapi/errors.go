package lambdaapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/functions"
)

// statusOf is the HTTP status of each error type the face answers: the
// Lambda model's, and AWS's for the authentication errors (403). A code
// not listed is 400, except InternalFailure (500, answered as
// ServiceException).
var statusOf = map[apierr.Code]int{
	apierr.InvalidParameterValue:      http.StatusBadRequest,
	apierr.InvalidRequestContent:      http.StatusBadRequest,
	apierr.CodeStorageExceeded:        http.StatusBadRequest,
	apierr.ResourceInUse:              http.StatusBadRequest,
	apierr.ResourceNotFound:           http.StatusNotFound,
	apierr.ResourceConflict:           http.StatusConflict,
	functions.PreconditionFailed:      http.StatusPreconditionFailed,
	apierr.RequestTooLarge:            http.StatusRequestEntityTooLarge,
	apierr.TooManyRequests:            http.StatusTooManyRequests,
	apierr.Service:                    http.StatusInternalServerError,
	apierr.InvalidZipFile:             http.StatusBadGateway,
	apierr.InvalidRuntime:             http.StatusBadGateway,
	apierr.ResourceNotReady:           http.StatusBadGateway,
	apierr.UnknownOperation:           http.StatusNotFound,
	apierr.MissingAuthenticationToken: http.StatusForbidden,
	apierr.IncompleteSignature:        http.StatusForbidden,
	apierr.InvalidSignature:           http.StatusForbidden,
	apierr.UnrecognizedClient:         http.StatusForbidden,
	apierr.AccessDenied:               http.StatusForbidden,
	apierr.ServiceUnavailable:         http.StatusServiceUnavailable,
}

// lowerMessage are the error shapes whose message member is "message";
// the others' is "Message" (the model's spelling; the SDKs read either).
var lowerMessage = map[apierr.Code]bool{apierr.TooManyRequests: true}

// writeError answers err as Lambda does: the status, the type in
// X-Amzn-ErrorType, and {"Type":"User"|"Service","Message":...}. An
// error that is not an *apierr.Error is the server's fault: it is logged
// by the caller and answered ServiceException without its text.
func writeError(w http.ResponseWriter, err error) apierr.Code {
	code := apierr.CodeOf(err)
	msg := apierr.MessageOf(err)
	if code == apierr.InternalFailure {
		code = apierr.Service
	}
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusBadRequest
	}
	typ := "User"
	if status >= 500 {
		typ = "Service"
	}
	body := map[string]string{"Type": typ}
	if lowerMessage[code] {
		body["message"] = msg
	} else {
		body["Message"] = msg
	}
	// A throttle says which limit was hit, as Lambda's Reason
	// (functions/runtime's ThrottleError).
	var r interface{ ThrottleReason() string }
	if code == apierr.TooManyRequests && errors.As(err, &r) {
		body["Reason"] = r.ThrottleReason()
	}
	raw, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-ErrorType", string(code))
	h.Set("Content-Length", strconv.Itoa(len(raw)))
	if code == apierr.TooManyRequests {
		h.Set("Retry-After", "1")
	}
	w.WriteHeader(status)
	_, _ = w.Write(raw)
	return code
}
