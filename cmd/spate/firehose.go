package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/protobuf/proto"

	"github.com/spatehq/spate/api/grpcapi"
	"github.com/spatehq/spate/firehose"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

func newFirehoseCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "firehose",
		Short: "Create, describe, list and delete delivery streams, and put records into them",
		Long: `Manage the Firehose delivery streams of a Spate server over its gRPC API
(--grpc-addr). A delivery stream delivers records to an S3 bucket or to
Elasticsearch, in batches, exactly once in S3.

The same operations are available with the AWS CLI through the Firehose API,
e.g. 'aws firehose create-delivery-stream --endpoint-url http://127.0.0.1:4567 ...'.`,
	}
	cmd.AddCommand(newFirehoseCreateCmd(), newFirehoseDescribeCmd(), newFirehoseListCmd(),
		newFirehoseDeleteCmd(), newFirehosePutCmd())
	return cmd
}

// firehoseClient returns a FirehoseService client on c's connection.
func firehoseClient(c *apiConn) spatev1.FirehoseServiceClient {
	return spatev1.NewFirehoseServiceClient(c.cc)
}

// createFlags are the flags of `spate firehose create`.
type createFlags struct {
	configFile    string
	bucket        string
	prefix        string
	errorPrefix   string
	compression   string
	bufferMB      int
	bufferSeconds int
	sourceStream  string
	delimiter     bool
	transform     string
	tags          map[string]string
}

func newFirehoseCreateCmd() *cobra.Command {
	var fl createFlags
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a delivery stream to an S3 bucket",
		Long: `Create a delivery stream named NAME (1 to 64 characters from a-z, A-Z, 0-9,
'_', '.', '-') that delivers to the S3 bucket --bucket of the server's S3
endpoint (spate serve --s3-endpoint).

Records come from 'spate firehose put' (and PutRecord, PutRecordBatch), or,
with --source-stream, from a Spate stream, read from the records that arrive
after the delivery stream is created.

A batch is delivered when it holds --buffer-mb MiB or when --buffer-seconds
have passed since its first record, whichever comes first (0 seconds: as soon
as possible). Objects are named <prefix><NAME>-<version>-<time>-<id>, with the
compression's extension.

--config-file takes the AWS JSON of a CreateDeliveryStream request instead
(what 'aws firehose create-delivery-stream --cli-input-json' takes), for
Elasticsearch destinations, dynamic partitioning, Parquet conversion and the
rest; then NAME, if the file names a delivery stream too, must match it, and
no other flag may be given.`,
		Example: `  spate firehose create orders --bucket my-bucket --compression gzip --buffer-seconds 60
  spate firehose create clicks-archive --bucket archive --source-stream clicks --delimiter
  spate firehose create logs --config-file logs.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			var req *spatev1.CreateDeliveryStreamRequest
			if fl.configFile != "" {
				for _, name := range []string{"bucket", "prefix", "error-prefix", "compression", "buffer-mb", "buffer-seconds", "source-stream", "delimiter", "tag"} {
					if cmd.Flags().Changed(name) {
						return fmt.Errorf("--config-file cannot be combined with --%s: put it in the file", name)
					}
				}
				b, err := os.ReadFile(fl.configFile)
				if err != nil {
					return fmt.Errorf("--config-file: %w", err)
				}
				if req, err = createRequestFromJSON(args[0], b); err != nil {
					return fmt.Errorf("--config-file %s: %w", fl.configFile, err)
				}
			} else {
				if req, err = createRequestFromFlags(cmd.Flags(), args[0], fl); err != nil {
					return err
				}
				if src := fl.sourceStream; src != "" && !strings.HasPrefix(src, "arn:") {
					d, err := c.api.DescribeStreamSummary(cmd.Context(), &spatev1.DescribeStreamSummaryRequest{StreamName: src})
					if err != nil {
						return c.fail("--source-stream "+src, err)
					}
					req.KinesisStreamArn = d.GetStreamDescriptionSummary().GetStreamArn()
				}
			}
			resp, err := firehoseClient(c).CreateDeliveryStream(cmd.Context(), req)
			if err != nil {
				return c.fail("create delivery stream "+args[0], err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "created delivery stream %s (%s)\n", args[0], resp.GetDeliveryStreamArn())
			return err
		},
	}
	fl.register(cmd.Flags())
	return cmd
}

// register defines the flags on f.
func (fl *createFlags) register(f *pflag.FlagSet) {
	f.StringVar(&fl.configFile, "config-file", "", "file with the AWS JSON of a CreateDeliveryStream request")
	f.StringVar(&fl.bucket, "bucket", "", "S3 bucket (a name, or arn:aws:s3:::NAME)")
	f.StringVar(&fl.prefix, "prefix", "", `object name prefix (default "YYYY/MM/dd/HH/", UTC); may use !{timestamp:...} and !{firehose:random-string}`)
	f.StringVar(&fl.errorPrefix, "error-prefix", "", "prefix of records that fail processing")
	f.StringVar(&fl.compression, "compression", "", "UNCOMPRESSED (default), GZIP, ZIP, SNAPPY, HADOOP_SNAPPY or ZSTD")
	f.IntVar(&fl.bufferMB, "buffer-mb", 0, "deliver when a batch holds this many MiB, 1 to 128 (default 5)")
	f.IntVar(&fl.bufferSeconds, "buffer-seconds", 0, "deliver when a batch is this many seconds old, 0 to 900 (default 300)")
	f.StringVar(&fl.sourceStream, "source-stream", "", "read records from this Spate stream (a name or an ARN) instead of put")
	f.BoolVar(&fl.delimiter, "delimiter", false, "end every record with a newline in S3 (the AppendDelimiterToRecord processor)")
	f.StringVar(&fl.transform, "transform", "", "transform records with this function before delivery: its ARN, arn:aws:lambda:REGION:ACCOUNT:function:NAME (a Lambda processor)")
	f.StringToStringVar(&fl.tags, "tag", nil, "tag the delivery stream with key=value (repeatable)")
}

// parseCompression reads --compression: an AWS CompressionFormat name, in
// any case.
func parseCompression(s string) (spatev1.CompressionFormat, error) {
	switch strings.ToLower(strings.ReplaceAll(s, "-", "_")) {
	case "":
		return spatev1.CompressionFormat_COMPRESSION_FORMAT_UNSPECIFIED, nil
	case "uncompressed", "none":
		return spatev1.CompressionFormat_COMPRESSION_FORMAT_UNCOMPRESSED, nil
	case "gzip":
		return spatev1.CompressionFormat_COMPRESSION_FORMAT_GZIP, nil
	case "zip":
		return spatev1.CompressionFormat_COMPRESSION_FORMAT_ZIP, nil
	case "snappy":
		return spatev1.CompressionFormat_COMPRESSION_FORMAT_SNAPPY, nil
	case "hadoop_snappy":
		return spatev1.CompressionFormat_COMPRESSION_FORMAT_HADOOP_SNAPPY, nil
	case "zstd":
		return spatev1.CompressionFormat_COMPRESSION_FORMAT_ZSTD, nil
	}
	return 0, fmt.Errorf("--compression %q: want UNCOMPRESSED, GZIP, ZIP, SNAPPY, HADOOP_SNAPPY or ZSTD", s)
}

// createRequestFromFlags builds the request of `spate firehose create`
// without --config-file. A --source-stream that is a name is left for the
// caller to resolve to an ARN.
func createRequestFromFlags(f *pflag.FlagSet, name string, fl createFlags) (*spatev1.CreateDeliveryStreamRequest, error) {
	if fl.bucket == "" {
		return nil, fmt.Errorf("--bucket is required (or give --config-file)")
	}
	cf, err := parseCompression(fl.compression)
	if err != nil {
		return nil, err
	}
	s3 := &spatev1.S3Destination{
		BucketArn: fl.bucket, Prefix: fl.prefix, ErrorOutputPrefix: fl.errorPrefix, CompressionFormat: cf,
	}
	if !strings.HasPrefix(s3.BucketArn, "arn:") {
		s3.BucketArn = "arn:aws:s3:::" + s3.BucketArn
	}
	if f.Changed("buffer-mb") || f.Changed("buffer-seconds") {
		s3.BufferingHints = &spatev1.BufferingHints{}
		if f.Changed("buffer-mb") {
			s3.BufferingHints.SizeInMbs = proto.Int32(int32(fl.bufferMB))
		}
		if f.Changed("buffer-seconds") {
			s3.BufferingHints.IntervalInSeconds = proto.Int32(int32(fl.bufferSeconds))
		}
	}
	var procs []*spatev1.Processor
	if fl.transform != "" {
		if !strings.HasPrefix(fl.transform, "arn:") {
			return nil, fmt.Errorf("--transform %q: give the function's ARN, arn:aws:lambda:REGION:ACCOUNT:function:NAME", fl.transform)
		}
		procs = append(procs, &spatev1.Processor{Type: "Lambda", Parameters: []*spatev1.ProcessorParameter{
			{ParameterName: "LambdaArn", ParameterValue: fl.transform}}})
	}
	if fl.delimiter {
		procs = append(procs, &spatev1.Processor{Type: "AppendDelimiterToRecord"})
	}
	if len(procs) > 0 {
		s3.ProcessingConfiguration = &spatev1.ProcessingConfiguration{Enabled: proto.Bool(true), Processors: procs}
	}
	req := &spatev1.CreateDeliveryStreamRequest{
		DeliveryStreamName: name,
		Destination:        &spatev1.CreateDeliveryStreamRequest_S3{S3: s3},
		Tags:               encodeTagFlags(fl.tags),
	}
	if fl.sourceStream != "" {
		req.DeliveryStreamType = spatev1.DeliveryStreamType_DELIVERY_STREAM_TYPE_KINESIS_STREAM_AS_SOURCE
		req.KinesisStreamArn = fl.sourceStream // an ARN, or a name the caller resolves
	}
	return req, nil
}

// encodeTagFlags turns --tag flags into tags, in key order.
func encodeTagFlags(tags map[string]string) []*spatev1.Tag {
	var out []*spatev1.Tag
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, &spatev1.Tag{Key: k, Value: tags[k]})
	}
	return out
}

// createRequestFromJSON builds a request from the AWS JSON of a
// CreateDeliveryStream request. A member the firehose types do not know is
// an error (it is misspelt, or Spate does not support it), rather than
// being dropped.
func createRequestFromJSON(name string, b []byte) (*spatev1.CreateDeliveryStreamRequest, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var in firehose.CreateDeliveryStreamInput
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("not the AWS JSON of a CreateDeliveryStream request that Spate supports: %w", err)
	}
	switch in.DeliveryStreamName {
	case "", name:
		in.DeliveryStreamName = name
	default:
		return nil, fmt.Errorf("the file names delivery stream %q, the command %q", in.DeliveryStreamName, name)
	}
	return grpcapi.EncodeCreateDeliveryStream(in)
}

func newFirehoseDescribeCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "describe NAME",
		Short: "Show a delivery stream and its destination",
		Long: `Show a delivery stream's status, source and destination, with the defaults
the server applies filled in, and its last delivery errors (a missing bucket,
a failing Elasticsearch or Lambda processor: the status stays ACTIVE while
delivery retries). --output json prints the full description as protobuf JSON.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return show(cmd, output, "describe delivery stream "+args[0],
				func(ctx context.Context, c *apiConn) (*spatev1.DeliveryStreamDescription, error) {
					resp, err := firehoseClient(c).DescribeDeliveryStream(ctx, &spatev1.DescribeDeliveryStreamRequest{DeliveryStreamName: args[0]})
					return resp.GetDeliveryStreamDescription(), err
				}, formatDeliveryStream)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// formatDeliveryStream prints a delivery stream description for people.
func formatDeliveryStream(w io.Writer, d *spatev1.DeliveryStreamDescription) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Delivery stream:\t%s\n", d.GetDeliveryStreamName())
	fmt.Fprintf(tw, "ARN:\t%s\n", d.GetDeliveryStreamArn())
	fmt.Fprintf(tw, "Status:\t%s\n", enumName(d.GetDeliveryStreamStatus(), "DELIVERY_STREAM_STATUS_"))
	fmt.Fprintf(tw, "Type:\t%s\n", enumName(d.GetDeliveryStreamType(), "DELIVERY_STREAM_TYPE_"))
	fmt.Fprintf(tw, "Version:\t%s\n", d.GetVersionId())
	fmt.Fprintf(tw, "Created:\t%s\n", formatTime(d.GetCreateTimestamp()))
	fmt.Fprintf(tw, "Updated:\t%s\n", formatTime(d.GetLastUpdateTimestamp()))
	if src := d.GetKinesisStreamSource(); src != nil {
		fmt.Fprintf(tw, "Source:\t%s (records from %s on)\n", src.GetKinesisStreamArn(), formatTime(src.GetDeliveryStartTimestamp()))
	}
	for _, dest := range d.GetDestinations() {
		switch {
		case dest.GetS3() != nil:
			fmt.Fprintf(tw, "Destination:\t%s (S3)\n", dest.GetDestinationId())
			formatS3(tw, "  ", dest.GetS3())
		case dest.GetElasticsearch() != nil, dest.GetOpensearch() != nil:
			kind, es := "Elasticsearch", dest.GetElasticsearch()
			if es == nil {
				kind, es = "OpenSearch", dest.GetOpensearch()
			}
			fmt.Fprintf(tw, "Destination:\t%s (%s)\n", dest.GetDestinationId(), kind)
			formatES(tw, "  ", es)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return formatDeliveryErrors(w, d.GetDeliveryErrors())
}

// formatDeliveryErrors prints the last delivery errors, newest first, or
// says there are none: the status stays ACTIVE while deliveries fail.
func formatDeliveryErrors(w io.Writer, errs []*spatev1.DeliveryError) error {
	if len(errs) == 0 {
		_, err := fmt.Fprintln(w, "Delivery errors:  none")
		return err
	}
	fmt.Fprintf(w, "Delivery errors (last %d, newest first; delivery is retried):\n", len(errs))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  TIME\tDESTINATION\tCODE\tCOUNT\tMESSAGE")
	for _, e := range errs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\n", formatTime(e.GetTimestamp()), e.GetDestination(), e.GetErrorCode(), e.GetCount(),
			strings.Join(strings.Fields(e.GetErrorMessage()), " "))
	}
	return tw.Flush()
}

func formatS3(tw io.Writer, indent string, s3 *spatev1.S3Destination) {
	fmt.Fprintf(tw, "%sBucket:\t%s\n", indent, s3.GetBucketArn())
	fmt.Fprintf(tw, "%sPrefix:\t%s\n", indent, orDash(s3.GetPrefix()))
	fmt.Fprintf(tw, "%sError prefix:\t%s\n", indent, orDash(s3.GetErrorOutputPrefix()))
	fmt.Fprintf(tw, "%sCompression:\t%s\n", indent, orDash(enumName(s3.GetCompressionFormat(), "COMPRESSION_FORMAT_")))
	fmt.Fprintf(tw, "%sBuffering:\t%s\n", indent, formatHints(s3.GetBufferingHints()))
	if p := formatProcessors(s3.GetProcessingConfiguration()); p != "" {
		fmt.Fprintf(tw, "%sProcessors:\t%s\n", indent, p)
	}
	if dp := s3.GetDynamicPartitioningConfiguration(); dp.GetEnabled() {
		fmt.Fprintf(tw, "%sDynamic partitioning:\tenabled\n", indent)
	}
	if conv := s3.GetDataFormatConversionConfiguration(); conv.GetEnabled() {
		fmt.Fprintf(tw, "%sConversion:\tParquet (%s), columns %s\n", indent,
			orDash(enumName(conv.GetParquetCompression(), "PARQUET_COMPRESSION_")), conv.GetSchemaColumns())
	}
	if ext := s3.GetFileExtension(); ext != "" {
		fmt.Fprintf(tw, "%sFile extension:\t%s\n", indent, ext)
	}
	if s3.GetS3BackupMode() == spatev1.S3BackupMode_S3_BACKUP_MODE_ENABLED {
		fmt.Fprintf(tw, "%sBackup bucket:\t%s\n", indent, s3.GetS3BackupConfiguration().GetBucketArn())
	}
}

func formatES(tw io.Writer, indent string, es *spatev1.ElasticsearchDestination) {
	fmt.Fprintf(tw, "%sCluster:\t%s\n", indent, orDash(es.GetClusterEndpoint()))
	fmt.Fprintf(tw, "%sIndex:\t%s\n", indent, es.GetIndexName())
	fmt.Fprintf(tw, "%sRotation:\t%s\n", indent, orDash(enumName(es.GetIndexRotationPeriod(), "INDEX_ROTATION_PERIOD_")))
	fmt.Fprintf(tw, "%sBuffering:\t%s\n", indent, formatHints(es.GetBufferingHints()))
	if es.RetryDurationInSeconds != nil {
		fmt.Fprintf(tw, "%sRetry for:\t%d s\n", indent, es.GetRetryDurationInSeconds())
	}
	if p := formatProcessors(es.GetProcessingConfiguration()); p != "" {
		fmt.Fprintf(tw, "%sProcessors:\t%s\n", indent, p)
	}
	fmt.Fprintf(tw, "%sS3 backup:\t%s to %s\n", indent,
		orDash(enumName(es.GetS3BackupMode(), "ELASTICSEARCH_S3_BACKUP_MODE_")), orDash(es.GetS3Configuration().GetBucketArn()))
}

// formatHints prints buffering hints as "5 MiB or 300 s".
func formatHints(h *spatev1.BufferingHints) string {
	size, interval := "-", "-"
	if h.SizeInMbs != nil {
		size = fmt.Sprintf("%d MiB", h.GetSizeInMbs())
	}
	if h.IntervalInSeconds != nil {
		interval = fmt.Sprintf("%d s", h.GetIntervalInSeconds())
	}
	return size + " or " + interval
}

// formatProcessors lists the enabled processors' types, or "".
func formatProcessors(p *spatev1.ProcessingConfiguration) string {
	if !p.GetEnabled() {
		return ""
	}
	var types []string
	for _, proc := range p.GetProcessors() {
		types = append(types, proc.GetType())
	}
	return strings.Join(types, ", ")
}

func orDash(s string) string {
	if s == "" || s == "UNSPECIFIED" {
		return "-"
	}
	return s
}

func newFirehoseListCmd() *cobra.Command {
	var output, typ string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List delivery streams",
		Long:  `List the names of every delivery stream, in name order.`,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			req := &spatev1.ListDeliveryStreamsRequest{}
			switch strings.ToLower(strings.ReplaceAll(typ, "_", "-")) {
			case "":
			case "direct-put", "directput":
				req.DeliveryStreamType = spatev1.DeliveryStreamType_DELIVERY_STREAM_TYPE_DIRECT_PUT
			case "kinesis", "kinesis-stream-as-source", "kinesisstreamassource":
				req.DeliveryStreamType = spatev1.DeliveryStreamType_DELIVERY_STREAM_TYPE_KINESIS_STREAM_AS_SOURCE
			default:
				return fmt.Errorf("--type %q: want direct-put or kinesis", typ)
			}
			c, err := dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			list, err := listDeliveryStreams(cmd.Context(), firehoseClient(c), req)
			if err != nil {
				return c.fail("list delivery streams", err)
			}
			if output == "json" {
				return writeJSON(cmd.OutOrStdout(), list)
			}
			return formatDeliveryStreamList(cmd.OutOrStdout(), list.GetDeliveryStreamNames())
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringVar(&typ, "type", "", "only delivery streams of this type: direct-put or kinesis")
	return cmd
}

// listDeliveryStreams lists every delivery stream, following the pages.
func listDeliveryStreams(ctx context.Context, api spatev1.FirehoseServiceClient, req *spatev1.ListDeliveryStreamsRequest) (*spatev1.ListDeliveryStreamsResponse, error) {
	all := &spatev1.ListDeliveryStreamsResponse{}
	req.Limit = 1000
	for {
		resp, err := api.ListDeliveryStreams(ctx, req)
		if err != nil {
			return nil, err
		}
		names := resp.GetDeliveryStreamNames()
		all.DeliveryStreamNames = append(all.DeliveryStreamNames, names...)
		if !resp.GetHasMoreDeliveryStreams() || len(names) == 0 {
			return all, nil
		}
		req.ExclusiveStartDeliveryStreamName = names[len(names)-1]
	}
}

func formatDeliveryStreamList(w io.Writer, names []string) error {
	if len(names) == 0 {
		_, err := fmt.Fprintln(w, "no delivery streams")
		return err
	}
	_, err := fmt.Fprintln(w, strings.Join(names, "\n"))
	return err
}

func newFirehoseDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a delivery stream and its undelivered records",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			if _, err := firehoseClient(c).DeleteDeliveryStream(cmd.Context(), &spatev1.DeleteDeliveryStreamRequest{DeliveryStreamName: args[0]}); err != nil {
				return c.fail("delete delivery stream "+args[0], err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "deleted delivery stream %s\n", args[0])
			return err
		},
	}
}

func newFirehosePutCmd() *cobra.Command {
	var quiet bool
	cmd := &cobra.Command{
		Use:   "put NAME [DATA]",
		Short: "Put one record, or every line of stdin, into a delivery stream",
		Long: `Put records into the DirectPut delivery stream NAME.

With DATA, put one record whose data is DATA and print its record ID.

Without DATA, read stdin and put every line (without its line ending) as one
record, batched into PutRecordBatch calls of at most 500 records and 4 MiB,
as 'spate put' does: progress every second and a summary on stderr (--quiet
hides both), passing failures retried with backoff, and lines over 1,000 KiB
or still failing reported with their line numbers. Records carry no newline:
create the delivery stream with --delimiter to get one record per line in S3.`,
		Example: `  spate firehose put orders '{"id": 1}'
  cat events.jsonl | spate firehose put orders`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			api := firehoseClient(c)
			if len(args) == 2 {
				resp, err := api.PutRecord(cmd.Context(), &spatev1.FirehoseServicePutRecordRequest{DeliveryStreamName: args[0], Data: []byte(args[1])})
				if err != nil {
					return c.fail("put record", err)
				}
				_, err = fmt.Fprintln(cmd.OutOrStdout(), resp.GetRecordId())
				return err
			}
			sink := &deliveryStreamSink{api: api, name: args[0]}
			return newLinePutter("spate firehose put", c.addr, sink, cmd.ErrOrStderr(), !quiet).putAll(cmd.Context(), cmd.InOrStdin())
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress or summary on stderr (failures are still reported)")
	return cmd
}

// deliveryStreamSink puts records into a delivery stream with
// PutRecordBatch.
type deliveryStreamSink struct {
	api  spatev1.FirehoseServiceClient
	name string
}

func (s *deliveryStreamSink) target() string { return s.name }

func (s *deliveryStreamSink) limits() putLimits {
	return putLimits{records: firehose.MaxBatchRecords, batch: firehose.MaxBatchBytes, record: firehose.MaxRecordSize}
}

func (s *deliveryStreamSink) key(int64) string { return "" }

func (s *deliveryStreamSink) oversize() string {
	return fmt.Sprintf("the line exceeds %d bytes (1,000 KiB), the most a record holds", firehose.MaxRecordSize)
}

func (s *deliveryStreamSink) send(ctx context.Context, batch []pendingLine) ([]putResult, error) {
	req := &spatev1.PutRecordBatchRequest{DeliveryStreamName: s.name, Records: make([][]byte, len(batch))}
	for i, l := range batch {
		req.Records[i] = l.data
	}
	resp, err := s.api.PutRecordBatch(ctx, req)
	if err != nil {
		return nil, err
	}
	return putResults(resp.GetRequestResponses()), nil
}
