package integration

// Compatibility test of the stream-consumer registry of issue 13 with
// aws-sdk-go-v2: RegisterStreamConsumer, DescribeStreamConsumer,
// ListStreamConsumers and DeregisterStreamConsumer against the real
// binary, with a create delay, across a restart, and with consumer ARNs as
// resources of their own.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

func TestSDKConsumers(t *testing.T) {
	t.Parallel()
	k := newKin(t, withArgs("--create-delay", "500ms"))
	ctx := testCtx(t)
	name := uniqueName(t)
	k.create(ctx, t, name, 1)
	arn := aws.ToString(k.waitActive(ctx, t, name).StreamARN)

	reg, err := k.c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{
		StreamARN: &arn, ConsumerName: aws.String("app"), Tags: map[string]string{"team": "data"}})
	if err != nil {
		t.Fatalf("RegisterStreamConsumer: %v", err)
	}
	consumerARN := aws.ToString(reg.Consumer.ConsumerARN)
	if want := fmt.Sprintf("%s/consumer/app:%d", arn, reg.Consumer.ConsumerCreationTimestamp.Unix()); consumerARN != want ||
		reg.Consumer.ConsumerStatus != types.ConsumerStatusCreating {
		t.Fatalf("Consumer = %s %s, want %s CREATING", consumerARN, reg.Consumer.ConsumerStatus, want)
	}
	k.waitConsumer(ctx, t, consumerARN, types.ConsumerStatusActive)

	_, err = k.c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: &arn, ConsumerName: aws.String("app")})
	wantCode(t, err, "ResourceInUseException", "app")
	_, err = k.c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{StreamARN: &arn, ConsumerName: aws.String("nope")})
	wantCode(t, err, "ResourceNotFoundException", "nope")

	t.Run("limit and pages", func(t *testing.T) {
		for i := 1; i < 20; i++ {
			if _, err := k.c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: &arn, ConsumerName: aws.String(fmt.Sprintf("c%02d", i))}); err != nil {
				t.Fatalf("RegisterStreamConsumer %d: %v", i, err)
			}
		}
		_, err := k.c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: &arn, ConsumerName: aws.String("one-too-many")})
		wantCode(t, err, "LimitExceededException", "20")
		if n := aws.ToInt32(k.summary(ctx, t, name).ConsumerCount); n != 20 {
			t.Errorf("ConsumerCount = %d, want 20", n)
		}
		created := k.summary(ctx, t, name).StreamCreationTimestamp
		var names []string
		p := kinesis.NewListStreamConsumersPaginator(k.c, &kinesis.ListStreamConsumersInput{
			StreamARN: &arn, MaxResults: aws.Int32(7), StreamCreationTimestamp: created})
		pages := 0
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("ListStreamConsumers: %v", err)
			}
			pages++
			for _, c := range out.Consumers {
				names = append(names, aws.ToString(c.ConsumerName))
			}
		}
		if pages != 3 || len(names) != 20 || names[0] != "app" || names[1] != "c01" || names[19] != "c19" {
			t.Errorf("%d pages of %v, want 3 pages of app, c01..c19", pages, names)
		}
		for i := 1; i < 20; i++ {
			if _, err := k.c.DeregisterStreamConsumer(ctx, &kinesis.DeregisterStreamConsumerInput{StreamARN: &arn, ConsumerName: aws.String(fmt.Sprintf("c%02d", i))}); err != nil {
				t.Fatalf("DeregisterStreamConsumer %d: %v", i, err)
			}
		}
	})

	t.Run("tags by consumer ARN", func(t *testing.T) {
		if _, err := k.c.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: &consumerARN, Tags: map[string]string{"env": "test"}}); err != nil {
			t.Fatalf("TagResource: %v", err)
		}
		out, err := k.c.ListTagsForResource(ctx, &kinesis.ListTagsForResourceInput{ResourceARN: &consumerARN})
		if err != nil {
			t.Fatalf("ListTagsForResource: %v", err)
		}
		if len(out.Tags) != 2 || aws.ToString(out.Tags[0].Key) != "env" || aws.ToString(out.Tags[1].Value) != "data" {
			t.Errorf("consumer tags = %+v, want env=test team=data", out.Tags)
		}
	})

	t.Run("restart", func(t *testing.T) {
		k.restart(t)
		d, err := k.c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: &consumerARN})
		if err != nil {
			t.Fatalf("DescribeStreamConsumer after restart: %v", err)
		}
		if aws.ToString(d.ConsumerDescription.ConsumerName) != "app" || aws.ToString(d.ConsumerDescription.StreamARN) != arn {
			t.Errorf("after restart: %+v", d.ConsumerDescription)
		}
	})

	t.Run("deregister", func(t *testing.T) {
		if _, err := k.c.DeregisterStreamConsumer(ctx, &kinesis.DeregisterStreamConsumerInput{ConsumerARN: &consumerARN}); err != nil {
			t.Fatalf("DeregisterStreamConsumer: %v", err)
		}
		k.waitConsumer(ctx, t, consumerARN, "")
		if n := aws.ToInt32(k.summary(ctx, t, name).ConsumerCount); n != 0 {
			t.Errorf("ConsumerCount = %d once deregistered, want 0", n)
		}
	})

	t.Run("deleted with the stream", func(t *testing.T) {
		again, err := k.c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: &arn, ConsumerName: aws.String("app")})
		if err != nil {
			t.Fatalf("RegisterStreamConsumer: %v", err)
		}
		_, err = k.c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: &name})
		wantCode(t, err, "ResourceInUseException", "EnforceConsumerDeletion")
		if _, err := k.c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: &name, EnforceConsumerDeletion: aws.Bool(true)}); err != nil {
			t.Fatalf("DeleteStream: %v", err)
		}
		k.waitGone(ctx, t, name)
		k.create(ctx, t, name, 1)
		k.waitActive(ctx, t, name)
		_, err = k.c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: again.Consumer.ConsumerARN})
		wantCode(t, err, "ResourceNotFoundException", "app")
		out, err := k.c.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: &arn})
		if err != nil || len(out.Consumers) != 0 {
			t.Errorf("consumers of the new stream = %+v, %v", out, err)
		}
	})
}

// waitConsumer polls DescribeStreamConsumer until the consumer has status
// want, or, for "", until it is gone.
func (k *kin) waitConsumer(ctx context.Context, t *testing.T, consumerARN string, want types.ConsumerStatus) {
	t.Helper()
	for {
		d, err := k.c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: &consumerARN})
		switch {
		case want == "" && err != nil:
			wantCode(t, err, "ResourceNotFoundException", "")
			return
		case err != nil:
			t.Fatalf("DescribeStreamConsumer: %v", err)
		case d.ConsumerDescription.ConsumerStatus == want:
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("consumer %s never became %q", consumerARN, want)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
