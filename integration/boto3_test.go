package integration

import (
	"os"
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
func boto3Script(script string) scriptRunner { return boto3ScriptEnv(script) }

// boto3ScriptEnv is boto3Script with more variables in the script's
// environment.
func boto3ScriptEnv(script string, extra ...string) scriptRunner {
	return func(t *testing.T, tr clientTransport, args ...string) clientReport {
		t.Helper()
		// No __pycache__ beside the checked-in scripts.
		env := append(append(clientEnv(t), "PYTHONDONTWRITEBYTECODE=1"), extra...)
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

// TestBoto3Groups drives the consumer-group API (SpateGroups_20261207) with
// boto3 over every action of the model api/groupsapi ships, loaded the way
// a boto3 user loads a service model of their own (AWS_DATA_PATH), over
// HTTP and TLS (py/groups_boto3.py). botocore refused that model until it
// named an endpointPrefix.
func TestBoto3Groups(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	dir := filepath.Join(data, "spategroups", "2026-12-07")
	model, err := os.ReadFile(filepath.Join("..", "api", "groupsapi", "model", "spategroups-2026-12-07.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "service-2.json"), model, 0o644); err != nil {
		t.Fatal(err)
	}
	testKinesisScript(t, boto3ScriptEnv("groups_boto3.py", "AWS_DATA_PATH="+data), groupActions)
}

// groupActions are the consumer-group API's actions.
var groupActions = []string{
	"AcquireLease", "Checkpoint", "DeleteGroup", "DescribeGroup", "Heartbeat",
	"JoinGroup", "LeaveGroup", "ListGroups", "ReleaseLease", "ResetGroup",
}
