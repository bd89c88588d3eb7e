package firehoseapi

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/firehose"
)

func TestDecodeRequests(t *testing.T) {
	h := newHandler(nil)
	t.Run("CreateDeliveryStream carries every supported member", func(t *testing.T) {
		in, err := h.Decode("CreateDeliveryStream", []byte(`{
			"DeliveryStreamName": "s",
			"ElasticsearchDestinationConfiguration": {
				"RoleARN": "arn:aws:iam::123456789012:role/r", "ClusterEndpoint": "https://es:9200", "IndexName": "logs",
				"IndexRotationPeriod": "OneHour", "BufferingHints": {"IntervalInSeconds": 0, "SizeInMBs": 100},
				"RetryOptions": {"DurationInSeconds": 7200}, "S3BackupMode": "AllDocuments",
				"S3Configuration": {"RoleARN": "arn:aws:iam::123456789012:role/r", "BucketARN": "arn:aws:s3:::b", "ErrorOutputPrefix": "err/"},
				"CloudWatchLoggingOptions": {"Enabled": false}
			},
			"Tags": [{"Key": "k"}]
		}`))
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		got := in.(*createDeliveryStreamRequest).CreateDeliveryStreamInput
		zero, hundred, maxRetry := 0, 100, 7200
		want := firehose.CreateDeliveryStreamInput{
			DeliveryStreamName: "s",
			ElasticsearchDestinationConfiguration: &firehose.ElasticsearchDestinationConfiguration{
				RoleARN: "arn:aws:iam::123456789012:role/r", ClusterEndpoint: "https://es:9200", IndexName: "logs",
				IndexRotationPeriod: "OneHour", BufferingHints: &firehose.BufferingHints{IntervalInSeconds: &zero, SizeInMBs: &hundred},
				RetryOptions: &firehose.RetryOptions{DurationInSeconds: &maxRetry}, S3BackupMode: "AllDocuments",
				S3Configuration:          &firehose.S3DestinationConfiguration{RoleARN: "arn:aws:iam::123456789012:role/r", BucketARN: "arn:aws:s3:::b", ErrorOutputPrefix: "err/"},
				CloudWatchLoggingOptions: json.RawMessage(`{"Enabled":false}`),
			},
			Tags: []firehose.Tag{{Key: "k"}},
		}
		if !reflect.DeepEqual(got, want) {
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(want)
			t.Errorf("decoded\n got: %s\nwant: %s", gj, wj)
		}
	})
	t.Run("overlay: http cluster endpoint, ZSTD, inline columns", func(t *testing.T) {
		_, err := h.Decode("CreateDeliveryStream", []byte(`{"DeliveryStreamName":"s",
			"ElasticsearchDestinationConfiguration":{"RoleARN":"arn:aws:iam::123456789012:role/r","ClusterEndpoint":"http://127.0.0.1:9200","IndexName":"i",
				"S3Configuration":{"RoleARN":"arn:aws:iam::123456789012:role/r","BucketARN":"arn:aws:s3:::b","CompressionFormat":"ZSTD"}}}`))
		if err != nil {
			t.Errorf("Elasticsearch over http with ZSTD backups: %v", err)
		}
		in, err := h.Decode("CreateDeliveryStream", []byte(`{"DeliveryStreamName":"s","ExtendedS3DestinationConfiguration":{
			"RoleARN":"arn:aws:iam::123456789012:role/r","BucketARN":"arn:aws:s3:::b",
			"DataFormatConversionConfiguration":{"Enabled":true,"SchemaConfiguration":{"Columns":"a:int"}}}}`))
		if err != nil {
			t.Fatal(err)
		}
		if c := in.(*createDeliveryStreamRequest).ExtendedS3DestinationConfiguration.DataFormatConversionConfiguration.SchemaConfiguration.Columns; c != "a:int" {
			t.Errorf("Columns = %q", c)
		}
	})
	t.Run("PutRecordBatch", func(t *testing.T) {
		in, err := h.Decode("PutRecordBatch", []byte(`{"DeliveryStreamName":"s","Records":[{"Data":"aGk="},{"Data":""}]}`))
		if err != nil {
			t.Fatal(err)
		}
		r := in.(*putRecordBatchRequest)
		if *r.DeliveryStreamName != "s" || len(r.Records) != 2 || string(r.Records[0].Data) != "hi" || r.Records[1].Data == nil {
			t.Errorf("decoded %+v", r)
		}
	})
	const v1 = "1 validation error detected: "
	for _, tt := range []struct{ name, action, body, want string }{
		{"ES index rotation", "CreateDeliveryStream", `{"DeliveryStreamName":"s","ElasticsearchDestinationConfiguration":{"RoleARN":"arn:aws:iam::123456789012:role/r","IndexName":"i","IndexRotationPeriod":"OneYear","S3Configuration":{"RoleARN":"arn:aws:iam::123456789012:role/r","BucketARN":"arn:aws:s3:::b"}}}`,
			v1 + "Value 'OneYear' at 'ElasticsearchDestinationConfiguration.IndexRotationPeriod' failed to satisfy constraint: Member must satisfy enum value set: [NoRotation, OneHour, OneDay, OneWeek, OneMonth]"},
		{"ES retry duration", "CreateDeliveryStream", `{"DeliveryStreamName":"s","ElasticsearchDestinationConfiguration":{"RoleARN":"arn:aws:iam::123456789012:role/r","IndexName":"i","RetryOptions":{"DurationInSeconds":7201},"S3Configuration":{"RoleARN":"arn:aws:iam::123456789012:role/r","BucketARN":"arn:aws:s3:::b"}}}`,
			v1 + "Value '7201' at 'ElasticsearchDestinationConfiguration.RetryOptions.DurationInSeconds' failed to satisfy constraint: Member must have value less than or equal to 7200"},
		{"ES cluster endpoint", "CreateDeliveryStream", `{"DeliveryStreamName":"s","ElasticsearchDestinationConfiguration":{"RoleARN":"arn:aws:iam::123456789012:role/r","IndexName":"i","ClusterEndpoint":"es:9200","S3Configuration":{"RoleARN":"arn:aws:iam::123456789012:role/r","BucketARN":"arn:aws:s3:::b"}}}`,
			v1 + "Value 'es:9200' at 'ElasticsearchDestinationConfiguration.ClusterEndpoint' failed to satisfy constraint: Member must satisfy regular expression pattern: https?:.*"},
		{"Kinesis source ARN", "CreateDeliveryStream", `{"DeliveryStreamName":"s","KinesisStreamSourceConfiguration":{"KinesisStreamARN":"orders","RoleARN":"arn:aws:iam::123456789012:role/r"}}`,
			v1 + `Value 'orders' at 'KinesisStreamSourceConfiguration.KinesisStreamARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:.*:kinesis:[a-zA-Z0-9\-]+:\d{12}:stream/[a-zA-Z0-9_.-]+`},
		{"too many records", "PutRecordBatch", `{"DeliveryStreamName":"s","Records":[` + strings.TrimSuffix(strings.Repeat(`{"Data":""},`, 501), ",") + `]}`,
			"failed to satisfy constraint: Member must have length less than or equal to 500"},
		{"record without data", "PutRecord", `{"DeliveryStreamName":"s","Record":{}}`,
			v1 + "Value null at 'Record.Data' failed to satisfy constraint: Member must not be null"},
		{"list limit", "ListDeliveryStreams", `{"Limit":10001}`,
			v1 + "Value '10001' at 'Limit' failed to satisfy constraint: Member must have value less than or equal to 10000"},
		{"delivery stream type", "ListDeliveryStreams", `{"DeliveryStreamType":"Other"}`,
			v1 + "Value 'Other' at 'DeliveryStreamType' failed to satisfy constraint: Member must satisfy enum value set: [DirectPut, KinesisStreamAsSource, MSKAsSource, DatabaseAsSource]"},
		{"update without version", "UpdateDestination", `{"DeliveryStreamName":"s","DestinationId":"d"}`,
			v1 + "Value null at 'CurrentDeliveryStreamVersionId' failed to satisfy constraint: Member must not be null"},
		{"untag without keys", "UntagDeliveryStream", `{"DeliveryStreamName":"s","TagKeys":[]}`,
			v1 + "Value '[]' at 'TagKeys' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"encryption key type", "StartDeliveryStreamEncryption", `{"DeliveryStreamName":"s","DeliveryStreamEncryptionConfigurationInput":{"KeyType":"MINE"}}`,
			v1 + "Value 'MINE' at 'DeliveryStreamEncryptionConfigurationInput.KeyType' failed to satisfy constraint: Member must satisfy enum value set: [AWS_OWNED_CMK, CUSTOMER_MANAGED_CMK]"},
		{"VPC", "CreateDeliveryStream", `{"DeliveryStreamName":"s","ElasticsearchDestinationConfiguration":{"RoleARN":"arn:aws:iam::123456789012:role/r","IndexName":"i","S3Configuration":{"RoleARN":"arn:aws:iam::123456789012:role/r","BucketARN":"arn:aws:s3:::b"},"VpcConfiguration":{"SubnetIds":["s"],"RoleARN":"arn:aws:iam::123456789012:role/r","SecurityGroupIds":["g"]}}}`,
			"ElasticsearchDestinationConfiguration.VpcConfiguration is not supported by Spate; leave it out"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := h.Decode(tt.action, []byte(tt.body))
			if apierr.CodeOf(err) != apierr.InvalidArgument || !strings.Contains(apierr.MessageOf(err), tt.want) {
				t.Errorf("got %v\nwant InvalidArgumentException with %q", err, tt.want)
			}
			if strings.HasPrefix(tt.want, v1) && apierr.MessageOf(err) != tt.want {
				t.Errorf("message\n got: %s\nwant: %s", apierr.MessageOf(err), tt.want)
			}
		})
	}
}

func TestServedActions(t *testing.T) {
	h := newHandler(nil)
	want := []string{
		"CreateDeliveryStream", "DeleteDeliveryStream", "DescribeDeliveryStream", "ListDeliveryStreams",
		"ListTagsForDeliveryStream", "PutRecord", "PutRecordBatch",
		"StartDeliveryStreamEncryption", "StopDeliveryStreamEncryption", "TagDeliveryStream", "UntagDeliveryStream", "UpdateDestination",
	}
	if got := h.Actions(); !reflect.DeepEqual(got, want) {
		t.Errorf("served actions = %v, want %v", got, want)
	}
	if got := h.UnsupportedActions(); len(got) != 0 {
		t.Errorf("unsupported actions = %v", got)
	}
}

// TestUncheckedPatterns keeps the list in awsmodel/README.md honest: every
// pattern of the model that RE2 cannot check.
func TestUncheckedPatterns(t *testing.T) {
	m, err := awsproto.LoadModel(serviceModel, spateOverlay)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`ClusterJDBCURL: jdbc:(redshift|postgresql)://((?!-)[A-Za-z0-9-]{1,63}(?<!-)\.)+(redshift(-serverless)?)\.([a-zA-Z0-9\.\-]+):\d{1,5}/[a-zA-Z0-9_$-]+`}
	if got := m.UncheckedPatterns(); !reflect.DeepEqual(got, want) {
		t.Errorf("unchecked patterns = %q, want %q", got, want)
	}
}
