package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/spatehq/spate/internal/testcert"
)

// protoEcho answers with the protocol the request arrived over and the
// number of body bytes read under a 1 KiB http.MaxBytesReader (413 past it),
// as the API handlers cap their bodies.
func protoEcho(w http.ResponseWriter, r *http.Request) {
	n, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, 1<<10))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		return
	}
	fmt.Fprintf(w, "%s %d", r.Proto, n)
}

// serveTest serves protoEcho as `spate serve` serves its HTTP port, with TLS
// when tlsConf is not nil, and returns its address.
func serveTest(t *testing.T, tlsConf *tls.Config) string {
	t.Helper()
	addr, _ := serveTestServer(t, tlsConf)
	return addr
}

// serveTestServer is serveTest that also returns the server.
func serveTestServer(t *testing.T, tlsConf *tls.Config) (string, *http.Server) {
	t.Helper()
	c := defaultListenConfig()
	ln, err := c.listen(t.Context(), "--http-addr", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := c.httpServer(http.HandlerFunc(protoEcho), tlsConf, slog.New(slog.DiscardHandler))
	done := make(chan error, 1)
	go func() { done <- serveHTTP(srv, ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String(), srv
}

func TestHTTPProtocols(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t, dir, "ca")
	certFile, keyFile := ca.Issue(t, dir, "localhost", x509.ExtKeyUsageServerAuth)
	tlsConf, err := tlsFiles{cert: certFile, key: keyFile}.load(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	plain := serveTest(t, nil)
	secure := serveTest(t, tlsConf.http)

	transport := func(tls bool, set func(*http.Protocols)) *http.Transport {
		tr := &http.Transport{Protocols: new(http.Protocols)}
		set(tr.Protocols)
		if tls {
			tr.TLSClientConfig = newClientTLS(ca.Pool())
		}
		return tr
	}
	tests := []struct {
		name      string
		url       string
		transport *http.Transport
		body      string
		wantCode  int
		wantBody  string
	}{
		{name: "HTTP/1.1", url: "http://" + plain,
			transport: transport(false, func(p *http.Protocols) { p.SetHTTP1(true) }),
			body:      "abc", wantCode: 200, wantBody: "HTTP/1.1 3"},
		{name: "h2c with prior knowledge", url: "http://" + plain,
			transport: transport(false, func(p *http.Protocols) { p.SetUnencryptedHTTP2(true) }),
			body:      "abc", wantCode: 200, wantBody: "HTTP/2.0 3"},
		{name: "h2c body over the handler's limit", url: "http://" + plain,
			transport: transport(false, func(p *http.Protocols) { p.SetUnencryptedHTTP2(true) }),
			body:      strings.Repeat("x", 1<<10+1), wantCode: http.StatusRequestEntityTooLarge, wantBody: "too large\n"},
		{name: "TLS h2 by ALPN", url: "https://" + secure,
			transport: transport(true, func(p *http.Protocols) { p.SetHTTP2(true) }),
			body:      "abc", wantCode: 200, wantBody: "HTTP/2.0 3"},
		{name: "TLS HTTP/1.1 by ALPN", url: "https://" + secure,
			transport: transport(true, func(p *http.Protocols) { p.SetHTTP1(true) }),
			body:      "abc", wantCode: 200, wantBody: "HTTP/1.1 3"},
		{name: "TLS h2 body over the handler's limit", url: "https://" + secure,
			transport: transport(true, func(p *http.Protocols) { p.SetHTTP2(true) }),
			body:      strings.Repeat("x", 1<<10+1), wantCode: http.StatusRequestEntityTooLarge, wantBody: "too large\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer tt.transport.CloseIdleConnections()
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost,
				strings.Replace(tt.url, "127.0.0.1", "localhost", 1), strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := tt.transport.RoundTrip(req)
			if err != nil {
				t.Fatalf("round trip: %v", err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantCode || string(got) != tt.wantBody {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, got, tt.wantCode, tt.wantBody)
			}
		})
	}
}

func newClientTLS(pool *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// h2Reply is what a raw HTTP/2 exchange saw: the server's SETTINGS and the
// reply on stream 1.
type h2Reply struct {
	settings map[http2.SettingID]uint32
	status   string
	body     string
}

// readH2Reply sends the client preface and an empty SETTINGS frame on c,
// then reads frames until stream 1 ends. When request is set it is sent
// as stream 1 (prior knowledge); otherwise stream 1 is the upgraded
// request.
func readH2Reply(t *testing.T, c io.ReadWriter, request func(*http2.Framer)) h2Reply {
	t.Helper()
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	if request != nil {
		request(fr)
	}
	got := h2Reply{settings: make(map[http2.SettingID]uint32)}
	dec := hpack.NewDecoder(4096, func(f hpack.HeaderField) {
		if f.Name == ":status" {
			got.status = f.Value
		}
	})
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("read frame: %v (so far %+v)", err, got)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if f.IsAck() {
				continue
			}
			_ = f.ForeachSetting(func(s http2.Setting) error {
				got.settings[s.ID] = s.Val
				return nil
			})
			if err := fr.WriteSettingsAck(); err != nil {
				t.Fatal(err)
			}
		case *http2.HeadersFrame:
			if _, err := dec.Write(f.HeaderBlockFragment()); err != nil {
				t.Fatal(err)
			}
			if f.StreamID == 1 && f.StreamEnded() {
				return got
			}
		case *http2.DataFrame:
			if f.StreamID == 1 {
				got.body += string(f.Data())
				if f.StreamEnded() {
					return got
				}
			}
		case *http2.GoAwayFrame:
			t.Fatalf("GOAWAY %v: %s", f.ErrCode, f.DebugData())
		}
	}
}

// wantLimits checks the HTTP/2 limits a server advertised.
func wantLimits(t *testing.T, settings map[http2.SettingID]uint32) {
	t.Helper()
	if got := settings[http2.SettingMaxConcurrentStreams]; got != http2MaxStreams {
		t.Errorf("SETTINGS_MAX_CONCURRENT_STREAMS = %d, want %d", got, http2MaxStreams)
	}
	// net/http adds its allowance for the per-field overhead to
	// MaxHeaderBytes; the cap must stay in that order of size.
	if got := settings[http2.SettingMaxHeaderListSize]; got < maxHeaderBytes || got > 2*maxHeaderBytes {
		t.Errorf("SETTINGS_MAX_HEADER_LIST_SIZE = %d, want about %d", got, maxHeaderBytes)
	}
}

func TestH2CPriorKnowledgeLimits(t *testing.T) {
	c, err := net.Dial("tcp", serveTest(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := readH2Reply(t, c, func(fr *http2.Framer) {
		var hdr bytes.Buffer
		enc := hpack.NewEncoder(&hdr)
		for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {":authority", "x"}} {
			_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
		}
		if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hdr.Bytes(), EndStream: true, EndHeaders: true}); err != nil {
			t.Fatal(err)
		}
	})
	if got.status != "200" || got.body != "HTTP/2.0 0" {
		t.Fatalf("got %s %q, want 200 %q", got.status, got.body, "HTTP/2.0 0")
	}
	wantLimits(t, got.settings)
}

// upgradeRequest is an HTTP/1.1 request asking to switch to h2c, with a
// body of n bytes.
func upgradeRequest(n int) string {
	settings := base64.RawURLEncoding.EncodeToString(nil)
	return fmt.Sprintf("POST / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: %s\r\nContent-Length: %d\r\n\r\n%s",
		settings, n, strings.Repeat("x", n))
}

func TestH2CUpgrade(t *testing.T) {
	c, err := net.Dial("tcp", serveTest(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, upgradeRequest(3)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Upgrade") != "h2c" {
		t.Fatalf("got %s (Upgrade %q), want 101 Switching Protocols to h2c", resp.Status, resp.Header.Get("Upgrade"))
	}
	got := readH2Reply(t, struct {
		io.Reader
		io.Writer
	}{br, c}, nil)
	if got.status != "200" || got.body != "HTTP/2.0 3" {
		t.Fatalf("stream 1: got %s %q, want 200 %q", got.status, got.body, "HTTP/2.0 3")
	}
	wantLimits(t, got.settings)
}

// A body too large to read before switching is answered over HTTP/1.1.
func TestH2CUpgradeLargeBody(t *testing.T) {
	c, err := net.Dial("tcp", serveTest(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Minute)) // only stops a hung test
	if _, err := io.WriteString(c, upgradeRequest(maxUpgradeBody+1)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	// protoEcho's own limit (1 KiB) answers: over HTTP/1.1, not upgraded.
	if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.ProtoMajor != 1 {
		t.Fatalf("got %s %s %q, want HTTP/1.1 413", resp.Proto, resp.Status, body)
	}
}

// An upgraded connection has left net/http's tracking; shutdown closes it.
func TestH2CUpgradedClosedOnShutdown(t *testing.T) {
	addr, srv := serveTestServer(t, nil)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, upgradeRequest(0)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	readH2Reply(t, struct {
		io.Reader
		io.Writer
	}{br, c}, nil)
	if err := srv.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(time.Minute)) // only stops a hung test
	// Closed: EOF, or a reset when the server closed with bytes of ours
	// unread (the SETTINGS ack). Open: the deadline passes.
	if _, err := io.Copy(io.Discard, br); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the upgraded connection was not closed by shutdown: %v", err)
	}
}
