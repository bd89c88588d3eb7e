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

// FuzzParseResourcePolicy feeds the resource-policy parser what
// PutResourcePolicy takes from a peer. It must never panic, must refuse
// with InvalidArgumentException only, and what it accepts must be a policy
// it can evaluate: every statement with an effect, a principal, kinesis
// actions and resources; and evaluation must not panic either.
func FuzzParseResourcePolicy(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":["123456789012","arn:aws:iam::123456789012:user/a"]},"Action":"kinesis:*","Resource":"*"}]}`)
	f.Add(`{"Statement":{"Effect":"Allow","Principal":"*","Action":["kinesis:Get*"],"Resource":["arn:aws:kinesis:*:*:stream/s"]}}`)
	f.Add(`{"Statement":{"Effect":"Allow","Principal":{"Service":"x"},"Action":"kinesis:a","Resource":"r","Condition":{}}}`)
	f.Add(`{"Statement":[]}`)
	f.Add(`[]`)
	f.Add(`{"Statement":null}`)
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := ParseResourcePolicy(doc)
		if err != nil {
			if apierr.CodeOf(err) != apierr.InvalidArgument {
				t.Fatalf("error %v: want InvalidArgumentException", err)
			}
			return
		}
		if len(p.Statement) == 0 {
			t.Fatalf("accepted %q without statements", doc)
		}
		for _, st := range p.Statement {
			if (st.Effect != "Allow" && st.Effect != "Deny") || !st.Principal.seen || len(st.Action) == 0 || len(st.Resource) == 0 {
				t.Fatalf("accepted an incomplete statement %+v of %q", st, doc)
			}
			for _, a := range st.Action {
				if !strings.HasPrefix(strings.ToLower(a), "kinesis:") {
					t.Fatalf("accepted action %q", a)
				}
			}
		}
		p.evaluate("arn:aws:iam::123456789012:user/a", "123456789012", "kinesis:PutRecord", "arn:aws:kinesis:us-east-1:123456789012:stream/s")
	})
}
