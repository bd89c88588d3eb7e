package integration

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// TestConsoleSQL: in chromium, the SQL console creates the demo stream
// (fed by the server, POST /v1/demo), proposes its schema, validates every
// template against it, marks a deliberate error at its line, runs the
// tumbling query with rows arriving live, and deploys it to a new output
// stream; the application is RUNNING in the list. Then, with the browser
// gone, aws-sdk-go-v2 reads the tumbling rows from the output stream and
// sees the demo stream still growing.
func TestConsoleSQL(t *testing.T) {
	b := findConsoleBrowser(t)
	k := newKin(t)
	ctx := testCtx(t)
	const demo, output, app = "ticker", "ticker_bars", "bars"
	logs := b.run(t, k.srv, "sql.spec.js", "SPEC_DEMO="+demo, "SPEC_OUTPUT="+output, "SPEC_APP="+app)

	var templates []string
	deployed := false
	for _, l := range logs {
		if id, ok := l["template"].(string); ok {
			templates = append(templates, id)
		}
		if l["deployed"] == app {
			deployed = true
		}
	}
	if want := []string{"filter", "tumbling", "sliding", "session", "topk", "distinct"}; !slices.Equal(templates, want) {
		t.Errorf("the server accepted templates %v, want every one of %v", templates, want)
	}
	if !deployed {
		t.Fatalf("the spec did not reach the deployed application: %v", logs)
	}

	// The deployed application's rows, read from its output stream.
	var rows []map[string]any
	for len(rows) == 0 {
		for _, recs := range k.readAll(ctx, t, output) {
			for _, r := range recs {
				var row map[string]any
				if err := json.Unmarshal(r.Data, &row); err != nil {
					t.Fatalf("output record %q is not a JSON object: %v", r.Data, err)
				}
				rows = append(rows, row)
			}
		}
		if len(rows) == 0 {
			if ctx.Err() != nil {
				t.Fatal("no result row in the output stream")
			}
			time.Sleep(200 * time.Millisecond) // wait for a window to fire: progress, not an assertion
		}
	}
	for _, row := range rows {
		ws, _ := row["window_start"].(string)
		ts, err := time.Parse(time.RFC3339Nano, ws)
		if _, ok := row["ticker_symbol"].(string); !ok || err != nil || ts.Second()%10 != 0 || ts.Nanosecond() != 0 {
			t.Fatalf("output row %v is not a 10-second tumbling row of a ticker", row)
		}
		if n, _ := row["records"].(float64); n < 1 {
			t.Fatalf("output row %v counts no records", row)
		}
		if _, ok := row["avg_price"].(float64); !ok {
			t.Fatalf("output row %v has no avg_price", row)
		}
	}

	// The application is RUNNING, reading the demo stream; Run's temporary
	// application is gone.
	var list struct {
		Applications []struct {
			Name, Status, Source, Target string
			Temporary                    bool
		}
	}
	getJSON(t, k.srv.Endpoint()+"/v1/applications", &list)
	if len(list.Applications) != 1 {
		t.Fatalf("applications = %+v, want only %s", list.Applications, app)
	}
	if a := list.Applications[0]; a.Name != app || a.Status != "RUNNING" || a.Source != demo || a.Target != output || a.Temporary {
		t.Fatalf("application = %+v", a)
	}

	// The demo stream keeps growing with no browser: the server produces.
	count := func() int {
		n := 0
		for _, recs := range k.readAll(ctx, t, demo) {
			n += len(recs)
		}
		return n
	}
	before := count()
	for count() <= before {
		if ctx.Err() != nil {
			t.Fatal("the demo stream stopped growing when the browser left")
		}
		time.Sleep(200 * time.Millisecond)
	}
	var producers struct {
		Producers []struct {
			Stream string
			Rate   int
		}
	}
	getJSON(t, k.srv.Endpoint()+"/v1/demo", &producers)
	if len(producers.Producers) != 1 || producers.Producers[0].Stream != demo {
		t.Fatalf("GET /v1/demo = %+v, want the producer of %s", producers, demo)
	}
	// Deleting the stream ends its producer.
	if _, err := k.c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(demo), EnforceConsumerDeletion: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	for {
		getJSON(t, k.srv.Endpoint()+"/v1/demo", &producers)
		if len(producers.Producers) == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the producer outlived its stream: %+v", producers)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// getJSON GETs url (unsigned) and decodes its JSON reply into v.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// TestConsoleSQLTemplates: the SQL console's templates module, run by
// node outside the browser, fills every template for several proposed
// schemas and stream names, and the server's POST /v1/validate accepts
// each as a bare SELECT and as Deploy's INSERT INTO.
func TestConsoleSQLTemplates(t *testing.T) {
	n := findNodeClients(t)
	s := startServer(t)
	cmd := exec.CommandContext(testCtx(t), n.node, filepath.Join(filepath.Dir(n.scripts), "browser", "sql_templates.mjs"))
	cmd.Env = append(os.Environ(), "SPATE_URL="+s.Endpoint())
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := errors.AsType[*exec.ExitError](err); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("sql_templates.mjs: %v\n%s\n%s", err, stderr, out)
	}
	// 3 stream names x 6 schemas x 6 templates, then the insertInto cases.
	if lines := strings.Count(string(out), "\n"); lines != 3*6*6+1 {
		t.Fatalf("sql_templates.mjs checked %d scripts, want %d:\n%s", lines, 3*6*6+1, out)
	}
}

// TestAuthDemoProducer: with --credentials, POST /v1/demo is a PutRecords
// on its stream (and a CreateStream when the stream is new), through the
// real SigV4 check and policies: the writer profile, allowed only
// kinesis:PutRecord* on w-* streams, may feed an existing w-* stream but
// neither create one nor feed another.
func TestAuthDemoProducer(t *testing.T) {
	s := startAuthServer(t)
	ctx := testCtx(t)
	admin := &kin{srv: s.server, c: s.kinesisAs(t, "AKIDADMIN", "admin-secret")}
	w, other := "w-"+uniqueName(t), "x-"+uniqueName(t)
	for _, name := range []string{w, other} {
		admin.create(ctx, t, name, 1)
	}
	base := s.Endpoint() + "/v1/demo"
	cases := []struct {
		name, method, url, body, id, secret string
		status                              int
		code                                string
	}{
		{"unsigned", "POST", base, `{"stream":"` + w + `"}`, "", "", 403, "MissingAuthenticationTokenException"},
		{"writer feeds its stream", "POST", base, `{"stream":"` + w + `"}`, "AKIDWRITER", "writer-secret", 201, ""},
		{"writer may not feed another", "POST", base, `{"stream":"` + other + `"}`, "AKIDWRITER", "writer-secret", 403, "AccessDeniedException"},
		{"writer may not create a stream", "POST", base, `{"stream":"w-new"}`, "AKIDWRITER", "writer-secret", 403, "AccessDeniedException"},
		{"reader lists", "GET", base, "", "AKIDREADER", "reader-secret", 200, ""},
		{"reader may not stop", "DELETE", base + "/" + w, "", "AKIDREADER", "reader-secret", 403, "AccessDeniedException"},
		{"writer stops", "DELETE", base + "/" + w, "", "AKIDWRITER", "writer-secret", 204, ""},
		{"admin creates", "POST", base, `{"stream":"w-new"}`, "AKIDADMIN", "admin-secret", 201, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, code := signedHTTP(ctx, t, c.method, c.url, c.body, c.id, c.secret)
			if status != c.status || code != c.code {
				t.Errorf("%s %s %s = %d %s, want %d %s", c.method, c.url, c.body, status, code, c.status, c.code)
			}
		})
	}
	// Only the admin's stream was created, and its producer fills it.
	names := admin.streamNames(ctx, t)
	if !slices.Contains(names, "w-new") || len(names) != 3 {
		t.Fatalf("streams = %v, want %s, %s and w-new", names, w, other)
	}
	for len(admin.readAll(ctx, t, "w-new")["shardId-000000000000"]) == 0 {
		if ctx.Err() != nil {
			t.Fatal("the admin's demo producer put nothing")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
