package grpcapi

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/kms"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// TestStreamEncryptionOverGRPC starts encryption over gRPC, puts a record
// (EncryptionType KMS), reads it back decrypted with GetRecords, and maps a
// KMS error to FAILED_PRECONDITION with the AWS name.
func TestStreamEncryptionOverGRPC(t *testing.T) {
	keys, err := kms.Open("")
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, shard.WithKeys(keys))
	ctx := testContext(t)
	f.createStream(t, "s", 1)
	_, err = f.client.StartStreamEncryption(ctx, &spatev1.StartStreamEncryptionRequest{StreamName: "s", EncryptionType: "KMS", KeyId: "alias/nope"})
	if st := status.Convert(err); st.Code() != codes.FailedPrecondition || apierr.CodeOf(FromStatus(err)) != apierr.KMSNotFound {
		t.Fatalf("unknown key: %v, want FAILED_PRECONDITION", err)
	}
	if _, err := f.client.StartStreamEncryption(ctx, &spatev1.StartStreamEncryptionRequest{StreamName: "s", EncryptionType: "KMS", KeyId: "alias/aws/kinesis"}); err != nil {
		t.Fatal(err)
	}
	d, err := f.client.DescribeStream(ctx, &spatev1.DescribeStreamRequest{StreamName: "s"})
	if err != nil || d.GetStreamDescription().GetEncryptionType() != "KMS" || d.GetStreamDescription().GetKeyId() != "alias/aws/kinesis" {
		t.Fatalf("DescribeStream: %v %v", d, err)
	}
	put, err := f.client.PutRecord(ctx, &spatev1.PutRecordRequest{StreamName: "s", PartitionKey: "k", Data: []byte("secret")})
	if err != nil || put.GetEncryptionType() != "KMS" {
		t.Fatalf("PutRecord: %v %v, want EncryptionType KMS", put, err)
	}
	it, err := f.client.GetShardIterator(ctx, &spatev1.GetShardIteratorRequest{StreamName: "s", ShardId: "shardId-000000000000",
		ShardIteratorType: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.client.GetRecords(ctx, &spatev1.GetRecordsRequest{ShardIterator: it.GetShardIterator()})
	if err != nil || len(got.GetRecords()) != 1 || string(got.GetRecords()[0].GetData()) != "secret" || got.GetRecords()[0].GetPartitionKey() != "k" ||
		got.GetRecords()[0].GetEncryptionType() != "KMS" {
		t.Fatalf("GetRecords: %v %v", got, err)
	}
	if _, err := f.client.StopStreamEncryption(ctx, &spatev1.StopStreamEncryptionRequest{StreamName: "s", EncryptionType: "KMS", KeyId: "alias/aws/kinesis"}); err != nil {
		t.Fatal(err)
	}
}
