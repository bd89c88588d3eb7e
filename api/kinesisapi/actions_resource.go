package kinesisapi

import (
	"context"
	"time"

	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/auth"
	"github.com/spatehq/spate/shard"
)

// The actions that act on a resource ARN (tags, resource policies) and the
// stream and account settings of issue 12 (capacity mode, maximum record
// size, warm throughput, minimum throughput billing commitment).

// settingsStore is what these actions need of the store.
type settingsStore interface {
	StreamARN(name string) string
	TagResource(ctx context.Context, arn string, tags map[string]string) error
	UntagResource(ctx context.Context, arn string, keys []string) error
	ListTagsForResource(ctx context.Context, arn string) ([]shard.Tag, error)
	PutResourcePolicy(ctx context.Context, arn, policy string) error
	GetResourcePolicy(ctx context.Context, arn string) (string, bool, error)
	DeleteResourcePolicy(ctx context.Context, arn string) error
	UpdateStreamMode(ctx context.Context, name string, mode shard.StreamMode, warmMiBps *int) error
	UpdateMaxRecordSize(ctx context.Context, name string, kib int) error
	UpdateWarmThroughput(ctx context.Context, name string, mibps int) (shard.WarmThroughput, error)
	AccountSettings(ctx context.Context) (shard.AccountSettings, error)
	UpdateAccountSettings(ctx context.Context, enable bool) (shard.AccountSettings, error)
}

// settingsOperations are the actions of this file, for NewHandler.
func (h *handler) settingsOperations() []*awsproto.Operation {
	return []*awsproto.Operation{
		awsproto.Action("DeleteResourcePolicy", h.deleteResourcePolicy),
		awsproto.Action("DescribeAccountSettings", h.describeAccountSettings),
		awsproto.Action("GetResourcePolicy", h.getResourcePolicy),
		awsproto.Action("ListTagsForResource", h.listTagsForResource),
		awsproto.Action("PutResourcePolicy", h.putResourcePolicy),
		awsproto.Action("TagResource", h.tagResource),
		awsproto.Action("UntagResource", h.untagResource),
		awsproto.Action("UpdateAccountSettings", h.updateAccountSettings),
		awsproto.Action("UpdateMaxRecordSize", h.updateMaxRecordSize),
		awsproto.Action("UpdateStreamMode", h.updateStreamMode),
		awsproto.Action("UpdateStreamWarmThroughput", h.updateStreamWarmThroughput),
	}
}

// Request and reply structs (see wire.go for the conventions).

// resourceRef names the resource of TagResource and its kin. StreamId is
// reserved by AWS and ignored.
type resourceRef struct {
	ResourceARN *string `json:"ResourceARN"`
	StreamID    *string `json:"StreamId"`
}

type tagResourceRequest struct {
	resourceRef
	Tags map[string]string `json:"Tags"`
}

type untagResourceRequest struct {
	resourceRef
	TagKeys []string `json:"TagKeys"`
}

type listTagsForResourceRequest struct {
	resourceRef
}

type listTagsForResourceReply struct {
	Tags []tagOut `json:"Tags"`
}

type putResourcePolicyRequest struct {
	resourceRef
	Policy *string `json:"Policy"`
}

type getResourcePolicyRequest struct {
	resourceRef
}

type getResourcePolicyReply struct {
	Policy string `json:"Policy"`
}

type deleteResourcePolicyRequest struct {
	resourceRef
}

// arnRef names a stream by ARN only (UpdateStreamMode, UpdateMaxRecordSize).
type arnRef struct {
	StreamARN *string `json:"StreamARN"`
	StreamID  *string `json:"StreamId"`
}

type updateStreamModeRequest struct {
	arnRef
	StreamModeDetails   *streamModeDetailsIn `json:"StreamModeDetails"`
	WarmThroughputMiBps *int32               `json:"WarmThroughputMiBps"`
}

type updateMaxRecordSizeRequest struct {
	arnRef
	MaxRecordSizeInKiB *int32 `json:"MaxRecordSizeInKiB"`
}

type updateWarmThroughputRequest struct {
	streamRef
	WarmThroughputMiBps *int32 `json:"WarmThroughputMiBps"`
}

type warmThroughputOut struct {
	TargetMiBps  int `json:"TargetMiBps"`
	CurrentMiBps int `json:"CurrentMiBps"`
}

type updateWarmThroughputReply struct {
	StreamARN      string            `json:"StreamARN"`
	StreamName     string            `json:"StreamName"`
	WarmThroughput warmThroughputOut `json:"WarmThroughput"`
}

type describeAccountSettingsRequest struct{}

type commitmentIn struct {
	Status *string `json:"Status"`
}

type updateAccountSettingsRequest struct {
	MinimumThroughputBillingCommitment *commitmentIn `json:"MinimumThroughputBillingCommitment"`
}

type commitmentOut struct {
	Status               string                 `json:"Status"`
	StartedAt            *awsproto.EpochSeconds `json:"StartedAt,omitempty"`
	EndedAt              *awsproto.EpochSeconds `json:"EndedAt,omitempty"`
	EarliestAllowedEndAt *awsproto.EpochSeconds `json:"EarliestAllowedEndAt,omitempty"`
}

type accountSettingsReply struct {
	MinimumThroughputBillingCommitment commitmentOut `json:"MinimumThroughputBillingCommitment"`
}

// The actions.

func (h *handler) tagResource(ctx context.Context, in *tagResourceRequest) (empty, error) {
	return empty{}, h.store.TagResource(ctx, str(in.ResourceARN), in.Tags)
}

func (h *handler) untagResource(ctx context.Context, in *untagResourceRequest) (empty, error) {
	return empty{}, h.store.UntagResource(ctx, str(in.ResourceARN), in.TagKeys)
}

func (h *handler) listTagsForResource(ctx context.Context, in *listTagsForResourceRequest) (listTagsForResourceReply, error) {
	tags, err := h.store.ListTagsForResource(ctx, str(in.ResourceARN))
	if err != nil {
		return listTagsForResourceReply{}, err
	}
	reply := listTagsForResourceReply{Tags: make([]tagOut, len(tags))}
	for i, t := range tags {
		reply.Tags[i] = tagOut{Key: t.Key, Value: t.Value}
	}
	return reply, nil
}

func (h *handler) putResourcePolicy(ctx context.Context, in *putResourcePolicyRequest) (empty, error) {
	// The document is checked here, where the policy language is known;
	// the store keeps it as the client wrote it.
	if len(str(in.Policy)) <= shard.MaxResourcePolicyBytes {
		if _, err := auth.ParseResourcePolicy(str(in.Policy)); err != nil {
			return empty{}, err
		}
	}
	return empty{}, h.store.PutResourcePolicy(ctx, str(in.ResourceARN), str(in.Policy))
}

func (h *handler) getResourcePolicy(ctx context.Context, in *getResourcePolicyRequest) (getResourcePolicyReply, error) {
	p, ok, err := h.store.GetResourcePolicy(ctx, str(in.ResourceARN))
	if err != nil {
		return getResourcePolicyReply{}, err
	}
	if !ok {
		p = "{}" // Policy is required in the reply; AWS answers an empty document
	}
	return getResourcePolicyReply{Policy: p}, nil
}

func (h *handler) deleteResourcePolicy(ctx context.Context, in *deleteResourcePolicyRequest) (empty, error) {
	return empty{}, h.store.DeleteResourcePolicy(ctx, str(in.ResourceARN))
}

func (h *handler) resolveARN(ref arnRef) (string, error) {
	if ref.StreamARN == nil {
		return "", apierr.New(apierr.InvalidArgument, "StreamARN must be provided")
	}
	return h.store.ResolveStream("", *ref.StreamARN)
}

func (h *handler) updateStreamMode(ctx context.Context, in *updateStreamModeRequest) (empty, error) {
	name, err := h.resolveARN(in.arnRef)
	if err != nil {
		return empty{}, err
	}
	var warm *int
	if in.WarmThroughputMiBps != nil {
		w := int(*in.WarmThroughputMiBps)
		warm = &w
	}
	return empty{}, h.store.UpdateStreamMode(ctx, name, shard.StreamMode(str(in.StreamModeDetails.StreamMode)), warm)
}

func (h *handler) updateMaxRecordSize(ctx context.Context, in *updateMaxRecordSizeRequest) (empty, error) {
	name, err := h.resolveARN(in.arnRef)
	if err != nil {
		return empty{}, err
	}
	return empty{}, h.store.UpdateMaxRecordSize(ctx, name, num(in.MaxRecordSizeInKiB))
}

func (h *handler) updateStreamWarmThroughput(ctx context.Context, in *updateWarmThroughputRequest) (updateWarmThroughputReply, error) {
	name, err := h.resolve(in.streamRef)
	if err != nil {
		return updateWarmThroughputReply{}, err
	}
	w, err := h.store.UpdateWarmThroughput(ctx, name, num(in.WarmThroughputMiBps))
	if err != nil {
		return updateWarmThroughputReply{}, err
	}
	return updateWarmThroughputReply{
		StreamARN:      h.store.StreamARN(name),
		StreamName:     name,
		WarmThroughput: warmThroughputOut{TargetMiBps: w.TargetMiBps, CurrentMiBps: w.CurrentMiBps},
	}, nil
}

func (h *handler) describeAccountSettings(ctx context.Context, _ *describeAccountSettingsRequest) (accountSettingsReply, error) {
	a, err := h.store.AccountSettings(ctx)
	if err != nil {
		return accountSettingsReply{}, err
	}
	return accountSettingsOut(a), nil
}

func (h *handler) updateAccountSettings(ctx context.Context, in *updateAccountSettingsRequest) (accountSettingsReply, error) {
	a, err := h.store.UpdateAccountSettings(ctx, str(in.MinimumThroughputBillingCommitment.Status) == string(shard.CommitmentEnabled))
	if err != nil {
		return accountSettingsReply{}, err
	}
	return accountSettingsOut(a), nil
}

func accountSettingsOut(a shard.AccountSettings) accountSettingsReply {
	ts := func(t time.Time) *awsproto.EpochSeconds {
		if t.IsZero() {
			return nil
		}
		e := awsproto.EpochSeconds(t)
		return &e
	}
	return accountSettingsReply{MinimumThroughputBillingCommitment: commitmentOut{
		Status:               string(a.Status),
		StartedAt:            ts(a.StartedAt),
		EndedAt:              ts(a.EndedAt),
		EarliestAllowedEndAt: ts(a.EarliestAllowedEndAt),
	}}
}

// warmOut is DescribeStreamSummary's WarmThroughput: nil for a stream
// without one (PROVISIONED).
func warmOut(w *shard.WarmThroughput) *warmThroughputOut {
	if w == nil {
		return nil
	}
	return &warmThroughputOut{TargetMiBps: w.TargetMiBps, CurrentMiBps: w.CurrentMiBps}
}
