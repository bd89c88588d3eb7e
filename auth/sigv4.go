package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/spatehq/spate/apierr"
)

// MaxSkew is how far a request's X-Amz-Date may be from the server's clock,
// either way (AWS allows the same).
const MaxSkew = 5 * time.Minute

// amzDateFormat is X-Amz-Date's layout.
const amzDateFormat = "20060102T150405Z"

// unsignedPayload is the payload hash of a request whose body is not
// signed; only gRPC metadata uses it (the messages are not in the hash).
const unsignedPayload = "UNSIGNED-PAYLOAD"

// The messages AWS answers with.
const (
	msgMissingToken   = "Missing Authentication Token"
	msgUnrecognized   = "The security token included in the request is invalid."
	msgSignatureWrong = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// Verifier checks SigV4 signatures against Keys.
type Verifier struct {
	keys   *Keys
	now    func() time.Time
	signer *v4.Signer
}

// VerifierOption configures NewVerifier.
type VerifierOption func(*Verifier)

// WithClock sets the clock skew is measured against (tests). Default:
// time.Now.
func WithClock(now func() time.Time) VerifierOption {
	return func(v *Verifier) { v.now = now }
}

// NewVerifier returns a Verifier of signatures made with keys.
func NewVerifier(keys *Keys, opts ...VerifierOption) *Verifier {
	v := &Verifier{keys: keys, now: time.Now, signer: v4.NewSigner()}
	for _, o := range opts {
		o(v)
	}
	return v
}

// VerifyHTTP authenticates r, whose body (already read, within the API's
// size cap) is body, as a request to service ("kinesis"): the credential
// scope must name that service; any region is accepted (see
// docs/security.md). It returns the signer's identity, or an *apierr.Error:
// MissingAuthenticationTokenException without an Authorization header,
// IncompleteSignatureException for a malformed one,
// UnrecognizedClientException for an unknown access key, and
// InvalidSignatureException for a wrong signature, payload hash, scope or
// time. It does not modify r.
func (v *Verifier) VerifyHTTP(r *http.Request, body []byte, service string) (Identity, error) {
	if err := once(r.Header.Values); err != nil {
		return Identity{}, err
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		if r.URL.Query().Has("X-Amz-Signature") {
			return Identity{}, incomplete("Presigned (query string) requests are not supported: sign the Authorization header.")
		}
		return Identity{}, apierr.New(apierr.MissingAuthenticationToken, msgMissingToken)
	}
	a, err := parseAuthorization(h)
	if err != nil {
		return Identity{}, err
	}
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	if claimed := r.Header.Get("X-Amz-Content-Sha256"); claimed != "" && claimed != payloadHash {
		return Identity{}, apierr.New(apierr.InvalidSignature,
			"The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	return v.verify(r.Method, r.URL, r.Host, r.Header, r.ContentLength, a, payloadHash, service)
}

// once refuses a request that carries Authorization or X-Amz-Date more
// than once (IncompleteSignatureException). Two are ambiguous: a proxy in
// front may judge one and the verifier would judge the other (net/http's
// Get takes the first), so neither is picked. values returns a header's
// values by name (http.Header.Values, or gRPC metadata by lower-case key).
func once(values func(name string) []string) error {
	for _, name := range []string{"Authorization", "X-Amz-Date"} {
		if n := len(values(name)); n > 1 {
			return incomplete("The %s header appears %d times; send it once.", name, n)
		}
	}
	return nil
}

// verify checks a parsed header against the request parts it signs.
func (v *Verifier) verify(method string, u *url.URL, host string, hdr http.Header, contentLength int64, a authorization, payloadHash, service string) (Identity, error) {
	k, ok := v.keys.lookup(a.AccessKeyID)
	if !ok {
		return Identity{}, apierr.New(apierr.UnrecognizedClient, msgUnrecognized)
	}
	if a.Service != service {
		return Identity{}, apierr.New(apierr.InvalidSignature,
			"Credential should be scoped to correct service: '%s'. ", service)
	}
	amzDate := hdr.Get("X-Amz-Date")
	if amzDate == "" {
		return Identity{}, incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header; Spate requires X-Amz-Date.")
	}
	signedAt, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		return Identity{}, incomplete("X-Amz-Date %q must be yyyymmddThhmmssZ.", truncate(amzDate))
	}
	if a.Date != amzDate[:8] {
		return Identity{}, apierr.New(apierr.InvalidSignature,
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", a.Date, amzDate[:8], amzDate)
	}
	now := v.now().UTC()
	switch {
	case signedAt.Before(now.Add(-MaxSkew)):
		return Identity{}, apierr.New(apierr.InvalidSignature,
			"Signature expired: %s is now earlier than %s (%s - 5 min.)",
			amzDate, now.Add(-MaxSkew).Format(amzDateFormat), now.Format(amzDateFormat))
	case signedAt.After(now.Add(MaxSkew)):
		return Identity{}, apierr.New(apierr.InvalidSignature,
			"Signature not yet current: %s is still later than %s (%s + 5 min.)",
			amzDate, now.Add(MaxSkew).Format(amzDateFormat), now.Format(amzDateFormat))
	}
	if !contains(a.SignedHeaders, "host") || !contains(a.SignedHeaders, "x-amz-date") {
		return Identity{}, apierr.New(apierr.InvalidSignature,
			"SignedHeaders must include host and x-amz-date.")
	}

	// Rebuild the request from what was signed, and only that, then let
	// the SDK's signer sign it as the client did.
	re := &http.Request{
		Method: method,
		URL:    &url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery},
		Host:   host,
		Header: make(http.Header, len(a.SignedHeaders)),
	}
	for _, name := range a.SignedHeaders {
		switch name {
		case "host":
		case "content-length":
			// The signer signs content-length exactly when it is
			// positive.
			if contentLength <= 0 {
				return Identity{}, apierr.New(apierr.InvalidSignature, msgSignatureWrong)
			}
			re.ContentLength = contentLength
		default:
			vals := hdr.Values(name)
			if len(vals) == 0 {
				return Identity{}, apierr.New(apierr.InvalidSignature,
					"The request does not carry the signed header %q.", truncate(name))
			}
			re.Header[textproto.CanonicalMIMEHeaderKey(name)] = vals
		}
	}
	creds := aws.Credentials{AccessKeyID: a.AccessKeyID, SecretAccessKey: k.secret}
	if err := v.signer.SignHTTP(context.Background(), creds, re, payloadHash, a.Service, a.Region, signedAt); err != nil {
		return Identity{}, apierr.New(apierr.InvalidSignature, "%s", msgSignatureWrong)
	}
	want, err := parseAuthorization(re.Header.Get("Authorization"))
	// The signer leaves out headers it never signs (User-Agent, Expect,
	// ...): a client that signed one gets a different SignedHeaders, and
	// a mismatch.
	if err != nil || strings.Join(want.SignedHeaders, ";") != strings.Join(a.SignedHeaders, ";") ||
		subtle.ConstantTimeCompare([]byte(want.Signature), []byte(a.Signature)) != 1 {
		return Identity{}, apierr.New(apierr.InvalidSignature, "%s", msgSignatureWrong)
	}
	return Identity{Profile: k.profile, AccessKeyID: a.AccessKeyID}, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
