// Package console serves Spate's web console: the single-page app built
// from web/ (scripts/console-build.sh bundles it with esbuild into dist/,
// which is committed and embedded here, so building the binary needs no
// npm) under /console/, and /console/config.json, the few non-secret
// settings the page needs before its first API call (region, account,
// whether requests must be signed).
//
// The page talks only to Spate's public APIs on the same origin: the
// Kinesis, Firehose and Lambda APIs, Analytics' /v1/ API and its metrics
// snapshot. It never holds a secret in a URL: the keys a user signs in
// with stay in the tab's sessionStorage and sign each request with SigV4.
//
// Every reply carries a Content-Security-Policy that allows nothing but
// this origin, so the page makes no external request even if a bug tried.
package console
