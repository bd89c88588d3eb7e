package grpcapi

import (
	"context"
	"fmt"
	"log/slog"

	"google.golang.org/grpc"

	"github.com/spatehq/spate/firehose"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// FirehoseServer implements spatev1.FirehoseServiceServer on a
// *firehose.Service. Errors go through the same table as StreamService's.
type FirehoseServer struct {
	spatev1.UnimplementedFirehoseServiceServer

	svc *firehose.Service
	log *slog.Logger
}

var _ spatev1.FirehoseServiceServer = (*FirehoseServer)(nil)

// NewFirehoseServer returns a FirehoseServer that serves svc. The caller
// keeps ownership of svc and closes it after the gRPC server has stopped.
// Of the options, WithLogger applies.
func NewFirehoseServer(svc *firehose.Service, opts ...Option) *FirehoseServer {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	return &FirehoseServer{svc: svc, log: cfg.logger}
}

// RegisterFirehose registers a new FirehoseServer for svc on r (a
// *grpc.Server) and returns it.
func RegisterFirehose(r grpc.ServiceRegistrar, svc *firehose.Service, opts ...Option) *FirehoseServer {
	s := NewFirehoseServer(svc, opts...)
	spatev1.RegisterFirehoseServiceServer(r, s)
	return s
}

func (s *FirehoseServer) fail(ctx context.Context, method string, err error) error {
	return failStatus(ctx, s.log, method, err)
}

// CreateDeliveryStream implements spatev1.FirehoseServiceServer.
func (s *FirehoseServer) CreateDeliveryStream(ctx context.Context, req *spatev1.CreateDeliveryStreamRequest) (*spatev1.CreateDeliveryStreamResponse, error) {
	in, err := decodeCreate(req)
	if err != nil {
		return nil, s.fail(ctx, "CreateDeliveryStream", err)
	}
	arn, err := s.svc.CreateDeliveryStream(ctx, in)
	if err != nil {
		return nil, s.fail(ctx, "CreateDeliveryStream", err)
	}
	return &spatev1.CreateDeliveryStreamResponse{DeliveryStreamArn: arn}, nil
}

// DeleteDeliveryStream implements spatev1.FirehoseServiceServer.
func (s *FirehoseServer) DeleteDeliveryStream(ctx context.Context, req *spatev1.DeleteDeliveryStreamRequest) (*spatev1.DeleteDeliveryStreamResponse, error) {
	if err := s.svc.DeleteDeliveryStream(ctx, req.GetDeliveryStreamName()); err != nil {
		return nil, s.fail(ctx, "DeleteDeliveryStream", err)
	}
	return &spatev1.DeleteDeliveryStreamResponse{}, nil
}

// DescribeDeliveryStream implements spatev1.FirehoseServiceServer.
func (s *FirehoseServer) DescribeDeliveryStream(ctx context.Context, req *spatev1.DescribeDeliveryStreamRequest) (*spatev1.DescribeDeliveryStreamResponse, error) {
	d, err := s.svc.DescribeDeliveryStream(ctx, req.GetDeliveryStreamName())
	if err != nil {
		return nil, s.fail(ctx, "DescribeDeliveryStream", err)
	}
	out, err := encodeDeliveryStream(d)
	if err != nil {
		// The service described something the messages cannot say: a
		// defect here, not the caller's fault (so not an apierr).
		return nil, s.fail(ctx, "DescribeDeliveryStream", fmt.Errorf("encode the description of %s: %s", d.DeliveryStreamName, err))
	}
	return &spatev1.DescribeDeliveryStreamResponse{DeliveryStreamDescription: out}, nil
}

// ListDeliveryStreams implements spatev1.FirehoseServiceServer.
func (s *FirehoseServer) ListDeliveryStreams(ctx context.Context, req *spatev1.ListDeliveryStreamsRequest) (*spatev1.ListDeliveryStreamsResponse, error) {
	typ, err := deliveryStreamTypeNames.aws(req.GetDeliveryStreamType(), "delivery_stream_type")
	if err != nil {
		return nil, s.fail(ctx, "ListDeliveryStreams", err)
	}
	names, more, err := s.svc.ListDeliveryStreams(ctx, int(req.GetLimit()), typ, req.GetExclusiveStartDeliveryStreamName())
	if err != nil {
		return nil, s.fail(ctx, "ListDeliveryStreams", err)
	}
	return &spatev1.ListDeliveryStreamsResponse{DeliveryStreamNames: names, HasMoreDeliveryStreams: more}, nil
}

// PutRecord implements spatev1.FirehoseServiceServer.
func (s *FirehoseServer) PutRecord(ctx context.Context, req *spatev1.FirehoseServicePutRecordRequest) (*spatev1.FirehoseServicePutRecordResponse, error) {
	id, err := s.svc.PutRecord(ctx, req.GetDeliveryStreamName(), req.GetData())
	if err != nil {
		return nil, s.fail(ctx, "PutRecord", err)
	}
	return &spatev1.FirehoseServicePutRecordResponse{RecordId: id}, nil
}

// PutRecordBatch implements spatev1.FirehoseServiceServer.
func (s *FirehoseServer) PutRecordBatch(ctx context.Context, req *spatev1.PutRecordBatchRequest) (*spatev1.PutRecordBatchResponse, error) {
	out, err := s.svc.PutRecordBatch(ctx, req.GetDeliveryStreamName(), req.GetRecords())
	if err != nil {
		return nil, s.fail(ctx, "PutRecordBatch", err)
	}
	resp := &spatev1.PutRecordBatchResponse{
		FailedPutCount:   int32(out.FailedPutCount),
		RequestResponses: make([]*spatev1.PutRecordBatchResponseEntry, len(out.RequestResponses)),
	}
	for i, r := range out.RequestResponses {
		resp.RequestResponses[i] = &spatev1.PutRecordBatchResponseEntry{RecordId: r.RecordId, ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage}
	}
	return resp, nil
}

// UpdateDestination implements spatev1.FirehoseServiceServer.
func (s *FirehoseServer) UpdateDestination(ctx context.Context, req *spatev1.UpdateDestinationRequest) (*spatev1.UpdateDestinationResponse, error) {
	in, err := decodeUpdate(req)
	if err == nil {
		err = s.svc.UpdateDestination(ctx, in)
	}
	if err != nil {
		return nil, s.fail(ctx, "UpdateDestination", err)
	}
	return &spatev1.UpdateDestinationResponse{}, nil
}

// TagDeliveryStream implements spatev1.FirehoseServiceServer.
func (s *FirehoseServer) TagDeliveryStream(ctx context.Context, req *spatev1.TagDeliveryStreamRequest) (*spatev1.TagDeliveryStreamResponse, error) {
	if err := s.svc.TagDeliveryStream(ctx, req.GetDeliveryStreamName(), decodeFirehoseTags(req.GetTags())); err != nil {
		return nil, s.fail(ctx, "TagDeliveryStream", err)
	}
	return &spatev1.TagDeliveryStreamResponse{}, nil
}

// UntagDeliveryStream implements spatev1.FirehoseServiceServer.
func (s *FirehoseServer) UntagDeliveryStream(ctx context.Context, req *spatev1.UntagDeliveryStreamRequest) (*spatev1.UntagDeliveryStreamResponse, error) {
	if err := s.svc.UntagDeliveryStream(ctx, req.GetDeliveryStreamName(), req.GetTagKeys()); err != nil {
		return nil, s.fail(ctx, "UntagDeliveryStream", err)
	}
	return &spatev1.UntagDeliveryStreamResponse{}, nil
}

// ListTagsForDeliveryStream implements spatev1.FirehoseServiceServer.
func (s *FirehoseServer) ListTagsForDeliveryStream(ctx context.Context, req *spatev1.ListTagsForDeliveryStreamRequest) (*spatev1.ListTagsForDeliveryStreamResponse, error) {
	tags, more, err := s.svc.ListTagsForDeliveryStream(ctx, req.GetDeliveryStreamName(), req.GetExclusiveStartTagKey(), int(req.GetLimit()))
	if err != nil {
		return nil, s.fail(ctx, "ListTagsForDeliveryStream", err)
	}
	return &spatev1.ListTagsForDeliveryStreamResponse{Tags: encodeFirehoseTags(tags), HasMoreTags: more}, nil
}
