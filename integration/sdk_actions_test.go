package integration

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/spatehq/spate/firehose/compress"
)

// sdkStep is one action of an aws-sdk-go-v2 action table: run calls it (and
// whatever it needs to check the answer) and fails the test if the answer
// is wrong.
type sdkStep struct {
	action string
	run    func(t *testing.T)
}

// runSDKTable runs the steps in order, each as a subtest that stops the
// table when it fails, and fails unless the table calls every action in
// want and no other.
func runSDKTable(t *testing.T, steps []sdkStep, want []string) {
	t.Helper()
	called := map[string]bool{}
	for _, st := range steps {
		called[st.action] = true
		if !t.Run(st.action, st.run) {
			t.Fatalf("%s failed; the steps after it depend on it", st.action)
		}
	}
	if got := slices.Sorted(maps.Keys(called)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Errorf("the table calls %v, want every action: %v", got, want)
	}
}

// defaultClients are aws-sdk-go-v2 Kinesis and Firehose clients for the
// server with default settings: only the endpoint, a region and static
// credentials (the SDK's own retryer and HTTP client, unlike the harness's
// clients, whose retries are off).
func defaultClients(s *server) (*kinesis.Client, *firehose.Client) {
	creds := credentials.NewStaticCredentialsProvider("test", "test", "")
	return kinesis.New(kinesis.Options{BaseEndpoint: aws.String(s.Endpoint()), Region: "us-east-1", Credentials: creds}),
		firehose.New(firehose.Options{BaseEndpoint: aws.String(s.Endpoint()), Region: "us-east-1", Credentials: creds})
}

// TestSDKKinesisActions calls every Kinesis action with aws-sdk-go-v2 at its
// default settings, in one table. The sdk_*_test.go tests go deeper into
// each of the original actions; this one proves the whole API answers the
// SDK.
func TestSDKKinesisActions(t *testing.T) {
	t.Parallel()
	k := newKin(t)
	c, _ := defaultClients(k.srv)
	ctx := testCtx(t)
	name := uniqueName(t)
	missing := aws.String(name + "-missing")
	var arn, shard, iter string
	var seqs []string
	var payloads [][]byte
	active := func(t *testing.T) *types.StreamDescriptionSummary { return k.waitActive(ctx, t, name) }
	policy := func() string {
		b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
			"Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::000000000000:root"},
			"Action": "kinesis:GetRecords", "Resource": arn}}})
		return string(b)
	}
	consumer := func() *string { return aws.String(arn + "/consumer/c:1") }
	steps := []sdkStep{
		{"CreateStream", func(t *testing.T) {
			_, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(2)})
			if err != nil {
				t.Fatal(err)
			}
			arn = aws.ToString(active(t).StreamARN)
			_, err = c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(1)})
			wantAPIError(t, err, "ResourceInUseException", name)
		}},
		{"DescribeStreamSummary", func(t *testing.T) {
			s := active(t)
			if aws.ToInt32(s.OpenShardCount) != 2 || s.StreamModeDetails.StreamMode != types.StreamModeProvisioned {
				t.Errorf("summary %+v, want 2 open shards, PROVISIONED", s)
			}
			_, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: missing})
			wantAPIError(t, err, "ResourceNotFoundException", *missing)
		}},
		{"DescribeStream", func(t *testing.T) {
			out, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			if d := out.StreamDescription; aws.ToString(d.StreamARN) != arn || len(d.Shards) != 2 || aws.ToBool(d.HasMoreShards) {
				t.Errorf("DescribeStream = %s, %d shards, more %v; want %s, 2, false", aws.ToString(d.StreamARN), len(d.Shards), aws.ToBool(d.HasMoreShards), arn)
			}
		}},
		{"ListStreams", func(t *testing.T) {
			if names := k.streamNames(ctx, t); !slices.Contains(names, name) {
				t.Errorf("ListStreams = %v, want %s in it", names, name)
			}
			if _, err := c.ListStreams(ctx, &kinesis.ListStreamsInput{}); err != nil {
				t.Fatal(err)
			}
		}},
		{"ListShards", func(t *testing.T) {
			out, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Shards) != 2 || aws.ToString(out.Shards[1].ShardId) != shardID(1) {
				t.Errorf("ListShards = %+v", out.Shards)
			}
		}},
		{"DescribeLimits", func(t *testing.T) {
			out, err := c.DescribeLimits(ctx, &kinesis.DescribeLimitsInput{})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToInt32(out.OpenShardCount) < 2 || aws.ToInt32(out.ShardLimit) < aws.ToInt32(out.OpenShardCount) {
				t.Errorf("DescribeLimits = %d open of %d", aws.ToInt32(out.OpenShardCount), aws.ToInt32(out.ShardLimit))
			}
		}},
		{"PutRecord", func(t *testing.T) {
			for _, n := range []int{0, 1, 1000} {
				data := make([]byte, n)
				_, _ = rand.Read(data)
				out, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("pk"), Data: data})
				if err != nil {
					t.Fatal(err)
				}
				shard = aws.ToString(out.ShardId)
				seqs, payloads = append(seqs, aws.ToString(out.SequenceNumber)), append(payloads, data)
			}
			_, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: missing, PartitionKey: aws.String("pk"), Data: []byte("x")})
			wantAPIError(t, err, "ResourceNotFoundException", *missing)
		}},
		{"PutRecords", func(t *testing.T) {
			entries := []types.PutRecordsRequestEntry{{PartitionKey: aws.String("pk"), Data: []byte("a")}, {PartitionKey: aws.String("pk"), Data: []byte("b")}}
			out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToInt32(out.FailedRecordCount) != 0 || len(out.Records) != 2 {
				t.Fatalf("PutRecords = %d failed, %d results", aws.ToInt32(out.FailedRecordCount), len(out.Records))
			}
			for i, r := range out.Records {
				seqs, payloads = append(seqs, aws.ToString(r.SequenceNumber)), append(payloads, entries[i].Data)
			}
			checkIncreasing(t, "PutRecord, PutRecords", seqs)
		}},
		{"GetShardIterator", func(t *testing.T) {
			out, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String(shard),
				ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String(seqs[0])})
			if err != nil {
				t.Fatal(err)
			}
			iter = aws.ToString(out.ShardIterator)
		}},
		{"GetRecords", func(t *testing.T) {
			out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(iter)})
			if err != nil {
				t.Fatal(err)
			}
			if got := recordSeqs(out.Records); !slices.Equal(got, seqs) {
				t.Errorf("GetRecords sequence numbers %v, want %v", got, seqs)
			}
			for i, r := range out.Records {
				if i < len(payloads) && !bytes.Equal(r.Data, payloads[i]) {
					t.Errorf("record %d: %d bytes back, not the %d put", i, len(r.Data), len(payloads[i]))
				}
			}
			_, err = c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String("not-an-iterator")})
			wantAPIError(t, err, "InvalidArgumentException")
		}},
		{"AddTagsToStream", func(t *testing.T) {
			if _, err := c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String(name), Tags: map[string]string{"team": "data", "env": "test"}}); err != nil {
				t.Fatal(err)
			}
		}},
		{"RemoveTagsFromStream", func(t *testing.T) {
			if _, err := c.RemoveTagsFromStream(ctx, &kinesis.RemoveTagsFromStreamInput{StreamName: aws.String(name), TagKeys: []string{"env"}}); err != nil {
				t.Fatal(err)
			}
		}},
		{"ListTagsForStream", func(t *testing.T) {
			out, err := c.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			if got := tagMap(out.Tags); !maps.Equal(got, map[string]string{"team": "data"}) {
				t.Errorf("ListTagsForStream = %v", got)
			}
		}},
		{"TagResource", func(t *testing.T) {
			if _, err := c.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: aws.String(arn), Tags: map[string]string{"owner": "go"}}); err != nil {
				t.Fatal(err)
			}
		}},
		{"UntagResource", func(t *testing.T) {
			if _, err := c.UntagResource(ctx, &kinesis.UntagResourceInput{ResourceARN: aws.String(arn), TagKeys: []string{"team"}}); err != nil {
				t.Fatal(err)
			}
		}},
		{"ListTagsForResource", func(t *testing.T) {
			out, err := c.ListTagsForResource(ctx, &kinesis.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
			if err != nil {
				t.Fatal(err)
			}
			if got := tagMap(out.Tags); !maps.Equal(got, map[string]string{"owner": "go"}) {
				t.Errorf("ListTagsForResource = %v", got)
			}
		}},
		{"PutResourcePolicy", func(t *testing.T) {
			if _, err := c.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: aws.String(arn), Policy: aws.String(policy())}); err != nil {
				t.Fatal(err)
			}
		}},
		{"GetResourcePolicy", func(t *testing.T) {
			out, err := c.GetResourcePolicy(ctx, &kinesis.GetResourcePolicyInput{ResourceARN: aws.String(arn)})
			if err != nil {
				t.Fatal(err)
			}
			var got, want any
			_ = json.Unmarshal([]byte(aws.ToString(out.Policy)), &got)
			_ = json.Unmarshal([]byte(policy()), &want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("GetResourcePolicy = %s, want %s", aws.ToString(out.Policy), policy())
			}
		}},
		{"DeleteResourcePolicy", func(t *testing.T) {
			if _, err := c.DeleteResourcePolicy(ctx, &kinesis.DeleteResourcePolicyInput{ResourceARN: aws.String(arn)}); err != nil {
				t.Fatal(err)
			}
		}},
		{"IncreaseStreamRetentionPeriod", func(t *testing.T) {
			if _, err := c.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String(name), RetentionPeriodHours: aws.Int32(48)}); err != nil {
				t.Fatal(err)
			}
			if h := aws.ToInt32(active(t).RetentionPeriodHours); h != 48 {
				t.Errorf("retention %d hours, want 48", h)
			}
		}},
		{"DecreaseStreamRetentionPeriod", func(t *testing.T) {
			_, err := c.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: aws.String(name), RetentionPeriodHours: aws.Int32(72)})
			wantAPIError(t, err, "InvalidArgumentException")
			if _, err := c.DecreaseStreamRetentionPeriod(ctx, &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: aws.String(name), RetentionPeriodHours: aws.Int32(24)}); err != nil {
				t.Fatal(err)
			}
			active(t)
		}},
		{"EnableEnhancedMonitoring", func(t *testing.T) {
			out, err := c.EnableEnhancedMonitoring(ctx, &kinesis.EnableEnhancedMonitoringInput{StreamName: aws.String(name), ShardLevelMetrics: []types.MetricsName{types.MetricsNameIncomingBytes}})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(out.DesiredShardLevelMetrics, []types.MetricsName{types.MetricsNameIncomingBytes}) {
				t.Errorf("DesiredShardLevelMetrics = %v", out.DesiredShardLevelMetrics)
			}
		}},
		{"DisableEnhancedMonitoring", func(t *testing.T) {
			out, err := c.DisableEnhancedMonitoring(ctx, &kinesis.DisableEnhancedMonitoringInput{StreamName: aws.String(name), ShardLevelMetrics: []types.MetricsName{types.MetricsNameAll}})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.DesiredShardLevelMetrics) != 0 {
				t.Errorf("DesiredShardLevelMetrics after ALL off = %v", out.DesiredShardLevelMetrics)
			}
		}},
		{"StartStreamEncryption", func(t *testing.T) {
			if _, err := c.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{StreamName: aws.String(name),
				EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis")}); err != nil {
				t.Fatal(err)
			}
			if s := active(t); s.EncryptionType != types.EncryptionTypeKms || aws.ToString(s.KeyId) != "alias/aws/kinesis" {
				t.Errorf("after StartStreamEncryption: %s %s", s.EncryptionType, aws.ToString(s.KeyId))
			}
			// A record written now is encrypted at rest, plain to the reader,
			// and says so in PutRecord's and GetRecords' EncryptionType.
			secret := []byte("encrypted at rest, plain to the reader")
			put, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("pk"), Data: secret})
			if err != nil {
				t.Fatal(err)
			}
			if put.EncryptionType != types.EncryptionTypeKms {
				t.Errorf("PutRecord's EncryptionType %q on an encrypted stream, want KMS", put.EncryptionType)
			}
			recs := k.drain(ctx, t, k.iterator(ctx, t, name, aws.ToString(put.ShardId), types.ShardIteratorTypeAtSequenceNumber, aws.ToString(put.SequenceNumber), nil))
			if len(recs) != 1 || !bytes.Equal(recs[0].Data, secret) || recs[0].EncryptionType != types.EncryptionTypeKms {
				t.Errorf("GetRecords of the record written while encrypted = %+v, want %q with EncryptionType KMS", recs, secret)
			}
		}},
		{"StopStreamEncryption", func(t *testing.T) {
			if _, err := c.StopStreamEncryption(ctx, &kinesis.StopStreamEncryptionInput{StreamName: aws.String(name),
				EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis")}); err != nil {
				t.Fatal(err)
			}
			if s := active(t); s.EncryptionType != types.EncryptionTypeNone {
				t.Errorf("after StopStreamEncryption: %s", s.EncryptionType)
			}
		}},
		{"UpdateMaxRecordSize", func(t *testing.T) {
			if _, err := c.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{StreamARN: aws.String(arn), MaxRecordSizeInKiB: aws.Int32(4096)}); err != nil {
				t.Fatal(err)
			}
			if n := aws.ToInt32(active(t).MaxRecordSizeInKiB); n != 4096 {
				t.Errorf("MaxRecordSizeInKiB %d, want 4096", n)
			}
			big := make([]byte, 3<<20)
			if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("big"), Data: big}); err != nil {
				t.Errorf("PutRecord of 3 MiB with a 4 MiB limit: %v", err)
			}
		}},
		// Warm throughput needs the account's minimum throughput billing commitment.
		{"DescribeAccountSettings", func(t *testing.T) {
			out, err := c.DescribeAccountSettings(ctx, &kinesis.DescribeAccountSettingsInput{})
			if err != nil {
				t.Fatal(err)
			}
			if out.MinimumThroughputBillingCommitment == nil || out.MinimumThroughputBillingCommitment.Status == "" {
				t.Errorf("DescribeAccountSettings = %+v", out.MinimumThroughputBillingCommitment)
			}
		}},
		{"UpdateAccountSettings", func(t *testing.T) {
			out, err := c.UpdateAccountSettings(ctx, &kinesis.UpdateAccountSettingsInput{
				MinimumThroughputBillingCommitment: &types.MinimumThroughputBillingCommitmentInput{Status: types.MinimumThroughputBillingCommitmentInputStatusEnabled}})
			if err != nil {
				t.Fatal(err)
			}
			if out.MinimumThroughputBillingCommitment == nil || string(out.MinimumThroughputBillingCommitment.Status) != "ENABLED" {
				t.Errorf("UpdateAccountSettings = %+v", out.MinimumThroughputBillingCommitment)
			}
		}},
		// Resharding, while the stream is PROVISIONED (sdk_reshard_test.go
		// goes deeper).
		{"UpdateShardCount", func(t *testing.T) {
			out, err := c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String(name), TargetShardCount: aws.Int32(4), ScalingType: types.ScalingTypeUniformScaling})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToInt32(out.CurrentShardCount) != 2 || aws.ToInt32(out.TargetShardCount) != 4 || aws.ToString(out.StreamARN) != arn {
				t.Errorf("UpdateShardCount = %d -> %d, %s", aws.ToInt32(out.CurrentShardCount), aws.ToInt32(out.TargetShardCount), aws.ToString(out.StreamARN))
			}
			if n := aws.ToInt32(active(t).OpenShardCount); n != 4 {
				t.Errorf("%d open shards, want 4", n)
			}
			// The shard the records went to is closed: it reads to its end.
			recs, children := readClosedShard(ctx, t, c, name, shard)
			if got := recordSeqs(recs); len(got) < len(seqs) || !slices.Equal(got[:len(seqs)], seqs) || len(children) != 2 {
				t.Errorf("closed shard %s: records %v (want %v first), children %+v", shard, got, seqs, children)
			}
			_, err = c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String(name), TargetShardCount: aws.Int32(9), ScalingType: types.ScalingTypeUniformScaling})
			wantAPIError(t, err, "LimitExceededException", "double")
		}},
		{"SplitShard", func(t *testing.T) {
			open := openShards(ctx, t, c, name)
			lo := open[0]
			at := midHashKey(t, lo)
			if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(name), ShardToSplit: lo.ShardId, NewStartingHashKey: aws.String(at)}); err != nil {
				t.Fatal(err)
			}
			active(t)
			if n := len(openShards(ctx, t, c, name)); n != 5 {
				t.Errorf("%d open shards after the split, want 5", n)
			}
			_, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(name), ShardToSplit: lo.ShardId, NewStartingHashKey: aws.String(at)})
			wantAPIError(t, err, "ResourceInUseException", aws.ToString(lo.ShardId))
		}},
		{"MergeShards", func(t *testing.T) {
			open := openShards(ctx, t, c, name)
			if _, err := c.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String(name), ShardToMerge: open[0].ShardId, AdjacentShardToMerge: open[1].ShardId}); err != nil {
				t.Fatal(err)
			}
			active(t)
			if n := len(openShards(ctx, t, c, name)); n != 4 {
				t.Errorf("%d open shards after the merge, want 4", n)
			}
			_, err := c.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String(name), ShardToMerge: open[2].ShardId, AdjacentShardToMerge: open[4].ShardId})
			wantAPIError(t, err, "InvalidArgumentException", "adjacent")
		}},
		{"UpdateStreamMode", func(t *testing.T) {
			if _, err := c.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: aws.String(arn),
				StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}}); err != nil {
				t.Fatal(err)
			}
			if m := active(t).StreamModeDetails.StreamMode; m != types.StreamModeOnDemand {
				t.Errorf("mode %s, want ON_DEMAND", m)
			}
		}},
		{"UpdateStreamWarmThroughput", func(t *testing.T) {
			out, err := c.UpdateStreamWarmThroughput(ctx, &kinesis.UpdateStreamWarmThroughputInput{StreamName: aws.String(name), WarmThroughputMiBps: aws.Int32(50)})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.StreamARN) != arn || out.WarmThroughput == nil || aws.ToInt32(out.WarmThroughput.TargetMiBps) != 50 {
				t.Errorf("UpdateStreamWarmThroughput = %s %+v", aws.ToString(out.StreamARN), out.WarmThroughput)
			}
		}},
		{"RegisterStreamConsumer", func(t *testing.T) {
			out, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(arn), ConsumerName: aws.String("c")})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.Consumer.ConsumerName) != "c" || aws.ToString(out.Consumer.ConsumerARN) != fmt.Sprintf("%s/consumer/c:%d", arn, out.Consumer.ConsumerCreationTimestamp.Unix()) {
				t.Errorf("Consumer = %+v", out.Consumer)
			}
		}},
		{"DescribeStreamConsumer", func(t *testing.T) {
			out, err := c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{StreamARN: aws.String(arn), ConsumerName: aws.String("c")})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.ConsumerDescription.StreamARN) != arn {
				t.Errorf("ConsumerDescription = %+v", out.ConsumerDescription)
			}
			_, err = c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: consumer()})
			wantAPIError(t, err, "ResourceNotFoundException", "c")
		}},
		{"ListStreamConsumers", func(t *testing.T) {
			out, err := c.ListStreamConsumers(ctx, &kinesis.ListStreamConsumersInput{StreamARN: aws.String(arn)})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Consumers) != 1 || aws.ToString(out.Consumers[0].ConsumerName) != "c" {
				t.Errorf("Consumers = %+v", out.Consumers)
			}
		}},
		{"DeregisterStreamConsumer", func(t *testing.T) {
			if _, err := c.DeregisterStreamConsumer(ctx, &kinesis.DeregisterStreamConsumerInput{StreamARN: aws.String(arn), ConsumerName: aws.String("c")}); err != nil {
				t.Fatal(err)
			}
		}},
		{"SubscribeToShard", func(t *testing.T) {
			// Records through it: sdk_subscribe_test.go. Here the
			// consumer has just been deregistered.
			_, err := c.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: consumer(), ShardId: aws.String(shardID(0)),
				StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}})
			wantAPIError(t, err, "ResourceNotFoundException", "c")
		}},
		{"DeleteStream", func(t *testing.T) {
			if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name)}); err != nil {
				t.Fatal(err)
			}
			k.waitGone(ctx, t, name)
			_, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name)})
			wantAPIError(t, err, "ResourceNotFoundException", name)
		}},
	}
	runSDKTable(t, steps, kinesisActions)
}

// TestSDKFirehoseActions calls all 12 Firehose actions with aws-sdk-go-v2
// at its default settings, in one table, and checks what lands in S3.
func TestSDKFirehoseActions(t *testing.T) {
	t.Parallel()
	f := newFH(t)
	_, c := defaultClients(f.srv)
	ctx := testCtx(t)
	name := uniqueName(t)
	missing := aws.String(name + "-missing")
	prefix := name + "/"
	var version, destID string
	describe := func(t *testing.T) *fhtypes.DeliveryStreamDescription {
		out, err := c.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return out.DeliveryStreamDescription
	}
	waitFor := func(t *testing.T, what string, ok func(*fhtypes.DeliveryStreamDescription) bool) *fhtypes.DeliveryStreamDescription {
		for {
			if d := describe(t); ok(d) {
				return d
			}
			select {
			case <-ctx.Done():
				t.Fatalf("%s never became %s: %v", name, what, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	encStatus := func(want fhtypes.DeliveryStreamEncryptionStatus) func(*fhtypes.DeliveryStreamDescription) bool {
		return func(d *fhtypes.DeliveryStreamDescription) bool {
			return d.DeliveryStreamEncryptionConfiguration != nil && d.DeliveryStreamEncryptionConfiguration.Status == want
		}
	}
	steps := []sdkStep{
		{"CreateDeliveryStream", func(t *testing.T) {
			in := &firehose.CreateDeliveryStreamInput{
				DeliveryStreamName: aws.String(name),
				ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{
					RoleARN: aws.String("arn:aws:iam::000000000000:role/firehose"), BucketARN: f.bucketARN(), Prefix: aws.String(prefix),
					BufferingHints: &fhtypes.BufferingHints{IntervalInSeconds: aws.Int32(0), SizeInMBs: aws.Int32(1)},
				},
				Tags: []fhtypes.Tag{{Key: aws.String("team"), Value: aws.String("data")}},
			}
			if _, err := c.CreateDeliveryStream(ctx, in); err != nil {
				t.Fatal(err)
			}
			_, err := c.CreateDeliveryStream(ctx, in)
			wantFirehoseError(t, err, "ResourceInUseException", name)
		}},
		{"DescribeDeliveryStream", func(t *testing.T) {
			d := waitFor(t, "ACTIVE", func(d *fhtypes.DeliveryStreamDescription) bool {
				return d.DeliveryStreamStatus == fhtypes.DeliveryStreamStatusActive
			})
			version, destID = aws.ToString(d.VersionId), aws.ToString(d.Destinations[0].DestinationId)
			if p := aws.ToString(d.Destinations[0].ExtendedS3DestinationDescription.Prefix); p != prefix {
				t.Errorf("Prefix %q, want %q", p, prefix)
			}
			_, err := c.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: missing})
			wantFirehoseError(t, err, "ResourceNotFoundException", *missing)
		}},
		{"ListDeliveryStreams", func(t *testing.T) {
			out, err := c.ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(out.DeliveryStreamNames, name) {
				t.Errorf("ListDeliveryStreams = %v, want %s in it", out.DeliveryStreamNames, name)
			}
		}},
		{"TagDeliveryStream", func(t *testing.T) {
			if _, err := c.TagDeliveryStream(ctx, &firehose.TagDeliveryStreamInput{DeliveryStreamName: aws.String(name),
				Tags: []fhtypes.Tag{{Key: aws.String("env"), Value: aws.String("test")}}}); err != nil {
				t.Fatal(err)
			}
		}},
		{"UntagDeliveryStream", func(t *testing.T) {
			if _, err := c.UntagDeliveryStream(ctx, &firehose.UntagDeliveryStreamInput{DeliveryStreamName: aws.String(name), TagKeys: []string{"team"}}); err != nil {
				t.Fatal(err)
			}
		}},
		{"ListTagsForDeliveryStream", func(t *testing.T) {
			out, err := c.ListTagsForDeliveryStream(ctx, &firehose.ListTagsForDeliveryStreamInput{DeliveryStreamName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Tags) != 1 || aws.ToString(out.Tags[0].Key) != "env" || aws.ToString(out.Tags[0].Value) != "test" {
				t.Errorf("ListTagsForDeliveryStream = %+v", out.Tags)
			}
		}},
		{"PutRecord", func(t *testing.T) {
			out, err := c.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String(name), Record: &fhtypes.Record{Data: []byte("{\"n\":0}\n")}})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.RecordId) == "" {
				t.Error("PutRecord gave no RecordId")
			}
			_, err = c.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: missing, Record: &fhtypes.Record{Data: []byte("x")}})
			wantFirehoseError(t, err, "ResourceNotFoundException", *missing)
		}},
		{"PutRecordBatch", func(t *testing.T) {
			out, err := c.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(name),
				Records: []fhtypes.Record{{Data: []byte("{\"n\":1}\n")}, {Data: []byte("{\"n\":2}\n")}}})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToInt32(out.FailedPutCount) != 0 || len(out.RequestResponses) != 2 {
				t.Fatalf("PutRecordBatch = %d failed, %d responses", aws.ToInt32(out.FailedPutCount), len(out.RequestResponses))
			}
			got := f.waitLines(ctx, t, prefix, compress.Uncompressed, 3)
			if want := []string{`{"n":0}`, `{"n":1}`, `{"n":2}`}; !slices.Equal(got, want) {
				t.Errorf("S3 holds %q, want %q", got, want)
			}
		}},
		{"UpdateDestination", func(t *testing.T) {
			in := &firehose.UpdateDestinationInput{DeliveryStreamName: aws.String(name), CurrentDeliveryStreamVersionId: aws.String(version),
				DestinationId: aws.String(destID), ExtendedS3DestinationUpdate: &fhtypes.ExtendedS3DestinationUpdate{Prefix: aws.String(name + "-2/")}}
			if _, err := c.UpdateDestination(ctx, in); err != nil {
				t.Fatal(err)
			}
			_, err := c.UpdateDestination(ctx, in)
			wantFirehoseError(t, err, "ConcurrentModificationException")
			if d := describe(t); aws.ToString(d.VersionId) == version || aws.ToString(d.Destinations[0].ExtendedS3DestinationDescription.Prefix) != name+"-2/" {
				t.Errorf("after UpdateDestination: version %s, prefix %s", aws.ToString(d.VersionId), aws.ToString(d.Destinations[0].ExtendedS3DestinationDescription.Prefix))
			}
		}},
		{"StartDeliveryStreamEncryption", func(t *testing.T) {
			if _, err := c.StartDeliveryStreamEncryption(ctx, &firehose.StartDeliveryStreamEncryptionInput{DeliveryStreamName: aws.String(name),
				DeliveryStreamEncryptionConfigurationInput: &fhtypes.DeliveryStreamEncryptionConfigurationInput{KeyType: fhtypes.KeyTypeAwsOwnedCmk}}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "ENABLED", encStatus(fhtypes.DeliveryStreamEncryptionStatusEnabled))
		}},
		{"StopDeliveryStreamEncryption", func(t *testing.T) {
			if _, err := c.StopDeliveryStreamEncryption(ctx, &firehose.StopDeliveryStreamEncryptionInput{DeliveryStreamName: aws.String(name)}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "DISABLED", encStatus(fhtypes.DeliveryStreamEncryptionStatusDisabled))
		}},
		{"DeleteDeliveryStream", func(t *testing.T) {
			if _, err := c.DeleteDeliveryStream(ctx, &firehose.DeleteDeliveryStreamInput{DeliveryStreamName: aws.String(name)}); err != nil {
				t.Fatal(err)
			}
			for {
				_, err := c.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(name)})
				if err != nil {
					wantFirehoseError(t, err, "ResourceNotFoundException", name)
					break
				}
				select {
				case <-ctx.Done():
					t.Fatalf("%s never went away: %v", name, ctx.Err())
				case <-time.After(50 * time.Millisecond):
				}
			}
		}},
	}
	runSDKTable(t, steps, firehoseActions)
}

// wantFirehoseError is wantAPIError for Firehose: err must be the API error
// code, decoded to the Firehose SDK's typed error for it.
func wantFirehoseError(t *testing.T, err error, code string, mentions ...string) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != code {
		t.Fatalf("got %v, want the API error %s", err, code)
	}
	typed := map[string]func(error) bool{
		"ResourceInUseException":          errorAs[*fhtypes.ResourceInUseException],
		"ResourceNotFoundException":       errorAs[*fhtypes.ResourceNotFoundException],
		"ConcurrentModificationException": errorAs[*fhtypes.ConcurrentModificationException],
		"InvalidArgumentException":        errorAs[*fhtypes.InvalidArgumentException],
	}[code]
	if typed == nil || !typed(err) {
		t.Errorf("error %T does not decode to the Firehose SDK's typed %s", err, code)
	}
	checkMessage(t, code, apiErr.ErrorMessage(), mentions...)
}
