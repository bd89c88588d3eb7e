package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestCheckLoopback(t *testing.T) {
	cases := map[string]bool{
		"127.0.0.1:4567": true,
		"127.0.0.2:0":    true,
		"[::1]:4567":     true,
		"localhost:4567": true,
		"0.0.0.0:4567":   false,
		":4567":          false,
		"[::]:4567":      false,
		"10.1.2.3:4567":  false,
		"no-port":        false,
	}
	for addr, want := range cases {
		if err := checkLoopback(context.Background(), addr); (err == nil) != want {
			t.Errorf("checkLoopback(%q) = %v, want loopback %v", addr, err, want)
		}
	}
}

func TestAuthConfigResolve(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials")
	if err := os.WriteFile(creds, []byte("[a]\naws_access_key_id = A\naws_secret_access_key = s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	loop := serveConfig{httpAddr: "127.0.0.1:0", grpcAddr: "127.0.0.1:0"}
	wide := serveConfig{httpAddr: "0.0.0.0:4567", grpcAddr: "127.0.0.1:0"}
	cases := []struct {
		name      string
		cfg       serveConfig
		auth      authConfig
		wantErr   string // "" succeeds
		wantMode  string
		wantGuard bool
	}{
		{"loopback default", loop, authConfig{}, "", authLoopback, false},
		{"wide without credentials", wide, authConfig{}, "--auth none", "", false},
		{"wide metrics", serveConfig{httpAddr: "127.0.0.1:0", grpcAddr: "127.0.0.1:0", metricsAddr: ":9100"}, authConfig{}, "--metrics-addr", "", false},
		{"wide with none", wide, authConfig{mode: "none"}, "", authNone, false},
		{"wide with credentials", wide, authConfig{credentials: creds}, "", authSigV4, true},
		{"sigv4 without credentials", loop, authConfig{mode: "sigv4"}, "needs --credentials", "", false},
		{"none with credentials", loop, authConfig{mode: "none", credentials: creds}, "leave out", "", false},
		{"policies alone", loop, authConfig{policies: creds}, "--policies needs --credentials", "", false},
		{"bad mode", loop, authConfig{mode: "basic"}, "want sigv4 or none", "", false},
		{"missing file", loop, authConfig{credentials: filepath.Join(dir, "nope")}, "--credentials", "", false},
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := c.auth
			err := a.resolve(context.Background(), c.cfg, logger)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want one with %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.mode != c.wantMode || (a.guard != nil) != c.wantGuard {
				t.Errorf("mode %q guard %v", a.mode, a.guard != nil)
			}
			if (a.jsonGuard() != nil) != c.wantGuard || (a.analyticsGuard() != nil) != c.wantGuard {
				t.Errorf("a nil guard must be an untyped nil")
			}
		})
	}
}

func TestClientCredentials(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "credentials")
	if err := os.WriteFile(file, []byte("[default]\naws_access_key_id = D\naws_secret_access_key = d\n[p]\naws_access_key_id = P\naws_secret_access_key = p\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		profile string
		env     map[string]string
		wantKey string // "": unsigned
		wantErr bool
	}{
		{"nothing", "", map[string]string{"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none")}, "", false},
		{"default profile", "", map[string]string{"AWS_SHARED_CREDENTIALS_FILE": file}, "D", false},
		{"env keys beat the file", "", map[string]string{"AWS_SHARED_CREDENTIALS_FILE": file, "AWS_ACCESS_KEY_ID": "E", "AWS_SECRET_ACCESS_KEY": "e"}, "E", false},
		{"AWS_PROFILE", "", map[string]string{"AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "p"}, "P", false},
		{"--profile beats env keys", "p", map[string]string{"AWS_SHARED_CREDENTIALS_FILE": file, "AWS_ACCESS_KEY_ID": "E", "AWS_SECRET_ACCESS_KEY": "e"}, "P", false},
		{"unknown --profile", "q", map[string]string{"AWS_SHARED_CREDENTIALS_FILE": file}, "", true},
		{"unknown AWS_PROFILE", "", map[string]string{"AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "q"}, "", true},
		{"profile without file", "p", map[string]string{"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none")}, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := &cobra.Command{}
			addClientAuthFlags(cmd.Flags())
			if c.profile != "" {
				if err := cmd.Flags().Set("profile", c.profile); err != nil {
					t.Fatal(err)
				}
			}
			p, ok, err := clientCredentials(cmd, func(k string) string { return c.env[k] })
			if (err != nil) != c.wantErr {
				t.Fatalf("err %v", err)
			}
			if got := map[bool]string{true: p.AccessKeyID}[ok]; got != c.wantKey {
				t.Errorf("key %q (ok %v), want %q", got, ok, c.wantKey)
			}
		})
	}
}
