package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// defaultStatsInterval is how often `spate stats --watch` samples.
const defaultStatsInterval = 2 * time.Second

func newStatsCmd() *cobra.Command {
	var (
		output   string
		watch    bool
		interval time.Duration
	)
	cmd := &cobra.Command{
		Use:   "stats STREAM",
		Short: "Show a stream's per-shard traffic: records and bytes in and out, iterator age",
		Long: `Show, for every shard of STREAM, the records and bytes appended (IN) and read
(OUT) since the server started, and the iterator age: how far behind the
newest record the last read of the shard was (the largest over GetRecords and
Subscribe callers and the server's own Firehose and Analytics readers; "-"
before the first read). Bytes are data plus partition keys. For a stream
with consumer groups, a second table shows each group's live workers, lag
(records after its checkpoints, and the oldest such record's age) and the
leases its workers took, stole and took over after expiry.

The counters come from the server over gRPC (GetStreamMetrics) and cover
every shard whether or not enhanced monitoring is enabled; enhanced
monitoring only decides which shard-level series /metrics exports.

--watch samples every --interval and adds rates per second over the last
interval, until interrupted. --output json prints the counters (with each
named consumer's iterator age) as protobuf JSON.`,
		Example: `  spate stats orders
  spate stats orders --watch --interval 5s`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !watch {
				return show(cmd, output, "stats of stream "+args[0],
					func(ctx context.Context, c *apiConn) (*spatev1.GetStreamMetricsResponse, error) {
						return c.api.GetStreamMetrics(ctx, &spatev1.GetStreamMetricsRequest{StreamName: args[0]})
					}, func(w io.Writer, m *spatev1.GetStreamMetricsResponse) error {
						if err := formatStats(w, m, nil, 0); err != nil {
							return err
						}
						return statsGroupsOnce(cmd, w, args[0]) // stats_groups.go
					})
			}
			if interval <= 0 {
				return fmt.Errorf("--interval %v: must be positive", interval)
			}
			if err := checkOutput(output); err != nil {
				return err
			}
			return watchStats(cmd, args[0], output, interval)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "sample every --interval and show rates, until interrupted")
	cmd.Flags().DurationVar(&interval, "interval", defaultStatsInterval, "sampling interval of --watch")
	return cmd
}

// watchStats prints a table every interval until the command's context
// ends (Ctrl-C), which is a normal exit.
func watchStats(cmd *cobra.Command, stream, output string, interval time.Duration) error {
	c, err := dial(cmd)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx := cmd.Context()
	w := cmd.OutOrStdout()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	var (
		prev     *spatev1.GetStreamMetricsResponse
		prevTime time.Time
	)
	for {
		m, err := c.api.GetStreamMetrics(ctx, &spatev1.GetStreamMetricsRequest{StreamName: stream})
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return c.fail("stats of stream "+stream, err)
		}
		now := time.Now()
		if output == "json" {
			err = writeJSON(w, m)
		} else {
			_, err = fmt.Fprintf(w, "%s\n", now.Format(time.TimeOnly))
			if err == nil {
				err = formatStats(w, m, prev, now.Sub(prevTime))
			}
			if err == nil {
				err = statsGroups(ctx, c, w, stream)
			}
			if err == nil {
				_, err = fmt.Fprintln(w)
			}
		}
		if ctx.Err() != nil {
			// Interrupted while writing the table (the consumer-group
			// lookup is a call of its own): a normal exit too.
			return nil
		}
		if err != nil {
			return err
		}
		prev, prevTime = m, now
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// formatStats prints the per-shard table of m, a total line, and, when prev
// is given, rates per second over elapsed. A counter that went down (the
// server restarted) has no rate.
func formatStats(w io.Writer, m, prev *spatev1.GetStreamMetricsResponse, elapsed time.Duration) error {
	metrics := "none"
	if l := m.GetShardLevelMetrics(); len(l) > 0 {
		metrics = strings.Join(l, ", ")
	}
	if _, err := fmt.Fprintf(w, "Stream: %s\nEnhanced monitoring (shard-level series in /metrics): %s\n", m.GetStreamName(), metrics); err != nil {
		return err
	}
	if m.GetAutoSplits() > 0 || m.GetAutoMerges() > 0 {
		if _, err := fmt.Fprintf(w, "Automatic resharding (ON_DEMAND) since the server started: splits %d, merges %d\n", m.GetAutoSplits(), m.GetAutoMerges()); err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintln(w); err != nil {
		return err
	}
	before := map[string]*spatev1.ShardMetrics{}
	for _, sh := range prev.GetShards() {
		before[sh.GetShardId()] = sh
	}
	rates := prev != nil && elapsed > 0
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := "SHARD\tIN RECORDS\tIN BYTES\tOUT RECORDS\tOUT BYTES\tITERATOR AGE"
	if rates {
		header = "SHARD\tIN RECORDS\tIN REC/S\tIN BYTES\tIN B/S\tOUT RECORDS\tOUT REC/S\tOUT BYTES\tOUT B/S\tITERATOR AGE"
	}
	fmt.Fprintln(tw, header)
	total := &spatev1.ShardMetrics{ShardId: "TOTAL", IteratorAgeMilliseconds: -1}
	totalBefore := &spatev1.ShardMetrics{}
	for _, sh := range m.GetShards() {
		writeStatsRow(tw, sh, before[sh.GetShardId()], rates, elapsed)
		total.IncomingRecords += sh.GetIncomingRecords()
		total.IncomingBytes += sh.GetIncomingBytes()
		total.OutgoingRecords += sh.GetOutgoingRecords()
		total.OutgoingBytes += sh.GetOutgoingBytes()
		total.IteratorAgeMilliseconds = max(total.IteratorAgeMilliseconds, maxIteratorAge(sh))
		if b := before[sh.GetShardId()]; b != nil {
			totalBefore.IncomingRecords += b.GetIncomingRecords()
			totalBefore.IncomingBytes += b.GetIncomingBytes()
			totalBefore.OutgoingRecords += b.GetOutgoingRecords()
			totalBefore.OutgoingBytes += b.GetOutgoingBytes()
		}
	}
	if len(m.GetShards()) > 1 {
		writeStatsRow(tw, total, totalBefore, rates, elapsed)
	}
	return tw.Flush()
}

func writeStatsRow(w io.Writer, sh, before *spatev1.ShardMetrics, rates bool, elapsed time.Duration) {
	rate := func(now, then uint64) string {
		if before == nil || now < then {
			return "-"
		}
		return fmt.Sprintf("%.1f", float64(now-then)/elapsed.Seconds())
	}
	age := "-"
	if a := maxIteratorAge(sh); a >= 0 {
		age = fmt.Sprintf("%d ms", a)
	}
	if !rates {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%s\n", sh.GetShardId(),
			sh.GetIncomingRecords(), sh.GetIncomingBytes(), sh.GetOutgoingRecords(), sh.GetOutgoingBytes(), age)
		return
	}
	fmt.Fprintf(w, "%s\t%d\t%s\t%d\t%s\t%d\t%s\t%d\t%s\t%s\n", sh.GetShardId(),
		sh.GetIncomingRecords(), rate(sh.GetIncomingRecords(), before.GetIncomingRecords()),
		sh.GetIncomingBytes(), rate(sh.GetIncomingBytes(), before.GetIncomingBytes()),
		sh.GetOutgoingRecords(), rate(sh.GetOutgoingRecords(), before.GetOutgoingRecords()),
		sh.GetOutgoingBytes(), rate(sh.GetOutgoingBytes(), before.GetOutgoingBytes()),
		age)
}

// maxIteratorAge is the largest iterator age of any reader of the shard, -1
// when nobody has read it.
func maxIteratorAge(sh *spatev1.ShardMetrics) int64 {
	age := sh.GetIteratorAgeMilliseconds()
	for _, a := range sh.GetConsumerIteratorAgeMilliseconds() {
		age = max(age, a)
	}
	return age
}
