package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// skipAWSCLIEnv names the variable that skips the AWS CLI smoke test on a
// machine without the CLI. Without it, a missing CLI fails the test: the
// smoke test is part of what `make test` proves, and must not vanish quietly.
const skipAWSCLIEnv = "SPATE_SKIP_AWS_CLI"

// TestAWSCLI drives the server with the AWS CLI, as the README shows.
func TestAWSCLI(t *testing.T) {
	cli := newAWSCLI(t)
	k := newKin(t)
	cli.endpoint = k.srv.Endpoint()
	ctx := testCtx(t)
	stream := uniqueName(t)

	cli.run(ctx, t, nil, "kinesis", "create-stream", "--stream-name", stream, "--shard-count", "2")
	k.waitActive(ctx, t, stream)

	var list struct{ StreamNames []string }
	cli.run(ctx, t, &list, "kinesis", "list-streams")
	if !slices.Contains(list.StreamNames, stream) {
		t.Errorf("list-streams = %v, want it to contain %s", list.StreamNames, stream)
	}

	var summary struct {
		StreamDescriptionSummary struct {
			StreamName     string
			StreamStatus   string
			OpenShardCount int
		}
	}
	cli.run(ctx, t, &summary, "kinesis", "describe-stream-summary", "--stream-name", stream)
	if s := summary.StreamDescriptionSummary; s.StreamName != stream || s.StreamStatus != "ACTIVE" || s.OpenShardCount != 2 {
		t.Errorf("describe-stream-summary = %+v, want %s ACTIVE with 2 open shards", s, stream)
	}

	// CLI v1 base64-encodes --data itself; v2 does so only with
	// --cli-binary-format raw-in-base64-out. Either way the stored bytes
	// must be the text given here.
	const text = "hello from the aws cli"
	putArgs := []string{"kinesis", "put-record", "--stream-name", stream, "--partition-key", "pk-1", "--data", text}
	if cli.v2 {
		putArgs = append(putArgs, "--cli-binary-format", "raw-in-base64-out")
	}
	var put struct{ ShardId, SequenceNumber string }
	cli.run(ctx, t, &put, putArgs...)
	if put.ShardId == "" || put.SequenceNumber == "" {
		t.Fatalf("put-record answered %+v", put)
	}

	var iter struct{ ShardIterator string }
	cli.run(ctx, t, &iter, "kinesis", "get-shard-iterator", "--stream-name", stream,
		"--shard-id", put.ShardId, "--shard-iterator-type", "TRIM_HORIZON")
	var got struct {
		Records []struct {
			SequenceNumber string
			PartitionKey   string
			Data           string // base64 in the CLI's JSON output
		}
		NextShardIterator string
	}
	cli.run(ctx, t, &got, "kinesis", "get-records", "--shard-iterator", iter.ShardIterator)
	if len(got.Records) != 1 {
		t.Fatalf("get-records returned %d records, want 1: %+v", len(got.Records), got)
	}
	r := got.Records[0]
	data, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		t.Fatalf("get-records Data %q is not base64: %v", r.Data, err)
	}
	if string(data) != text || r.PartitionKey != "pk-1" || r.SequenceNumber != put.SequenceNumber {
		t.Errorf("get-records = {%s %s %q}, want {%s pk-1 %q}", r.SequenceNumber, r.PartitionKey, data, put.SequenceNumber, text)
	}
	if got.NextShardIterator == "" {
		t.Errorf("get-records gave no NextShardIterator for an open shard")
	}

	// The SDK reads the same raw bytes: the CLI's encoding was undone once.
	recs := k.readShard(ctx, t, stream, put.ShardId)
	if len(recs) != 1 || string(recs[0].Data) != text {
		t.Errorf("SDK reads %d records, first %q; want one, %q", len(recs), firstData(recs), text)
	}

	// An error reaches the CLI as the AWS error type.
	stderr, err := cli.runFailing(ctx, t, "kinesis", "describe-stream-summary", "--stream-name", stream+"-missing")
	if err == nil || !strings.Contains(stderr, "ResourceNotFoundException") {
		t.Errorf("describe-stream-summary of a missing stream: err %v, stderr %q; want a ResourceNotFoundException", err, stderr)
	}

	cli.run(ctx, t, nil, "kinesis", "delete-stream", "--stream-name", stream)
	k.waitGone(ctx, t, stream)
}

func firstData(recs []types.Record) string {
	if len(recs) == 0 {
		return ""
	}
	return string(recs[0].Data)
}

// awsCLI runs the AWS CLI isolated from the user's AWS configuration.
type awsCLI struct {
	path     string
	env      []string
	v2       bool
	endpoint string // passed as --endpoint-url when set
	// configFile is the CLI's private AWS_CONFIG_FILE.
	configFile string
}

// trustServerValidation turns off the CLI's own parameter validation, so
// the server's answers are tested: CLIs carry the service model of their
// release, and an older one rejects values the service now allows (AWS
// CLI 2.9 requires Firehose's IntervalInSeconds to be at least 60; the API
// now allows 0).
func (a *awsCLI) trustServerValidation(t *testing.T) {
	t.Helper()
	if err := os.WriteFile(a.configFile, []byte("[default]\nparameter_validation = false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func newAWSCLI(t *testing.T) *awsCLI {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test; skipped with -short")
	}
	path, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv(skipAWSCLIEnv) != "" {
			t.Skipf("!!! the AWS CLI smoke test did NOT run: no aws on PATH and %s is set", skipAWSCLIEnv)
		}
		t.Fatalf("the AWS CLI smoke test needs the AWS CLI (aws) on PATH: %v\n"+
			"Install it (pip install awscli, or AWS CLI v2), or set %s=1 to skip this test knowingly.", err, skipAWSCLIEnv)
	}
	dir := t.TempDir()
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "AWS_") })
	env = append(env,
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_MAX_ATTEMPTS=1",
		"AWS_PAGER=",
	)
	cli := &awsCLI{path: path, env: env, configFile: filepath.Join(dir, "config")}
	out, err := cli.command(context.Background(), "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("aws --version: %v\n%s", err, out)
	}
	cli.v2 = bytes.HasPrefix(out, []byte("aws-cli/2."))
	t.Logf("using %s: %s", path, bytes.TrimSpace(out))
	return cli
}

func (a *awsCLI) command(ctx context.Context, args ...string) *exec.Cmd {
	args = append(slices.Clip(args), "--output", "json")
	if a.endpoint != "" {
		args = append(args, "--endpoint-url", a.endpoint)
	}
	cmd := exec.CommandContext(ctx, a.path, args...)
	cmd.Env = a.env
	return cmd
}

// run runs the CLI, fails the test unless it succeeds, and decodes its JSON
// output into out (unless out is nil).
func (a *awsCLI) run(ctx context.Context, t *testing.T, out any, args ...string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := a.command(ctx, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("aws %s: %v\nstderr: %s", strings.Join(args, " "), err, stderr.String())
	}
	if out != nil {
		if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
			t.Fatalf("aws %s: decode output: %v\n%s", strings.Join(args, " "), err, stdout.String())
		}
	}
}

// runFailing runs the CLI and returns its stderr and exit error.
func (a *awsCLI) runFailing(ctx context.Context, t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stderr bytes.Buffer
	cmd := a.command(ctx, args...)
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("aws %s: %v", strings.Join(args, " "), err)
	}
	return stderr.String(), err
}

// TestSpateCLI drives the server with spate's own client commands over gRPC.
func TestSpateCLI(t *testing.T) {
	k := newKin(t)
	ctx := testCtx(t)
	stream := uniqueName(t)
	spate := spateCLI(ctx, t, k.srv.GRPCAddr)

	spate("", "stream", "create", stream, "--shards", "2")
	k.waitActive(ctx, t, stream)
	if out := spate("", "stream", "describe", stream); !strings.Contains(out, stream) || !strings.Contains(out, "shardId-000000000001") {
		t.Errorf("stream describe output does not show the stream and its 2 shards:\n%s", out)
	}
	if out := spate("", "stream", "list"); !strings.Contains(out, stream) {
		t.Errorf("stream list output does not show %s:\n%s", stream, out)
	}

	want := []string{"from-argument"}
	spate("", "put", stream, "from-argument")
	lines := []string{"line one", "line two", "line three", "line four"}
	spate(strings.Join(lines, "\n")+"\n", "put", stream)
	want = append(want, lines...)

	// Every record is stored as sent.
	var stored []string
	for _, recs := range k.readAll(ctx, t, stream) {
		stored = append(stored, recordData(recs)...)
	}
	if !sameElements(stored, want) {
		t.Errorf("stored records %q, want %q", stored, want)
	}

	// tail from the trim horizon prints every record; it runs until
	// cancelled, so read until all have shown up, then stop it.
	sc, stopTail, tailErr := startTail(ctx, t, nil, "--grpc-addr", k.srv.GRPCAddr, "tail", stream, "--from", "trim-horizon")
	pending := slices.Clone(want)
	var printed []string
	for len(pending) > 0 && sc.Scan() {
		line := sc.Text()
		printed = append(printed, line)
		pending = slices.DeleteFunc(pending, func(w string) bool { return strings.Contains(line, w) })
	}
	stopTail()
	if len(pending) > 0 {
		t.Errorf("spate tail printed %q and ended without %q; stderr: %s", printed, pending, tailErr.String())
	}

	spate("", "stream", "delete", stream)
	k.waitGone(ctx, t, stream)
}

// startTail starts `spate ARGS...` (a tail: it runs until stopped) with env
// added to this process's environment, and returns a scanner over its
// standard output, a stop function that kills it and waits for it (safe to
// call twice; also called when the test ends), and its standard error.
func startTail(ctx context.Context, t *testing.T, env []string, args ...string) (*bufio.Scanner, func(), *bytes.Buffer) {
	t.Helper()
	tailCtx, cancel := context.WithCancel(ctx)
	tail := exec.CommandContext(tailCtx, spateBin, args...)
	if env != nil {
		tail.Env = env
	}
	var stderr bytes.Buffer
	tail.Stderr = &stderr
	stdout, err := tail.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := tail.Start(); err != nil {
		cancel()
		t.Fatalf("start spate %s: %v", strings.Join(args, " "), err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			_ = tail.Wait() // killed by the cancel
		})
	}
	t.Cleanup(stop)
	return bufio.NewScanner(stdout), stop, &stderr
}

// sameElements reports whether a and b hold the same strings, in any order.
func sameElements(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
