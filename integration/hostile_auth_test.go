package integration

// The signed half of the hostile-request table: a server with
// --credentials and --policies, and requests whose SigV4 signature is
// missing, malformed, made with the wrong key, for the wrong service or
// time, or correct but broken after signing, plus requests that the
// signer's policy denies, on all four faces. Each HTTP request is signed
// by aws-sdk-go-v2's v4 signer at the moment it is sent, then mutated;
// gRPC calls carry metadata signed the same way (docs/security.md, "gRPC:
// signed metadata"). After the rows, the known stream written by the
// writer profile reads back exactly.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// The profiles: admin may do everything; reader may read the streams r-*
// but not r-secret* (an explicit deny); writer may put to the streams and
// delivery streams w-*; nobody has a key but no policy, so may do nothing.
const hostileCredentials = `[admin]
aws_access_key_id = AKIDHADMIN
aws_secret_access_key = hadmin-secret

[reader]
aws_access_key_id = AKIDHREADER
aws_secret_access_key = hreader-secret

[writer]
aws_access_key_id = AKIDHWRITER
aws_secret_access_key = hwriter-secret

[nobody]
aws_access_key_id = AKIDHNOBODY
aws_secret_access_key = hnobody-secret
`

const hostilePolicies = `{
  "admin": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
  "reader": {"Statement": [
    {"Effect": "Allow", "Action": ["kinesis:Get*", "kinesis:Describe*", "kinesis:List*"], "Resource": "arn:aws:kinesis:*:*:stream/r-*"},
    {"Effect": "Deny", "Action": "kinesis:*", "Resource": "arn:aws:kinesis:*:*:stream/r-secret*"}
  ]},
  "writer": {"Statement": [
    {"Effect": "Allow", "Action": "kinesis:Put*", "Resource": "arn:aws:kinesis:*:*:stream/w-*"},
    {"Effect": "Allow", "Action": "firehose:Put*", "Resource": "arn:aws:firehose:*:*:deliverystream/w-*"}
  ]}
}`

// hostileKey is a profile's key.
type hostileKey struct{ id, secret string }

var (
	keyAdmin   = hostileKey{"AKIDHADMIN", "hadmin-secret"}
	keyReader  = hostileKey{"AKIDHREADER", "hreader-secret"}
	keyWriter  = hostileKey{"AKIDHWRITER", "hwriter-secret"}
	keyNobody  = hostileKey{"AKIDHNOBODY", "hnobody-secret"}
	keyUnknown = hostileKey{"AKIDHUNKNOWN", "whatever"}
	keyWrong   = hostileKey{"AKIDHADMIN", "not-the-secret"}
)

const (
	e403 = http.StatusForbidden
	e431 = http.StatusRequestHeaderFieldsTooLarge

	tMissing    = "MissingAuthenticationTokenException"
	tIncomplete = "IncompleteSignatureException"
	tUnrecog    = "UnrecognizedClientException"
	tInvalid    = "InvalidSignatureException"
	tDenied     = "AccessDeniedException"

	amzDate = "20060102T150405Z"
)

// signing says how a row signs its request and how it breaks it after.
type signing struct {
	key     hostileKey
	service string        // the scope's service; "": the face's
	skew    time.Duration // the signer's clock is off by this
	// payloadHash: "" the body's SHA-256.
	payloadHash string
	unsigned    bool // no signature at all
	presign     bool // a presigned URL instead of the Authorization header
	// before changes the request before it is signed; after, after.
	before func(r *http.Request)
	after  func(r *http.Request, body []byte)
	raw    bool // sent over a plain TCP connection, bypassing the client's header checks
}

// send returns a hostileCase.send that signs the request for service.
func (s signing) send(service string) func(e *hostileEnv, r *http.Request, body []byte) (*http.Response, error) {
	return func(e *hostileEnv, r *http.Request, body []byte) (*http.Response, error) {
		if s.before != nil {
			s.before(r)
		}
		svc := s.service
		if svc == "" {
			svc = service
		}
		hash := s.payloadHash
		if hash == "" {
			sum := sha256.Sum256(body)
			hash = hex.EncodeToString(sum[:])
		}
		creds := aws.Credentials{AccessKeyID: s.key.id, SecretAccessKey: s.key.secret}
		at := time.Now().Add(s.skew)
		switch {
		case s.unsigned:
		case s.presign:
			u, hdr, err := v4.NewSigner().PresignHTTP(r.Context(), creds, r, hash, svc, "us-east-1", at)
			if err != nil {
				return nil, err
			}
			if r.URL, err = url.Parse(u); err != nil {
				return nil, err
			}
			for k, v := range hdr {
				r.Header[k] = v
			}
		default:
			if err := v4.NewSigner().SignHTTP(r.Context(), creds, r, hash, svc, "us-east-1", at); err != nil {
				return nil, err
			}
		}
		if s.after != nil {
			s.after(r, body)
		}
		if s.raw {
			return rawRoundTrip(r)
		}
		return e.http.Do(r)
	}
}

// rawRoundTrip writes r on a new TCP connection as it is (net/http's
// client refuses a NUL in a header value) and reads the response.
func rawRoundTrip(r *http.Request) (*http.Response, error) {
	conn, err := (&net.Dialer{}).DialContext(r.Context(), "tcp", r.URL.Host)
	if err != nil {
		return nil, err
	}
	r.Close = true
	if err := r.Write(conn); err != nil {
		_ = conn.Close()
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), r)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{resp.Body, conn}
	return resp, nil
}

// editAuth rewrites the Authorization header after signing.
func editAuth(f func(h string) string) func(r *http.Request, _ []byte) {
	return func(r *http.Request, _ []byte) { r.Header.Set("Authorization", f(r.Header.Get("Authorization"))) }
}

// replaceAuth replaces old with new in the Authorization header.
func replaceAuth(old, new string) func(r *http.Request, _ []byte) {
	return editAuth(func(h string) string { return strings.Replace(h, old, new, 1) })
}

// withSignature replaces the signature (the header's last 64 characters).
func withSignature(sig string) func(r *http.Request, _ []byte) {
	return editAuth(func(h string) string { return h[:len(h)-64] + sig })
}

// signedFace is one HTTP face and the request its signature rows send: an
// operation the admin may run, which touches no data.
type signedFace struct {
	name, service string
	method, path  string
	target        string // X-Amz-Target of the JSON faces
	body          string
}

func (f signedFace) row(name string, body string, s signing, status int, errType string) hostileCase {
	c := hostileCase{name: "signed/" + f.name + "/" + name, method: f.method, path: f.path, target: f.target,
		body: str(body), send: s.send(f.service), status: status, errType: errType}
	c.header = map[string]string{"Content-Type": "application/json"}
	if f.target != "" {
		c.header = map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f.target}
	}
	return c
}

// action is f with another operation (JSON faces) or path.
func (f signedFace) action(target string) signedFace { f.target = target; return f }
func (f signedFace) at(method, path string) signedFace {
	f.method, f.path = method, path
	return f
}

// signatureRows are the breakages every HTTP face must refuse, and the
// control that the unbroken request passes.
func signatureRows(f signedFace) []hostileCase {
	admin := signing{key: keyAdmin}
	with := func(after func(*http.Request, []byte)) signing { s := admin; s.after = after; return s }
	date := func(d string) signing {
		return with(func(r *http.Request, _ []byte) { r.Header.Set("X-Amz-Date", d) })
	}
	huge := strings.Repeat("a", 100<<10)
	return []hostileCase{
		f.row("admin, signed right", f.body, admin, http.StatusOK, ""),
		f.row("no Authorization header", f.body, signing{unsigned: true}, e403, tMissing),
		f.row("empty Authorization header", f.body, signing{unsigned: true, after: func(r *http.Request, _ []byte) {
			r.Header["Authorization"] = []string{""}
		}}, e403, tMissing),
		f.row("algorithm AWS4-HMAC-SHA1", f.body, with(replaceAuth("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1")), e400, tIncomplete),
		f.row("algorithm only", f.body, with(editAuth(func(string) string { return "AWS4-HMAC-SHA256" })), e400, tIncomplete),
		f.row("Basic auth", f.body, with(editAuth(func(string) string { return "Basic YWRtaW46YWRtaW4=" })), e400, tIncomplete),
		f.row("no Credential", f.body, with(editAuth(func(h string) string {
			_, rest, _ := strings.Cut(h, ", ")
			return "AWS4-HMAC-SHA256 " + rest
		})), e400, tIncomplete),
		f.row("no SignedHeaders", f.body, with(editAuth(func(h string) string {
			i, j := strings.Index(h, " SignedHeaders="), strings.Index(h, " Signature=")
			return h[:i] + h[j:]
		})), e400, tIncomplete),
		f.row("no Signature", f.body, with(editAuth(func(h string) string { return h[:strings.Index(h, ", Signature=")] })), e400, tIncomplete),
		f.row("unknown parameter", f.body, with(editAuth(func(h string) string { return h + ", Extra=1" })), e400, tIncomplete),
		f.row("Credential twice", f.body, with(editAuth(func(h string) string {
			cred := h[len("AWS4-HMAC-SHA256 "):strings.Index(h, ",")]
			return h + ", " + cred
		})), e400, tIncomplete),
		f.row("scope with too few slashes", f.body, with(replaceAuth("/us-east-1/", "/us-east-1")), e400, tIncomplete),
		f.row("scope with too many slashes", f.body, with(replaceAuth("/us-east-1/", "/us-east-1//")), e400, tIncomplete),
		f.row("scope terminator aws4_requests", f.body, with(replaceAuth("/aws4_request", "/aws4_requests")), e400, tIncomplete),
		f.row("scope terminator aws3_request", f.body, with(replaceAuth("/aws4_request", "/aws3_request")), e400, tIncomplete),
		f.row("scope date not a date", f.body, with(editAuth(func(h string) string {
			i := strings.Index(h, "/") + 1
			return h[:i] + "2026-1-1" + h[i+8:]
		})), e400, tIncomplete),
		f.row("scope date not X-Amz-Date's", f.body, with(editAuth(func(h string) string {
			i := strings.Index(h, "/") + 1
			return h[:i] + "20200101" + h[i+8:]
		})), e400, tInvalid),
		f.row("scope service dynamodb", f.body, signing{key: keyAdmin, service: "dynamodb"}, e400, tInvalid),
		f.row("scope service of another face", f.body, signing{key: keyAdmin, service: otherService(f.service)}, e400, tInvalid),
		f.row("signature not hex", f.body, with(withSignature(strings.Repeat("z", 64))), e400, tIncomplete),
		f.row("signature upper-case hex", f.body, with(editAuth(func(h string) string { return h[:len(h)-64] + strings.ToUpper(h[len(h)-64:]) })), e400, tIncomplete),
		f.row("signature short", f.body, with(editAuth(func(h string) string { return h[:len(h)-2] })), e400, tIncomplete),
		f.row("signature of zeros", f.body, with(withSignature(strings.Repeat("0", 64))), e400, tInvalid),
		f.row("no X-Amz-Date", f.body, with(func(r *http.Request, _ []byte) { r.Header.Del("X-Amz-Date") }), e400, tIncomplete),
		f.row("Date instead of X-Amz-Date", f.body, with(func(r *http.Request, _ []byte) {
			r.Header.Del("X-Amz-Date")
			r.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
		}), e400, tIncomplete),
		f.row("X-Amz-Date ISO with dashes", f.body, date(time.Now().UTC().Format(time.RFC3339)), e400, tIncomplete),
		f.row("X-Amz-Date without Z", f.body, date(time.Now().UTC().Format("20060102T150405")), e400, tIncomplete),
		f.row("X-Amz-Date month 13", f.body, date(time.Now().UTC().Format("2006")+"1301T000000Z"), e400, tIncomplete),
		f.row("X-Amz-Date empty", f.body, date(""), e400, tIncomplete),
		f.row("X-Amz-Date a minute later than signed", f.body, with(func(r *http.Request, _ []byte) {
			t, _ := time.Parse(amzDate, r.Header.Get("X-Amz-Date"))
			r.Header.Set("X-Amz-Date", t.Add(time.Minute).Format(amzDate))
		}), e400, tInvalid),
		f.row("clock 10 minutes behind", f.body, signing{key: keyAdmin, skew: -10 * time.Minute}, e400, tInvalid),
		f.row("clock 10 minutes ahead", f.body, signing{key: keyAdmin, skew: 10 * time.Minute}, e400, tInvalid),
		f.row("clock a day behind", f.body, signing{key: keyAdmin, skew: -24 * time.Hour}, e400, tInvalid),
		f.row("unknown access key", f.body, signing{key: keyUnknown}, e400, tUnrecog),
		f.row("access key empty", f.body, with(replaceAuth("Credential="+keyAdmin.id+"/", "Credential=/")), e400, tIncomplete),
		f.row("right key, wrong secret", f.body, signing{key: keyWrong}, e400, tInvalid),
		f.row("another profile's key in the header", f.body, with(replaceAuth(keyAdmin.id, keyReader.id)), e400, tInvalid),
		f.row("body tampered after signing", f.body, with(func(r *http.Request, body []byte) {
			b := bytes.Clone(body)
			i := bytes.IndexFunc(b, func(c rune) bool { return c >= 'a' && c <= 'z' })
			b[i] -= 'a' - 'A'
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		}), e400, tInvalid),
		f.row("x-amz-content-sha256 of another body", f.body, signing{key: keyAdmin, payloadHash: sha256Hex("{}"), before: func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", sha256Hex("{}"))
		}}, e400, tInvalid),
		f.row("signed over another body's hash", f.body, signing{key: keyAdmin, payloadHash: sha256Hex("{}")}, e400, tInvalid),
		f.row("UNSIGNED-PAYLOAD", f.body, signing{key: keyAdmin, payloadHash: "UNSIGNED-PAYLOAD", before: func(r *http.Request) {
			r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		}}, e400, tInvalid),
		f.row("signed header removed", f.body, signing{key: keyAdmin, before: func(r *http.Request) {
			r.Header.Set("X-Spate-Test", "1")
		}, after: func(r *http.Request, _ []byte) { r.Header.Del("X-Spate-Test") }}, e400, tInvalid),
		f.row("signed header changed", f.body, signing{key: keyAdmin, before: func(r *http.Request) {
			r.Header.Set("X-Spate-Test", "1")
		}, after: func(r *http.Request, _ []byte) { r.Header.Set("X-Spate-Test", "2") }}, e400, tInvalid),
		f.row("SignedHeaders without x-amz-date", f.body, with(editAuth(func(h string) string {
			return strings.Replace(strings.Replace(h, ";x-amz-date", "", 1), "x-amz-date;", "", 1)
		})), e400, tInvalid),
		f.row("SignedHeaders unsorted", f.body, with(editAuth(func(h string) string {
			return strings.Replace(h, "SignedHeaders=", "SignedHeaders=x-amz-date;", 1)
		})), e400, tIncomplete),
		f.row("SignedHeaders upper case", f.body, with(replaceAuth("host", "Host")), e400, tIncomplete),
		f.row("Authorization of 100 KB", f.body, with(editAuth(func(h string) string { return h + huge })), e400, tIncomplete),
		f.row("Authorization of 100 KB in the access key", f.body, with(replaceAuth("Credential=", "Credential="+huge)), e400, tUnrecog),
		f.row("Authorization of 2 MB, over the header limit", f.body, with(editAuth(func(h string) string {
			return h + strings.Repeat("a", 2<<20)
		})), e431, ""),
		f.row("Authorization twice, garbage first", f.body, with(func(r *http.Request, _ []byte) {
			r.Header["Authorization"] = append([]string{"garbage"}, r.Header["Authorization"]...)
		}), e400, tIncomplete),
		f.row("Authorization twice, valid first", f.body, with(func(r *http.Request, _ []byte) {
			r.Header.Add("Authorization", "garbage")
		}), e400, tIncomplete),
		f.row("Authorization twice, both valid", f.body, with(func(r *http.Request, _ []byte) {
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
		}), e400, tIncomplete),
		f.row("X-Amz-Date twice", f.body, with(func(r *http.Request, _ []byte) {
			r.Header.Add("X-Amz-Date", "20200101T000000Z")
		}), e400, tIncomplete),
		f.row("presigned query parameters", f.body, signing{key: keyAdmin, presign: true}, e400, tIncomplete),
		f.row("presigned query and a valid header", f.body, signing{key: keyAdmin, before: func(r *http.Request) {
			r.URL.RawQuery = "X-Amz-Signature=" + strings.Repeat("0", 64)
		}}, http.StatusOK, ""),
		f.row("non-ASCII access key", f.body, with(replaceAuth(keyAdmin.id, "AKIDHÄDMIN")), e400, tUnrecog),
		f.row("non-ASCII algorithm", f.body, with(replaceAuth("AWS4-HMAC-SHA256", "AWS4-HMAC-SHÄ256")), e400, tIncomplete),
		f.row("NUL in the Authorization header", f.body, signing{key: keyAdmin, raw: true, after: replaceAuth("Credential=", "Credential=\x00")}, e400, ""),
	}
}

// otherService is a signing name of another face than service.
func otherService(service string) string {
	if service == "kinesis" {
		return "firehose"
	}
	return "kinesis"
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// grpcSigned is the metadata that signs a call of method at the given
// time with key, for service ("" the method's), made here with the v4
// signer as docs/security.md describes it, not with the server's code.
// The signer fails only on a request it cannot read, never here: a failure
// panics, loudly, rather than send a call that proves nothing.
func grpcSigned(key hostileKey, method, service string, at time.Time) metadata.MD {
	if service == "" {
		switch {
		case strings.HasPrefix(method, "/spate.v1.StreamService/"):
			service = "kinesis"
		case strings.HasPrefix(method, "/spate.v1.FirehoseService/"):
			service = "firehose"
		default:
			service = "kinesisanalytics"
		}
	}
	r := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: method}, Host: "spate", Header: http.Header{}}
	creds := aws.Credentials{AccessKeyID: key.id, SecretAccessKey: key.secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, "UNSIGNED-PAYLOAD", service, "us-east-1", at); err != nil {
		panic(fmt.Sprintf("sign %s: %v", method, err))
	}
	return metadata.Pairs("authorization", r.Header.Get("Authorization"), "x-amz-date", r.Header.Get("X-Amz-Date"))
}

// signingInterceptor adds key's signature to every unary call: the
// connection the table's setup and read-back use.
func signingInterceptor(key hostileKey) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		md := grpcSigned(key, method, "", time.Now())
		return invoker(metadata.NewOutgoingContext(ctx, md), method, req, reply, cc, opts...)
	}
}

func TestHostileSignedRequests(t *testing.T) {
	s := startAuthServerWith(t, hostileCredentials, hostilePolicies)
	dial := func(opts ...grpc.DialOption) *grpc.ClientConn {
		conn, err := grpc.NewClient(s.GRPCAddr, append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return conn
	}
	adminConn := dial(grpc.WithUnaryInterceptor(signingInterceptor(keyAdmin)))
	writer := spatev1.NewStreamServiceClient(dial(grpc.WithUnaryInterceptor(signingInterceptor(keyWriter))))
	raw := dial() // rows add their own metadata
	e := newHostileEnv(t, s.server, adminConn, "w-known", "r-open")
	const secret = "r-secret"
	ctx := testCtx(t)
	for _, name := range []string{e.known, e.other, secret} {
		if _, err := e.kin.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: name, ShardCount: 1}); err != nil {
			t.Fatalf("CreateStream %s as admin: %v", name, err)
		}
	}
	waitActive(ctx, t, e, e.known, e.other, secret)
	var entries []*spatev1.PutRecordsRequestEntry
	for _, r := range knownRecords {
		entries = append(entries, &spatev1.PutRecordsRequestEntry{Data: []byte(r), PartitionKey: "k"})
	}
	if out, err := writer.PutRecords(ctx, &spatev1.PutRecordsRequest{StreamName: e.known, Records: entries}); err != nil || out.FailedRecordCount != 0 {
		t.Fatalf("PutRecords as writer: %v %v", out, err)
	}
	// An iterator of the secret stream, got by the admin: the reader must
	// not read with it.
	secretIt := e.iterator(secret)

	kinesisFace := signedFace{name: "kinesis", service: "kinesis", target: kinesisTarget + "DescribeStreamSummary",
		body: `{"StreamName":"r-open"}`}
	firehoseFace := signedFace{name: "firehose", service: "firehose", target: firehoseTarget + "ListDeliveryStreams",
		body: `{"Limit":10}`}
	analyticsFace := signedFace{name: "analytics", service: "kinesisanalytics", method: http.MethodPost, path: "/v1/validate",
		body: `{"sql":"SELECT 1 AS x FROM s"}`}
	as := func(k hostileKey) signing { return signing{key: k} }

	var rows []hostileCase
	counts := map[string]int{}
	add := func(face string, r ...hostileCase) {
		rows = append(rows, r...)
		counts[face] += len(r)
	}
	for _, f := range []signedFace{kinesisFace, firehoseFace, analyticsFace} {
		add(f.name, signatureRows(f)...)
	}
	kput := kinesisFace.action(kinesisTarget + "PutRecord")
	putBody := func(stream string) string {
		return `{"StreamName":"` + stream + `","Data":"` + b64("x") + `","PartitionKey":"k"}`
	}
	add("kinesis",
		kinesisFace.row("reader describes r-open", kinesisFace.body, as(keyReader), http.StatusOK, ""),
		kinesisFace.row("reader describes r-secret (explicit deny)", `{"StreamName":"r-secret"}`, as(keyReader), e400, tDenied),
		kinesisFace.row("reader describes a stream outside r-*", `{"StreamName":"w-known"}`, as(keyReader), e400, tDenied),
		kinesisFace.row("reader describes by ARN of r-secret", `{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/r-secret"}`, as(keyReader), e400, tDenied),
		kinesisFace.action(kinesisTarget+"ListStreams").row("reader lists streams (resource *)", `{}`, as(keyReader), e400, tDenied),
		kput.row("reader puts to r-open", putBody("r-open"), as(keyReader), e400, tDenied),
		kput.row("writer puts to r-open", putBody("r-open"), as(keyWriter), e400, tDenied),
		kput.row("writer puts to a missing w- stream", putBody("w-missing"), as(keyWriter), e400, tNF),
		kinesisFace.action(kinesisTarget+"DeleteStream").row("writer deletes w-known", `{"StreamName":"w-known"}`, as(keyWriter), e400, tDenied),
		kinesisFace.row("nobody (no policy) describes r-open", kinesisFace.body, as(keyNobody), e400, tDenied),
		kinesisFace.action(kinesisTarget+"CreateStream").row("nobody creates a stream", `{"StreamName":"w-new","ShardCount":1}`, as(keyNobody), e400, tDenied),
		hostileCase{name: "signed/kinesis/reader reads r-secret with the admin's iterator", target: kinesisTarget + "GetRecords",
			header: map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": kinesisTarget + "GetRecords"},
			body:   func(*hostileEnv) []byte { return []byte(`{"ShardIterator":"` + secretIt + `"}`) },
			send:   as(keyReader).send("kinesis"), status: e400, errType: tDenied},
		kinesisFace.row("X-Amz-Target changed after signing", kinesisFace.body, signing{key: keyAdmin, after: func(r *http.Request, _ []byte) {
			r.Header.Set("X-Amz-Target", kinesisTarget+"ListStreams")
		}}, e400, tInvalid),
	)
	fput := firehoseFace.action(firehoseTarget + "PutRecord")
	fputBody := func(ds string) string {
		return `{"DeliveryStreamName":"` + ds + `","Record":{"Data":"` + b64("x") + `"}}`
	}
	add("firehose",
		firehoseFace.row("reader lists delivery streams", `{}`, as(keyReader), e400, tDenied),
		firehoseFace.row("nobody lists delivery streams", `{}`, as(keyNobody), e400, tDenied),
		fput.row("writer puts to a delivery stream outside w-*", fputBody("r-delivery"), as(keyWriter), e400, tDenied),
		fput.row("reader puts to a w- delivery stream", fputBody("w-delivery"), as(keyReader), e400, tDenied),
		fput.row("writer puts to a missing w- delivery stream", fputBody("w-missing"), as(keyWriter), e400, tNF),
		firehoseFace.action(firehoseTarget+"DeleteDeliveryStream").row("writer deletes a delivery stream", `{"DeliveryStreamName":"w-delivery"}`, as(keyWriter), e400, tDenied),
		firehoseFace.row("X-Amz-Target changed after signing", `{}`, signing{key: keyAdmin, after: func(r *http.Request, _ []byte) {
			r.Header.Set("X-Amz-Target", firehoseTarget+"DeleteDeliveryStream")
		}}, e400, tInvalid),
	)
	add("analytics",
		analyticsFace.row("reader validates SQL", analyticsFace.body, as(keyReader), e403, tDenied),
		analyticsFace.row("writer validates SQL", analyticsFace.body, as(keyWriter), e403, tDenied),
		analyticsFace.row("nobody validates SQL", analyticsFace.body, as(keyNobody), e403, tDenied),
		analyticsFace.at(http.MethodGet, "/v1/applications").row("reader lists applications", "", as(keyReader), e403, tDenied),
		analyticsFace.at(http.MethodGet, "/v1/streams/r-secret/schema").row("reader discovers r-secret's schema", "", as(keyReader), e403, tDenied),
		analyticsFace.at(http.MethodPost, "/v1/applications").row("writer creates an application", `{"name":"a","sql":"SELECT 1 AS x FROM s"}`, as(keyWriter), e403, tDenied),
		analyticsFace.at(http.MethodDelete, "/v1/applications/x").row("nobody deletes an application", "", as(keyNobody), e403, tDenied),
		analyticsFace.at(http.MethodGet, "/v1/applications").row("admin lists applications", "", as(keyAdmin), http.StatusOK, ""),
		analyticsFace.row("path changed after signing", analyticsFace.body, signing{key: keyAdmin, after: func(r *http.Request, _ []byte) {
			r.URL.Path = "/v1/applications"
		}}, e400, tInvalid),
		analyticsFace.row("query added after signing", analyticsFace.body, signing{key: keyAdmin, after: func(r *http.Request, _ []byte) {
			r.URL.RawQuery = "x=1"
		}}, e400, tInvalid),
	)
	add("grpc", grpcSignedRows(raw, secretIt)...)
	for face, n := range counts {
		t.Logf("%s: %d signed rows", face, n)
	}
	if len(rows) < 40 {
		t.Errorf("%d signed rows; the brief asks for at least 40", len(rows))
	}

	runHostile(t, e, rows)
	e.readBack(ctx, t)
}

// grpcSignedRows are the gRPC calls with missing, garbled, expired or
// denied signatures; raw is a connection that adds no metadata.
func grpcSignedRows(raw *grpc.ClientConn, secretIt string) []hostileCase {
	kin := spatev1.NewStreamServiceClient(raw)
	fh := spatev1.NewFirehoseServiceClient(raw)
	an := spatev1.NewAnalyticsServiceClient(raw)
	const describe = "/spate.v1.StreamService/DescribeStreamSummary"
	// call describes r-open with the metadata md makes.
	call := func(md func() metadata.MD) func(ctx context.Context, e *hostileEnv) error {
		return func(ctx context.Context, e *hostileEnv) error {
			_, err := kin.DescribeStreamSummary(metadata.NewOutgoingContext(ctx, md()), &spatev1.DescribeStreamSummaryRequest{StreamName: "r-open"})
			return err
		}
	}
	signed := func(key hostileKey, at time.Duration, edit func(md metadata.MD)) func() metadata.MD {
		return func() metadata.MD {
			md := grpcSigned(key, describe, "", time.Now().Add(at))
			if edit != nil {
				edit(md)
			}
			return md
		}
	}
	editAuthMD := func(f func(string) string) func(metadata.MD) {
		return func(md metadata.MD) { md.Set("authorization", f(md.Get("authorization")[0])) }
	}
	row := func(name string, md func() metadata.MD, code codes.Code, errType string) hostileCase {
		return hostileCase{name: "signed/grpc/" + name, grpc: call(md), code: code, errType: errType}
	}
	as := func(key hostileKey, method string, f func(ctx context.Context) error) func(ctx context.Context, e *hostileEnv) error {
		return func(ctx context.Context, e *hostileEnv) error {
			return f(metadata.NewOutgoingContext(ctx, grpcSigned(key, method, "", time.Now())))
		}
	}
	U, D := codes.Unauthenticated, codes.PermissionDenied
	huge := strings.Repeat("a", 100<<10)
	return []hostileCase{
		row("admin, signed right", signed(keyAdmin, 0, nil), codes.OK, ""),
		row("no metadata", func() metadata.MD { return metadata.MD{} }, U, tMissing),
		row("empty authorization", func() metadata.MD { return metadata.Pairs("authorization", "") }, U, tMissing),
		row("garbage authorization", func() metadata.MD { return metadata.Pairs("authorization", "garbage") }, U, tIncomplete),
		row("algorithm AWS4-HMAC-SHA1", signed(keyAdmin, 0, editAuthMD(func(h string) string {
			return strings.Replace(h, "SHA256", "SHA1", 1)
		})), U, tIncomplete),
		row("no Signature", signed(keyAdmin, 0, editAuthMD(func(h string) string { return h[:strings.Index(h, ", Signature=")] })), U, tIncomplete),
		row("signature not hex", signed(keyAdmin, 0, editAuthMD(func(h string) string { return h[:len(h)-64] + strings.Repeat("g", 64) })), U, tIncomplete),
		row("signature flipped", signed(keyAdmin, 0, editAuthMD(func(h string) string {
			last := h[len(h)-1]
			if last == '0' {
				return h[:len(h)-1] + "1"
			}
			return h[:len(h)-1] + "0"
		})), U, tInvalid),
		row("scope with too many slashes", signed(keyAdmin, 0, editAuthMD(func(h string) string {
			return strings.Replace(h, "/us-east-1/", "/us-east-1//", 1)
		})), U, tIncomplete),
		row("no x-amz-date", signed(keyAdmin, 0, func(md metadata.MD) { delete(md, "x-amz-date") }), U, tIncomplete),
		row("x-amz-date garbled", signed(keyAdmin, 0, func(md metadata.MD) { md.Set("x-amz-date", "yesterday") }), U, tIncomplete),
		row("expired: signed 10 minutes ago", signed(keyAdmin, -10*time.Minute, nil), U, tInvalid),
		row("signed 10 minutes ahead", signed(keyAdmin, 10*time.Minute, nil), U, tInvalid),
		row("unknown access key", signed(keyUnknown, 0, nil), U, tUnrecog),
		row("right key, wrong secret", signed(keyWrong, 0, nil), U, tInvalid),
		row("signed for another method", func() metadata.MD {
			return grpcSigned(keyAdmin, "/spate.v1.StreamService/ListStreams", "", time.Now())
		}, U, tInvalid),
		row("signed for service firehose", func() metadata.MD {
			return grpcSigned(keyAdmin, describe, "firehose", time.Now())
		}, U, tInvalid),
		row("authorization of 100 KB", signed(keyAdmin, 0, editAuthMD(func(h string) string { return h + huge })), U, tIncomplete),
		row("authorization twice, garbage first", signed(keyAdmin, 0, func(md metadata.MD) {
			md["authorization"] = append([]string{"garbage"}, md["authorization"]...)
		}), U, tIncomplete),
		row("authorization twice, valid first", signed(keyAdmin, 0, func(md metadata.MD) {
			md.Append("authorization", "garbage")
		}), U, tIncomplete),
		row("x-amz-date twice", signed(keyAdmin, 0, func(md metadata.MD) {
			md.Append("x-amz-date", "20200101T000000Z")
		}), U, tIncomplete),
		row("reader describes r-open", signed(keyReader, 0, nil), codes.OK, ""),
		{name: "signed/grpc/reader describes r-secret (explicit deny)", code: D, errType: tDenied,
			grpc: as(keyReader, describe, func(ctx context.Context) error {
				_, err := kin.DescribeStreamSummary(ctx, &spatev1.DescribeStreamSummaryRequest{StreamName: "r-secret"})
				return err
			})},
		{name: "signed/grpc/reader reads r-secret with the admin's iterator", code: D, errType: tDenied,
			grpc: as(keyReader, "/spate.v1.StreamService/GetRecords", func(ctx context.Context) error {
				_, err := kin.GetRecords(ctx, &spatev1.GetRecordsRequest{ShardIterator: secretIt})
				return err
			})},
		{name: "signed/grpc/reader puts to r-open", code: D, errType: tDenied,
			grpc: as(keyReader, "/spate.v1.StreamService/PutRecord", func(ctx context.Context) error {
				_, err := kin.PutRecord(ctx, &spatev1.PutRecordRequest{StreamName: "r-open", PartitionKey: "k", Data: []byte("x")})
				return err
			})},
		{name: "signed/grpc/writer puts to a missing w- stream", code: codes.NotFound, errType: tNF,
			grpc: as(keyWriter, "/spate.v1.StreamService/PutRecord", func(ctx context.Context) error {
				_, err := kin.PutRecord(ctx, &spatev1.PutRecordRequest{StreamName: "w-missing", PartitionKey: "k", Data: []byte("x")})
				return err
			})},
		{name: "signed/grpc/nobody lists streams", code: D, errType: tDenied,
			grpc: as(keyNobody, "/spate.v1.StreamService/ListStreams", func(ctx context.Context) error {
				_, err := kin.ListStreams(ctx, &spatev1.ListStreamsRequest{})
				return err
			})},
		{name: "signed/grpc/reader lists delivery streams", code: D, errType: tDenied,
			grpc: as(keyReader, "/spate.v1.FirehoseService/ListDeliveryStreams", func(ctx context.Context) error {
				_, err := fh.ListDeliveryStreams(ctx, &spatev1.ListDeliveryStreamsRequest{})
				return err
			})},
		{name: "signed/grpc/writer puts to a delivery stream outside w-*", code: D, errType: tDenied,
			grpc: as(keyWriter, "/spate.v1.FirehoseService/PutRecord", func(ctx context.Context) error {
				_, err := fh.PutRecord(ctx, &spatev1.FirehoseServicePutRecordRequest{DeliveryStreamName: "r-delivery", Data: []byte("x")})
				return err
			})},
		{name: "signed/grpc/writer validates SQL", code: D, errType: tDenied,
			grpc: as(keyWriter, "/spate.v1.AnalyticsService/ValidateSql", func(ctx context.Context) error {
				_, err := an.ValidateSql(ctx, &spatev1.ValidateSqlRequest{Sql: "SELECT 1 AS x FROM s"})
				return err
			})},
		{name: "signed/grpc/analytics call signed for kinesis", code: U, errType: tInvalid,
			grpc: func(ctx context.Context, e *hostileEnv) error {
				md := grpcSigned(keyAdmin, "/spate.v1.AnalyticsService/ValidateSql", "kinesis", time.Now())
				_, err := an.ValidateSql(metadata.NewOutgoingContext(ctx, md), &spatev1.ValidateSqlRequest{Sql: "SELECT 1 AS x FROM s"})
				return err
			}},
		{name: "signed/grpc/reader subscribes to r-secret", code: D, errType: tDenied,
			grpc: as(keyReader, "/spate.v1.StreamService/Subscribe", func(ctx context.Context) error {
				st, err := kin.Subscribe(ctx, &spatev1.SubscribeRequest{StreamName: "r-secret", ShardId: "shardId-000000000000",
					StartingPosition: &spatev1.StartingPosition{Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON}})
				if err != nil {
					return err
				}
				_, err = st.Recv()
				return err
			})},
	}
}
