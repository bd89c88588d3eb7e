package firehoseapi

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdk "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// sdkClient is aws-sdk-go-v2's Firehose client of the fixture's server,
// without retries.
func (f *fixture) sdkClient() *sdk.Client {
	return sdk.New(sdk.Options{
		BaseEndpoint: aws.String(f.URL),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		Retryer:      retry.AddWithMaxAttempts(retry.NewStandard(), 1),
	})
}

// TestAWSSDK drives the handler with aws-sdk-go-v2's Firehose client: its
// requests decode, and its deserializers read every reply (timestamps as
// epoch seconds, typed errors).
func TestAWSSDK(t *testing.T) {
	f := newFixture(t)
	c := f.sdkClient()
	ctx := context.Background()

	created, err := c.CreateDeliveryStream(ctx, &sdk.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("sdk"),
		ExtendedS3DestinationConfiguration: &types.ExtendedS3DestinationConfiguration{
			RoleARN: aws.String(testRole), BucketARN: aws.String(f.bucketARN()),
			CompressionFormat: types.CompressionFormatGzip,
			BufferingHints:    &types.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(60)},
		},
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}},
	})
	if err != nil {
		t.Fatalf("CreateDeliveryStream: %v", err)
	}
	if !strings.HasSuffix(aws.ToString(created.DeliveryStreamARN), ":deliverystream/sdk") {
		t.Errorf("DeliveryStreamARN = %s", aws.ToString(created.DeliveryStreamARN))
	}

	d, err := c.DescribeDeliveryStream(ctx, &sdk.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("sdk")})
	if err != nil {
		t.Fatalf("DescribeDeliveryStream: %v", err)
	}
	desc := d.DeliveryStreamDescription
	if desc.DeliveryStreamStatus != types.DeliveryStreamStatusActive || desc.DeliveryStreamType != types.DeliveryStreamTypeDirectPut ||
		desc.CreateTimestamp == nil || desc.CreateTimestamp.Year() < 2020 || len(desc.Destinations) != 1 ||
		desc.Destinations[0].ExtendedS3DestinationDescription == nil ||
		desc.Destinations[0].ExtendedS3DestinationDescription.CompressionFormat != types.CompressionFormatGzip {
		t.Errorf("description = %+v", desc)
	}

	list, err := c.ListDeliveryStreams(ctx, &sdk.ListDeliveryStreamsInput{})
	if err != nil || len(list.DeliveryStreamNames) != 1 || aws.ToBool(list.HasMoreDeliveryStreams) {
		t.Errorf("ListDeliveryStreams = %+v, %v", list, err)
	}

	batch, err := c.PutRecordBatch(ctx, &sdk.PutRecordBatchInput{
		DeliveryStreamName: aws.String("sdk"),
		Records:            []types.Record{{Data: []byte("a\n")}, {Data: []byte{0, 1, 2}}},
	})
	if err != nil || aws.ToInt32(batch.FailedPutCount) != 0 || len(batch.RequestResponses) != 2 || batch.RequestResponses[1].RecordId == nil {
		t.Errorf("PutRecordBatch = %+v, %v", batch, err)
	}
	if _, err := c.PutRecord(ctx, &sdk.PutRecordInput{DeliveryStreamName: aws.String("sdk"), Record: &types.Record{Data: []byte("x")}}); err != nil {
		t.Errorf("PutRecord: %v", err)
	}

	tags, err := c.ListTagsForDeliveryStream(ctx, &sdk.ListTagsForDeliveryStreamInput{DeliveryStreamName: aws.String("sdk")})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" {
		t.Errorf("ListTagsForDeliveryStream = %+v, %v", tags, err)
	}

	_, err = c.CreateDeliveryStream(ctx, &sdk.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("bad"),
		ExtendedS3DestinationConfiguration: &types.ExtendedS3DestinationConfiguration{
			RoleARN: aws.String(testRole), BucketARN: aws.String(f.bucketARN()),
			BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(500), IntervalInSeconds: aws.Int32(60)},
		},
	})
	var invalid *types.InvalidArgumentException
	if !errors.As(err, &invalid) || !strings.Contains(invalid.ErrorMessage(), "ExtendedS3DestinationConfiguration.BufferingHints.SizeInMBs") {
		t.Errorf("hints out of range: %v, want a typed InvalidArgumentException", err)
	}
	_, err = c.DescribeDeliveryStream(ctx, &sdk.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("nope")})
	var notFound *types.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Errorf("describe a missing stream: %v, want a typed ResourceNotFoundException", err)
	}

	if _, err := c.DeleteDeliveryStream(ctx, &sdk.DeleteDeliveryStreamInput{DeliveryStreamName: aws.String("sdk")}); err != nil {
		t.Errorf("DeleteDeliveryStream: %v", err)
	}
}
