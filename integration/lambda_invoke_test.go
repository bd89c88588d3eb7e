package integration

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

// shellBootstrap is the Runtime API loop of AWS's custom-runtime tutorial,
// in sh and curl: it answers each event with the event and $GREETING.
const shellBootstrap = `#!/bin/sh
set -eu
while true; do
  HEADERS="$(mktemp)"
  EVENT=$(curl -sS -LD "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  echo "handling $REQUEST_ID"
  curl -sS -X POST "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/response" \
    -d "{\"event\":$EVENT,\"greeting\":\"$GREETING\"}" >/dev/null
done
`

func zipOf(t *testing.T, name, body string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	h := &zip.FileHeader{Name: name, Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte(body))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestLambdaInvoke invokes functions through the Lambda API with
// aws-sdk-go-v2: a provided.al2023 bootstrap (a shell Runtime API client)
// synchronously with its log tail, and a spate.http function whose
// endpoint is a server of the test, synchronously, failing, and as an
// Event.
func TestLambdaInvoke(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Lambda(t)
	ctx := testCtx(t)

	if _, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("sh-fn"), Runtime: types.RuntimeProvidedal2023,
		Role: aws.String(lambdaRole), Handler: aws.String("handler"), Code: &types.FunctionCode{ZipFile: zipOf(t, "bootstrap", shellBootstrap)},
		Environment: &types.Environment{Variables: map[string]string{"GREETING": "hello"}}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("sh-fn"), Payload: []byte(`{"n":1}`), LogType: types.LogTypeTail})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Event    map[string]int `json:"event"`
		Greeting string         `json:"greeting"`
	}
	if err := json.Unmarshal(out.Payload, &got); err != nil || got.Event["n"] != 1 || got.Greeting != "hello" {
		t.Fatalf("payload %s: %v", out.Payload, err)
	}
	logs, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if out.StatusCode != 200 || aws.ToString(out.ExecutedVersion) != "$LATEST" || out.FunctionError != nil || !strings.Contains(string(logs), "handling ") {
		t.Fatalf("invoke: status %d version %q error %v log %q", out.StatusCode, aws.ToString(out.ExecutedVersion), out.FunctionError, logs)
	}

	events := make(chan string, 10)
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if string(body) == `"fail"` {
			http.Error(w, "no", http.StatusInternalServerError)
			return
		}
		events <- string(body)
		_, _ = w.Write([]byte(`{"seen":` + string(body) + `}`))
	}))
	t.Cleanup(endpoint.Close)
	if _, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("http-fn"), Runtime: types.Runtime("spate.http"),
		Role: aws.String(lambdaRole), Code: &types.FunctionCode{},
		Environment: &types.Environment{Variables: map[string]string{"SPATE_ENDPOINT_URL": endpoint.URL + "/events"}}}); err != nil {
		t.Fatal(err)
	}
	out, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("http-fn"), Payload: []byte(`{"k":"v"}`)})
	if err != nil || string(out.Payload) != `{"seen":{"k":"v"}}` || out.FunctionError != nil {
		t.Fatalf("http invoke: %s %v", out.Payload, err)
	}
	<-events
	out, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("http-fn"), Payload: []byte(`"fail"`)})
	if err != nil || aws.ToString(out.FunctionError) != "Unhandled" {
		t.Fatalf("failing http invoke: %+v %v", out, err)
	}
	out, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("http-fn"), Payload: []byte(`{"async":true}`),
		InvocationType: types.InvocationTypeEvent})
	if err != nil || out.StatusCode != http.StatusAccepted {
		t.Fatalf("event invoke: %+v %v", out, err)
	}
	if ev := <-events; ev != `{"async":true}` {
		t.Fatalf("the endpoint got %s", ev)
	}

	// Reserved concurrency 0 throttles.
	if _, err := c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("http-fn"),
		ReservedConcurrentExecutions: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	throttled := lambda.New(c.Options(), func(o *lambda.Options) { o.RetryMaxAttempts = 1 })
	var tooMany *types.TooManyRequestsException
	if _, err := throttled.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("http-fn"), Payload: []byte(`{}`)}); !errors.As(err, &tooMany) {
		t.Fatalf("reserved 0: %v, want TooManyRequestsException", err)
	}
	var tooLarge *types.RequestTooLargeException
	big := []byte(`"` + strings.Repeat("x", 6<<20) + `"`)
	if _, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("sh-fn"), Payload: big}); !errors.As(err, &tooLarge) {
		t.Fatalf("7 MB payload: %v, want RequestTooLargeException", err)
	}
}

// TestLambdaAuth: with --credentials, the Lambda API wants SigV4 with the
// signing name lambda, and policies govern lambda:ACTION on the function.
func TestLambdaAuth(t *testing.T) {
	t.Parallel()
	s := startAuthServerWith(t, authCredentials, `{
  "admin": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
  "reader": {"Statement": [{"Effect": "Allow", "Action": ["lambda:Get*", "lambda:List*"], "Resource": "*"}]}
}`)
	ctx := testCtx(t)
	as := func(id, secret string) *lambda.Client {
		return lambda.New(lambda.Options{BaseEndpoint: aws.String(s.Endpoint()), Region: "us-east-1", RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")})
	}
	admin, reader := as("AKIDADMIN", "admin-secret"), as("AKIDREADER", "reader-secret")
	create := &lambda.CreateFunctionInput{FunctionName: aws.String("auth-fn"), Runtime: types.RuntimeProvidedal2023,
		Role: aws.String(lambdaRole), Code: &types.FunctionCode{ZipFile: lambdaZip(t, "v1")}}
	var apiErr smithy.APIError
	if _, err := reader.CreateFunction(ctx, create); !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("reader create: %v, want AccessDeniedException", err)
	}
	if _, err := admin.CreateFunction(ctx, create); err != nil {
		t.Fatal(err)
	}
	if _, err := reader.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("auth-fn")}); err != nil {
		t.Fatalf("reader get: %v", err)
	}
	if _, err := as("AKIDADMIN", "wrong").ListFunctions(ctx, &lambda.ListFunctionsInput{}); !errors.As(err, &apiErr) ||
		apiErr.ErrorCode() != "InvalidSignatureException" {
		t.Fatalf("wrong secret: %v, want InvalidSignatureException", err)
	}
	resp, err := http.Get(s.Endpoint() + "/2015-03-31/functions")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" {
		t.Fatalf("unsigned: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
}
