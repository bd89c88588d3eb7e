package integration

import (
	"crypto/sha256"
	"encoding/base64"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestConsoleFunctions: the Functions pages in chromium. The test creates
// a function from examples/function with the SDK (its handler appends each
// record to OUTPUT_FILE) and a stream holding records; the page lists it,
// uploads a second function's zip from a file input (and deletes it
// again), shows the first's configuration with its environment variables'
// names but not their values, runs a test invoke that returns the
// handler's answer and log, maps the stream to the function (and a second
// stream, deleted again from the page), disables and enables the mapping,
// and sees the mapping process records. Then the uploaded function's page
// must have shown the zip's SHA-256 and the SDK must not find it; the SDK
// must find exactly the one mapping, Enabled; the handler's output must
// hold the test invoke's record and every record of the stream; and
// /metrics must count the function's invocations and the mapping's
// iterator age.
func TestConsoleFunctions(t *testing.T) {
	b := findConsoleBrowser(t)
	zip := exampleZip(t, "function")
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "function.zip")
	if err := os.WriteFile(zipPath, zip, 0o644); err != nil {
		t.Fatal(err)
	}
	outFile := filepath.Join(dir, "out.jsonl")
	const secret = "do-not-show-this-value"

	k := newKin(t)
	s := k.srv
	ctx := testCtx(t)
	lc := lambda.New(lambda.Options{BaseEndpoint: aws.String(s.Endpoint()), Region: "us-east-1"})
	_, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("console-fn"), Runtime: lambdatypes.RuntimeProvidedal2023, Role: aws.String(lambdaRole),
		Handler: aws.String("bootstrap"), Code: &lambdatypes.FunctionCode{ZipFile: zip},
		Environment: &lambdatypes.Environment{Variables: map[string]string{"OUTPUT_FILE": outFile, "API_TOKEN": secret}},
	})
	if err != nil {
		t.Fatalf("create function: %v", err)
	}
	k.create(ctx, t, "console-fn-in", 2)
	k.create(ctx, t, "console-fn-other", 1)
	want := map[string]bool{}
	for i := range 6 {
		data := `{"order":` + strconv.Itoa(i) + `}`
		k.put(ctx, t, "console-fn-in", "key-"+strconv.Itoa(i), []byte(data))
		want[data] = true
	}

	env := []string{"SPEC_ZIP=" + zipPath, "SPEC_SECRET_VALUE=" + secret, "SPEC_RECORDS=" + strconv.Itoa(len(want))}
	lines := b.run(t, s, "functions.spec.js", env...)

	// The page showed the SHA-256 of the zip it read from disk, then
	// deleted the function.
	sum := sha256.Sum256(zip)
	if len(lines) != 1 || lines[0]["uploadedSha256"] != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Errorf("the uploaded function's CodeSha256 on the page: %v, want the zip's", lines)
	}
	_, err = lc.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("console-upload")})
	if !errorAs[*lambdatypes.ResourceNotFoundException](err) {
		t.Errorf("GetFunction console-upload after the page deleted it: %v, want ResourceNotFoundException", err)
	}
	// One mapping: the page deleted the other, and left this one Enabled.
	maps, err := lc.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String("console-fn")})
	if err != nil {
		t.Fatal(err)
	}
	if len(maps.EventSourceMappings) != 1 {
		t.Fatalf("mappings: %d, want 1 (the page deletes the second)", len(maps.EventSourceMappings))
	}
	m := maps.EventSourceMappings[0]
	if arn := aws.ToString(m.EventSourceArn); filepath.Base(arn) != "console-fn-in" || aws.ToString(m.State) != "Enabled" ||
		aws.ToInt32(m.BatchSize) != 10 || m.StartingPosition != lambdatypes.EventSourcePositionTrimHorizon {
		t.Fatalf("mapping: %s %s batch %d from %s", arn, aws.ToString(m.State), aws.ToInt32(m.BatchSize), m.StartingPosition)
	}
	// The handler ran: the test invoke's record and the stream's (the
	// page saw one batch succeed; the other shard's may still be running).
	uuid := aws.ToString(m.UUID)
	var output map[string]bool
	waitUntil(ctx, t, "the handler's output holds every record", func() bool {
		output = map[string]bool{}
		for _, l := range readOutputFile(t, outFile) {
			output[l.Data] = true
		}
		for d := range want {
			if !output[d] {
				return false
			}
		}
		return true
	})
	if !output[`{"hello":"console"}`] {
		t.Errorf("the test invoke's record is not in the handler's output: %v", output)
	}
	var series map[string]string
	waitUntil(ctx, t, "/metrics counts the test invoke and a batch", func() bool {
		series = scrapeMetrics(ctx, t, s)
		n, _ := strconv.ParseFloat(series[`spate_function_invocations_total{function="console-fn"}`], 64)
		return n >= 2
	})
	age := 0
	for name := range series {
		if strings.HasPrefix(name, `spate_esm_iterator_age_milliseconds{mapping="`+uuid+`"`) {
			age++
		}
	}
	if age == 0 {
		t.Errorf("no spate_esm_iterator_age_milliseconds series of mapping %s", uuid)
	}
}
