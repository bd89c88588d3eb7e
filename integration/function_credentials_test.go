package integration

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestFunctionProfileKeys runs examples/function on a server with
// --credentials and --function-profile writer: the handler writes its
// output (OUTPUT_STREAM) through the SDK with the keys it was given, and
// the writer's policy (put to w-* only) applies to it, so an output
// stream outside w-* is refused and the invocation fails.
func TestFunctionProfileKeys(t *testing.T) {
	t.Parallel()
	zip := exampleZip(t, "function")
	s := startAuthServerWith(t, authCredentials, authPolicies, withArgs("--function-profile", "writer"))
	ctx := testCtx(t)
	admin := &kin{srv: s.server, c: s.kinesisAs(t, "AKIDADMIN", "admin-secret")}
	admin.create(ctx, t, "w-out", 1)
	admin.create(ctx, t, "secret-out", 1)
	lc := lambda.New(lambda.Options{
		BaseEndpoint: aws.String(s.Endpoint()), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDADMIN", "admin-secret", ""),
	})
	event, err := json.Marshal(map[string]any{"Records": []map[string]any{{
		"eventSource": "aws:kinesis", "eventID": "shardId-000000000000:1",
		"kinesis": map[string]any{"partitionKey": "pk", "data": "aGVsbG8=", "sequenceNumber": "1", "kinesisSchemaVersion": "1.0"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, output string
		allowed      bool
	}{{"fn-allowed", "w-out", true}, {"fn-denied", "secret-out", false}} {
		_, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{
			FunctionName: aws.String(tc.name), Runtime: lambdatypes.RuntimeProvidedal2023, Role: aws.String(lambdaRole),
			Handler: aws.String("bootstrap"), Code: &lambdatypes.FunctionCode{ZipFile: zip},
			Environment: &lambdatypes.Environment{Variables: map[string]string{"OUTPUT_STREAM": tc.output}},
		})
		if err != nil {
			t.Fatalf("create %s: %v", tc.name, err)
		}
		out, err := lc.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(tc.name), Payload: event})
		if err != nil {
			t.Fatalf("invoke %s: %v", tc.name, err)
		}
		fnErr := aws.ToString(out.FunctionError)
		switch {
		case tc.allowed && fnErr != "":
			t.Fatalf("%s: the handler failed: %s %s", tc.name, fnErr, out.Payload)
		case !tc.allowed && (fnErr == "" || !strings.Contains(string(out.Payload), "AccessDenied")):
			t.Fatalf("%s: FunctionError %q, payload %s; want the writer's policy to refuse the put", tc.name, fnErr, out.Payload)
		}
	}
	got := admin.readAll(ctx, t, "w-out")
	var data []string
	for _, recs := range got {
		data = append(data, recordData(recs)...)
	}
	if len(data) != 1 || data[0] != "hello" {
		t.Fatalf("w-out holds %q; want the one record the handler wrote", data)
	}
	if n := len(admin.readAll(ctx, t, "secret-out")["shardId-000000000000"]); n != 0 {
		t.Fatalf("secret-out holds %d records; the policy should have refused them", n)
	}
}
