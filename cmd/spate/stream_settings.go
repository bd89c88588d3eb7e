package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// The stream and account settings commands: tags, capacity mode, maximum
// record size, warm throughput, resource policies and the account's
// minimum throughput billing commitment, over the gRPC API.

// streamSettingsCmds are added to 'spate stream'.
func streamSettingsCmds() []*cobra.Command {
	return []*cobra.Command{newStreamTagCmd(), newStreamUntagCmd(), newStreamTagsCmd(), newStreamModeCmd(),
		newStreamMaxRecordSizeCmd(), newStreamWarmThroughputCmd(), newStreamPolicyCmd()}
}

// change is the body of a command that changes something and prints done.
func change(cmd *cobra.Command, what, done string, call func(ctx context.Context, c *apiConn) error) error {
	c, err := dial(cmd)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := call(cmd.Context(), c); err != nil {
		return c.fail(what, err)
	}
	_, err = fmt.Fprintln(cmd.OutOrStdout(), done)
	return err
}

// streamARN asks the server for a stream's ARN: the resource actions take
// ARNs, the commands take names.
func streamARN(ctx context.Context, c *apiConn, name string) (string, error) {
	d, err := c.api.DescribeStreamSummary(ctx, &spatev1.DescribeStreamSummaryRequest{StreamName: name})
	if err != nil {
		return "", err
	}
	return d.GetStreamDescriptionSummary().GetStreamArn(), nil
}

func newStreamTagCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "tag NAME KEY=VALUE...",
		Short: "Add or overwrite tags of a stream",
		Long: `Add tags to stream NAME, overwriting tags with the same keys. A stream holds
at most 50 tags; keys are 1 to 128 characters, values up to 256, and the
prefix aws: is reserved.`,
		Example: `  spate stream tag orders team=data env=prod`,
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			tags := map[string]string{}
			for _, kv := range args[1:] {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					return fmt.Errorf("tag %q: want KEY=VALUE", kv)
				}
				tags[k] = v
			}
			return change(cmd, "tag stream "+args[0], fmt.Sprintf("tagged stream %s", args[0]),
				func(ctx context.Context, c *apiConn) error {
					_, err := c.api.AddTagsToStream(ctx, &spatev1.AddTagsToStreamRequest{StreamName: args[0], Tags: tags})
					return err
				})
		},
	}
}

func newStreamUntagCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "untag NAME KEY...",
		Short:   "Remove tags of a stream",
		Example: `  spate stream untag orders env`,
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return change(cmd, "untag stream "+args[0], fmt.Sprintf("untagged stream %s", args[0]),
				func(ctx context.Context, c *apiConn) error {
					_, err := c.api.RemoveTagsFromStream(ctx, &spatev1.RemoveTagsFromStreamRequest{StreamName: args[0], TagKeys: args[1:]})
					return err
				})
		},
	}
}

func newStreamTagsCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "tags NAME",
		Short: "List the tags of a stream",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return show(cmd, output, "list tags of stream "+args[0],
				func(ctx context.Context, c *apiConn) (*spatev1.ListTagsForResourceResponse, error) {
					arn, err := streamARN(ctx, c, args[0])
					if err != nil {
						return nil, err
					}
					return c.api.ListTagsForResource(ctx, &spatev1.ListTagsForResourceRequest{ResourceArn: arn})
				},
				func(w io.Writer, r *spatev1.ListTagsForResourceResponse) error {
					tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
					fmt.Fprintln(tw, "KEY\tVALUE")
					for _, t := range r.GetTags() {
						fmt.Fprintf(tw, "%s\t%s\n", t.GetKey(), t.GetValue())
					}
					return tw.Flush()
				})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func newStreamModeCmd() *cobra.Command {
	var warm int32
	cmd := &cobra.Command{
		Use:   "mode NAME provisioned|on-demand",
		Short: "Switch a stream between provisioned and on-demand capacity",
		Long: `Switch stream NAME's capacity mode, as Kinesis's UpdateStreamMode does: at
most twice in 24 hours. Spate provisions no throughput: the mode is recorded,
reported, and counted against the limit of 50 on-demand streams; on-demand
streams keep their shards until resharding exists. --warm-throughput sets the
warm throughput of a switch to on-demand (needs 'spate account commitment
enable').`,
		Example: `  spate stream mode orders on-demand
  spate stream mode orders provisioned`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &spatev1.UpdateStreamModeRequest{StreamName: args[0]}
			switch strings.ToLower(strings.ReplaceAll(args[1], "_", "-")) {
			case "provisioned":
				req.StreamMode = spatev1.StreamMode_STREAM_MODE_PROVISIONED
			case "on-demand":
				req.StreamMode = spatev1.StreamMode_STREAM_MODE_ON_DEMAND
			default:
				return fmt.Errorf("mode %q: want provisioned or on-demand", args[1])
			}
			if cmd.Flags().Changed("warm-throughput") {
				req.WarmThroughputMibps = &warm
			}
			return change(cmd, "switch mode of stream "+args[0], fmt.Sprintf("stream %s switches to %s", args[0], args[1]),
				func(ctx context.Context, c *apiConn) error {
					_, err := c.api.UpdateStreamMode(ctx, req)
					return err
				})
		},
	}
	cmd.Flags().Int32Var(&warm, "warm-throughput", 0, "warm throughput in MiB/s of a switch to on-demand")
	return cmd
}

func newStreamMaxRecordSizeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "max-record-size NAME KIB",
		Short: "Set the largest record a stream takes (1024 to 10240 KiB)",
		Long: `Set the largest record (data plus partition key) that stream NAME takes, in
KiB: 1024 (1 MiB, every stream's default) to 10240 (10 MiB), as Kinesis's
UpdateMaxRecordSize does. 'spate put' follows the stream's limit.`,
		Example: `  spate stream max-record-size orders 10240`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			kib, err := strconv.ParseInt(args[1], 10, 32)
			if err != nil {
				return fmt.Errorf("KIB %q: want a number from 1024 to 10240", args[1])
			}
			return change(cmd, "set max record size of stream "+args[0],
				fmt.Sprintf("stream %s takes records of up to %d KiB", args[0], kib),
				func(ctx context.Context, c *apiConn) error {
					_, err := c.api.UpdateMaxRecordSize(ctx, &spatev1.UpdateMaxRecordSizeRequest{StreamName: args[0], MaxRecordSizeKib: int32(kib)})
					return err
				})
		},
	}
}

func newStreamWarmThroughputCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "warm-throughput NAME MIBPS",
		Short: "Set an on-demand stream's warm throughput",
		Long: `Set on-demand stream NAME's warm throughput in MiB/s (0 to 10240), as
Kinesis's UpdateStreamWarmThroughput does; the account's commitment must be
enabled ('spate account commitment enable'). Spate records and reports it.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.ParseInt(args[1], 10, 32)
			if err != nil {
				return fmt.Errorf("MIBPS %q: want a number from 0 to 10240", args[1])
			}
			return change(cmd, "set warm throughput of stream "+args[0],
				fmt.Sprintf("stream %s warms to %d MiB/s", args[0], n),
				func(ctx context.Context, c *apiConn) error {
					_, err := c.api.UpdateStreamWarmThroughput(ctx, &spatev1.UpdateStreamWarmThroughputRequest{StreamName: args[0], WarmThroughputMibps: int32(n)})
					return err
				})
		},
	}
}

func newStreamPolicyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Put, show or delete a stream's resource policy",
		Long: `A stream's resource policy is an IAM resource-based policy (JSON, at most
20 KiB) that the server enforces on signed requests beside the identity
policies of --policies: see docs/security.md.`,
	}
	get := &cobra.Command{
		Use:   "get NAME",
		Short: "Print a stream's resource policy ({} when it has none)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			p, err := func() (*spatev1.GetResourcePolicyResponse, error) {
				arn, err := streamARN(cmd.Context(), c, args[0])
				if err != nil {
					return nil, err
				}
				return c.api.GetResourcePolicy(cmd.Context(), &spatev1.GetResourcePolicyRequest{ResourceArn: arn})
			}()
			if err != nil {
				return c.fail("get policy of stream "+args[0], err)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), p.GetPolicy())
			return err
		},
	}
	put := &cobra.Command{
		Use:     "put NAME FILE",
		Short:   "Attach a resource policy (FILE, or - for stdin) to a stream",
		Example: `  spate stream policy put orders policy.json`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var doc []byte
			var err error
			if args[1] == "-" {
				doc, err = io.ReadAll(cmd.InOrStdin())
			} else {
				doc, err = os.ReadFile(args[1])
			}
			if err != nil {
				return fmt.Errorf("read policy: %w", err)
			}
			return change(cmd, "put policy of stream "+args[0], "put the resource policy of stream "+args[0],
				func(ctx context.Context, c *apiConn) error {
					arn, err := streamARN(ctx, c, args[0])
					if err != nil {
						return err
					}
					_, err = c.api.PutResourcePolicy(ctx, &spatev1.PutResourcePolicyRequest{ResourceArn: arn, Policy: string(doc)})
					return err
				})
		},
	}
	del := &cobra.Command{
		Use:   "delete NAME",
		Short: "Remove a stream's resource policy",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return change(cmd, "delete policy of stream "+args[0], "deleted the resource policy of stream "+args[0],
				func(ctx context.Context, c *apiConn) error {
					arn, err := streamARN(ctx, c, args[0])
					if err != nil {
						return err
					}
					_, err = c.api.DeleteResourcePolicy(ctx, &spatev1.DeleteResourcePolicyRequest{ResourceArn: arn})
					return err
				})
		},
	}
	cmd.AddCommand(get, put, del)
	return cmd
}

// newAccountCmd is 'spate account': the account-level settings.
func newAccountCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "account",
		Short: "Show or change the account's settings (the minimum throughput billing commitment)",
	}
	var output string
	showCmd := &cobra.Command{
		Use:   "show",
		Short: "Show the account's settings",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return show(cmd, output, "describe account settings",
				func(ctx context.Context, c *apiConn) (*spatev1.DescribeAccountSettingsResponse, error) {
					return c.api.DescribeAccountSettings(ctx, &spatev1.DescribeAccountSettingsRequest{})
				},
				func(w io.Writer, r *spatev1.DescribeAccountSettingsResponse) error {
					return formatCommitment(w, r.GetMinimumThroughputBillingCommitment())
				})
		},
	}
	showCmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	commit := &cobra.Command{
		Use:   "commitment enable|disable",
		Short: "Turn the minimum throughput billing commitment on or off",
		Long: `Turn the account's minimum throughput billing commitment on or off, as
Kinesis's UpdateAccountSettings does. It lasts at least 24 hours: disabling it
sooner schedules its end for then. Spate bills nothing; the commitment
unlocks warm throughput on on-demand streams, as in AWS.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			status := map[string]string{"enable": "ENABLED", "disable": "DISABLED"}[args[0]]
			if status == "" {
				return fmt.Errorf("%q: want enable or disable", args[0])
			}
			c, err := dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			r, err := c.api.UpdateAccountSettings(cmd.Context(), &spatev1.UpdateAccountSettingsRequest{MinimumThroughputBillingCommitmentStatus: status})
			if err != nil {
				return c.fail("update account settings", err)
			}
			return formatCommitment(cmd.OutOrStdout(), r.GetMinimumThroughputBillingCommitment())
		},
	}
	cmd.AddCommand(showCmd, commit)
	return cmd
}

func formatCommitment(w io.Writer, m *spatev1.MinimumThroughputBillingCommitment) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Commitment:\t%s\n", m.GetStatus())
	fmt.Fprintf(tw, "Started:\t%s\n", formatTime(m.GetStartedAt()))
	fmt.Fprintf(tw, "Earliest end:\t%s\n", formatTime(m.GetEarliestAllowedEndAt()))
	fmt.Fprintf(tw, "Ended:\t%s\n", formatTime(m.GetEndedAt()))
	return tw.Flush()
}
