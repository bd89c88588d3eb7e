package metricsapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/spatehq/spate/auth"
)

// testRegistry holds shard counters of two streams, a gauge, a histogram
// and a gauge that is NaN.
func testRegistry(t *testing.T) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	in := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spate_shard_incoming_records_total", Help: "h"}, []string{"stream", "shard"})
	age := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "spate_shard_iterator_age_milliseconds", Help: "h"}, []string{"stream", "shard", "consumer"})
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "spate_api_request_duration_seconds", Help: "h"}, []string{"action"})
	nan := prometheus.NewGauge(prometheus.GaugeOpts{Name: "odd_value", Help: "h"})
	reg.MustRegister(in, age, lat, nan)
	in.WithLabelValues("orders", "shardId-000000000000").Add(3)
	in.WithLabelValues("orders", "shardId-000000000001").Add(4)
	in.WithLabelValues("clicks", "shardId-000000000000").Add(5)
	age.WithLabelValues("orders", "shardId-000000000000", "").Set(250)
	age.WithLabelValues("orders", "shardId-000000000000", "firehose:f").Set(10)
	lat.WithLabelValues("PutRecords").Observe(0.5)
	lat.WithLabelValues("PutRecords").Observe(1.5)
	nan.Set(math.NaN())
	return reg
}

func get(h http.Handler, target string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// key is a sample in one comparable string: name{k=v,...}=value.
func key(s Sample) string {
	keys := make([]string, 0, len(s.Labels))
	for k, v := range s.Labels {
		keys = append(keys, k+"="+v)
	}
	// labels arrive sorted from the registry; sort anyway for stability
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	v := "null"
	if s.Value != nil {
		v = fmt.Sprint(*s.Value)
	}
	return fmt.Sprintf("%s/%s{%s}=%s", s.Name, s.Type, strings.Join(keys, ","), v)
}

func TestSnapshot(t *testing.T) {
	at := time.UnixMilli(1765000000123)
	h := NewHandler(testRegistry(t), WithClock(func() time.Time { return at }))
	cases := []struct {
		name  string
		query string
		want  []string
	}{
		{"one label", "?stream=clicks", []string{
			"spate_shard_incoming_records_total/counter{shard=shardId-000000000000,stream=clicks}=5"}},
		{"all filters must match", "?stream=orders&shard=shardId-000000000001", []string{
			"spate_shard_incoming_records_total/counter{shard=shardId-000000000001,stream=orders}=4"}},
		{"an empty value matches a missing or empty label", "?stream=orders&consumer=", []string{
			"spate_shard_incoming_records_total/counter{shard=shardId-000000000000,stream=orders}=3",
			"spate_shard_incoming_records_total/counter{shard=shardId-000000000001,stream=orders}=4",
			"spate_shard_iterator_age_milliseconds/gauge{consumer=,shard=shardId-000000000000,stream=orders}=250"}},
		{"name prefix", "?name_prefix=spate_shard_iterator&stream=orders", []string{
			"spate_shard_iterator_age_milliseconds/gauge{consumer=,shard=shardId-000000000000,stream=orders}=250",
			"spate_shard_iterator_age_milliseconds/gauge{consumer=firehose:f,shard=shardId-000000000000,stream=orders}=10"}},
		{"histograms give count and sum", "?action=PutRecords", []string{
			"spate_api_request_duration_seconds_count/histogram{action=PutRecords}=2",
			"spate_api_request_duration_seconds_sum/histogram{action=PutRecords}=2"}},
		{"the prefix applies to count and sum", "?name_prefix=spate_api_request_duration_seconds_s", []string{
			"spate_api_request_duration_seconds_sum/histogram{action=PutRecords}=2"}},
		{"NaN is null", "?name_prefix=odd", []string{"odd_value/gauge{}=null"}},
		{"nothing matches", "?stream=nope", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := get(h, "/v1/metrics"+c.query)
			if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			var snap Snapshot
			if err := json.Unmarshal(w.Body.Bytes(), &snap); err != nil {
				t.Fatal(err)
			}
			if snap.Timestamp != at.UnixMilli() {
				t.Errorf("timestamp %d, want %d", snap.Timestamp, at.UnixMilli())
			}
			if snap.Metrics == nil {
				t.Errorf("metrics is null, want a list")
			}
			var got []string
			for _, s := range snap.Metrics {
				got = append(got, key(s))
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

func TestRefused(t *testing.T) {
	h := NewHandler(testRegistry(t), WithMaxSeries(3))
	cases := []struct {
		name   string
		query  string
		status int
		typ    string
		msg    string
	}{
		{"too many series", "", 400, "LimitExceededException", "series match, and a reply holds at most 3"},
		{"within the bound", "?stream=orders&name_prefix=spate_shard_incoming", 200, "", ""},
		{"not a label name", "?stream-name=orders", 400, "InvalidArgumentException", "unknown parameter"},
		{"reserved label name", "?__name__=x", 400, "InvalidArgumentException", "unknown parameter"},
		{"a parameter twice", "?stream=a&stream=b", 400, "InvalidArgumentException", "given 2 times"},
		{"oversized value", "?stream=" + strings.Repeat("x", maxValueBytes+1), 400, "InvalidArgumentException", "at most 256 bytes"},
		{"oversized name", "?" + strings.Repeat("x", maxNameBytes+1) + "=1", 400, "InvalidArgumentException", "unknown parameter"},
		{"too many parameters", "?a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9", 400, "InvalidArgumentException", "over 8"},
		{"bad prefix", "?name_prefix=spate-shard", 400, "InvalidArgumentException", "not the start of a metric name"},
		{"oversized query", "?stream=" + strings.Repeat("%41", maxQueryBytes/3+1), 400, "InvalidArgumentException", "query string is"},
		{"bad escape", "?stream=%zz", 400, "InvalidArgumentException", "cannot be parsed"},
		{"not UTF-8", "?stream=%ff", 400, "InvalidArgumentException", "UTF-8"},
		{"presigned", "?X-Amz-Signature=abc", 400, "InvalidArgumentException", "unknown parameter"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := get(h, "/v1/metrics"+c.query)
			if w.Code != c.status {
				t.Fatalf("status %d, want %d: %s", w.Code, c.status, w.Body)
			}
			if c.typ == "" {
				return
			}
			var body errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if body.Type != c.typ || w.Header().Get("X-Amzn-ErrorType") != c.typ || !strings.Contains(body.Message, c.msg) {
				t.Errorf("got %s %q (header %s), want %s containing %q", body.Type, body.Message, w.Header().Get("X-Amzn-ErrorType"), c.typ, c.msg)
			}
		})
	}
}

func TestMethod(t *testing.T) {
	h := NewHandler(testRegistry(t))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1/metrics", nil))
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
}

// failingGatherer fails: the reply is a 500 that hides the cause.
type failingGatherer struct{}

func (failingGatherer) Gather() ([]*dto.MetricFamily, error) {
	return nil, errors.New("collector exploded at /secret/path")
}

func TestGatherFails(t *testing.T) {
	w := get(NewHandler(failingGatherer{}), "/v1/metrics")
	if w.Code != 500 || strings.Contains(w.Body.String(), "secret") || w.Header().Get("X-Amzn-ErrorType") != "InternalFailure" {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

func TestGuard(t *testing.T) {
	keys, err := auth.ParseKeys([]byte("[admin]\naws_access_key_id = A\naws_secret_access_key = a\n[writer]\naws_access_key_id = W\naws_secret_access_key = w\n"))
	if err != nil {
		t.Fatal(err)
	}
	policies, err := auth.ParsePolicies([]byte(`{
		"admin": {"Statement": [{"Effect": "Allow", "Action": "cloudwatch:GetMetricData", "Resource": "*"}]},
		"writer": {"Statement": [{"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandler(testRegistry(t), WithGuard(auth.NewGuard(keys, policies, "us-east-1", "000000000000")))
	sign := func(id, secret, service string) func(*http.Request) {
		return func(r *http.Request) {
			sum := sha256.Sum256(nil)
			creds := aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []struct {
		name   string
		query  string
		sign   func(*http.Request)
		status int
		typ    string
	}{
		{"unsigned", "?stream=orders", func(*http.Request) {}, 403, "MissingAuthenticationTokenException"},
		{"signed for another service", "?stream=orders", sign("A", "a", "kinesis"), 400, "InvalidSignatureException"},
		{"wrong secret", "?stream=orders", sign("A", "b", SigningName), 400, "InvalidSignatureException"},
		{"not allowed", "?stream=orders", sign("W", "w", SigningName), 403, "AccessDeniedException"},
		{"allowed", "?stream=orders", sign("A", "a", SigningName), 200, ""},
		// The query is part of what is signed: changing it after signing
		// breaks the signature.
		{"query changed after signing", "?stream=orders", func(r *http.Request) {
			sign("A", "a", SigningName)(r)
			r.URL.RawQuery = "stream=clicks"
		}, 400, "InvalidSignatureException"},
		{"authentication before the parameters", "?stream=a&stream=b", func(*http.Request) {}, 403, "MissingAuthenticationTokenException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:4567/v1/metrics"+c.query, nil)
			c.sign(r)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != c.status || w.Header().Get("X-Amzn-ErrorType") != c.typ {
				t.Fatalf("got %d %s, want %d %s", w.Code, w.Body, c.status, c.typ)
			}
		})
	}
}
