package shard

import (
	"context"
	"regexp"
	"sort"
	"strconv"
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

// parseResource parses a resource ARN of this store's region and account;
// epoch is a consumer ARN's creation time in epoch seconds.
func (s *Store) parseResource(arn string) (Resource, int64, error) {
	m := resourceARNRE.FindStringSubmatch(arn)
	if m == nil {
		return Resource{}, 0, apierr.New(apierr.InvalidArgument,
			"ResourceARN %q is invalid: expected arn:aws:kinesis:<region>:<12-digit account>:stream/<name> or a consumer ARN stream/<name>/consumer/<consumer>:<timestamp>", arn)
	}
	if m[1] != s.cfg.region || m[2] != s.cfg.accountID {
		return Resource{}, 0, apierr.New(apierr.ResourceNotFound,
			"Resource %s not found (this server serves region %s, account %s)", arn, s.cfg.region, s.cfg.accountID)
	}
	r := Resource{Stream: m[3], Consumer: m[4]}
	if r.Consumer == "" {
		return r, -1, nil
	}
	epoch, err := strconv.ParseInt(m[5], 10, 64)
	if err != nil {
		return Resource{}, 0, apierr.New(apierr.InvalidArgument, "consumer ARN %q has an invalid creation timestamp", arn)
	}
	return r, epoch, nil
}

// ResolveResource returns the stream (and consumer) a resource ARN names
// in this store: a consumer ARN must name a registered consumer, creation
// time included.
func (s *Store) ResolveResource(arn string) (Resource, error) {
	r, epoch, err := s.parseResource(arn)
	if err != nil {
		return Resource{}, err
	}
	if r.Consumer == "" {
		return r, nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, err := s.lookup(r.Stream)
	if err != nil {
		return Resource{}, err
	}
	if _, err := s.findConsumer(&st.meta, r.Stream, r.Consumer, epoch); err != nil {
		return Resource{}, err
	}
	return r, nil
}

// TagResource adds or overwrites tags on the resource an ARN names; a
// stream shares the tags of AddTagsToStream (at most MaxTagsPerStream), a
// consumer has its own, as many.
func (s *Store) TagResource(ctx context.Context, arn string, tags map[string]string) error {
	r, epoch, err := s.parseResource(arn)
	if err != nil {
		return err
	}
	if r.Consumer == "" {
		return s.AddTags(ctx, r.Stream, tags)
	}
	if len(tags) == 0 {
		return apierr.New(apierr.InvalidArgument, "Tags must hold at least one tag")
	}
	if err := validateTags(tags); err != nil {
		return err
	}
	return s.mutateConsumer(r, epoch, func(c *consumerMeta) error {
		if c.Tags = mergeTags(c.Tags, tags); len(c.Tags) > MaxTagsPerStream {
			return apierr.New(apierr.InvalidArgument,
				"Failed to add tags to consumer %s because a given resource cannot have more than %d tags associated with it.", arn, MaxTagsPerStream)
		}
		return nil
	})
}

// UntagResource removes tag keys from the resource an ARN names.
func (s *Store) UntagResource(ctx context.Context, arn string, keys []string) error {
	r, epoch, err := s.parseResource(arn)
	if err != nil {
		return err
	}
	if r.Consumer == "" {
		return s.RemoveTags(ctx, r.Stream, keys)
	}
	if len(keys) == 0 || len(keys) > MaxTagsPerStream {
		return apierr.New(apierr.InvalidArgument, "TagKeys must hold 1 to %d keys (got %d)", MaxTagsPerStream, len(keys))
	}
	return s.mutateConsumer(r, epoch, func(c *consumerMeta) error {
		for _, k := range keys {
			delete(c.Tags, k)
		}
		return nil
	})
}

// ListTagsForResource lists all tags of the resource an ARN names, in key
// order.
func (s *Store) ListTagsForResource(ctx context.Context, arn string) ([]Tag, error) {
	r, epoch, err := s.parseResource(arn)
	if err != nil {
		return nil, err
	}
	if r.Consumer == "" {
		tags, _, err := s.ListTags(ctx, r.Stream, "", MaxTagsPerStream)
		return tags, err
	}
	c, err := s.consumerMeta(r, epoch)
	if err != nil {
		return nil, err
	}
	tags := make([]Tag, 0, len(c.Tags))
	for k, v := range c.Tags {
		tags = append(tags, Tag{Key: k, Value: v})
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
	return tags, nil
}

// consumerMeta returns a copy of a registered consumer's metadata.
func (s *Store) consumerMeta(r Resource, epoch int64) (consumerMeta, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, err := s.lookup(r.Stream)
	if err != nil {
		return consumerMeta{}, err
	}
	i, err := s.findConsumer(&st.meta, r.Stream, r.Consumer, epoch)
	if err != nil {
		return consumerMeta{}, err
	}
	return st.meta.Consumers[i], nil
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
	r, epoch, err := s.parseResource(arn)
	if err != nil {
		return err
	}
	if r.Consumer != "" {
		return s.mutateConsumer(r, epoch, func(c *consumerMeta) error {
			c.Policy = policy
			return nil
		})
	}
	return s.mutateActive(r.Stream, func(m *streamMeta) error {
		m.Policy = policy
		return nil
	})
}

// GetResourcePolicy returns the policy attached to the resource an ARN
// names; ok is false when it has none.
func (s *Store) GetResourcePolicy(ctx context.Context, arn string) (policy string, ok bool, err error) {
	r, epoch, err := s.parseResource(arn)
	if err != nil {
		return "", false, err
	}
	if r.Consumer != "" {
		c, err := s.consumerMeta(r, epoch)
		if err != nil {
			return "", false, err
		}
		return c.Policy, c.Policy != "", nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, err := s.lookup(r.Stream)
	if err != nil {
		return "", false, err
	}
	return st.meta.Policy, st.meta.Policy != "", nil
}

// DeleteResourcePolicy removes the policy of the resource an ARN names; a
// resource without one answers ResourceNotFoundException.
func (s *Store) DeleteResourcePolicy(ctx context.Context, arn string) error {
	r, epoch, err := s.parseResource(arn)
	if err != nil {
		return err
	}
	noPolicy := apierr.New(apierr.ResourceNotFound, "No resource policy found for resource %s", arn)
	if r.Consumer != "" {
		return s.mutateConsumer(r, epoch, func(c *consumerMeta) error {
			if c.Policy == "" {
				return noPolicy
			}
			c.Policy = ""
			return nil
		})
	}
	return s.mutateActive(r.Stream, func(m *streamMeta) error {
		if m.Policy == "" {
			return noPolicy
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
	// A consumer ARN is StreamARN(name)/consumer/CONSUMER:EPOCH.
	name, ok := strings.CutPrefix(arn, s.StreamARN(""))
	if !ok {
		return ""
	}
	name, consumer, isConsumer := strings.Cut(name, "/consumer/")
	if strings.Contains(name, "/") || strings.Contains(consumer, "/") {
		return ""
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, ok := s.streams[name]
	if !ok || st.meta.Internal {
		return ""
	}
	if !isConsumer {
		return st.meta.Policy
	}
	cname, epochText, ok := strings.Cut(consumer, ":")
	epoch, err := strconv.ParseInt(epochText, 10, 64)
	if !ok || err != nil || epoch < 0 {
		return ""
	}
	i, err := s.findConsumer(&st.meta, name, cname, epoch)
	if err != nil {
		return ""
	}
	return st.meta.Consumers[i].Policy
}
