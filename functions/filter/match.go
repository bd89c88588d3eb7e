package filter

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Record is what a pattern sees of a Kinesis record.
type Record struct {
	PartitionKey   string
	SequenceNumber string
	// Data is the record's data as written (not base64). Patterns address
	// it under "data" when it is valid JSON.
	Data                        []byte
	ApproximateArrivalTimestamp time.Time
}

// kinesisSchemaVersion is the value Lambda's aws:kinesis event carries.
const kinesisSchemaVersion = "1.0"

// Match reports whether r matches any pattern of the Set (or the Set has
// none). It decodes r.Data at most once, and only when a pattern names
// "data". Match does not keep r or its Data.
func (s *Set) Match(r Record) bool {
	if s.Len() == 0 {
		return true
	}
	top := map[string]any{
		"partitionKey":         r.PartitionKey,
		"sequenceNumber":       r.SequenceNumber,
		"kinesisSchemaVersion": kinesisSchemaVersion,
	}
	if !r.ApproximateArrivalTimestamp.IsZero() {
		top["approximateArrivalTimestamp"] = arrival(r.ApproximateArrivalTimestamp)
	}
	decoded, dataOK := false, false
	for _, p := range s.patterns {
		if p.usesData && !decoded {
			decoded = true
			var v any
			if v, dataOK = decodeJSON(r.Data); dataOK {
				top[dataKey] = v
			}
		}
		// Invariant (Lambda's table for stream sources): a pattern that
		// filters on data drops a record whose data is not JSON.
		if p.usesData && !dataOK {
			continue
		}
		if p.root.match(top) {
			return true
		}
	}
	return false
}

// arrival renders the arrival time as the aws:kinesis event does: epoch
// seconds with millisecond precision (1545084650.987).
func arrival(t time.Time) json.Number {
	return json.Number(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64))
}

// match reports whether obj (nil when the value at this level is absent
// or not an object) satisfies every field and every $or of n.
func (n *node) match(obj map[string]any) bool {
	for i := range n.fields {
		f := &n.fields[i]
		v, present := obj[f.key]
		if f.sub != nil {
			if !f.sub.matchValue(v, present) {
				return false
			}
			continue
		}
		if !f.matchLeaves(v, present) {
			return false
		}
	}
	for _, alts := range n.ors {
		ok := false
		for _, a := range alts {
			if a.match(obj) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// matchValue matches a nested pattern object against the record's value
// at its key: an object directly, an array when any element matches (all
// of the pattern's fields from the same element, as EventBridge keeps
// array consistency), anything else as an object without fields (so only
// "exists": false can hold).
func (n *node) matchValue(v any, present bool) bool {
	if present {
		switch x := v.(type) {
		case map[string]any:
			return n.match(x)
		case []any:
			for _, e := range x {
				if n.matchValue(e, true) {
					return true
				}
			}
			if len(x) > 0 {
				return false
			}
		}
	}
	return n.match(nil)
}

// matchLeaves reports whether any of f's rules matches the value at f's
// key. A value's leaves are its scalars (an array's, recursively);
// objects have none.
func (f *field) matchLeaves(v any, present bool) bool {
	for i := range f.rules {
		r := &f.rules[i]
		if r.kind == ruleExists {
			if (present && hasLeaf(v)) == r.b {
				return true
			}
			continue
		}
		if present && anyLeaf(v, r) {
			return true
		}
	}
	return false
}

func hasLeaf(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return false
	case []any:
		for _, e := range x {
			if hasLeaf(e) {
				return true
			}
		}
		return false
	}
	return true
}

func anyLeaf(v any, r *rule) bool {
	switch x := v.(type) {
	case map[string]any:
		return false
	case []any:
		for _, e := range x {
			if anyLeaf(e, r) {
				return true
			}
		}
		return false
	}
	return r.matchLeaf(v)
}

// matchLeaf matches one scalar: a string, a json.Number, a bool or nil
// (JSON null). Matching is by type: "100" never equals 100.
func (r *rule) matchLeaf(v any) bool {
	switch r.kind {
	case ruleString:
		s, ok := v.(string)
		return ok && s == r.s
	case ruleNumber:
		n, ok := v.(json.Number)
		return ok && string(n) == r.s
	case ruleBool:
		b, ok := v.(bool)
		return ok && b == r.b
	case ruleNull:
		return v == nil
	case rulePrefix:
		s, ok := v.(string)
		if r.fold {
			return ok && hasPrefixFold(s, r.s)
		}
		return ok && strings.HasPrefix(s, r.s)
	case ruleSuffix:
		s, ok := v.(string)
		if r.fold {
			return ok && hasSuffixFold(s, r.s)
		}
		return ok && strings.HasSuffix(s, r.s)
	case ruleEqualsFold:
		s, ok := v.(string)
		return ok && strings.EqualFold(s, r.s)
	case ruleNumeric:
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		f, err := strconv.ParseFloat(string(n), 64)
		return err == nil && r.lo.below(f) && r.hi.above(f)
	case ruleAnythingBut:
		switch x := v.(type) {
		case string:
			return !contains(r.strs, x)
		case json.Number:
			return !contains(r.nums, string(x))
		}
		return true // a boolean or null is none of the listed values
	case ruleAnythingButPrefix:
		s, ok := v.(string)
		return ok && !strings.HasPrefix(s, r.s)
	case ruleAnythingButSuffix:
		s, ok := v.(string)
		return ok && !strings.HasSuffix(s, r.s)
	case ruleAnythingButFold:
		s, ok := v.(string)
		if !ok {
			return false
		}
		for _, t := range r.strs {
			if strings.EqualFold(s, t) {
				return false
			}
		}
		return true
	}
	return false
}

// below reports whether f is at or above the lower bound b (when set).
func (b bound) below(f float64) bool {
	if !b.set {
		return true
	}
	return f > b.v || (b.incl && f == b.v)
}

// above reports whether f is at or below the upper bound b (when set).
func (b bound) above(f float64) bool {
	if !b.set {
		return true
	}
	return f < b.v || (b.incl && f == b.v)
}

func contains(list []string, s string) bool {
	for _, t := range list {
		if t == s {
			return true
		}
	}
	return false
}

// hasPrefixFold is strings.HasPrefix under Unicode simple case folding
// (strings.EqualFold's rule), rune by rune.
func hasPrefixFold(s, prefix string) bool {
	for prefix != "" {
		if s == "" {
			return false
		}
		a, n := utf8.DecodeRuneInString(s)
		b, m := utf8.DecodeRuneInString(prefix)
		if !runeEqualFold(a, b) {
			return false
		}
		s, prefix = s[n:], prefix[m:]
	}
	return true
}

// hasSuffixFold is strings.HasSuffix under the same folding.
func hasSuffixFold(s, suffix string) bool {
	for suffix != "" {
		if s == "" {
			return false
		}
		a, n := utf8.DecodeLastRuneInString(s)
		b, m := utf8.DecodeLastRuneInString(suffix)
		if !runeEqualFold(a, b) {
			return false
		}
		s, suffix = s[:len(s)-n], suffix[:len(suffix)-m]
	}
	return true
}

// runeEqualFold is strings.EqualFold for one rune: b is in a's orbit under
// unicode.SimpleFold.
func runeEqualFold(a, b rune) bool {
	if a == b {
		return true
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}
