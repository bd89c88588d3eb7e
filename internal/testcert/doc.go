// Package testcert makes throwaway certificate authorities and certificates
// for tests of TLS: a CA that signs server and client certificates for
// 127.0.0.1 and localhost, written as PEM files the way a user would pass
// them to `spate serve --tls-cert` or `--tls-client-ca`.
//
// It is for tests only: keys are P-256, certificates live a day, and every
// failure ends the test.
package testcert
