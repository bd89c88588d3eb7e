package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

func newGroupCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "group",
		Short: "List, describe, reset and delete consumer groups",
		Long: `Manage the consumer groups of a stream over the gRPC API (--grpc-addr).

A consumer group is a named set of shard leases and checkpoints that the
server holds for the workers of a consuming application (the SDK's consumer,
'spate consume'). Workers create groups by joining them; these commands show
who owns which shard, how far behind each checkpoint is, and move or remove
a group.`,
	}
	cmd.AddCommand(newGroupListCmd(), newGroupDescribeCmd(), newGroupResetCmd(), newGroupDeleteCmd())
	return cmd
}

// groups is the GroupService client of c.
func (c *apiConn) groups() spatev1.GroupServiceClient { return spatev1.NewGroupServiceClient(c.cc) }

func newGroupListCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list STREAM",
		Short: "List a stream's consumer groups",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return show(cmd, output, "list groups of stream "+args[0],
				func(ctx context.Context, c *apiConn) (*spatev1.ListGroupsResponse, error) {
					return c.groups().ListGroups(ctx, &spatev1.ListGroupsRequest{StreamName: args[0]})
				}, func(w io.Writer, r *spatev1.ListGroupsResponse) error {
					for _, g := range r.GetGroups() {
						if _, err := fmt.Fprintln(w, g); err != nil {
							return err
						}
					}
					return nil
				})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func newGroupDescribeCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "describe STREAM GROUP",
		Short: "Show a consumer group's workers, leases, checkpoints and lag",
		Long: `Show a consumer group: its live workers and, for every shard of the stream,
the lease (owner, lease counter, expiry), the checkpoint, whether the shard
is finished, its parents, and the lag: records after the checkpoint and the
age of the oldest of them.`,
		Example: `  spate group describe orders billing`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return show(cmd, output, "describe group "+args[1]+" of stream "+args[0],
				func(ctx context.Context, c *apiConn) (*spatev1.DescribeGroupResponse, error) {
					return c.groups().DescribeGroup(ctx, &spatev1.DescribeGroupRequest{Group: &spatev1.GroupRef{StreamName: args[0], Group: args[1]}})
				}, func(w io.Writer, r *spatev1.DescribeGroupResponse) error { return formatGroup(w, r.GetGroup()) })
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// formatGroup prints a group as text.
func formatGroup(w io.Writer, g *spatev1.Group) error {
	initial := enumName(g.GetInitialPosition(), "SHARD_ITERATOR_TYPE_")
	if ts := g.GetInitialTimestamp(); ts != nil {
		initial += " " + ts.AsTime().Format(time.RFC3339)
	}
	fmt.Fprintf(w, "Stream: %s\nGroup: %s\nInitial position: %s\nLease timeout: %v\n",
		g.GetStreamName(), g.GetGroup(), initial, time.Duration(g.GetLeaseTimeoutMillis())*time.Millisecond)
	fmt.Fprintf(w, "Leases taken: %d (stolen %d, after expiry %d) since the server started\n\n",
		g.GetLeaseAcquisitions(), g.GetLeaseSteals(), g.GetLeaseExpiries())
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKER\tEXPIRES\tSHARDS")
	for _, wk := range g.GetWorkers() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", wk.GetWorkerId(), formatTime(wk.GetExpires()), orDash(strings.Join(wk.GetShardIds(), ",")))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "SHARD\tOWNER\tCOUNTER\tCHECKPOINT\tFINISHED\tPARENTS\tLAG RECORDS\tBEHIND")
	for _, l := range g.GetLeases() {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%v\t%s\t%d\t%d ms\n", l.GetShardId(), orDash(l.GetOwner()), l.GetLeaseCounter(),
			orDash(l.GetCheckpoint()), l.GetFinished(), orDash(strings.Join(l.GetParentShardIds(), ",")),
			l.GetLagRecords(), l.GetMillisBehindLatest())
	}
	return tw.Flush()
}

func newGroupResetCmd() *cobra.Command {
	var (
		to, shardID, seq, output string
		at                       string
	)
	cmd := &cobra.Command{
		Use:   "reset STREAM GROUP --to POSITION",
		Short: "Move a consumer group's checkpoints",
		Long: `Move the checkpoints of a consumer group that has no live workers (stop
them first, or wait a lease timeout after they stopped):

  --to trim_horizon            every shard from its oldest record
  --to latest                  every shard from now on
  --to timestamp --timestamp T every shard from the records that arrived at T (RFC 3339)
  --to sequence --shard S --sequence-number N
                               shard S from record N (the others stay)

Every lease's counter grows, so a worker still running with an old lease
cannot write its checkpoint back.`,
		Example: `  spate group reset orders billing --to trim_horizon
  spate group reset orders billing --to timestamp --timestamp 2026-12-07T09:00:00Z`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &spatev1.ResetGroupRequest{Group: &spatev1.GroupRef{StreamName: args[0], Group: args[1]}, ShardId: shardID, SequenceNumber: seq}
			switch strings.ToLower(strings.ReplaceAll(to, "-", "_")) {
			case "trim_horizon":
				req.Position = spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON
			case "latest":
				req.Position = spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_LATEST
			case "timestamp", "at_timestamp":
				req.Position = spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_AT_TIMESTAMP
				ts, err := time.Parse(time.RFC3339Nano, at)
				if err != nil {
					return fmt.Errorf("--timestamp %q: want an RFC 3339 time such as 2026-12-07T09:00:00Z", at)
				}
				req.Timestamp = timestamppb.New(ts)
			case "sequence", "at_sequence_number":
				req.Position = spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_AT_SEQUENCE_NUMBER
			default:
				return fmt.Errorf("--to %q: want trim_horizon, latest, timestamp or sequence", to)
			}
			return show(cmd, output, "reset group "+args[1]+" of stream "+args[0],
				func(ctx context.Context, c *apiConn) (*spatev1.ResetGroupResponse, error) {
					return c.groups().ResetGroup(ctx, req)
				}, func(w io.Writer, r *spatev1.ResetGroupResponse) error { return formatGroup(w, r.GetGroup()) })
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "where to: trim_horizon, latest, timestamp or sequence")
	cmd.Flags().StringVar(&at, "timestamp", "", "with --to timestamp: an RFC 3339 time")
	cmd.Flags().StringVar(&shardID, "shard", "", "with --to sequence: the shard to move")
	cmd.Flags().StringVar(&seq, "sequence-number", "", "with --to sequence: the record to read from")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

func newGroupDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete STREAM GROUP",
		Short: "Delete a consumer group with its leases and checkpoints",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			what := "delete group " + args[1] + " of stream " + args[0]
			if _, err := c.groups().DeleteGroup(cmd.Context(), &spatev1.DeleteGroupRequest{Group: &spatev1.GroupRef{StreamName: args[0], Group: args[1]}}); err != nil {
				return c.fail(what, err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "deleted group %s of stream %s\n", args[1], args[0])
			return err
		},
	}
}
