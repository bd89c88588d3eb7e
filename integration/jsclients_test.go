package integration

import (
	"path/filepath"
	"testing"
)

// kinesisActions are the 39 actions of the Kinesis API model Spate
// implements (kinesis-2013-12-02).
var kinesisActions = []string{
	"AddTagsToStream", "CreateStream", "DecreaseStreamRetentionPeriod", "DeleteResourcePolicy",
	"DeleteStream", "DeregisterStreamConsumer", "DescribeAccountSettings", "DescribeLimits",
	"DescribeStream", "DescribeStreamConsumer", "DescribeStreamSummary", "DisableEnhancedMonitoring",
	"EnableEnhancedMonitoring", "GetRecords", "GetResourcePolicy", "GetShardIterator",
	"IncreaseStreamRetentionPeriod", "ListShards", "ListStreamConsumers", "ListStreams",
	"ListTagsForResource", "ListTagsForStream", "MergeShards", "PutRecord", "PutRecords",
	"PutResourcePolicy", "RegisterStreamConsumer", "RemoveTagsFromStream", "SplitShard",
	"StartStreamEncryption", "StopStreamEncryption", "SubscribeToShard", "TagResource",
	"UntagResource", "UpdateAccountSettings", "UpdateMaxRecordSize", "UpdateShardCount",
	"UpdateStreamMode", "UpdateStreamWarmThroughput",
}

// sdkV3Script returns the runner of integration/js/sdk-v3/SCRIPT with
// node. A missing node or SDK fails the test, naming the script that
// installs them (scripts/npm-clients.sh).
func sdkV3Script(script string) scriptRunner {
	return func(t *testing.T, tr clientTransport, args ...string) clientReport {
		t.Helper()
		n := findNodeClients(t, "@aws-sdk/client-kinesis", "@aws-sdk/client-firehose", "@aws-sdk/client-lambda")
		env := append(clientEnv(t), "NODE_PATH="+n.modules)
		if tr.caFile != "" {
			env = append(env, "NODE_EXTRA_CA_CERTS="+tr.caFile)
		}
		return runClientScript(testCtx(t), t, env, n.node, append([]string{filepath.Join(n.scripts, "sdk-v3", script)}, args...)...)
	}
}

// TestSDKv3Kinesis drives the Kinesis API with @aws-sdk/client-kinesis,
// default settings, over every action it has (js/sdk-v3/kinesis.cjs). The
// client speaks HTTP/2 to both endpoints: without TLS (h2c with prior
// knowledge) to http://, with ALPN h2 to https://.
func TestSDKv3Kinesis(t *testing.T) {
	t.Parallel()
	testKinesisScript(t, sdkV3Script("kinesis.cjs"), kinesisActions)
}

// TestSDKv3Firehose drives the Firehose API with @aws-sdk/client-firehose,
// default settings, over all 12 actions (js/sdk-v3/firehose.cjs), then
// checks that S3 holds exactly the records the script put; over HTTP and
// TLS.
func TestSDKv3Firehose(t *testing.T) {
	t.Parallel()
	testFirehoseScript(t, sdkV3Script("firehose.cjs"))
}
