// Command spate is Spate's one binary: `spate serve` runs the server (the
// Kinesis Data Streams JSON API over HTTP and the gRPC API on one store), the
// other subcommands (stream, put, tail) are clients of its gRPC API.
//
// It only parses flags and wires packages together; everything it does can
// be done from Go with the packages it imports (shard.Open,
// kinesisapi.NewHandler, grpcapi.Register).
//
// Invariant: serve exits 0 only after both servers have drained and the store
// has been closed, so a clean stop never loses an acknowledged record, in any
// durability mode.
package main
