// Command spate-bench measures Spate beside raw Pebble, kfake, NATS
// JetStream and kinesalite (see docs/benchmarks.md). It is its own binary so
// that what only the benchmark needs (franz-go's kfake, the NATS client, the
// peers' drivers) stays out of the server's import graph; `spate bench`
// runs it when it sits beside the spate binary or on PATH, and `make bench`
// builds both.
package main
