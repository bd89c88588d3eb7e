package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

func newStreamMonitoringCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "monitoring",
		Short: "Enable or disable a stream's enhanced (shard-level) metrics",
		Long: `Turn a stream's enhanced monitoring on or off, metric by metric, as
Kinesis's EnableEnhancedMonitoring and DisableEnhancedMonitoring do.

The server counts every metric of every shard all the time ('spate stats'
shows them); enhanced monitoring only decides which spate_shard_* series the
server's /metrics endpoint exports for the stream (see docs/metrics.md).
'spate stream describe' shows what is enabled.

The metrics, by their Kinesis names in any case (incomingbytes and
incoming_bytes are IncomingBytes too):

  IncomingBytes                       spate_shard_incoming_bytes_total
  IncomingRecords                     spate_shard_incoming_records_total
  OutgoingBytes                       spate_shard_outgoing_bytes_total
  OutgoingRecords                     spate_shard_outgoing_records_total
  WriteProvisionedThroughputExceeded  spate_shard_write_provisioned_throughput_exceeded_total
  ReadProvisionedThroughputExceeded   spate_shard_read_provisioned_throughput_exceeded_total
  IteratorAgeMilliseconds             spate_shard_iterator_age_milliseconds
  ALL                                 all seven`,
	}
	cmd.AddCommand(
		newMonitoringChangeCmd("enable", "Turn on shard-level metrics of a stream",
			`Turn on the shard-level metrics METRIC... of STREAM, in addition to those
already on; enabling a metric that is on already is not an error. The server
exports the spate_shard_* series of each enabled metric on /metrics from the
next scrape.`,
			`  spate stream monitoring enable orders IncomingBytes IncomingRecords
  spate stream monitoring enable orders all`,
			func(ctx context.Context, c *apiConn, req monitoringRequest) (monitoringChange, error) {
				return c.api.EnableEnhancedMonitoring(ctx, &spatev1.EnableEnhancedMonitoringRequest{
					StreamName: req.name, StreamArn: req.arn, ShardLevelMetrics: req.metrics})
			}),
		newMonitoringChangeCmd("disable", "Turn off shard-level metrics of a stream",
			`Turn off the shard-level metrics METRIC... of STREAM (ALL turns off every
one); disabling a metric that is off is not an error. Their spate_shard_*
series disappear from /metrics at the next scrape; the server keeps counting.`,
			`  spate stream monitoring disable orders OutgoingBytes
  spate stream monitoring disable orders ALL`,
			func(ctx context.Context, c *apiConn, req monitoringRequest) (monitoringChange, error) {
				return c.api.DisableEnhancedMonitoring(ctx, &spatev1.DisableEnhancedMonitoringRequest{
					StreamName: req.name, StreamArn: req.arn, ShardLevelMetrics: req.metrics})
			}),
	)
	return cmd
}

// monitoringRequest is what enable and disable send: the stream, by name or
// by ARN, and the metrics by their Kinesis names.
type monitoringRequest struct {
	name, arn string
	metrics   []string
}

// monitoringChange is the answer of EnableEnhancedMonitoring and
// DisableEnhancedMonitoring alike: the metrics on before the call (current)
// and after it (desired).
type monitoringChange interface {
	GetStreamName() string
	GetCurrentShardLevelMetrics() []string
	GetDesiredShardLevelMetrics() []string
}

var (
	_ monitoringChange = (*spatev1.EnableEnhancedMonitoringResponse)(nil)
	_ monitoringChange = (*spatev1.DisableEnhancedMonitoringResponse)(nil)
)

// newMonitoringChangeCmd builds `monitoring enable` or `monitoring disable`;
// they differ only in the call they make.
func newMonitoringChangeCmd(verb, short, long, example string,
	call func(context.Context, *apiConn, monitoringRequest) (monitoringChange, error)) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " STREAM METRIC...",
		Short: short,
		Long: long + `

STREAM is a stream name or ARN. METRIC is a Kinesis metric name in any case
('spate stream monitoring --help' lists them), or ALL. The command prints the
metrics on after the call, and those on before it in parentheses:

  orders: IncomingBytes, IncomingRecords (was: none)`,
		Example: example,
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Check the names before dialing, so a typo costs no round trip
			// and the error lists the names in the CLI's words.
			metrics, err := parseMetricNames(args[1:])
			if err != nil {
				return err
			}
			req := monitoringRequest{name: args[0], metrics: metrics}
			if strings.HasPrefix(args[0], "arn:") {
				req = monitoringRequest{arn: args[0], metrics: metrics}
			}
			c, err := dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := call(cmd.Context(), c, req)
			if err != nil {
				return c.fail(verb+" enhanced monitoring of stream "+args[0], err)
			}
			return formatMonitoringChange(cmd.OutOrStdout(), resp)
		},
	}
}

// parseMetricNames maps command-line metric names to the Kinesis names the
// API takes. A name matches ignoring case, '_' and '-' (incomingbytes and
// incoming_bytes are IncomingBytes). The result has no duplicates and is
// just ALL when ALL was given, so it never exceeds the API's limit of seven.
func parseMetricNames(args []string) ([]string, error) {
	var out []string
	for _, arg := range args {
		m, ok := lookupMetric(arg)
		if !ok {
			return nil, fmt.Errorf("metric %q: want one of %s (in any case)", arg, metricNameList())
		}
		if m == shard.MetricAll {
			return []string{string(shard.MetricAll)}, nil
		}
		if !slices.Contains(out, string(m)) {
			out = append(out, string(m))
		}
	}
	return out, nil
}

func lookupMetric(arg string) (shard.ShardLevelMetric, bool) {
	key := normalizeMetricName(arg)
	if key == normalizeMetricName(string(shard.MetricAll)) {
		return shard.MetricAll, true
	}
	for _, m := range shard.AllShardLevelMetrics {
		if normalizeMetricName(string(m)) == key {
			return m, true
		}
	}
	return "", false
}

func normalizeMetricName(s string) string {
	return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(s))
}

// metricNameList is the valid metric names for messages: "IncomingBytes,
// ..., IteratorAgeMilliseconds or ALL".
func metricNameList() string {
	names := make([]string, len(shard.AllShardLevelMetrics))
	for i, m := range shard.AllShardLevelMetrics {
		names[i] = string(m)
	}
	return strings.Join(names, ", ") + " or " + string(shard.MetricAll)
}

// formatMetricNames prints a list of enabled metrics, "none" when empty.
func formatMetricNames(metrics []string) string {
	if len(metrics) == 0 {
		return "none"
	}
	return strings.Join(metrics, ", ")
}

// formatMonitoringChange prints one line: the stream, the metrics on after
// the call and, in parentheses, those on before it.
func formatMonitoringChange(w io.Writer, c monitoringChange) error {
	_, err := fmt.Fprintf(w, "%s: %s (was: %s)\n", c.GetStreamName(),
		formatMetricNames(c.GetDesiredShardLevelMetrics()), formatMetricNames(c.GetCurrentShardLevelMetrics()))
	return err
}
