package faults

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Kind is the kind of an injected failure.
type Kind int

// The kinds of failure.
const (
	// Throttle is the action's throttling error:
	// ProvisionedThroughputExceededException for Kinesis's PutRecord,
	// PutRecords, GetRecords and GetShardIterator; ServiceUnavailableException
	// for Firehose's PutRecord and PutRecordBatch; LimitExceededException for
	// every other action.
	Throttle Kind = iota
	// Internal is InternalFailure (HTTP 500; per record in PutRecords).
	Internal
)

func (k Kind) String() string {
	if k == Internal {
		return "internal"
	}
	return "throttle"
}

// kindNames are the spellings of a kind after ':' (lower-cased).
var kindNames = map[string]Kind{
	"throttle":                               Throttle,
	"provisionedthroughputexceededexception": Throttle,
	"serviceunavailableexception":            Throttle,
	"limitexceededexception":                 Throttle,
	"internal":                               Internal,
	"internalfailure":                        Internal,
}

// Catalog names the actions of each API that faults may be injected into:
// API name ("Kinesis", "Firehose") → action names.
type Catalog map[string][]string

// Odds are the probabilities that one request (or record) fails with each
// kind; they add up to at most 1.
type Odds [2]float64

// Plan is the odds of every action that has any, by API and action.
type Plan map[string]map[string]Odds

// rule is one entry of the flag: api "" is every API, action "*" every
// action.
type rule struct {
	api, action string
	kind        Kind
	p           float64
}

// Parse reads a --fault-rate value: entries separated by commas, each
//
//	[API.]ACTION[:KIND]=P
//
// where API is Kinesis or Firehose (any case; omitted: every API that has
// the action), ACTION an action name (any case) or * for every action, KIND
// throttle (the default; the AWS names ProvisionedThroughputExceededException,
// ServiceUnavailableException and LimitExceededException say the same) or
// internal (or InternalFailure), and P a probability from 0 to 1. For each
// action and kind the most specific entry wins: API.ACTION, then ACTION,
// then API.*, then *. An action's throttle and internal odds must not add
// up to more than 1. "" is no faults.
func Parse(spec string, known Catalog) (Plan, error) {
	plan := Plan{}
	if strings.TrimSpace(spec) == "" {
		return plan, nil
	}
	var rules []rule
	seen := map[rule]bool{}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		r, err := parseRule(item, known)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", item, err)
		}
		key := rule{api: r.api, action: r.action, kind: r.kind}
		if seen[key] {
			return nil, fmt.Errorf("%q: a second entry for %s", item, describe(r))
		}
		seen[key] = true
		rules = append(rules, r)
	}
	for _, api := range sortedKeys(known) {
		for _, action := range known[api] {
			var odds Odds
			for k := range odds {
				odds[k] = resolve(rules, api, action, Kind(k))
			}
			if odds[Throttle]+odds[Internal] > 1 {
				return nil, fmt.Errorf("%s.%s: throttle %g and internal %g add up to more than 1", api, action, odds[Throttle], odds[Internal])
			}
			if odds != (Odds{}) {
				if plan[api] == nil {
					plan[api] = map[string]Odds{}
				}
				plan[api][action] = odds
			}
		}
	}
	return plan, nil
}

func parseRule(item string, known Catalog) (rule, error) {
	if item == "" {
		return rule{}, fmt.Errorf("empty entry: write ACTION=P, for example PutRecords=0.1")
	}
	key, val, ok := strings.Cut(item, "=")
	if !ok {
		return rule{}, fmt.Errorf("no '=': write [API.]ACTION[:KIND]=P, for example PutRecords=0.1 or Kinesis.*:internal=0.01")
	}
	var r rule
	p, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
	if err != nil || math.IsNaN(p) || p < 0 || p > 1 {
		return rule{}, fmt.Errorf("probability %q: want a number from 0 to 1", val)
	}
	r.p = p
	key = strings.TrimSpace(key)
	if target, kind, ok := strings.Cut(key, ":"); ok {
		k, found := kindNames[strings.ToLower(kind)]
		if !found {
			return rule{}, fmt.Errorf("error kind %q: want throttle or internal", kind)
		}
		r.kind, key = k, target
	}
	action := key
	if api, a, ok := strings.Cut(key, "."); ok {
		action = a
		for name := range known {
			if strings.EqualFold(api, name) {
				r.api = name
			}
		}
		if r.api == "" {
			return rule{}, fmt.Errorf("API %q: want %s", api, strings.Join(sortedKeys(known), " or "))
		}
	}
	if action == "*" {
		r.action = "*"
		return r, nil
	}
	for _, api := range sortedKeys(known) {
		if r.api != "" && api != r.api {
			continue
		}
		if i := slices.IndexFunc(known[api], func(a string) bool { return strings.EqualFold(a, action) }); i >= 0 {
			r.action = known[api][i]
			return r, nil
		}
	}
	if r.api != "" {
		return rule{}, fmt.Errorf("%s has no action %q: it has %s", r.api, action, strings.Join(known[r.api], ", "))
	}
	return rule{}, fmt.Errorf("no API has an action %q (actions are named as in X-Amz-Target, such as PutRecords, GetRecords or PutRecordBatch)", action)
}

// resolve returns the probability of kind for one action: the most
// specific rule's.
func resolve(rules []rule, api, action string, kind Kind) float64 {
	best, p := -1, 0.0
	for _, r := range rules {
		if r.kind != kind || (r.api != "" && r.api != api) || (r.action != "*" && r.action != action) {
			continue
		}
		rank := 0 // *
		switch {
		case r.api != "" && r.action != "*":
			rank = 3
		case r.action != "*":
			rank = 2
		case r.api != "":
			rank = 1
		}
		if rank > best {
			best, p = rank, r.p
		}
	}
	return p
}

func describe(r rule) string {
	s := r.action
	if r.api != "" {
		s = r.api + "." + s
	}
	return s + ":" + r.kind.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
