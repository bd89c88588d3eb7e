package integration

// Compatibility tests of the resource and settings actions of issue 12 with
// aws-sdk-go-v2 and the AWS CLI: TagResource, UntagResource,
// ListTagsForResource, UpdateStreamMode, UpdateMaxRecordSize (a 10 MiB
// record end to end), UpdateStreamWarmThroughput, DescribeAccountSettings,
// UpdateAccountSettings, DescribeLimits and the resource policies, enforced
// on signed requests.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

func TestSDKSettings(t *testing.T) {
	t.Parallel()
	k := newKin(t)
	ctx := testCtx(t)
	name := uniqueName(t)
	k.create(ctx, t, name, 2)
	arn := aws.ToString(k.summary(ctx, t, name).StreamARN)

	t.Run("Tags", func(t *testing.T) {
		if _, err := k.c.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: &arn, Tags: map[string]string{"team": "data", "env": "test"}}); err != nil {
			t.Fatalf("TagResource: %v", err)
		}
		if _, err := k.c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: &name, Tags: map[string]string{"cost": "1"}}); err != nil {
			t.Fatalf("AddTagsToStream: %v", err)
		}
		if _, err := k.c.UntagResource(ctx, &kinesis.UntagResourceInput{ResourceARN: &arn, TagKeys: []string{"env"}}); err != nil {
			t.Fatalf("UntagResource: %v", err)
		}
		out, err := k.c.ListTagsForResource(ctx, &kinesis.ListTagsForResourceInput{ResourceARN: &arn})
		if err != nil {
			t.Fatalf("ListTagsForResource: %v", err)
		}
		var got []string
		for _, tag := range out.Tags {
			got = append(got, aws.ToString(tag.Key)+"="+aws.ToString(tag.Value))
		}
		if !slices.Equal(got, []string{"cost=1", "team=data"}) {
			t.Errorf("tags = %v, want cost=1 team=data", got)
		}
		_, err = k.c.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: aws.String(arn + "/consumer/app:1700000000"), Tags: map[string]string{"k": "v"}})
		wantCode(t, err, "ResourceNotFoundException", "Consumer app")
		_, err = k.c.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: &arn, Tags: map[string]string{"aws:k": "v"}})
		wantCode(t, err, "InvalidArgumentException", "aws:")
		many := map[string]string{}
		for i := range 49 {
			many[fmt.Sprintf("k%02d", i)] = "v"
		}
		_, err = k.c.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: &arn, Tags: many})
		wantCode(t, err, "InvalidArgumentException", "50 tags")
		_, err = k.c.ListTagsForResource(ctx, &kinesis.ListTagsForResourceInput{ResourceARN: aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/nope-" + name)})
		wantCode(t, err, "ResourceNotFoundException")
	})

	t.Run("LargeRecords", func(t *testing.T) {
		big := bytes.Repeat([]byte("0123456789abcdef"), (10<<20)/16)
		big = big[:10<<20-2] // with the partition key "pk": exactly 10 MiB
		_, err := k.c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: &name, PartitionKey: aws.String("pk"), Data: big})
		wantCode(t, err, "InvalidArgumentException", "1024 KiB")
		if _, err := k.c.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{StreamARN: &arn, MaxRecordSizeInKiB: aws.Int32(10240)}); err != nil {
			t.Fatalf("UpdateMaxRecordSize: %v", err)
		}
		if got := aws.ToInt32(k.summary(ctx, t, name).MaxRecordSizeInKiB); got != 10240 {
			t.Errorf("MaxRecordSizeInKiB = %d, want 10240", got)
		}
		put := k.put(ctx, t, name, "pk", big)
		_, err = k.c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: &name, PartitionKey: aws.String("pk2"), Data: big})
		wantCode(t, err, "InvalidArgumentException", "10240 KiB")
		// PutRecords takes 10 MiB in all since 2025.
		half := big[:5<<20-2]
		res := k.putRecords(ctx, t, name, []types.PutRecordsRequestEntry{
			{PartitionKey: aws.String("pk"), Data: half}, {PartitionKey: aws.String("pk"), Data: half}})
		if len(res) != 2 {
			t.Fatalf("PutRecords of 10 MiB: %d results", len(res))
		}
		_, err = k.c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: &name, Records: []types.PutRecordsRequestEntry{
			{PartitionKey: aws.String("pk"), Data: half}, {PartitionKey: aws.String("pk"), Data: half}, {PartitionKey: aws.String("pk"), Data: []byte("x")}}})
		wantCode(t, err, "InvalidArgumentException", "10 MiB")

		recs := k.drain(ctx, t, k.iterator(ctx, t, name, aws.ToString(put.ShardId), types.ShardIteratorTypeTrimHorizon, "", nil))
		if len(recs) != 3 || !bytes.Equal(recs[0].Data, big) || !bytes.Equal(recs[1].Data, half) {
			t.Fatalf("read back %d records", len(recs))
		}
		_, err = k.c.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{StreamARN: &arn, MaxRecordSizeInKiB: aws.Int32(10241)})
		wantCode(t, err, "ValidationException")
	})

	t.Run("AccountAndMode", func(t *testing.T) {
		acct, err := k.c.DescribeAccountSettings(ctx, &kinesis.DescribeAccountSettingsInput{})
		if err != nil {
			t.Fatalf("DescribeAccountSettings: %v", err)
		}
		if acct.MinimumThroughputBillingCommitment.Status != types.MinimumThroughputBillingCommitmentOutputStatusDisabled {
			t.Errorf("commitment = %+v, want DISABLED", acct.MinimumThroughputBillingCommitment)
		}
		_, err = k.c.UpdateStreamWarmThroughput(ctx, &kinesis.UpdateStreamWarmThroughputInput{StreamName: &name, WarmThroughputMiBps: aws.Int32(10)})
		wantCode(t, err, "InvalidArgumentException")
		up, err := k.c.UpdateAccountSettings(ctx, &kinesis.UpdateAccountSettingsInput{
			MinimumThroughputBillingCommitment: &types.MinimumThroughputBillingCommitmentInput{Status: types.MinimumThroughputBillingCommitmentInputStatusEnabled}})
		if err != nil {
			t.Fatalf("UpdateAccountSettings: %v", err)
		}
		c := up.MinimumThroughputBillingCommitment
		if c.Status != types.MinimumThroughputBillingCommitmentOutputStatusEnabled || c.StartedAt == nil ||
			c.EarliestAllowedEndAt == nil || c.EarliestAllowedEndAt.Sub(*c.StartedAt).Hours() != 24 {
			t.Errorf("UpdateAccountSettings = %+v", c)
		}
		if _, err := k.c.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: &arn,
			StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}, WarmThroughputMiBps: aws.Int32(20)}); err != nil {
			t.Fatalf("UpdateStreamMode: %v", err)
		}
		sum := k.waitActive(ctx, t, name)
		if sum.StreamModeDetails.StreamMode != types.StreamModeOnDemand || sum.WarmThroughput == nil || aws.ToInt32(sum.WarmThroughput.TargetMiBps) != 20 {
			t.Errorf("summary after UpdateStreamMode = %+v %+v", sum.StreamModeDetails, sum.WarmThroughput)
		}
		w, err := k.c.UpdateStreamWarmThroughput(ctx, &kinesis.UpdateStreamWarmThroughputInput{StreamARN: &arn, WarmThroughputMiBps: aws.Int32(100)})
		if err != nil {
			t.Fatalf("UpdateStreamWarmThroughput: %v", err)
		}
		if aws.ToString(w.StreamName) != name || aws.ToInt32(w.WarmThroughput.TargetMiBps) != 100 {
			t.Errorf("UpdateStreamWarmThroughput = %+v", w)
		}
		lim, err := k.c.DescribeLimits(ctx, &kinesis.DescribeLimitsInput{})
		if err != nil {
			t.Fatalf("DescribeLimits: %v", err)
		}
		if aws.ToInt32(lim.OnDemandStreamCount) != 1 || aws.ToInt32(lim.OnDemandStreamCountLimit) != 50 {
			t.Errorf("DescribeLimits = %d of %d on-demand streams, want 1 of 50", aws.ToInt32(lim.OnDemandStreamCount), aws.ToInt32(lim.OnDemandStreamCountLimit))
		}
		ls, err := k.c.ListStreams(ctx, &kinesis.ListStreamsInput{})
		if err != nil {
			t.Fatalf("ListStreams: %v", err)
		}
		if len(ls.StreamSummaries) != 1 || ls.StreamSummaries[0].StreamModeDetails.StreamMode != types.StreamModeOnDemand {
			t.Errorf("ListStreams summaries = %+v", ls.StreamSummaries)
		}
		if _, err := k.c.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: &arn,
			StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeProvisioned}}); err != nil {
			t.Fatalf("UpdateStreamMode back: %v", err)
		}
		_, err = k.c.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: &arn,
			StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}})
		wantCode(t, err, "LimitExceededException", "24h")
	})

	t.Run("Restart", func(t *testing.T) {
		pol := `{"Statement":{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::000000000000:user/nobody"},"Action":"kinesis:PutRecord","Resource":"` + arn + `"}}`
		if _, err := k.c.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: &arn, Policy: &pol}); err != nil {
			t.Fatalf("PutResourcePolicy: %v", err)
		}
		before := k.summary(ctx, t, name)
		acct, _ := k.c.DescribeAccountSettings(ctx, &kinesis.DescribeAccountSettingsInput{})
		k.restart(t)
		after := k.summary(ctx, t, name)
		if after.StreamModeDetails.StreamMode != types.StreamModeProvisioned || aws.ToInt32(after.MaxRecordSizeInKiB) != 10240 ||
			after.WarmThroughput != nil || aws.ToInt32(after.OpenShardCount) != aws.ToInt32(before.OpenShardCount) {
			t.Errorf("after restart: %+v", after)
		}
		acct2, err := k.c.DescribeAccountSettings(ctx, &kinesis.DescribeAccountSettingsInput{})
		if err != nil || acct2.MinimumThroughputBillingCommitment.Status != acct.MinimumThroughputBillingCommitment.Status ||
			!acct2.MinimumThroughputBillingCommitment.StartedAt.Equal(*acct.MinimumThroughputBillingCommitment.StartedAt) {
			t.Errorf("account settings after restart: %+v, %v", acct2.MinimumThroughputBillingCommitment, err)
		}
		got, err := k.c.GetResourcePolicy(ctx, &kinesis.GetResourcePolicyInput{ResourceARN: &arn})
		if err != nil || aws.ToString(got.Policy) != pol {
			t.Errorf("policy after restart = %q, %v", aws.ToString(got.Policy), err)
		}
		tags, err := k.c.ListTagsForResource(ctx, &kinesis.ListTagsForResourceInput{ResourceARN: &arn})
		if err != nil || len(tags.Tags) != 2 {
			t.Errorf("tags after restart = %+v, %v", tags, err)
		}
		// The mode-switch window survives too.
		_, err = k.c.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: &arn,
			StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}})
		wantCode(t, err, "LimitExceededException")
		if _, err := k.c.DeleteResourcePolicy(ctx, &kinesis.DeleteResourcePolicyInput{ResourceARN: &arn}); err != nil {
			t.Fatalf("DeleteResourcePolicy: %v", err)
		}
		_, err = k.c.DeleteResourcePolicy(ctx, &kinesis.DeleteResourcePolicyInput{ResourceARN: &arn})
		wantCode(t, err, "ResourceNotFoundException")
	})
}

// TestAuthResourcePolicy checks that a stream's resource policy is enforced
// on signed requests: its Deny refuses what the identity policy allows, its
// Allow for a user grants what no identity policy does, and an Allow for
// the account grants nothing by itself.
func TestAuthResourcePolicy(t *testing.T) {
	t.Parallel()
	creds := authCredentials + `
[guest]
aws_access_key_id = AKIDGUEST
aws_secret_access_key = guest-secret
`
	var pols map[string]any
	if err := json.Unmarshal([]byte(authPolicies), &pols); err != nil {
		t.Fatal(err)
	}
	pols["guest"] = map[string]any{"Statement": map[string]any{"Effect": "Allow", "Action": "kinesis:ListStreams", "Resource": "*"}}
	pb, _ := json.Marshal(pols)
	s := startAuthServerWith(t, creds, string(pb))
	ctx := testCtx(t)
	admin := &kin{srv: s.server, c: s.kinesisAs(t, "AKIDADMIN", "admin-secret")}
	writer := s.kinesisAs(t, "AKIDWRITER", "writer-secret")
	guest := s.kinesisAs(t, "AKIDGUEST", "guest-secret")
	name := "w-" + uniqueName(t)
	admin.create(ctx, t, name, 1)
	arn := aws.ToString(admin.summary(ctx, t, name).StreamARN)
	put := func(c *kinesis.Client) error {
		_, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamARN: &arn, PartitionKey: aws.String("k"), Data: []byte("x")})
		return err
	}
	describe := func(c *kinesis.Client) error {
		_, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: &name})
		return err
	}
	if err := put(writer); err != nil {
		t.Fatalf("writer puts before any resource policy: %v", err)
	}
	wantCode(t, describe(guest), "AccessDeniedException", "no identity-based policy")

	policy := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::000000000000:user/writer"},"Action":"kinesis:PutRecord","Resource":"` + arn + `"},
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/guest"},"Action":"kinesis:DescribeStreamSummary","Resource":"` + arn + `"},
		{"Effect":"Allow","Principal":{"AWS":"000000000000"},"Action":"kinesis:PutRecords","Resource":"` + arn + `"}]}`
	_, err := writer.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: &arn, Policy: &policy})
	wantCode(t, err, "AccessDeniedException") // the writer's own policy does not allow it
	if _, err := admin.c.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: &arn, Policy: &policy}); err != nil {
		t.Fatalf("PutResourcePolicy: %v", err)
	}
	wantCode(t, put(writer), "AccessDeniedException", "explicit deny in a resource-based policy", "user/writer")
	if _, err := writer.PutRecords(ctx, &kinesis.PutRecordsInput{StreamARN: &arn, Records: []types.PutRecordsRequestEntry{
		{PartitionKey: aws.String("k"), Data: []byte("x")}}}); err != nil {
		t.Errorf("PutRecords, allowed by the identity policy and not denied: %v", err)
	}
	if err := describe(guest); err != nil {
		t.Errorf("guest, allowed by the resource policy only: %v", err)
	}
	_, err = guest.PutRecords(ctx, &kinesis.PutRecordsInput{StreamARN: &arn, Records: []types.PutRecordsRequestEntry{
		{PartitionKey: aws.String("k"), Data: []byte("x")}}})
	wantCode(t, err, "AccessDeniedException", "no identity-based policy") // an Allow for the account delegates

	bad := `{"Statement":{"Effect":"Allow","Principal":"*","Action":"kinesis:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}}`
	_, err = admin.c.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: &arn, Policy: &bad})
	wantCode(t, err, "InvalidArgumentException", "Condition")
	if got, _ := admin.c.GetResourcePolicy(ctx, &kinesis.GetResourcePolicyInput{ResourceARN: &arn}); aws.ToString(got.Policy) != policy {
		t.Errorf("a refused PutResourcePolicy replaced the policy: %q", aws.ToString(got.Policy))
	}
	if _, err := admin.c.DeleteResourcePolicy(ctx, &kinesis.DeleteResourcePolicyInput{ResourceARN: &arn}); err != nil {
		t.Fatalf("DeleteResourcePolicy: %v", err)
	}
	if err := put(writer); err != nil {
		t.Errorf("writer puts after the policy is deleted: %v", err)
	}
	wantCode(t, describe(guest), "AccessDeniedException")

	// A registered consumer's ARN is a resource with a policy of its own.
	reg, err := admin.c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: &arn, ConsumerName: aws.String("app")})
	if err != nil {
		t.Fatalf("RegisterStreamConsumer: %v", err)
	}
	consumerARN := aws.ToString(reg.Consumer.ConsumerARN)
	describeConsumer := func(c *kinesis.Client) error {
		_, err := c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: &consumerARN})
		return err
	}
	wantCode(t, describeConsumer(guest), "AccessDeniedException", "no identity-based policy")
	consumerPolicy := `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/guest"},"Action":"kinesis:DescribeStreamConsumer","Resource":"` + consumerARN + `"}}`
	if _, err := admin.c.PutResourcePolicy(ctx, &kinesis.PutResourcePolicyInput{ResourceARN: &consumerARN, Policy: &consumerPolicy}); err != nil {
		t.Fatalf("PutResourcePolicy on the consumer: %v", err)
	}
	if err := describeConsumer(guest); err != nil {
		t.Errorf("guest, allowed by the consumer's resource policy: %v", err)
	}
	wantCode(t, describe(guest), "AccessDeniedException") // the stream's policy is not the consumer's
}

// TestAWSCLISettings drives a few of the new actions with the AWS CLI.
func TestAWSCLISettings(t *testing.T) {
	cli := newAWSCLI(t)
	k := newKin(t)
	cli.endpoint = k.srv.Endpoint()
	ctx := testCtx(t)
	name := uniqueName(t)
	k.create(ctx, t, name, 1)
	arn := aws.ToString(k.summary(ctx, t, name).StreamARN)

	cli.run(ctx, t, nil, "kinesis", "tag-resource", "--resource-arn", arn, "--tags", "team=data")
	var tags struct{ Tags []struct{ Key, Value string } }
	cli.run(ctx, t, &tags, "kinesis", "list-tags-for-resource", "--resource-arn", arn)
	if len(tags.Tags) != 1 || tags.Tags[0].Key != "team" || tags.Tags[0].Value != "data" {
		t.Errorf("list-tags-for-resource = %+v", tags)
	}
	cli.run(ctx, t, nil, "kinesis", "update-max-record-size", "--stream-arn", arn, "--max-record-size-in-ki-b", "5000")
	var sum struct {
		StreamDescriptionSummary struct{ MaxRecordSizeInKiB int }
	}
	cli.run(ctx, t, &sum, "kinesis", "describe-stream-summary", "--stream-name", name)
	if sum.StreamDescriptionSummary.MaxRecordSizeInKiB != 5000 {
		t.Errorf("MaxRecordSizeInKiB = %d, want 5000", sum.StreamDescriptionSummary.MaxRecordSizeInKiB)
	}
	var acct struct{ MinimumThroughputBillingCommitment struct{ Status string } }
	cli.run(ctx, t, &acct, "kinesis", "update-account-settings", "--minimum-throughput-billing-commitment", "Status=ENABLED")
	cli.run(ctx, t, &acct, "kinesis", "describe-account-settings")
	if acct.MinimumThroughputBillingCommitment.Status != "ENABLED" {
		t.Errorf("describe-account-settings = %+v", acct)
	}
	cli.run(ctx, t, nil, "kinesis", "update-stream-mode", "--stream-arn", arn, "--stream-mode-details", "StreamMode=ON_DEMAND")
	cli.run(ctx, t, nil, "kinesis", "put-resource-policy", "--resource-arn", arn, "--policy",
		`{"Statement":{"Effect":"Deny","Principal":"*","Action":"kinesis:DeleteStream","Resource":"`+arn+`"}}`)
	var pol struct{ Policy string }
	cli.run(ctx, t, &pol, "kinesis", "get-resource-policy", "--resource-arn", arn)
	if !strings.Contains(pol.Policy, "kinesis:DeleteStream") {
		t.Errorf("get-resource-policy = %q", pol.Policy)
	}
	stderr, err := cli.runFailing(ctx, t, "kinesis", "update-max-record-size", "--stream-arn", arn, "--max-record-size-in-ki-b", "20000")
	if err == nil || !strings.Contains(stderr, "ValidationException") && !strings.Contains(stderr, "valid range") {
		t.Errorf("update-max-record-size 20000: err %v, stderr %s", err, stderr)
	}
}

// TestSpateCLISettings drives the new spate commands over gRPC, and `spate
// put` of a line larger than 1 MiB into a stream that takes it.
func TestSpateCLISettings(t *testing.T) {
	t.Parallel()
	k := newKin(t)
	ctx := testCtx(t)
	name := uniqueName(t)
	spate := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, spateBin, append([]string{"--grpc-addr", k.srv.GRPCAddr}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("spate %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}
	spate("", "stream", "create", name, "--shards", "1")
	k.waitActive(ctx, t, name)
	spate("", "stream", "tag", name, "team=data", "env=test")
	spate("", "stream", "untag", name, "env")
	if out := spate("", "stream", "tags", name); !strings.Contains(out, "team") || strings.Contains(out, "env") {
		t.Errorf("spate stream tags:\n%s", out)
	}
	spate("", "stream", "max-record-size", name, "2048")
	line := strings.Repeat("x", 1500<<10)
	if out := spate(line+"\n", "put", name, "-q"); strings.Contains(out, "not sent") {
		t.Errorf("spate put of a 1.5 MiB line into a 2 MiB stream: %s", out)
	}
	recs := k.readAll(ctx, t, name)
	if n := len(recs["shardId-000000000000"]); n != 1 {
		t.Errorf("%d records after spate put, want 1", n)
	}
	if out := spate("", "account", "commitment", "enable"); !strings.Contains(out, "ENABLED") {
		t.Errorf("spate account commitment enable:\n%s", out)
	}
	spate("", "stream", "mode", name, "on-demand", "--warm-throughput", "30")
	spate("", "stream", "warm-throughput", name, "40")
	sum := k.summary(ctx, t, name)
	if sum.StreamModeDetails.StreamMode != types.StreamModeOnDemand || aws.ToInt32(sum.MaxRecordSizeInKiB) != 2048 ||
		aws.ToInt32(sum.WarmThroughput.TargetMiBps) != 40 {
		t.Errorf("after the spate commands: %+v %+v", sum.StreamModeDetails, sum.WarmThroughput)
	}
	spate(`{"Statement":{"Effect":"Deny","Principal":"*","Action":"kinesis:DeleteStream","Resource":"*"}}`, "stream", "policy", "put", name, "-")
	if out := spate("", "stream", "policy", "get", name); !strings.Contains(out, "kinesis:DeleteStream") {
		t.Errorf("spate stream policy get: %s", out)
	}
	spate("", "stream", "policy", "delete", name)
	if out := spate("", "account", "show"); !strings.Contains(out, "Commitment:") {
		t.Errorf("spate account show:\n%s", out)
	}
}

// TestSDKUpdating checks that UpdateStreamMode and
// UpdateStreamWarmThroughput make the stream UPDATING for --create-delay,
// that records are written and read meanwhile, that other updates answer
// ResourceInUseException, and that the stream is ACTIVE again after.
func TestSDKUpdating(t *testing.T) {
	t.Parallel()
	// Long enough that the calls below run within it on a loaded machine.
	k := newKin(t, withArgs("--create-delay", "10s"))
	ctx := testCtx(t)
	name := uniqueName(t)
	k.create(ctx, t, name, 1)
	arn := aws.ToString(k.waitActive(ctx, t, name).StreamARN)
	if _, err := k.c.UpdateStreamMode(ctx, &kinesis.UpdateStreamModeInput{StreamARN: &arn,
		StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}}); err != nil {
		t.Fatalf("UpdateStreamMode: %v", err)
	}
	if sum := k.summary(ctx, t, name); sum.StreamStatus != types.StreamStatusUpdating || sum.StreamModeDetails.StreamMode != types.StreamModeOnDemand {
		t.Fatalf("after UpdateStreamMode: %s %s, want UPDATING ON_DEMAND", sum.StreamStatus, sum.StreamModeDetails.StreamMode)
	}
	put := k.put(ctx, t, name, "k", []byte("while updating"))
	_, err := k.c.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{StreamARN: &arn, MaxRecordSizeInKiB: aws.Int32(2048)})
	wantCode(t, err, "ResourceInUseException", "UPDATING")
	_, err = k.c.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: &name, Tags: map[string]string{"k": "v"}})
	wantCode(t, err, "ResourceInUseException")
	ls, err := k.c.ListStreams(ctx, &kinesis.ListStreamsInput{})
	if err != nil || len(ls.StreamSummaries) != 1 || ls.StreamSummaries[0].StreamStatus != types.StreamStatusUpdating {
		t.Errorf("ListStreams while updating: %+v, %v", ls, err)
	}
	k.waitActive(ctx, t, name)
	recs := k.drain(ctx, t, k.iterator(ctx, t, name, aws.ToString(put.ShardId), types.ShardIteratorTypeTrimHorizon, "", nil))
	if len(recs) != 1 || string(recs[0].Data) != "while updating" {
		t.Errorf("read %d records back", len(recs))
	}
	if _, err := k.c.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{StreamARN: &arn, MaxRecordSizeInKiB: aws.Int32(2048)}); err != nil {
		t.Errorf("UpdateMaxRecordSize once ACTIVE: %v", err)
	}
}
