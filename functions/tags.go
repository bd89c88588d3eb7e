package functions

import "maps"

// MergeTags returns cur with tags added or replaced, as TagResource does;
// cur is not changed.
func MergeTags(cur, tags map[string]string) map[string]string {
	merged := maps.Clone(cur)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, tags)
	return merged
}

// RemoveTags returns cur without keys, as UntagResource does, or nil when
// no tag is left; cur is not changed.
func RemoveTags(cur map[string]string, keys []string) map[string]string {
	left := maps.Clone(cur)
	for _, k := range keys {
		delete(left, k)
	}
	if len(left) == 0 {
		return nil
	}
	return left
}
