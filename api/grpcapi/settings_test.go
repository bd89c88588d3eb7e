package grpcapi

import (
	"bytes"
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/auth"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

func TestSettingsRPCs(t *testing.T) {
	f := newFixture(t)
	ctx := testContext(t)
	c := f.client
	if _, err := c.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: "s", ShardCount: 1, MaxRecordSizeKib: 2048}); err != nil {
		t.Fatal(err)
	}
	arn := f.store.StreamARN("s")
	summary := func() *spatev1.StreamDescriptionSummary {
		t.Helper()
		d, err := c.DescribeStreamSummary(ctx, &spatev1.DescribeStreamSummaryRequest{StreamName: "s"})
		if err != nil {
			t.Fatal(err)
		}
		return d.GetStreamDescriptionSummary()
	}
	if got := summary().GetMaxRecordSizeKib(); got != 2048 {
		t.Errorf("max_record_size_kib = %d, want 2048", got)
	}

	// Failures, each with its AWS error type.
	_, err := c.TagResource(ctx, &spatev1.TagResourceRequest{ResourceArn: arn + "/consumer/c:1", Tags: map[string]string{"k": "v"}})
	wantAPIError(t, err, apierr.ResourceNotFound, codes.NotFound, "Consumer c")
	_, err = c.PutResourcePolicy(ctx, &spatev1.PutResourcePolicyRequest{ResourceArn: arn, Policy: `{"Statement":[]}`})
	wantAPIError(t, err, apierr.InvalidArgument, codes.InvalidArgument, "no Statement")
	_, err = c.UpdateStreamMode(ctx, &spatev1.UpdateStreamModeRequest{StreamName: "s"})
	wantAPIError(t, err, apierr.InvalidArgument, codes.InvalidArgument, "stream_mode")
	_, err = c.UpdateMaxRecordSize(ctx, &spatev1.UpdateMaxRecordSizeRequest{StreamName: "s", MaxRecordSizeKib: 20000})
	wantAPIError(t, err, apierr.Validation, codes.InvalidArgument, "10240")
	_, err = c.UpdateAccountSettings(ctx, &spatev1.UpdateAccountSettingsRequest{MinimumThroughputBillingCommitmentStatus: "ON"})
	wantAPIError(t, err, apierr.Validation, codes.InvalidArgument, "ENABLED or DISABLED")

	// Successes.
	if _, err := c.TagResource(ctx, &spatev1.TagResourceRequest{ResourceArn: arn, Tags: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsForResource(ctx, &spatev1.ListTagsForResourceRequest{ResourceArn: arn})
	if err != nil || len(tags.GetTags()) != 1 || tags.GetTags()[0].GetKey() != "k" {
		t.Fatalf("ListTagsForResource = %v, %v", tags, err)
	}
	if _, err := c.UntagResource(ctx, &spatev1.UntagResourceRequest{ResourceArn: arn, TagKeys: []string{"k"}}); err != nil {
		t.Fatal(err)
	}
	doc := `{"Statement":{"Effect":"Deny","Principal":"*","Action":"kinesis:DeleteStream","Resource":"*"}}`
	if _, err := c.PutResourcePolicy(ctx, &spatev1.PutResourcePolicyRequest{ResourceArn: arn, Policy: doc}); err != nil {
		t.Fatal(err)
	}
	if p, err := c.GetResourcePolicy(ctx, &spatev1.GetResourcePolicyRequest{ResourceArn: arn}); err != nil || p.GetPolicy() != doc {
		t.Fatalf("GetResourcePolicy = %v, %v", p, err)
	}
	if _, err := c.DeleteResourcePolicy(ctx, &spatev1.DeleteResourcePolicyRequest{ResourceArn: arn}); err != nil {
		t.Fatal(err)
	}
	acct, err := c.UpdateAccountSettings(ctx, &spatev1.UpdateAccountSettingsRequest{MinimumThroughputBillingCommitmentStatus: "ENABLED"})
	if err != nil || acct.GetMinimumThroughputBillingCommitment().GetStatus() != "ENABLED" {
		t.Fatalf("UpdateAccountSettings = %v, %v", acct, err)
	}
	warm := int32(7)
	if _, err := c.UpdateStreamMode(ctx, &spatev1.UpdateStreamModeRequest{StreamArn: arn,
		StreamMode: spatev1.StreamMode_STREAM_MODE_ON_DEMAND, WarmThroughputMibps: &warm}); err != nil {
		t.Fatal(err)
	}
	if s := summary(); s.GetStreamMode() != spatev1.StreamMode_STREAM_MODE_ON_DEMAND || s.GetWarmThroughput().GetTargetMibps() != 7 {
		t.Errorf("summary after UpdateStreamMode = %v", s)
	}
	w, err := c.UpdateStreamWarmThroughput(ctx, &spatev1.UpdateStreamWarmThroughputRequest{StreamName: "s", WarmThroughputMibps: 9})
	if err != nil || w.GetStreamArn() != arn || w.GetWarmThroughput().GetCurrentMibps() != 9 {
		t.Fatalf("UpdateStreamWarmThroughput = %v, %v", w, err)
	}
	if d, err := c.DescribeAccountSettings(ctx, &spatev1.DescribeAccountSettingsRequest{}); err != nil ||
		d.GetMinimumThroughputBillingCommitment().GetEarliestAllowedEndAt() == nil {
		t.Fatalf("DescribeAccountSettings = %v, %v", d, err)
	}

	// A 10 MiB record through gRPC once the stream allows it.
	big := bytes.Repeat([]byte{'z'}, shard.MaxRecordSizeLimit-1)
	_, err = c.PutRecord(ctx, &spatev1.PutRecordRequest{StreamName: "s", PartitionKey: "k", Data: big})
	wantAPIError(t, err, apierr.InvalidArgument, codes.InvalidArgument, "2048 KiB")
	if _, err := c.UpdateMaxRecordSize(ctx, &spatev1.UpdateMaxRecordSizeRequest{StreamArn: arn, MaxRecordSizeKib: 10240}); err != nil {
		t.Fatal(err)
	}
	put, err := c.PutRecord(ctx, &spatev1.PutRecordRequest{StreamName: "s", PartitionKey: "k", Data: big})
	if err != nil {
		t.Fatalf("PutRecord of 10 MiB: %v", err)
	}
	it, err := c.GetShardIterator(ctx, &spatev1.GetShardIteratorRequest{StreamName: "s", ShardId: put.GetShardId(),
		ShardIteratorType: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetRecords(ctx, &spatev1.GetRecordsRequest{ShardIterator: it.GetShardIterator()}, grpc.MaxCallRecvMsgSize(MaxMessageSize))
	if err != nil || len(got.GetRecords()) != 1 || !bytes.Equal(got.GetRecords()[0].GetData(), big) {
		t.Fatalf("GetRecords of a 10 MiB record: %v", err)
	}
}

// TestResourcePolicyGRPC checks that the interceptor hands resource_arn to
// the guard and that a resource policy's Deny refuses a gRPC call.
func TestResourcePolicyGRPC(t *testing.T) {
	keys, err := auth.ParseKeys([]byte("[admin]\naws_access_key_id = A\naws_secret_access_key = a\n"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := shard.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	g := auth.NewGuard(keys, nil, "us-east-1", "000000000000").WithResourcePolicies(store)
	conn := serveBufconn(t, func(gs *grpc.Server) { Register(gs, store) }, AuthOptions(g, store)...)
	c := spatev1.NewStreamServiceClient(conn)
	admin := auth.Profile{AccessKeyID: "A", SecretAccessKey: "a"}
	ctx := testContext(t)
	sctx := func(method string) context.Context {
		return signedAs(t, ctx, admin, "/spate.v1.StreamService/"+method)
	}
	if _, err := c.CreateStream(sctx("CreateStream"), &spatev1.CreateStreamRequest{StreamName: "s", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	arn := store.StreamARN("s")
	doc := `{"Statement":{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::000000000000:user/admin"},"Action":["kinesis:UntagResource","kinesis:DeleteStream"],"Resource":"` + arn + `"}}`
	if _, err := c.PutResourcePolicy(sctx("PutResourcePolicy"), &spatev1.PutResourcePolicyRequest{ResourceArn: arn, Policy: doc}); err != nil {
		t.Fatal(err)
	}
	_, err = c.UntagResource(sctx("UntagResource"), &spatev1.UntagResourceRequest{ResourceArn: arn, TagKeys: []string{"k"}})
	wantAPIError(t, err, apierr.AccessDenied, codes.PermissionDenied, "resource-based policy")
	_, err = c.DeleteStream(sctx("DeleteStream"), &spatev1.DeleteStreamRequest{StreamName: "s"})
	wantAPIError(t, err, apierr.AccessDenied, codes.PermissionDenied, "resource-based policy")
	if _, err := c.TagResource(sctx("TagResource"), &spatev1.TagResourceRequest{ResourceArn: arn, Tags: map[string]string{"k": "v"}}); err != nil {
		t.Errorf("TagResource, not denied: %v", err)
	}
}
