package awsproto

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/spatehq/spate/api/awsproto/awsprototest"
	"github.com/spatehq/spate/apierr"
)

// fakeGuard authenticates a request whose body does not contain
// "unsigned", and refuses actions on resources that contain "denied".
type fakeGuard struct {
	mu        sync.Mutex
	service   string
	action    string
	resources []string
}

type fakeIdentity struct{}

func (g *fakeGuard) AuthenticateHTTP(ctx context.Context, r *http.Request, body []byte, service string) (context.Context, error) {
	g.mu.Lock()
	g.service = service
	g.mu.Unlock()
	if strings.Contains(string(body), "unsigned") {
		return ctx, apierr.New(apierr.MissingAuthenticationToken, "Missing Authentication Token")
	}
	if strings.Contains(string(body), "forged") {
		return ctx, apierr.New(apierr.InvalidSignature, "bad")
	}
	return context.WithValue(ctx, fakeIdentity{}, "alice"), nil
}

func (g *fakeGuard) Authorize(ctx context.Context, action string, resources ...string) error {
	g.mu.Lock()
	g.action, g.resources = action, resources
	g.mu.Unlock()
	if ctx.Value(fakeIdentity{}) != "alice" {
		return apierr.New(apierr.AccessDenied, "no identity in the context")
	}
	for _, r := range resources {
		if strings.Contains(r, "denied") {
			return apierr.New(apierr.AccessDenied, "denied %s", r)
		}
	}
	return nil
}

func (g *fakeGuard) ARN(service, resource string) string {
	return "arn:aws:" + service + ":r:1:" + resource
}

func TestHandlerGuard(t *testing.T) {
	g := &fakeGuard{}
	svc := testService(t, "", nil)
	svc.SigningName = "test"
	svc.ResourceMembers = map[string]string{"Name": "thing/"}
	h := newTestHandler(t, svc, WithGuard(g))
	tests := []struct {
		name, target, body string
		wantStatus         int
		wantType           string
		wantAction         string
		wantResources      string
	}{
		{"allowed", "Test_20200101.Put", `{"Name":"abc","Data":"AAEC"}`, 200, "", "test:Put", "arn:aws:test:r:1:thing/abc"},
		{"no resource", "Test_20200101.Ping", `{}`, 200, "", "test:Ping", ""},
		{"denied", "Test_20200101.Put", `{"Name":"denied","Data":"AAEC"}`, 400, "AccessDeniedException", "test:Put", "arn:aws:test:r:1:thing/denied"},
		{"unsigned: 403", "Test_20200101.Ping", `{"x":"unsigned"}`, 403, "MissingAuthenticationTokenException", "", ""},
		{"forged: before decoding", "Test_20200101.Put", `{"forged":`, 400, "InvalidSignatureException", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g.action, g.resources = "", nil
			r := send(t, h, http.MethodPost, tt.target, tt.body)
			if r.Status != tt.wantStatus || r.ErrType() != tt.wantType {
				t.Fatalf("got %d %s, want %d %s", r.Status, r.Raw, tt.wantStatus, tt.wantType)
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.service != "test" || g.action != tt.wantAction || strings.Join(g.resources, ",") != tt.wantResources {
				t.Errorf("guard saw %s %s %v", g.service, g.action, g.resources)
			}
		})
	}
	svc.SigningName = ""
	if _, err := NewHandler(svc, WithGuard(g)); err == nil {
		t.Error("NewHandler accepted a guard without a SigningName")
	}
}

// A CBOR request is authenticated on its bytes and authorized on the
// members it decodes to, as a JSON one is, and refused in CBOR.
func TestHandlerGuardCBOR(t *testing.T) {
	g := &fakeGuard{}
	svc := testService(t, "", nil)
	svc.SigningName = "test"
	svc.ResourceMembers = map[string]string{"Name": "thing/"}
	c := awsprototest.NewServer(t, newTestHandler(t, svc, WithGuard(g)), "Test_20200101")
	tests := []struct {
		name          string
		action        string
		body          map[string]any
		wantStatus    int
		wantType      string
		wantResources string
	}{
		{"allowed", "Put", map[string]any{"Name": "abc", "Data": []byte{0, 1}}, 200, "", "arn:aws:test:r:1:thing/abc"},
		{"denied", "Put", map[string]any{"Name": "denied", "Data": []byte{0, 1}}, 400, "AccessDeniedException", "arn:aws:test:r:1:thing/denied"},
		{"unsigned", "Ping", map[string]any{"x": "unsigned"}, 403, "MissingAuthenticationTokenException", ""},
		{"forged", "Put", map[string]any{"x": "forged"}, 400, "InvalidSignatureException", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g.resources = nil
			r := c.CallCBOR(tt.action, tt.body) // checks the reply is CBOR
			if r.Status != tt.wantStatus || r.ErrType() != tt.wantType {
				t.Fatalf("got %d %v, want %d %s", r.Status, r.Body, tt.wantStatus, tt.wantType)
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			if strings.Join(g.resources, ",") != tt.wantResources {
				t.Errorf("guard saw resources %v, want %s", g.resources, tt.wantResources)
			}
		})
	}
}
