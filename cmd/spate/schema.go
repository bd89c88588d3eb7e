package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

func newStreamSchemaCmd() *cobra.Command {
	var (
		limit  int
		output string
	)
	cmd := &cobra.Command{
		Use:   "schema STREAM",
		Short: "Propose SQL columns for a stream of JSON records",
		Long: `Sample the most recent records of STREAM (--limit, across all shards) and
propose a column for each JSON field: the SQL expression that reads it
(nested fields as col->>'$.a.b'), a SQL type (BIGINT, DOUBLE, VARCHAR,
BOOLEAN, TIMESTAMP), whether it can be NULL, the share of records that hold
it, and an example value.

TIMESTAMP is proposed for strings that parse as RFC 3339 timestamps, and for
whole numbers in the epoch-milliseconds range whose field name looks like a
time (time, date, ts, ..._at, ..._ms). A sample can miss what the rest of
the stream holds: read the proposal before you rely on it.`,
		Example: `  spate stream schema stock_ticker
  spate stream schema clicks --limit 1000 --output json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 1 || limit > 10000 {
				return fmt.Errorf("--limit %d: want 1 to 10000 records", limit)
			}
			return show(cmd, output, "discover the schema of "+args[0],
				func(ctx context.Context, c *apiConn) (*spatev1.DiscoverSchemaResponse, error) {
					return analyticsAPI(c).DiscoverSchema(ctx, &spatev1.DiscoverSchemaRequest{StreamName: args[0], Limit: int32(limit)})
				}, formatSchema)
		},
	}
	cmd.Flags().IntVarP(&limit, "limit", "n", 100, "how many recent records to sample (1 to 10000)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// formatSchema prints a proposed schema: one line per column, then the
// notes.
func formatSchema(w io.Writer, s *spatev1.DiscoverSchemaResponse) error {
	fmt.Fprintf(w, "Stream %s: sampled %d records", s.GetStreamName(), s.GetSampled())
	if n := s.GetNotObjects(); n > 0 {
		fmt.Fprintf(w, " (%d not JSON objects)", n)
	}
	fmt.Fprintln(w)
	if len(s.GetColumns()) == 0 {
		_, err := fmt.Fprintln(w, "no columns: no sampled record is a JSON object")
		return err
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COLUMN\tTYPE\tNULL\tPRESENT\tEXAMPLE\tSQL")
	var notes []string
	for _, c := range s.GetColumns() {
		null := "NOT NULL"
		if c.GetNullable() {
			null = "NULL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.GetName(), c.GetType(), null,
			strconv.FormatFloat(c.GetPresence()*100, 'f', 0, 64)+"%", orDash(c.GetExample()), c.GetExpr())
		if c.GetNote() != "" {
			notes = append(notes, c.GetName()+": "+c.GetNote())
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(notes) > 0 {
		fmt.Fprintln(w, "\nNotes:")
		for _, n := range notes {
			fmt.Fprintln(w, "  "+n)
		}
	}
	return nil
}
