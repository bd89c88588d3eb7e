package esm

import (
	"context"
	"strings"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/functions"
	"github.com/spatehq/spate/shard"
)

// The tagging actions (TagResource, UntagResource, ListTags) on a
// mapping's ARN. Tags live in the mapping's record, so they are written
// with it and deleted with it. A tag change is not a user change of the
// mapping: it keeps Revision, so the pollers do not restart.

// MappingARNPart is what tells a mapping's ARN
// (arn:aws:lambda:REGION:ACCOUNT:event-source-mapping:UUID) from a
// function's.
const MappingARNPart = ":event-source-mapping:"

// IsMappingARN reports whether resource names an event source mapping.
func IsMappingARN(resource string) bool {
	return strings.HasPrefix(resource, "arn:") && strings.Contains(resource, MappingARNPart)
}

// uuidOf returns the UUID of the mapping arn names: a mapping of this
// server's region and account, or ResourceNotFoundException.
func (s *Service) uuidOf(arn string) (string, error) {
	prefix := "arn:aws:lambda:" + s.cfg.region + ":" + s.cfg.account + MappingARNPart
	uuid, ok := strings.CutPrefix(arn, prefix)
	if !IsMappingARN(arn) {
		return "", invalid("Resource %.100q is not an event source mapping's ARN (arn:aws:lambda:REGION:ACCOUNT:event-source-mapping:UUID)", arn)
	}
	if !ok || uuid == "" || strings.Contains(uuid, ":") {
		return "", apierr.New(apierr.ResourceNotFound,
			"The resource you requested does not exist. (%.100s is not an event source mapping of region %s, account %s)",
			arn, s.cfg.region, s.cfg.account)
	}
	return uuid, nil
}

// TagResource adds or replaces tags of the mapping arn names.
func (s *Service) TagResource(ctx context.Context, arn string, tags map[string]string) error {
	if len(tags) == 0 {
		return invalid("Tags is required: give at least one tag")
	}
	return s.changeTags(ctx, arn, func(cur map[string]string) map[string]string {
		return functions.MergeTags(cur, tags)
	})
}

// UntagResource removes tags of the mapping arn names.
func (s *Service) UntagResource(ctx context.Context, arn string, keys []string) error {
	if len(keys) == 0 {
		return invalid("TagKeys is required: give at least one key")
	}
	return s.changeTags(ctx, arn, func(cur map[string]string) map[string]string {
		return functions.RemoveTags(cur, keys)
	})
}

// ListTags returns the tags of the mapping arn names ({} when none).
func (s *Service) ListTags(ctx context.Context, arn string) (map[string]string, error) {
	uuid, err := s.uuidOf(arn)
	if err != nil {
		return nil, err
	}
	r, _, ok, err := s.loadRecord(uuid)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound(uuid)
	}
	if r.Tags == nil {
		return map[string]string{}, nil
	}
	return r.Tags, nil
}

// changeTags replaces the mapping's tags with change(its tags), checked,
// expecting the record it read so a concurrent change is not lost.
func (s *Service) changeTags(ctx context.Context, arn string, change func(map[string]string) map[string]string) error {
	uuid, err := s.uuidOf(arn)
	if err != nil {
		return err
	}
	for {
		r, raw, ok, err := s.loadRecord(uuid)
		if err != nil {
			return err
		}
		if !ok || r.Deleting {
			return notFound(uuid)
		}
		r.Tags = change(r.Tags)
		if len(r.Tags) == 0 {
			r.Tags = nil
		}
		if err := functions.ValidateTags(r.Tags); err != nil {
			return err
		}
		if _, err := s.putRecord(ctx, r, raw); err != nil {
			if shard.ConditionFailed(err) {
				continue
			}
			return err
		}
		return nil
	}
}
