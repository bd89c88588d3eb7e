package auth

import (
	"context"
	"strings"
	"testing"

	"github.com/spatehq/spate/apierr"
)

func TestWildcardMatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything/at:all", true},
		{"kinesis:get*", "kinesis:getrecords", true},
		{"kinesis:get*", "kinesis:putrecord", false},
		{"arn:aws:kinesis:*:*:stream/a?c", "arn:aws:kinesis:r:1:stream/abc", true},
		{"arn:aws:kinesis:*:*:stream/a?c", "arn:aws:kinesis:r:1:stream/ac", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"abc", "abcd", false},
		{"**", "x", true},
	}
	for _, c := range cases {
		if got := wildcardMatch(c.pattern, c.s); got != c.want {
			t.Errorf("wildcardMatch(%q, %q) = %v", c.pattern, c.s, got)
		}
	}
}

const testPolicies = `{
  "reader": {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["kinesis:Get*", "kinesis:Describe*", "kinesis:ListStreams"], "Resource": "*"},
    {"Effect": "Deny", "Action": "kinesis:*", "Resource": "arn:aws:kinesis:*:*:stream/secret*"}
  ]},
  "writer": {"Statement": {"Effect": "Allow", "Action": "kinesis:PutRecord*", "Resource": "arn:aws:kinesis:us-east-1:123456789012:stream/orders"}}
}`

func TestAuthorize(t *testing.T) {
	ps, err := ParsePolicies([]byte(testPolicies))
	if err != nil {
		t.Fatal(err)
	}
	g := NewGuard(nil, ps, "us-east-1", "123456789012")
	open := NewGuard(nil, nil, "us-east-1", "123456789012")
	as := func(p string) context.Context { return WithIdentity(context.Background(), Identity{Profile: p}) }
	cases := []struct {
		name     string
		g        *Guard
		ctx      context.Context
		action   string
		resource []string
		denied   string // "" allowed; else a word of the message
	}{
		{"reader gets", g, as("reader"), "kinesis:GetRecords", []string{g.StreamARN("orders")}, ""},
		{"reader case-insensitive action", g, as("reader"), "KINESIS:getrecords", []string{g.StreamARN("orders")}, ""},
		{"reader lists", g, as("reader"), "kinesis:ListStreams", nil, ""},
		{"reader denied on secret", g, as("reader"), "kinesis:GetRecords", []string{g.StreamARN("secret-1")}, "explicit deny"},
		{"reader cannot put", g, as("reader"), "kinesis:PutRecord", []string{g.StreamARN("orders")}, "no identity-based policy"},
		{"writer puts orders", g, as("writer"), "kinesis:PutRecords", []string{g.StreamARN("orders")}, ""},
		{"writer not other stream", g, as("writer"), "kinesis:PutRecords", []string{g.StreamARN("Orders")}, "no identity-based policy"},
		{"writer not other region", g, as("writer"), "kinesis:PutRecord", []string{"arn:aws:kinesis:eu-west-1:123456789012:stream/orders"}, "no identity"},
		{"profile without policy", g, as("nobody"), "kinesis:ListStreams", nil, "no identity-based policy"},
		{"all resources must pass", g, as("reader"), "kinesis:GetRecords", []string{g.StreamARN("a"), g.StreamARN("secret")}, "explicit deny"},
		{"no policies file", open, as("anyone"), "kinesis:DeleteStream", []string{g.StreamARN("x")}, ""},
		{"unauthenticated", open, context.Background(), "kinesis:ListStreams", nil, "not authenticated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.g.Authorize(c.ctx, c.action, c.resource...)
			if c.denied == "" {
				if err != nil {
					t.Fatalf("denied: %v", err)
				}
				return
			}
			if apierr.CodeOf(err) != apierr.AccessDenied || !strings.Contains(err.Error(), c.denied) {
				t.Fatalf("err %v, want AccessDenied with %q", err, c.denied)
			}
		})
	}
	err = g.Authorize(as("writer"), "kinesis:DeleteStream", g.StreamARN("orders"))
	want := "User: arn:aws:iam::123456789012:user/writer is not authorized to perform: kinesis:DeleteStream on resource: arn:aws:kinesis:us-east-1:123456789012:stream/orders because no identity-based policy allows the kinesis:DeleteStream action"
	if apierr.MessageOf(err) != want {
		t.Errorf("message\n%s\nwant\n%s", apierr.MessageOf(err), want)
	}
}

func TestParsePoliciesRefuses(t *testing.T) {
	bad := map[string]string{
		"not an object":   `[]`,
		"no statement":    `{"a": {}}`,
		"bad effect":      `{"a": {"Statement": [{"Effect": "allow", "Action": "*", "Resource": "*"}]}}`,
		"no resource":     `{"a": {"Statement": [{"Effect": "Allow", "Action": "*"}]}}`,
		"condition":       `{"a": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {}}]}}`,
		"notaction":       `{"a": {"Statement": [{"Effect": "Allow", "NotAction": "*", "Resource": "*"}]}}`,
		"action no colon": `{"a": {"Statement": [{"Effect": "Allow", "Action": "PutRecord", "Resource": "*"}]}}`,
		"action number":   `{"a": {"Statement": [{"Effect": "Allow", "Action": 1, "Resource": "*"}]}}`,
	}
	for name, in := range bad {
		t.Run(name, func(t *testing.T) {
			if _, err := ParsePolicies([]byte(in)); err == nil {
				t.Errorf("accepted %s", in)
			}
		})
	}
}
