package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"
)

// defaultGRPCAddr is where client commands dial and where serve listens.
const defaultGRPCAddr = "127.0.0.1:4568"

// defaultGCPercent is the garbage collector's target (GOGC) when the
// environment sets none. Records pass through the Go heap in large,
// short-lived buffers (a GetRecords reply, a PutRecords request), while the
// live heap stays small because Pebble keeps its memtables and block cache
// outside it; at Go's default of 100 the collector ran so often that its
// assists and marking took a fifth of a catch-up read's CPU. At 400 the heap
// may grow to five times what is live: in `spate bench --quick` (server and
// clients in one process) peak RSS went from 225 to 354 MB, and ingest and
// catch-up rose by a fifth and a third. GOGC and GOMEMLIMIT in the
// environment take precedence.
const defaultGCPercent = 400

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
	// The first SIGINT or SIGTERM cancels the context: serve shuts down
	// gracefully, clients stop. After that the handler is removed, so a
	// second signal terminates the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "spate:", err)
		os.Exit(1)
	}
}

// newRootCmd builds the command tree.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "spate",
		Short: "Spate: self-hosted Kinesis Data Streams, Firehose and Analytics",
		Long: `Spate is a self-hosted Amazon Kinesis. 'spate serve' stores streams in an
embedded Pebble database and serves, on its HTTP address (--http-addr,
default http://127.0.0.1:4567):

  Kinesis Data Streams  the AWS JSON and CBOR API: the AWS CLI and SDKs work
                        unchanged with --endpoint-url
  Firehose              delivery streams to S3-compatible stores and
                        Elasticsearch
  Analytics             continuous SQL over streams (the HTTP API under /v1/)
  Lambda                functions written for AWS Lambda, run as local
                        processes, and event source mappings on streams
  Web console           http://127.0.0.1:4567/console/ in a browser
  Metrics               Prometheus metrics at /metrics (or on --metrics-addr)

and, on --grpc-addr (default 127.0.0.1:4568), the gRPC API spate.v1: streams,
push-based Subscribe, the Produce stream, consumer groups, Firehose and
Analytics.

The other commands are clients of that gRPC API: start a server with
'spate serve', then try 'spate stream create', 'spate put', 'spate tail',
'spate demo stock-ticker' and 'spate sql run'. The README walks through it.`,
		SilenceUsage:  true, // a failed command prints its error, not its usage
		SilenceErrors: true, // main prints the error once
	}
	root.PersistentFlags().String("grpc-addr", defaultGRPCAddr,
		"gRPC address: where serve listens and where client commands dial")
	addClientAuthFlags(root.PersistentFlags())
	addClientTLSFlags(root.PersistentFlags())
	root.AddCommand(newBenchCmd())
	root.AddCommand(newServeCmd(), newStreamCmd(), newPutCmd(), newTailCmd(), newFirehoseCmd(),
		newSQLCmd(), newAppCmd(), newDemoCmd(), newVersionCmd())
	root.AddCommand(newStatsCmd())
	root.AddCommand(newGroupCmd()) // group.go
	root.AddCommand(newAccountCmd())
	root.AddCommand(newKMSCmd()) // kms.go
	root.AddCommand(newConsumeCmd())
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of this binary",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			version, goVersion := "(unknown)", "(unknown)"
			if info, ok := debug.ReadBuildInfo(); ok {
				version, goVersion = info.Main.Version, info.GoVersion
				for _, s := range info.Settings {
					if s.Key == "vcs.revision" {
						version += " " + s.Value
					}
				}
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "spate %s (%s)\n", version, goVersion)
			return err
		},
	}
}
