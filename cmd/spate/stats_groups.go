package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// statsGroups prints the consumer groups of stream for `spate stats`
// (nothing when it has none): their live workers, lag summed over the
// shards, the oldest unprocessed record's age, and the rebalance counters.
func statsGroups(ctx context.Context, c *apiConn, w io.Writer, stream string) error {
	list, err := c.groups().ListGroups(ctx, &spatev1.ListGroupsRequest{StreamName: stream})
	if status.Code(err) == codes.Unimplemented {
		return nil // a server from before consumer groups
	}
	if err != nil {
		return c.fail("list groups of stream "+stream, err)
	}
	if len(list.GetGroups()) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nGROUP\tWORKERS\tLAG RECORDS\tBEHIND\tLEASES TAKEN\tSTOLEN\tEXPIRED")
	for _, name := range list.GetGroups() {
		d, err := c.groups().DescribeGroup(ctx, &spatev1.DescribeGroupRequest{Group: &spatev1.GroupRef{StreamName: stream, Group: name}})
		if err != nil {
			continue // deleted since it was listed
		}
		g := d.GetGroup()
		var lag, behind int64
		for _, l := range g.GetLeases() {
			lag += l.GetLagRecords()
			behind = max(behind, l.GetMillisBehindLatest())
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d ms\t%d\t%d\t%d\n", name, len(g.GetWorkers()), lag, behind,
			g.GetLeaseAcquisitions(), g.GetLeaseSteals(), g.GetLeaseExpiries())
	}
	return tw.Flush()
}

// statsGroupsOnce is statsGroups on a connection of its own.
func statsGroupsOnce(cmd *cobra.Command, w io.Writer, stream string) error {
	c, err := dial(cmd)
	if err != nil {
		return err
	}
	defer c.Close()
	return statsGroups(cmd.Context(), c, w, stream)
}
