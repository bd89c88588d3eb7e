package esm

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/spatehq/spate/functions"
	"github.com/spatehq/spate/functions/runtime"
)

// The mappings run over the real function registry and executor: a
// spate.http function whose endpoint decodes events with aws-lambda-go and
// answers a ReportBatchItemFailures response.
func TestOverRegistryAndHTTPEndpoint(t *testing.T) {
	var mu sync.Mutex
	var got []string
	failed := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev events.KinesisEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		var resp events.KinesisEventResponse
		for _, rec := range ev.Records {
			d := string(rec.Kinesis.Data)
			if d == "flaky" && !failed {
				failed = true
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: rec.Kinesis.SequenceNumber})
				break
			}
			got = append(got, d)
		}
		_ = json.NewEncoder(w).Encode(resp)
	}))
	defer srv.Close()

	f := newFixture(t)
	exec := runtime.New()
	reg, err := functions.New(f.store, exec, functions.WithCodeDir(filepath.Join(t.TempDir(), "code")))
	if err != nil {
		t.Fatal(err)
	}
	// The mappings must stop before the registry: close them first.
	_ = f.svc.Close()
	f.svc, err = New(f.store, reg, f.opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.svc.Close(); reg.Close(); _ = exec.Close() })
	ctx := context.Background()
	if _, err := reg.CreateFunction(ctx, functions.CreateInput{FunctionName: "hook", Runtime: functions.RuntimeHTTP,
		Role: "arn:aws:iam::000000000000:role/lambda", Code: &functions.FunctionCode{},
		Environment: &functions.Environment{Variables: map[string]string{functions.EndpointVariable: srv.URL}}}); err != nil {
		t.Fatal(err)
	}
	arn := f.stream("src", 1)
	f.put("src", "a", "1", "a", "flaky", "a", "3")
	m := f.create(CreateInput{EventSourceArn: arn, FunctionName: "hook", StartingPosition: "TRIM_HORIZON",
		FunctionResponseTypes: []string{ReportBatchItemFailures}})
	if !strings.HasSuffix(m.FunctionArn, ":function:hook") {
		t.Fatalf("FunctionArn %s", m.FunctionArn)
	}
	eventually(t, "every record", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= 3
	})
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(got, ",") != "1,flaky,3" {
		t.Fatalf("the endpoint got %v; want 1,flaky,3 (resumed at the failed item)", got)
	}
}
