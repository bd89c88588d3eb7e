package grpcapi

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/firehose"
	"github.com/spatehq/spate/firehose/s3store"
	"github.com/spatehq/spate/firehose/s3store/s3test"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

func TestMain(m *testing.M) { os.Exit(s3test.Main(m)) }

// firehoseFixture is a store, a real S3 server with a bucket and a
// firehose.Service, served over an in-memory gRPC connection with both
// services.
type firehoseFixture struct {
	store    *shard.Store
	streams  spatev1.StreamServiceClient
	firehose spatev1.FirehoseServiceClient
	bucket   string
}

func newFirehoseFixture(t *testing.T) *firehoseFixture {
	t.Helper()
	cfg := s3test.Server(t)
	s3c, err := s3store.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	bucket := fmt.Sprintf("grpcapi-%d", time.Now().UnixNano()%100000000)
	if err := s3c.EnsureBucket(context.Background(), bucket); err != nil {
		t.Fatal(err)
	}
	store, err := shard.Open(t.TempDir())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	svc, err := firehose.New(store, firehose.WithS3(cfg))
	if err != nil {
		t.Fatalf("firehose.New: %v", err)
	}
	t.Cleanup(func() {
		svc.Close()
		if err := store.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})

	conn := serveBufconn(t, func(gs *grpc.Server) {
		Register(gs, store)
		RegisterFirehose(gs, svc)
	})
	return &firehoseFixture{store: store, streams: spatev1.NewStreamServiceClient(conn),
		firehose: spatev1.NewFirehoseServiceClient(conn), bucket: bucket}
}

func (f *firehoseFixture) bucketARN() string { return "arn:aws:s3:::" + f.bucket }

func wantAPIError(t *testing.T, err error, code apierr.Code, grpcCode codes.Code, inMsg string) {
	t.Helper()
	if status.Code(err) != grpcCode || !apierr.Is(FromStatus(err), code) || !strings.Contains(err.Error(), inMsg) {
		t.Fatalf("error = %v, want %s (%s) with %q", err, code, grpcCode, inMsg)
	}
}

func TestFirehoseService(t *testing.T) {
	f := newFirehoseFixture(t)
	c := f.firehose
	ctx := testContext(t)

	s3 := &spatev1.S3Destination{
		BucketArn: f.bucketARN(), Prefix: "p/", ErrorOutputPrefix: "err/",
		BufferingHints:    &spatev1.BufferingHints{SizeInMbs: proto.Int32(1), IntervalInSeconds: proto.Int32(0)},
		CompressionFormat: spatev1.CompressionFormat_COMPRESSION_FORMAT_ZSTD,
		ProcessingConfiguration: &spatev1.ProcessingConfiguration{Enabled: proto.Bool(true), Processors: []*spatev1.Processor{
			{Type: "AppendDelimiterToRecord"},
		}},
		FileExtension: ".jsonl.zst",
	}
	created, err := c.CreateDeliveryStream(ctx, &spatev1.CreateDeliveryStreamRequest{
		DeliveryStreamName: "orders",
		Destination:        &spatev1.CreateDeliveryStreamRequest_S3{S3: s3},
		Tags:               []*spatev1.Tag{{Key: "team", Value: "a"}},
	})
	if err != nil {
		t.Fatalf("CreateDeliveryStream: %v", err)
	}
	if created.GetDeliveryStreamArn() != "arn:aws:firehose:us-east-1:000000000000:deliverystream/orders" {
		t.Errorf("ARN = %s", created.GetDeliveryStreamArn())
	}
	_, err = c.CreateDeliveryStream(ctx, &spatev1.CreateDeliveryStreamRequest{DeliveryStreamName: "orders",
		Destination: &spatev1.CreateDeliveryStreamRequest_S3{S3: &spatev1.S3Destination{BucketArn: f.bucketARN()}}})
	wantAPIError(t, err, apierr.ResourceInUse, codes.FailedPrecondition, "already exists")

	var version, destID string
	t.Run("DescribeDeliveryStream", func(t *testing.T) {
		resp, err := c.DescribeDeliveryStream(ctx, &spatev1.DescribeDeliveryStreamRequest{DeliveryStreamName: "orders"})
		if err != nil {
			t.Fatal(err)
		}
		d := resp.GetDeliveryStreamDescription()
		if d.GetDeliveryStreamStatus() != spatev1.DeliveryStreamStatus_DELIVERY_STREAM_STATUS_ACTIVE ||
			d.GetDeliveryStreamType() != spatev1.DeliveryStreamType_DELIVERY_STREAM_TYPE_DIRECT_PUT ||
			d.GetCreateTimestamp() == nil || d.GetVersionId() == "" || len(d.GetDestinations()) != 1 || d.GetKinesisStreamSource() != nil {
			t.Fatalf("description = %v", d)
		}
		version, destID = d.GetVersionId(), d.GetDestinations()[0].GetDestinationId()
		got := d.GetDestinations()[0].GetS3()
		want := proto.Clone(s3).(*spatev1.S3Destination)
		want.S3BackupMode = spatev1.S3BackupMode_S3_BACKUP_MODE_DISABLED // Firehose's default, filled in
		if !proto.Equal(got, want) {
			t.Errorf("destination\n got: %v\nwant: %v", got, want)
		}
	})

	t.Run("puts", func(t *testing.T) {
		put, err := c.PutRecord(ctx, &spatev1.FirehoseServicePutRecordRequest{DeliveryStreamName: "orders", Data: []byte("one")})
		if err != nil || put.GetRecordId() == "" {
			t.Fatalf("PutRecord = %v, %v", put, err)
		}
		batch, err := c.PutRecordBatch(ctx, &spatev1.PutRecordBatchRequest{DeliveryStreamName: "orders", Records: [][]byte{[]byte("two"), {0, 1}}})
		if err != nil || batch.GetFailedPutCount() != 0 || len(batch.GetRequestResponses()) != 2 || batch.GetRequestResponses()[1].GetRecordId() <= put.GetRecordId() {
			t.Fatalf("PutRecordBatch = %v, %v", batch, err)
		}
		_, err = c.PutRecordBatch(ctx, &spatev1.PutRecordBatchRequest{DeliveryStreamName: "orders"})
		wantAPIError(t, err, apierr.InvalidArgument, codes.InvalidArgument, "1 to 500 records")
		_, err = c.PutRecord(ctx, &spatev1.FirehoseServicePutRecordRequest{DeliveryStreamName: "nope"})
		wantAPIError(t, err, apierr.ResourceNotFound, codes.NotFound, "nope")
	})

	t.Run("UpdateDestination", func(t *testing.T) {
		_, err := c.UpdateDestination(ctx, &spatev1.UpdateDestinationRequest{
			DeliveryStreamName: "orders", CurrentDeliveryStreamVersionId: version, DestinationId: destID,
			Update: &spatev1.UpdateDestinationRequest_S3{S3: &spatev1.S3Destination{
				BucketArn: f.bucketARN(), CompressionFormat: spatev1.CompressionFormat_COMPRESSION_FORMAT_GZIP,
				BufferingHints: &spatev1.BufferingHints{IntervalInSeconds: proto.Int32(60)},
			}},
		})
		if err != nil {
			t.Fatalf("UpdateDestination: %v", err)
		}
		resp, err := c.DescribeDeliveryStream(ctx, &spatev1.DescribeDeliveryStreamRequest{DeliveryStreamName: "orders"})
		if err != nil {
			t.Fatal(err)
		}
		got := resp.GetDeliveryStreamDescription().GetDestinations()[0].GetS3()
		if got.GetCompressionFormat() != spatev1.CompressionFormat_COMPRESSION_FORMAT_GZIP || got.GetPrefix() != "p/" ||
			got.GetBufferingHints().GetIntervalInSeconds() != 60 || got.GetBufferingHints().GetSizeInMbs() != 1 {
			t.Errorf("after the update: %v", got)
		}
		_, err = c.UpdateDestination(ctx, &spatev1.UpdateDestinationRequest{
			DeliveryStreamName: "orders", CurrentDeliveryStreamVersionId: version, DestinationId: destID,
			Update: &spatev1.UpdateDestinationRequest_S3{S3: &spatev1.S3Destination{BucketArn: f.bucketARN()}},
		})
		wantAPIError(t, err, apierr.ConcurrentModification, codes.Aborted, "CurrentDeliveryStreamVersionId")
	})

	t.Run("tags", func(t *testing.T) {
		if _, err := c.TagDeliveryStream(ctx, &spatev1.TagDeliveryStreamRequest{DeliveryStreamName: "orders", Tags: []*spatev1.Tag{{Key: "env", Value: "prod"}}}); err != nil {
			t.Fatal(err)
		}
		page, err := c.ListTagsForDeliveryStream(ctx, &spatev1.ListTagsForDeliveryStreamRequest{DeliveryStreamName: "orders", Limit: 1})
		if err != nil || len(page.GetTags()) != 1 || page.GetTags()[0].GetKey() != "env" || !page.GetHasMoreTags() {
			t.Fatalf("first page = %v, %v", page, err)
		}
		if _, err := c.UntagDeliveryStream(ctx, &spatev1.UntagDeliveryStreamRequest{DeliveryStreamName: "orders", TagKeys: []string{"env"}}); err != nil {
			t.Fatal(err)
		}
		all, err := c.ListTagsForDeliveryStream(ctx, &spatev1.ListTagsForDeliveryStreamRequest{DeliveryStreamName: "orders"})
		if err != nil || len(all.GetTags()) != 1 || all.GetTags()[0].GetKey() != "team" || all.GetHasMoreTags() {
			t.Fatalf("after untag = %v, %v", all, err)
		}
	})

	t.Run("KinesisStreamAsSource and list", func(t *testing.T) {
		if _, err := f.streams.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: "clicks", ShardCount: 1}); err != nil {
			t.Fatal(err)
		}
		_, err := c.CreateDeliveryStream(ctx, &spatev1.CreateDeliveryStreamRequest{
			DeliveryStreamName: "from-clicks", DeliveryStreamType: spatev1.DeliveryStreamType_DELIVERY_STREAM_TYPE_KINESIS_STREAM_AS_SOURCE,
			KinesisStreamArn: f.store.StreamARN("clicks"),
			Destination:      &spatev1.CreateDeliveryStreamRequest_S3{S3: &spatev1.S3Destination{BucketArn: f.bucketARN()}},
		})
		if err != nil {
			t.Fatalf("CreateDeliveryStream: %v", err)
		}
		resp, err := c.DescribeDeliveryStream(ctx, &spatev1.DescribeDeliveryStreamRequest{DeliveryStreamName: "from-clicks"})
		if err != nil {
			t.Fatal(err)
		}
		if src := resp.GetDeliveryStreamDescription().GetKinesisStreamSource(); src.GetKinesisStreamArn() != f.store.StreamARN("clicks") || src.GetDeliveryStartTimestamp() == nil {
			t.Errorf("source = %v", src)
		}
		list, err := c.ListDeliveryStreams(ctx, &spatev1.ListDeliveryStreamsRequest{DeliveryStreamType: spatev1.DeliveryStreamType_DELIVERY_STREAM_TYPE_KINESIS_STREAM_AS_SOURCE})
		if err != nil || strings.Join(list.GetDeliveryStreamNames(), ",") != "from-clicks" || list.GetHasMoreDeliveryStreams() {
			t.Errorf("ListDeliveryStreams = %v, %v", list, err)
		}
		page, err := c.ListDeliveryStreams(ctx, &spatev1.ListDeliveryStreamsRequest{Limit: 1})
		if err != nil || strings.Join(page.GetDeliveryStreamNames(), ",") != "from-clicks" || !page.GetHasMoreDeliveryStreams() {
			t.Errorf("first page = %v, %v", page, err)
		}
	})

	t.Run("DeleteDeliveryStream", func(t *testing.T) {
		if _, err := c.DeleteDeliveryStream(ctx, &spatev1.DeleteDeliveryStreamRequest{DeliveryStreamName: "orders"}); err != nil {
			t.Fatal(err)
		}
		_, err := c.DescribeDeliveryStream(ctx, &spatev1.DescribeDeliveryStreamRequest{DeliveryStreamName: "orders"})
		wantAPIError(t, err, apierr.ResourceNotFound, codes.NotFound, "orders")
	})
}

func TestFirehoseBadRequests(t *testing.T) {
	f := newFirehoseFixture(t)
	ctx := testContext(t)
	tests := []struct {
		name string
		req  *spatev1.CreateDeliveryStreamRequest
		want string
	}{
		{"no destination", &spatev1.CreateDeliveryStreamRequest{DeliveryStreamName: "a"}, "give exactly one destination"},
		{"bad bucket ARN", &spatev1.CreateDeliveryStreamRequest{DeliveryStreamName: "a",
			Destination: &spatev1.CreateDeliveryStreamRequest_S3{S3: &spatev1.S3Destination{BucketArn: "my-bucket"}}}, "BucketARN"},
		{"hints out of range", &spatev1.CreateDeliveryStreamRequest{DeliveryStreamName: "a",
			Destination: &spatev1.CreateDeliveryStreamRequest_S3{S3: &spatev1.S3Destination{BucketArn: f.bucketARN(),
				BufferingHints: &spatev1.BufferingHints{SizeInMbs: proto.Int32(129)}}}}, "SizeInMBs is 129"},
		{"unknown compression", &spatev1.CreateDeliveryStreamRequest{DeliveryStreamName: "a",
			Destination: &spatev1.CreateDeliveryStreamRequest_S3{S3: &spatev1.S3Destination{BucketArn: f.bucketARN(), CompressionFormat: 42}}},
			"compression_format 42 is not one of its enum's values"},
		{"extended member in a plain S3 configuration", &spatev1.CreateDeliveryStreamRequest{DeliveryStreamName: "a",
			Destination: &spatev1.CreateDeliveryStreamRequest_Elasticsearch{Elasticsearch: &spatev1.ElasticsearchDestination{
				ClusterEndpoint: "https://es", IndexName: "i",
				S3Configuration: &spatev1.S3Destination{BucketArn: f.bucketARN(), FileExtension: ".x"}}}},
			"s3_configuration.file_extension: an S3 configuration of this kind takes only"},
		{"unknown type", &spatev1.CreateDeliveryStreamRequest{DeliveryStreamName: "a", DeliveryStreamType: 9}, "delivery_stream_type 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.firehose.CreateDeliveryStream(ctx, tt.req)
			wantAPIError(t, err, apierr.InvalidArgument, codes.InvalidArgument, tt.want)
		})
	}
}
