package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/spatehq/spate/apierr"
)

// A resource policy is an IAM resource-based policy attached to a Kinesis
// stream (PutResourcePolicy). Spate evaluates it as IAM evaluates a
// request within one account, with its local identities as IAM users
// (arn:aws:iam::ACCOUNT:user/PROFILE):
//
//   - an explicit Deny in the resource policy or the identity policy
//     refuses the request, even when the other allows it;
//   - otherwise an Allow in the resource policy for the identity's user ARN
//     (or for "*") grants the request without any identity policy, as a
//     resource policy that names a principal does in IAM;
//   - an Allow for the account ("ACCOUNT" or arn:aws:iam::ACCOUNT:root)
//     grants nothing by itself: as in IAM, it delegates to the account's
//     identity policies (it still matches every identity for a Deny);
//   - otherwise the identity policy decides (every action is allowed
//     without a --policies file).
//
// Principals of other accounts, roles, services and federated users never
// match a Spate identity (there is one account and no roles). Condition,
// NotPrincipal, NotAction and NotResource are refused when the policy is
// put, so that no one believes them enforced.

// ResourcePolicy is a parsed resource-based policy.
type ResourcePolicy struct {
	Version   string                    `json:"Version,omitempty"`
	ID        string                    `json:"Id,omitempty"`
	Statement []ResourcePolicyStatement `json:"Statement"`
}

// ResourcePolicyStatement is one statement of a ResourcePolicy.
type ResourcePolicyStatement struct {
	Sid       string    `json:"Sid,omitempty"`
	Effect    string    `json:"Effect"`
	Principal principal `json:"Principal"`
	Action    stringSet `json:"Action"`
	Resource  stringSet `json:"Resource"`
}

// principal is a statement's Principal: "*", or {"AWS": one or more
// account IDs or ARNs} (other keys, such as "Service", are kept and never
// match a Spate identity).
type principal struct {
	any  bool
	aws  []string
	seen bool
}

func (p *principal) UnmarshalJSON(b []byte) error {
	p.seen = true
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		if s != "*" {
			return fmt.Errorf("Principal %q: want \"*\" or an object such as {\"AWS\": \"arn:aws:iam::123456789012:user/NAME\"}", s)
		}
		p.any = true
		return nil
	}
	var m map[string]stringSet
	if err := json.Unmarshal(b, &m); err != nil {
		return errors.New(`Principal: want "*" or an object such as {"AWS": "arn:aws:iam::123456789012:user/NAME"}`)
	}
	if len(m) == 0 {
		return errors.New("Principal names no one")
	}
	for k, v := range m {
		switch k {
		case "AWS":
			for _, a := range v {
				if a == "*" {
					p.any = true
					continue
				}
				if !accountRE.MatchString(a) && !strings.HasPrefix(a, "arn:") {
					return fmt.Errorf("Principal AWS %q: want an account ID, an ARN or \"*\"", a)
				}
				p.aws = append(p.aws, a)
			}
		case "Service", "Federated", "CanonicalUser":
			// Kept so that valid AWS policies are accepted; they never
			// name a Spate identity.
		default:
			return fmt.Errorf("Principal key %q: want AWS, Service, Federated or CanonicalUser", k)
		}
	}
	return nil
}

var accountRE = regexp.MustCompile(`^\d{12}$`)

// ParseResourcePolicy parses and checks a resource policy document as
// PutResourcePolicy receives it; every error is an InvalidArgumentException
// saying what is wrong.
func ParseResourcePolicy(doc string) (*ResourcePolicy, error) {
	p, err := parseResourcePolicy([]byte(doc))
	if err != nil {
		return nil, apierr.New(apierr.InvalidArgument, "Policy is not a valid resource policy: %v", err)
	}
	return p, nil
}

func parseResourcePolicy(b []byte) (*ResourcePolicy, error) {
	var raw struct {
		Version   string          `json:"Version"`
		ID        string          `json:"Id"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := strictResourceDecode(b, &raw); err != nil {
		return nil, err
	}
	switch raw.Version {
	case "", "2012-10-17", "2008-10-17":
	default:
		return nil, fmt.Errorf("Version %q: want 2012-10-17", raw.Version)
	}
	p := &ResourcePolicy{Version: raw.Version, ID: raw.ID}
	stmts := bytes.TrimSpace(raw.Statement)
	if len(stmts) == 0 || string(stmts) == "null" {
		return nil, errors.New("no Statement")
	}
	var list []json.RawMessage
	if stmts[0] == '{' {
		list = []json.RawMessage{stmts}
	} else if err := json.Unmarshal(stmts, &list); err != nil {
		return nil, errors.New("Statement: want an object or a list of objects")
	}
	if len(list) == 0 {
		return nil, errors.New("no Statement")
	}
	for i, r := range list {
		var st ResourcePolicyStatement
		if err := strictResourceDecode(r, &st); err != nil {
			return nil, fmt.Errorf("Statement %d: %w", i, err)
		}
		if err := st.check(); err != nil {
			return nil, fmt.Errorf("Statement %d: %w", i, err)
		}
		p.Statement = append(p.Statement, st)
	}
	return p, nil
}

func strictResourceDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w (Spate evaluates Version, Id, Statement, Sid, Effect, Principal, Action and Resource; Condition, NotPrincipal, NotAction and NotResource are not supported)", err)
	}
	if dec.More() {
		return errors.New("trailing data after the policy document")
	}
	return nil
}

func (st ResourcePolicyStatement) check() error {
	if st.Effect != "Allow" && st.Effect != "Deny" {
		return fmt.Errorf("Effect %q: want Allow or Deny", st.Effect)
	}
	if !st.Principal.seen {
		return errors.New("no Principal: a resource policy must name who it applies to")
	}
	if len(st.Action) == 0 {
		return errors.New("no Action")
	}
	for _, a := range st.Action {
		if !strings.HasPrefix(strings.ToLower(a), "kinesis:") {
			return fmt.Errorf("Action %q: a Kinesis resource policy takes kinesis: actions only", a)
		}
	}
	if len(st.Resource) == 0 {
		return errors.New("no Resource")
	}
	return nil
}

// evaluate decides action on resource for the identity whose user ARN is
// user in account: explicitDeny for any matching Deny; allow for a
// matching Allow that names user or everyone; else implicitDeny (an Allow
// for the account delegates to identity policies).
func (p *ResourcePolicy) evaluate(user, account, action, resource string) decision {
	d := implicitDeny
	for _, st := range p.Statement {
		if !matchAny(st.Action, action, true) || !matchAny(st.Resource, resource, false) {
			continue
		}
		who := st.Principal.match(user, account)
		if who == noMatch {
			continue
		}
		if st.Effect == "Deny" {
			return explicitDeny
		}
		if who == matchUser {
			d = allow
		}
	}
	return d
}

type principalMatch int

const (
	noMatch      principalMatch = iota
	matchAccount                // the statement names the identity's account
	matchUser                   // it names the identity itself, or everyone
)

func (p principal) match(user, account string) principalMatch {
	if p.any {
		return matchUser
	}
	m := noMatch
	for _, a := range p.aws {
		switch a {
		case user:
			return matchUser
		case account, "arn:aws:iam::" + account + ":root":
			m = matchAccount
		}
	}
	return m
}

// ResourcePolicySource returns the resource policy attached to a
// resource ARN: "" when there is none. *shard.Store implements it.
type ResourcePolicySource interface {
	ResourcePolicy(arn string) string
}

// WithResourcePolicies returns a copy of g that also enforces the resource
// policies src holds (see ResourcePolicy). g is unchanged.
func (g *Guard) WithResourcePolicies(src ResourcePolicySource) *Guard {
	c := *g
	c.resPolicies = &policyCache{src: src, parsed: map[string]*ResourcePolicy{}}
	return &c
}

// policyCache parses each resource policy document once; stored documents
// were checked when they were put, so a parse failure here means the
// document is not one Spate wrote, and it denies.
type policyCache struct {
	src    ResourcePolicySource
	mu     sync.Mutex
	parsed map[string]*ResourcePolicy
}

// maxCachedPolicies bounds the cache; past it, it starts over.
const maxCachedPolicies = 1024

func (c *policyCache) policy(arn string) (*ResourcePolicy, error) {
	doc := c.src.ResourcePolicy(arn)
	if doc == "" {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.parsed[doc]; ok {
		return p, nil
	}
	p, err := parseResourcePolicy([]byte(doc))
	if err != nil {
		return nil, fmt.Errorf("resource policy of %s: %w", arn, err)
	}
	if len(c.parsed) >= maxCachedPolicies {
		clear(c.parsed)
	}
	c.parsed[doc] = p
	return p, nil
}
