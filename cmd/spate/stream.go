package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

func newStreamCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stream",
		Short: "Create, describe, list and delete streams",
		Long: `Manage the streams of a Spate server over its gRPC API (--grpc-addr).

The same operations are available with the AWS CLI through the Kinesis API,
e.g. 'aws kinesis create-stream --endpoint-url http://127.0.0.1:4567 ...'.`,
	}
	cmd.AddCommand(newStreamCreateCmd(), newStreamDescribeCmd(), newStreamListCmd(), newStreamDeleteCmd(), newStreamSchemaCmd(),
		newStreamMonitoringCmd(), newStreamEncryptCmd())
	cmd.AddCommand(streamSettingsCmds()...)
	cmd.AddCommand(streamReshardCmds()...)
	return cmd
}

func newStreamCreateCmd() *cobra.Command {
	var (
		shards int
		mode   string
		tags   map[string]string
	)
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a stream",
		Long: `Create a stream named NAME (1 to 128 characters from a-z, A-Z, 0-9, '_', '.', '-').

A provisioned stream gets --shards shards (1 if not given). An on-demand
stream gets the server's default of 4 shards unless --shards says otherwise.
Spate has no throughput limits; the mode only decides the default shard count.`,
		Example: `  spate stream create orders --shards 4
  spate stream create clicks --mode on-demand --tag team=web`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &spatev1.CreateStreamRequest{StreamName: args[0], Tags: tags}
			switch strings.ToLower(strings.ReplaceAll(mode, "_", "-")) {
			case "provisioned":
				req.StreamMode = spatev1.StreamMode_STREAM_MODE_PROVISIONED
				req.ShardCount = 1
			case "on-demand":
				req.StreamMode = spatev1.StreamMode_STREAM_MODE_ON_DEMAND
			default:
				return fmt.Errorf("--mode %q: want provisioned or on-demand", mode)
			}
			if cmd.Flags().Changed("shards") {
				req.ShardCount = int32(shards)
			}
			c, err := dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			if _, err := c.api.CreateStream(cmd.Context(), req); err != nil {
				return c.fail("create stream "+args[0], err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "created stream %s\n", args[0])
			return err
		},
	}
	cmd.Flags().IntVar(&shards, "shards", 0, "number of shards (default: 1 for provisioned, 4 for on-demand)")
	cmd.Flags().StringVar(&mode, "mode", "provisioned", "capacity mode: provisioned or on-demand")
	cmd.Flags().StringToStringVar(&tags, "tag", nil, "tag the stream with key=value (repeatable)")
	return cmd
}

func newStreamDescribeCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "describe NAME",
		Short: "Show a stream and its shards",
		Long: `Show a stream's status, mode, retention, enabled shard-level metrics (when
any are; see 'spate stream monitoring') and every shard with its hash-key
range. --output json prints the full description (including sequence-number
ranges) as protobuf JSON.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return show(cmd, output, "describe stream "+args[0],
				func(ctx context.Context, c *apiConn) (*spatev1.StreamDescription, error) {
					return describeAll(ctx, c.api, args[0])
				}, formatDescription)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// describeAll describes a stream with all its shards, following
// DescribeStream's pages.
func describeAll(ctx context.Context, api spatev1.StreamServiceClient, name string) (*spatev1.StreamDescription, error) {
	var all *spatev1.StreamDescription
	start := ""
	for {
		resp, err := api.DescribeStream(ctx, &spatev1.DescribeStreamRequest{StreamName: name, ExclusiveStartShardId: start})
		if err != nil {
			return nil, err
		}
		d := resp.GetStreamDescription()
		if all == nil {
			all = d
		} else {
			all.Shards = append(all.Shards, d.GetShards()...)
		}
		if !d.GetHasMoreShards() || len(d.GetShards()) == 0 {
			all.HasMoreShards = false
			return all, nil
		}
		start = d.GetShards()[len(d.GetShards())-1].GetShardId()
	}
}

func newStreamListCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List streams",
		Long:  `List every stream with its status, mode and creation time, in name order.`,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			c, err := dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			list, err := listAll(cmd.Context(), c.api)
			if err != nil {
				return c.fail("list streams", err)
			}
			if output == "json" {
				return writeJSON(cmd.OutOrStdout(), list)
			}
			return formatStreamList(cmd.OutOrStdout(), list.GetStreamSummaries())
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// listAll lists every stream, following ListStreams' pages; the result has
// no next token.
func listAll(ctx context.Context, api spatev1.StreamServiceClient) (*spatev1.ListStreamsResponse, error) {
	all := &spatev1.ListStreamsResponse{}
	req := &spatev1.ListStreamsRequest{}
	for {
		resp, err := api.ListStreams(ctx, req)
		if err != nil {
			return nil, err
		}
		all.StreamNames = append(all.StreamNames, resp.GetStreamNames()...)
		all.StreamSummaries = append(all.StreamSummaries, resp.GetStreamSummaries()...)
		if !resp.GetHasMoreStreams() || resp.GetNextToken() == "" {
			return all, nil
		}
		req = &spatev1.ListStreamsRequest{NextToken: resp.GetNextToken()}
	}
}

func newStreamDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a stream and all its records",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			if _, err := c.api.DeleteStream(cmd.Context(), &spatev1.DeleteStreamRequest{StreamName: args[0]}); err != nil {
				return c.fail("delete stream "+args[0], err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "deleted stream %s\n", args[0])
			return err
		},
	}
}

func checkOutput(output string) error {
	if output != "text" && output != "json" {
		return fmt.Errorf("--output %q: want text or json", output)
	}
	return nil
}

// show is the body of a read-only command: it checks --output, makes one
// call and prints the answer as text or as protobuf JSON. what names the
// call in an error ("describe stream foo").
func show[T proto.Message](cmd *cobra.Command, output, what string,
	call func(ctx context.Context, c *apiConn) (T, error), text func(io.Writer, T) error) error {
	if err := checkOutput(output); err != nil {
		return err
	}
	c, err := dial(cmd)
	if err != nil {
		return err
	}
	defer c.Close()
	v, err := call(cmd.Context(), c)
	if err != nil {
		return c.fail(what, err)
	}
	if output == "json" {
		return writeJSON(cmd.OutOrStdout(), v)
	}
	return text(cmd.OutOrStdout(), v)
}

// writeJSON prints m as indented protobuf JSON (field names in lowerCamelCase,
// bytes in base64, times in RFC 3339).
func writeJSON(w io.Writer, m proto.Message) error {
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// enumName is an enum value's name without its type prefix: ACTIVE for
// STREAM_STATUS_ACTIVE.
func enumName(v fmt.Stringer, prefix string) string {
	return strings.TrimPrefix(v.String(), prefix)
}

// formatTime prints a timestamp in RFC 3339, UTC, or "-" when it is absent.
func formatTime(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "-"
	}
	return ts.AsTime().UTC().Format(time.RFC3339)
}

// formatDescription prints a stream description for people: the stream's
// attributes, then one line per shard.
func formatDescription(w io.Writer, d *spatev1.StreamDescription) error {
	open := 0
	for _, s := range d.GetShards() {
		if s.GetSequenceNumberRange().GetEndingSequenceNumber() == "" {
			open++
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Stream:\t%s\n", d.GetStreamName())
	fmt.Fprintf(tw, "ARN:\t%s\n", d.GetStreamArn())
	fmt.Fprintf(tw, "Status:\t%s\n", enumName(d.GetStreamStatus(), "STREAM_STATUS_"))
	fmt.Fprintf(tw, "Mode:\t%s\n", enumName(d.GetStreamMode(), "STREAM_MODE_"))
	fmt.Fprintf(tw, "Created:\t%s\n", formatTime(d.GetStreamCreationTimestamp()))
	fmt.Fprintf(tw, "Retention:\t%d hours\n", d.GetRetentionPeriodHours())
	fmt.Fprintf(tw, "Shards:\t%d (%d open)\n", len(d.GetShards()), open)
	// Only when some are enabled, so most descriptions stay as they were.
	if m := d.GetShardLevelMetrics(); len(m) > 0 {
		fmt.Fprintf(tw, "Metrics:\t%s\n", formatMetricNames(m))
	}
	if d.GetEncryptionType() == "KMS" {
		fmt.Fprintf(tw, "Encryption:\tKMS (%s)\n", d.GetKeyId())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(d.GetShards()) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SHARD\tSTATE\tPARENTS\tSTARTING HASH KEY\tENDING HASH KEY")
	for _, s := range d.GetShards() {
		state := "open"
		if s.GetSequenceNumberRange().GetEndingSequenceNumber() != "" {
			state = "closed"
		}
		parents := "-"
		if p := s.GetParentShardId(); p != "" {
			parents = p
			if a := s.GetAdjacentParentShardId(); a != "" {
				parents += "," + a
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.GetShardId(), state, parents,
			s.GetHashKeyRange().GetStartingHashKey(), s.GetHashKeyRange().GetEndingHashKey())
	}
	return tw.Flush()
}

// formatStreamList prints one line per stream under a header.
func formatStreamList(w io.Writer, streams []*spatev1.StreamSummary) error {
	if len(streams) == 0 {
		_, err := fmt.Fprintln(w, "no streams")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATUS\tMODE\tCREATED")
	for _, s := range streams {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.GetStreamName(),
			enumName(s.GetStreamStatus(), "STREAM_STATUS_"), enumName(s.GetStreamMode(), "STREAM_MODE_"),
			formatTime(s.GetStreamCreationTimestamp()))
	}
	return tw.Flush()
}
