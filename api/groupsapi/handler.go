package groupsapi

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/groups"
	"github.com/spatehq/spate/shard"
)

// TargetPrefix is the service half of the X-Amz-Target header of group
// requests ("SpateGroups_20261207.JoinGroup").
const TargetPrefix = "SpateGroups_20261207"

// DefaultMaxBodyBytes caps a request body: a Checkpoint with 500 output
// records of up to 10 MiB of data in all, base64-encoded, and framing.
const DefaultMaxBodyBytes = 16 << 20

//go:embed model/spategroups-2026-12-07.json
var serviceModel []byte

type handler struct{ svc *groups.Service }

// NewHandler returns the handler of the groups API on svc; opts are
// awsproto's (WithLogger, WithGuard, WithIntercept, ...).
func NewHandler(svc *groups.Service, opts ...awsproto.Option) *awsproto.Handler {
	m, err := awsproto.LoadModel(serviceModel)
	if err != nil {
		panic(fmt.Sprintf("groupsapi: embedded service model: %v", err)) // a build defect, caught by every test
	}
	h := &handler{svc: svc}
	out, err := awsproto.NewHandler(awsproto.Service{
		Model:        m,
		TargetPrefix: TargetPrefix,
		Name:         "Spate consumer groups",
		ShortName:    "SpateGroups",
		Operations: []*awsproto.Operation{
			awsproto.Action("JoinGroup", h.joinGroup),
			awsproto.Action("Heartbeat", h.heartbeat),
			awsproto.Action("AcquireLease", h.acquireLease),
			awsproto.Action("ReleaseLease", h.releaseLease),
			awsproto.Action("Checkpoint", h.checkpoint),
			awsproto.Action("LeaveGroup", h.leaveGroup),
			awsproto.Action("DescribeGroup", h.describeGroup),
			awsproto.Action("ListGroups", h.listGroups),
			awsproto.Action("ResetGroup", h.resetGroup),
			awsproto.Action("DeleteGroup", h.deleteGroup),
		},
		MaxBodyBytes:   DefaultMaxBodyBytes,
		ValidationCode: apierr.InvalidArgument,
		SigningName:    "kinesis",
		// The output stream of a Checkpoint is a resource of it too: a
		// policy must allow the action on both streams.
		ResourceMembers: map[string]string{"StreamName": "stream/", "StreamARN": "", "OutputStreamName": "stream/"},
		BodyLimitHint:   fmt.Sprintf("(a Checkpoint carries at most %d output records)", groups.MaxOutputRecords),
	}, opts...)
	if err != nil {
		panic(fmt.Sprintf("groupsapi: %v", err)) // a build defect, caught by every test
	}
	return out
}

// Requests. Every member of the model's input shape is here (awsproto
// checks it), scalars as pointers.

type groupRef struct {
	StreamName *string `json:"StreamName"`
	StreamARN  *string `json:"StreamARN"`
	GroupName  *string `json:"GroupName"`
}

func (r groupRef) ref() groups.Ref {
	return groups.Ref{Stream: str(r.StreamName), StreamARN: str(r.StreamARN), Group: str(r.GroupName)}
}

type joinGroupRequest struct {
	groupRef
	WorkerID           *string                `json:"WorkerId"`
	InitialPosition    *string                `json:"InitialPosition"`
	InitialTimestamp   *awsproto.EpochSeconds `json:"InitialTimestamp"`
	LeaseTimeoutMillis *int64                 `json:"LeaseTimeoutMillis"`
}

type workerRequest struct {
	groupRef
	WorkerID *string `json:"WorkerId"`
}

type acquireLeaseRequest struct {
	groupRef
	WorkerID             *string `json:"WorkerId"`
	ShardID              *string `json:"ShardId"`
	ExpectedLeaseCounter *int64  `json:"ExpectedLeaseCounter"`
}

type releaseLeaseRequest struct {
	groupRef
	WorkerID     *string `json:"WorkerId"`
	ShardID      *string `json:"ShardId"`
	LeaseCounter *int64  `json:"LeaseCounter"`
}

type checkpointRequest struct {
	groupRef
	WorkerID         *string       `json:"WorkerId"`
	ShardID          *string       `json:"ShardId"`
	LeaseCounter     *int64        `json:"LeaseCounter"`
	SequenceNumber   *string       `json:"SequenceNumber"`
	ShardEnd         *bool         `json:"ShardEnd"`
	OutputStreamName *string       `json:"OutputStreamName"`
	OutputRecords    []outputEntry `json:"OutputRecords"`
}

type outputEntry struct {
	Data            awsproto.Blob `json:"Data"`
	ExplicitHashKey *string       `json:"ExplicitHashKey"`
	PartitionKey    *string       `json:"PartitionKey"`
}

type listGroupsRequest struct {
	StreamName *string `json:"StreamName"`
	StreamARN  *string `json:"StreamARN"`
}

type resetGroupRequest struct {
	groupRef
	Position       *string                `json:"Position"`
	Timestamp      *awsproto.EpochSeconds `json:"Timestamp"`
	ShardID        *string                `json:"ShardId"`
	SequenceNumber *string                `json:"SequenceNumber"`
}

// Replies.

type groupReply struct {
	Group group `json:"Group"`
}

type group struct {
	StreamName         string                 `json:"StreamName"`
	GroupName          string                 `json:"GroupName"`
	InitialPosition    string                 `json:"InitialPosition"`
	InitialTimestamp   *awsproto.EpochSeconds `json:"InitialTimestamp,omitempty"`
	LeaseTimeoutMillis int64                  `json:"LeaseTimeoutMillis"`
	Workers            []worker               `json:"Workers"`
	Leases             []lease                `json:"Leases"`
	LeaseAcquisitions  uint64                 `json:"LeaseAcquisitions"`
	LeaseSteals        uint64                 `json:"LeaseSteals"`
	LeaseExpiries      uint64                 `json:"LeaseExpiries"`
}

type worker struct {
	WorkerID string                `json:"WorkerId"`
	Expires  awsproto.EpochSeconds `json:"Expires"`
	ShardIDs []string              `json:"ShardIds"`
}

type lease struct {
	ShardID            string                 `json:"ShardId"`
	Owner              string                 `json:"Owner,omitempty"`
	LeaseCounter       uint64                 `json:"LeaseCounter"`
	Expires            *awsproto.EpochSeconds `json:"Expires,omitempty"`
	Checkpoint         string                 `json:"Checkpoint,omitempty"`
	Finished           bool                   `json:"Finished"`
	ParentShardIDs     []string               `json:"ParentShardIds"`
	LagRecords         int64                  `json:"LagRecords"`
	MillisBehindLatest int64                  `json:"MillisBehindLatest"`
}

type leaseReply struct {
	Lease lease `json:"Lease"`
}

type checkpointReply struct {
	OutputRecords []outputResult `json:"OutputRecords"`
}

type outputResult struct {
	SequenceNumber string `json:"SequenceNumber,omitempty"`
	ShardID        string `json:"ShardId,omitempty"`
	ErrorCode      string `json:"ErrorCode,omitempty"`
	ErrorMessage   string `json:"ErrorMessage,omitempty"`
}

type listGroupsReply struct {
	Groups []string `json:"Groups"`
}

type empty struct{}

// Actions.

func (h *handler) joinGroup(ctx context.Context, in *joinGroupRequest) (groupReply, error) {
	j := groups.JoinInput{Ref: in.ref(), Worker: str(in.WorkerID), Initial: position(in.InitialPosition, in.InitialTimestamp)}
	if in.LeaseTimeoutMillis != nil {
		j.LeaseTimeout = time.Duration(*in.LeaseTimeoutMillis) * time.Millisecond
	}
	g, err := h.svc.Join(ctx, j)
	return groupReply{encodeGroup(g)}, err
}

func (h *handler) heartbeat(ctx context.Context, in *workerRequest) (groupReply, error) {
	g, err := h.svc.Heartbeat(ctx, in.ref(), str(in.WorkerID))
	return groupReply{encodeGroup(g)}, err
}

func (h *handler) acquireLease(ctx context.Context, in *acquireLeaseRequest) (leaseReply, error) {
	l, err := h.svc.Acquire(ctx, groups.LeaseInput{Ref: in.ref(), Worker: str(in.WorkerID), ShardID: str(in.ShardID), Counter: u64(in.ExpectedLeaseCounter)})
	return leaseReply{encodeLease(l)}, err
}

func (h *handler) releaseLease(ctx context.Context, in *releaseLeaseRequest) (empty, error) {
	return empty{}, h.svc.Release(ctx, groups.LeaseInput{Ref: in.ref(), Worker: str(in.WorkerID), ShardID: str(in.ShardID), Counter: u64(in.LeaseCounter)})
}

func (h *handler) checkpoint(ctx context.Context, in *checkpointRequest) (checkpointReply, error) {
	c := groups.CheckpointInput{Ref: in.ref(), Worker: str(in.WorkerID), ShardID: str(in.ShardID), Counter: u64(in.LeaseCounter),
		Sequence: str(in.SequenceNumber), ShardEnd: in.ShardEnd != nil && *in.ShardEnd, OutputStream: str(in.OutputStreamName)}
	for _, r := range in.OutputRecords {
		c.Output = append(c.Output, shard.Entry{PartitionKey: str(r.PartitionKey), ExplicitHashKey: str(r.ExplicitHashKey), Data: r.Data})
	}
	res, err := h.svc.Checkpoint(ctx, c)
	out := checkpointReply{OutputRecords: []outputResult{}}
	for _, r := range res {
		out.OutputRecords = append(out.OutputRecords, outputResult{SequenceNumber: r.SequenceNumber, ShardID: r.ShardID, ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage})
	}
	return out, err
}

func (h *handler) leaveGroup(ctx context.Context, in *workerRequest) (empty, error) {
	return empty{}, h.svc.Leave(ctx, in.ref(), str(in.WorkerID))
}

func (h *handler) describeGroup(ctx context.Context, in *groupRef) (groupReply, error) {
	g, err := h.svc.Describe(ctx, in.ref())
	return groupReply{encodeGroup(g)}, err
}

func (h *handler) listGroups(ctx context.Context, in *listGroupsRequest) (listGroupsReply, error) {
	names, err := h.svc.List(ctx, str(in.StreamName), str(in.StreamARN))
	return listGroupsReply{Groups: names}, err
}

func (h *handler) resetGroup(ctx context.Context, in *resetGroupRequest) (groupReply, error) {
	g, err := h.svc.Reset(ctx, groups.ResetInput{Ref: in.ref(), Position: position(in.Position, in.Timestamp),
		ShardID: str(in.ShardID), Sequence: str(in.SequenceNumber)})
	return groupReply{encodeGroup(g)}, err
}

func (h *handler) deleteGroup(ctx context.Context, in *groupRef) (empty, error) {
	return empty{}, h.svc.Delete(ctx, in.ref())
}

func position(typ *string, ts *awsproto.EpochSeconds) groups.Position {
	p := groups.Position{Type: shard.IteratorType(str(typ))}
	if ts != nil {
		p.Timestamp = time.Time(*ts)
	}
	return p
}

func encodeGroup(g groups.Group) group {
	out := group{StreamName: g.Stream, GroupName: g.Name, InitialPosition: string(g.Initial.Type),
		InitialTimestamp: epoch(g.Initial.Timestamp), LeaseTimeoutMillis: g.LeaseTimeout.Milliseconds(),
		Workers: []worker{}, Leases: []lease{},
		LeaseAcquisitions: g.Counters.Acquisitions, LeaseSteals: g.Counters.Steals, LeaseExpiries: g.Counters.Expiries}
	for _, w := range g.Workers {
		out.Workers = append(out.Workers, worker{WorkerID: w.ID, Expires: awsproto.EpochSeconds(w.Expires), ShardIDs: nonNil(w.Shards)})
	}
	for _, l := range g.Leases {
		out.Leases = append(out.Leases, encodeLease(l))
	}
	return out
}

func encodeLease(l groups.Lease) lease {
	return lease{ShardID: l.ShardID, Owner: l.Owner, LeaseCounter: l.Counter, Expires: epoch(l.Expires),
		Checkpoint: l.Checkpoint, Finished: l.Finished, ParentShardIDs: nonNil(l.Parents),
		LagRecords: l.LagRecords, MillisBehindLatest: l.MillisBehind}
}

func epoch(t time.Time) *awsproto.EpochSeconds {
	if t.IsZero() {
		return nil
	}
	e := awsproto.EpochSeconds(t)
	return &e
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// u64 reads a counter; the model's minimum 0 was checked.
func u64(p *int64) uint64 {
	if p == nil {
		return 0
	}
	return uint64(*p)
}
