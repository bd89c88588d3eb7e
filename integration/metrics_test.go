package integration

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// scrapeMetrics GETs the server's /metrics and returns every sample line as
// series ("name{label=\"value\",...}", labels as the server orders them:
// by name) → value.
func scrapeMetrics(ctx context.Context, t *testing.T, s *server) map[string]string {
	t.Helper()
	body := fetchMetrics(ctx, t, s)
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		out[line[:i]] = line[i+1:]
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read /metrics: %v", err)
	}
	return out
}

// fetchMetrics returns the body of the server's GET /metrics.
func fetchMetrics(ctx context.Context, t *testing.T, s *server) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoint()+"/metrics", nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: status %d, %v", resp.StatusCode, err)
	}
	return body
}

// shardSeries returns the spate_shard_* series of stream in got.
func shardSeries(got map[string]string, stream string) []string {
	var out []string
	for k := range got {
		if strings.HasPrefix(k, "spate_shard_") && strings.Contains(k, `stream="`+stream+`"`) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func metricNamesOf(ms []types.MetricsName) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m)
	}
	return out
}

var allShardLevelMetrics = []string{
	"IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
	"WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds",
}

// TestEnhancedMonitoringSDK drives EnableEnhancedMonitoring and
// DisableEnhancedMonitoring through aws-sdk-go-v2 and checks what
// DescribeStream and /metrics show after each, and after a restart.
func TestEnhancedMonitoringSDK(t *testing.T) {
	t.Parallel()
	k := newKin(t)
	ctx := testCtx(t)
	name := uniqueName(t)
	k.create(ctx, t, name, 2)
	other := name + "-other"
	k.create(ctx, t, other, 1)

	describeMetrics := func() []string {
		t.Helper()
		d, err := k.c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatalf("DescribeStream: %v", err)
		}
		em := d.StreamDescription.EnhancedMonitoring
		if len(em) != 1 {
			t.Fatalf("EnhancedMonitoring has %d entries, want 1", len(em))
		}
		sum := k.summary(ctx, t, name)
		if len(sum.EnhancedMonitoring) != 1 || !slices.Equal(metricNamesOf(sum.EnhancedMonitoring[0].ShardLevelMetrics), metricNamesOf(em[0].ShardLevelMetrics)) {
			t.Fatalf("DescribeStreamSummary's EnhancedMonitoring %v differs from DescribeStream's %v", sum.EnhancedMonitoring, em)
		}
		return metricNamesOf(em[0].ShardLevelMetrics)
	}

	// Before: no shard-level series, stream-level totals for both streams.
	if got := describeMetrics(); len(got) != 0 {
		t.Fatalf("new stream has shard-level metrics %v", got)
	}
	put := k.put(ctx, t, name, "pk", []byte("hello"))            // 5 + 2 bytes
	recs := k.readShard(ctx, t, name, aws.ToString(put.ShardId)) // reads it back
	m := scrapeMetrics(ctx, t, k.srv)
	if s := shardSeries(m, name); len(s) != 0 {
		t.Fatalf("shard-level series before EnableEnhancedMonitoring: %v", s)
	}
	for series, want := range map[string]string{
		fmt.Sprintf(`spate_stream_incoming_records_total{stream=%q}`, name):                      "1",
		fmt.Sprintf(`spate_stream_incoming_bytes_total{stream=%q}`, name):                        "7",
		fmt.Sprintf(`spate_stream_outgoing_records_total{stream=%q}`, name):                      fmt.Sprint(len(recs)),
		fmt.Sprintf(`spate_stream_outgoing_bytes_total{stream=%q}`, name):                        "7",
		fmt.Sprintf(`spate_stream_write_provisioned_throughput_exceeded_total{stream=%q}`, name): "0",
		fmt.Sprintf(`spate_stream_read_provisioned_throughput_exceeded_total{stream=%q}`, name):  "0",
		fmt.Sprintf(`spate_stream_iterator_age_milliseconds{stream=%q}`, name):                   "0",
		fmt.Sprintf(`spate_stream_incoming_records_total{stream=%q}`, other):                     "0",
	} {
		if got, ok := m[series]; !ok || got != want {
			t.Errorf("%s = %q (present: %v), want %s", series, got, ok, want)
		}
	}

	// Enable two, then ALL.
	on, err := k.c.EnableEnhancedMonitoring(ctx, &kinesis.EnableEnhancedMonitoringInput{
		StreamName:        aws.String(name),
		ShardLevelMetrics: []types.MetricsName{types.MetricsNameIncomingRecords, types.MetricsNameIteratorAgeMilliseconds},
	})
	if err != nil {
		t.Fatalf("EnableEnhancedMonitoring: %v", err)
	}
	if aws.ToString(on.StreamName) != name || !strings.HasSuffix(aws.ToString(on.StreamARN), ":stream/"+name) ||
		len(on.CurrentShardLevelMetrics) != 0 ||
		!slices.Equal(metricNamesOf(on.DesiredShardLevelMetrics), []string{"IncomingRecords", "IteratorAgeMilliseconds"}) {
		t.Fatalf("EnableEnhancedMonitoring = name %v arn %v current %v desired %v",
			aws.ToString(on.StreamName), aws.ToString(on.StreamARN), on.CurrentShardLevelMetrics, on.DesiredShardLevelMetrics)
	}
	if got := describeMetrics(); !slices.Equal(got, []string{"IncomingRecords", "IteratorAgeMilliseconds"}) {
		t.Fatalf("DescribeStream shows %v", got)
	}
	m = scrapeMetrics(ctx, t, k.srv)
	wantSeries := []string{
		fmt.Sprintf(`spate_shard_incoming_records_total{shard="shardId-000000000000",stream=%q}`, name),
		fmt.Sprintf(`spate_shard_incoming_records_total{shard="shardId-000000000001",stream=%q}`, name),
		fmt.Sprintf(`spate_shard_iterator_age_milliseconds{consumer="",shard=%q,stream=%q}`, aws.ToString(put.ShardId), name),
	}
	if got := shardSeries(m, name); !slices.Equal(got, wantSeries) {
		t.Fatalf("shard-level series = %v, want %v", got, wantSeries)
	}
	if s := shardSeries(m, other); len(s) != 0 {
		t.Fatalf("the other stream has shard-level series %v", s)
	}
	inPut := fmt.Sprintf(`spate_shard_incoming_records_total{shard=%q,stream=%q}`, aws.ToString(put.ShardId), name)
	if m[inPut] != "1" {
		t.Errorf("%s = %q, want 1", inPut, m[inPut])
	}

	all, err := k.c.EnableEnhancedMonitoring(ctx, &kinesis.EnableEnhancedMonitoringInput{
		StreamName: aws.String(name), ShardLevelMetrics: []types.MetricsName{types.MetricsNameAll},
	})
	if err != nil {
		t.Fatalf("EnableEnhancedMonitoring(ALL): %v", err)
	}
	if !slices.Equal(metricNamesOf(all.CurrentShardLevelMetrics), []string{"IncomingRecords", "IteratorAgeMilliseconds"}) ||
		!slices.Equal(metricNamesOf(all.DesiredShardLevelMetrics), allShardLevelMetrics) {
		t.Fatalf("EnableEnhancedMonitoring(ALL) = current %v desired %v", all.CurrentShardLevelMetrics, all.DesiredShardLevelMetrics)
	}
	if got := len(shardSeries(scrapeMetrics(ctx, t, k.srv), name)); got != 6*2+1 {
		t.Fatalf("%d shard-level series with ALL, want 13 (six counters on two shards, one iterator age)", got)
	}

	// The setting survives a restart; the counters start again.
	k.restart(t)
	ctx = testCtx(t)
	if got := describeMetrics(); !slices.Equal(got, allShardLevelMetrics) {
		t.Fatalf("after restart DescribeStream shows %v", got)
	}
	if got := scrapeMetrics(ctx, t, k.srv)[inPut]; got != "0" {
		t.Errorf("after restart %s = %q, want 0", inPut, got)
	}

	// Disable some, then ALL; by ARN this time.
	off, err := k.c.DisableEnhancedMonitoring(ctx, &kinesis.DisableEnhancedMonitoringInput{
		StreamARN:         on.StreamARN,
		ShardLevelMetrics: []types.MetricsName{types.MetricsNameIncomingBytes, types.MetricsNameOutgoingBytes, types.MetricsNameIteratorAgeMilliseconds},
	})
	if err != nil {
		t.Fatalf("DisableEnhancedMonitoring: %v", err)
	}
	left := []string{"IncomingRecords", "OutgoingRecords", "WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded"}
	if !slices.Equal(metricNamesOf(off.CurrentShardLevelMetrics), allShardLevelMetrics) || !slices.Equal(metricNamesOf(off.DesiredShardLevelMetrics), left) {
		t.Fatalf("DisableEnhancedMonitoring = current %v desired %v", off.CurrentShardLevelMetrics, off.DesiredShardLevelMetrics)
	}
	if got := describeMetrics(); !slices.Equal(got, left) {
		t.Fatalf("DescribeStream shows %v, want %v", got, left)
	}
	if _, err := k.c.DisableEnhancedMonitoring(ctx, &kinesis.DisableEnhancedMonitoringInput{
		StreamName: aws.String(name), ShardLevelMetrics: []types.MetricsName{types.MetricsNameAll},
	}); err != nil {
		t.Fatalf("DisableEnhancedMonitoring(ALL): %v", err)
	}
	if got := describeMetrics(); len(got) != 0 {
		t.Fatalf("after disabling ALL DescribeStream shows %v", got)
	}
	m = scrapeMetrics(ctx, t, k.srv)
	if s := shardSeries(m, name); len(s) != 0 {
		t.Fatalf("shard-level series after disabling ALL: %v", s)
	}
	if _, ok := m[fmt.Sprintf(`spate_stream_incoming_records_total{stream=%q}`, name)]; !ok {
		t.Fatal("stream-level series are gone with the shard-level ones")
	}
}

// TestEnhancedMonitoringErrorsSDK checks the errors of both actions: the
// model's validation, unknown streams, and a stream that is not ACTIVE.
func TestEnhancedMonitoringErrorsSDK(t *testing.T) {
	t.Parallel()
	k := newKin(t, withArgs("--create-delay", "1h")) // streams stay CREATING
	ctx := testCtx(t)
	creating := uniqueName(t)
	if _, err := k.c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(creating), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	for _, action := range []string{"EnableEnhancedMonitoring", "DisableEnhancedMonitoring"} {
		t.Run(action, func(t *testing.T) {
			call := func(in kinesis.EnableEnhancedMonitoringInput) error {
				if action == "EnableEnhancedMonitoring" {
					_, err := k.c.EnableEnhancedMonitoring(ctx, &in)
					return err
				}
				_, err := k.c.DisableEnhancedMonitoring(ctx, &kinesis.DisableEnhancedMonitoringInput{
					StreamName: in.StreamName, StreamARN: in.StreamARN, ShardLevelMetrics: in.ShardLevelMetrics})
				return err
			}
			all := []types.MetricsName{types.MetricsNameAll}
			wantAPIError(t, call(kinesis.EnableEnhancedMonitoringInput{StreamName: aws.String(creating), ShardLevelMetrics: []types.MetricsName{"IncomingBits"}}),
				"ValidationException", "IncomingBits")
			wantAPIError(t, call(kinesis.EnableEnhancedMonitoringInput{StreamName: aws.String("no-such-stream"), ShardLevelMetrics: all}),
				"ResourceNotFoundException", "no-such-stream")
			wantAPIError(t, call(kinesis.EnableEnhancedMonitoringInput{StreamName: aws.String(creating), ShardLevelMetrics: all}),
				"ResourceInUseException", creating)

			// What the SDK will not send: no list, an empty one, eight items.
			for _, body := range []string{
				fmt.Sprintf(`{"StreamName":%q}`, creating),
				fmt.Sprintf(`{"StreamName":%q,"ShardLevelMetrics":[]}`, creating),
				fmt.Sprintf(`{"StreamName":%q,"ShardLevelMetrics":["ALL","ALL","ALL","ALL","ALL","ALL","ALL","ALL"]}`, creating),
			} {
				rawCall(ctx, t, k.srv, action, body).wantError(t, "ValidationException", "ShardLevelMetrics")
			}
		})
	}
}
