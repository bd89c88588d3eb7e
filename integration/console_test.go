package integration

import "testing"

// TestConsoleShell: the console the binary serves loads in chromium with
// no request outside the server, and every area is reachable from the
// navigation, by mouse and by keyboard.
func TestConsoleShell(t *testing.T) {
	b := findConsoleBrowser(t)
	s := startServer(t)
	b.run(t, s, "shell.spec.js")
}

// TestConsoleSignIn: with --credentials the console signs in with a
// profile's keys, refuses a wrong secret with the server's error, and never
// puts the secret in a URL.
func TestConsoleSignIn(t *testing.T) {
	b := findConsoleBrowser(t)
	s := startAuthServer(t)
	b.run(t, s.server, "signin.spec.js", "SPEC_KEY_ID=AKIDADMIN", "SPEC_SECRET=admin-secret")
}
