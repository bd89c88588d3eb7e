package integration

import (
	"path/filepath"
	"testing"
)

// pythonBin is Debian's Python, for which Debian's python3-boto3 is
// installed (scripts/test-deps.sh). Not the python3 first on PATH: a pyenv
// or virtualenv Python does not see Debian's packages.
const pythonBin = "/usr/bin/python3"

// boto3Kinesis are the Kinesis actions of the oldest boto3 the tests run
// with (Debian 12's 1.26): a newer one has more, which its script must then
// call too (spatecheck.Report.finish fails otherwise).
var boto3Kinesis = []string{
	"AddTagsToStream", "CreateStream", "DecreaseStreamRetentionPeriod", "DeleteStream",
	"DeregisterStreamConsumer", "DescribeLimits", "DescribeStream", "DescribeStreamConsumer",
	"DescribeStreamSummary", "DisableEnhancedMonitoring", "EnableEnhancedMonitoring", "GetRecords",
	"GetShardIterator", "IncreaseStreamRetentionPeriod", "ListShards", "ListStreamConsumers",
	"ListStreams", "ListTagsForStream", "MergeShards", "PutRecord", "PutRecords",
	"RegisterStreamConsumer", "RemoveTagsFromStream", "SplitShard", "StartStreamEncryption",
	"StopStreamEncryption", "SubscribeToShard", "UpdateShardCount", "UpdateStreamMode",
}

// firehoseActions are the 12 actions of the Firehose API.
var firehoseActions = []string{
	"CreateDeliveryStream", "DeleteDeliveryStream", "DescribeDeliveryStream", "ListDeliveryStreams",
	"ListTagsForDeliveryStream", "PutRecord", "PutRecordBatch", "StartDeliveryStreamEncryption",
	"StopDeliveryStreamEncryption", "TagDeliveryStream", "UntagDeliveryStream", "UpdateDestination",
}

// boto3Script returns the runner of integration/py/SCRIPT with Debian's
// Python. A missing boto3 fails the script, and so the test:
// scripts/test-deps.sh installs it.
func boto3Script(script string) scriptRunner {
	return func(t *testing.T, tr clientTransport, args ...string) clientReport {
		t.Helper()
		// No __pycache__ beside the checked-in scripts.
		env := append(clientEnv(t), "PYTHONDONTWRITEBYTECODE=1")
		if tr.caFile != "" {
			env = append(env, "AWS_CA_BUNDLE="+tr.caFile)
		}
		return runClientScript(testCtx(t), t, env, pythonBin, append([]string{filepath.Join("py", script)}, args...)...)
	}
}

// TestBoto3Kinesis drives the Kinesis API with boto3, default settings,
// over every action boto3 has (py/kinesis_boto3.py), over HTTP and TLS.
func TestBoto3Kinesis(t *testing.T) {
	t.Parallel()
	testKinesisScript(t, boto3Script("kinesis_boto3.py"), boto3Kinesis)
}

// TestBoto3Firehose drives the Firehose API with boto3, default settings,
// over all 12 actions (py/firehose_boto3.py), then checks that S3 holds
// exactly the records the script put; over HTTP and TLS.
func TestBoto3Firehose(t *testing.T) {
	t.Parallel()
	testFirehoseScript(t, boto3Script("firehose_boto3.py"))
}
