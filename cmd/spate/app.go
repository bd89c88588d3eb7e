package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

func newAppCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "app",
		Short: "Create, list, describe, stop, start and delete SQL applications",
		Long: `Manage the Analytics applications of a Spate server over its gRPC API
(--grpc-addr). An application runs a SQL script continuously: an INSERT INTO
writes its rows to a stream or delivery stream, a bare SELECT streams them to
'spate sql run' style readers. The HTTP API under /v1/applications offers the
same operations (docs/analytics.md).`,
	}
	cmd.AddCommand(newAppCreateCmd(), newAppListCmd(), newAppDescribeCmd(),
		newAppActionCmd("stop", "Stop an application after a final checkpoint", "stopped",
			func(c *apiConn, cmd *cobra.Command, name string) error {
				_, err := analyticsAPI(c).StopApplication(cmd.Context(), &spatev1.StopApplicationRequest{ApplicationName: name})
				return err
			}),
		newAppActionCmd("start", "Start a stopped or failed application from its checkpoint", "started",
			func(c *apiConn, cmd *cobra.Command, name string) error {
				_, err := analyticsAPI(c).StartApplication(cmd.Context(), &spatev1.StartApplicationRequest{ApplicationName: name})
				return err
			}),
		newAppActionCmd("delete", "Delete an application with its state", "deleted",
			func(c *apiConn, cmd *cobra.Command, name string) error {
				_, err := analyticsAPI(c).DeleteApplication(cmd.Context(), &spatev1.DeleteApplicationRequest{ApplicationName: name})
				return err
			}),
	)
	return cmd
}

// analyticsAPI is the AnalyticsService client on c's connection.
func analyticsAPI(c *apiConn) spatev1.AnalyticsServiceClient {
	return spatev1.NewAnalyticsServiceClient(c.cc)
}

func newAppCreateCmd() *cobra.Command {
	var sqlFile string
	cmd := &cobra.Command{
		Use:   "create NAME --sql-file FILE",
		Short: "Create and start an application",
		Long: `Create an application named NAME (1 to 128 characters from a-z, A-Z, 0-9, '_',
'.', '-') running the script in --sql-file (- for stdin), and start it. The
stream it reads, and the stream or delivery stream it writes, must exist.
An invalid script is reported as FILE:LINE:COLUMN: message.`,
		Example: `  spate app create big-trades --sql-file big-trades.sql`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if sqlFile == "" {
				return fmt.Errorf("--sql-file is required")
			}
			file, script, err := readScript(cmd, sqlFile)
			if err != nil {
				return err
			}
			c, err := dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := analyticsAPI(c).CreateApplication(cmd.Context(),
				&spatev1.CreateApplicationRequest{ApplicationName: args[0], Sql: script})
			if err != nil {
				return sqlError(c, "create application "+args[0]+" from", file, err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "created application %s: %s\n", args[0], summary(resp.GetApplicationDescription()))
			return err
		},
	}
	cmd.Flags().StringVarP(&sqlFile, "sql-file", "f", "", "file holding the script (- for stdin)")
	return cmd
}

func newAppListCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List applications",
		Long:  `List every application with its status, streams and row counts, in name order.`,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return show(cmd, output, "list applications",
				func(ctx context.Context, c *apiConn) (*spatev1.ListApplicationsResponse, error) {
					return analyticsAPI(c).ListApplications(ctx, &spatev1.ListApplicationsRequest{})
				}, func(w io.Writer, resp *spatev1.ListApplicationsResponse) error {
					return formatAppList(w, resp.GetApplications())
				})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func newAppDescribeCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "describe NAME",
		Short: "Show an application's status, positions, lag and counts",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return show(cmd, output, "describe application "+args[0],
				func(ctx context.Context, c *apiConn) (*spatev1.ApplicationDescription, error) {
					resp, err := analyticsAPI(c).DescribeApplication(ctx, &spatev1.DescribeApplicationRequest{ApplicationName: args[0]})
					return resp.GetApplicationDescription(), err
				}, formatApp)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// newAppActionCmd builds stop, start and delete: one name, one call, one
// line of output.
func newAppActionCmd(verb, short, done string, call func(c *apiConn, cmd *cobra.Command, name string) error) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " NAME",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := call(c, cmd, args[0]); err != nil {
				return c.fail(verb+" application "+args[0], err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s application %s\n", done, args[0])
			return err
		},
	}
}

func appStatus(d *spatev1.ApplicationDescription) string {
	return enumName(d.GetStatus(), "APPLICATION_STATUS_")
}

// formatAppList prints one line per application under a header.
func formatAppList(w io.Writer, apps []*spatev1.ApplicationDescription) error {
	if len(apps) == 0 {
		_, err := fmt.Fprintln(w, "no applications")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATUS\tSOURCE\tTARGET\tROWS IN\tROWS OUT\tLATE\tCREATED")
	for _, d := range apps {
		target := d.GetTarget()
		if target == "" {
			target = "(select)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", d.GetName(), appStatus(d), d.GetSource(), target,
			d.GetRowsIn(), d.GetRowsOut(), d.GetLateRows(), formatTime(d.GetCreatedAt()))
	}
	return tw.Flush()
}

// formatApp prints an application for people: its attributes, its
// position in each input shard, then its script.
func formatApp(w io.Writer, d *spatev1.ApplicationDescription) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Application:\t%s\n", d.GetName())
	fmt.Fprintf(tw, "Status:\t%s\n", appStatus(d))
	if d.GetError() != "" {
		fmt.Fprintf(tw, "Error:\t%s\n", d.GetError())
	}
	fmt.Fprintf(tw, "Source:\t%s\n", d.GetSource())
	target := d.GetTarget()
	if target == "" {
		target = "(bare SELECT: rows go to 'spate sql run' style readers)"
	}
	fmt.Fprintf(tw, "Target:\t%s\n", target)
	fmt.Fprintf(tw, "Columns:\t%s\n", strings.Join(d.GetColumns(), ", "))
	if d.GetTemporary() {
		fmt.Fprintf(tw, "Temporary:\tyes\n")
	}
	fmt.Fprintf(tw, "Created:\t%s\n", formatTime(d.GetCreatedAt()))
	fmt.Fprintf(tw, "Rows in:\t%d\n", d.GetRowsIn())
	fmt.Fprintf(tw, "Rows out:\t%d\n", d.GetRowsOut())
	fmt.Fprintf(tw, "Late rows:\t%d\n", d.GetLateRows())
	fmt.Fprintf(tw, "Bad rows:\t%d\n", d.GetBadRows())
	fmt.Fprintf(tw, "Watermark:\t%s\n", formatTime(d.GetWatermark()))
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(d.GetInputs()) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SHARD\tCHECKPOINT\tLAG")
		for _, in := range d.GetInputs() {
			fmt.Fprintf(tw, "%s\t%s\t%dms\n", in.GetShardId(), orDash(in.GetSequenceNumber()), in.GetLagMs())
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "\nSQL:\n%s\n", indent(strings.TrimRight(d.GetSql(), "\n"), "  "))
	return err
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
