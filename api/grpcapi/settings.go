package grpcapi

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/auth"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// The RPCs that act on a resource ARN (tags, resource policies) and on the
// stream and account settings. The store checks what both APIs share; the
// policy language is checked here, as kinesisapi does.

// TagResource implements spatev1.StreamServiceServer.
func (s *Server) TagResource(ctx context.Context, req *spatev1.TagResourceRequest) (*spatev1.TagResourceResponse, error) {
	if err := s.store.TagResource(ctx, req.GetResourceArn(), req.GetTags()); err != nil {
		return nil, s.fail(ctx, "TagResource", err)
	}
	return &spatev1.TagResourceResponse{}, nil
}

// UntagResource implements spatev1.StreamServiceServer.
func (s *Server) UntagResource(ctx context.Context, req *spatev1.UntagResourceRequest) (*spatev1.UntagResourceResponse, error) {
	if err := s.store.UntagResource(ctx, req.GetResourceArn(), req.GetTagKeys()); err != nil {
		return nil, s.fail(ctx, "UntagResource", err)
	}
	return &spatev1.UntagResourceResponse{}, nil
}

// ListTagsForResource implements spatev1.StreamServiceServer.
func (s *Server) ListTagsForResource(ctx context.Context, req *spatev1.ListTagsForResourceRequest) (*spatev1.ListTagsForResourceResponse, error) {
	tags, err := s.store.ListTagsForResource(ctx, req.GetResourceArn())
	if err != nil {
		return nil, s.fail(ctx, "ListTagsForResource", err)
	}
	resp := &spatev1.ListTagsForResourceResponse{Tags: make([]*spatev1.Tag, len(tags))}
	for i, t := range tags {
		resp.Tags[i] = &spatev1.Tag{Key: t.Key, Value: t.Value}
	}
	return resp, nil
}

// PutResourcePolicy implements spatev1.StreamServiceServer.
func (s *Server) PutResourcePolicy(ctx context.Context, req *spatev1.PutResourcePolicyRequest) (*spatev1.PutResourcePolicyResponse, error) {
	if p := req.GetPolicy(); p != "" && len(p) <= shard.MaxResourcePolicyBytes {
		if _, err := auth.ParseResourcePolicy(p); err != nil {
			return nil, s.fail(ctx, "PutResourcePolicy", err)
		}
	}
	if err := s.store.PutResourcePolicy(ctx, req.GetResourceArn(), req.GetPolicy()); err != nil {
		return nil, s.fail(ctx, "PutResourcePolicy", err)
	}
	return &spatev1.PutResourcePolicyResponse{}, nil
}

// GetResourcePolicy implements spatev1.StreamServiceServer.
func (s *Server) GetResourcePolicy(ctx context.Context, req *spatev1.GetResourcePolicyRequest) (*spatev1.GetResourcePolicyResponse, error) {
	p, ok, err := s.store.GetResourcePolicy(ctx, req.GetResourceArn())
	if err != nil {
		return nil, s.fail(ctx, "GetResourcePolicy", err)
	}
	if !ok {
		p = "{}"
	}
	return &spatev1.GetResourcePolicyResponse{Policy: p}, nil
}

// DeleteResourcePolicy implements spatev1.StreamServiceServer.
func (s *Server) DeleteResourcePolicy(ctx context.Context, req *spatev1.DeleteResourcePolicyRequest) (*spatev1.DeleteResourcePolicyResponse, error) {
	if err := s.store.DeleteResourcePolicy(ctx, req.GetResourceArn()); err != nil {
		return nil, s.fail(ctx, "DeleteResourcePolicy", err)
	}
	return &spatev1.DeleteResourcePolicyResponse{}, nil
}

// UpdateStreamMode implements spatev1.StreamServiceServer.
func (s *Server) UpdateStreamMode(ctx context.Context, req *spatev1.UpdateStreamModeRequest) (*spatev1.UpdateStreamModeResponse, error) {
	err := func() error {
		name, err := s.store.ResolveStream(req.GetStreamName(), req.GetStreamArn())
		if err != nil {
			return err
		}
		mode, ok := modeFromProto[req.GetStreamMode()]
		if !ok || mode == "" {
			return apierr.New(apierr.InvalidArgument,
				"stream_mode %d is not a StreamMode: use STREAM_MODE_PROVISIONED or STREAM_MODE_ON_DEMAND", req.GetStreamMode())
		}
		var warm *int
		if req.WarmThroughputMibps != nil {
			w := int(req.GetWarmThroughputMibps())
			warm = &w
		}
		return s.store.UpdateStreamMode(ctx, name, mode, warm)
	}()
	if err != nil {
		return nil, s.fail(ctx, "UpdateStreamMode", err)
	}
	return &spatev1.UpdateStreamModeResponse{}, nil
}

// UpdateMaxRecordSize implements spatev1.StreamServiceServer.
func (s *Server) UpdateMaxRecordSize(ctx context.Context, req *spatev1.UpdateMaxRecordSizeRequest) (*spatev1.UpdateMaxRecordSizeResponse, error) {
	name, err := s.store.ResolveStream(req.GetStreamName(), req.GetStreamArn())
	if err == nil {
		err = s.store.UpdateMaxRecordSize(ctx, name, int(req.GetMaxRecordSizeKib()))
	}
	if err != nil {
		return nil, s.fail(ctx, "UpdateMaxRecordSize", err)
	}
	return &spatev1.UpdateMaxRecordSizeResponse{}, nil
}

// UpdateStreamWarmThroughput implements spatev1.StreamServiceServer.
func (s *Server) UpdateStreamWarmThroughput(ctx context.Context, req *spatev1.UpdateStreamWarmThroughputRequest) (*spatev1.UpdateStreamWarmThroughputResponse, error) {
	name, err := s.store.ResolveStream(req.GetStreamName(), req.GetStreamArn())
	var w shard.WarmThroughput
	if err == nil {
		w, err = s.store.UpdateWarmThroughput(ctx, name, int(req.GetWarmThroughputMibps()))
	}
	if err != nil {
		return nil, s.fail(ctx, "UpdateStreamWarmThroughput", err)
	}
	return &spatev1.UpdateStreamWarmThroughputResponse{
		StreamName: name, StreamArn: s.store.StreamARN(name), WarmThroughput: encodeWarm(&w),
	}, nil
}

// DescribeAccountSettings implements spatev1.StreamServiceServer.
func (s *Server) DescribeAccountSettings(ctx context.Context, _ *spatev1.DescribeAccountSettingsRequest) (*spatev1.DescribeAccountSettingsResponse, error) {
	a, err := s.store.AccountSettings(ctx)
	if err != nil {
		return nil, s.fail(ctx, "DescribeAccountSettings", err)
	}
	return &spatev1.DescribeAccountSettingsResponse{MinimumThroughputBillingCommitment: encodeCommitment(a)}, nil
}

// UpdateAccountSettings implements spatev1.StreamServiceServer.
func (s *Server) UpdateAccountSettings(ctx context.Context, req *spatev1.UpdateAccountSettingsRequest) (*spatev1.UpdateAccountSettingsResponse, error) {
	var enable bool
	switch st := req.GetMinimumThroughputBillingCommitmentStatus(); shard.CommitmentStatus(st) {
	case shard.CommitmentEnabled:
		enable = true
	case shard.CommitmentDisabled:
	default:
		return nil, s.fail(ctx, "UpdateAccountSettings", apierr.New(apierr.Validation,
			"minimum_throughput_billing_commitment_status %q: want ENABLED or DISABLED", st))
	}
	a, err := s.store.UpdateAccountSettings(ctx, enable)
	if err != nil {
		return nil, s.fail(ctx, "UpdateAccountSettings", err)
	}
	return &spatev1.UpdateAccountSettingsResponse{MinimumThroughputBillingCommitment: encodeCommitment(a)}, nil
}

func encodeWarm(w *shard.WarmThroughput) *spatev1.WarmThroughput {
	if w == nil {
		return nil
	}
	return &spatev1.WarmThroughput{TargetMibps: int32(w.TargetMiBps), CurrentMibps: int32(w.CurrentMiBps)}
}

func encodeCommitment(a shard.AccountSettings) *spatev1.MinimumThroughputBillingCommitment {
	ts := func(t time.Time) *timestamppb.Timestamp {
		if t.IsZero() {
			return nil
		}
		return timestamppb.New(t)
	}
	return &spatev1.MinimumThroughputBillingCommitment{
		Status: string(a.Status), StartedAt: ts(a.StartedAt), EndedAt: ts(a.EndedAt), EarliestAllowedEndAt: ts(a.EarliestAllowedEndAt),
	}
}
