package esm

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/functions"
)

// TestTags tags a mapping by its ARN: Create's Tags, TagResource merging,
// UntagResource, a restart keeping them, Update leaving them (and the
// pollers' revision) alone, Delete taking them away.
func TestTags(t *testing.T) {
	f := newFixture(t)
	src := f.stream("src", 1)
	f.inv.set("fn", func(ctx context.Context, ev testEvent) (functions.Result, error) { return ok(`{}`) })
	ctx := context.Background()
	m := f.create(CreateInput{EventSourceArn: src, FunctionName: "fn", StartingPosition: "TRIM_HORIZON", Tags: map[string]string{"team": "streams"}})
	arn := m.EventSourceMappingArn
	want := func(what string, tags map[string]string) {
		t.Helper()
		got, err := f.svc.ListTags(ctx, arn)
		if err != nil || !maps.Equal(got, tags) || got == nil {
			t.Fatalf("%s: ListTags = %v, %v; want %v", what, got, err, tags)
		}
	}
	want("created", map[string]string{"team": "streams"})
	if err := f.svc.TagResource(ctx, arn, map[string]string{"env": "dev", "team": "kinesis"}); err != nil {
		t.Fatal(err)
	}
	want("tagged", map[string]string{"env": "dev", "team": "kinesis"})
	eventually(t, "Enabled", func() bool {
		g, err := f.svc.Get(ctx, m.UUID)
		return err == nil && g.State == StateEnabled
	})
	r, _, _, _ := f.svc.loadRecord(m.UUID)
	if r.Revision != 1 {
		t.Errorf("tagging changed the revision to %d: the pollers would restart", r.Revision)
	}
	if err := f.svc.UntagResource(ctx, arn, []string{"team", "absent"}); err != nil {
		t.Fatal(err)
	}
	want("untagged", map[string]string{"env": "dev"})
	f.restart()
	want("after a restart", map[string]string{"env": "dev"})
	if _, err := f.svc.Update(ctx, UpdateInput{UUID: m.UUID, BatchSize: intp(7)}); err != nil {
		t.Fatal(err)
	}
	want("updated", map[string]string{"env": "dev"})
	if err := f.svc.UntagResource(ctx, arn, []string{"env"}); err != nil {
		t.Fatal(err)
	}
	want("all removed", map[string]string{})

	eventually(t, "Enabled", func() bool {
		g, err := f.svc.Get(ctx, m.UUID)
		return err == nil && g.State == StateEnabled
	})
	if _, err := f.svc.Delete(ctx, m.UUID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.TagResource(ctx, arn, map[string]string{"a": "b"}); !apierr.Is(err, apierr.ResourceNotFound) {
		t.Fatalf("TagResource of a deleted mapping: %v", err)
	}
	eventually(t, "gone", func() bool {
		_, err := f.svc.ListTags(ctx, arn)
		return apierr.Is(err, apierr.ResourceNotFound)
	})
}

func TestTagErrors(t *testing.T) {
	f := newFixture(t)
	src := f.stream("src", 1)
	f.inv.set("fn", func(ctx context.Context, ev testEvent) (functions.Result, error) { return ok(`{}`) })
	ctx := context.Background()
	m := f.create(CreateInput{EventSourceArn: src, FunctionName: "fn", StartingPosition: "TRIM_HORIZON", Enabled: boolp(false)})
	arn := m.EventSourceMappingArn
	many := map[string]string{}
	for i := range 51 {
		many[fmt.Sprint("k", i)] = "v"
	}
	tests := []struct {
		name string
		call func() error
		code apierr.Code
		says string
	}{
		{"no tags", func() error { return f.svc.TagResource(ctx, arn, nil) }, apierr.InvalidParameterValue, "Tags is required"},
		{"no keys", func() error { return f.svc.UntagResource(ctx, arn, nil) }, apierr.InvalidParameterValue, "TagKeys is required"},
		{"aws: key", func() error { return f.svc.TagResource(ctx, arn, map[string]string{"aws:x": "v"}) }, apierr.InvalidParameterValue, "aws:"},
		{"51 tags", func() error { return f.svc.TagResource(ctx, arn, many) }, apierr.InvalidParameterValue, "at most 50"},
		{"function ARN", func() error { _, err := f.svc.ListTags(ctx, testFnPrefix+"fn"); return err }, apierr.InvalidParameterValue, "event-source-mapping"},
		{"other account", func() error {
			_, err := f.svc.ListTags(ctx, strings.Replace(arn, "000000000000", "111111111111", 1))
			return err
		}, apierr.ResourceNotFound, "account 000000000000"},
		{"unknown UUID", func() error {
			_, err := f.svc.ListTags(ctx, strings.Replace(arn, m.UUID, "00000000-0000-4000-8000-000000000000", 1))
			return err
		}, apierr.ResourceNotFound, "not found"},
		{"create with aws: key", func() error {
			_, err := f.svc.Create(ctx, CreateInput{EventSourceArn: src, FunctionName: "fn", StartingPosition: "LATEST",
				Tags: map[string]string{"aws:x": "v"}})
			return err
		}, apierr.InvalidParameterValue, "aws:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !apierr.Is(err, tc.code) || !strings.Contains(apierr.MessageOf(err), tc.says) {
				t.Fatalf("got %v; want %s saying %q", err, tc.code, tc.says)
			}
		})
	}
	if got, _ := f.svc.ListTags(ctx, arn); len(got) != 0 {
		t.Fatalf("refused changes left tags %v", got)
	}
}
