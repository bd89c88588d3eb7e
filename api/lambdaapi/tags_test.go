package lambdaapi

import (
	"context"
	"maps"
	"strings"
	"testing"
)

const mappingARN = "arn:aws:lambda:us-east-1:000000000000:event-source-mapping:u1"

// taggedMappings is fakeMappings that also tags, in memory.
type taggedMappings struct {
	fakeMappings
	tags map[string]string
}

func (f *taggedMappings) TagResource(_ context.Context, _ string, tags map[string]string) error {
	maps.Copy(f.tags, tags)
	return nil
}

func (f *taggedMappings) UntagResource(_ context.Context, _ string, keys []string) error {
	for _, k := range keys {
		delete(f.tags, k)
	}
	return nil
}

func (f *taggedMappings) ListTags(_ context.Context, resource string) (map[string]string, error) {
	return f.tags, nil
}

// TestMappingTags routes the tagging actions on a mapping's ARN to the
// mappings, those on a function's to the functions, and authorizes them on
// the mapping's ARN.
func TestMappingTags(t *testing.T) {
	m := &taggedMappings{tags: map[string]string{}}
	g := &fakeGuard{}
	h, _ := newTestHandler(t, WithMappings(m), WithGuard(g))
	auth := []string{"Authorization", "x"}
	if w := do(h, "POST", "/2017-03-31/tags/"+mappingARN, `{"Tags":{"a":"1","b":"2"}}`, auth...); w.Code != 204 {
		t.Fatalf("tag: %d %s", w.Code, w.Body)
	}
	if w := do(h, "DELETE", "/2017-03-31/tags/"+mappingARN+"?tagKeys=a", "", auth...); w.Code != 204 {
		t.Fatalf("untag: %d %s", w.Code, w.Body)
	}
	if w := do(h, "GET", "/2017-03-31/tags/"+mappingARN, "", auth...); w.Code != 200 || w.Body.String() != `{"Tags":{"b":"2"}}` {
		t.Fatalf("list: %d %s", w.Code, w.Body)
	}
	if strings.Join(g.resources, ",") != strings.Repeat(mappingARN+",", 2)+mappingARN {
		t.Fatalf("authorized on %v", g.resources)
	}
	// A function's ARN still goes to the functions.
	if w := do(h, "GET", "/2017-03-31/tags/"+arn, "", auth...); w.Code != 404 || !strings.Contains(w.Body.String(), "Function not found") {
		t.Fatalf("function's tags: %d %s", w.Code, w.Body)
	}
}

// TestMappingTagsUnserved: mappings that cannot tag, or none, refuse.
func TestMappingTagsUnserved(t *testing.T) {
	for name, opts := range map[string][]Option{"no mappings": nil, "no tagger": {WithMappings(&fakeMappings{})}} {
		h, _ := newTestHandler(t, opts...)
		w := do(h, "GET", "/2017-03-31/tags/"+mappingARN, "")
		if w.Code < 400 || w.Code == 500 {
			t.Errorf("%s: %d %s", name, w.Code, w.Body)
		}
	}
}
