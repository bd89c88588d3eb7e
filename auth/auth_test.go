package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/spatehq/spate/apierr"
)

const testCredentials = `
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = secret-default

[alice]
aws_access_key_id=AKIDALICE
aws_secret_access_key=secret/alice+1
region = eu-west-1

; a comment
[profile carol]
aws_access_key_id = AKIDCAROL
aws_secret_access_key = with #hash ;semi
`

var testNow = time.Date(2026, 12, 7, 5, 30, 0, 0, time.UTC)

func testKeys(t *testing.T) *Keys {
	t.Helper()
	k, err := ParseKeys([]byte(testCredentials))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestParseKeys(t *testing.T) {
	k := testKeys(t)
	if got := strings.Join(k.Profiles(), ","); got != "alice,carol,default" {
		t.Errorf("profiles %q", got)
	}
	if v, ok := k.lookup("AKIDALICE"); !ok || v.profile != "alice" || v.secret != "secret/alice+1" {
		t.Errorf("AKIDALICE: %+v %v", v, ok)
	}
	if v, ok := k.lookup("AKIDCAROL"); !ok || v.profile != "carol" || v.secret != "with #hash ;semi" {
		t.Errorf("AKIDCAROL: %+v %v", v, ok)
	}
	bad := map[string]string{
		"empty":           "",
		"no secret":       "[a]\naws_access_key_id = X\n",
		"duplicate key":   "[a]\naws_access_key_id = X\naws_secret_access_key = s\n[b]\naws_access_key_id = X\naws_secret_access_key = t\n",
		"outside section": "aws_access_key_id = X\n",
		"not ini":         "[a\n",
	}
	for name, in := range bad {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseKeys([]byte(in)); err == nil {
				t.Errorf("ParseKeys(%q) succeeded", in)
			}
		})
	}
}

// signed returns a Kinesis request signed as aws-sdk-go-v2 signs it, with
// the given secret, at t, for service and region.
func signed(t *testing.T, body, akid, secret, service string, at time.Time) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:4567/", bytes.NewReader([]byte(body)))
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", "Kinesis_20131202.PutRecord")
	r.Header.Set("User-Agent", "test")
	sum := sha256.Sum256([]byte(body))
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret},
		r, hex.EncodeToString(sum[:]), service, "us-west-2", at)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestVerifyHTTP(t *testing.T) {
	const body = `{"StreamName":"s","Data":"AA==","PartitionKey":"k"}`
	v := NewVerifier(testKeys(t), WithClock(func() time.Time { return testNow }))
	cases := []struct {
		name    string
		req     func() *http.Request
		body    string // default: body
		want    apierr.Code
		profile string
	}{
		{name: "good", req: func() *http.Request { return signed(t, body, "AKIDALICE", "secret/alice+1", "kinesis", testNow) }, profile: "alice"},
		{name: "4 minutes old", req: func() *http.Request {
			return signed(t, body, "AKIDDEFAULT", "secret-default", "kinesis", testNow.Add(-4*time.Minute))
		}, profile: "default"},
		{name: "wrong secret", req: func() *http.Request { return signed(t, body, "AKIDALICE", "nope", "kinesis", testNow) }, want: apierr.InvalidSignature},
		{name: "unknown key", req: func() *http.Request { return signed(t, body, "AKIDBOB", "x", "kinesis", testNow) }, want: apierr.UnrecognizedClient},
		{name: "unsigned", req: func() *http.Request {
			return httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		}, want: apierr.MissingAuthenticationToken},
		{name: "presigned", req: func() *http.Request {
			return httptest.NewRequest(http.MethodPost, "/?X-Amz-Signature=00", strings.NewReader(body))
		}, want: apierr.IncompleteSignature},
		{name: "malformed header", req: func() *http.Request {
			r := signed(t, body, "AKIDALICE", "secret/alice+1", "kinesis", testNow)
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDALICE/20261207/us-west-2/kinesis/aws4_request")
			return r
		}, want: apierr.IncompleteSignature},
		{name: "10 minutes old", req: func() *http.Request {
			return signed(t, body, "AKIDALICE", "secret/alice+1", "kinesis", testNow.Add(-10*time.Minute))
		}, want: apierr.InvalidSignature},
		{name: "10 minutes ahead", req: func() *http.Request {
			return signed(t, body, "AKIDALICE", "secret/alice+1", "kinesis", testNow.Add(10*time.Minute))
		}, want: apierr.InvalidSignature},
		{name: "tampered body", req: func() *http.Request { return signed(t, body, "AKIDALICE", "secret/alice+1", "kinesis", testNow) },
			body: strings.Replace(body, `"s"`, `"t"`, 1), want: apierr.InvalidSignature},
		{name: "content hash header lies", req: func() *http.Request {
			r := signed(t, body, "AKIDALICE", "secret/alice+1", "kinesis", testNow)
			r.Header.Set("X-Amz-Content-Sha256", strings.Repeat("0", 64))
			return r
		}, want: apierr.InvalidSignature},
		{name: "tampered signed header", req: func() *http.Request {
			r := signed(t, body, "AKIDALICE", "secret/alice+1", "kinesis", testNow)
			r.Header.Set("X-Amz-Target", "Kinesis_20131202.DeleteStream")
			return r
		}, want: apierr.InvalidSignature},
		{name: "signed header removed", req: func() *http.Request {
			r := signed(t, body, "AKIDALICE", "secret/alice+1", "kinesis", testNow)
			r.Header.Del("Content-Type")
			return r
		}, want: apierr.InvalidSignature},
		{name: "unsigned header added", req: func() *http.Request {
			r := signed(t, body, "AKIDALICE", "secret/alice+1", "kinesis", testNow)
			r.Header.Set("X-Extra", "1")
			return r
		}, profile: "alice"},
		{name: "wrong service", req: func() *http.Request { return signed(t, body, "AKIDALICE", "secret/alice+1", "firehose", testNow) }, want: apierr.InvalidSignature},
		// Two Authorization (or X-Amz-Date) headers are ambiguous: a proxy
		// may judge one and Spate the other; neither is picked.
		{name: "Authorization twice, valid first", req: func() *http.Request {
			r := signed(t, body, "AKIDALICE", "secret/alice+1", "kinesis", testNow)
			r.Header.Add("Authorization", "garbage")
			return r
		}, want: apierr.IncompleteSignature},
		{name: "Authorization twice, both valid", req: func() *http.Request {
			r := signed(t, body, "AKIDALICE", "secret/alice+1", "kinesis", testNow)
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
			return r
		}, want: apierr.IncompleteSignature},
		{name: "X-Amz-Date twice", req: func() *http.Request {
			r := signed(t, body, "AKIDALICE", "secret/alice+1", "kinesis", testNow)
			r.Header.Add("X-Amz-Date", "20200101T000000Z")
			return r
		}, want: apierr.IncompleteSignature},
		{name: "scope date differs", req: func() *http.Request {
			r := signed(t, body, "AKIDALICE", "secret/alice+1", "kinesis", testNow)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/20261207/", "/20261206/", 1))
			return r
		}, want: apierr.InvalidSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := body
			if c.body != "" {
				b = c.body
			}
			id, err := v.VerifyHTTP(c.req(), []byte(b), "kinesis")
			if got := apierr.CodeOf(err); err != nil && got != c.want || err == nil && c.want != "" {
				t.Fatalf("err %v, want %s", err, c.want)
			}
			if err == nil && id.Profile != c.profile {
				t.Errorf("profile %q, want %q", id.Profile, c.profile)
			}
		})
	}
}

func TestVerifyHTTPExpiredMessage(t *testing.T) {
	v := NewVerifier(testKeys(t), WithClock(func() time.Time { return testNow }))
	_, err := v.VerifyHTTP(signed(t, "{}", "AKIDALICE", "secret/alice+1", "kinesis", testNow.Add(-10*time.Minute)), []byte("{}"), "kinesis")
	want := "Signature expired: 20261207T052000Z is now earlier than 20261207T052500Z (20261207T053000Z - 5 min.)"
	if apierr.MessageOf(err) != want {
		t.Errorf("message %q, want %q", apierr.MessageOf(err), want)
	}
}

func TestGRPCSignature(t *testing.T) {
	g := NewGuard(testKeys(t), nil, "us-east-1", "123456789012", WithClock(func() time.Time { return testNow }))
	alice := Profile{AccessKeyID: "AKIDALICE", SecretAccessKey: "secret/alice+1"}
	const method = "/spate.v1.StreamService/PutRecord"
	md := func(p Profile, m string, at time.Time) map[string][]string {
		h, err := SignGRPC(p, m, "local", at)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for k, v := range h {
			out[k] = []string{v}
		}
		return out
	}
	cases := []struct {
		name string
		md   map[string][]string
		want apierr.Code
	}{
		{"good", md(alice, method, testNow), ""},
		{"none", map[string][]string{}, apierr.MissingAuthenticationToken},
		{"other method", md(alice, "/spate.v1.StreamService/DeleteStream", testNow), apierr.InvalidSignature},
		{"wrong secret", md(Profile{AccessKeyID: "AKIDALICE", SecretAccessKey: "x"}, method, testNow), apierr.InvalidSignature},
		{"unknown key", md(Profile{AccessKeyID: "AKIDX", SecretAccessKey: "x"}, method, testNow), apierr.UnrecognizedClient},
		{"skewed", md(alice, method, testNow.Add(-6*time.Minute)), apierr.InvalidSignature},
		{"no date", map[string][]string{"authorization": md(alice, method, testNow)["authorization"]}, apierr.IncompleteSignature},
		{"authorization twice", map[string][]string{"authorization": {md(alice, method, testNow)["authorization"][0], "garbage"},
			"x-amz-date": md(alice, method, testNow)["x-amz-date"]}, apierr.IncompleteSignature},
		{"x-amz-date twice", map[string][]string{"authorization": md(alice, method, testNow)["authorization"],
			"x-amz-date": {md(alice, method, testNow)["x-amz-date"][0], "20200101T000000Z"}}, apierr.IncompleteSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, err := g.AuthenticateGRPC(context.Background(), c.md, method)
			if apierr.CodeOf(err) != c.want && !(err == nil && c.want == "") {
				t.Fatalf("err %v, want %s", err, c.want)
			}
			if err == nil {
				if id, _ := IdentityFrom(ctx); id.Profile != "alice" {
					t.Errorf("identity %+v", id)
				}
			}
		})
	}
}

func TestGRPCService(t *testing.T) {
	cases := map[string]string{
		"/spate.v1.StreamService/PutRecord":        "kinesis:PutRecord",
		"/spate.v1.GroupService/JoinGroup":         "kinesis:JoinGroup",
		"/spate.v1.FirehoseService/PutRecordBatch": "firehose:PutRecordBatch",
		"/spate.v1.AnalyticsService/ValidateSql":   "kinesisanalytics:ValidateSql",
		"/grpc.health.v1.Health/Check":             "",
		"/spate.v1.StreamService/":                 "",
	}
	for m, want := range cases {
		_, got, ok := GRPCService(m)
		if got != want || ok != (want != "") {
			t.Errorf("GRPCService(%q) = %q %v, want %q", m, got, ok, want)
		}
	}
}
