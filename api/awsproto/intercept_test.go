package awsproto

import (
	"context"
	"net/http"
	"testing"

	"github.com/spatehq/spate/apierr"
)

type interceptKey struct{}

// TestIntercept: the intercept sees the API and action of a valid request
// only, its error answers the request without running the action, and its
// context is the one the action runs with.
func TestIntercept(t *testing.T) {
	var seen []string
	ran := 0
	svc := testService(t, "", nil)
	svc.Operations[1] = Action("Ping", func(ctx context.Context, _ *pingInput) (ok, error) {
		ran++
		return ok{ctx.Value(interceptKey{}) == "marked"}, nil
	})
	h := newTestHandler(t, svc, WithIntercept(func(ctx context.Context, api, action string) (context.Context, error) {
		seen = append(seen, api+"."+action)
		if action == "Put" {
			return ctx, apierr.New(apierr.LimitExceeded, "Rate exceeded for Put.")
		}
		return context.WithValue(ctx, interceptKey{}, "marked"), nil
	}))
	tests := []struct {
		target, body string
		status       int
		raw          string
	}{
		{"Test_20200101.Ping", `{}`, 200, `{"OK":true}`},
		{"Test_20200101.Put", `{"Name":"abc","Data":"AAEC"}`, 400, `{"__type":"LimitExceededException","message":"Rate exceeded for Put."}`},
		// Invalid: refused before the intercept.
		{"Test_20200101.Put", `{"Data":"AAEC"}`, 400, ""},
	}
	for _, tt := range tests {
		r := send(t, h, http.MethodPost, tt.target, tt.body)
		if r.Status != tt.status || (tt.raw != "" && r.Raw != tt.raw) {
			t.Errorf("%s %s = %d %s, want %d %s", tt.target, tt.body, r.Status, r.Raw, tt.status, tt.raw)
		}
	}
	if want := []string{"Test.Ping", "Test.Put"}; len(seen) != 2 || seen[0] != want[0] || seen[1] != want[1] {
		t.Errorf("intercepted %v, want %v", seen, want)
	}
	if ran != 1 {
		t.Errorf("Ping ran %d times, want 1", ran)
	}
}
