package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// skipPrometheusEnv names the variable that skips TestPrometheus on a
// machine without the Prometheus binaries. Without it, missing binaries fail
// the test, as a missing AWS CLI fails the CLI smoke test (cli_test.go):
// the shipped scrape configuration and dashboard must not go unchecked
// quietly.
const skipPrometheusEnv = "SPATE_SKIP_PROMETHEUS"

// promTools are the binaries scripts/prometheus-tools.sh installs into
// <module root>/.tools/prometheus.
type promTools struct {
	root       string // module root
	prometheus string
	promtool   string
}

func findPromTools(t *testing.T) promTools {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test; skipped with -short")
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, ".tools", "prometheus")
	p := promTools{root: root, prometheus: filepath.Join(dir, "prometheus"), promtool: filepath.Join(dir, "promtool")}
	for _, bin := range []string{p.prometheus, p.promtool} {
		if _, err := os.Stat(bin); err != nil {
			if os.Getenv(skipPrometheusEnv) != "" {
				t.Skipf("!!! the Prometheus and Grafana dashboard test did NOT run: %v and %s is set", err, skipPrometheusEnv)
			}
			t.Fatalf("this test needs Prometheus's binaries in %s: %v\n"+
				"Run scripts/prometheus-tools.sh (make test does), or set %s=1 to skip this test knowingly.", dir, err, skipPrometheusEnv)
		}
	}
	return p
}

// checkConfig runs `promtool check config` on path, failing the test unless
// promtool accepts it.
func (p promTools) checkConfig(ctx context.Context, t *testing.T, path string) {
	t.Helper()
	out, err := exec.CommandContext(ctx, p.promtool, "check", "config", path).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check config %s: %v; it printed:\n%s", path, err, out)
	}
}

// knownLintFindings is what `promtool check metrics` says of /metrics, sorted.
// The three gauges are in milliseconds, not Prometheus's base unit, because
// they are Kinesis's CloudWatch metrics IteratorAgeMilliseconds and
// MillisBehindLatest under their own unit (docs/metrics.md), and renaming
// them would break the dashboards and alerts built on them. Any other
// finding fails the test.
var knownLintFindings = []string{
	`spate_analytics_input_lag_milliseconds use base unit "seconds" instead of "milliseconds"`,
	`spate_shard_iterator_age_milliseconds use base unit "seconds" instead of "milliseconds"`,
	`spate_stream_iterator_age_milliseconds use base unit "seconds" instead of "milliseconds"`,
}

// lintMetrics runs `promtool check metrics` on the exposition text and
// returns its findings, one per line, sorted. promtool exits 3 when it has
// findings; any other failure fails the test.
func (p promTools) lintMetrics(ctx context.Context, t *testing.T, exposition []byte) []string {
	t.Helper()
	cmd := exec.CommandContext(ctx, p.promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 3) {
		t.Fatalf("promtool check metrics: %v; it printed:\n%s", err, out)
	}
	var findings []string
	for line := range strings.Lines(string(out)) {
		if line = strings.TrimSpace(line); line != "" {
			findings = append(findings, line)
		}
	}
	if (err == nil) != (len(findings) == 0) {
		t.Fatalf("promtool check metrics: %v, yet it printed:\n%s", err, out)
	}
	slices.Sort(findings)
	return findings
}

// The numbers of the test's activity, asserted back through Prometheus.
const (
	promRecords   = 20 // records put into the stream
	promShards    = 2
	promAppName   = "dashboard"
	rateInterval  = "1m" // for $__rate_interval, which Grafana makes at least 4 scrape intervals
	promScrapeInt = "1s"
)

// notProduced names the metrics the dashboard reads that this test's
// activity does not produce, and why. A dashboard expression may return no
// series only if it reads one of them; every other expression must return
// at least one.
var notProduced = map[string]string{
	// Firehose series are per delivery stream, and a delivery stream needs an
	// S3 (or Elasticsearch) server; firehose_test.go drives delivery against
	// real ones.
	"spate_firehose_incoming_records_total":  "no delivery stream",
	"spate_firehose_delivery_bytes_total":    "no delivery stream",
	"spate_firehose_data_freshness_seconds":  "no delivery stream",
	"spate_firehose_delivery_attempts_total": "no delivery stream",
	"spate_firehose_retries_total":           "no delivery stream",
}

// TestPrometheus checks docs/prometheus.yml and the Grafana dashboard
// (docs/grafana/spate-dashboard.json) against a real Prometheus scraping a
// real server: promtool accepts the configuration and finds nothing in
// /metrics but knownLintFindings, Prometheus scrapes the server with the
// shipped job and sees exactly the records put, and every PromQL expression
// of the dashboard evaluates, with data wherever the test's activity
// produced its metrics.
func TestPrometheus(t *testing.T) {
	t.Parallel()
	tools := findPromTools(t)
	ctx := testCtx(t)
	shipped := filepath.Join(tools.root, "docs", "prometheus.yml")
	tools.checkConfig(ctx, t, shipped)

	// Activity: a stream with every shard-level metric, records put and read
	// back, one failed request, and an Analytics application reading it.
	k := newKin(t)
	stream, out := uniqueName(t), uniqueName(t)
	if regexp.QuoteMeta(stream) != stream {
		t.Fatalf("stream name %q is not a literal regular expression; the dashboard matches it with =~", stream)
	}
	k.create(ctx, t, stream, promShards)
	k.create(ctx, t, out, 1)
	if _, err := k.c.EnableEnhancedMonitoring(ctx, &kinesis.EnableEnhancedMonitoringInput{
		StreamName: aws.String(stream), ShardLevelMetrics: []types.MetricsName{types.MetricsNameAll},
	}); err != nil {
		t.Fatalf("EnableEnhancedMonitoring(ALL): %v", err)
	}
	createApp(ctx, t, k.srv.Endpoint(), promAppName, fmt.Sprintf("INSERT INTO `%s` SELECT i FROM `%s`", out, stream))
	entries := make([]types.PutRecordsRequestEntry, promRecords)
	for i := range entries {
		entries[i] = types.PutRecordsRequestEntry{Data: fmt.Appendf(nil, `{"i":%d}`, i), PartitionKey: aws.String(fmt.Sprint("pk-", i))}
	}
	k.putRecords(ctx, t, stream, entries)
	if read := countRecords(k.readAll(ctx, t, stream)); read != promRecords { // GetRecords: the outgoing and iterator-age series
		t.Fatalf("GetRecords read %d records, want %d", read, promRecords)
	}
	_, err := k.c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(stream + "-missing")})
	wantAPIError(t, err, "ResourceNotFoundException") // the errors panel's series
	rowsIn := fmt.Sprintf(`spate_analytics_rows_in_total{application=%q}`, promAppName)
	pollUntil(ctx, t, "the Analytics application to read every record", func() (bool, string) {
		got := scrapeMetrics(ctx, t, k.srv)[rowsIn]
		return got == strconv.Itoa(promRecords), rowsIn + " = " + got
	})

	// promtool's lint of what the server exposes, every kind of series present.
	if got := tools.lintMetrics(ctx, t, fetchMetrics(ctx, t, k.srv)); !slices.Equal(got, knownLintFindings) {
		t.Errorf("promtool check metrics on /metrics found:\n%s\nwant exactly (see knownLintFindings):\n%s",
			strings.Join(got, "\n"), strings.Join(knownLintFindings, "\n"))
	}

	// Prometheus with the shipped job, pointed at this server.
	cfg := derivePromConfig(t, shipped, k.srv.HTTPAddr)
	tools.checkConfig(ctx, t, cfg)
	prom := startPrometheus(ctx, t, tools, cfg)
	prom.waitTarget(ctx, t, k.srv.HTTPAddr)
	// rate() needs two samples in its window.
	prom.pollValue(ctx, t, "two scrapes of the spate job", fmt.Sprintf(`count_over_time(up{job="spate"}[%s])`, rateInterval),
		func(v float64) bool { return v >= 2 })
	// A second batch between scrapes, so the rate panels show traffic, not
	// a flat line: Prometheus has already stored the first batch's counts.
	k.putRecords(ctx, t, stream, entries)
	read := k.readAll(ctx, t, stream)
	if got := countRecords(read); got != 2*promRecords {
		t.Fatalf("GetRecords read %d records after the second batch, want %d", got, 2*promRecords)
	}
	incoming := fmt.Sprintf(`sum(spate_shard_incoming_records_total{stream=%q})`, stream)
	both := func(v float64) bool { return v == 2*promRecords }
	prom.pollValue(ctx, t, "Prometheus to scrape the second batch", incoming, both)
	prom.pollValue(ctx, t, "Prometheus to see the application read the second batch", rowsIn, both)

	t.Run("IncomingRecords", func(t *testing.T) {
		sum := prom.mustQuery(ctx, t, incoming)
		if len(sum) != 1 || sum[0].value != 2*promRecords {
			t.Errorf("sum of spate_shard_incoming_records_total = %v, want one sample of %d", sum, 2*promRecords)
		}
		rate := prom.mustQuery(ctx, t, fmt.Sprintf(`sum(rate(spate_shard_incoming_records_total{stream=%q}[%s]))`, stream, rateInterval))
		if len(rate) != 1 || !(rate[0].value > 0) {
			t.Errorf("rate of spate_shard_incoming_records_total = %v, want one positive sample: the second batch came between scrapes", rate)
		}
		perShard := map[string]float64{}
		for _, s := range prom.mustQuery(ctx, t, fmt.Sprintf(`spate_shard_incoming_records_total{stream=%q}`, stream)) {
			perShard[s.metric["shard"]] = s.value
		}
		want := map[string]float64{}
		for i := range promShards {
			want[shardID(i)] = float64(len(read[shardID(i)]))
		}
		if fmt.Sprint(perShard) != fmt.Sprint(want) {
			t.Errorf("spate_shard_incoming_records_total by shard = %v, want what GetRecords read: %v", perShard, want)
		}
		rows := prom.mustQuery(ctx, t, rowsIn)
		if len(rows) != 1 || rows[0].value != 2*promRecords {
			t.Errorf("%s = %v, want one sample of %d", rowsIn, rows, 2*promRecords)
		}
	})

	t.Run("Dashboard", func(t *testing.T) {
		checkDashboard(ctx, t, prom, filepath.Join(tools.root, "docs", "grafana", "spate-dashboard.json"), map[string]string{
			"stream":          stream,
			"__rate_interval": rateInterval,
		})
	})
}

// derivePromConfig writes docs/prometheus.yml with its target replaced by
// addr and every scrape interval set to promScrapeInt, and returns its path.
// A text substitution: the module has no YAML library of its own.
func derivePromConfig(t *testing.T, shipped, addr string) string {
	t.Helper()
	b, err := os.ReadFile(shipped)
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(b)
	const target = `"spate:4567"`
	if n := strings.Count(cfg, target); n != 1 {
		t.Fatalf("%s names the target %s %d times, want once", shipped, target, n)
	}
	cfg = strings.Replace(cfg, target, strconv.Quote(addr), 1)
	interval := regexp.MustCompile(`(?m)^(\s*scrape_interval:\s*)\S+\s*$`)
	if n := len(interval.FindAllString(cfg, -1)); n == 0 {
		t.Fatalf("%s sets no scrape_interval", shipped)
	}
	cfg = interval.ReplaceAllString(cfg, "${1}"+promScrapeInt)
	path := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// promServer is a running Prometheus, killed when the test ends.
type promServer struct {
	base string // "http://127.0.0.1:PORT"
}

// startPrometheus starts Prometheus on configFile, its TSDB in a temporary
// directory and its API on a free loopback port, and waits until it is
// ready. A port taken between choosing and binding it makes it try another.
func startPrometheus(ctx context.Context, t *testing.T, tools promTools, configFile string) *promServer {
	t.Helper()
	for attempt := 1; ; attempt++ {
		addr := freeLoopbackAddr(t)
		log := &logBuffer{}
		p, err := startProcess(log, tools.prometheus,
			"--config.file", configFile,
			"--storage.tsdb.path", t.TempDir(),
			"--web.listen-address", addr,
		)
		if err != nil {
			t.Fatalf("start prometheus: %v", err)
		}
		t.Cleanup(func() {
			if !p.exited() {
				if err := p.kill(); err != nil {
					t.Errorf("kill prometheus: %v", err)
				}
			}
			if t.Failed() {
				t.Logf("prometheus log (%s):\n%s", addr, log.String())
			}
		})
		prom := &promServer{base: "http://" + addr}
		ready, err := prom.waitReady(ctx, p)
		if ready {
			return prom
		}
		if p.exited() && strings.Contains(log.String(), "address already in use") && attempt < 5 {
			continue
		}
		t.Fatalf("prometheus on %s not ready: %v", addr, err)
	}
}

// freeLoopbackAddr returns 127.0.0.1:PORT with a port nothing listens on now.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitReady polls /-/ready until it answers 200, the process exits or ctx
// ends.
func (p *promServer) waitReady(ctx context.Context, proc *process) (bool, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/-/ready", nil)
		if err != nil {
			return false, err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true, nil
			}
		}
		select {
		case <-proc.done:
			return false, fmt.Errorf("prometheus exited: %v", proc.waitErr)
		case <-ctx.Done():
			return false, ctx.Err()
		case <-tick.C:
		}
	}
}

// api GETs path with params from Prometheus's HTTP API and decodes the
// response's data into v.
func (p *promServer) api(ctx context.Context, path string, params url.Values, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path+"?"+params.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	var env struct {
		Status    string          `json:"status"`
		Data      json.RawMessage `json:"data"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return fmt.Errorf("GET %s: status %d: decode: %w", path, resp.StatusCode, err)
	}
	if env.Status != "success" {
		return fmt.Errorf("GET %s: %s: %s", path, env.ErrorType, env.Error)
	}
	if err := json.Unmarshal(env.Data, v); err != nil {
		return fmt.Errorf("GET %s: decode data: %w", path, err)
	}
	return nil
}

// waitTarget waits until Prometheus has scraped the spate job's target at
// addr successfully.
func (p *promServer) waitTarget(ctx context.Context, t *testing.T, addr string) {
	t.Helper()
	pollUntil(ctx, t, "the spate target to be up", func() (bool, string) {
		var targets struct {
			ActiveTargets []struct {
				Labels         map[string]string `json:"labels"`
				ScrapeURL      string            `json:"scrapeUrl"`
				ScrapeInterval string            `json:"scrapeInterval"`
				Health         string            `json:"health"`
				LastError      string            `json:"lastError"`
			} `json:"activeTargets"`
		}
		if err := p.api(ctx, "/api/v1/targets", url.Values{"state": {"active"}}, &targets); err != nil {
			return false, err.Error()
		}
		for _, tg := range targets.ActiveTargets {
			if tg.Labels["job"] == "spate" && tg.ScrapeURL == "http://"+addr+"/metrics" && tg.ScrapeInterval == promScrapeInt {
				return tg.Health == "up", fmt.Sprintf("health %q, last error %q", tg.Health, tg.LastError)
			}
		}
		return false, fmt.Sprintf("no spate target for %s every %s among %+v", addr, promScrapeInt, targets.ActiveTargets)
	})
}

// promSample is one element of an instant vector.
type promSample struct {
	metric map[string]string
	value  float64 // NaN for, e.g., histogram_quantile over no observations
}

func (s promSample) String() string { return fmt.Sprintf("%v=%v", s.metric, s.value) }

// query evaluates expr now through /api/v1/query; the result must be an
// instant vector (every expression here and on the dashboard is one).
func (p *promServer) query(ctx context.Context, expr string) ([]promSample, error) {
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := p.api(ctx, "/api/v1/query", url.Values{"query": {expr}}, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		return nil, fmt.Errorf("result type %q, want vector", data.ResultType)
	}
	out := make([]promSample, len(data.Result))
	for i, r := range data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("sample %v: value %v: %w", r.Metric, r.Value[1], err)
		}
		out[i] = promSample{metric: r.Metric, value: v}
	}
	return out, nil
}

func (p *promServer) mustQuery(ctx context.Context, t *testing.T, expr string) []promSample {
	t.Helper()
	res, err := p.query(ctx, expr)
	if err != nil {
		t.Fatalf("query %s: %v", expr, err)
	}
	return res
}

// pollValue waits until expr evaluates to one sample whose value ok accepts.
func (p *promServer) pollValue(ctx context.Context, t *testing.T, what, expr string, ok func(float64) bool) {
	t.Helper()
	pollUntil(ctx, t, what, func() (bool, string) {
		res, err := p.query(ctx, expr)
		if err != nil || len(res) != 1 {
			return false, fmt.Sprintf("%s: %v %v", expr, res, err)
		}
		return ok(res[0].value), fmt.Sprintf("%s = %v", expr, res[0].value)
	})
}

// pollUntil calls cond every 200 ms until it returns true, and fails the
// test with cond's last description when ctx ends first.
func pollUntil(ctx context.Context, t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, last := cond()
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v; last: %s", what, ctx.Err(), last)
		case <-tick.C:
		}
	}
}

// dashPanel is what the test reads of a Grafana panel; rows nest panels.
type dashPanel struct {
	Title   string `json:"title"`
	Targets []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
	Panels []dashPanel `json:"panels"`
}

type dashExpr struct{ panel, refID, expr string }

func (p dashPanel) exprs(out []dashExpr) []dashExpr {
	for _, tg := range p.Targets {
		if tg.Expr != "" {
			out = append(out, dashExpr{panel: p.Title, refID: tg.RefID, expr: tg.Expr})
		}
	}
	for _, sub := range p.Panels {
		out = sub.exprs(out)
	}
	return out
}

// templateVar matches Grafana's variable syntaxes: $name, ${name},
// ${name:format} and [[name]].
var templateVar = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]`)

// spateMetric matches the metric names in a PromQL expression.
var spateMetric = regexp.MustCompile(`\bspate_[a-z0-9_]+`)

// checkDashboard evaluates every PromQL expression of the dashboard at path
// through prom, with its template variables replaced by vars, and checks its
// query variables list the test's values.
func checkDashboard(ctx context.Context, t *testing.T, prom *promServer, path string, vars map[string]string) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels     []dashPanel `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Type       string `json:"type"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("%s: %v", path, err)
	}

	// Template variables: each must have a value here; a query variable's
	// label_values() must offer the test's value.
	labelValues := regexp.MustCompile(`^label_values\(\s*(\w+)\s*,\s*(\w+)\s*\)$`)
	for _, v := range dash.Templating.List {
		if v.Type == "datasource" {
			continue // picks the Prometheus, not part of any expression
		}
		want, ok := vars[v.Name]
		if !ok {
			t.Errorf("dashboard variable $%s (%s) has no value in this test", v.Name, v.Type)
			continue
		}
		if v.Type != "query" {
			continue
		}
		m := labelValues.FindStringSubmatch(v.Definition)
		if m == nil {
			t.Errorf("dashboard variable $%s: query %q is not label_values(METRIC, LABEL)", v.Name, v.Definition)
			continue
		}
		var values []string
		if err := prom.api(ctx, "/api/v1/label/"+m[2]+"/values", url.Values{"match[]": {m[1]}}, &values); err != nil {
			t.Errorf("dashboard variable $%s: %v", v.Name, err)
		} else if !slices.Contains(values, want) {
			t.Errorf("dashboard variable $%s: %s offers %v, not %q", v.Name, v.Definition, values, want)
		}
	}

	var exprs []dashExpr
	for _, p := range dash.Panels {
		exprs = p.exprs(exprs)
	}
	if len(exprs) == 0 {
		t.Fatalf("%s has no PromQL expressions", path)
	}
	used := map[string]bool{}
	for _, e := range exprs {
		name := fmt.Sprintf("%s/%s", e.panel, e.refID)
		var unknown []string
		expr := templateVar.ReplaceAllStringFunc(e.expr, func(s string) string {
			m := templateVar.FindStringSubmatch(s)
			v, ok := vars[m[1]+m[2]+m[3]]
			if !ok {
				unknown = append(unknown, s)
			}
			return v
		})
		if len(unknown) != 0 {
			t.Errorf("%s: %s: unknown template variables %v", name, e.expr, unknown)
			continue
		}
		res, err := prom.query(ctx, expr)
		if err != nil {
			t.Errorf("%s: %s: %v", name, expr, err)
			continue
		}
		var why []string
		for _, metric := range spateMetric.FindAllString(e.expr, -1) {
			metric = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(metric, "_bucket"), "_count"), "_sum")
			if r, ok := notProduced[metric]; ok {
				used[metric] = true
				why = append(why, metric+": "+r)
			}
		}
		switch {
		case len(res) == 0 && len(why) == 0:
			t.Errorf("%s: %s: no series, though the test produced its metrics", name, expr)
		case len(res) == 0:
			t.Logf("%s: %s: no series, as expected (%s)", name, expr, strings.Join(why, "; "))
		default:
			t.Logf("%s: %s: %v", name, expr, res)
		}
	}
	for metric := range notProduced {
		if !used[metric] {
			t.Errorf("notProduced lists %s, which no dashboard expression reads", metric)
		}
	}
}

// countRecords is the number of records in readAll's result.
func countRecords(byShard map[string][]types.Record) int {
	n := 0
	for _, recs := range byShard {
		n += len(recs)
	}
	return n
}
