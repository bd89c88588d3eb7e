package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// TestServeMetrics runs serve with and without --metrics-addr, makes a
// Kinesis JSON call and a gRPC call, and checks where /metrics is served
// and that it shows the API latency histogram of both and Pebble's health.
func TestServeMetrics(t *testing.T) {
	tests := []struct {
		name        string
		metricsAddr string
		onHTTPPort  bool // /metrics is on --http-addr
	}{
		{"default: on the HTTP port", "", true},
		{"--metrics-addr: only there", "127.0.0.1:0", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testServeConfig(t)
			cfg.metricsAddr = tt.metricsAddr
			addrs := serveInBackground(t, cfg)
			ctx := context.Background()

			req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addrs["http_addr"]+"/", strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Amz-Target", "Kinesis_20131202.ListStreams")
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("ListStreams: %v", err)
			}
			resp.Body.Close()
			cc, err := grpc.NewClient(addrs["grpc_addr"], grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			defer cc.Close()
			if _, err := spatev1.NewStreamServiceClient(cc).ListStreams(ctx, &spatev1.ListStreamsRequest{}); err != nil {
				t.Fatalf("gRPC ListStreams: %v", err)
			}

			if tt.onHTTPPort != (addrs["metrics_addr"] == addrs["http_addr"]) {
				t.Errorf("logged metrics_addr %s, http_addr %s", addrs["metrics_addr"], addrs["http_addr"])
			}
			status, body := fetchURL(t, "http://"+addrs["metrics_addr"]+"/metrics")
			if status != http.StatusOK {
				t.Fatalf("GET /metrics on %s: %d", addrs["metrics_addr"], status)
			}
			for _, want := range []string{
				`spate_api_request_duration_seconds_count{action="ListStreams",code="OK",protocol="kinesis"} 1`,
				`spate_api_request_duration_seconds_count{action="StreamService/ListStreams",code="OK",protocol="grpc"} 1`,
				"spate_pebble_disk_usage_bytes ",
				"spate_pebble_wal_fsync_latency_seconds_bucket",
			} {
				if !strings.Contains(body, want) {
					t.Errorf("/metrics lacks %q", want)
				}
			}
			checkDocumented(t, body)
			if !tt.onHTTPPort {
				// The APIs' router answers any other path on the HTTP port.
				status, body = fetchURL(t, "http://"+addrs["http_addr"]+"/metrics")
				if status == http.StatusOK || strings.Contains(body, "spate_api_request_duration_seconds") {
					t.Errorf("GET /metrics on the HTTP port with --metrics-addr: %d %.200s", status, body)
				}
			}
		})
	}
}

// checkDocumented fails the test for every spate_ metric family of a
// /metrics body that docs/metrics.md does not name.
func checkDocumented(t *testing.T, body string) {
	t.Helper()
	doc, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(body) {
		name, ok := strings.CutPrefix(line, "# TYPE ")
		if !ok || !strings.HasPrefix(name, "spate_") {
			continue
		}
		name, _, _ = strings.Cut(name, " ")
		if !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("%s is served but not in docs/metrics.md", name)
		}
	}
}

// serveInBackground runs serve with cfg until the test ends and returns the
// addresses of its "spate serving" log line.
func serveInBackground(t *testing.T, cfg serveConfig) map[string]string {
	t.Helper()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		err := serve(ctx, cfg, pw)
		pw.Close()
		served <- err
	}()
	addrs := make(chan map[string]string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		found := false
		for sc.Scan() { // read to the end so that serve never blocks on its log
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) != nil || found || rec["msg"] != "spate serving" {
				continue
			}
			found = true
			m := map[string]string{}
			for _, k := range []string{"http_addr", "grpc_addr", "metrics_addr"} {
				m[k], _ = rec[k].(string)
			}
			addrs <- m
		}
		close(addrs)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	m, ok := <-addrs
	if !ok || m["http_addr"] == "" || m["grpc_addr"] == "" || m["metrics_addr"] == "" {
		t.Fatal("no \"spate serving\" line with every address") // cleanup reports serve's error
	}
	return m
}

// fetchURL fetches url and returns its status and body.
func fetchURL(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

func TestServeRejectsBadMetricsAddr(t *testing.T) {
	cfg := testServeConfig(t)
	cfg.metricsAddr = "not an address"
	err := serve(context.Background(), cfg, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--metrics-addr") {
		t.Fatalf("serve error = %v, want one about --metrics-addr", err)
	}
}
