package firehose

import (
	"context"
	"testing"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/shard"
)

// A server restarted without its S3 endpoint must start, leave the delivery
// stream undelivered, and not crash (its records wait in the store).
func TestRestartWithoutS3DoesNotCrash(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "orphan",
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{
			BucketARN: f.bucketARN(), Prefix: "orphan/", BufferingHints: intervalZero(),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.close()
	st, err := shard.Open(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := New(st) // no WithS3
	if err != nil {
		t.Fatalf("New without S3 failed: %v", err)
	}
	defer svc.Close()
	if _, err := svc.PutRecord(ctx, "orphan", []byte("x")); apierr.CodeOf(err) != apierr.ResourceNotFound {
		t.Fatalf("PutRecord to a delivery stream that could not start: %v, want ResourceNotFoundException", err)
	}
}

func TestServiceArgumentChecks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName:                 "args",
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{BucketARN: f.bucketARN()},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{-1, 51} {
		if _, _, err := f.svc.ListTagsForDeliveryStream(ctx, "args", "", limit); apierr.CodeOf(err) != apierr.InvalidArgument {
			t.Errorf("ListTagsForDeliveryStream limit %d: %v, want InvalidArgumentException", limit, err)
		}
	}
	_, err = f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "es-proc",
		ElasticsearchDestinationConfiguration: &ElasticsearchDestinationConfiguration{
			ClusterEndpoint: "http://127.0.0.1:9", IndexName: "i", ProcessingConfiguration: delimiter(),
			S3Configuration: &S3DestinationConfiguration{BucketARN: f.bucketARN()},
		},
	})
	if apierr.CodeOf(err) != apierr.InvalidArgument {
		t.Errorf("Elasticsearch with a processor Spate does not apply there: %v, want InvalidArgumentException", err)
	}
	_, err = f.svc.CreateDeliveryStream(ctx, CreateDeliveryStreamInput{
		DeliveryStreamName: "es-url",
		ElasticsearchDestinationConfiguration: &ElasticsearchDestinationConfiguration{
			ClusterEndpoint: "localhost:9200", IndexName: "i",
			S3Configuration: &S3DestinationConfiguration{BucketARN: f.bucketARN()},
		},
	})
	if apierr.CodeOf(err) != apierr.InvalidArgument {
		t.Errorf("a cluster URL the client rejects: %v, want InvalidArgumentException at create", err)
	}
}

// While a deletion runs, the name answers ResourceInUse to a create, and
// the deletion never removes a stream created after it.
func TestDeleteThenCreateSameName(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := CreateDeliveryStreamInput{
		DeliveryStreamName:                 "again",
		ExtendedS3DestinationConfiguration: &ExtendedS3DestinationConfiguration{BucketARN: f.bucketARN(), BufferingHints: intervalZero()},
	}
	if _, err := f.svc.CreateDeliveryStream(ctx, in); err != nil {
		t.Fatal(err)
	}
	f.svc.mu.Lock()
	f.svc.streams["again"].deleting = true // as DeleteDeliveryStream marks it while it cleans up
	f.svc.mu.Unlock()
	if _, err := f.svc.CreateDeliveryStream(ctx, in); apierr.CodeOf(err) != apierr.ResourceInUse {
		t.Fatalf("create during a deletion: %v, want ResourceInUseException", err)
	}
	if _, err := f.svc.DescribeDeliveryStream(ctx, "again"); apierr.CodeOf(err) != apierr.ResourceNotFound {
		t.Fatalf("describe during a deletion: %v, want ResourceNotFoundException", err)
	}
	f.svc.mu.Lock()
	f.svc.streams["again"].deleting = false
	f.svc.mu.Unlock()
	if err := f.svc.DeleteDeliveryStream(ctx, "again"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateDeliveryStream(ctx, in); err != nil {
		t.Fatalf("create after the deletion finished: %v", err)
	}
	if _, err := f.svc.PutRecord(ctx, "again", []byte("x")); err != nil {
		t.Fatalf("put to the new stream: %v", err)
	}
}
