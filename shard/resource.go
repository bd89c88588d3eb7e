package shard

import (
	"context"
	"regexp"
	"strings"

	"github.com/spatehq/spate/apierr"
)

// MaxResourcePolicyBytes is the largest resource policy a stream or
// consumer can hold (PutResourcePolicy): 20 KiB, Kinesis's quota.
const MaxResourcePolicyBytes = 20 << 10

// A resource ARN names a stream or one of its registered consumers, the
// resources that TagResource, ListTagsForResource and the resource-policy
// actions act on:
//
//	arn:aws:kinesis:REGION:ACCOUNT:stream/NAME
//	arn:aws:kinesis:REGION:ACCOUNT:stream/NAME/consumer/CONSUMER:CREATION_EPOCH
var resourceARNRE = regexp.MustCompile(
	`^arn:aws[a-zA-Z-]*:kinesis:([a-z0-9-]*):(\d{12}):stream/([a-zA-Z0-9_.-]{1,128})(?:/consumer/([a-zA-Z0-9_.-]{1,128}):([0-9]+))?$`)

// Resource is what a resource ARN names.
type Resource struct {
	Stream string
	// Consumer is the consumer's name for a consumer ARN; empty for a
	// stream.
	Consumer string
}

// ResolveResource returns the stream (and consumer) a resource ARN names
// in this store. Consumers are not registered in Spate yet (enhanced
// fan-out is issue 13), so a consumer ARN of an existing stream answers
// ResourceNotFoundException naming the consumer.
func (s *Store) ResolveResource(arn string) (Resource, error) {
	m := resourceARNRE.FindStringSubmatch(arn)
	if m == nil {
		return Resource{}, apierr.New(apierr.InvalidArgument,
			"ResourceARN %q is invalid: expected arn:aws:kinesis:<region>:<12-digit account>:stream/<name> or a consumer ARN stream/<name>/consumer/<consumer>:<timestamp>", arn)
	}
	if m[1] != s.cfg.region || m[2] != s.cfg.accountID {
		return Resource{}, apierr.New(apierr.ResourceNotFound,
			"Resource %s not found (this server serves region %s, account %s)", arn, s.cfg.region, s.cfg.accountID)
	}
	r := Resource{Stream: m[3], Consumer: m[4]}
	if r.Consumer == "" {
		return r, nil
	}
	s.mu.RLock()
	_, err := s.lookup(r.Stream)
	s.mu.RUnlock()
	if err != nil {
		return Resource{}, err
	}
	return Resource{}, apierr.New(apierr.ResourceNotFound,
		"Consumer %s of stream %s under account %s not found: Spate does not register stream consumers yet", r.Consumer, r.Stream, s.cfg.accountID)
}

// resolveStreamResource resolves a resource ARN that must name a stream.
func (s *Store) resolveStreamResource(arn string) (string, error) {
	r, err := s.ResolveResource(arn)
	if err != nil {
		return "", err
	}
	return r.Stream, nil
}

// TagResource adds or overwrites tags on the resource an ARN names; it
// shares the tags of AddTagsToStream (at most MaxTagsPerStream).
func (s *Store) TagResource(ctx context.Context, arn string, tags map[string]string) error {
	name, err := s.resolveStreamResource(arn)
	if err != nil {
		return err
	}
	return s.AddTags(ctx, name, tags)
}

// UntagResource removes tag keys from the resource an ARN names.
func (s *Store) UntagResource(ctx context.Context, arn string, keys []string) error {
	name, err := s.resolveStreamResource(arn)
	if err != nil {
		return err
	}
	return s.RemoveTags(ctx, name, keys)
}

// ListTagsForResource lists all tags of the resource an ARN names, in key
// order.
func (s *Store) ListTagsForResource(ctx context.Context, arn string) ([]Tag, error) {
	name, err := s.resolveStreamResource(arn)
	if err != nil {
		return nil, err
	}
	tags, _, err := s.ListTags(ctx, name, "", MaxTagsPerStream)
	return tags, err
}

// PutResourcePolicy attaches policy (a JSON policy document the caller has
// validated) to the resource an ARN names, replacing any policy it had.
func (s *Store) PutResourcePolicy(ctx context.Context, arn, policy string) error {
	if len(policy) > MaxResourcePolicyBytes {
		return apierr.New(apierr.InvalidArgument,
			"Policy is %d bytes; a resource policy can be at most %d bytes (20 KiB)", len(policy), MaxResourcePolicyBytes)
	}
	if policy == "" {
		return apierr.New(apierr.InvalidArgument, "Policy must not be empty; use DeleteResourcePolicy to remove a policy")
	}
	name, err := s.resolveStreamResource(arn)
	if err != nil {
		return err
	}
	return s.mutateActive(name, func(m *streamMeta) error {
		m.Policy = policy
		return nil
	})
}

// GetResourcePolicy returns the policy attached to the resource an ARN
// names; ok is false when it has none.
func (s *Store) GetResourcePolicy(ctx context.Context, arn string) (policy string, ok bool, err error) {
	name, err := s.resolveStreamResource(arn)
	if err != nil {
		return "", false, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, err := s.lookup(name)
	if err != nil {
		return "", false, err
	}
	return st.meta.Policy, st.meta.Policy != "", nil
}

// DeleteResourcePolicy removes the policy of the resource an ARN names; a
// resource without one answers ResourceNotFoundException.
func (s *Store) DeleteResourcePolicy(ctx context.Context, arn string) error {
	name, err := s.resolveStreamResource(arn)
	if err != nil {
		return err
	}
	return s.mutateActive(name, func(m *streamMeta) error {
		if m.Policy == "" {
			return apierr.New(apierr.ResourceNotFound, "No resource policy found for resource %s", arn)
		}
		m.Policy = ""
		return nil
	})
}

// ResourcePolicy returns the policy attached to the resource ARN names, for
// authorization: "" when the resource has none or does not exist (the
// action then answers for itself). It never fails.
func (s *Store) ResourcePolicy(arn string) string {
	// Every signed request asks, so no regexp: a stream's ARN is
	// StreamARN(name), and a name has no '/' (a consumer ARN does).
	name, ok := strings.CutPrefix(arn, s.StreamARN(""))
	if !ok || strings.Contains(name, "/") {
		return ""
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, ok := s.streams[name]
	if !ok || st.meta.Internal {
		return ""
	}
	return st.meta.Policy
}
