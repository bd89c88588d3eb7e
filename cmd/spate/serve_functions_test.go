package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFunctionProfile picks the keys function instances get under
// --credentials: --function-profile, else [default], else none.
func TestFunctionProfile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	withDefault := write("with", "[default]\naws_access_key_id = AKIDDEF\naws_secret_access_key = s1\n"+
		"[fn]\naws_access_key_id = AKIDFN\naws_secret_access_key = s2\n")
	noDefault := write("without", "[admin]\naws_access_key_id = AKIDADMIN\naws_secret_access_key = s3\n")
	tests := []struct {
		name, file, profile string
		wantKey, wantErr    string
	}{
		{name: "no credentials"},
		{name: "default profile", file: withDefault, wantKey: "AKIDDEF"},
		{name: "named profile", file: withDefault, profile: "fn", wantKey: "AKIDFN"},
		{name: "no default: no keys", file: noDefault},
		{name: "named, missing", file: noDefault, profile: "fn", wantErr: "no profile [fn]"},
		{name: "profile without credentials", profile: "fn", wantErr: "needs --credentials"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var cfg serveConfig
			cfg.auth.credentials, cfg.functions.profile = tc.file, tc.profile
			p, ok, err := functionProfile(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v; want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || ok != (tc.wantKey != "") || p.AccessKeyID != tc.wantKey {
				t.Fatalf("got %q ok %v err %v; want key %q", p.AccessKeyID, ok, err, tc.wantKey)
			}
		})
	}
}
