package lambdaapi

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/spatehq/spate/apierr"
)

// reasoned is a throttle with a Reason, as functions/runtime returns one.
type reasoned struct{ err *apierr.Error }

func (r reasoned) Error() string          { return r.err.Error() }
func (r reasoned) Unwrap() error          { return r.err }
func (r reasoned) ThrottleReason() string { return "ReservedFunctionConcurrentInvocationLimitExceeded" }

// A throttle's body carries Lambda's Reason (aws-sdk-go-v2 decodes it into
// TooManyRequestsException.Reason); a throttle without one has none.
func TestThrottleReasonInBody(t *testing.T) {
	for _, tc := range []struct {
		err    error
		reason string
	}{
		{reasoned{apierr.New(apierr.TooManyRequests, "Rate Exceeded.")}, "ReservedFunctionConcurrentInvocationLimitExceeded"},
		{apierr.New(apierr.TooManyRequests, "queue full"), ""},
	} {
		rec := httptest.NewRecorder()
		writeError(rec, tc.err)
		var body map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != 429 || body["Reason"] != tc.reason || body["Type"] != "User" {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}
