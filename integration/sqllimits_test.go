package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// analyticsPost posts a JSON body to the Analytics API and returns the
// status and the decoded reply.
func analyticsDo(t *testing.T, srv *server, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(testCtx(t), method, srv.Endpoint()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v (did the server die?)", method, path, err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("%s %s: %d, body: %v", method, path, resp.StatusCode, err)
	}
	return resp.StatusCode, m
}

func grpcConn(t *testing.T, srv *server) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(srv.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// TestSQLLimits: the scripts of issue 11 that killed the server with a
// stack overflow are refused with a 400 / InvalidArgument, and the server
// keeps serving.
func TestSQLLimits(t *testing.T) {
	srv := startServer(t)
	ctx := testCtx(t)
	analytics := spatev1.NewAnalyticsServiceClient(grpcConn(t, srv))
	tests := []struct {
		name, sql, inMsg string
	}{
		{"1,048,000 bangs", "SELECT " + strings.Repeat("!", 1_048_000) + "1 AS x FROM s", "the limit is 102400 bytes"},
		{"2 MB of 1+1+", "SELECT " + strings.Repeat("1+", 1_000_000) + "1 FROM s", "the limit is 102400 bytes"},
		{"100 KB of bangs", "SELECT " + strings.Repeat("!", 100_000) + "1 AS x FROM s", "nested too deeply"},
		{"100 KB of 1+1+", "SELECT " + strings.Repeat("1+", 50_000) + "1 FROM s", "nested too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.sql) < 1<<20-100 { // the HTTP API takes bodies up to 1 MiB
				for _, path := range []string{"/v1/validate", "/v1/applications"} {
					body := map[string]any{"sql": tt.sql}
					if path == "/v1/applications" {
						body["name"] = "hostile"
					}
					status, e := analyticsDo(t, srv, "POST", path, body)
					msg, _ := e["message"].(string)
					if status != http.StatusBadRequest || e["__type"] != "InvalidArgumentException" || !strings.Contains(msg, tt.inMsg) || e["line"] != 1.0 {
						t.Fatalf("POST %s: %d %.300v; want 400 InvalidArgumentException at line 1 with %q", path, status, e, tt.inMsg)
					}
				}
			}
			_, err := analytics.ValidateSql(ctx, &spatev1.ValidateSqlRequest{Sql: tt.sql})
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), tt.inMsg) {
				t.Fatalf("ValidateSql: %.300v; want InvalidArgument with %q", err, tt.inMsg)
			}
		})
	}
	if status, d := analyticsDo(t, srv, "POST", "/v1/validate", map[string]any{"sql": "SELECT a FROM s"}); status != http.StatusOK {
		t.Fatalf("after the hostile scripts: %d %v", status, d)
	}
}

// TestInternalStreamsHidden: a DirectPut delivery stream's buffer
// ("firehose:NAME") cannot be named through Analytics, Kinesis or gRPC;
// every face answers as for a name no stream can have (issue 11 defect 6).
func TestInternalStreamsHidden(t *testing.T) {
	f := newFH(t)
	ctx := testCtx(t)
	name := "hidden"
	f.createS3(ctx, t, name, "UNCOMPRESSED")
	if _, err := f.c.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String(name),
		Record: &fhtypes.Record{Data: []byte(`{"secret":1}`)}}); err != nil {
		t.Fatal(err)
	}
	internal := "firehose:" + name

	t.Run("analytics http", func(t *testing.T) {
		for _, req := range []struct {
			method, path string
			body         any
			typ          string
		}{
			{"GET", "/v1/streams/" + internal + "/schema", nil, "ValidationException"},
			{"POST", "/v1/validate", map[string]any{"sql": "SELECT secret FROM `" + internal + "`"}, "InvalidArgumentException"},
			{"POST", "/v1/applications", map[string]any{"name": "peek", "sql": "SELECT secret FROM `" + internal + "`"}, "InvalidArgumentException"},
			{"POST", "/v1/applications", map[string]any{"name": "poke", "sql": "INSERT INTO `" + internal + "` SELECT secret FROM `" + name + "`"}, "InvalidArgumentException"},
		} {
			status, e := analyticsDo(t, f.srv, req.method, req.path, req.body)
			if msg, _ := e["message"].(string); status != http.StatusBadRequest || e["__type"] != req.typ || !strings.Contains(msg, "is invalid") {
				t.Errorf("%s %s: %d %v; want 400 %s", req.method, req.path, status, e, req.typ)
			}
		}
	})

	t.Run("kinesis json", func(t *testing.T) {
		calls := map[string]func() error{
			"DescribeStreamSummary": func() error {
				_, err := f.kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(internal)})
				return err
			},
			"ListShards": func() error {
				_, err := f.kin.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(internal)})
				return err
			},
			"GetShardIterator": func() error {
				_, err := f.kin.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(internal),
					ShardId: aws.String("shardId-000000000000"), ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon})
				return err
			},
		}
		for op, call := range calls {
			var ae smithy.APIError
			if err := call(); !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" {
				t.Errorf("%s: %v; want ValidationException", op, err)
			}
		}
		list, err := f.kin.ListStreams(ctx, &kinesis.ListStreamsInput{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range list.StreamNames {
			if strings.Contains(s, ":") {
				t.Errorf("ListStreams shows %s", s)
			}
		}
	})

	t.Run("grpc", func(t *testing.T) {
		conn := grpcConn(t, f.srv)
		streams := spatev1.NewStreamServiceClient(conn)
		calls := map[string]func() error{
			"DescribeStream": func() error {
				_, err := streams.DescribeStream(ctx, &spatev1.DescribeStreamRequest{StreamName: internal})
				return err
			},
			"GetShardIterator": func() error {
				_, err := streams.GetShardIterator(ctx, &spatev1.GetShardIteratorRequest{StreamName: internal, ShardId: "shardId-000000000000",
					ShardIteratorType: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON})
				return err
			},
			"Subscribe": func() error {
				sub, err := streams.Subscribe(ctx, &spatev1.SubscribeRequest{StreamName: internal, ShardId: "shardId-000000000000"})
				if err != nil {
					return err
				}
				_, err = sub.Recv()
				return err
			},
			"DiscoverSchema": func() error {
				_, err := spatev1.NewAnalyticsServiceClient(conn).DiscoverSchema(ctx, &spatev1.DiscoverSchemaRequest{StreamName: internal})
				return err
			},
		}
		for op, call := range calls {
			if err := call(); status.Code(err) != codes.InvalidArgument {
				t.Errorf("%s: %v; want InvalidArgument", op, err)
			}
		}
	})
}
