package integration

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// lambdaRole is the role every test function names: Spate keeps it and
// does not assume it.
const lambdaRole = "arn:aws:iam::000000000000:role/spate-test"

// lambdaZip is a function zip with an executable bootstrap and a data
// file; its content varies with version.
func lambdaZip(t *testing.T, version string) []byte {
	t.Helper()
	return bootstrapZip(t, []byte("#!/bin/sh\necho "+version+"\n"), map[string]string{"data/version.txt": version})
}

// Lambda returns an aws-sdk-go-v2 Lambda client for the server with
// default settings but for the endpoint, region and static credentials.
func (s *server) Lambda(t *testing.T) *lambda.Client {
	t.Helper()
	return lambda.New(lambda.Options{
		BaseEndpoint: aws.String(s.Endpoint()),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

// TestLambdaSDK drives the Lambda API's function actions with
// aws-sdk-go-v2's lambda client, checks the errors decode to the client's
// typed exceptions, and that functions and their code survive a restart.
func TestLambdaSDK(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Lambda(t)
	ctx := testCtx(t)

	created, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("sdk-fn"), Runtime: types.RuntimeProvidedal2023, Role: aws.String(lambdaRole),
		Handler: aws.String("bootstrap"), Code: &types.FunctionCode{ZipFile: lambdaZip(t, "v1")},
		Environment: &types.Environment{Variables: map[string]string{"GREETING": "hi"}},
		Tags:        map[string]string{"team": "streams"}, Timeout: aws.Int32(10), MemorySize: aws.Int32(256),
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.State != types.StateActive || created.LastUpdateStatus != types.LastUpdateStatusSuccessful ||
		aws.ToString(created.Version) != "$LATEST" || aws.ToInt32(created.Timeout) != 10 || created.CodeSize == 0 {
		t.Fatalf("created %+v", created)
	}
	arn := aws.ToString(created.FunctionArn)
	if arn != "arn:aws:lambda:us-east-1:000000000000:function:sdk-fn" {
		t.Fatalf("ARN %s", arn)
	}
	// The SDK's waiter sees it Active.
	if err := lambda.NewFunctionActiveV2Waiter(c).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(arn)}, testTimeout); err != nil {
		t.Fatal(err)
	}

	var exists *types.ResourceConflictException
	_, err = c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("sdk-fn"), Runtime: types.RuntimeProvidedal2023,
		Role: aws.String(lambdaRole), Code: &types.FunctionCode{ZipFile: lambdaZip(t, "v1")}})
	if !errors.As(err, &exists) {
		t.Fatalf("second create: %v, want ResourceConflictException", err)
	}
	var bad *types.InvalidParameterValueException
	_, err = c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("sdk-py"), Runtime: types.RuntimePython312,
		Role: aws.String(lambdaRole), Code: &types.FunctionCode{ZipFile: lambdaZip(t, "v1")}})
	if !errors.As(err, &bad) || !strings.Contains(aws.ToString(bad.Message), "provided.al2023") {
		t.Fatalf("python runtime: %v, want InvalidParameterValueException naming the runtimes", err)
	}

	cfg, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("sdk-fn"),
		Description: aws.String("updated"), RevisionId: created.RevisionId})
	if err != nil || aws.ToString(cfg.Description) != "updated" || aws.ToString(cfg.RevisionId) == aws.ToString(created.RevisionId) {
		t.Fatalf("update configuration: %+v %v", cfg, err)
	}
	var stale *types.PreconditionFailedException
	_, err = c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("sdk-fn"),
		ZipFile: lambdaZip(t, "v2"), RevisionId: created.RevisionId})
	if !errors.As(err, &stale) {
		t.Fatalf("stale RevisionId: %v, want PreconditionFailedException", err)
	}
	code, err := c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("sdk-fn"),
		ZipFile: lambdaZip(t, "v2"), RevisionId: cfg.RevisionId})
	if err != nil || aws.ToString(code.CodeSha256) == aws.ToString(created.CodeSha256) {
		t.Fatalf("update code: %+v %v", code, err)
	}
	if _, err := c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("sdk-fn"),
		ReservedConcurrentExecutions: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TagResource(ctx, &lambda.TagResourceInput{Resource: aws.String(arn), Tags: map[string]string{"env": "dev"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &lambda.UntagResourceInput{Resource: aws.String(arn), TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}

	// Functions, their settings and code survive a restart.
	s.Restart(t)
	c = s.Lambda(t) // a new port
	got, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("sdk-fn")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Configuration.CodeSha256) != aws.ToString(code.CodeSha256) || aws.ToString(got.Configuration.Description) != "updated" ||
		got.Configuration.Environment.Variables["GREETING"] != "hi" || aws.ToInt32(got.Concurrency.ReservedConcurrentExecutions) != 2 ||
		len(got.Tags) != 1 || got.Tags["env"] != "dev" {
		t.Fatalf("after restart: %+v %+v %+v", got.Configuration, got.Concurrency, got.Tags)
	}
	unzipped, err := filepath.Glob(filepath.Join(s.DataDir, "functions", "sdk-fn", "*", "data", "version.txt"))
	if err != nil || len(unzipped) != 1 {
		t.Fatalf("unzipped code: %v %v", unzipped, err)
	}
	if b, _ := os.ReadFile(unzipped[0]); string(b) != "v2" {
		t.Fatalf("unzipped code is %q, want v2", b)
	}

	// Pages of ListFunctions with the SDK's paginator.
	for _, n := range []string{"sdk-a", "sdk-b", "sdk-c"} {
		if _, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(n), Runtime: types.RuntimeProvidedal2,
			Role: aws.String(lambdaRole), Code: &types.FunctionCode{ZipFile: lambdaZip(t, n)}}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	pages := lambda.NewListFunctionsPaginator(c, &lambda.ListFunctionsInput{MaxItems: aws.Int32(2)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range page.Functions {
			names = append(names, aws.ToString(f.FunctionName))
		}
	}
	if strings.Join(names, ",") != "sdk-a,sdk-b,sdk-c,sdk-fn" {
		t.Fatalf("listed %v", names)
	}
	acct, err := c.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
	if err != nil || acct.AccountUsage.FunctionCount != 4 {
		t.Fatalf("account settings: %+v %v", acct, err)
	}
	dry, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("sdk-fn"), InvocationType: types.InvocationTypeDryRun})
	if err != nil || dry.StatusCode != http.StatusNoContent {
		t.Fatalf("dry run: %+v %v", dry, err)
	}

	if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	var missing *types.ResourceNotFoundException
	if _, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("sdk-fn")}); !errors.As(err, &missing) {
		t.Fatalf("after delete: %v, want ResourceNotFoundException", err)
	}
	if left, _ := filepath.Glob(filepath.Join(s.DataDir, "functions", "sdk-fn", "*")); len(left) != 0 {
		t.Fatalf("code left after delete: %v", left)
	}
}
