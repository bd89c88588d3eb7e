package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestMountConsole(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	mux := http.NewServeMux()
	mux.Handle("/", api)
	if err := mountConsole(mux, serveConfig{region: "us-east-1", accountID: "000000000000"}, api); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, path, accept string
		want                       int
		wantLocation               string
	}{
		{"a browser at the root goes to the console", "GET", "/", "text/html,application/xhtml+xml", http.StatusFound, "/console/"},
		{"an API GET at the root stays the API's", "GET", "/", "application/json", http.StatusTeapot, ""},
		{"POST at the root is the API's", "POST", "/", "text/html", http.StatusTeapot, ""},
		{"the console", "GET", "/console/", "", http.StatusOK, ""},
		{"the console without its slash", "GET", "/console", "", http.StatusMovedPermanently, "/console/"},
		{"other paths stay the API's", "GET", "/other", "text/html", http.StatusTeapot, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			req.Header.Set("Accept", tt.accept)
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d", rec.Code, tt.want)
			}
			if loc := rec.Header().Get("Location"); loc != tt.wantLocation {
				t.Errorf("Location = %q, want %q", loc, tt.wantLocation)
			}
		})
	}
}
