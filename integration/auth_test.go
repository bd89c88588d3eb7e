package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/spatehq/spate/internal/sdkhttp"
)

// The profiles of the authenticated server: admin may do everything;
// reader may read every stream but those named secret-*; writer may only
// put to the streams named w-*.
const authCredentials = `[admin]
aws_access_key_id = AKIDADMIN
aws_secret_access_key = admin-secret

[reader]
aws_access_key_id = AKIDREADER
aws_secret_access_key = reader-secret

[writer]
aws_access_key_id = AKIDWRITER
aws_secret_access_key = writer-secret
`

const authPolicies = `{
  "admin": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
  "reader": {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["kinesis:Get*", "kinesis:Describe*", "kinesis:List*", "kinesis:SubscribeToShard"], "Resource": "*"},
    {"Effect": "Deny", "Action": "kinesis:*", "Resource": "arn:aws:kinesis:*:*:stream/secret-*"}
  ]},
  "writer": {"Statement": {"Effect": "Allow", "Action": "kinesis:PutRecord*", "Resource": "arn:aws:kinesis:us-east-1:000000000000:stream/w-*"}}
}`

// authServer is a server started with --credentials and --policies, and
// the files it was given.
type authServer struct {
	*server
	credentials string
}

func startAuthServer(t *testing.T) *authServer {
	t.Helper()
	return startAuthServerWith(t, authCredentials, authPolicies)
}

// startAuthServerWith starts a server with the credentials and policies
// files given as text.
func startAuthServerWith(t *testing.T, credsText, policiesText string, opts ...serverOption) *authServer {
	t.Helper()
	dir := t.TempDir()
	creds, pol := filepath.Join(dir, "credentials"), filepath.Join(dir, "policies.json")
	if err := os.WriteFile(creds, []byte(credsText), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pol, []byte(policiesText), 0o600); err != nil {
		t.Fatal(err)
	}
	opts = append([]serverOption{withArgs("--credentials", creds, "--policies", pol)}, opts...)
	return &authServer{server: startServer(t, opts...), credentials: creds}
}

// kinesisAs is an SDK client signing with id/secret; signer, when set,
// replaces the SDK's v4 signer, and transport wraps the HTTP transport.
func (s *authServer) kinesisAs(t *testing.T, id, secret string, opts ...func(*kinesis.Options)) *kinesis.Client {
	t.Helper()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(transport.CloseIdleConnections)
	o := kinesis.Options{
		BaseEndpoint: aws.String(s.Endpoint()),
		Region:       "eu-central-1", // any region is accepted
		Credentials:  credentials.NewStaticCredentialsProvider(id, secret, ""),
		Retryer:      retry.AddWithMaxAttempts(retry.NewStandard(), 1),
		HTTPClient:   &http.Client{Transport: sdkhttp.PlainBodies(transport)},
	}
	if id == "" {
		o.Credentials = aws.AnonymousCredentials{}
	}
	for _, f := range opts {
		f(&o)
	}
	return kinesis.New(o)
}

// skewedSigner signs as if the client's clock were off by skew.
type skewedSigner struct {
	skew time.Duration
	v4   *v4.Signer
}

func (s skewedSigner) SignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, at time.Time, optFns ...func(*v4.SignerOptions)) error {
	return s.v4.SignHTTP(ctx, creds, r, payloadHash, service, region, at.Add(s.skew), optFns...)
}

// tamper changes one byte of every request body after it was signed.
type tamper struct{ next http.RoundTripper }

func (tp tamper) RoundTrip(r *http.Request) (*http.Response, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	b = bytes.Replace(b, []byte(`"Data":"`), []byte(`"Data":"A`), 1)
	b = bytes.Replace(b, []byte(`="`), []byte(`"`), 1) // keep valid base64 length: drop a pad if any
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(b))
	r2.ContentLength = int64(len(b))
	return tp.next.RoundTrip(r2)
}

func wantCode(t *testing.T, err error, code string, mentions ...string) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("got %v, want %s", err, code)
	}
	if apiErr.ErrorCode() != code {
		t.Fatalf("got %s (%q), want %s", apiErr.ErrorCode(), apiErr.ErrorMessage(), code)
	}
	for _, m := range mentions {
		if !strings.Contains(apiErr.ErrorMessage(), m) {
			t.Errorf("%s message %q does not mention %q", code, apiErr.ErrorMessage(), m)
		}
	}
}

// TestAuthSDK drives an authenticated server with aws-sdk-go-v2: right keys
// work, every kind of wrong signature gets AWS's error, and the policies
// decide as IAM would.
func TestAuthSDK(t *testing.T) {
	s := startAuthServer(t)
	ctx := testCtx(t)
	admin := &kin{srv: s.server, c: s.kinesisAs(t, "AKIDADMIN", "admin-secret")}
	open, secret, wStream := uniqueName(t), "secret-"+uniqueName(t), "w-"+uniqueName(t)
	for _, name := range []string{open, secret, wStream} {
		admin.create(ctx, t, name, 1)
		admin.waitActive(ctx, t, name)
		admin.put(ctx, t, name, "pk", []byte("hello "+name))
	}

	put := func(c *kinesis.Client, stream string) error {
		_, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String("pk"), Data: []byte("x")})
		return err
	}
	t.Run("signature", func(t *testing.T) {
		cases := []struct {
			name string
			c    *kinesis.Client
			code string
			msg  string
		}{
			{"right keys", s.kinesisAs(t, "AKIDADMIN", "admin-secret"), "", ""},
			{"wrong secret", s.kinesisAs(t, "AKIDADMIN", "nope"), "InvalidSignatureException", "signature we calculated does not match"},
			{"unknown key", s.kinesisAs(t, "AKIDNOBODY", "x"), "UnrecognizedClientException", "security token"},
			{"unsigned", s.kinesisAs(t, "", ""), "MissingAuthenticationTokenException", "Missing Authentication Token"},
			{"clock 10 minutes behind", s.kinesisAs(t, "AKIDADMIN", "admin-secret", func(o *kinesis.Options) {
				o.HTTPSignerV4 = skewedSigner{skew: -10 * time.Minute, v4: v4.NewSigner()}
			}), "InvalidSignatureException", "Signature expired"},
			{"clock 10 minutes ahead", s.kinesisAs(t, "AKIDADMIN", "admin-secret", func(o *kinesis.Options) {
				o.HTTPSignerV4 = skewedSigner{skew: 10 * time.Minute, v4: v4.NewSigner()}
			}), "InvalidSignatureException", "Signature not yet current"},
			{"tampered body", s.kinesisAs(t, "AKIDADMIN", "admin-secret", func(o *kinesis.Options) {
				transport := http.DefaultTransport.(*http.Transport).Clone()
				t.Cleanup(transport.CloseIdleConnections)
				o.HTTPClient = &http.Client{Transport: tamper{next: transport}}
			}), "InvalidSignatureException", ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				err := put(c.c, open)
				if c.code == "" {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				wantCode(t, err, c.code, c.msg)
			})
		}
	})

	t.Run("policies", func(t *testing.T) {
		reader := s.kinesisAs(t, "AKIDREADER", "reader-secret")
		writer := s.kinesisAs(t, "AKIDWRITER", "writer-secret")
		iterator := func(c *kinesis.Client, stream string) (*string, error) {
			out, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream),
				ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
			if err != nil {
				return nil, err
			}
			return out.ShardIterator, nil
		}
		// The reader reads the open stream.
		it, err := iterator(reader, open)
		if err != nil {
			t.Fatalf("reader GetShardIterator: %v", err)
		}
		got, err := reader.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it})
		if err != nil || len(got.Records) == 0 || string(got.Records[0].Data) != "hello "+open {
			t.Fatalf("reader GetRecords = %v, %v", got, err)
		}
		if _, err := reader.ListStreams(ctx, &kinesis.ListStreamsInput{}); err != nil {
			t.Errorf("reader ListStreams: %v", err)
		}
		// ... but not a secret one, not even with an iterator it got elsewhere.
		_, err = iterator(reader, secret)
		wantCode(t, err, "AccessDeniedException", "User: arn:aws:iam::000000000000:user/reader is not authorized to perform: kinesis:GetShardIterator on resource: arn:aws:kinesis:us-east-1:000000000000:stream/"+secret, "explicit deny")
		secretIt, err := iterator(admin.c, secret)
		if err != nil {
			t.Fatal(err)
		}
		_, err = reader.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: secretIt})
		wantCode(t, err, "AccessDeniedException", "kinesis:GetRecords", "stream/"+secret)
		// Reading is not writing.
		wantCode(t, put(reader, open), "AccessDeniedException", "kinesis:PutRecord", "no identity-based policy allows")
		// The writer puts to w-* only, and reads nothing.
		if err := put(writer, wStream); err != nil {
			t.Errorf("writer PutRecord on %s: %v", wStream, err)
		}
		if _, err := writer.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(wStream),
			Records: []types.PutRecordsRequestEntry{{PartitionKey: aws.String("k"), Data: []byte("y")}}}); err != nil {
			t.Errorf("writer PutRecords on %s: %v", wStream, err)
		}
		wantCode(t, put(writer, open), "AccessDeniedException", "stream/"+open)
		_, err = writer.ListStreams(ctx, &kinesis.ListStreamsInput{})
		wantCode(t, err, "AccessDeniedException", "kinesis:ListStreams on resource: *")
		_, err = writer.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(wStream)})
		wantCode(t, err, "AccessDeniedException", "kinesis:DeleteStream")
	})

	t.Run("firehose", func(t *testing.T) {
		fh := func(id, secret string) *firehose.Client {
			return firehose.New(firehose.Options{
				BaseEndpoint: aws.String(s.Endpoint()),
				Region:       "us-east-1",
				Credentials:  credentials.NewStaticCredentialsProvider(id, secret, ""),
				Retryer:      retry.AddWithMaxAttempts(retry.NewStandard(), 1),
			})
		}
		if _, err := fh("AKIDADMIN", "admin-secret").ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{}); err != nil {
			t.Errorf("admin ListDeliveryStreams: %v", err)
		}
		_, err := fh("AKIDADMIN", "wrong").ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{})
		wantCode(t, err, "InvalidSignatureException")
		_, err = fh("AKIDNOBODY", "x").ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{})
		wantCode(t, err, "UnrecognizedClientException")
		_, err = fh("AKIDREADER", "reader-secret").ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{})
		wantCode(t, err, "AccessDeniedException", "firehose:ListDeliveryStreams")
	})
}

// TestAuthAWSCLI: the AWS CLI signs with a profile of a credentials file
// and is let in; with keys the server does not know, or the wrong secret,
// it reports AWS's error.
func TestAuthAWSCLI(t *testing.T) {
	cli := newAWSCLI(t)
	s := startAuthServer(t)
	cli.endpoint = s.Endpoint()
	ctx := testCtx(t)
	withEnv := func(env ...string) *awsCLI {
		c := *cli
		c.env = append(slices.DeleteFunc(slices.Clone(cli.env), func(kv string) bool {
			return strings.HasPrefix(kv, "AWS_ACCESS_KEY_ID=") || strings.HasPrefix(kv, "AWS_SECRET_ACCESS_KEY=") ||
				strings.HasPrefix(kv, "AWS_SHARED_CREDENTIALS_FILE=")
		}), env...)
		return &c
	}
	good := withEnv("AWS_SHARED_CREDENTIALS_FILE="+s.credentials, "AWS_PROFILE=admin")
	var list struct{ StreamNames []string }
	good.run(ctx, t, &list, "kinesis", "list-streams")

	for _, c := range []struct {
		name string
		cli  *awsCLI
		code string
	}{
		{"wrong secret", withEnv("AWS_ACCESS_KEY_ID=AKIDADMIN", "AWS_SECRET_ACCESS_KEY=wrong"), "InvalidSignatureException"},
		{"unknown key", withEnv("AWS_ACCESS_KEY_ID=AKIDNOBODY", "AWS_SECRET_ACCESS_KEY=x"), "UnrecognizedClientException"},
		{"denied", withEnv("AWS_SHARED_CREDENTIALS_FILE="+s.credentials, "AWS_PROFILE=writer"), "AccessDeniedException"},
	} {
		t.Run(c.name, func(t *testing.T) {
			stderr, err := c.cli.runFailing(ctx, t, "kinesis", "list-streams")
			if err == nil || !strings.Contains(stderr, c.code) {
				t.Errorf("aws kinesis list-streams: err %v, stderr %q; want %s", err, stderr, c.code)
			}
		})
	}
}

// signedHTTP sends an Analytics API request signed with id/secret (none
// when id is empty) and returns the status and the error type.
func signedHTTP(ctx context.Context, t *testing.T, method, url, body, id, secret string) (int, string) {
	t.Helper()
	r, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if id != "" {
		sum := sha256.Sum256([]byte(body))
		err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, r,
			hex.EncodeToString(sum[:]), "kinesisanalytics", "us-east-1", time.Now())
		if err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Type string `json:"__type"`
	}
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &e)
	return resp.StatusCode, e.Type
}

// TestAuthAnalyticsHTTP: the Analytics API under /v1/ is no back door.
func TestAuthAnalyticsHTTP(t *testing.T) {
	s := startAuthServer(t)
	ctx := testCtx(t)
	base := s.Endpoint() + "/v1"
	admin := &kin{srv: s.server, c: s.kinesisAs(t, "AKIDADMIN", "admin-secret")}
	secret := "secret-" + uniqueName(t)
	admin.create(ctx, t, secret, 1)
	admin.waitActive(ctx, t, secret)
	cases := []struct {
		name, method, path, body, id, secret string
		status                               int
		code                                 string
	}{
		{"unsigned", "GET", "/applications", "", "", "", 403, "MissingAuthenticationTokenException"},
		{"unknown key", "GET", "/applications", "", "AKIDNOBODY", "x", 400, "UnrecognizedClientException"},
		{"wrong secret", "POST", "/validate", `{"sql":"SELECT 1 AS x FROM s"}`, "AKIDADMIN", "nope", 400, "InvalidSignatureException"},
		{"admin lists", "GET", "/applications", "", "AKIDADMIN", "admin-secret", 200, ""},
		{"reader may not list applications", "GET", "/applications", "", "AKIDREADER", "reader-secret", 403, "AccessDeniedException"},
		{"reader may not discover a secret stream", "GET", "/streams/" + secret + "/schema", "", "AKIDREADER", "reader-secret", 403, "AccessDeniedException"},
		{"writer may not create", "POST", "/applications", `{"name":"a","sql":"SELECT 1 AS x FROM s"}`, "AKIDWRITER", "writer-secret", 403, "AccessDeniedException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, code := signedHTTP(ctx, t, c.method, base+c.path, c.body, c.id, c.secret)
			if status != c.status || code != c.code {
				t.Errorf("%s %s = %d %s, want %d %s", c.method, c.path, status, code, c.status, c.code)
			}
		})
	}
}

// TestAuthGRPC: spate's client commands sign their gRPC calls with
// --profile, AWS_PROFILE or the AWS_ACCESS_KEY_ID pair; unsigned, unknown
// and denied calls fail as on the HTTP APIs.
func TestAuthGRPC(t *testing.T) {
	s := startAuthServer(t)
	ctx := testCtx(t)
	home := t.TempDir() // no ~/.aws/credentials of the user's
	baseEnv := append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "HOME=")
	}), "HOME="+home)
	spate := func(env []string, stdin string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, spateBin, append([]string{"--grpc-addr", s.GRPCAddr}, args...)...)
		cmd.Env = append(slices.Clone(baseEnv), env...)
		cmd.Stdin = strings.NewReader(stdin)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	file := "AWS_SHARED_CREDENTIALS_FILE=" + s.credentials
	stream, wStream := uniqueName(t), "w-"+uniqueName(t)
	for _, name := range []string{stream, wStream} {
		if out, err := spate([]string{file}, "", "--profile", "admin", "stream", "create", name, "--shards", "1"); err != nil {
			t.Fatalf("stream create as admin: %v\n%s", err, out)
		}
	}
	admin := &kin{srv: s.server, c: s.kinesisAs(t, "AKIDADMIN", "admin-secret")}
	admin.waitActive(ctx, t, stream)
	admin.waitActive(ctx, t, wStream)

	cases := []struct {
		name  string
		env   []string
		stdin string
		args  []string
		fail  string // "": succeeds; else in the output
	}{
		{"unsigned", nil, "", []string{"stream", "list"}, "MissingAuthenticationTokenException"},
		{"env keys", []string{"AWS_ACCESS_KEY_ID=AKIDADMIN", "AWS_SECRET_ACCESS_KEY=admin-secret"}, "", []string{"stream", "list"}, ""},
		{"wrong secret", []string{"AWS_ACCESS_KEY_ID=AKIDADMIN", "AWS_SECRET_ACCESS_KEY=x"}, "", []string{"stream", "list"}, "InvalidSignatureException"},
		{"unknown key", []string{"AWS_ACCESS_KEY_ID=AKIDX", "AWS_SECRET_ACCESS_KEY=x"}, "", []string{"stream", "list"}, "UnrecognizedClientException"},
		{"AWS_PROFILE", []string{file, "AWS_PROFILE=reader"}, "", []string{"stream", "describe", stream}, ""},
		{"no such profile", []string{file}, "", []string{"--profile", "nobody", "stream", "list"}, "no profile [nobody]"},
		{"writer puts", []string{file}, "a record\n", []string{"--profile", "writer", "put", wStream}, ""},
		{"writer may not put elsewhere", []string{file}, "a record\n", []string{"--profile", "writer", "put", stream}, "AccessDeniedException"},
		{"reader may not create", []string{file}, "", []string{"--profile", "reader", "stream", "create", "x", "--shards", "1"}, "AccessDeniedException"},
		{"admin lists apps", []string{file}, "", []string{"--profile", "admin", "app", "list"}, ""},
		{"reader may not list apps", []string{file}, "", []string{"--profile", "reader", "app", "list"}, "AccessDeniedException"},
		{"admin validates SQL", []string{file}, "SELECT 1 AS x FROM s\n", []string{"--profile", "admin", "sql", "validate", "-"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := spate(c.env, c.stdin, c.args...)
			if c.fail == "" {
				if err != nil {
					t.Fatalf("spate %s: %v\n%s", strings.Join(c.args, " "), err, out)
				}
				return
			}
			if err == nil || !strings.Contains(out, c.fail) {
				t.Errorf("spate %s: err %v, output %q; want a failure with %q", strings.Join(c.args, " "), err, out, c.fail)
			}
		})
	}

	// tail (a Subscribe stream) reads as the reader.
	sc, stop, tailErr := startTail(ctx, t, append(slices.Clone(baseEnv), file),
		"--grpc-addr", s.GRPCAddr, "--profile", "reader", "tail", wStream, "--from", "trim-horizon")
	line := ""
	if sc.Scan() {
		line = sc.Text()
	}
	stop()
	if !strings.Contains(line, "a record") {
		t.Errorf("spate tail as reader printed %q; stderr %s", line, tailErr.String())
	}
}

// TestAuthLoopbackRule: without --credentials the server refuses to listen
// beyond loopback unless --auth none says so, and says when it accepts
// unsigned requests.
func TestAuthLoopbackRule(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test; skipped with -short")
	}
	run := func(t *testing.T, args ...string) (*process, *logBuffer) {
		log := &logBuffer{}
		p, err := startProcess(log, spateBin, append([]string{"serve", "--data-dir", t.TempDir(),
			"--grpc-addr", "127.0.0.1:0", "--log-format", "json"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if !p.exited() {
				_ = p.stop(stopTimeout)
			}
		})
		return p, log
	}
	ready := func(t *testing.T, p *process, log *logBuffer) {
		t.Helper()
		select {
		case <-p.ready:
		case <-p.done:
			t.Fatalf("server exited: %v\n%s", p.waitErr, log.String())
		case <-time.After(startTimeout):
			t.Fatalf("server did not start\n%s", log.String())
		}
	}

	t.Run("0.0.0.0 without credentials refuses", func(t *testing.T) {
		p, log := run(t, "--http-addr", "0.0.0.0:0")
		select {
		case <-p.done:
		case <-time.After(startTimeout):
			t.Fatalf("server did not exit\n%s", log.String())
		}
		if p.waitErr == nil || !strings.Contains(log.String(), "--credentials") || !strings.Contains(log.String(), "--auth none") {
			t.Errorf("exit %v, output:\n%s\nwant a failure naming --credentials and --auth none", p.waitErr, log.String())
		}
	})
	t.Run("metrics on 0.0.0.0 refuses too", func(t *testing.T) {
		p, log := run(t, "--http-addr", "127.0.0.1:0", "--metrics-addr", "0.0.0.0:0")
		<-p.done
		if p.waitErr == nil || !strings.Contains(log.String(), "--metrics-addr") {
			t.Errorf("exit %v, output:\n%s", p.waitErr, log.String())
		}
	})
	t.Run("--auth none starts", func(t *testing.T) {
		p, log := run(t, "--http-addr", "0.0.0.0:0", "--auth", "none")
		ready(t, p, log)
		if !strings.Contains(log.String(), "authentication is off") {
			t.Errorf("no warning in the log:\n%s", log.String())
		}
	})
	t.Run("loopback warns", func(t *testing.T) {
		p, log := run(t, "--http-addr", "127.0.0.1:0")
		ready(t, p, log)
		if !strings.Contains(log.String(), `"level":"WARN","msg":"accepting unsigned requests`) {
			t.Errorf("no warning in the log:\n%s", log.String())
		}
	})
}
