// Command consumer is a consumer-group worker built on Spate's Go SDK: it
// reads a stream as one worker of a group and writes each record, upper-
// cased, to an output stream, exactly once.
//
// Start as many as you like with the same -group; they share the input
// stream's shards, take over those of a worker that dies, and read a
// resharded shard's parents before its children. Each batch's output and
// its checkpoint commit in one atomic batch on the server
// (client.WithExactlyOnce), so a worker killed half-way never leaves a
// record in the output twice. Without -output it prints the records
// instead (at-least-once: a batch printed just before a crash is printed
// again by the worker that takes the shard over).
//
//	spate serve &
//	spate stream create orders --shards 4
//	spate stream create orders-upper --shards 2
//	go run ./examples/consumer --stream orders --group upper --output orders-upper
//
// SIGINT or SIGTERM stops it gracefully: the batch in hand is finished and
// checkpointed and the worker leaves the group, handing its shards back.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spatehq/spate/client"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

func main() {
	addr := flag.String("grpc-addr", client.DefaultAddress, "the Spate server's gRPC address")
	stream := flag.String("stream", "", "the stream to read (required)")
	group := flag.String("group", "", "the consumer group (required)")
	output := flag.String("output", "", "write each record upper-cased to this stream, exactly once; print them when empty")
	leaseTimeout := flag.Duration("lease-timeout", 0, "a new group's lease timeout (default: the server's)")
	workerID := flag.String("worker-id", "", "this worker's id (default: host:pid:random)")
	flag.Parse()
	if *stream == "" || *group == "" {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *stream, *group, *output, *workerID, *leaseTimeout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, addr, stream, group, output, workerID string, leaseTimeout time.Duration) error {
	c, err := client.New(addr)
	if err != nil {
		return err
	}
	defer c.Close()

	var mu sync.Mutex // one batch's lines at a time
	handler := func(ctx context.Context, b client.Batch) error {
		if output == "" {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range b.Records {
				fmt.Printf("%s %s %s %s\n", b.ShardID, r.GetSequenceNumber(), r.GetPartitionKey(), r.GetData())
			}
			return nil
		}
		for _, r := range b.Records {
			b.Output(&spatev1.PutRecordsRequestEntry{PartitionKey: r.GetPartitionKey(), Data: bytes.ToUpper(r.GetData())})
		}
		return nil
	}
	opts := []client.ConsumerOption{
		client.WithLeaseTimeout(leaseTimeout),
		client.WithConsumerHooks(client.ConsumerHooks{
			OnLeaseAcquired: func(shardID string, stolen bool) { log.Printf("took %s (stolen: %v)", shardID, stolen) },
			OnLeaseLost:     func(shardID string) { log.Printf("lost %s", shardID) },
			OnShardEnd:      func(shardID string) { log.Printf("finished %s", shardID) },
			OnError:         func(op string, err error) { log.Printf("%s: %v (retrying)", op, err) },
		}),
	}
	if workerID != "" {
		opts = append(opts, client.WithWorkerID(workerID))
	}
	if output != "" {
		opts = append(opts, client.WithExactlyOnce(output))
	}
	consumer := client.NewConsumer(c, stream, group, handler, opts...)
	log.Printf("worker %s joins group %s of %s", consumer.WorkerID(), group, stream)
	return consumer.Run(ctx)
}
