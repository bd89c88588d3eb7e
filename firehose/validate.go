package firehose

import (
	"strings"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/firehose/compress"
	"github.com/spatehq/spate/firehose/essink"
	"github.com/spatehq/spate/firehose/parquetconv"
	"github.com/spatehq/spate/firehose/prefix"
	"github.com/spatehq/spate/firehose/s3store"
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

// validateDestination checks a delivery stream's destination and everything
// it refers to, so that a delivery stream that is created can deliver.
func (s *Service) validateDestination(m *dsMeta) error {
	var err error
	switch m.DestKind {
	case "ExtendedS3", "S3":
		err = s.validateS3(m.S3)
	case "Elasticsearch", "Amazonopensearchservice":
		err = s.validateES(m.ES)
	default:
		err = invalid("unknown destination kind %q", m.DestKind)
	}
	if err != nil {
		return err
	}
	// Build the real output too: what is accepted here must start after a
	// restart (a cluster URL the client rejects, say).
	if _, _, err := s.newDeliverer(*m); err != nil {
		return invalid("%s destination: %v", m.DestKind, err)
	}
	return nil
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

func (s *Service) validateBucket(where, arn string) error {
	if s.s3 == nil {
		return invalid("%s: this server has no S3 endpoint; start spate serve with --s3-endpoint (or SPATE_S3_ENDPOINT)", where)
	}
	if _, err := s3store.ParseBucketARN(arn); err != nil {
		return invalid("%s.BucketARN: %v", where, err)
	}
	return nil
}

func validatePrefix(where, p string) error {
	if p == "" {
		return nil
	}
	if _, err := prefix.Compile(p); err != nil {
		return invalid("%s: %v", where, err)
	}
	return nil
}

func (s *Service) validatePlainS3(where string, c *S3DestinationConfiguration) error {
	if c == nil {
		return invalid("%s is required", where)
	}
	if err := s.validateBucket(where, c.BucketARN); err != nil {
		return err
	}
	if err := validateHints(where, c.BufferingHints, 128); err != nil {
		return err
	}
	if c.CompressionFormat != "" {
		if _, err := compress.ParseFormat(c.CompressionFormat); err != nil {
			return invalid("%s.CompressionFormat: %v", where, err)
		}
	}
	if err := validatePrefix(where+".Prefix", c.Prefix); err != nil {
		return err
	}
	return validateErrorPrefix(where, c.ErrorOutputPrefix, c.Prefix)
}

func validateErrorPrefix(where, errorOutputPrefix, prefixExpr string) error {
	if _, err := prefix.CompileErrorOutput(errorOutputPrefix, prefixExpr); err != nil {
		return invalid("%s.ErrorOutputPrefix: %v", where, err)
	}
	return nil
}

func (s *Service) validateS3(c *ExtendedS3DestinationConfiguration) error {
	const where = "ExtendedS3DestinationConfiguration"
	if err := s.validateBucket(where, c.BucketARN); err != nil {
		return err
	}
	if err := validateHints(where, c.BufferingHints, 128); err != nil {
		return err
	}
	format := compress.Uncompressed
	if c.CompressionFormat != "" {
		f, err := compress.ParseFormat(c.CompressionFormat)
		if err != nil {
			return invalid("%s.CompressionFormat: %v", where, err)
		}
		format = f
	}
	dynamic := c.DynamicPartitioningConfiguration != nil && boolValue(c.DynamicPartitioningConfiguration.Enabled)
	procs, err := parseProcessors(where, c.ProcessingConfiguration)
	if err != nil {
		return err
	}
	if procs.extractor != nil && !dynamic {
		return invalid("%s: the MetadataExtraction processor needs DynamicPartitioningConfiguration.Enabled", where)
	}
	if c.Prefix != "" || dynamic {
		t, err := prefix.Compile(c.Prefix)
		if err != nil {
			return invalid("%s.Prefix: %v", where, err)
		}
		keys := t.UsesKeys()
		if dynamic && len(keys) == 0 {
			return invalid("%s.Prefix must use !{partitionKeyFromQuery:NAME} when dynamic partitioning is enabled", where)
		}
		if !dynamic && len(keys) > 0 {
			return invalid("%s.Prefix uses partitionKeyFromQuery, which needs DynamicPartitioningConfiguration.Enabled", where)
		}
		if dynamic && procs.extractor == nil {
			return invalid("%s: dynamic partitioning with partitionKeyFromQuery needs a MetadataExtraction processor with a MetadataExtractionQuery", where)
		}
	}
	if dynamic && c.ErrorOutputPrefix == "" {
		return invalid("%s.ErrorOutputPrefix is required when dynamic partitioning is enabled", where)
	}
	if err := validateErrorPrefix(where, c.ErrorOutputPrefix, c.Prefix); err != nil {
		return err
	}
	if conv := c.DataFormatConversionConfiguration; conv != nil && boolValue(conv.Enabled) {
		if _, err := conversionOf(c); err != nil {
			return err
		}
		if format != compress.Uncompressed {
			return invalid("%s.CompressionFormat must be UNCOMPRESSED when data format conversion is enabled (Parquet compresses itself: set ParquetSerDe.Compression)", where)
		}
	}
	if c.CustomTimeZone != "" {
		if _, err := time.LoadLocation(c.CustomTimeZone); err != nil {
			return invalid("%s.CustomTimeZone %q is not a time zone Spate knows (use an IANA name such as Europe/Paris)", where, c.CustomTimeZone)
		}
	}
	if c.S3BackupMode == "Enabled" {
		if err := s.validatePlainS3(where+".S3BackupConfiguration", c.S3BackupConfiguration); err != nil {
			return err
		}
	}
	return nil
}

// conversion is a validated DataFormatConversionConfiguration.
type conversion struct {
	columns     []parquetconv.Column
	compression string
}

func conversionOf(c *ExtendedS3DestinationConfiguration) (out *conversion, err error) {
	const where = "ExtendedS3DestinationConfiguration.DataFormatConversionConfiguration"
	conv := c.DataFormatConversionConfiguration
	if conv == nil || !boolValue(conv.Enabled) {
		return nil, nil
	}
	if conv.SchemaConfiguration == nil || conv.SchemaConfiguration.Columns == "" {
		return nil, invalid("%s.SchemaConfiguration.Columns is required: Spate has no Glue catalogue, so give the schema inline, e.g. \"name:string,price:double,ts:timestamp\"", where)
	}
	cols, err := parquetconv.ParseColumns(conv.SchemaConfiguration.Columns)
	if err != nil {
		return nil, invalid("%s.SchemaConfiguration.Columns: %v", where, err)
	}
	out = &conversion{columns: cols, compression: "SNAPPY"}
	defer func() {
		if out != nil {
			if _, cerr := parquetconv.NewConverter(out.columns, parquetconv.Options{Compression: out.compression}); cerr != nil {
				out, err = nil, invalid("%s: %v", where, cerr)
			}
		}
	}()
	if o := conv.OutputFormatConfiguration; o != nil && o.Serializer != nil {
		if len(o.Serializer.OrcSerDe) > 0 {
			return nil, invalid("%s: OrcSerDe is not supported by Spate; use ParquetSerDe", where)
		}
		if p := o.Serializer.ParquetSerDe; p != nil && p.Compression != "" {
			out.compression = strings.ToUpper(p.Compression)
		}
	}
	return out, nil
}

// processors is a validated ProcessingConfiguration.
type processors struct {
	delimiter bool
	extractor *prefix.Extractor
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
		default:
			return out, invalid("%s.ProcessingConfiguration.Processors[%d]: processor type %s is not supported by Spate; supported: AppendDelimiterToRecord, MetadataExtraction", where, i, p.Type)
		}
	}
	return out, nil
}

func (s *Service) validateES(c *ElasticsearchDestinationConfiguration) error {
	const where = "ElasticsearchDestinationConfiguration"
	if c.IndexName == "" {
		return invalid("%s.IndexName is required", where)
	}
	if c.ClusterEndpoint == "" && s.cfg.esURL == "" {
		return invalid("%s: give ClusterEndpoint (Spate cannot resolve a DomainARN), or start spate serve with --es-url", where)
	}
	if c.IndexRotationPeriod != "" {
		if _, err := essink.ParseRotation(c.IndexRotationPeriod); err != nil {
			return invalid("%s.IndexRotationPeriod: %v", where, err)
		}
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
	if pc := c.ProcessingConfiguration; pc != nil && boolValue(pc.Enabled) && len(pc.Processors) > 0 {
		return invalid("%s.ProcessingConfiguration: Spate's processors (AppendDelimiterToRecord, MetadataExtraction) apply to S3 destinations only; leave ProcessingConfiguration out", where)
	}
	return s.validatePlainS3(where+".S3Configuration", c.S3Configuration)
}
