package firehose

import (
	"context"
	"fmt"
	"strings"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/firehose/compress"
	"github.com/spatehq/spate/firehose/parquetconv"
	"github.com/spatehq/spate/firehose/prefix"
)

// Defaults Firehose applies when a configuration leaves a member out.
const (
	defaultSizeMB          = 5
	defaultIntervalSeconds = 300
	defaultESRetrySeconds  = 300
	defaultRotation        = "OneDay"
	defaultESBackupMode    = "FailedDocumentsOnly"
)

func intp(v int) *int { return &v }

func boolValue(b *bool) bool { return b != nil && *b }

func withHintDefaults(h *BufferingHints) *BufferingHints {
	out := BufferingHints{SizeInMBs: intp(defaultSizeMB), IntervalInSeconds: intp(defaultIntervalSeconds)}
	if h != nil && h.SizeInMBs != nil {
		out.SizeInMBs = h.SizeInMBs
	}
	if h != nil && h.IntervalInSeconds != nil {
		out.IntervalInSeconds = h.IntervalInSeconds
	}
	return &out
}

// withS3Defaults fills in what Firehose shows for members left out.
func withS3Defaults(c ExtendedS3DestinationConfiguration) ExtendedS3DestinationConfiguration {
	c.BufferingHints = withHintDefaults(c.BufferingHints)
	if c.CompressionFormat == "" {
		c.CompressionFormat = string(compress.Uncompressed)
	}
	if c.S3BackupMode == "" {
		c.S3BackupMode = "Disabled"
	}
	return c
}

func withESDefaults(c ElasticsearchDestinationConfiguration) ElasticsearchDestinationConfiguration {
	c.BufferingHints = withHintDefaults(c.BufferingHints)
	if c.RetryOptions == nil || c.RetryOptions.DurationInSeconds == nil {
		c.RetryOptions = &RetryOptions{DurationInSeconds: intp(defaultESRetrySeconds)}
	}
	if c.IndexRotationPeriod == "" {
		c.IndexRotationPeriod = defaultRotation
	}
	if c.S3BackupMode == "" {
		c.S3BackupMode = defaultESBackupMode
	}
	if c.S3Configuration != nil {
		s3 := *c.S3Configuration
		if s3.CompressionFormat == "" {
			s3.CompressionFormat = string(compress.Uncompressed)
		}
		c.S3Configuration = &s3
	}
	return c
}

func invalid(format string, args ...any) error {
	return apierr.New(apierr.InvalidArgument, format, args...)
}

// validateDestination checks a delivery stream's destination by building
// its output (so what is accepted also starts after a restart) and then the
// rules that tie members together.
func (s *Service) validateDestination(ctx context.Context, m *dsMeta) error {
	switch m.DestKind {
	case "ExtendedS3", "S3":
		return s.validateS3(ctx, *m)
	case "Elasticsearch", "Amazonopensearchservice":
		return s.validateES(ctx, *m)
	}
	return invalid("unknown destination kind %q", m.DestKind)
}

func validateHints(where string, h *BufferingHints, maxMB int) error {
	if h == nil {
		return nil
	}
	if h.SizeInMBs != nil && (*h.SizeInMBs < 1 || *h.SizeInMBs > maxMB) {
		return invalid("%s.BufferingHints.SizeInMBs is %d; it must be 1 to %d", where, *h.SizeInMBs, maxMB)
	}
	if h.IntervalInSeconds != nil && (*h.IntervalInSeconds < 0 || *h.IntervalInSeconds > 900) {
		return invalid("%s.BufferingHints.IntervalInSeconds is %d; it must be 0 to 900 (0 delivers as soon as possible)", where, *h.IntervalInSeconds)
	}
	return nil
}

func (s *Service) validateS3(ctx context.Context, m dsMeta) error {
	where := m.DestKind + "DestinationConfiguration"
	c := m.S3
	if err := validateHints(where, c.BufferingHints, 128); err != nil {
		return err
	}
	w, err := newS3Writer(s, m, where, c)
	if err != nil {
		return err
	}
	if w.procs.extractor != nil && !w.partition {
		return invalid("%s: the MetadataExtraction processor needs DynamicPartitioningConfiguration.Enabled", where)
	}
	var keys, lambdaKeys []string
	if w.prefix != nil {
		keys, lambdaKeys = w.prefix.UsesKeys(), w.prefix.UsesLambdaKeys()
	}
	if w.partition && len(keys) == 0 && len(lambdaKeys) == 0 {
		return invalid("%s.Prefix must use !{partitionKeyFromQuery:NAME} or !{partitionKeyFromLambda:NAME} when dynamic partitioning is enabled", where)
	}
	if !w.partition && len(keys) > 0 {
		return invalid("%s.Prefix uses partitionKeyFromQuery, which needs DynamicPartitioningConfiguration.Enabled", where)
	}
	if !w.partition && len(lambdaKeys) > 0 {
		return invalid("%s.Prefix uses partitionKeyFromLambda, which needs DynamicPartitioningConfiguration.Enabled", where)
	}
	if len(keys) > 0 && w.procs.extractor == nil {
		return invalid("%s: dynamic partitioning with partitionKeyFromQuery needs a MetadataExtraction processor with a MetadataExtractionQuery", where)
	}
	if len(lambdaKeys) > 0 && w.procs.lambda == nil {
		return invalid("%s: dynamic partitioning with partitionKeyFromLambda needs a Lambda processor that returns metadata.partitionKeys", where)
	}
	if w.partition && c.ErrorOutputPrefix == "" {
		return invalid("%s.ErrorOutputPrefix is required when dynamic partitioning is enabled", where)
	}
	if w.converter != nil && w.format != compress.Uncompressed {
		return invalid("%s.CompressionFormat must be UNCOMPRESSED when data format conversion is enabled (Parquet compresses itself: set ParquetSerDe.Compression)", where)
	}
	if lp := w.procs.lambda; lp != nil {
		return s.checkFunction(ctx, where+".ProcessingConfiguration", lp)
	}
	return nil
}

// converterOf builds the Parquet converter of an enabled
// DataFormatConversionConfiguration (nil when conversion is off).
func converterOf(where string, conv *DataFormatConversionConfiguration) (*parquetconv.Converter, error) {
	if conv == nil || !boolValue(conv.Enabled) {
		return nil, nil
	}
	where += ".DataFormatConversionConfiguration"
	if conv.SchemaConfiguration == nil || conv.SchemaConfiguration.Columns == "" {
		return nil, invalid("%s.SchemaConfiguration.Columns is required: Spate has no Glue catalogue, so give the schema inline, e.g. \"name:string,price:double,ts:timestamp\"", where)
	}
	cols, err := parquetconv.ParseColumns(conv.SchemaConfiguration.Columns)
	if err != nil {
		return nil, invalid("%s.SchemaConfiguration.Columns: %v", where, err)
	}
	opts := parquetconv.Options{Compression: "SNAPPY"}
	if o := conv.OutputFormatConfiguration; o != nil && o.Serializer != nil {
		if len(o.Serializer.OrcSerDe) > 0 {
			return nil, invalid("%s: OrcSerDe is not supported by Spate; use ParquetSerDe", where)
		}
		if p := o.Serializer.ParquetSerDe; p != nil && p.Compression != "" {
			opts.Compression = strings.ToUpper(p.Compression)
		}
	}
	c, err := parquetconv.NewConverter(cols, opts)
	if err != nil {
		return nil, invalid("%s: %v", where, err)
	}
	return c, nil
}

// processors is a validated ProcessingConfiguration. The Lambda processor
// runs first (transform.go), then MetadataExtraction on what it returned,
// then AppendDelimiterToRecord.
type processors struct {
	delimiter bool
	extractor *prefix.Extractor
	lambda    *lambdaProcessor
}

func parseProcessors(where string, pc *ProcessingConfiguration) (processors, error) {
	var out processors
	if pc == nil || !boolValue(pc.Enabled) {
		return out, nil
	}
	for i, p := range pc.Processors {
		switch p.Type {
		case "AppendDelimiterToRecord":
			out.delimiter = true
		case "MetadataExtraction":
			var query, engine string
			for _, param := range p.Parameters {
				switch param.ParameterName {
				case "MetadataExtractionQuery":
					query = param.ParameterValue
				case "JsonParsingEngine":
					engine = param.ParameterValue
				}
			}
			if engine != "" && engine != "JQ-1.6" {
				return out, invalid("%s.ProcessingConfiguration.Processors[%d]: JsonParsingEngine %q is not supported; use JQ-1.6", where, i, engine)
			}
			ex, err := prefix.NewExtractor(query)
			if err != nil {
				return out, invalid("%s.ProcessingConfiguration.Processors[%d].MetadataExtractionQuery: %v", where, i, err)
			}
			out.extractor = ex
		case "Lambda":
			if out.lambda != nil {
				return out, invalid("%s.ProcessingConfiguration.Processors[%d]: only one Lambda processor is allowed", where, i)
			}
			lp, err := parseLambda(fmt.Sprintf("%s.ProcessingConfiguration.Processors[%d]", where, i), p)
			if err != nil {
				return out, err
			}
			out.lambda = lp
		default:
			return out, invalid("%s.ProcessingConfiguration.Processors[%d]: processor type %s is not supported by Spate; supported: AppendDelimiterToRecord, Lambda, MetadataExtraction", where, i, p.Type)
		}
	}
	return out, nil
}

func (s *Service) validateES(ctx context.Context, m dsMeta) error {
	where := m.DestKind + "DestinationConfiguration"
	c := m.ES
	if c.IndexName == "" {
		return invalid("%s.IndexName is required", where)
	}
	if c.ClusterEndpoint == "" && s.cfg.esURL == "" {
		return invalid("%s: give ClusterEndpoint (Spate cannot resolve a DomainARN), or start spate serve with --es-url", where)
	}
	if err := validateHints(where, c.BufferingHints, 100); err != nil {
		return err
	}
	if r := c.RetryOptions; r != nil && r.DurationInSeconds != nil && (*r.DurationInSeconds < 0 || *r.DurationInSeconds > 7200) {
		return invalid("%s.RetryOptions.DurationInSeconds is %d; it must be 0 to 7200", where, *r.DurationInSeconds)
	}
	switch c.S3BackupMode {
	case "", "FailedDocumentsOnly", "AllDocuments":
	default:
		return invalid("%s.S3BackupMode %q is invalid: use FailedDocumentsOnly or AllDocuments", where, c.S3BackupMode)
	}
	d, err := s.newESDeliverer(m, where, withESDefaults(*c))
	if err != nil {
		return err
	}
	if d.lambda != nil {
		return s.checkFunction(ctx, where+".ProcessingConfiguration", d.lambda)
	}
	return nil
}
