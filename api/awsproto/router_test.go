package awsproto

import (
	"net/http"
	"testing"

	"github.com/spatehq/spate/api/awsproto/awsprototest"
)

func TestRouter(t *testing.T) {
	alpha := testService(t, "Alpha_1", nil)
	alpha.ShortName = "Alpha"
	beta := testService(t, "Beta_2", nil)
	beta.ShortName = "Beta"
	rt, err := NewRouter([]*Handler{newTestHandler(t, alpha), newTestHandler(t, beta)})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, method, target string
		wantStatus           int
		wantType, wantMsg    string
	}{
		{"to alpha", http.MethodPost, "Alpha_1.Ping", 200, "", ""},
		{"to beta", http.MethodPost, "Beta_2.Ping", 200, "", ""},
		{"beta's errors are beta's", http.MethodPost, "Beta_2.Unserved", 400, "UnknownOperationException", "Unserved is a Test Service action that is not supported by Spate yet"},
		{"a route answers a GET itself", http.MethodGet, "Alpha_1.Ping", 405, "UnknownOperationException", "the Alpha API accepts only POST / (got GET /)"},
		{"GET without target", http.MethodGet, "", 405, "UnknownOperationException", "the Alpha and Beta APIs accept only POST / (got GET /)"},
		{"no target", http.MethodPost, "", 400, "UnknownOperationException", "missing X-Amz-Target header: expected Alpha_1.<Action> or Beta_2.<Action>"},
		{"unknown service", http.MethodPost, "Gamma_3.Ping", 400, "UnknownOperationException", `unknown operation "Gamma_3.Ping": expected X-Amz-Target Alpha_1.<Action> or Beta_2.<Action>`},
		{"no action: the route answers", http.MethodPost, "Alpha_1", 400, "UnknownOperationException", `unknown operation "Alpha_1": expected X-Amz-Target Alpha_1.<Action>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, rt, tt.method, tt.target, "{}")
			if r.Status != tt.wantStatus || r.ErrType() != tt.wantType || r.Message() != tt.wantMsg {
				t.Errorf("got %d %s\nwant %d %s %q", r.Status, r.Raw, tt.wantStatus, tt.wantType, tt.wantMsg)
			}
		})
	}
}

// The router's own errors are in the request's encoding too.
func TestRouterCBOR(t *testing.T) {
	alpha := testService(t, "Alpha_1", nil)
	rt, err := NewRouter([]*Handler{newTestHandler(t, alpha)})
	if err != nil {
		t.Fatal(err)
	}
	c := awsprototest.NewServer(t, rt, "Gamma_3")
	r := c.CallCBOR("Ping", map[string]any{}) // Do checks the reply is CBOR
	if r.Status != 400 || r.ErrType() != "UnknownOperationException" {
		t.Fatalf("got %d %v", r.Status, r.Body)
	}
	c.TargetPrefix = "Alpha_1"
	if r := c.CallCBOR("Ping", map[string]any{}); r.Status != 200 || r.Body["OK"] != true {
		t.Fatalf("routed: got %d %v", r.Status, r.Body)
	}
}
