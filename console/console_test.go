package console

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	h, err := New(Settings{Region: "eu-west-1", AccountID: "123456789012", Auth: "sigv4"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, path string
		header             http.Header
		wantStatus         int
		wantType           string
		wantBody           string
		wantLocation       string
	}{
		{name: "index", method: "GET", path: "/console/", wantStatus: 200, wantType: "text/html", wantBody: `<div id="app">`},
		{name: "index by name", method: "GET", path: "/console/index.html", wantStatus: 200, wantType: "text/html"},
		{name: "bundle", method: "GET", path: "/console/app.js", wantStatus: 200, wantType: "text/javascript"},
		{name: "styles", method: "GET", path: "/console/app.css", wantStatus: 200, wantType: "text/css"},
		{name: "head", method: "HEAD", path: "/console/app.js", wantStatus: 200},
		{name: "config", method: "GET", path: "/console/config.json", wantStatus: 200, wantType: "application/json", wantBody: `"auth":"sigv4"`},
		{name: "no slash redirects", method: "GET", path: "/console", wantStatus: 301, wantLocation: "/console/"},
		{name: "missing", method: "GET", path: "/console/nope.js", wantStatus: 404},
		{name: "outside the bundle", method: "GET", path: "/console/../go.mod", wantStatus: 404},
		{name: "post refused", method: "POST", path: "/console/", wantStatus: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "http://spate.test/", nil)
			req.URL.Path = tt.path
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", rec.Code, tt.wantStatus, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, tt.wantType) {
				t.Errorf("Content-Type = %q, want %q", ct, tt.wantType)
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("body does not contain %q", tt.wantBody)
			}
			if loc := rec.Header().Get("Location"); loc != tt.wantLocation {
				t.Errorf("Location = %q, want %q", loc, tt.wantLocation)
			}
			if tt.wantStatus == 200 && !strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'self'") {
				t.Errorf("no same-origin Content-Security-Policy: %q", rec.Header().Get("Content-Security-Policy"))
			}
		})
	}
}

func TestHandlerRevalidates(t *testing.T) {
	h, err := New(Settings{})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/console/app.js", nil))
	etag := rec.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	req := httptest.NewRequest("GET", "/console/app.js", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Fatalf("status with the same ETag = %d, want 304", rec.Code)
	}
}

func TestConfigJSON(t *testing.T) {
	want := Settings{Region: "us-east-1", AccountID: "000000000000", Auth: "loopback"}
	h, err := New(want)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/console/config.json", nil))
	var got Settings
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("config.json = %+v, want %+v", got, want)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
}

func TestHandlerGzip(t *testing.T) {
	h, err := New(Settings{})
	if err != nil {
		t.Fatal(err)
	}
	get := func(acceptEncoding string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/console/app.js", nil)
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	plain := get("")
	if plain.Header().Get("Content-Encoding") != "" || plain.Header().Get("Vary") != "Accept-Encoding" {
		t.Fatalf("without Accept-Encoding: Content-Encoding %q, Vary %q; want none and Accept-Encoding",
			plain.Header().Get("Content-Encoding"), plain.Header().Get("Vary"))
	}
	tests := []struct {
		acceptEncoding string
		wantGzip       bool
	}{
		{"gzip, deflate, br, zstd", true},
		{"br;q=1.0, gzip;q=0.5", true},
		{"*", true},
		{"gzip;q=0", false},
		{"deflate, br", false},
		// An explicit gzip outranks *, wherever each is listed.
		{"*;q=0, gzip", true},
		{"gzip;q=0, *", false},
		{"*;q=0", false},
		{"gzip; Q=0.000", false},
	}
	for _, tt := range tests {
		rec := get(tt.acceptEncoding)
		gz := rec.Header().Get("Content-Encoding") == "gzip"
		if gz != tt.wantGzip {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", tt.acceptEncoding, gz, tt.wantGzip)
			continue
		}
		if !gz {
			continue
		}
		if rec.Header().Get("ETag") == plain.Header().Get("ETag") {
			t.Errorf("the gzip form has the plain form's ETag %s", rec.Header().Get("ETag"))
		}
		zr, err := gzip.NewReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(body, plain.Body.Bytes()) {
			t.Errorf("Accept-Encoding %q: the gzip body does not decompress to the bundle", tt.acceptEncoding)
		}
		if rec.Body.Len() >= plain.Body.Len() {
			t.Errorf("the gzip body is %d bytes, the plain one %d", rec.Body.Len(), plain.Body.Len())
		}
	}
}
