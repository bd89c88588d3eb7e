package shard

import (
	"context"
	"strings"
	"testing"

	"github.com/spatehq/spate/apierr"
)

func TestResolveResource(t *testing.T) {
	s := openTest(t, "")
	mustCreate(t, s, "orders", 1)
	acct := "arn:aws:kinesis:us-east-1:000000000000:"
	tests := []struct {
		arn  string
		want Resource
		code apierr.Code
	}{
		{arn: acct + "stream/orders", want: Resource{Stream: "orders"}},
		{arn: acct + "stream/missing", want: Resource{Stream: "missing"}}, // the action answers for a missing stream
		{arn: acct + "stream/orders/consumer/app:1700000000", code: apierr.ResourceNotFound},
		{arn: acct + "stream/missing/consumer/app:1700000000", code: apierr.ResourceNotFound},
		{arn: "arn:aws:kinesis:eu-west-1:000000000000:stream/orders", code: apierr.ResourceNotFound},
		{arn: "arn:aws:kinesis:us-east-1:111111111111:stream/orders", code: apierr.ResourceNotFound},
		{arn: "arn:aws:kinesis:us-east-1:000000000000:deliverystream/orders", code: apierr.InvalidArgument},
		{arn: acct + "stream/bad name", code: apierr.InvalidArgument},
		{arn: acct + "stream/orders/consumer/app", code: apierr.InvalidArgument},
		{arn: "orders", code: apierr.InvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.arn, func(t *testing.T) {
			got, err := s.ResolveResource(tc.arn)
			if tc.code != "" {
				wantCode(t, err, tc.code)
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestTagResource(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "")
	mustCreate(t, s, "s", 1)
	arn := s.StreamARN("s")
	// Tags put by ARN and by name are the same tags.
	if err := s.AddTags(ctx, "s", map[string]string{"a": "1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.TagResource(ctx, arn, map[string]string{"b": "2"}); err != nil {
		t.Fatal(err)
	}
	tags, err := s.ListTagsForResource(ctx, arn)
	if err != nil || len(tags) != 2 || tags[0] != (Tag{"a", "1"}) || tags[1] != (Tag{"b", "2"}) {
		t.Fatalf("ListTagsForResource = %v, %v", tags, err)
	}
	many := map[string]string{}
	for i := range MaxTagsPerStream - 1 {
		many[strings.Repeat("k", i+1)] = "v"
	}
	tests := []struct {
		name string
		arn  string
		tags map[string]string
		code apierr.Code
	}{
		{"51 tags in all", arn, many, apierr.InvalidArgument},
		{"reserved prefix", arn, map[string]string{"aws:owner": "x"}, apierr.InvalidArgument},
		{"key too long", arn, map[string]string{strings.Repeat("k", MaxTagKeyLen+1): "x"}, apierr.InvalidArgument},
		{"value too long", arn, map[string]string{"k": strings.Repeat("v", MaxTagValueLen+1)}, apierr.InvalidArgument},
		{"bad characters", arn, map[string]string{"k#": "x"}, apierr.InvalidArgument},
		{"no tags", arn, map[string]string{}, apierr.InvalidArgument},
		{"missing stream", s.StreamARN("nope"), map[string]string{"k": "v"}, apierr.ResourceNotFound},
		{"consumer", arn + "/consumer/c:1", map[string]string{"k": "v"}, apierr.ResourceNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, s.TagResource(ctx, tc.arn, tc.tags), tc.code)
			if got, _ := s.ListTagsForResource(ctx, arn); len(got) != 2 {
				t.Errorf("a refused TagResource left %d tags, want 2", len(got))
			}
		})
	}
	if err := s.UntagResource(ctx, arn, []string{"a", "absent"}); err != nil {
		t.Fatal(err)
	}
	if tags, _, _ := s.ListTags(ctx, "s", "", 0); len(tags) != 1 || tags[0].Key != "b" {
		t.Fatalf("after UntagResource: %v", tags)
	}
	wantCode(t, s.UntagResource(ctx, arn, nil), apierr.InvalidArgument)
}

func TestResourcePolicyStore(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "")
	mustCreate(t, s, "s", 1)
	arn := s.StreamARN("s")
	if _, ok, err := s.GetResourcePolicy(ctx, arn); ok || err != nil {
		t.Fatalf("new stream has a policy: %v %v", ok, err)
	}
	wantCode(t, s.DeleteResourcePolicy(ctx, arn), apierr.ResourceNotFound)
	wantCode(t, s.PutResourcePolicy(ctx, arn, strings.Repeat(" ", MaxResourcePolicyBytes+1)), apierr.InvalidArgument)
	wantCode(t, s.PutResourcePolicy(ctx, arn, ""), apierr.InvalidArgument)
	wantCode(t, s.PutResourcePolicy(ctx, s.StreamARN("nope"), "{}"), apierr.ResourceNotFound)
	if err := s.PutResourcePolicy(ctx, arn, `{"v":1}`); err != nil {
		t.Fatal(err)
	}
	if p, ok, _ := s.GetResourcePolicy(ctx, arn); !ok || p != `{"v":1}` || s.ResourcePolicy(arn) != p {
		t.Fatalf("GetResourcePolicy = %q, %v", p, ok)
	}
	if s.ResourcePolicy(arn+"/consumer/c:1") != "" || s.ResourcePolicy(s.StreamARN("nope")) != "" {
		t.Error("ResourcePolicy of a consumer or a missing stream is not empty")
	}
	if err := s.DeleteResourcePolicy(ctx, arn); err != nil {
		t.Fatal(err)
	}
	if s.ResourcePolicy(arn) != "" {
		t.Error("policy still there after DeleteResourcePolicy")
	}
}
