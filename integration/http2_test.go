package integration

// Tests of HTTP/2 on the HTTP port (issue 12): h2c with prior knowledge (what
// @aws-sdk/client-kinesis v3 speaks to an http:// endpoint), h2c by
// "Upgrade: h2c" (curl --http2), and h2 chosen by ALPN over TLS, with
// aws-sdk-go-v2 (Kinesis and Firehose), curl, the Analytics HTTP API and
// /metrics.

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/spatehq/spate/internal/sdkhttp"
	"github.com/spatehq/spate/internal/testcert"
)

// protoRecorder is a RoundTripper that remembers the protocol of every
// reply, so a test can check that an SDK really spoke HTTP/2.
type protoRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen map[string]int // "HTTP/2.0" or "HTTP/2.0 h2" (with ALPN) → replies
}

func (p *protoRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := p.next.RoundTrip(r)
	if err == nil {
		key := resp.Proto
		if resp.TLS != nil {
			key += " " + resp.TLS.NegotiatedProtocol
		}
		p.mu.Lock()
		p.seen[key]++
		p.mu.Unlock()
	}
	return resp, err
}

// only fails the test unless every reply came over want.
func (p *protoRecorder) only(t *testing.T, want string) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.seen) != 1 || p.seen[want] == 0 {
		t.Fatalf("replies came over %v, want all over %q", p.seen, want)
	}
}

// h2cTransport speaks HTTP/2 without TLS (prior knowledge) and nothing else.
func h2cTransport(t *testing.T) *http.Transport {
	t.Helper()
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// sdkClients are aws-sdk-go-v2 clients of endpoint over transport.
func sdkClients(endpoint string, tr http.RoundTripper) (*kinesis.Client, *firehose.Client, *protoRecorder) {
	rec := &protoRecorder{next: sdkhttp.PlainBodies(tr), seen: make(map[string]int)}
	hc := &http.Client{Transport: rec}
	creds := credentials.NewStaticCredentialsProvider("test", "test", "")
	retryer := retry.AddWithMaxAttempts(retry.NewStandard(), 1)
	k := kinesis.New(kinesis.Options{BaseEndpoint: aws.String(endpoint), Region: "us-east-1",
		Credentials: creds, Retryer: retryer, HTTPClient: hc})
	f := firehose.New(firehose.Options{BaseEndpoint: aws.String(endpoint), Region: "us-east-1",
		Credentials: creds, Retryer: retryer, HTTPClient: hc})
	return k, f, rec
}

// exerciseKinesis creates a stream, writes and reads it back through c.
func exerciseKinesis(t *testing.T, srv *server, c *kinesis.Client) {
	t.Helper()
	ctx := testCtx(t)
	k := &kin{srv: srv, c: c}
	name := uniqueName(t)
	k.create(ctx, t, name, 1)
	k.put(ctx, t, name, "pk", []byte("over http/2"))
	if _, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: []types.PutRecordsRequestEntry{
		{PartitionKey: aws.String("pk"), Data: []byte("two")}}}); err != nil {
		t.Fatalf("PutRecords: %v", err)
	}
	recs := k.readShard(ctx, t, name, shardID(0))
	if got := recordData(recs); len(got) != 2 || got[0] != "over http/2" || got[1] != "two" {
		t.Fatalf("read back %q", got)
	}
	_, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("missing-" + name)})
	wantAPIError(t, err, "ResourceNotFoundException")
}

func TestSDKOverH2C(t *testing.T) {
	srv := startServer(t)
	k, f, rec := sdkClients(srv.Endpoint(), h2cTransport(t))
	exerciseKinesis(t, srv, k)
	if _, err := f.ListDeliveryStreams(testCtx(t), &firehose.ListDeliveryStreamsInput{}); err != nil {
		t.Fatalf("Firehose ListDeliveryStreams over h2c: %v", err)
	}
	rec.only(t, "HTTP/2.0")
}

func TestSDKOverTLSH2(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t, dir, "ca")
	cert, key := ca.Issue(t, dir, "server", x509.ExtKeyUsageServerAuth)
	srv := startServer(t, withArgs("--tls-cert", cert, "--tls-key", key))
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}, Protocols: new(http.Protocols)}
	tr.Protocols.SetHTTP2(true)
	t.Cleanup(tr.CloseIdleConnections)
	k, f, rec := sdkClients("https://"+srv.HTTPAddr, tr)
	exerciseKinesis(t, srv, k)
	if _, err := f.ListDeliveryStreams(testCtx(t), &firehose.ListDeliveryStreamsInput{}); err != nil {
		t.Fatalf("Firehose ListDeliveryStreams over h2: %v", err)
	}
	rec.only(t, "HTTP/2.0 h2")
}

// The Analytics HTTP API and /metrics share the port, so they speak h2c
// too.
func TestAnalyticsAndMetricsOverH2C(t *testing.T) {
	srv := startServer(t)
	hc := &http.Client{Transport: h2cTransport(t)}
	for _, path := range []string{"/v1/applications", "/metrics"} {
		req, err := http.NewRequestWithContext(testCtx(t), http.MethodGet, srv.Endpoint()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("GET %s over h2c: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 || len(body) == 0 {
			t.Errorf("GET %s: %s %s (%d bytes), want HTTP/2.0 200 with a body", path, resp.Proto, resp.Status, len(body))
		}
	}
}

// TestCurlHTTP2 is what issue 12 reported: curl --http2-prior-knowledge got
// an empty reply. curl --http2 asks for the upgrade.
func TestCurlHTTP2(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	srv := startServer(t)
	for _, mode := range []string{"--http2-prior-knowledge", "--http2"} {
		t.Run(mode, func(t *testing.T) {
			out, err := exec.CommandContext(testCtx(t), curl, "-sS", mode, "-X", "POST",
				"-H", "X-Amz-Target: Kinesis_20131202.ListStreams", "-H", "Content-Type: application/x-amz-json-1.1",
				"-d", "{}", "-w", "\n%{http_version} %{http_code}", srv.Endpoint()+"/").CombinedOutput()
			if err != nil {
				t.Fatalf("curl %s: %v: %s", mode, err, out)
			}
			body, status, _ := strings.Cut(string(out), "\n")
			if status != "2 200" || !strings.Contains(body, `"StreamNames"`) {
				t.Fatalf("curl %s: %q, want HTTP/2 200 with a ListStreams reply", mode, out)
			}
		})
	}
}
