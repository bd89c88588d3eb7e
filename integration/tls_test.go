package integration

// Tests of TLS on every listener (--tls-cert, --tls-key) and mutual TLS on
// gRPC (--tls-client-ca), with the clients users have: aws-sdk-go-v2, the
// AWS CLI, net/http over HTTP/2, and the spate CLI.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"google.golang.org/grpc"
	grpccreds "google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/spatehq/spate/api/grpcapi"
	"github.com/spatehq/spate/internal/sdkhttp"
	"github.com/spatehq/spate/internal/testcert"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// tlsFixture is a server with TLS on every listener and mutual TLS on gRPC.
type tlsFixture struct {
	srv                       *server
	dir                       string
	ca                        *testcert.CA // signs the server's certificate
	clientCA                  *testcert.CA // signs the clients' certificates
	clientCert, clientKey     string
	metricsAddr               string
	strangerCert, strangerKey string // a client certificate from another CA
}

func newTLSFixture(t *testing.T) *tlsFixture {
	t.Helper()
	dir := t.TempDir()
	f := &tlsFixture{dir: dir, ca: testcert.NewCA(t, dir, "server-ca"), clientCA: testcert.NewCA(t, dir, "client-ca")}
	cert, key := f.ca.Issue(t, dir, "server", x509.ExtKeyUsageServerAuth)
	f.clientCert, f.clientKey = f.clientCA.Issue(t, dir, "client", x509.ExtKeyUsageClientAuth)
	f.strangerCert, f.strangerKey = f.ca.Issue(t, dir, "stranger", x509.ExtKeyUsageClientAuth)
	f.srv = startServer(t, withArgs("--tls-cert", cert, "--tls-key", key, "--tls-client-ca", f.clientCA.CertFile,
		"--metrics-addr", "127.0.0.1:0"))
	f.metricsAddr = loggedAddr(t, f.srv, "metrics_addr")
	return f
}

// loggedAddr is an address field of the server's "spate serving" log line.
func loggedAddr(t *testing.T, s *server, field string) string {
	t.Helper()
	for line := range strings.SplitSeq(s.log.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == readyMsg {
			if addr, ok := rec[field].(string); ok {
				return addr
			}
		}
	}
	t.Fatalf("no %s in the server's %q log line", field, readyMsg)
	return ""
}

// httpsClient trusts the fixture's CA; h2 makes it try HTTP/2.
func (f *tlsFixture) httpsClient(t *testing.T, h2 bool) *http.Client {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.ca.Pool()}, ForceAttemptHTTP2: h2}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func TestTLS(t *testing.T) {
	f := newTLSFixture(t)
	ctx := testCtx(t)
	endpoint := "https://" + f.srv.HTTPAddr

	t.Run("aws-sdk-go-v2", func(t *testing.T) {
		k := &kin{srv: f.srv, c: kinesis.New(kinesis.Options{
			BaseEndpoint: aws.String(endpoint),
			Region:       "us-east-1",
			Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
			Retryer:      retry.AddWithMaxAttempts(retry.NewStandard(), 1),
			HTTPClient:   &http.Client{Transport: sdkhttp.PlainBodies(f.httpsClient(t, true).Transport)},
		})}
		stream := uniqueName(t)
		k.create(ctx, t, stream, 1)
		out, err := k.c.PutRecord(ctx, &kinesis.PutRecordInput{
			StreamName: aws.String(stream), PartitionKey: aws.String("pk"), Data: []byte("over tls"),
		})
		if err != nil {
			t.Fatalf("PutRecord over https: %v", err)
		}
		recs := k.readShard(ctx, t, stream, aws.ToString(out.ShardId))
		if len(recs) != 1 || string(recs[0].Data) != "over tls" {
			t.Errorf("read back %d records (first %q), want one, %q", len(recs), firstData(recs), "over tls")
		}
	})

	t.Run("ALPN", func(t *testing.T) {
		for _, tt := range []struct {
			h2    bool
			proto string
		}{{true, "HTTP/2.0"}, {false, "HTTP/1.1"}} {
			resp := postListStreams(ctx, t, f.httpsClient(t, tt.h2), endpoint)
			if resp.Proto != tt.proto || resp.StatusCode != http.StatusOK {
				t.Errorf("ListStreams (HTTP/2 offered: %v): %s %s, want %s 200", tt.h2, resp.Proto, resp.Status, tt.proto)
			}
		}
	})

	t.Run("metrics", func(t *testing.T) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+f.metricsAddr+"/metrics", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := f.httpsClient(t, true).Do(req)
		if err != nil {
			t.Fatalf("GET /metrics over https: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /metrics over https: %s", resp.Status)
		}
	})

	t.Run("aws-cli", func(t *testing.T) {
		cli := newAWSCLI(t)
		cli.endpoint = endpoint
		// Without the CA the CLI refuses the server.
		if stderr, err := cli.runFailing(ctx, t, "kinesis", "list-streams"); err == nil || !strings.Contains(stderr, "SSL") {
			t.Errorf("aws kinesis list-streams without the CA: err %v, stderr %q; want an SSL verification failure", err, stderr)
		}
		var list struct{ StreamNames []string }
		cli.run(ctx, t, &list, "kinesis", "list-streams", "--no-verify-ssl")
		cli.env = append(cli.env, "AWS_CA_BUNDLE="+f.ca.CertFile)
		cli.run(ctx, t, &list, "kinesis", "list-streams")
	})

	t.Run("spate-cli", func(t *testing.T) {
		spate := func(args ...string) (string, error) {
			cmd := exec.CommandContext(ctx, spateBin, append([]string{"--grpc-addr", f.srv.GRPCAddr}, args...)...)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			return out.String(), err
		}
		if out, err := spate("--tls-ca", f.ca.CertFile, "--tls-client-cert", f.clientCert, "--tls-client-key", f.clientKey,
			"stream", "list"); err != nil {
			t.Errorf("spate --tls-ca with a client certificate: %v\n%s", err, out)
		}
		for _, tt := range []struct {
			name string
			args []string
		}{
			{"plain text", nil},
			{"no client certificate", []string{"--tls-ca", f.ca.CertFile}},
			{"client certificate of another CA", []string{"--tls-ca", f.ca.CertFile, "--tls-client-cert", f.strangerCert, "--tls-client-key", f.strangerKey}},
			{"server CA not trusted", []string{"--tls", "--tls-client-cert", f.clientCert, "--tls-client-key", f.clientKey}},
		} {
			if out, err := spate(append(tt.args, "stream", "list")...); err == nil {
				t.Errorf("spate stream list (%s) succeeded, want a refusal:\n%s", tt.name, out)
			}
		}
	})

	t.Run("grpc-mtls", func(t *testing.T) {
		clientCert, err := tls.LoadX509KeyPair(f.clientCert, f.clientKey)
		if err != nil {
			t.Fatal(err)
		}
		stranger, err := tls.LoadX509KeyPair(f.strangerCert, f.strangerKey)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name  string
			certs []tls.Certificate
			ok    bool
		}{
			{"signed by the client CA", []tls.Certificate{clientCert}, true},
			{"no certificate", nil, false},
			{"signed by another CA", []tls.Certificate{stranger}, false},
		} {
			creds := grpccreds.NewTLS(&tls.Config{RootCAs: f.ca.Pool(), Certificates: tt.certs})
			_, err := listStreamsGRPC(ctx, t, f.srv.GRPCAddr, grpc.WithTransportCredentials(creds))
			if (err == nil) != tt.ok {
				t.Errorf("ListStreams with a client certificate %s: err %v, want success %v", tt.name, err, tt.ok)
			}
		}
	})

	t.Run("plain text refused", func(t *testing.T) {
		// HTTP: net/http answers a plain request on a TLS port with 400.
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+f.srv.HTTPAddr+"/v1/applications", nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("plain GET on the TLS port: %s, want 400", resp.Status)
			}
		}
		if _, err := listStreamsGRPC(ctx, t, f.srv.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials())); err == nil {
			t.Errorf("plain-text gRPC on the TLS port succeeded")
		}
		// Garbage on every port is closed, and the server serves on.
		for _, addr := range []string{f.srv.HTTPAddr, f.srv.GRPCAddr, f.metricsAddr} {
			conn := dialTCP(t, addr)
			if _, err := io.WriteString(conn, "GET / HTTP/1.0\r\n\r\n"+strings.Repeat("\x00garbage", 100)); err != nil {
				t.Fatalf("write to %s: %v", addr, err)
			}
			waitClosed(t, conn, "plain text on a TLS port")
		}
		if resp := postListStreams(ctx, t, f.httpsClient(t, true), endpoint); resp.StatusCode != http.StatusOK {
			t.Errorf("ListStreams after plain-text clients: %s", resp.Status)
		}
	})
}

// postListStreams sends a Kinesis ListStreams with c to endpoint.
func postListStreams(ctx context.Context, t *testing.T, c *http.Client, endpoint string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "Kinesis_20131202.ListStreams")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("ListStreams over https: %v", err)
	}
	_, _ = io.Copy(io.Discard, bufio.NewReader(resp.Body))
	resp.Body.Close()
	return resp
}

// listStreamsGRPC calls ListStreams on a new connection with creds.
func listStreamsGRPC(ctx context.Context, t *testing.T, addr string, creds grpc.DialOption) ([]string, error) {
	t.Helper()
	cc, err := grpc.NewClient("passthrough:///"+addr, append(grpcapi.DialOptions(), creds)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(ctx, closeBound)
	defer cancel()
	out, err := spatev1.NewStreamServiceClient(cc).ListStreams(ctx, &spatev1.ListStreamsRequest{}, grpc.WaitForReady(false))
	return slices.Clone(out.GetStreamNames()), err
}
