// Package integration tests the real spate binary end to end: TestMain
// builds ./cmd/spate once (with -race when the tests run with -race; or set
// SPATE_BIN to test a given binary), and each test starts its own server on a
// fresh data directory and kernel-chosen loopback ports (harness_test.go),
// then drives it with aws-sdk-go-v2, the AWS CLI or the spate CLI.
//
// The crash and restart tests kill and restart the server on its data
// directory; the AWS CLI smoke test needs `aws` on PATH and fails without it
// unless SPATE_SKIP_AWS_CLI is set; the Prometheus test needs
// scripts/prometheus-tools.sh's .tools/prometheus and fails without it unless
// SPATE_SKIP_PROMETHEUS is set. `go test -short` skips the package.
//
// Invariant: no server outlives its test; the server's log is printed when a
// test fails, and a server that exits non-zero on SIGTERM (a race report, a
// failed close) fails the test.
package integration
