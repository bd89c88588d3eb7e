// Command producer is an example of Spate's Go SDK producer: it creates a
// stream if missing, puts records with a per-record acknowledgement, and
// prints where each key's last record was stored.
//
//	spate serve &
//	go run ./examples/producer --grpc-addr 127.0.0.1:4568 --stream example --records 1000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"sort"
	"time"

	"github.com/spatehq/spate/api/grpcapi"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/client"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

func main() {
	addr := flag.String("grpc-addr", client.DefaultAddress, "address of the server's gRPC API")
	stream := flag.String("stream", "example", "stream to put to (created with 2 shards if missing)")
	records := flag.Int("records", 1000, "records to put")
	keys := flag.Int("keys", 10, "partition keys to spread them over")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *addr, *stream, *records, *keys); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, addr, stream string, records, keys int) error {
	c, err := client.New(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := ensureStream(ctx, c, stream); err != nil {
		return err
	}

	// Defaults: the gRPC Produce stream, batches of up to 500 records or
	// 5 MiB per shard, 5 ms linger, retries for 2 minutes.
	p, err := client.NewProducer(c, stream)
	if err != nil {
		return err
	}
	results := make([]*client.PutResult, records)
	for i := range results {
		key := fmt.Sprintf("key-%d", i%keys)
		// Put returns at once with a future; the records are batched.
		results[i] = p.Put(ctx, key, fmt.Appendf(nil, "record %d", i))
	}
	// Close sends what is buffered and waits for every answer.
	if err := p.Close(ctx); err != nil {
		return err
	}
	last := map[string]string{}
	for _, r := range results {
		shardID, seq, err := r.Wait(ctx)
		if err != nil {
			return fmt.Errorf("record %q: %w", r.Record().Data, err)
		}
		last[r.Record().PartitionKey] = shardID + " " + seq
	}
	fmt.Printf("put %d records to %s\n", records, stream)
	names := make([]string, 0, len(last))
	for k := range last {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Printf("%s: last stored at %s\n", k, last[k])
	}
	return nil
}

// ensureStream creates stream with 2 shards unless it exists, and waits
// until it is ACTIVE.
func ensureStream(ctx context.Context, c *client.Client, stream string) error {
	_, err := c.Streams.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: stream, ShardCount: 2})
	if err != nil && !apierr.Is(grpcapi.FromStatus(err), apierr.ResourceInUse) {
		return fmt.Errorf("create stream %s: %w", stream, err)
	}
	for {
		d, err := c.Streams.DescribeStreamSummary(ctx, &spatev1.DescribeStreamSummaryRequest{StreamName: stream})
		if err != nil {
			return fmt.Errorf("describe stream %s: %w", stream, err)
		}
		if d.GetStreamDescriptionSummary().GetStreamStatus() == spatev1.StreamStatus_STREAM_STATUS_ACTIVE {
			return nil
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("stream %s not active", stream), ctx.Err())
		}
	}
}
