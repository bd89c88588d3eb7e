package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/spatehq/spate/api/grpcapi"
	"github.com/spatehq/spate/firehose"
	"github.com/spatehq/spate/firehose/s3store"
	"github.com/spatehq/spate/firehose/s3store/s3test"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

func TestMain(m *testing.M) { os.Exit(s3test.Main(m)) }

// firehoseServer is a store and a firehose.Service with a real S3 server,
// served over gRPC (both services) on a free loopback port.
type firehoseServer struct {
	*apiServer
	firehose spatev1.FirehoseServiceClient
	s3       *s3store.Client
	bucket   string
}

func startFirehoseServer(t *testing.T) *firehoseServer {
	t.Helper()
	cfg := s3test.Server(t)
	s3c, err := s3store.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	bucket := fmt.Sprintf("cli-%d", time.Now().UnixNano()%100000000)
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
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	gs := grpc.NewServer(grpc.MaxRecvMsgSize(grpcapi.MaxMessageSize))
	api := grpcapi.Register(gs, store)
	grpcapi.RegisterFirehose(gs, svc)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = gs.Serve(lis)
	}()
	t.Cleanup(func() {
		api.Close()
		gs.Stop()
		<-served
		svc.Close()
		_ = store.Close()
	})
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return &firehoseServer{
		apiServer: &apiServer{addr: lis.Addr().String(), api: spatev1.NewStreamServiceClient(cc)},
		firehose:  spatev1.NewFirehoseServiceClient(cc),
		s3:        s3c,
		bucket:    bucket,
	}
}

// s3Lines waits until the objects under prefix hold n lines and returns
// them sorted.
func (s *firehoseServer) s3Lines(t *testing.T, prefix string, n int) []string {
	t.Helper()
	var lines []string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		objs, err := s.s3.List(context.Background(), s.bucket, prefix)
		if err != nil {
			t.Fatal(err)
		}
		lines = lines[:0]
		for _, o := range objs {
			b, err := s.s3.Get(context.Background(), s.bucket, o.Key)
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")...)
		}
		if len(lines) >= n {
			break
		}
	}
	slices.Sort(lines)
	return lines
}

func TestFirehoseCommands(t *testing.T) {
	s := startFirehoseServer(t)
	ctx := clientTestContext(t)

	out, _, err := s.run(ctx, nil, "firehose", "create", "orders", "--bucket", s.bucket, "--prefix", "orders/",
		"--compression", "uncompressed", "--buffer-seconds", "0", "--delimiter", "--tag", "team=a")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if want := "created delivery stream orders (arn:aws:firehose:us-east-1:000000000000:deliverystream/orders)\n"; out != want {
		t.Errorf("create printed %q, want %q", out, want)
	}
	if _, _, err := s.run(ctx, nil, "firehose", "create", "orders", "--bucket", s.bucket); err == nil || !strings.Contains(err.Error(), "ResourceInUseException") {
		t.Errorf("create twice: %v", err)
	}

	out, _, err = s.run(ctx, nil, "firehose", "describe", "orders")
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	for _, want := range []string{"Status:           ACTIVE", "Type:             DIRECT_PUT", "Bucket:         arn:aws:s3:::" + s.bucket,
		"Prefix:         orders/", "Compression:    UNCOMPRESSED", "Buffering:      5 MiB or 0 s", "Processors:     AppendDelimiterToRecord"} {
		if !strings.Contains(out, want) {
			t.Errorf("describe lacks %q:\n%s", want, out)
		}
	}
	out, _, err = s.run(ctx, nil, "firehose", "describe", "orders", "-o", "json")
	var d map[string]any
	if err != nil || json.Unmarshal([]byte(out), &d) != nil || d["deliveryStreamName"] != "orders" {
		t.Errorf("describe -o json: %v\n%s", err, out)
	}

	out, _, err = s.run(ctx, nil, "firehose", "put", "orders", "first")
	if err != nil || strings.TrimSpace(out) == "" {
		t.Fatalf("put DATA: %q, %v", out, err)
	}
	const n = 1203
	out, errOut, err := s.run(ctx, strings.NewReader(numberedLines(n)), "firehose", "put", "orders")
	if err != nil {
		t.Fatalf("put from stdin: %v\n%s", err, errOut)
	}
	if out != "" || !strings.Contains(errOut, fmt.Sprintf("spate firehose put: put %d of %d records", n, n)) || !strings.Contains(errOut, "into orders") {
		t.Errorf("put from stdin: stdout %q, stderr %q", out, errOut)
	}
	lines := s.s3Lines(t, "orders/", n+1)
	want := strings.Split(strings.TrimSuffix(numberedLines(n), "\n"), "\n")
	want = append(want, "first")
	slices.Sort(want)
	if !slices.Equal(lines, want) {
		t.Errorf("S3 holds %d lines, want the %d put (first lines: %q)", len(lines), len(want), lines[:min(3, len(lines))])
	}

	t.Run("source stream by name", func(t *testing.T) {
		if _, err := s.api.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: "clicks", ShardCount: 1}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.run(ctx, nil, "firehose", "create", "from-clicks", "--bucket", "arn:aws:s3:::"+s.bucket, "--source-stream", "clicks"); err != nil {
			t.Fatalf("create --source-stream: %v", err)
		}
		out, _, err := s.run(ctx, nil, "firehose", "describe", "from-clicks")
		if err != nil || !strings.Contains(out, "Source:           arn:aws:kinesis:us-east-1:000000000000:stream/clicks (records from ") {
			t.Errorf("describe: %v\n%s", err, out)
		}
		if _, _, err := s.run(ctx, nil, "firehose", "create", "x", "--bucket", s.bucket, "--source-stream", "nope"); err == nil ||
			!strings.Contains(err.Error(), "--source-stream nope: ResourceNotFoundException") {
			t.Errorf("an unknown source stream: %v", err)
		}
		if _, _, err := s.run(ctx, nil, "firehose", "put", "from-clicks", "x"); err == nil || !strings.Contains(err.Error(), "InvalidArgumentException") {
			t.Errorf("put into a KinesisStreamAsSource stream: %v", err)
		}
	})

	t.Run("config file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "create.json")
		cfg := fmt.Sprintf(`{
			"DeliveryStreamType": "DirectPut",
			"ExtendedS3DestinationConfiguration": {
				"RoleARN": "arn:aws:iam::123456789012:role/firehose",
				"BucketARN": "arn:aws:s3:::%s",
				"Prefix": "by-kind/!{partitionKeyFromQuery:kind}/",
				"ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
				"CompressionFormat": "GZIP",
				"BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60},
				"DynamicPartitioningConfiguration": {"Enabled": true},
				"ProcessingConfiguration": {"Enabled": true, "Processors": [
					{"Type": "MetadataExtraction", "Parameters": [
						{"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{kind: .kind}"},
						{"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}]}]},
				"CloudWatchLoggingOptions": {"Enabled": false}
			}}`, s.bucket)
		if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.run(ctx, nil, "firehose", "create", "partitioned", "--config-file", file); err != nil {
			t.Fatalf("create --config-file: %v", err)
		}
		out, _, err := s.run(ctx, nil, "firehose", "describe", "partitioned")
		if err != nil || !strings.Contains(out, "Dynamic partitioning:  enabled") || !strings.Contains(out, "Processors:            MetadataExtraction") {
			t.Errorf("describe: %v\n%s", err, out)
		}
		if _, _, err := s.run(ctx, nil, "firehose", "create", "y", "--config-file", file, "--bucket", "b"); err == nil || !strings.Contains(err.Error(), "cannot be combined with --bucket") {
			t.Errorf("--config-file with --bucket: %v", err)
		}
	})

	out, _, err = s.run(ctx, nil, "firehose", "list")
	if err != nil || out != "from-clicks\norders\npartitioned\n" {
		t.Errorf("list = %q, %v", out, err)
	}
	out, _, err = s.run(ctx, nil, "firehose", "list", "--type", "kinesis")
	if err != nil || out != "from-clicks\n" {
		t.Errorf("list --type kinesis = %q, %v", out, err)
	}

	out, _, err = s.run(ctx, nil, "firehose", "delete", "orders")
	if err != nil || out != "deleted delivery stream orders\n" {
		t.Errorf("delete = %q, %v", out, err)
	}
	if _, _, err := s.run(ctx, nil, "firehose", "describe", "orders"); err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Errorf("describe a deleted stream: %v", err)
	}
}

func TestCreateRequestFromFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    *spatev1.CreateDeliveryStreamRequest
		wantErr string
	}{
		{"bucket name and defaults", []string{"--bucket", "b"}, &spatev1.CreateDeliveryStreamRequest{DeliveryStreamName: "s",
			Destination: &spatev1.CreateDeliveryStreamRequest_S3{S3: &spatev1.S3Destination{BucketArn: "arn:aws:s3:::b"}}}, ""},
		{"everything", []string{"--bucket", "arn:aws:s3:::b", "--prefix", "p/", "--error-prefix", "e/", "--compression", "hadoop-snappy",
			"--buffer-mb", "7", "--source-stream", "arn:aws:kinesis:us-east-1:000000000000:stream/x", "--tag", "b=2", "--tag", "a=1"},
			&spatev1.CreateDeliveryStreamRequest{DeliveryStreamName: "s",
				DeliveryStreamType: spatev1.DeliveryStreamType_DELIVERY_STREAM_TYPE_KINESIS_STREAM_AS_SOURCE,
				KinesisStreamArn:   "arn:aws:kinesis:us-east-1:000000000000:stream/x",
				Destination: &spatev1.CreateDeliveryStreamRequest_S3{S3: &spatev1.S3Destination{BucketArn: "arn:aws:s3:::b", Prefix: "p/",
					ErrorOutputPrefix: "e/", CompressionFormat: spatev1.CompressionFormat_COMPRESSION_FORMAT_HADOOP_SNAPPY,
					BufferingHints: &spatev1.BufferingHints{SizeInMbs: proto.Int32(7)}}},
				Tags: []*spatev1.Tag{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}}}, ""},
		{"zero seconds is a value", []string{"--bucket", "b", "--buffer-seconds", "0", "--compression", "ZSTD"},
			&spatev1.CreateDeliveryStreamRequest{DeliveryStreamName: "s", Destination: &spatev1.CreateDeliveryStreamRequest_S3{S3: &spatev1.S3Destination{
				BucketArn: "arn:aws:s3:::b", CompressionFormat: spatev1.CompressionFormat_COMPRESSION_FORMAT_ZSTD,
				BufferingHints: &spatev1.BufferingHints{IntervalInSeconds: proto.Int32(0)}}}}, ""},
		{"transform and delimiter", []string{"--bucket", "b", "--delimiter", "--transform", "arn:aws:lambda:us-east-1:000000000000:function:f"},
			&spatev1.CreateDeliveryStreamRequest{DeliveryStreamName: "s", Destination: &spatev1.CreateDeliveryStreamRequest_S3{S3: &spatev1.S3Destination{
				BucketArn: "arn:aws:s3:::b", ProcessingConfiguration: &spatev1.ProcessingConfiguration{Enabled: proto.Bool(true), Processors: []*spatev1.Processor{
					{Type: "Lambda", Parameters: []*spatev1.ProcessorParameter{{ParameterName: "LambdaArn", ParameterValue: "arn:aws:lambda:us-east-1:000000000000:function:f"}}},
					{Type: "AppendDelimiterToRecord"}}}}}}, ""},
		{"transform by name", []string{"--bucket", "b", "--transform", "f"}, nil, `--transform "f": give the function's ARN`},
		{"no bucket", nil, nil, "--bucket is required"},
		{"unknown compression", []string{"--bucket", "b", "--compression", "lz4"}, nil, `--compression "lz4": want UNCOMPRESSED`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fl createFlags
			fs := pflag.NewFlagSet("create", pflag.ContinueOnError)
			fl.register(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			got, err := createRequestFromFlags(fs, "s", fl)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !proto.Equal(got, tt.want) {
				t.Errorf("request = %v, %v\nwant %v", got, err, tt.want)
			}
		})
	}
}

func TestCreateRequestFromJSON(t *testing.T) {
	tests := []struct{ name, json, want string }{
		{"misspelt member", `{"ExtendedS3DestinationConfiguration": {"BucketRN": "x"}}`, `unknown field "BucketRN"`},
		{"unsupported destination", `{"RedshiftDestinationConfiguration": {}}`, `unknown field "RedshiftDestinationConfiguration"`},
		{"other name", `{"DeliveryStreamName": "other"}`, `the file names delivery stream "other", the command "s"`},
		{"no gRPC equivalent", `{"S3DestinationConfiguration": {"BucketARN": "arn:aws:s3:::b", "CompressionFormat": "LZ4"}}`, `CompressionFormat "LZ4"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := createRequestFromJSON("s", []byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
	req, err := createRequestFromJSON("s", []byte(`{"DeliveryStreamName": "s", "S3DestinationConfiguration": {"RoleARN": "r", "BucketARN": "arn:aws:s3:::b"}}`))
	if err != nil || req.GetDeliveryStreamName() != "s" || req.GetS3().GetBucketArn() != "arn:aws:s3:::b" {
		t.Errorf("request = %v, %v", req, err)
	}
}

func TestFormatDeliveryStream(t *testing.T) {
	at := timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	d := &spatev1.DeliveryStreamDescription{
		DeliveryStreamName: "logs", DeliveryStreamArn: "arn:aws:firehose:us-east-1:000000000000:deliverystream/logs",
		DeliveryStreamStatus: spatev1.DeliveryStreamStatus_DELIVERY_STREAM_STATUS_ACTIVE,
		DeliveryStreamType:   spatev1.DeliveryStreamType_DELIVERY_STREAM_TYPE_KINESIS_STREAM_AS_SOURCE,
		VersionId:            "2", CreateTimestamp: at, LastUpdateTimestamp: at,
		KinesisStreamSource: &spatev1.KinesisStreamSourceDescription{KinesisStreamArn: "arn:aws:kinesis:us-east-1:000000000000:stream/s", DeliveryStartTimestamp: at},
		Destinations: []*spatev1.Destination{
			{DestinationId: "destinationId-000000000001", Destination: &spatev1.Destination_S3{S3: &spatev1.S3Destination{
				BucketArn: "arn:aws:s3:::b", Prefix: "p/", CompressionFormat: spatev1.CompressionFormat_COMPRESSION_FORMAT_GZIP,
				BufferingHints: &spatev1.BufferingHints{SizeInMbs: proto.Int32(5), IntervalInSeconds: proto.Int32(300)},
				DataFormatConversionConfiguration: &spatev1.DataFormatConversionConfiguration{Enabled: proto.Bool(true), SchemaColumns: "a:int",
					ParquetCompression: spatev1.ParquetCompression_PARQUET_COMPRESSION_SNAPPY},
				S3BackupMode: spatev1.S3BackupMode_S3_BACKUP_MODE_DISABLED,
			}}},
			{DestinationId: "destinationId-000000000002", Destination: &spatev1.Destination_Opensearch{Opensearch: &spatev1.ElasticsearchDestination{
				ClusterEndpoint: "https://es:9200", IndexName: "logs", IndexRotationPeriod: spatev1.IndexRotationPeriod_INDEX_ROTATION_PERIOD_ONE_DAY,
				BufferingHints: &spatev1.BufferingHints{SizeInMbs: proto.Int32(5)}, RetryDurationInSeconds: proto.Int32(300),
				S3BackupMode:    spatev1.ElasticsearchS3BackupMode_ELASTICSEARCH_S3_BACKUP_MODE_FAILED_DOCUMENTS_ONLY,
				S3Configuration: &spatev1.S3Destination{BucketArn: "arn:aws:s3:::backup"},
			}}},
		},
	}
	want := `Delivery stream:  logs
ARN:              arn:aws:firehose:us-east-1:000000000000:deliverystream/logs
Status:           ACTIVE
Type:             KINESIS_STREAM_AS_SOURCE
Version:          2
Created:          2026-01-02T03:04:05Z
Updated:          2026-01-02T03:04:05Z
Source:           arn:aws:kinesis:us-east-1:000000000000:stream/s (records from 2026-01-02T03:04:05Z on)
Destination:      destinationId-000000000001 (S3)
  Bucket:         arn:aws:s3:::b
  Prefix:         p/
  Error prefix:   -
  Compression:    GZIP
  Buffering:      5 MiB or 300 s
  Conversion:     Parquet (SNAPPY), columns a:int
Destination:      destinationId-000000000002 (OpenSearch)
  Cluster:        https://es:9200
  Index:          logs
  Rotation:       ONE_DAY
  Buffering:      5 MiB or -
  Retry for:      300 s
  S3 backup:      FAILED_DOCUMENTS_ONLY to arn:aws:s3:::backup
Delivery errors:  none
`
	var b strings.Builder
	if err := formatDeliveryStream(&b, d); err != nil {
		t.Fatal(err)
	}
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}

	// The last delivery errors follow, newest first, one line each.
	d.Destinations = d.Destinations[:1]
	d.DeliveryErrors = []*spatev1.DeliveryError{
		{Timestamp: at, FirstTimestamp: at, Destination: "S3", ErrorCode: "S3.NoSuchBucket",
			ErrorMessage: "put s3://b/p/x: The specified bucket does not exist", Count: 12},
		{Timestamp: at, FirstTimestamp: at, Destination: "Lambda", ErrorCode: "Lambda.FunctionError",
			ErrorMessage: "The Lambda function was\nsuccessfully invoked", Count: 1},
	}
	b.Reset()
	if err := formatDeliveryStream(&b, d); err != nil {
		t.Fatal(err)
	}
	wantErrors := `Delivery errors (last 2, newest first; delivery is retried):
  TIME                  DESTINATION  CODE                  COUNT  MESSAGE
  2026-01-02T03:04:05Z  S3           S3.NoSuchBucket       12     put s3://b/p/x: The specified bucket does not exist
  2026-01-02T03:04:05Z  Lambda       Lambda.FunctionError  1      The Lambda function was successfully invoked
`
	if !strings.HasSuffix(b.String(), wantErrors) {
		t.Errorf("got\n%s\nwant it to end with\n%s", b.String(), wantErrors)
	}
}

func TestFormatDeliveryStreamList(t *testing.T) {
	for _, tt := range []struct {
		names []string
		want  string
	}{{nil, "no delivery streams\n"}, {[]string{"a", "b"}, "a\nb\n"}} {
		var b strings.Builder
		if err := formatDeliveryStreamList(&b, tt.names); err != nil || b.String() != tt.want {
			t.Errorf("formatDeliveryStreamList(%q) = %q, %v; want %q", tt.names, b.String(), err, tt.want)
		}
	}
}

// TestFirehosePutter checks the firehose sink's batching: no partition
// keys, 500 records or 4 MiB per call, records over 1,000 KiB refused.
func TestFirehosePutter(t *testing.T) {
	var calls [][]int
	fake := &fakeFirehoseClient{respond: func(req *spatev1.PutRecordBatchRequest) (*spatev1.PutRecordBatchResponse, error) {
		var sizes []int
		resp := &spatev1.PutRecordBatchResponse{}
		for _, r := range req.GetRecords() {
			sizes = append(sizes, len(r))
			resp.RequestResponses = append(resp.RequestResponses, &spatev1.PutRecordBatchResponseEntry{RecordId: "1"})
		}
		calls = append(calls, sizes)
		return resp, nil
	}}
	var stderr strings.Builder
	p := newLinePutter("spate firehose put", "test", &deliveryStreamSink{api: fake, name: "d"}, &stderr, false)
	p.sleep = func(context.Context, time.Duration) error { return nil }
	big := strings.Repeat("x", firehose.MaxRecordSize)
	input := numberedLines(501) + strings.Repeat(big+"\n", 5) + big + "x\n"
	stats, err := p.run(context.Background(), strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	var counts []int
	for _, c := range calls {
		counts = append(counts, len(c))
	}
	// 501 short lines and 5 of 1,000 KiB: 500 lines, then the last short one
	// with 4 big ones (under 4 MiB), then the fifth big one.
	if !slices.Equal(counts, []int{500, 5, 1}) {
		t.Errorf("calls of %v records, want [500 5 1]", counts)
	}
	if stats.put != 506 || stats.failed != 1 || !strings.Contains(stderr.String(), "spate firehose put: line 507: the line exceeds 1024000 bytes") {
		t.Errorf("stats %+v, stderr %q", stats, stderr.String())
	}
}

type fakeFirehoseClient struct {
	spatev1.FirehoseServiceClient
	respond func(*spatev1.PutRecordBatchRequest) (*spatev1.PutRecordBatchResponse, error)
}

func (f *fakeFirehoseClient) PutRecordBatch(_ context.Context, req *spatev1.PutRecordBatchRequest, _ ...grpc.CallOption) (*spatev1.PutRecordBatchResponse, error) {
	return f.respond(req)
}

// TestServeRoutesBothAPIs starts serve and checks that its HTTP port
// answers the Kinesis and the Firehose API, and that the gRPC port serves
// FirehoseService.
func TestServeRoutesBothAPIs(t *testing.T) {
	cfg := testServeConfig(t)
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		err := serve(ctx, cfg, pw)
		pw.Close()
		served <- err
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	addrs := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var rec struct {
				Msg      string `json:"msg"`
				HTTPAddr string `json:"http_addr"`
				GRPCAddr string `json:"grpc_addr"`
			}
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "spate serving" {
				addrs <- [2]string{rec.HTTPAddr, rec.GRPCAddr}
			}
		}
	}()
	var httpAddr, grpcAddr string
	select {
	case a := <-addrs:
		httpAddr, grpcAddr = a[0], a[1]
	case err := <-served:
		t.Fatalf("serve ended: %v", err)
	}

	for _, tt := range []struct {
		target     string
		wantStatus int
		wantInBody string
	}{
		{"Kinesis_20131202.ListStreams", 200, `"StreamNames":[]`},
		{"Firehose_20150804.ListDeliveryStreams", 200, `{"DeliveryStreamNames":[],"HasMoreDeliveryStreams":false}`},
		{"Firehose_20150804.StartDeliveryStreamEncryption", 400, "Value null at 'DeliveryStreamName'"},
		{"Analytics_20150814.ListApplications", 400, "expected X-Amz-Target Kinesis_20131202.<Action> or Firehose_20150804.<Action>"},
	} {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+httpAddr+"/", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Target", tt.target)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.target, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.wantStatus || !strings.Contains(string(body), tt.wantInBody) {
			t.Errorf("%s: %s %s", tt.target, resp.Status, body)
		}
	}

	cc, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	// Without --s3-endpoint an S3 destination cannot be created, and the
	// error says so.
	_, err = spatev1.NewFirehoseServiceClient(cc).CreateDeliveryStream(ctx, &spatev1.CreateDeliveryStreamRequest{
		DeliveryStreamName: "s", Destination: &spatev1.CreateDeliveryStreamRequest_S3{S3: &spatev1.S3Destination{BucketArn: "arn:aws:s3:::b"}},
	})
	if err == nil || !strings.Contains(err.Error(), "InvalidArgumentException") || !strings.Contains(err.Error(), "S3 endpoint") {
		t.Errorf("gRPC CreateDeliveryStream without S3: %v", err)
	}
}
