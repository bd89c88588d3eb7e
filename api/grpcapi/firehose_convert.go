package grpcapi

import (
	"fmt"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/firehose"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// Conversions between the Firehose protobuf messages and the firehose
// package's configuration types (which carry the AWS JSON members). Decoders
// return apierr values for input that has no firehose equivalent (an
// unknown enum number, an S3 member an S3 configuration cannot hold);
// everything else is the service's to judge. The AWS members the messages
// leave out (RoleARN, CloudWatchLoggingOptions, EncryptionConfiguration,
// ...) are ones Spate does not act on.

// awsNames maps the values of a protobuf enum to the AWS names they stand
// for. UNSPECIFIED (0) stands for "", an absent member.
type awsNames[E ~int32] map[E]string

func (n awsNames[E]) aws(v E, field string) (string, error) {
	if v == 0 {
		return "", nil
	}
	if s, ok := n[v]; ok {
		return s, nil
	}
	return "", apierr.New(apierr.InvalidArgument, "%s %d is not one of its enum's values", field, v)
}

func (n awsNames[E]) proto(s, member string) (E, error) {
	if s == "" {
		return 0, nil
	}
	for v, name := range n {
		if name == s {
			return v, nil
		}
	}
	return 0, apierr.New(apierr.InvalidArgument, "%s %q has no gRPC equivalent", member, s)
}

var (
	deliveryStreamTypeNames = awsNames[spatev1.DeliveryStreamType]{
		spatev1.DeliveryStreamType_DELIVERY_STREAM_TYPE_DIRECT_PUT:               firehose.TypeDirectPut,
		spatev1.DeliveryStreamType_DELIVERY_STREAM_TYPE_KINESIS_STREAM_AS_SOURCE: firehose.TypeKinesisStreamAsSource,
	}
	deliveryStreamStatusNames = awsNames[spatev1.DeliveryStreamStatus]{
		spatev1.DeliveryStreamStatus_DELIVERY_STREAM_STATUS_CREATING: firehose.StatusCreating,
		spatev1.DeliveryStreamStatus_DELIVERY_STREAM_STATUS_ACTIVE:   firehose.StatusActive,
		spatev1.DeliveryStreamStatus_DELIVERY_STREAM_STATUS_DELETING: firehose.StatusDeleting,
	}
	compressionFormatNames = awsNames[spatev1.CompressionFormat]{
		spatev1.CompressionFormat_COMPRESSION_FORMAT_UNCOMPRESSED:  "UNCOMPRESSED",
		spatev1.CompressionFormat_COMPRESSION_FORMAT_GZIP:          "GZIP",
		spatev1.CompressionFormat_COMPRESSION_FORMAT_ZIP:           "ZIP",
		spatev1.CompressionFormat_COMPRESSION_FORMAT_SNAPPY:        "Snappy",
		spatev1.CompressionFormat_COMPRESSION_FORMAT_HADOOP_SNAPPY: "HADOOP_SNAPPY",
		spatev1.CompressionFormat_COMPRESSION_FORMAT_ZSTD:          "ZSTD",
	}
	s3BackupModeNames = awsNames[spatev1.S3BackupMode]{
		spatev1.S3BackupMode_S3_BACKUP_MODE_DISABLED: "Disabled",
		spatev1.S3BackupMode_S3_BACKUP_MODE_ENABLED:  "Enabled",
	}
	parquetCompressionNames = awsNames[spatev1.ParquetCompression]{
		spatev1.ParquetCompression_PARQUET_COMPRESSION_UNCOMPRESSED: "UNCOMPRESSED",
		spatev1.ParquetCompression_PARQUET_COMPRESSION_GZIP:         "GZIP",
		spatev1.ParquetCompression_PARQUET_COMPRESSION_SNAPPY:       "SNAPPY",
	}
	indexRotationPeriodNames = awsNames[spatev1.IndexRotationPeriod]{
		spatev1.IndexRotationPeriod_INDEX_ROTATION_PERIOD_NO_ROTATION: "NoRotation",
		spatev1.IndexRotationPeriod_INDEX_ROTATION_PERIOD_ONE_HOUR:    "OneHour",
		spatev1.IndexRotationPeriod_INDEX_ROTATION_PERIOD_ONE_DAY:     "OneDay",
		spatev1.IndexRotationPeriod_INDEX_ROTATION_PERIOD_ONE_WEEK:    "OneWeek",
		spatev1.IndexRotationPeriod_INDEX_ROTATION_PERIOD_ONE_MONTH:   "OneMonth",
	}
	esBackupModeNames = awsNames[spatev1.ElasticsearchS3BackupMode]{
		spatev1.ElasticsearchS3BackupMode_ELASTICSEARCH_S3_BACKUP_MODE_FAILED_DOCUMENTS_ONLY: "FailedDocumentsOnly",
		spatev1.ElasticsearchS3BackupMode_ELASTICSEARCH_S3_BACKUP_MODE_ALL_DOCUMENTS:         "AllDocuments",
	}
)

// optInt and optInt32 carry an optional number across.
func optInt(p *int32) *int {
	if p == nil {
		return nil
	}
	v := int(*p)
	return &v
}

func optInt32(p *int) *int32 {
	if p == nil {
		return nil
	}
	v := int32(*p)
	return &v
}

func optBool(p *bool) *bool {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func decodeHints(h *spatev1.BufferingHints) *firehose.BufferingHints {
	if h == nil {
		return nil
	}
	return &firehose.BufferingHints{SizeInMBs: optInt(h.SizeInMbs), IntervalInSeconds: optInt(h.IntervalInSeconds)}
}

func encodeHints(h *firehose.BufferingHints) *spatev1.BufferingHints {
	if h == nil {
		return nil
	}
	return &spatev1.BufferingHints{SizeInMbs: optInt32(h.SizeInMBs), IntervalInSeconds: optInt32(h.IntervalInSeconds)}
}

func decodeProcessing(p *spatev1.ProcessingConfiguration) *firehose.ProcessingConfiguration {
	if p == nil {
		return nil
	}
	out := &firehose.ProcessingConfiguration{Enabled: optBool(p.Enabled)}
	for _, proc := range p.GetProcessors() {
		fp := firehose.Processor{Type: proc.GetType()}
		for _, param := range proc.GetParameters() {
			fp.Parameters = append(fp.Parameters, firehose.ProcessorParameter{
				ParameterName: param.GetParameterName(), ParameterValue: param.GetParameterValue(),
			})
		}
		out.Processors = append(out.Processors, fp)
	}
	return out
}

func encodeProcessing(p *firehose.ProcessingConfiguration) *spatev1.ProcessingConfiguration {
	if p == nil {
		return nil
	}
	out := &spatev1.ProcessingConfiguration{Enabled: optBool(p.Enabled)}
	for _, proc := range p.Processors {
		pp := &spatev1.Processor{Type: proc.Type}
		for _, param := range proc.Parameters {
			pp.Parameters = append(pp.Parameters, &spatev1.ProcessorParameter{
				ParameterName: param.ParameterName, ParameterValue: param.ParameterValue,
			})
		}
		out.Processors = append(out.Processors, pp)
	}
	return out
}

// decodeS3 decodes an S3 destination.
func decodeS3(d *spatev1.S3Destination) (*firehose.ExtendedS3DestinationConfiguration, error) {
	if d == nil {
		return nil, nil
	}
	plain, err := decodePlainS3Members(d)
	if err != nil {
		return nil, err
	}
	out := &firehose.ExtendedS3DestinationConfiguration{
		BucketARN: plain.BucketARN, Prefix: plain.Prefix, ErrorOutputPrefix: plain.ErrorOutputPrefix,
		BufferingHints: plain.BufferingHints, CompressionFormat: plain.CompressionFormat,
		ProcessingConfiguration: decodeProcessing(d.GetProcessingConfiguration()),
		FileExtension:           d.GetFileExtension(),
	}
	if dp := d.GetDynamicPartitioningConfiguration(); dp != nil {
		out.DynamicPartitioningConfiguration = &firehose.DynamicPartitioningConfiguration{Enabled: optBool(dp.Enabled)}
		if dp.RetryDurationInSeconds != nil {
			out.DynamicPartitioningConfiguration.RetryOptions = &firehose.RetryOptions{DurationInSeconds: optInt(dp.RetryDurationInSeconds)}
		}
	}
	if conv := d.GetDataFormatConversionConfiguration(); conv != nil {
		c := &firehose.DataFormatConversionConfiguration{Enabled: optBool(conv.Enabled)}
		if cols := conv.GetSchemaColumns(); cols != "" {
			c.SchemaConfiguration = &firehose.SchemaConfiguration{Columns: cols}
		}
		pc, err := parquetCompressionNames.aws(conv.GetParquetCompression(), "parquet_compression")
		if err != nil {
			return nil, err
		}
		if pc != "" {
			c.OutputFormatConfiguration = &firehose.OutputFormatConfiguration{
				Serializer: &firehose.Serializer{ParquetSerDe: &firehose.ParquetSerDe{Compression: pc}},
			}
		}
		out.DataFormatConversionConfiguration = c
	}
	if out.S3BackupMode, err = s3BackupModeNames.aws(d.GetS3BackupMode(), "s3_backup_mode"); err != nil {
		return nil, err
	}
	if out.S3BackupConfiguration, err = decodePlainS3(d.GetS3BackupConfiguration(), "s3_backup_configuration"); err != nil {
		return nil, err
	}
	return out, nil
}

// decodePlainS3 decodes the S3 configuration of another destination, which
// takes only the members of S3DestinationConfiguration.
func decodePlainS3(d *spatev1.S3Destination, field string) (*firehose.S3DestinationConfiguration, error) {
	if d == nil {
		return nil, nil
	}
	for _, m := range []struct {
		set  bool
		name string
	}{
		{d.ProcessingConfiguration != nil, "processing_configuration"},
		{d.DynamicPartitioningConfiguration != nil, "dynamic_partitioning_configuration"},
		{d.DataFormatConversionConfiguration != nil, "data_format_conversion_configuration"},
		{d.FileExtension != "", "file_extension"},
		{d.S3BackupMode != 0, "s3_backup_mode"},
		{d.S3BackupConfiguration != nil, "s3_backup_configuration"},
	} {
		if m.set {
			return nil, apierr.New(apierr.InvalidArgument,
				"%s.%s: an S3 configuration of this kind takes only bucket_arn, prefix, error_output_prefix, buffering_hints and compression_format", field, m.name)
		}
	}
	return decodePlainS3Members(d)
}

func decodePlainS3Members(d *spatev1.S3Destination) (*firehose.S3DestinationConfiguration, error) {
	cf, err := compressionFormatNames.aws(d.GetCompressionFormat(), "compression_format")
	if err != nil {
		return nil, err
	}
	return &firehose.S3DestinationConfiguration{
		BucketARN: d.GetBucketArn(), Prefix: d.GetPrefix(), ErrorOutputPrefix: d.GetErrorOutputPrefix(),
		BufferingHints: decodeHints(d.GetBufferingHints()), CompressionFormat: cf,
	}, nil
}

func decodeES(d *spatev1.ElasticsearchDestination) (*firehose.ElasticsearchDestinationConfiguration, error) {
	if d == nil {
		return nil, nil
	}
	out := &firehose.ElasticsearchDestinationConfiguration{
		ClusterEndpoint: d.GetClusterEndpoint(), IndexName: d.GetIndexName(),
		BufferingHints:          decodeHints(d.GetBufferingHints()),
		ProcessingConfiguration: decodeProcessing(d.GetProcessingConfiguration()),
	}
	var err error
	if out.IndexRotationPeriod, err = indexRotationPeriodNames.aws(d.GetIndexRotationPeriod(), "index_rotation_period"); err != nil {
		return nil, err
	}
	if out.S3BackupMode, err = esBackupModeNames.aws(d.GetS3BackupMode(), "s3_backup_mode"); err != nil {
		return nil, err
	}
	if d.RetryDurationInSeconds != nil {
		out.RetryOptions = &firehose.RetryOptions{DurationInSeconds: optInt(d.RetryDurationInSeconds)}
	}
	if out.S3Configuration, err = decodePlainS3(d.GetS3Configuration(), "s3_configuration"); err != nil {
		return nil, err
	}
	return out, nil
}

func encodeS3(c *firehose.ExtendedS3DestinationConfiguration) (*spatev1.S3Destination, error) {
	if c == nil {
		return nil, nil
	}
	out, err := encodePlainS3(&firehose.S3DestinationConfiguration{
		BucketARN: c.BucketARN, Prefix: c.Prefix, ErrorOutputPrefix: c.ErrorOutputPrefix,
		BufferingHints: c.BufferingHints, CompressionFormat: c.CompressionFormat,
	})
	if err != nil {
		return nil, err
	}
	out.ProcessingConfiguration = encodeProcessing(c.ProcessingConfiguration)
	out.FileExtension = c.FileExtension
	if dp := c.DynamicPartitioningConfiguration; dp != nil {
		out.DynamicPartitioningConfiguration = &spatev1.DynamicPartitioningConfiguration{Enabled: optBool(dp.Enabled)}
		if dp.RetryOptions != nil {
			out.DynamicPartitioningConfiguration.RetryDurationInSeconds = optInt32(dp.RetryOptions.DurationInSeconds)
		}
	}
	if conv := c.DataFormatConversionConfiguration; conv != nil {
		pc := &spatev1.DataFormatConversionConfiguration{Enabled: optBool(conv.Enabled)}
		if conv.SchemaConfiguration != nil {
			pc.SchemaColumns = conv.SchemaConfiguration.Columns
		}
		if o := conv.OutputFormatConfiguration; o != nil && o.Serializer != nil {
			if len(o.Serializer.OrcSerDe) > 0 {
				return nil, apierr.New(apierr.InvalidArgument, "OrcSerDe is not supported by Spate; use ParquetSerDe")
			}
			if p := o.Serializer.ParquetSerDe; p != nil {
				if pc.ParquetCompression, err = parquetCompressionNames.proto(p.Compression, "ParquetSerDe.Compression"); err != nil {
					return nil, err
				}
			}
		}
		out.DataFormatConversionConfiguration = pc
	}
	if out.S3BackupMode, err = s3BackupModeNames.proto(c.S3BackupMode, "S3BackupMode"); err != nil {
		return nil, err
	}
	if out.S3BackupConfiguration, err = encodePlainS3(c.S3BackupConfiguration); err != nil {
		return nil, err
	}
	return out, nil
}

func encodePlainS3(c *firehose.S3DestinationConfiguration) (*spatev1.S3Destination, error) {
	if c == nil {
		return nil, nil
	}
	cf, err := compressionFormatNames.proto(c.CompressionFormat, "CompressionFormat")
	if err != nil {
		return nil, err
	}
	return &spatev1.S3Destination{
		BucketArn: c.BucketARN, Prefix: c.Prefix, ErrorOutputPrefix: c.ErrorOutputPrefix,
		BufferingHints: encodeHints(c.BufferingHints), CompressionFormat: cf,
	}, nil
}

func encodeES(c *firehose.ElasticsearchDestinationConfiguration) (*spatev1.ElasticsearchDestination, error) {
	if c == nil {
		return nil, nil
	}
	out := &spatev1.ElasticsearchDestination{
		ClusterEndpoint: c.ClusterEndpoint, IndexName: c.IndexName,
		BufferingHints:          encodeHints(c.BufferingHints),
		ProcessingConfiguration: encodeProcessing(c.ProcessingConfiguration),
	}
	var err error
	if out.IndexRotationPeriod, err = indexRotationPeriodNames.proto(c.IndexRotationPeriod, "IndexRotationPeriod"); err != nil {
		return nil, err
	}
	if out.S3BackupMode, err = esBackupModeNames.proto(c.S3BackupMode, "S3BackupMode"); err != nil {
		return nil, err
	}
	if c.RetryOptions != nil {
		out.RetryDurationInSeconds = optInt32(c.RetryOptions.DurationInSeconds)
	}
	if out.S3Configuration, err = encodePlainS3(c.S3Configuration); err != nil {
		return nil, err
	}
	return out, nil
}

func decodeFirehoseTags(in []*spatev1.Tag) []firehose.Tag {
	if len(in) == 0 {
		return nil
	}
	out := make([]firehose.Tag, len(in))
	for i, t := range in {
		out[i] = firehose.Tag{Key: t.GetKey(), Value: t.GetValue()}
	}
	return out
}

func encodeFirehoseTags(in []firehose.Tag) []*spatev1.Tag {
	out := make([]*spatev1.Tag, len(in))
	for i, t := range in {
		out[i] = &spatev1.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

// decodeCreate decodes a CreateDeliveryStream request.
func decodeCreate(req *spatev1.CreateDeliveryStreamRequest) (firehose.CreateDeliveryStreamInput, error) {
	in := firehose.CreateDeliveryStreamInput{DeliveryStreamName: req.GetDeliveryStreamName(), Tags: decodeFirehoseTags(req.GetTags())}
	var err error
	if in.DeliveryStreamType, err = deliveryStreamTypeNames.aws(req.GetDeliveryStreamType(), "delivery_stream_type"); err != nil {
		return in, err
	}
	if arn := req.GetKinesisStreamArn(); arn != "" {
		in.KinesisStreamSourceConfiguration = &firehose.KinesisStreamSourceConfiguration{KinesisStreamARN: arn}
	}
	switch d := req.GetDestination().(type) {
	case *spatev1.CreateDeliveryStreamRequest_S3:
		in.ExtendedS3DestinationConfiguration, err = decodeS3(d.S3)
	case *spatev1.CreateDeliveryStreamRequest_Elasticsearch:
		in.ElasticsearchDestinationConfiguration, err = decodeES(d.Elasticsearch)
	case *spatev1.CreateDeliveryStreamRequest_Opensearch:
		in.AmazonopensearchserviceDestinationConfiguration, err = decodeES(d.Opensearch)
	}
	return in, err
}

// EncodeCreateDeliveryStream turns the AWS form of a CreateDeliveryStream
// request (as the Firehose JSON API takes it, decoded into the firehose
// package's types) into its gRPC form, for clients that read AWS JSON
// configurations. A plain S3DestinationConfiguration becomes an S3
// destination (its members are a subset of the extended one's). Members
// the gRPC API does not carry because Spate does not act on them (RoleARN,
// CloudWatchLoggingOptions, EncryptionConfiguration, ...) are dropped;
// a value with no gRPC equivalent (an unknown CompressionFormat, OrcSerDe)
// is an InvalidArgumentException.
func EncodeCreateDeliveryStream(in firehose.CreateDeliveryStreamInput) (*spatev1.CreateDeliveryStreamRequest, error) {
	req := &spatev1.CreateDeliveryStreamRequest{DeliveryStreamName: in.DeliveryStreamName, Tags: encodeFirehoseTags(in.Tags)}
	var err error
	if req.DeliveryStreamType, err = deliveryStreamTypeNames.proto(in.DeliveryStreamType, "DeliveryStreamType"); err != nil {
		return nil, err
	}
	if src := in.KinesisStreamSourceConfiguration; src != nil {
		req.KinesisStreamArn = src.KinesisStreamARN
	}
	n := 0
	if c := in.ExtendedS3DestinationConfiguration; c != nil {
		n++
		s3, err := encodeS3(c)
		if err != nil {
			return nil, fmt.Errorf("ExtendedS3DestinationConfiguration: %w", err)
		}
		req.Destination = &spatev1.CreateDeliveryStreamRequest_S3{S3: s3}
	}
	if c := in.S3DestinationConfiguration; c != nil {
		n++
		s3, err := encodePlainS3(c)
		if err != nil {
			return nil, fmt.Errorf("S3DestinationConfiguration: %w", err)
		}
		req.Destination = &spatev1.CreateDeliveryStreamRequest_S3{S3: s3}
	}
	if c := in.ElasticsearchDestinationConfiguration; c != nil {
		n++
		es, err := encodeES(c)
		if err != nil {
			return nil, fmt.Errorf("ElasticsearchDestinationConfiguration: %w", err)
		}
		req.Destination = &spatev1.CreateDeliveryStreamRequest_Elasticsearch{Elasticsearch: es}
	}
	if c := in.AmazonopensearchserviceDestinationConfiguration; c != nil {
		n++
		es, err := encodeES(c)
		if err != nil {
			return nil, fmt.Errorf("AmazonopensearchserviceDestinationConfiguration: %w", err)
		}
		req.Destination = &spatev1.CreateDeliveryStreamRequest_Opensearch{Opensearch: es}
	}
	if n > 1 {
		return nil, apierr.New(apierr.InvalidArgument, "give exactly one destination configuration (got %d)", n)
	}
	return req, nil
}

// decodeUpdate decodes an UpdateDestination request.
func decodeUpdate(req *spatev1.UpdateDestinationRequest) (firehose.UpdateDestinationInput, error) {
	in := firehose.UpdateDestinationInput{
		DeliveryStreamName:             req.GetDeliveryStreamName(),
		CurrentDeliveryStreamVersionId: req.GetCurrentDeliveryStreamVersionId(),
		DestinationId:                  req.GetDestinationId(),
	}
	var err error
	switch u := req.GetUpdate().(type) {
	case *spatev1.UpdateDestinationRequest_S3:
		in.ExtendedS3DestinationUpdate, err = decodeS3(u.S3)
	case *spatev1.UpdateDestinationRequest_Elasticsearch:
		in.ElasticsearchDestinationUpdate, err = decodeES(u.Elasticsearch)
	case *spatev1.UpdateDestinationRequest_Opensearch:
		in.AmazonopensearchserviceDestinationUpdate, err = decodeES(u.Opensearch)
	}
	return in, err
}

// encodeDeliveryStream encodes a description.
func encodeDeliveryStream(d firehose.DeliveryStreamDescription) (*spatev1.DeliveryStreamDescription, error) {
	out := &spatev1.DeliveryStreamDescription{
		DeliveryStreamName:  d.DeliveryStreamName,
		DeliveryStreamArn:   d.DeliveryStreamARN,
		VersionId:           d.VersionId,
		CreateTimestamp:     encodeTime(d.CreateTimestamp),
		LastUpdateTimestamp: encodeTime(d.LastUpdateTimestamp),
	}
	var err error
	if out.DeliveryStreamStatus, err = deliveryStreamStatusNames.proto(d.DeliveryStreamStatus, "DeliveryStreamStatus"); err != nil {
		return nil, err
	}
	if out.DeliveryStreamType, err = deliveryStreamTypeNames.proto(d.DeliveryStreamType, "DeliveryStreamType"); err != nil {
		return nil, err
	}
	if src := d.Source; src != nil && src.KinesisStreamSourceDescription != nil {
		out.KinesisStreamSource = &spatev1.KinesisStreamSourceDescription{
			KinesisStreamArn:       src.KinesisStreamSourceDescription.KinesisStreamARN,
			DeliveryStartTimestamp: encodeTime(src.KinesisStreamSourceDescription.DeliveryStartTimestamp),
		}
	}
	for _, dd := range d.Destinations {
		dest := &spatev1.Destination{DestinationId: dd.DestinationId}
		switch {
		case dd.ExtendedS3DestinationDescription != nil:
			s3, err := encodeS3(dd.ExtendedS3DestinationDescription)
			if err != nil {
				return nil, err
			}
			dest.Destination = &spatev1.Destination_S3{S3: s3}
		case dd.S3DestinationDescription != nil:
			s3, err := encodePlainS3(dd.S3DestinationDescription)
			if err != nil {
				return nil, err
			}
			dest.Destination = &spatev1.Destination_S3{S3: s3}
		case dd.ElasticsearchDestinationDescription != nil:
			es, err := encodeES(dd.ElasticsearchDestinationDescription)
			if err != nil {
				return nil, err
			}
			dest.Destination = &spatev1.Destination_Elasticsearch{Elasticsearch: es}
		case dd.AmazonopensearchserviceDestinationDescription != nil:
			es, err := encodeES(dd.AmazonopensearchserviceDestinationDescription)
			if err != nil {
				return nil, err
			}
			dest.Destination = &spatev1.Destination_Opensearch{Opensearch: es}
		}
		out.Destinations = append(out.Destinations, dest)
	}
	for _, e := range d.DeliveryErrors {
		out.DeliveryErrors = append(out.DeliveryErrors, &spatev1.DeliveryError{
			Timestamp: encodeTime(e.Timestamp), FirstTimestamp: encodeTime(e.FirstTimestamp), Destination: e.Destination,
			ErrorCode: e.ErrorCode, ErrorMessage: e.ErrorMessage, Count: int32(e.Count),
		})
	}
	return out, nil
}
