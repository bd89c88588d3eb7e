// Package ctxsleep waits a while unless a context ends first: the backoff
// step of the retry loops in firehose and functions/esm.
package ctxsleep
