package grpcapi

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/firehose"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

func intp(v int) *int    { return &v }
func boolp(v bool) *bool { return &v }

// TestCreateDeliveryStreamRoundTrip checks that every member the gRPC API
// carries survives the way a client sends it (EncodeCreateDeliveryStream)
// and the way the server reads it (decodeCreate).
func TestCreateDeliveryStreamRoundTrip(t *testing.T) {
	s3 := &firehose.ExtendedS3DestinationConfiguration{
		BucketARN: "arn:aws:s3:::b", Prefix: "p/!{partitionKeyFromQuery:k}/", ErrorOutputPrefix: "e/",
		BufferingHints:    &firehose.BufferingHints{SizeInMBs: intp(64), IntervalInSeconds: intp(0)},
		CompressionFormat: "HADOOP_SNAPPY",
		ProcessingConfiguration: &firehose.ProcessingConfiguration{Enabled: boolp(true), Processors: []firehose.Processor{
			{Type: "MetadataExtraction", Parameters: []firehose.ProcessorParameter{{ParameterName: "MetadataExtractionQuery", ParameterValue: "{k:.k}"}}},
			{Type: "AppendDelimiterToRecord"},
		}},
		DynamicPartitioningConfiguration: &firehose.DynamicPartitioningConfiguration{Enabled: boolp(true), RetryOptions: &firehose.RetryOptions{DurationInSeconds: intp(10)}},
		DataFormatConversionConfiguration: &firehose.DataFormatConversionConfiguration{Enabled: boolp(false),
			SchemaConfiguration:       &firehose.SchemaConfiguration{Columns: "a:int"},
			OutputFormatConfiguration: &firehose.OutputFormatConfiguration{Serializer: &firehose.Serializer{ParquetSerDe: &firehose.ParquetSerDe{Compression: "GZIP"}}}},
		FileExtension:         ".x",
		S3BackupMode:          "Enabled",
		S3BackupConfiguration: &firehose.S3DestinationConfiguration{BucketARN: "arn:aws:s3:::backup", CompressionFormat: "GZIP"},
	}
	es := &firehose.ElasticsearchDestinationConfiguration{
		ClusterEndpoint: "https://es:9200", IndexName: "logs", IndexRotationPeriod: "OneWeek",
		BufferingHints: &firehose.BufferingHints{SizeInMBs: intp(100)}, RetryOptions: &firehose.RetryOptions{DurationInSeconds: intp(0)},
		S3BackupMode: "AllDocuments", S3Configuration: &firehose.S3DestinationConfiguration{BucketARN: "arn:aws:s3:::b", Prefix: "bk/"},
		ProcessingConfiguration: &firehose.ProcessingConfiguration{Enabled: boolp(false)},
	}
	tests := []struct {
		name string
		in   firehose.CreateDeliveryStreamInput
	}{
		{"extended S3", firehose.CreateDeliveryStreamInput{DeliveryStreamName: "a", DeliveryStreamType: "DirectPut",
			ExtendedS3DestinationConfiguration: s3, Tags: []firehose.Tag{{Key: "k", Value: "v"}, {Key: "empty"}}}},
		{"Kinesis source and Elasticsearch", firehose.CreateDeliveryStreamInput{DeliveryStreamName: "b", DeliveryStreamType: "KinesisStreamAsSource",
			KinesisStreamSourceConfiguration:      &firehose.KinesisStreamSourceConfiguration{KinesisStreamARN: "arn:aws:kinesis:us-east-1:000000000000:stream/s"},
			ElasticsearchDestinationConfiguration: es}},
		{"OpenSearch", firehose.CreateDeliveryStreamInput{DeliveryStreamName: "c", AmazonopensearchserviceDestinationConfiguration: es}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := EncodeCreateDeliveryStream(tt.in)
			if err != nil {
				t.Fatalf("EncodeCreateDeliveryStream: %v", err)
			}
			got, err := decodeCreate(req)
			if err != nil {
				t.Fatalf("decodeCreate: %v", err)
			}
			if !reflect.DeepEqual(got, tt.in) {
				gj, _ := json.Marshal(got)
				wj, _ := json.Marshal(tt.in)
				t.Errorf("round trip\n got: %s\nwant: %s", gj, wj)
			}
		})
	}

	t.Run("plain S3 becomes an S3 destination", func(t *testing.T) {
		req, err := EncodeCreateDeliveryStream(firehose.CreateDeliveryStreamInput{DeliveryStreamName: "d",
			S3DestinationConfiguration: &firehose.S3DestinationConfiguration{RoleARN: "dropped", BucketARN: "arn:aws:s3:::b", CompressionFormat: "Snappy"}})
		if err != nil {
			t.Fatal(err)
		}
		if s3 := req.GetS3(); s3.GetBucketArn() != "arn:aws:s3:::b" || s3.GetCompressionFormat() != spatev1.CompressionFormat_COMPRESSION_FORMAT_SNAPPY {
			t.Errorf("request = %v", req)
		}
	})
}

func TestEncodeCreateDeliveryStreamRefuses(t *testing.T) {
	tests := []struct {
		name string
		in   firehose.CreateDeliveryStreamInput
		want string
	}{
		{"unknown compression", firehose.CreateDeliveryStreamInput{ExtendedS3DestinationConfiguration: &firehose.ExtendedS3DestinationConfiguration{CompressionFormat: "LZ4"}},
			`ExtendedS3DestinationConfiguration: InvalidArgumentException: CompressionFormat "LZ4" has no gRPC equivalent`},
		{"ORC", firehose.CreateDeliveryStreamInput{ExtendedS3DestinationConfiguration: &firehose.ExtendedS3DestinationConfiguration{
			DataFormatConversionConfiguration: &firehose.DataFormatConversionConfiguration{OutputFormatConfiguration: &firehose.OutputFormatConfiguration{
				Serializer: &firehose.Serializer{OrcSerDe: json.RawMessage(`{}`)}}}}}, "OrcSerDe is not supported by Spate"},
		{"two destinations", firehose.CreateDeliveryStreamInput{S3DestinationConfiguration: &firehose.S3DestinationConfiguration{},
			ElasticsearchDestinationConfiguration: &firehose.ElasticsearchDestinationConfiguration{}}, "exactly one destination configuration (got 2)"},
		{"unknown type", firehose.CreateDeliveryStreamInput{DeliveryStreamType: "MSKAsSource"}, `DeliveryStreamType "MSKAsSource" has no gRPC equivalent`},
		{"unknown rotation", firehose.CreateDeliveryStreamInput{ElasticsearchDestinationConfiguration: &firehose.ElasticsearchDestinationConfiguration{IndexRotationPeriod: "OneYear"}},
			`IndexRotationPeriod "OneYear"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := EncodeCreateDeliveryStream(tt.in)
			if !apierr.Is(err, apierr.InvalidArgument) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want InvalidArgumentException with %q", err, tt.want)
			}
		})
	}
}

func TestEncodeDeliveryStreamDescription(t *testing.T) {
	d := firehose.DeliveryStreamDescription{
		DeliveryStreamName: "s", DeliveryStreamStatus: "ACTIVE", DeliveryStreamType: "DirectPut", VersionId: "1",
		Destinations: []firehose.DestinationDescription{
			{DestinationId: "d1", S3DestinationDescription: &firehose.S3DestinationConfiguration{BucketARN: "arn:aws:s3:::plain"}},
			{DestinationId: "d2", S3DestinationDescription: &firehose.S3DestinationConfiguration{BucketARN: "arn:aws:s3:::x"},
				ExtendedS3DestinationDescription: &firehose.ExtendedS3DestinationConfiguration{BucketARN: "arn:aws:s3:::ext"}},
			{DestinationId: "d3", AmazonopensearchserviceDestinationDescription: &firehose.ElasticsearchDestinationConfiguration{IndexName: "os"}},
		},
		DeliveryErrors: []firehose.DeliveryError{{Timestamp: time.Unix(1700000001, 0), FirstTimestamp: time.Unix(1700000000, 0),
			Destination: "S3", ErrorCode: "S3.NoSuchBucket", ErrorMessage: "no bucket", Count: 2}},
	}
	out, err := encodeDeliveryStream(d)
	if err != nil {
		t.Fatal(err)
	}
	dests := out.GetDestinations()
	if len(dests) != 3 || dests[0].GetS3().GetBucketArn() != "arn:aws:s3:::plain" || dests[1].GetS3().GetBucketArn() != "arn:aws:s3:::ext" ||
		dests[2].GetOpensearch().GetIndexName() != "os" || out.GetDeliveryStreamStatus() != spatev1.DeliveryStreamStatus_DELIVERY_STREAM_STATUS_ACTIVE {
		t.Errorf("description = %v", out)
	}
	if errs := out.GetDeliveryErrors(); len(errs) != 1 || errs[0].GetErrorCode() != "S3.NoSuchBucket" || errs[0].GetDestination() != "S3" ||
		errs[0].GetErrorMessage() != "no bucket" || errs[0].GetCount() != 2 || errs[0].GetTimestamp().GetSeconds() != 1700000001 ||
		errs[0].GetFirstTimestamp().GetSeconds() != 1700000000 {
		t.Errorf("delivery errors = %v", errs)
	}
	d.DeliveryStreamStatus = "CREATING_FAILED"
	if _, err := encodeDeliveryStream(d); err == nil {
		t.Error("a status with no enum value should not encode")
	}
}
