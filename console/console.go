package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
)

//go:embed dist
var dist embed.FS

// Prefix is where the console is mounted.
const Prefix = "/console/"

// Settings are what config.json tells the page.
type Settings struct {
	Region    string `json:"region"`
	AccountID string `json:"accountId"`
	// Auth is "sigv4" when every request must be signed, "none" or
	// "loopback" when unsigned requests are served.
	Auth    string `json:"auth"`
	Version string `json:"version,omitempty"`
}

// asset is one embedded file, ready to serve, and its gzip form when that
// is smaller (the bundle is text: about a third of its size gzipped).
type asset struct {
	body        []byte
	contentType string
	etag        string

	// The gzip form is made on the first request, not in New: compressing
	// the bundle costs 60 ms (570 ms race-built) at every server start,
	// which most starts (tests, CLI users) never need.
	gzipOnce sync.Once
	gzipBody []byte // nil: serve body to everyone
}

// gzipped returns a's gzip form, or nil when it is not worth sending.
func (a *asset) gzipped() []byte {
	a.gzipOnce.Do(func() { a.gzipBody = compressed(a.body) })
	return a.gzipBody
}

// Handler serves the console under Prefix. Build it with New.
type Handler struct {
	assets map[string]*asset // by path below dist/ ("index.html")
	config []byte
}

// securityHeaders: the page loads scripts, styles and data from its own
// origin only (uPlot draws on canvas; CodeMirror injects style elements,
// hence 'unsafe-inline' for styles only), and may not be framed.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
		"img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy":        "no-referrer",
}

// New builds the handler from the embedded bundle and settings.
func New(s Settings) (*Handler, error) {
	cfg, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("console settings: %w", err)
	}
	h := &Handler{assets: map[string]*asset{}, config: cfg}
	root, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, fmt.Errorf("console bundle: %w", err)
	}
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		h.assets[p] = &asset{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("console bundle: %w", err)
	}
	if _, ok := h.assets["index.html"]; !ok {
		return nil, fmt.Errorf("console bundle: no index.html in dist (run scripts/console-build.sh)")
	}
	return h, nil
}

// ServeHTTP answers GET and HEAD for the bundle's files and config.json;
// /console redirects to /console/ so that the page's relative URLs work.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path == strings.TrimSuffix(Prefix, "/") {
		http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	for k, v := range securityHeaders {
		w.Header().Set(k, v)
	}
	if name == "config.json" {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(h.config)
		return
	}
	if name == "" {
		name = "index.html"
	}
	a, ok := h.assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.contentType)
	// no-cache: revalidate every time, so a new binary's bundle is picked
	// up at once; the ETag makes that a 304 when nothing changed.
	w.Header().Set("Cache-Control", "no-cache")
	body, etag := a.body, a.etag
	if gz := a.gzipped(); gz != nil {
		w.Header().Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			// A representation of its own: its own ETag.
			body, etag = gz, strings.TrimSuffix(a.etag, `"`)+`-gzip"`
			w.Header().Set("Content-Encoding", "gzip")
		}
	}
	w.Header().Set("ETag", etag)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}

// compressed is body compressed with gzip at the best level, or nil when
// that saves under a tenth (or fails, which writing to memory does not).
func compressed(body []byte) []byte {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil
	}
	if _, err := zw.Write(body); err != nil {
		return nil
	}
	if err := zw.Close(); err != nil {
		return nil
	}
	if buf.Len() > len(body)*9/10 {
		return nil
	}
	return buf.Bytes()
}

// acceptsGzip reads an Accept-Encoding header: gzip listed with a
// non-zero q, or else * with a non-zero q (an explicit coding outranks *
// wherever each is listed, RFC 9110 12.5.3).
func acceptsGzip(header string) bool {
	star := false
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		switch strings.ToLower(strings.TrimSpace(coding)) {
		case "gzip":
			return qValue(params) > 0
		case "*":
			star = qValue(params) > 0
		}
	}
	return star
}

// qValue is the weight among a coding's parameters ("q=0.5"), 1 when it
// gives none, 0 when it is unreadable.
func qValue(params string) float64 {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0
			}
			return q
		}
	}
	return 1
}
