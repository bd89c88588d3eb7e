package grpcapi

import (
	"context"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/auth"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// signedAs returns ctx with the metadata that signs a call of method with
// p's key (none for an empty profile).
func signedAs(t *testing.T, ctx context.Context, p auth.Profile, method string) context.Context {
	t.Helper()
	if p.AccessKeyID == "" {
		return ctx
	}
	md, err := auth.SignGRPC(p, method, "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return metadata.NewOutgoingContext(ctx, metadata.New(md))
}

func TestAuthInterceptors(t *testing.T) {
	keys, err := auth.ParseKeys([]byte("[admin]\naws_access_key_id = A\naws_secret_access_key = a\n[reader]\naws_access_key_id = R\naws_secret_access_key = r\n"))
	if err != nil {
		t.Fatal(err)
	}
	policies, err := auth.ParsePolicies([]byte(`{
		"admin": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
		"reader": {"Statement": [
			{"Effect": "Allow", "Action": ["kinesis:Get*", "kinesis:Describe*", "kinesis:SubscribeToShard"], "Resource": "*"},
			{"Effect": "Deny", "Action": "*", "Resource": "arn:aws:kinesis:*:*:stream/secret"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	store, err := shard.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	g := auth.NewGuard(keys, policies, "us-east-1", "000000000000")
	conn := serveBufconn(t, func(gs *grpc.Server) { Register(gs, store) }, AuthOptions(g, store)...)
	c := spatev1.NewStreamServiceClient(conn)
	admin, reader := auth.Profile{AccessKeyID: "A", SecretAccessKey: "a"}, auth.Profile{AccessKeyID: "R", SecretAccessKey: "r"}
	const (
		create   = "/spate.v1.StreamService/CreateStream"
		summary  = "/spate.v1.StreamService/DescribeStreamSummary"
		iterator = "/spate.v1.StreamService/GetShardIterator"
		records  = "/spate.v1.StreamService/GetRecords"
		sub      = "/spate.v1.StreamService/Subscribe"
	)
	ctx := testContext(t)
	for _, name := range []string{"open", "secret"} {
		if _, err := c.CreateStream(signedAs(t, ctx, admin, create), &spatev1.CreateStreamRequest{StreamName: name, ShardCount: 1}); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	secretIt, err := c.GetShardIterator(signedAs(t, ctx, admin, iterator), &spatev1.GetShardIteratorRequest{
		StreamName: "secret", ShardId: "shardId-000000000000", ShardIteratorType: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON})
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		call func() error
		code codes.Code
		api  apierr.Code
	}{
		{"unsigned", func() error {
			_, err := c.DescribeStreamSummary(ctx, &spatev1.DescribeStreamSummaryRequest{StreamName: "open"})
			return err
		}, codes.Unauthenticated, apierr.MissingAuthenticationToken},
		{"signed for another method", func() error {
			_, err := c.DescribeStreamSummary(signedAs(t, ctx, reader, create), &spatev1.DescribeStreamSummaryRequest{StreamName: "open"})
			return err
		}, codes.Unauthenticated, apierr.InvalidSignature},
		{"reader describes open", func() error {
			_, err := c.DescribeStreamSummary(signedAs(t, ctx, reader, summary), &spatev1.DescribeStreamSummaryRequest{StreamName: "open"})
			return err
		}, codes.OK, ""},
		{"reader denied secret", func() error {
			_, err := c.DescribeStreamSummary(signedAs(t, ctx, reader, summary), &spatev1.DescribeStreamSummaryRequest{StreamName: "secret"})
			return err
		}, codes.PermissionDenied, apierr.AccessDenied},
		{"reader may not create", func() error {
			_, err := c.CreateStream(signedAs(t, ctx, reader, create), &spatev1.CreateStreamRequest{StreamName: "x", ShardCount: 1})
			return err
		}, codes.PermissionDenied, apierr.AccessDenied},
		{"reader denied an iterator of secret", func() error {
			_, err := c.GetRecords(signedAs(t, ctx, reader, records), &spatev1.GetRecordsRequest{ShardIterator: secretIt.GetShardIterator()})
			return err
		}, codes.PermissionDenied, apierr.AccessDenied},
		{"reader denied Subscribe to secret", func() error {
			s, err := c.Subscribe(signedAs(t, ctx, reader, sub), &spatev1.SubscribeRequest{StreamName: "secret", ShardId: "shardId-000000000000"})
			if err != nil {
				return err
			}
			_, err = s.Recv()
			if err == io.EOF {
				return nil
			}
			return err
		}, codes.PermissionDenied, apierr.AccessDenied},
		{"unsigned Subscribe", func() error {
			s, err := c.Subscribe(ctx, &spatev1.SubscribeRequest{StreamName: "open", ShardId: "shardId-000000000000"})
			if err != nil {
				return err
			}
			_, err = s.Recv()
			return err
		}, codes.Unauthenticated, apierr.MissingAuthenticationToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if status.Code(err) != tc.code || (tc.api != "" && apierr.CodeOf(FromStatus(err)) != tc.api) {
				t.Fatalf("err %v, want %s %s", err, tc.code, tc.api)
			}
		})
	}
}
