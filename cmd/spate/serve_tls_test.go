package main

import (
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/spatehq/spate/internal/testcert"
)

// writeSelfSigned writes a self-signed certificate named cn and its key to
// dir, returning the two file names.
func writeSelfSigned(t *testing.T, dir, cn string) (certFile, keyFile string) {
	t.Helper()
	ca := testcert.NewCA(t, dir, cn)
	return ca.CertFile, ca.KeyFile
}

func TestTLSFilesLoad(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeSelfSigned(t, dir, "server")
	ca, _ := writeSelfSigned(t, dir, "ca")
	tests := []struct {
		name     string
		files    tlsFiles
		wantErr  string
		wantOn   bool
		wantMTLS bool
	}{
		{name: "off"},
		{name: "tls", files: tlsFiles{cert: cert, key: key}, wantOn: true},
		{name: "mutual tls", files: tlsFiles{cert: cert, key: key, clientCA: ca}, wantOn: true, wantMTLS: true},
		{name: "cert without key", files: tlsFiles{cert: cert}, wantErr: "--tls-key"},
		{name: "client CA alone", files: tlsFiles{clientCA: ca}, wantErr: "--tls-client-ca"},
		{name: "key of another cert", files: tlsFiles{cert: cert, key: filepath.Join(dir, "ca-key.pem")}, wantErr: "--tls-cert"},
		{name: "client CA not PEM", files: tlsFiles{cert: cert, key: key, clientCA: key}, wantErr: "--tls-client-ca"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.files.load(slog.New(slog.DiscardHandler))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("load error %v, want one about %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if on := got.http != nil && got.grpc != nil; on != tt.wantOn {
				t.Fatalf("TLS on = %v, want %v", on, tt.wantOn)
			}
			if !tt.wantOn {
				return
			}
			if got.http.MinVersion != tls.VersionTLS12 {
				t.Errorf("MinVersion %x, want TLS 1.2", got.http.MinVersion)
			}
			if mtls := got.grpc.ClientAuth == tls.RequireAndVerifyClientCert; mtls != tt.wantMTLS {
				t.Errorf("gRPC requires client certificates = %v, want %v", mtls, tt.wantMTLS)
			}
			if got.http.ClientAuth != tls.NoClientCert {
				t.Errorf("HTTP ClientAuth %v, want none", got.http.ClientAuth)
			}
		})
	}
}

// TestCertReload: a certificate rewritten on disk is served by the next
// handshake; a broken rewrite keeps the previous one.
func TestCertReload(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeSelfSigned(t, dir, "server")
	r, err := newCertReloader(cert, key, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	subject := func() string {
		t.Helper()
		r.mu.Lock()
		r.lastCheck = time.Time{} // look at the files on this call
		r.mu.Unlock()
		c, err := r.get(nil)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := x509.ParseCertificate(c.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return parsed.Subject.CommonName
	}
	if got := subject(); got != "server" {
		t.Fatalf("serving %q, want server", got)
	}
	// Renewed: a new pair under the same names, with a later mtime.
	newCert, newKey := writeSelfSigned(t, dir, "renewed")
	later := time.Now().Add(time.Minute)
	for from, to := range map[string]string{newCert: cert, newKey: key} {
		if err := os.Rename(from, to); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(to, later, later); err != nil {
			t.Fatal(err)
		}
	}
	if got := subject(); got != "renewed" {
		t.Fatalf("serving %q after the rewrite, want renewed", got)
	}
	// Half written: the key no longer matches; the renewed pair stays.
	if err := os.WriteFile(key, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(key, later.Add(time.Minute), later.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := subject(); got != "renewed" {
		t.Fatalf("serving %q after a broken rewrite, want renewed", got)
	}
}

func TestClientTransportCredentials(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeSelfSigned(t, dir, "client")
	tests := []struct {
		name    string
		args    []string
		wantTLS bool
		wantErr string
	}{
		{name: "plain text"},
		{name: "system roots", args: []string{"--tls"}, wantTLS: true},
		{name: "own CA", args: []string{"--tls-ca", cert}, wantTLS: true},
		{name: "client certificate", args: []string{"--tls-client-cert", cert, "--tls-client-key", key}, wantTLS: true},
		{name: "cert without key", args: []string{"--tls-client-cert", cert}, wantErr: "--tls-client-key"},
		{name: "missing CA file", args: []string{"--tls-ca", filepath.Join(dir, "nope.pem")}, wantErr: "--tls-ca"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := &cobra.Command{}
			addClientTLSFlags(cmd.Flags())
			if err := cmd.Flags().Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			creds, err := clientTransportCredentials(cmd)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one about %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := creds.Info().SecurityProtocol == "tls"; got != tt.wantTLS {
				t.Errorf("TLS = %v (%s), want %v", got, creds.Info().SecurityProtocol, tt.wantTLS)
			}
		})
	}
}
