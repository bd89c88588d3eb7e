package grpcapi

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/groups"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// GroupServer implements spatev1.GroupServiceServer on a *groups.Service:
// it converts messages and errors and holds no state.
type GroupServer struct {
	spatev1.UnimplementedGroupServiceServer

	svc *groups.Service
	log *slog.Logger
}

var _ spatev1.GroupServiceServer = (*GroupServer)(nil)

// RegisterGroups registers a GroupServer for svc on r and returns it.
func RegisterGroups(r grpc.ServiceRegistrar, svc *groups.Service, opts ...Option) *GroupServer {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	s := &GroupServer{svc: svc, log: cfg.logger}
	spatev1.RegisterGroupServiceServer(r, s)
	return s
}

func (s *GroupServer) fail(ctx context.Context, method string, err error) error {
	return failStatus(ctx, s.log, method, err)
}

func groupRef(r *spatev1.GroupRef) groups.Ref {
	return groups.Ref{Stream: r.GetStreamName(), StreamARN: r.GetStreamArn(), Group: r.GetGroup()}
}

// JoinGroup implements spatev1.GroupServiceServer.
func (s *GroupServer) JoinGroup(ctx context.Context, req *spatev1.JoinGroupRequest) (*spatev1.JoinGroupResponse, error) {
	in := groups.JoinInput{Ref: groupRef(req.GetGroup()), Worker: req.GetWorkerId(),
		LeaseTimeout: time.Duration(req.GetLeaseTimeoutMillis()) * time.Millisecond}
	// Checked in milliseconds: a huge value would wrap as a Duration.
	if ms := req.GetLeaseTimeoutMillis(); ms < 0 || ms > groups.MaxLeaseTimeout.Milliseconds() {
		return nil, s.fail(ctx, "JoinGroup", apierr.New(apierr.InvalidArgument,
			"lease_timeout_millis %d is out of range: use %d to %d, or 0 for the server's default",
			ms, groups.MinLeaseTimeout.Milliseconds(), groups.MaxLeaseTimeout.Milliseconds()))
	}
	var err error
	if in.Initial, err = decodeGroupPosition("initial_position", req.GetInitialPosition(), "initial_timestamp", req.GetInitialTimestamp()); err != nil {
		return nil, s.fail(ctx, "JoinGroup", err)
	}
	g, err := s.svc.Join(ctx, in)
	if err != nil {
		return nil, s.fail(ctx, "JoinGroup", err)
	}
	return &spatev1.JoinGroupResponse{Group: encodeGroup(g)}, nil
}

// decodeGroupPosition decodes a group position; UNSPECIFIED is the
// default (""). The groups judge which types they take.
func decodeGroupPosition(field string, typ spatev1.ShardIteratorType, tsField string, ts *timestamppb.Timestamp) (groups.Position, error) {
	var p groups.Position
	if typ != spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_UNSPECIFIED {
		it, ok := iteratorTypeFromProto[typ]
		if !ok {
			return p, apierr.New(apierr.InvalidArgument, "%s %d is not a ShardIteratorType", field, typ)
		}
		p.Type = it
	}
	var err error
	p.Timestamp, err = decodeTime(tsField, ts)
	return p, err
}

// Heartbeat implements spatev1.GroupServiceServer.
func (s *GroupServer) Heartbeat(ctx context.Context, req *spatev1.HeartbeatRequest) (*spatev1.HeartbeatResponse, error) {
	g, err := s.svc.Heartbeat(ctx, groupRef(req.GetGroup()), req.GetWorkerId())
	if err != nil {
		return nil, s.fail(ctx, "Heartbeat", err)
	}
	return &spatev1.HeartbeatResponse{Group: encodeGroup(g)}, nil
}

// AcquireLease implements spatev1.GroupServiceServer.
func (s *GroupServer) AcquireLease(ctx context.Context, req *spatev1.AcquireLeaseRequest) (*spatev1.AcquireLeaseResponse, error) {
	l, err := s.svc.Acquire(ctx, groups.LeaseInput{Ref: groupRef(req.GetGroup()), Worker: req.GetWorkerId(),
		ShardID: req.GetShardId(), Counter: req.GetExpectedLeaseCounter()})
	if err != nil {
		return nil, s.fail(ctx, "AcquireLease", err)
	}
	return &spatev1.AcquireLeaseResponse{Lease: encodeLease(l)}, nil
}

// ReleaseLease implements spatev1.GroupServiceServer.
func (s *GroupServer) ReleaseLease(ctx context.Context, req *spatev1.ReleaseLeaseRequest) (*spatev1.ReleaseLeaseResponse, error) {
	err := s.svc.Release(ctx, groups.LeaseInput{Ref: groupRef(req.GetGroup()), Worker: req.GetWorkerId(),
		ShardID: req.GetShardId(), Counter: req.GetLeaseCounter()})
	if err != nil {
		return nil, s.fail(ctx, "ReleaseLease", err)
	}
	return &spatev1.ReleaseLeaseResponse{}, nil
}

// Checkpoint implements spatev1.GroupServiceServer.
func (s *GroupServer) Checkpoint(ctx context.Context, req *spatev1.CheckpointRequest) (*spatev1.CheckpointResponse, error) {
	in := groups.CheckpointInput{Ref: groupRef(req.GetGroup()), Worker: req.GetWorkerId(), ShardID: req.GetShardId(),
		Counter: req.GetLeaseCounter(), Sequence: req.GetSequenceNumber(), ShardEnd: req.GetShardEnd(),
		OutputStream: req.GetOutputStreamName()}
	if len(req.GetOutputRecords()) > 0 {
		in.Output = putEntries(req.GetOutputRecords())
	}
	res, err := s.svc.Checkpoint(ctx, in)
	if err != nil {
		return nil, s.fail(ctx, "Checkpoint", err)
	}
	out := &spatev1.CheckpointResponse{}
	if len(res) > 0 {
		out.OutputRecords, _ = putResults(res)
	}
	return out, nil
}

// LeaveGroup implements spatev1.GroupServiceServer.
func (s *GroupServer) LeaveGroup(ctx context.Context, req *spatev1.LeaveGroupRequest) (*spatev1.LeaveGroupResponse, error) {
	if err := s.svc.Leave(ctx, groupRef(req.GetGroup()), req.GetWorkerId()); err != nil {
		return nil, s.fail(ctx, "LeaveGroup", err)
	}
	return &spatev1.LeaveGroupResponse{}, nil
}

// DescribeGroup implements spatev1.GroupServiceServer.
func (s *GroupServer) DescribeGroup(ctx context.Context, req *spatev1.DescribeGroupRequest) (*spatev1.DescribeGroupResponse, error) {
	g, err := s.svc.Describe(ctx, groupRef(req.GetGroup()))
	if err != nil {
		return nil, s.fail(ctx, "DescribeGroup", err)
	}
	return &spatev1.DescribeGroupResponse{Group: encodeGroup(g)}, nil
}

// ListGroups implements spatev1.GroupServiceServer.
func (s *GroupServer) ListGroups(ctx context.Context, req *spatev1.ListGroupsRequest) (*spatev1.ListGroupsResponse, error) {
	names, err := s.svc.List(ctx, req.GetStreamName(), req.GetStreamArn())
	if err != nil {
		return nil, s.fail(ctx, "ListGroups", err)
	}
	return &spatev1.ListGroupsResponse{Groups: names}, nil
}

// ResetGroup implements spatev1.GroupServiceServer.
func (s *GroupServer) ResetGroup(ctx context.Context, req *spatev1.ResetGroupRequest) (*spatev1.ResetGroupResponse, error) {
	in := groups.ResetInput{Ref: groupRef(req.GetGroup()), ShardID: req.GetShardId(), Sequence: req.GetSequenceNumber()}
	var err error
	if in.Position, err = decodeGroupPosition("position", req.GetPosition(), "timestamp", req.GetTimestamp()); err != nil {
		return nil, s.fail(ctx, "ResetGroup", err)
	}
	g, err := s.svc.Reset(ctx, in)
	if err != nil {
		return nil, s.fail(ctx, "ResetGroup", err)
	}
	return &spatev1.ResetGroupResponse{Group: encodeGroup(g)}, nil
}

// DeleteGroup implements spatev1.GroupServiceServer.
func (s *GroupServer) DeleteGroup(ctx context.Context, req *spatev1.DeleteGroupRequest) (*spatev1.DeleteGroupResponse, error) {
	if err := s.svc.Delete(ctx, groupRef(req.GetGroup())); err != nil {
		return nil, s.fail(ctx, "DeleteGroup", err)
	}
	return &spatev1.DeleteGroupResponse{}, nil
}

var iteratorTypeToProto = func() map[shard.IteratorType]spatev1.ShardIteratorType {
	m := make(map[shard.IteratorType]spatev1.ShardIteratorType, len(iteratorTypeFromProto))
	for k, v := range iteratorTypeFromProto {
		m[v] = k
	}
	return m
}()

func encodeGroup(g groups.Group) *spatev1.Group {
	out := &spatev1.Group{
		StreamName:         g.Stream,
		Group:              g.Name,
		InitialPosition:    iteratorTypeToProto[g.Initial.Type],
		InitialTimestamp:   encodeTime(g.Initial.Timestamp),
		LeaseTimeoutMillis: g.LeaseTimeout.Milliseconds(),
		LeaseAcquisitions:  g.Counters.Acquisitions,
		LeaseSteals:        g.Counters.Steals,
		LeaseExpiries:      g.Counters.Expiries,
	}
	for _, w := range g.Workers {
		out.Workers = append(out.Workers, &spatev1.Worker{WorkerId: w.ID, Expires: encodeTime(w.Expires), ShardIds: w.Shards})
	}
	for _, l := range g.Leases {
		out.Leases = append(out.Leases, encodeLease(l))
	}
	return out
}

func encodeLease(l groups.Lease) *spatev1.Lease {
	return &spatev1.Lease{ShardId: l.ShardID, Owner: l.Owner, LeaseCounter: l.Counter, Expires: encodeTime(l.Expires),
		Checkpoint: l.Checkpoint, Finished: l.Finished, ParentShardIds: l.Parents,
		LagRecords: l.LagRecords, MillisBehindLatest: l.MillisBehind}
}
