package functions

import (
	"maps"
	"testing"
)

func TestMergeAndRemoveTags(t *testing.T) {
	cur := map[string]string{"a": "1", "b": "2"}
	if got := MergeTags(cur, map[string]string{"b": "3", "c": "4"}); !maps.Equal(got, map[string]string{"a": "1", "b": "3", "c": "4"}) {
		t.Errorf("MergeTags = %v", got)
	}
	if got := MergeTags(nil, map[string]string{"a": "1"}); !maps.Equal(got, map[string]string{"a": "1"}) {
		t.Errorf("MergeTags(nil) = %v", got)
	}
	if got := RemoveTags(cur, []string{"a", "x"}); !maps.Equal(got, map[string]string{"b": "2"}) {
		t.Errorf("RemoveTags = %v", got)
	}
	if got := RemoveTags(cur, []string{"a", "b"}); got != nil {
		t.Errorf("RemoveTags of every key = %v, want nil", got)
	}
	if !maps.Equal(cur, map[string]string{"a": "1", "b": "2"}) {
		t.Errorf("cur changed: %v", cur)
	}
}
