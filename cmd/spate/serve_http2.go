package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
)

// HTTP/2 on the HTTP listeners (issue 12). One port speaks HTTP/1.1,
// HTTP/2 with prior knowledge (h2c: what @aws-sdk/client-kinesis v3 does
// against an http:// endpoint), HTTP/2 by "Upgrade: h2c" (curl --http2),
// and, with TLS, HTTP/2 and HTTP/1.1 chosen by ALPN.
//
// net/http serves all of it but the upgrade: it answers an upgrade request
// over HTTP/1.1, which RFC 9110 allows but which leaves such clients on
// HTTP/1.1. h2cUpgrader performs the upgrade and serves the connection with
// golang.org/x/net/http2 (the package net/http bundles), configured from
// the same http.Server, so both paths share these limits.
//
// HTTP/2 must not widen what one connection can hold: the listener's cap
// counts connections, and each carries at most http2MaxStreams requests
// at once, each held to the handlers' body limits (http.MaxBytesReader
// reads an HTTP/2 body as it reads an HTTP/1.1 one) and to the server's
// ReadTimeout and WriteTimeout, which net/http applies per stream.
const (
	// http2MaxStreams is SETTINGS_MAX_CONCURRENT_STREAMS: the requests one
	// connection may have open at once. net/http's default is 250; AWS's
	// endpoints advertise 100 or fewer, so no SDK relies on more.
	http2MaxStreams = 100
	// maxHeaderBytes bounds a request's header block, over HTTP/1.1 and
	// as HTTP/2's SETTINGS_MAX_HEADER_LIST_SIZE (net/http's default is
	// 1 MiB). A signed AWS request carries about 1 KiB of headers; the
	// bound leaves room for the hostile ones the API answers in its own
	// words (a 100 KB Authorization gets IncompleteSignatureException,
	// not a bare 431). HTTP/2 receives one header block at a time per
	// connection, so this is also what a connection's headers can hold
	// in flight before a request is dispatched.
	maxHeaderBytes = 256 << 10
	// http2PingAfter is how long an HTTP/2 connection may be silent before
	// the server pings it, and http2PingTimeout how long it waits for the
	// answer before closing it: a peer that vanished without a FIN is
	// noticed while one of its streams (an Analytics results stream) looks
	// open.
	http2PingAfter   = time.Minute
	http2PingTimeout = 20 * time.Second
	// http2WriteByteTimeout closes an HTTP/2 connection to which nothing
	// can be written for this long (a peer that stopped reading).
	http2WriteByteTimeout = 30 * time.Second
	// maxUpgradeBody is the largest request body with which a client may
	// ask for an h2c upgrade: the body must be read whole before the
	// switch. A larger one is answered over HTTP/1.1, as RFC 9110 lets a
	// server do with any upgrade it does not take.
	maxUpgradeBody = 64 << 10
)

// httpProtocols are the protocols of an HTTP listener: HTTP/1.1 always,
// then HTTP/2 over TLS (ALPN "h2") or in plain text (h2c).
func httpProtocols(tls bool) *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	if tls {
		p.SetHTTP2(true)
	} else {
		p.SetUnencryptedHTTP2(true)
	}
	return p
}

// http2Config returns the HTTP/2 limits of an HTTP listener.
func http2Config() *http.HTTP2Config {
	return &http.HTTP2Config{
		MaxConcurrentStreams: http2MaxStreams,
		SendPingTimeout:      http2PingAfter,
		PingTimeout:          http2PingTimeout,
		WriteByteTimeout:     http2WriteByteTimeout,
	}
}

// h2cUpgrader serves HTTP/1.1 requests that ask to switch to h2c (RFC 7540
// section 3.2) over HTTP/2 and passes every other request to next.
//
// An upgraded connection leaves net/http (it is hijacked), so Shutdown
// does not wait for it: shutdown closes those connections (registered
// with RegisterOnShutdown), cutting their open requests, which clients
// retry like any reset connection. Only curl-like clients upgrade; the
// SDKs use prior knowledge, which net/http serves itself.
type h2cUpgrader struct {
	next   http.Handler
	srv    *http.Server // the configuration of upgraded connections
	h2     *http2.Server
	logger *slog.Logger

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// newH2CUpgrader wraps next, served by srv, and registers the closing of
// upgraded connections with srv's shutdown.
func newH2CUpgrader(srv *http.Server, next http.Handler, logger *slog.Logger) *h2cUpgrader {
	u := &h2cUpgrader{
		next:   next,
		srv:    srv,
		logger: logger,
		// Its limits come from srv (srv.HTTP2, MaxHeaderBytes, the
		// timeouts) through ServeConnOpts.BaseConfig.
		h2:    &http2.Server{},
		conns: make(map[net.Conn]struct{}),
	}
	srv.RegisterOnShutdown(u.closeAll)
	return u
}

func (u *h2cUpgrader) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	settings, ok := h2cUpgradeSettings(r)
	if !ok {
		u.next.ServeHTTP(w, r)
		return
	}
	// The body is read before the switch, so its size is known first.
	if r.ContentLength > maxUpgradeBody || (r.ContentLength < 0 && r.Body != http.NoBody) {
		u.next.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxUpgradeBody+1))
	if err != nil || len(body) > maxUpgradeBody {
		// A body that does not arrive, or that lied about its length:
		// nothing can be answered over HTTP/2, so answer over HTTP/1.1.
		w.Header().Set("Connection", "close")
		http.Error(w, "could not read the request body", http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	// The request is answered on stream 1 of the HTTP/2 connection, so
	// the handler sees it as an HTTP/2 request (as net/http's own HTTP/2
	// server presents its requests).
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		u.logger.Warn("h2c upgrade: hijack failed", "err", err)
		u.next.ServeHTTP(w, r)
		return
	}
	if !u.track(conn) {
		_ = conn.Close() // shutting down
		return
	}
	defer u.untrack(conn)
	// The switch is written with the HTTP/1.1 write deadline the server
	// set; after it, the HTTP/2 server owns the connection's deadlines.
	if _, err := rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"); err != nil {
		return
	}
	if err := rw.Flush(); err != nil {
		return
	}
	_ = conn.SetDeadline(time.Time{})
	u.h2.ServeConn(&bufferedConn{Conn: conn, r: rw.Reader}, &http2.ServeConnOpts{
		Context:        r.Context(),
		BaseConfig:     u.srv,
		Handler:        u.next,
		UpgradeRequest: r,
		Settings:       settings,
	})
}

// h2cUpgradeSettings reports whether r asks to switch to h2c, and the
// decoded HTTP2-Settings it carries.
func h2cUpgradeSettings(r *http.Request) ([]byte, bool) {
	if r.ProtoMajor != 1 || r.TLS != nil {
		return nil, false
	}
	if !httpguts.HeaderValuesContainsToken(r.Header["Upgrade"], "h2c") ||
		!httpguts.HeaderValuesContainsToken(r.Header["Connection"], "Upgrade") ||
		!httpguts.HeaderValuesContainsToken(r.Header["Connection"], "HTTP2-Settings") {
		return nil, false
	}
	vals := r.Header["Http2-Settings"]
	if len(vals) != 1 {
		return nil, false
	}
	settings, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(vals[0], "="))
	if err != nil {
		return nil, false
	}
	return settings, true
}

func (u *h2cUpgrader) track(c net.Conn) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return false
	}
	u.conns[c] = struct{}{}
	return true
}

func (u *h2cUpgrader) untrack(c net.Conn) {
	u.mu.Lock()
	delete(u.conns, c)
	u.mu.Unlock()
	_ = c.Close()
}

// closeAll closes the upgraded connections and refuses new upgrades.
func (u *h2cUpgrader) closeAll() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.closed = true
	for c := range u.conns {
		_ = c.Close()
	}
}

// bufferedConn is a hijacked connection whose first bytes (the client's
// HTTP/2 preface, sent right after the upgrade request) may already sit in
// the HTTP/1.1 server's read buffer.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
