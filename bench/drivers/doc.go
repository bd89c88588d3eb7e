// Package drivers holds the targets package bench measures, one
// bench.Driver each:
//
//   - self-grpc: an in-process Spate (shard.Store in a temporary directory,
//     the gRPC API on 127.0.0.1:0), driven through proto/spate/v1;
//   - self-http: the same server's Kinesis JSON API, driven by
//     aws-sdk-go-v2;
//   - pebble-raw: Pebble alone, writing Spate's key layout and record
//     encoding in synced batches: the ceiling;
//   - kfake: franz-go's in-process Kafka fake with DataDir and SyncWrites,
//     driven by kgo; a reference fake, not Kafka;
//   - nats: a nats-server with JetStream file storage (durable: sync_interval
//     always; relaxed: its default), driven by nats.go;
//   - kinesalite: kinesalite on disk, started through a few lines of Node
//     bound to 127.0.0.1, driven by the same SDK code as self-http.
//
// Every target listens on loopback only and keeps its data in a temporary
// directory that Close removes. Peers that scripts/bench-peers.sh installs
// are looked for in the project's .tools directory; a missing one reports
// bench.ErrNotInstalled from Available.
package drivers
