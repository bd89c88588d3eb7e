package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestConsoleStreams: the Streams pages create a stream, put and read
// records (decoded as JSON, found by partition key), draw the shard charts
// from GET /v1/metrics, show a split's parent and children, and delete the
// stream; the SDK sees each effect. The SDK side runs beside the browser:
// see streams.spec.js for the hand-offs.
func TestConsoleStreams(t *testing.T) {
	b := findConsoleBrowser(t)
	k := newKin(t)
	ctx := testCtx(t)
	name := uniqueName(t)

	sdkDone := make(chan error, 1)
	go func() { sdkDone <- consoleStreamsSDKSide(ctx, k.c, name) }()
	lines := b.run(t, k.srv, "streams.spec.js", "SPEC_STREAM="+name)
	if err := <-sdkDone; err != nil {
		t.Fatalf("SDK side: %v", err)
	}
	if len(lines) != 1 || lines[0]["parent"] == nil {
		t.Fatalf("the spec logged %v, want the split's parent and children", lines)
	}
	// The page's delete reached the server.
	k.waitGone(ctx, t, name)
}

// consoleStreamsSDKSide is the SDK's part of TestConsoleStreams, on its
// own goroutine (so it returns errors rather than failing the test): once
// the page has created the stream and enabled its shard metrics, it puts
// twenty JSON records; once the page's form has put a record with the key
// "split-now", it splits the first shard, waits for ACTIVE and puts a
// record into the split's lower child.
func consoleStreamsSDKSide(ctx context.Context, c *kinesis.Client, name string) error {
	poll := func(what string, cond func() (bool, error)) error {
		for {
			ok, err := cond()
			if err != nil || ok {
				return err
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	err := poll("the page to create the stream and enable its shard metrics", func() (bool, error) {
		out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if _, notFound := errors.AsType[*types.ResourceNotFoundException](err); notFound {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		s := out.StreamDescriptionSummary
		return s.StreamStatus == types.StreamStatusActive && len(s.EnhancedMonitoring) > 0 &&
			slices.Contains(s.EnhancedMonitoring[0].ShardLevelMetrics, types.MetricsNameIncomingRecords), nil
	})
	if err != nil {
		return err
	}
	var entries []types.PutRecordsRequestEntry
	for i := range 20 {
		data, _ := json.Marshal(map[string]any{"order": i, "customer": fmt.Sprintf("customer-%d", i), "amount": float64(i) + 10.5})
		entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprintf("customer-%d", i)), Data: data})
	}
	out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: entries})
	if err != nil {
		return fmt.Errorf("PutRecords: %w", err)
	}
	if aws.ToInt32(out.FailedRecordCount) != 0 {
		return fmt.Errorf("PutRecords: %d records failed", aws.ToInt32(out.FailedRecordCount))
	}
	var shards []types.Shard
	err = poll(`the page's record with the key "split-now"`, func() (bool, error) {
		ls, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name)})
		if err != nil {
			return false, err
		}
		shards = ls.Shards
		for _, s := range shards {
			it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: s.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
			if err != nil {
				return false, err
			}
			recs, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
			if err != nil {
				return false, err
			}
			if slices.ContainsFunc(recs.Records, func(r types.Record) bool { return aws.ToString(r.PartitionKey) == "split-now" }) {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	lo, _ := new(big.Int).SetString(aws.ToString(shards[0].HashKeyRange.StartingHashKey), 10)
	hi, _ := new(big.Int).SetString(aws.ToString(shards[0].HashKeyRange.EndingHashKey), 10)
	mid := new(big.Int).Add(lo, hi)
	mid.Rsh(mid, 1).Add(mid, big.NewInt(1)) // the upper child starts just above the middle
	if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(name), ShardToSplit: shards[0].ShardId, NewStartingHashKey: aws.String(mid.String())}); err != nil {
		return fmt.Errorf("SplitShard: %w", err)
	}
	err = poll("the split to finish", func() (bool, error) {
		out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		return err == nil && out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive, err
	})
	if err != nil {
		return err
	}
	// Hash key 0: the lower child of the split shard, which the page's
	// reader reaches only by following the closed parent.
	_, err = c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("after-split"),
		ExplicitHashKey: aws.String("0"), Data: []byte(`{"after":"split"}`)})
	return err
}

// metricsSnapshot is GET /v1/metrics's reply.
type metricsSnapshot struct {
	Timestamp int64 `json:"timestamp"`
	Metrics   []struct {
		Name   string            `json:"name"`
		Type   string            `json:"type"`
		Labels map[string]string `json:"labels"`
		Value  *float64          `json:"value"`
	} `json:"metrics"`
}

// getMetrics sends GET url, signed for the signing name service with
// id/secret (unsigned when id is empty), and returns the status, the error
// type and the decoded reply.
func getMetrics(ctx context.Context, t *testing.T, url, service, id, secret string) (int, string, metricsSnapshot) {
	t.Helper()
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if id != "" {
		sum := sha256.Sum256(nil)
		if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, r,
			hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var snap metricsSnapshot
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &snap); err != nil {
			t.Fatalf("GET %s: %v in %s", url, err, body)
		}
	}
	return resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), snap
}

// TestMetricsAPI: GET /v1/metrics on the HTTP port answers from the
// registry even when /metrics itself is on --metrics-addr: the shard
// counters of a stream with enhanced monitoring, filtered by stream.
func TestMetricsAPI(t *testing.T) {
	k := newKin(t, withArgs("--metrics-addr", "127.0.0.1:0"))
	ctx := testCtx(t)
	name := uniqueName(t)
	k.create(ctx, t, name, 2)
	if _, err := k.c.EnableEnhancedMonitoring(ctx, &kinesis.EnableEnhancedMonitoringInput{
		StreamName: aws.String(name), ShardLevelMetrics: []types.MetricsName{types.MetricsNameAll}}); err != nil {
		t.Fatal(err)
	}
	var entries []types.PutRecordsRequestEntry
	for i := range 30 {
		entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint(i)), Data: []byte("x")})
	}
	k.putRecords(ctx, t, name, entries)

	// /metrics is not on the HTTP port: the snapshot does not depend on it.
	if status, _, _ := getMetrics(ctx, t, k.srv.Endpoint()+"/metrics", "", "", ""); status == http.StatusOK {
		t.Fatalf("/metrics is on --http-addr although --metrics-addr is set")
	}
	before := time.Now().UnixMilli()
	status, typ, snap := getMetrics(ctx, t, k.srv.Endpoint()+"/v1/metrics?stream="+name+"&name_prefix=spate_shard_incoming_records_total", "", "", "")
	if status != http.StatusOK {
		t.Fatalf("GET /v1/metrics: %d %s", status, typ)
	}
	if snap.Timestamp < before-1000 {
		t.Errorf("timestamp %d is before the request (%d)", snap.Timestamp, before)
	}
	var sum float64
	shards := map[string]bool{}
	for _, m := range snap.Metrics {
		if m.Name != "spate_shard_incoming_records_total" || m.Type != "counter" || m.Labels["stream"] != name || m.Value == nil {
			t.Fatalf("unexpected entry %+v", m)
		}
		sum += *m.Value
		shards[m.Labels["shard"]] = true
	}
	if sum != 30 || len(shards) != 2 {
		t.Errorf("incoming records %v over shards %v, want 30 over 2", sum, shards)
	}

	// The bounds answer as documented.
	for _, c := range []struct {
		query  string
		status int
		typ    string
	}{
		{"?stream-name=x", 400, "InvalidArgumentException"},
		{"?stream=a&stream=b", 400, "InvalidArgumentException"},
	} {
		if status, typ, _ := getMetrics(ctx, t, k.srv.Endpoint()+"/v1/metrics"+c.query, "", "", ""); status != c.status || typ != c.typ {
			t.Errorf("GET /v1/metrics%s: %d %s, want %d %s", c.query, status, typ, c.status, c.typ)
		}
	}
}

// TestMetricsAPIAuth: with --credentials, GET /v1/metrics wants a
// signature for "monitoring" and cloudwatch:GetMetricData.
func TestMetricsAPIAuth(t *testing.T) {
	s := startAuthServer(t)
	ctx := testCtx(t)
	url := s.Endpoint() + "/v1/metrics?name_prefix=spate_stream_"
	cases := []struct {
		name, service, id, secret string
		status                    int
		typ                       string
	}{
		{"unsigned", "", "", "", 403, "MissingAuthenticationTokenException"},
		{"signed for kinesisanalytics", "kinesisanalytics", "AKIDADMIN", "admin-secret", 400, "InvalidSignatureException"},
		{"wrong secret", "monitoring", "AKIDADMIN", "nope", 400, "InvalidSignatureException"},
		{"reader has no cloudwatch:GetMetricData", "monitoring", "AKIDREADER", "reader-secret", 403, "AccessDeniedException"},
		{"admin", "monitoring", "AKIDADMIN", "admin-secret", 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if status, typ, _ := getMetrics(ctx, t, url, c.service, c.id, c.secret); status != c.status || typ != c.typ {
				t.Errorf("got %d %s, want %d %s", status, typ, c.status, c.typ)
			}
		})
	}
}

// TestConsoleStreamsSignedIn: with --credentials the stream's page signs
// its Kinesis calls and its GET /v1/metrics (for "monitoring", as api.js
// does), and a profile without cloudwatch:GetMetricData sees the charts
// refused with AccessDeniedException.
func TestConsoleStreamsSignedIn(t *testing.T) {
	b := findConsoleBrowser(t)
	s := startAuthServer(t)
	ctx := testCtx(t)
	admin := &kin{srv: s.server, c: s.kinesisAs(t, "AKIDADMIN", "admin-secret")}
	name := uniqueName(t)
	admin.create(ctx, t, name, 1)
	if _, err := admin.c.EnableEnhancedMonitoring(ctx, &kinesis.EnableEnhancedMonitoringInput{
		StreamName: aws.String(name), ShardLevelMetrics: []types.MetricsName{types.MetricsNameAll}}); err != nil {
		t.Fatal(err)
	}
	admin.put(ctx, t, name, "signed-key", []byte(`{"signed":true}`))
	b.run(t, s.server, "streams-signed.spec.js", "SPEC_STREAM="+name, "SPEC_KEY_ID=AKIDADMIN", "SPEC_SECRET=admin-secret")
}
