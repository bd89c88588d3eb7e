package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Policies maps a profile to its identity policy. A profile with no entry
// in a policies file is denied everything (IAM's default deny: a user
// without a policy may do nothing); without a policies file at all, every
// authenticated profile may do everything.
type Policies map[string]*Policy

// Policy is an IAM identity-based policy document, reduced to what Spate
// evaluates: statements of Effect, Action and Resource. Keys IAM has and
// Spate does not evaluate (Condition, Principal, NotAction, NotResource)
// are refused when the file is loaded, so that no one believes them
// enforced.
type Policy struct {
	Version   string      `json:"Version,omitempty"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a Policy.
type Statement struct {
	Sid      string    `json:"Sid,omitempty"`
	Effect   string    `json:"Effect"`
	Action   stringSet `json:"Action"`
	Resource stringSet `json:"Resource"`
}

// stringSet is IAM's "a string or a list of strings".
type stringSet []string

func (s *stringSet) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = stringSet{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("want a string or a list of strings")
	}
	*s = many
	return nil
}

// UnmarshalJSON accepts Statement as one object or a list, as IAM does.
func (p *Policy) UnmarshalJSON(b []byte) error {
	var raw struct {
		Version   string          `json:"Version"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := strictDecode(b, &raw); err != nil {
		return err
	}
	p.Version = raw.Version
	raw.Statement = bytes.TrimSpace(raw.Statement)
	if len(raw.Statement) == 0 {
		return errors.New("no Statement")
	}
	if raw.Statement[0] == '{' {
		var st Statement
		if err := strictDecode(raw.Statement, &st); err != nil {
			return fmt.Errorf("Statement: %w", err)
		}
		p.Statement = []Statement{st}
	} else {
		var sts []json.RawMessage
		if err := json.Unmarshal(raw.Statement, &sts); err != nil {
			return fmt.Errorf("Statement: want an object or a list of objects")
		}
		for i, r := range sts {
			var st Statement
			if err := strictDecode(r, &st); err != nil {
				return fmt.Errorf("Statement %d: %w", i, err)
			}
			p.Statement = append(p.Statement, st)
		}
	}
	for i, st := range p.Statement {
		if err := st.check(); err != nil {
			return fmt.Errorf("Statement %d: %w", i, err)
		}
	}
	return nil
}

func strictDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w (Spate evaluates Version, Statement, Sid, Effect, Action and Resource only)", err)
	}
	return nil
}

func (st Statement) check() error {
	if st.Effect != "Allow" && st.Effect != "Deny" {
		return fmt.Errorf("Effect %q: want Allow or Deny", st.Effect)
	}
	if len(st.Action) == 0 {
		return errors.New("no Action")
	}
	for _, a := range st.Action {
		if a != "*" && !strings.Contains(a, ":") {
			return fmt.Errorf("Action %q: want service:Action (kinesis:PutRecord, firehose:*, ...)", a)
		}
	}
	if len(st.Resource) == 0 {
		return errors.New("no Resource (use \"*\" for every resource)")
	}
	return nil
}

// LoadPolicies reads a policies file: a JSON object from profile name to
// policy document.
func LoadPolicies(path string) (Policies, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policies: %w", err)
	}
	p, err := ParsePolicies(b)
	if err != nil {
		return nil, fmt.Errorf("policies %s: %w", path, err)
	}
	return p, nil
}

// ParsePolicies parses the contents of a policies file (see LoadPolicies).
func ParsePolicies(b []byte) (Policies, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("want a JSON object from profile to policy: %w", err)
	}
	ps := make(Policies, len(raw))
	for profile, doc := range raw {
		var p Policy
		if err := json.Unmarshal(doc, &p); err != nil {
			return nil, fmt.Errorf("profile %q: %w", profile, err)
		}
		ps[profile] = &p
	}
	return ps, nil
}

// decision is the outcome of evaluating a policy.
type decision int

const (
	implicitDeny decision = iota
	allow
	explicitDeny
)

// evaluate decides action on resource as IAM does: any matching Deny wins,
// else any matching Allow, else deny. Actions match case-insensitively,
// resources case-sensitively; both take the wildcards * and ?.
func (p *Policy) evaluate(action, resource string) decision {
	d := implicitDeny
	for _, st := range p.Statement {
		if !matchAny(st.Action, action, true) || !matchAny(st.Resource, resource, false) {
			continue
		}
		if st.Effect == "Deny" {
			return explicitDeny
		}
		d = allow
	}
	return d
}

func matchAny(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			if wildcardMatch(strings.ToLower(p), strings.ToLower(s)) {
				return true
			}
		} else if wildcardMatch(p, s) {
			return true
		}
	}
	return false
}

// wildcardMatch reports whether s matches pattern, where * matches any run
// of characters (also none, also '/' and ':') and ? any one. It is linear
// in practice: the classic greedy match with one backtrack point.
func wildcardMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
