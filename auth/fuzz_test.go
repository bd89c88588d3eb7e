package auth

import (
	"strings"
	"testing"

	"github.com/spatehq/spate/apierr"
)

// FuzzParseAuthorization feeds the SigV4 Authorization-header parser what a
// peer can send. It must never panic, must answer every refusal with
// IncompleteSignatureException, and what it accepts must be well formed.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20261207/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=" + strings.Repeat("ab", 32))
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20261207/us-east-1/kinesis/aws4_request,SignedHeaders=host,Signature=")
	f.Add("AWS4-HMAC-SHA256 Credential=/////,SignedHeaders=;;,Signature=x,Signature=y")
	f.Add("AWS AKID:c2ln")
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err != nil {
			if apierr.CodeOf(err) != apierr.IncompleteSignature {
				t.Fatalf("error %v: want IncompleteSignatureException", err)
			}
			return
		}
		if a.AccessKeyID == "" || len(a.Date) != 8 || a.Region == "" || a.Service == "" ||
			len(a.SignedHeaders) == 0 || len(a.Signature) != 64 {
			t.Fatalf("accepted a malformed header %q as %+v", h, a)
		}
		if strings.ContainsRune(a.AccessKeyID+a.Region+a.Service, '/') {
			t.Fatalf("a scope part holds a slash: %+v", a)
		}
	})
}
