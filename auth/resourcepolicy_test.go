package auth

import (
	"context"
	"strings"
	"testing"

	"github.com/spatehq/spate/apierr"
)

// policies is a ResourcePolicySource over a map.
type policies map[string]string

func (p policies) ResourcePolicy(arn string) string { return p[arn] }

func TestParseResourcePolicy(t *testing.T) {
	const good = `{"Version":"2012-10-17","Id":"p","Statement":[{"Sid":"a","Effect":"Allow",
		"Principal":{"AWS":["123456789012","arn:aws:iam::123456789012:user/app"]},
		"Action":["kinesis:PutRecord","kinesis:PutRecords"],"Resource":"arn:aws:kinesis:us-east-1:123456789012:stream/s"}]}`
	cases := []struct {
		name, doc string
		err       string // "" valid; else a word of the message
	}{
		{"good", good, ""},
		{"one statement object", `{"Statement":{"Effect":"Deny","Principal":"*","Action":"kinesis:*","Resource":"*"}}`, ""},
		{"service principal", `{"Statement":{"Effect":"Allow","Principal":{"Service":"firehose.amazonaws.com"},"Action":"kinesis:Get*","Resource":"*"}}`, ""},
		{"not JSON", `{"Statement":`, "Policy is not a valid"},
		{"trailing data", `{"Statement":{"Effect":"Deny","Principal":"*","Action":"kinesis:*","Resource":"*"}} {}`, "trailing"},
		{"empty", `{}`, "no Statement"},
		{"empty list", `{"Statement":[]}`, "no Statement"},
		{"bad version", `{"Version":"2020-01-01","Statement":{"Effect":"Deny","Principal":"*","Action":"kinesis:*","Resource":"*"}}`, "Version"},
		{"no principal", `{"Statement":{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}}`, "no Principal"},
		{"principal not star", `{"Statement":{"Effect":"Allow","Principal":"me","Action":"kinesis:*","Resource":"*"}}`, "Principal"},
		{"principal bad key", `{"Statement":{"Effect":"Allow","Principal":{"Users":"me"},"Action":"kinesis:*","Resource":"*"}}`, "Principal key"},
		{"principal bad value", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"me"},"Action":"kinesis:*","Resource":"*"}}`, "account ID"},
		{"bad effect", `{"Statement":{"Effect":"Maybe","Principal":"*","Action":"kinesis:*","Resource":"*"}}`, "Effect"},
		{"other service", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}}`, "kinesis: actions only"},
		{"no action", `{"Statement":{"Effect":"Allow","Principal":"*","Resource":"*"}}`, "no Action"},
		{"no resource", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"kinesis:*"}}`, "no Resource"},
		{"condition", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"kinesis:*","Resource":"*","Condition":{}}}`, "Condition"},
		{"not action", `{"Statement":{"Effect":"Allow","Principal":"*","NotAction":"kinesis:*","Resource":"*"}}`, "NotAction"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseResourcePolicy(c.doc)
			if c.err == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !apierr.Is(err, apierr.InvalidArgument) || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("got %v, want InvalidArgumentException mentioning %q", err, c.err)
			}
		})
	}
}

func TestAuthorizeResourcePolicy(t *testing.T) {
	const acct = "123456789012"
	ps, err := ParsePolicies([]byte(`{
		"writer": {"Statement": {"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"}},
		"denied": {"Statement": [
			{"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"},
			{"Effect": "Deny", "Action": "kinesis:GetRecords", "Resource": "*"}]}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	base := NewGuard(nil, ps, "us-east-1", acct)
	stream := base.StreamARN("s")
	other := base.StreamARN("other")
	src := policies{stream: `{"Statement": [
		{"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::` + acct + `:user/writer"}, "Action": "kinesis:DeleteStream", "Resource": "*"},
		{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::` + acct + `:user/guest"}, "Action": "kinesis:Get*", "Resource": "` + stream + `"},
		{"Effect": "Allow", "Principal": {"AWS": "` + acct + `"}, "Action": "kinesis:PutRecord", "Resource": "*"},
		{"Effect": "Deny", "Principal": "*", "Action": "kinesis:UpdateStreamMode", "Resource": "*"},
		{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:user/guest"}, "Action": "kinesis:*", "Resource": "*"}
	]}`, other: `not json`}
	g := base.WithResourcePolicies(src)
	open := NewGuard(nil, nil, "us-east-1", acct).WithResourcePolicies(src)
	as := func(p string) context.Context { return WithIdentity(context.Background(), Identity{Profile: p}) }
	cases := []struct {
		name     string
		g        *Guard
		who      string
		action   string
		resource string
		denied   string // "" allowed; else a word of the message
	}{
		{"identity allows, no deny", g, "writer", "kinesis:PutRecord", stream, ""},
		{"resource deny beats identity allow", g, "writer", "kinesis:DeleteStream", stream, "resource-based"},
		{"resource deny for everyone", g, "writer", "kinesis:UpdateStreamMode", stream, "resource-based"},
		{"resource deny without a policies file", open, "anyone", "kinesis:UpdateStreamMode", stream, "resource-based"},
		{"no deny without a policies file", open, "anyone", "kinesis:PutRecord", stream, ""},
		{"resource allow grants alone", g, "guest", "kinesis:GetRecords", stream, ""},
		{"resource allow is per action", g, "guest", "kinesis:PutRecords", stream, "identity-based"},
		{"account allow does not grant alone", g, "guest", "kinesis:PutRecord", stream, "identity-based"},
		{"other account's principal never matches", g, "guest", "kinesis:DescribeStream", stream, "identity-based"},
		{"identity deny beats resource allow", g, "denied", "kinesis:GetRecords", stream, "identity-based"},
		{"policy applies to its stream only", g, "writer", "kinesis:DeleteStream", base.StreamARN("third"), ""},
		{"unreadable policy denies", g, "writer", "kinesis:PutRecord", other, "resource-based"},
		{"no resource: no resource policy", g, "writer", "kinesis:ListStreams", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var res []string
			if c.resource != "" {
				res = []string{c.resource}
			}
			err := c.g.Authorize(as(c.who), c.action, res...)
			if c.denied == "" {
				if err != nil {
					t.Fatalf("denied: %v", err)
				}
				return
			}
			if !apierr.Is(err, apierr.AccessDenied) || !strings.Contains(err.Error(), c.denied) {
				t.Fatalf("got %v, want AccessDeniedException mentioning %q", err, c.denied)
			}
			if !strings.Contains(err.Error(), "arn:aws:iam::"+acct+":user/"+c.who) {
				t.Errorf("message does not name the user: %v", err)
			}
		})
	}
	if base.resPolicies != nil {
		t.Error("WithResourcePolicies changed the guard it was called on")
	}
}

// BenchmarkAuthorize measures what enforcing resource policies adds to the
// authorization of a request: none installed, installed but the stream has
// none, and a policy of three statements.
func BenchmarkAuthorize(b *testing.B) {
	ps, err := ParsePolicies([]byte(`{"w": {"Statement": {"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"}}}`))
	if err != nil {
		b.Fatal(err)
	}
	base := NewGuard(nil, ps, "us-east-1", "123456789012")
	arn := base.StreamARN("s")
	doc := `{"Statement": [
		{"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::123456789012:user/x"}, "Action": "kinesis:DeleteStream", "Resource": "*"},
		{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/y"}, "Action": "kinesis:Get*", "Resource": "*"},
		{"Effect": "Deny", "Principal": "*", "Action": "kinesis:UpdateStreamMode", "Resource": "*"}]}`
	ctx := WithIdentity(context.Background(), Identity{Profile: "w"})
	for _, c := range []struct {
		name string
		g    *Guard
	}{
		{"no resource policies", base},
		{"stream without a policy", base.WithResourcePolicies(policies{})},
		{"stream with a policy", base.WithResourcePolicies(policies{arn: doc})},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := c.g.Authorize(ctx, "kinesis:PutRecords", arn); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
