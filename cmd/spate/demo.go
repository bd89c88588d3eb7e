package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/spatehq/spate/analytics/demo"
	"github.com/spatehq/spate/api/grpcapi"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/internal/ctxsleep"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// defaultDemoStream is the stream `spate demo stock-ticker` feeds: a name
// that needs no quoting in SQL.
const defaultDemoStream = "stock_ticker"

func newDemoCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Feed demo data into a stream",
	}
	cmd.AddCommand(newDemoStockTickerCmd())
	return cmd
}

func newDemoStockTickerCmd() *cobra.Command {
	var (
		stream string
		rate   int
		shards int
		seed   uint64
	)
	cmd := &cobra.Command{
		Use:   "stock-ticker",
		Short: "Feed a stream with generated stock trades until interrupted",
		Long: `Create --stream (with --shards shards) unless it exists, and put --rate
generated trades per second into it until interrupted (Ctrl-C), like the
Kinesis Data Analytics demo stream. Each record is a JSON object:

  {"ticker_symbol":"AAPL","sector":"TECHNOLOGY","price":190.62,"change":0.12,
   "event_time":"2026-11-22T03:00:00.123Z"}

for about thirty tickers whose prices follow a random walk; the partition key
is the ticker symbol. --seed makes the sequence of tickers and prices
repeatable (event_time is always the time a trade is generated).`,
		Example: `  spate demo stock-ticker
  spate demo stock-ticker --stream trades --rate 1000 --shards 4`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if rate < 1 {
				return fmt.Errorf("--rate %d: must be at least 1", rate)
			}
			if !cmd.Flags().Changed("seed") {
				seed = uint64(time.Now().UnixNano())
			}
			c, err := dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			return feedDemo(cmd.Context(), c, stream, shards, rate, seed, cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&stream, "stream", defaultDemoStream, "stream to feed (created if missing)")
	cmd.Flags().IntVar(&rate, "rate", 10, "trades per second")
	cmd.Flags().IntVar(&shards, "shards", 1, "shard count when the stream is created")
	cmd.Flags().Uint64Var(&seed, "seed", 0, "random seed of the trades (default: the current time)")
	return cmd
}

// feedDemo creates the stream if needed and feeds it until ctx ends.
func feedDemo(ctx context.Context, c *apiConn, stream string, shards, rate int, seed uint64, errOut io.Writer) error {
	if err := ensureStream(ctx, c, stream, shards); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	fmt.Fprintf(errOut, "putting %d stock trades per second into %s; Ctrl-C to stop\n", rate, stream)
	var sent int64
	req := &spatev1.PutRecordsRequest{StreamName: stream}
	err := demo.Feed(ctx, demo.NewGenerator(seed), rate, func(ctx context.Context, batch []demo.Record) error {
		req.Records = req.Records[:0]
		for _, r := range batch {
			req.Records = append(req.Records, &spatev1.PutRecordsRequestEntry{Data: r.Data, PartitionKey: r.PartitionKey})
		}
		resp, err := c.api.PutRecords(ctx, req)
		if err != nil {
			return c.fail("put records into "+stream, err)
		}
		if n := resp.GetFailedRecordCount(); n > 0 {
			for _, r := range resp.GetRecords() {
				if r.GetErrorCode() != "" {
					return fmt.Errorf("put records into %s: %d of %d failed, e.g. %s: %s", stream, n, len(batch), r.GetErrorCode(), r.GetErrorMessage())
				}
			}
		}
		sent += int64(len(batch))
		return nil
	})
	fmt.Fprintf(errOut, "put %d trades into %s\n", sent, stream)
	return err
}

// ensureStream creates a provisioned stream of shards shards unless one of
// that name exists, and waits until it is ACTIVE.
func ensureStream(ctx context.Context, c *apiConn, stream string, shards int) error {
	_, err := c.api.CreateStream(ctx, &spatev1.CreateStreamRequest{
		StreamName: stream, ShardCount: int32(shards), StreamMode: spatev1.StreamMode_STREAM_MODE_PROVISIONED,
	})
	if err != nil && !apierr.Is(grpcapi.FromStatus(err), apierr.ResourceInUse) {
		return c.fail("create stream "+stream, err)
	}
	for {
		resp, err := c.api.DescribeStreamSummary(ctx, &spatev1.DescribeStreamSummaryRequest{StreamName: stream})
		if err != nil {
			return c.fail("describe stream "+stream, err)
		}
		switch resp.GetStreamDescriptionSummary().GetStreamStatus() {
		case spatev1.StreamStatus_STREAM_STATUS_ACTIVE, spatev1.StreamStatus_STREAM_STATUS_UPDATING:
			return nil
		case spatev1.StreamStatus_STREAM_STATUS_DELETING:
			return fmt.Errorf("stream %s is being deleted; try again when it is gone", stream)
		}
		if err := ctxsleep.Sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}
