// Package client is Spate's Go SDK: a Client holds one connection to a
// Spate server, over its gRPC API by default, and is shared by the
// producers (batching, per-record acknowledgements over the Produce stream)
// and consumers (consumer groups whose leases and checkpoints the server
// holds) built from it.
//
// A Client is safe for concurrent use. Close it after the producers and
// consumers built from it are closed.
package client
