package integration

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// lambdaActions are the Lambda API's actions Spate serves.
var lambdaActions = []string{
	"CreateFunction", "GetFunction", "GetFunctionConfiguration", "ListFunctions", "UpdateFunctionCode",
	"UpdateFunctionConfiguration", "DeleteFunction", "Invoke", "InvokeAsync", "PutFunctionConcurrency",
	"GetFunctionConcurrency", "DeleteFunctionConcurrency", "TagResource", "UntagResource", "ListTags",
	"GetAccountSettings", "CreateEventSourceMapping", "GetEventSourceMapping", "ListEventSourceMappings",
	"UpdateEventSourceMapping", "DeleteEventSourceMapping",
}

// TestAWSCLILambdaActions drives the Lambda API's function actions over
// `aws lambda` in one table, with the CLI's default settings (only
// --endpoint-url, a region and dummy credentials): create from a zip
// (--zip-file fileb://), read, update, concurrency, tags, delete.
func TestAWSCLILambdaActions(t *testing.T) {
	t.Parallel()
	cli := newAWSCLI(t)
	s := startServer(t)
	cli.endpoint = s.Endpoint()
	ctx := cliTableCtx(t)
	fixed := func(args ...string) func() []string { return func() []string { return args } }
	dir := t.TempDir()
	zip1, zip2 := filepath.Join(dir, "v1.zip"), filepath.Join(dir, "v2.zip")
	for path, version := range map[string]string{zip1: "v1", zip2: "v2"} {
		if err := os.WriteFile(path, lambdaZip(t, version), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	const name = "cli-fn"
	arn := "arn:aws:lambda:us-east-1:000000000000:function:" + name
	fn := fixed("--function-name", name)
	var revision string
	k := &kin{srv: s, c: s.Kinesis(t)}
	src1, src2 := "cli-src1", "cli-src2"
	k.create(ctx, t, src1, 1)
	k.create(ctx, t, src2, 1)
	arn1, arn2 := k.summary(ctx, t, src1).StreamARN, k.summary(ctx, t, src2).StreamARN
	var uuid1, uuid2 string
	lc := s.Lambda(t)
	steps := []cliStep{
		{action: "CreateFunction", args: fixed("--function-name", name, "--runtime", "provided.al2023", "--role", lambdaRole,
			"--handler", "bootstrap", "--zip-file", "fileb://"+zip1, "--tags", "team=streams",
			"--environment", "Variables={GREETING=hi}"),
			check: func(t *testing.T, out map[string]any) {
				jwant(t, out, "Active", "State")
				jwant(t, out, arn, "FunctionArn")
				revision = jstr(out, "RevisionId")
			}},
		{action: "CreateFunction", args: fixed("--function-name", name, "--runtime", "provided.al2023", "--role", lambdaRole,
			"--zip-file", "fileb://"+zip1), err: "ResourceConflictException"},
		{action: "CreateFunction", args: fixed("--function-name", "cli-py", "--runtime", "python3.12", "--role", lambdaRole,
			"--zip-file", "fileb://"+zip1), err: "InvalidParameterValueException"},
		{action: "GetFunction", args: fixed("--function-name", arn), check: func(t *testing.T, out map[string]any) {
			jwant(t, out, "hi", "Configuration", "Environment", "Variables", "GREETING")
			jwant(t, out, map[string]any{"team": "streams"}, "Tags")
		}},
		{action: "GetFunction", args: fixed("--function-name", "cli-none"), err: "ResourceNotFoundException"},
		{action: "GetFunctionConfiguration", args: fn, check: func(t *testing.T, out map[string]any) {
			jwant(t, out, "$LATEST", "Version")
		}},
		{action: "ListFunctions", args: fixed(), check: func(t *testing.T, out map[string]any) {
			jwant(t, out, name, "Functions", "0", "FunctionName")
		}},
		{action: "UpdateFunctionConfiguration", args: func() []string {
			return []string{"--function-name", name, "--timeout", "30", "--memory-size", "512", "--revision-id", revision}
		}, check: func(t *testing.T, out map[string]any) {
			jwant(t, out, 30, "Timeout")
			jwant(t, out, 512, "MemorySize")
		}},
		{action: "UpdateFunctionCode", args: func() []string {
			return []string{"--function-name", name, "--zip-file", "fileb://" + zip2, "--revision-id", revision}
		}, err: "PreconditionFailedException"},
		{action: "UpdateFunctionCode", args: fixed("--function-name", name, "--s3-bucket", "code", "--s3-key", "fn.zip"),
			err: "InvalidParameterValueException"},
		{action: "UpdateFunctionCode", args: fixed("--function-name", name, "--zip-file", "fileb://"+zip2),
			check: func(t *testing.T, out map[string]any) {
				if jstr(out, "RevisionId") == revision {
					t.Error("RevisionId unchanged by update-function-code")
				}
			}},
		{action: "PutFunctionConcurrency", args: fixed("--function-name", name, "--reserved-concurrent-executions", "3"),
			check: func(t *testing.T, out map[string]any) { jwant(t, out, 3, "ReservedConcurrentExecutions") }},
		{action: "GetFunctionConcurrency", args: fn,
			check: func(t *testing.T, out map[string]any) { jwant(t, out, 3, "ReservedConcurrentExecutions") }},
		{action: "DeleteFunctionConcurrency", args: fn},
		{action: "TagResource", args: fixed("--resource", arn, "--tags", "env=dev")},
		{action: "UntagResource", args: fixed("--resource", arn, "--tag-keys", "team")},
		{action: "ListTags", args: fixed("--resource", arn),
			check: func(t *testing.T, out map[string]any) { jwant(t, out, map[string]any{"env": "dev"}, "Tags") }},
		{action: "GetAccountSettings", args: fixed(), check: func(t *testing.T, out map[string]any) {
			jwant(t, out, 1, "AccountUsage", "FunctionCount")
		}},
		{action: "Invoke", args: fixed("--function-name", name, "--invocation-type", "DryRun", filepath.Join(dir, "out.json")),
			check: func(t *testing.T, out map[string]any) { jwant(t, out, 204, "StatusCode") }},
		{action: "Invoke", args: fixed("--function-name", "cli-none", filepath.Join(dir, "out.json")), err: "ResourceNotFoundException"},
		{action: "InvokeAsync", args: fixed("--function-name", "cli-none", "--invoke-args", zip1), err: "ResourceNotFoundException"},
		{action: "CreateEventSourceMapping", args: fixed("--function-name", name, "--event-source-arn", *arn1,
			"--starting-position", "TRIM_HORIZON", "--batch-size", "50", "--tags", "team=streams"),
			check: func(t *testing.T, out map[string]any) {
				uuid1 = jstr(out, "UUID")
				jwant(t, out, "Creating", "State")
				jwant(t, out, 50, "BatchSize")
				jwant(t, out, arn, "FunctionArn")
				jwant(t, out, *arn1, "EventSourceArn")
				jwant(t, out, "TRIM_HORIZON", "StartingPosition")
				jwant(t, out, "arn:aws:lambda:us-east-1:000000000000:event-source-mapping:"+uuid1, "EventSourceMappingArn")
			}, after: func(t *testing.T) { waitMapping(ctx, t, lc, uuid1, "Enabled") }},
		{action: "CreateEventSourceMapping", args: fixed("--function-name", name, "--event-source-arn", *arn1,
			"--starting-position", "LATEST"), err: "ResourceConflictException"},
		{action: "CreateEventSourceMapping", args: fixed("--function-name", name, "--event-source-arn", *arn2,
			"--starting-position", "LATEST", "--batch-size", "10001"), err: "InvalidParameterValueException"},
		{action: "CreateEventSourceMapping", args: fixed("--function-name", arn, "--event-source-arn", *arn2,
			"--starting-position", "LATEST", "--no-enabled"),
			check: func(t *testing.T, out map[string]any) {
				uuid2 = jstr(out, "UUID")
				jwant(t, out, 100, "BatchSize")
			}, after: func(t *testing.T) { waitMapping(ctx, t, lc, uuid2, "Disabled") }},
		{action: "GetEventSourceMapping", args: func() []string { return []string{"--uuid", uuid1} },
			check: func(t *testing.T, out map[string]any) {
				jwant(t, out, "Enabled", "State")
				jwant(t, out, 1, "ParallelizationFactor")
			}},
		{action: "GetEventSourceMapping", args: fixed("--uuid", "00000000-0000-4000-8000-000000000000"), err: "ResourceNotFoundException"},
		{action: "UpdateEventSourceMapping", args: func() []string { return []string{"--uuid", uuid1, "--batch-size", "10"} },
			check: func(t *testing.T, out map[string]any) {
				jwant(t, out, 10, "BatchSize")
				jwant(t, out, "Updating", "State")
			}, after: func(t *testing.T) { waitMapping(ctx, t, lc, uuid1, "Enabled") }},
		{action: "UpdateEventSourceMapping", args: func() []string { return []string{"--uuid", uuid1, "--batch-size", "10001"} },
			err: "InvalidParameterValueException"},
		// The CLI pages through all mappings one request at a time.
		{action: "ListEventSourceMappings", args: fixed("--function-name", name, "--page-size", "1"),
			check: func(t *testing.T, out map[string]any) {
				var got []string
				for i := range 3 {
					if u := jstr(out, "EventSourceMappings", strconv.Itoa(i), "UUID"); u != "" {
						got = append(got, u)
					}
				}
				slices.Sort(got)
				want := []string{uuid1, uuid2}
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("listed %q, want %q", got, want)
				}
			}},
		{action: "ListEventSourceMappings", args: fixed("--event-source-arn", *arn2),
			check: func(t *testing.T, out map[string]any) {
				jwant(t, out, uuid2, "EventSourceMappings", "0", "UUID")
				jwant(t, out, nil, "EventSourceMappings", "1")
			}},
		{action: "DeleteEventSourceMapping", args: func() []string { return []string{"--uuid", uuid1} },
			check: func(t *testing.T, out map[string]any) { jwant(t, out, "Deleting", "State") },
			after: func(t *testing.T) { waitMapping(ctx, t, lc, uuid1, "") }},
		{action: "DeleteEventSourceMapping", args: func() []string { return []string{"--uuid", uuid2} },
			after: func(t *testing.T) { waitMapping(ctx, t, lc, uuid2, "") }},
		{action: "GetEventSourceMapping", args: func() []string { return []string{"--uuid", uuid1} }, err: "ResourceNotFoundException"},
		{action: "DeleteEventSourceMapping", args: func() []string { return []string{"--uuid", uuid1} }, err: "ResourceNotFoundException"},
		{action: "DeleteFunction", args: fn},
		{action: "DeleteFunction", args: fn, err: "ResourceNotFoundException"},
	}
	cli.runTable(ctx, t, "lambda", steps, lambdaActions)
}

// waitMapping waits until the event source mapping uuid is in state (""
// : gone, GetEventSourceMapping answering ResourceNotFoundException).
func waitMapping(ctx context.Context, t *testing.T, lc *lambda.Client, uuid, state string) {
	t.Helper()
	for {
		out, err := lc.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(uuid)})
		switch {
		case state == "" && errorAs[*lambdatypes.ResourceNotFoundException](err):
			return
		case err != nil:
			t.Fatalf("get event source mapping %s: %v", uuid, err)
		case aws.ToString(out.State) == state:
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("mapping %s: still %s, want %q: %v", uuid, aws.ToString(out.State), state, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestSDKv3Lambda drives the Lambda API's function actions with
// @aws-sdk/client-lambda, default settings (js/sdk-v3/lambda.cjs), over
// HTTP and TLS.
func TestSDKv3Lambda(t *testing.T) {
	t.Parallel()
	testLambdaScript(t, sdkV3Script("lambda.cjs"))
}

// TestBoto3Lambda drives the Lambda API's function actions with boto3,
// default settings (py/lambda_boto3.py), over HTTP and TLS: exactly the
// actions Spate serves are "ok", the others of boto3's model "not served".
func TestBoto3Lambda(t *testing.T) {
	t.Parallel()
	testLambdaScript(t, boto3Script("lambda_boto3.py"))
}

// testLambdaScript runs a Lambda client script over HTTP and TLS, each
// against a server of its own: exactly the actions Spate serves are "ok",
// the others of the client "not served".
func testLambdaScript(t *testing.T, run scriptRunner) {
	eachTransport(t, func(t *testing.T, tr clientTransport) {
		s := startServer(t, tr.opts...)
		rep := run(t, tr, tr.endpoint(s), uniqueName(t))
		for a, status := range rep.Actions {
			want := "not served"
			if slices.Contains(lambdaActions, a) {
				want = "ok"
			}
			if status != want {
				t.Errorf("%s: %s is %q, want %q", rep.Client, a, status, want)
			}
		}
		for _, a := range lambdaActions {
			if _, ok := rep.Actions[a]; !ok {
				t.Errorf("%s: the report has no %s", rep.Client, a)
			}
		}
		t.Logf("%s: %d actions, %d served", rep.Client, len(rep.Actions), len(lambdaActions))
	})
}
