package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/spatehq/spate/client"
)

func newConsumeCmd() *cobra.Command {
	var group, execCmd, from, format, workerID string
	var leaseTimeout time.Duration
	var getRecords, raw bool
	cmd := &cobra.Command{
		Use:   "consume STREAM --group GROUP",
		Short: "Read a stream as a worker of a consumer group",
		Long: `Read the records of STREAM as one worker of the consumer group GROUP, until
interrupted (Ctrl-C), as kcat's -G does for Kafka.

The server holds the group's shard leases and checkpoints. Start as many
workers of a group as you like, on any hosts: they share the shards out
(each takes about shards/workers), take over the shards of a worker that
stops or dies (after the group's lease timeout), and read a resharded
shard's parents before its children. Each record is processed at least once:
a batch is checkpointed only once it is printed or --exec succeeded, so a
worker that dies may leave a batch that the next one processes again.

Without --exec, every record is printed as one line: a JSON object with the
shard, sequence number, partition key, arrival time and data (base64), as
'spate tail --format json' prints it (--format text prints the data only).

With --exec, each batch of records is piped to CMD (run by sh -c) as those
JSON lines on its standard input; the batch is checkpointed when CMD exits 0
and passed to CMD again after a backoff otherwise. CMD's output goes to
this command's, a batch's at a time. CMD sees the batch's shard in
SPATE_SHARD_ID.

--from is where a new group starts reading (trim-horizon, the default;
latest; or an RFC 3339 time); --lease-timeout is a new group's lease
timeout (default: the server's). Both are fixed when the group's first
worker joins. Interrupting stops gracefully: the batch in hand is finished
and checkpointed, and the worker leaves the group, handing its shards back at
once.`,
		Example: `  spate consume orders --group audit
  spate consume orders --group billing --exec 'jq -c .data >> billing.log'
  spate consume orders --group replay --from 2026-01-02T15:04:05Z --format text`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if group == "" {
				return fmt.Errorf("--group is required")
			}
			pos, err := parseFrom(from)
			if err != nil {
				return err
			}
			if format != "text" && format != "json" {
				return fmt.Errorf("--format %q: want text or json", format)
			}
			c, err := dialClient(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			opts := []client.ConsumerOption{
				client.WithInitialPosition(pos.GetType(), pos.GetTimestamp().AsTime()),
				client.WithLeaseTimeout(leaseTimeout),
				client.WithConsumerHooks(client.ConsumerHooks{
					OnError: func(op string, err error) {
						fmt.Fprintf(cmd.ErrOrStderr(), "spate consume: %s: %v (retrying)\n", op, err)
					},
					OnHandlerError: func(shardID string, attempt int, err error) {
						fmt.Fprintf(cmd.ErrOrStderr(), "spate consume: %v (attempt %d; retrying)\n", err, attempt)
					},
				}),
			}
			if workerID != "" {
				opts = append(opts, client.WithWorkerID(workerID))
			}
			if getRecords {
				opts = append(opts, client.WithGetRecords(0))
			}
			p := &batchPrinter{format: format, raw: raw, exec: execCmd, out: cmd.OutOrStdout(), errOut: cmd.ErrOrStderr()}
			con := client.NewConsumer(c, args[0], group, p.handle, opts...)
			if err := con.Run(cmd.Context()); err != nil {
				return rpcError("consume "+args[0], c.Target(), err)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&group, "group", "G", "", "the consumer group's `NAME` (required)")
	cmd.Flags().StringVar(&execCmd, "exec", "", "pipe each batch to this shell `CMD`; checkpoint when it exits 0")
	cmd.Flags().StringVar(&from, "from", "trim-horizon", "where a new group starts: trim-horizon, latest or an RFC 3339 time")
	cmd.Flags().StringVar(&format, "format", "json", "output format without --exec: json or text")
	cmd.Flags().BoolVar(&raw, "raw", false, "print KPL aggregates as stored, not as their user records")
	cmd.Flags().DurationVar(&leaseTimeout, "lease-timeout", 0, "a new group's lease timeout (default: the server's)")
	cmd.Flags().StringVar(&workerID, "worker-id", "", "this worker's id in the group (default: host:pid:random)")
	cmd.Flags().BoolVar(&getRecords, "get-records", false, "read with GetRecords polling instead of Subscribe")
	return cmd
}

// dialClient makes an SDK client for --grpc-addr with the same credentials
// and TLS settings as dial.
func dialClient(cmd *cobra.Command) (*client.Client, error) {
	addr, conn, err := connOptions(cmd)
	if err != nil {
		return nil, err
	}
	return client.New(addr, client.WithDialOptions(conn...))
}

// batchPrinter is consume's handler: it prints a batch's records, or pipes
// them to the --exec command.
type batchPrinter struct {
	format, exec string
	raw          bool

	mu     sync.Mutex // one batch's lines at a time, so shards never mix
	out    io.Writer
	errOut io.Writer
}

func (p *batchPrinter) handle(ctx context.Context, b client.Batch) error {
	format := p.format
	if p.exec != "" {
		format = "json"
	}
	var buf bytes.Buffer
	for _, r := range b.Records {
		if err := formatRecords(&buf, format, b.ShardID, r, p.raw); err != nil {
			return err
		}
	}
	if len(b.Records) == 0 {
		return nil // the end of a closed shard: nothing to print or pipe
	}
	if p.exec == "" {
		p.mu.Lock()
		defer p.mu.Unlock()
		_, err := p.out.Write(buf.Bytes())
		return err
	}
	return p.run(ctx, b, &buf)
}

// run pipes one batch to the --exec command; an error unless it exits 0.
func (p *batchPrinter) run(ctx context.Context, b client.Batch, in io.Reader) error {
	c := exec.CommandContext(ctx, "sh", "-c", p.exec)
	c.Stdin = in
	c.Env = append(os.Environ(), "SPATE_SHARD_ID="+b.ShardID)
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	err := c.Run()
	p.mu.Lock()
	_, _ = p.out.Write(out.Bytes())
	_, _ = p.errOut.Write(errOut.Bytes())
	p.mu.Unlock()
	if err != nil {
		return fmt.Errorf("--exec of %d records of %s: %w", len(b.Records), b.ShardID, err)
	}
	return nil
}
