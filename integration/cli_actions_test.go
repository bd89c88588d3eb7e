package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"

	"github.com/spatehq/spate/firehose/compress"
)

// cliStep is one call of the AWS CLI in an action table: `aws SERVICE
// COMMAND ARGS...`, where COMMAND is the action in the CLI's spelling
// (PutRecord: put-record).
type cliStep struct {
	action string
	args   func() []string
	// err is the error code the call must fail with; "" for success.
	err string
	// check looks at the decoded JSON output of a successful call (nil:
	// success is all that is checked); after runs after either.
	check func(t *testing.T, out map[string]any)
	after func(t *testing.T)
}

// cliCommand is action in the CLI's spelling: PutRecord is put-record,
// UpdateMaxRecordSize update-max-record-size.
func cliCommand(action string) string {
	var b strings.Builder
	for i, r := range action {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte('-')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// runTable runs the steps in order with the CLI against service and logs
// per action what was checked. A step whose command this CLI does not have
// (an older CLI, such as Debian 12's 1.27, lacks the newer actions) is
// logged as such, not run. The test fails unless every action in want is in
// the table.
func (a *awsCLI) runTable(ctx context.Context, t *testing.T, service string, steps []cliStep, want []string) {
	t.Helper()
	status := map[string]string{}
	for _, st := range steps {
		args := append([]string{service, cliCommand(st.action)}, st.args()...)
		cmd := a.command(ctx, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("aws %s: %v", strings.Join(args, " "), err)
		}
		if err != nil && strings.Contains(stderr.String(), "Invalid choice") {
			status[st.action] = "this CLI has no " + cliCommand(st.action)
			continue
		}
		switch {
		case st.err != "":
			if err == nil || !strings.Contains(stderr.String(), "("+st.err+")") {
				t.Fatalf("aws %s: err %v, stderr %q; want the error %s", strings.Join(args, " "), err, stderr.String(), st.err)
			}
			if _, ok := status[st.action]; !ok {
				status[st.action] = "ok"
				if st.err == "UnknownOperationException" {
					status[st.action] = "not yet: issue 13"
				}
			}
		case err != nil:
			t.Fatalf("aws %s: %v\nstderr: %s", strings.Join(args, " "), err, stderr.String())
		default:
			out := map[string]any{}
			if s := bytes.TrimSpace(stdout.Bytes()); len(s) > 0 {
				if err := json.Unmarshal(s, &out); err != nil {
					t.Fatalf("aws %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, s)
				}
			}
			if st.check != nil {
				st.check(t, out)
			}
			status[st.action] = "ok"
		}
		if st.after != nil {
			st.after(t)
		}
	}
	var b strings.Builder
	for _, act := range want {
		s, ok := status[act]
		if !ok {
			t.Errorf("the %s table never calls %s", service, act)
		}
		fmt.Fprintf(&b, "\n  %s: %s", act, s)
	}
	t.Logf("aws %s, %d actions:%s", service, len(want), b.String())
}

// textBlobs returns args with the flag that makes this CLI take blob
// arguments (--data, a record's Data) as text: CLI v1 base64-encodes them
// itself; v2 does so only with --cli-binary-format raw-in-base64-out.
func (a *awsCLI) textBlobs(args ...string) []string {
	if a.v2 {
		return append(args, "--cli-binary-format", "raw-in-base64-out")
	}
	return args
}

// cliTableTimeout bounds an action table's context: each CLI call starts a
// Python interpreter (seconds each on a loaded machine), and a table makes
// about fifty. It only stops a hung test.
const cliTableTimeout = 15 * time.Minute

// cliTableCtx is testCtx with cliTableTimeout.
func cliTableCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), cliTableTimeout)
	t.Cleanup(cancel)
	return ctx
}

// jget walks the decoded JSON value v along keys (object members, or
// decimal indexes into arrays) and returns what it finds there (nil if
// nothing).
func jget(v any, keys ...string) any {
	for _, k := range keys {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// jstr is jget as a string ("" if it is not one).
func jstr(v any, keys ...string) string {
	s, _ := jget(v, keys...).(string)
	return s
}

// jwant fails the test unless jget(out, keys...) is want (compared as JSON).
func jwant(t *testing.T, out map[string]any, want any, keys ...string) {
	t.Helper()
	got, _ := json.Marshal(jget(out, keys...))
	w, _ := json.Marshal(want)
	if !bytes.Equal(got, w) {
		t.Errorf("%s = %s, want %s", strings.Join(keys, "."), got, w)
	}
}

// TestAWSCLIKinesisActions drives every Kinesis action over `aws kinesis`
// in one table, with the CLI's default settings (only --endpoint-url, a
// region and dummy credentials).
func TestAWSCLIKinesisActions(t *testing.T) {
	t.Parallel()
	cli := newAWSCLI(t)
	k := newKin(t)
	cli.endpoint = k.srv.Endpoint()
	ctx := cliTableCtx(t)
	name := uniqueName(t)
	missing := name + "-missing"
	active := func(t *testing.T) { k.waitActive(ctx, t, name) }
	var arn, shard, seq, iter string
	var seqs []string
	texts := []string{"one", "two", "three"}
	policy := func() string {
		account := strings.Split(arn, ":")[4]
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account +
			`:root"},"Action":"kinesis:GetRecords","Resource":"` + arn + `"}]}`
	}
	fixed := func(args ...string) func() []string { return func() []string { return args } }
	stream := fixed("--stream-name", name)
	byARN := func(args ...string) func() []string {
		return func() []string { return append([]string{"--stream-arn", arn}, args...) }
	}
	steps := []cliStep{
		{action: "CreateStream", args: fixed("--stream-name", name, "--shard-count", "2"), after: active},
		{action: "CreateStream", args: fixed("--stream-name", name, "--shard-count", "1"), err: "ResourceInUseException"},
		{action: "DescribeStreamSummary", args: stream, check: func(t *testing.T, out map[string]any) {
			jwant(t, out, "ACTIVE", "StreamDescriptionSummary", "StreamStatus")
			jwant(t, out, 2, "StreamDescriptionSummary", "OpenShardCount")
			arn = jstr(out, "StreamDescriptionSummary", "StreamARN")
			if !strings.HasSuffix(arn, ":stream/"+name) {
				t.Fatalf("StreamARN %q", arn)
			}
		}},
		{action: "DescribeStreamSummary", args: fixed("--stream-name", missing), err: "ResourceNotFoundException"},
		{action: "DescribeStream", args: stream, check: func(t *testing.T, out map[string]any) {
			for i := range 2 {
				jwant(t, out, shardID(i), "StreamDescription", "Shards", fmt.Sprint(i), "ShardId")
			}
			jwant(t, out, nil, "StreamDescription", "Shards", "2")
		}},
		{action: "ListStreams", args: fixed(), check: func(t *testing.T, out map[string]any) {
			if names, _ := jget(out, "StreamNames").([]any); !slices.Contains(names, any(name)) {
				t.Errorf("list-streams = %v, want %s in it", names, name)
			}
		}},
		{action: "ListShards", args: stream, check: func(t *testing.T, out map[string]any) {
			jwant(t, out, "shardId-000000000001", "Shards", "1", "ShardId")
		}},
		{action: "DescribeLimits", args: fixed(), check: func(t *testing.T, out map[string]any) {
			if n, _ := jget(out, "OpenShardCount").(float64); n < 2 {
				t.Errorf("describe-limits OpenShardCount %v, want at least 2", jget(out, "OpenShardCount"))
			}
		}},
		{action: "PutRecord", args: func() []string {
			return cli.textBlobs("--stream-name", name, "--partition-key", "pk", "--data", texts[0])
		}, check: func(t *testing.T, out map[string]any) {
			shard, seq = jstr(out, "ShardId"), jstr(out, "SequenceNumber")
			seqs = append(seqs, seq)
		}},
		{action: "PutRecord", args: fixed("--stream-name", missing, "--partition-key", "pk", "--data", "x"), err: "ResourceNotFoundException"},
		{action: "PutRecords", args: func() []string {
			return cli.textBlobs("--stream-name", name, "--records",
				`[{"Data":"`+texts[1]+`","PartitionKey":"pk"},{"Data":"`+texts[2]+`","PartitionKey":"pk"}]`)
		}, check: func(t *testing.T, out map[string]any) {
			jwant(t, out, 0, "FailedRecordCount")
			for i := range 2 {
				if got := jstr(out, "Records", fmt.Sprint(i), "ShardId"); got != shard {
					t.Errorf("put-records entry %d went to %s, want %s (one partition key)", i, got, shard)
				}
				seqs = append(seqs, jstr(out, "Records", fmt.Sprint(i), "SequenceNumber"))
			}
			checkIncreasing(t, "put-record, put-records", seqs)
		}},
		{action: "GetShardIterator", args: func() []string {
			return []string{"--stream-name", name, "--shard-id", shard, "--shard-iterator-type", "AT_SEQUENCE_NUMBER", "--starting-sequence-number", seq}
		}, check: func(t *testing.T, out map[string]any) { iter = jstr(out, "ShardIterator") }},
		{action: "GetRecords", args: func() []string { return []string{"--shard-iterator", iter} }, check: func(t *testing.T, out map[string]any) {
			recs, _ := jget(out, "Records").([]any)
			var got, gotSeqs []string
			for _, r := range recs {
				data, err := base64.StdEncoding.DecodeString(jstr(r, "Data"))
				if err != nil {
					t.Fatalf("get-records Data %q is not base64: %v", jstr(r, "Data"), err)
				}
				got, gotSeqs = append(got, string(data)), append(gotSeqs, jstr(r, "SequenceNumber"))
			}
			if !slices.Equal(got, texts) || !slices.Equal(gotSeqs, seqs) {
				t.Errorf("get-records = %q %v, want %q %v", got, gotSeqs, texts, seqs)
			}
		}},
		{action: "GetRecords", args: fixed("--shard-iterator", "not-an-iterator"), err: "InvalidArgumentException"},
		{action: "AddTagsToStream", args: fixed("--stream-name", name, "--tags", "team=data,env=test")},
		{action: "RemoveTagsFromStream", args: fixed("--stream-name", name, "--tag-keys", "env")},
		{action: "ListTagsForStream", args: stream, check: func(t *testing.T, out map[string]any) {
			jwant(t, out, []map[string]string{{"Key": "team", "Value": "data"}}, "Tags")
		}},
		{action: "TagResource", args: func() []string { return []string{"--resource-arn", arn, "--tags", "owner=cli"} }},
		{action: "UntagResource", args: func() []string { return []string{"--resource-arn", arn, "--tag-keys", "team"} }},
		{action: "ListTagsForResource", args: func() []string { return []string{"--resource-arn", arn} }, check: func(t *testing.T, out map[string]any) {
			jwant(t, out, []map[string]string{{"Key": "owner", "Value": "cli"}}, "Tags")
		}},
		{action: "PutResourcePolicy", args: func() []string { return []string{"--resource-arn", arn, "--policy", policy()} }},
		{action: "GetResourcePolicy", args: func() []string { return []string{"--resource-arn", arn} }, check: func(t *testing.T, out map[string]any) {
			var got, want any
			_ = json.Unmarshal([]byte(jstr(out, "Policy")), &got)
			_ = json.Unmarshal([]byte(policy()), &want)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("get-resource-policy = %s, want %s", jstr(out, "Policy"), policy())
			}
		}},
		{action: "DeleteResourcePolicy", args: func() []string { return []string{"--resource-arn", arn} }},
		{action: "IncreaseStreamRetentionPeriod", args: fixed("--stream-name", name, "--retention-period-hours", "48"), after: active},
		{action: "DecreaseStreamRetentionPeriod", args: fixed("--stream-name", name, "--retention-period-hours", "72"), err: "InvalidArgumentException"},
		{action: "DecreaseStreamRetentionPeriod", args: fixed("--stream-name", name, "--retention-period-hours", "24"), after: active},
		{action: "EnableEnhancedMonitoring", args: fixed("--stream-name", name, "--shard-level-metrics", "IncomingBytes"),
			check: func(t *testing.T, out map[string]any) {
				jwant(t, out, []string{"IncomingBytes"}, "DesiredShardLevelMetrics")
			}},
		{action: "DisableEnhancedMonitoring", args: fixed("--stream-name", name, "--shard-level-metrics", "ALL")},
		{action: "StartStreamEncryption", args: fixed("--stream-name", name, "--encryption-type", "KMS", "--key-id", "alias/aws/kinesis"), after: active},
		{action: "StopStreamEncryption", args: fixed("--stream-name", name, "--encryption-type", "KMS", "--key-id", "alias/aws/kinesis"), after: active},
		{action: "UpdateMaxRecordSize", args: byARN("--max-record-size-in-ki-b", "2048"), after: active},
		// Warm throughput needs the account's minimum throughput billing commitment.
		{action: "DescribeAccountSettings", args: fixed(), check: func(t *testing.T, out map[string]any) {
			if jstr(out, "MinimumThroughputBillingCommitment", "Status") == "" {
				t.Errorf("describe-account-settings = %v", out)
			}
		}},
		{action: "UpdateAccountSettings", args: fixed("--minimum-throughput-billing-commitment", "Status=ENABLED"),
			check: func(t *testing.T, out map[string]any) {
				jwant(t, out, "ENABLED", "MinimumThroughputBillingCommitment", "Status")
			}},
		// Resharding, while the stream is PROVISIONED: 2 -> 4 shards closes
		// shards 0 and 1 and opens 2 to 5, in hash-key order.
		{action: "UpdateShardCount", args: fixed("--stream-name", name, "--target-shard-count", "4", "--scaling-type", "UNIFORM_SCALING"),
			check: func(t *testing.T, out map[string]any) {
				jwant(t, out, 2, "CurrentShardCount")
				jwant(t, out, 4, "TargetShardCount")
			}, after: active},
		{action: "UpdateShardCount", args: fixed("--stream-name", name, "--target-shard-count", "9", "--scaling-type", "UNIFORM_SCALING"), err: "LimitExceededException"},
		{action: "SplitShard", args: fixed("--stream-name", name, "--shard-to-split", shardID(2), "--new-starting-hash-key", "42535295865117307932921825928971026432"), after: active},
		{action: "SplitShard", args: fixed("--stream-name", name, "--shard-to-split", shardID(2), "--new-starting-hash-key", "1"), err: "ResourceInUseException"},
		{action: "MergeShards", args: fixed("--stream-name", name, "--shard-to-merge", shardID(6), "--adjacent-shard-to-merge", shardID(7)), after: active},
		{action: "MergeShards", args: fixed("--stream-name", name, "--shard-to-merge", shardID(3), "--adjacent-shard-to-merge", shardID(5)), err: "InvalidArgumentException"},
		{action: "ListShards", args: fixed("--stream-name", name, "--shard-filter", "Type=AT_LATEST"), check: func(t *testing.T, out map[string]any) {
			var ids []string
			for _, sh := range jget(out, "Shards").([]any) {
				ids = append(ids, jstr(sh, "ShardId"))
			}
			if want := []string{shardID(3), shardID(4), shardID(5), shardID(8)}; !slices.Equal(ids, want) {
				t.Errorf("open shards %v, want %v", ids, want)
			}
		}},
		{action: "UpdateStreamMode", args: byARN("--stream-mode-details", "StreamMode=ON_DEMAND"), after: active},
		{action: "UpdateStreamWarmThroughput", args: fixed("--stream-name", name, "--warm-throughput-mi-bps", "50"),
			check: func(t *testing.T, out map[string]any) { jwant(t, out, 50, "WarmThroughput", "TargetMiBps") }},
		{action: "DescribeStreamSummary", args: stream, check: func(t *testing.T, out map[string]any) {
			jwant(t, out, "NONE", "StreamDescriptionSummary", "EncryptionType")
			jwant(t, out, 24, "StreamDescriptionSummary", "RetentionPeriodHours")
			jwant(t, out, 2048, "StreamDescriptionSummary", "MaxRecordSizeInKiB")
			jwant(t, out, "ON_DEMAND", "StreamDescriptionSummary", "StreamModeDetails", "StreamMode")
		}},
		{action: "RegisterStreamConsumer", args: byARN("--consumer-name", "c"),
			check: func(t *testing.T, out map[string]any) { jwant(t, out, "c", "Consumer", "ConsumerName") }},
		{action: "DescribeStreamConsumer", args: byARN("--consumer-name", "c"),
			check: func(t *testing.T, out map[string]any) { jwant(t, out, "c", "ConsumerDescription", "ConsumerName") }},
		{action: "ListStreamConsumers", args: byARN(), check: func(t *testing.T, out map[string]any) {
			if list, _ := out["Consumers"].([]any); len(list) != 1 {
				t.Errorf("list-stream-consumers = %v", out)
			}
		}},
		{action: "DeregisterStreamConsumer", args: byARN("--consumer-name", "c")},
		{action: "DeleteStream", args: stream, after: func(t *testing.T) { k.waitGone(ctx, t, name) }},
		{action: "DeleteStream", args: stream, err: "ResourceNotFoundException"},
	}
	// SubscribeToShard is an HTTP/2 event stream: the AWS CLI has no command
	// for it.
	cli.runTable(ctx, t, "kinesis", steps, slices.DeleteFunc(slices.Clone(kinesisActions), func(a string) bool { return a == "SubscribeToShard" }))
}

// TestAWSCLIFirehoseActions drives all 12 Firehose actions over `aws
// firehose` in one table, and checks what lands in S3.
func TestAWSCLIFirehoseActions(t *testing.T) {
	t.Parallel()
	cli := newAWSCLI(t)
	f := newFH(t)
	cli.endpoint = f.srv.Endpoint()
	// The CLI's model holds IntervalInSeconds to at least 60 (the API now
	// allows 0); see trustServerValidation.
	cli.trustServerValidation(t)
	ctx := cliTableCtx(t)
	name := uniqueName(t)
	missing := name + "-missing"
	dest := func(prefix string) string {
		return `{"RoleARN":"arn:aws:iam::000000000000:role/firehose","BucketARN":"arn:aws:s3:::` + f.bucket + `",` +
			`"Prefix":"` + prefix + `","BufferingHints":{"IntervalInSeconds":0,"SizeInMBs":1}}`
	}
	fixed := func(args ...string) func() []string { return func() []string { return args } }
	stream := fixed("--delivery-stream-name", name)
	var version, destID string
	describe := func(t *testing.T, out map[string]any) {
		version = jstr(out, "DeliveryStreamDescription", "VersionId")
		destID = jstr(out, "DeliveryStreamDescription", "Destinations", "0", "DestinationId")
	}
	waitStatus := func(path []string, want string) func(t *testing.T) {
		return func(t *testing.T) {
			for {
				out, err := f.c.DescribeDeliveryStream(ctx, &firehose.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(name)})
				if err != nil {
					t.Fatalf("DescribeDeliveryStream(%s): %v", name, err)
				}
				b, _ := json.Marshal(out.DeliveryStreamDescription)
				var m map[string]any
				_ = json.Unmarshal(b, &m)
				if got := jstr(m, path...); got == want {
					return
				}
				select {
				case <-ctx.Done():
					t.Fatalf("%s never became %s: %v", strings.Join(path, "."), want, ctx.Err())
				case <-time.After(50 * time.Millisecond):
				}
			}
		}
	}
	active := waitStatus([]string{"DeliveryStreamStatus"}, "ACTIVE")
	steps := []cliStep{
		{action: "CreateDeliveryStream", args: fixed("--delivery-stream-name", name, "--extended-s3-destination-configuration", dest("cli/"),
			"--tags", "Key=team,Value=data"), after: active},
		{action: "CreateDeliveryStream", args: fixed("--delivery-stream-name", name, "--extended-s3-destination-configuration", dest("x/")),
			err: "ResourceInUseException"},
		{action: "DescribeDeliveryStream", args: stream, check: func(t *testing.T, out map[string]any) {
			jwant(t, out, "ACTIVE", "DeliveryStreamDescription", "DeliveryStreamStatus")
			jwant(t, out, "cli/", "DeliveryStreamDescription", "Destinations", "0", "ExtendedS3DestinationDescription", "Prefix")
			describe(t, out)
		}},
		{action: "DescribeDeliveryStream", args: fixed("--delivery-stream-name", missing), err: "ResourceNotFoundException"},
		{action: "ListDeliveryStreams", args: fixed(), check: func(t *testing.T, out map[string]any) {
			if names, _ := jget(out, "DeliveryStreamNames").([]any); !slices.Contains(names, any(name)) {
				t.Errorf("list-delivery-streams = %v, want %s in it", names, name)
			}
		}},
		{action: "TagDeliveryStream", args: fixed("--delivery-stream-name", name, "--tags", "Key=env,Value=test")},
		{action: "UntagDeliveryStream", args: fixed("--delivery-stream-name", name, "--tag-keys", "team")},
		{action: "ListTagsForDeliveryStream", args: stream, check: func(t *testing.T, out map[string]any) {
			jwant(t, out, []map[string]string{{"Key": "env", "Value": "test"}}, "Tags")
		}},
		{action: "PutRecord", args: func() []string {
			return cli.textBlobs("--delivery-stream-name", name, "--record", `{"Data":"{\"n\":0}\n"}`)
		}, check: func(t *testing.T, out map[string]any) {
			if jstr(out, "RecordId") == "" {
				t.Errorf("put-record gave no RecordId: %v", out)
			}
		}},
		{action: "PutRecord", args: func() []string {
			return cli.textBlobs("--delivery-stream-name", missing, "--record", `{"Data":"x"}`)
		}, err: "ResourceNotFoundException"},
		{action: "PutRecordBatch", args: func() []string {
			return cli.textBlobs("--delivery-stream-name", name, "--records", `[{"Data":"{\"n\":1}\n"},{"Data":"{\"n\":2}\n"}]`)
		}, check: func(t *testing.T, out map[string]any) { jwant(t, out, 0, "FailedPutCount") }, after: func(t *testing.T) {
			got := f.waitLines(ctx, t, "cli/", compress.Uncompressed, 3)
			if want := []string{`{"n":0}`, `{"n":1}`, `{"n":2}`}; !slices.Equal(got, want) {
				t.Errorf("S3 holds %q, want %q", got, want)
			}
		}},
		{action: "UpdateDestination", args: func() []string {
			return []string{"--delivery-stream-name", name, "--current-delivery-stream-version-id", version,
				"--destination-id", destID, "--extended-s3-destination-update", `{"Prefix":"cli-2/"}`}
		}},
		{action: "UpdateDestination", args: func() []string {
			return []string{"--delivery-stream-name", name, "--current-delivery-stream-version-id", version,
				"--destination-id", destID, "--extended-s3-destination-update", `{"Prefix":"stale/"}`}
		}, err: "ConcurrentModificationException"},
		{action: "StartDeliveryStreamEncryption", args: fixed("--delivery-stream-name", name,
			"--delivery-stream-encryption-configuration-input", "KeyType=AWS_OWNED_CMK"),
			after: waitStatus([]string{"DeliveryStreamEncryptionConfiguration", "Status"}, "ENABLED")},
		{action: "StopDeliveryStreamEncryption", args: stream,
			after: waitStatus([]string{"DeliveryStreamEncryptionConfiguration", "Status"}, "DISABLED")},
		{action: "DescribeDeliveryStream", args: stream, check: func(t *testing.T, out map[string]any) {
			jwant(t, out, "cli-2/", "DeliveryStreamDescription", "Destinations", "0", "ExtendedS3DestinationDescription", "Prefix")
			if v := jstr(out, "DeliveryStreamDescription", "VersionId"); v == version {
				t.Errorf("VersionId still %s after update-destination", v)
			}
		}},
		{action: "DeleteDeliveryStream", args: stream},
	}
	cli.runTable(ctx, t, "firehose", steps, firehoseActions)
}
