package grpcapi

import (
	"context"
	"log/slog"
	"regexp"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spatehq/spate/apierr"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// MaxMessageSize is the message size that servers should accept
// (grpc.MaxRecvMsgSize) and clients should receive
// (grpc.MaxCallRecvMsgSize): a full PutRecords request (10 MiB of data and
// keys) and a full GetRecords reply (10 MiB) exceed gRPC's 4 MiB default.
// Subscribe events stay under the default on their own (see
// maxSubscribeEventBytes).
const MaxMessageSize = 16 << 20

// maxSubscribeEventBytes bounds the data and partition keys of one Subscribe
// event, so an event fits in gRPC's default 4 MiB receive limit with room for
// framing; a larger batch from the store is sent as several events. One
// record of up to 3 MiB always fits; a larger one (a stream whose
// UpdateMaxRecordSize allows it) goes alone in an event that needs the
// client's receive limit raised, as GetRecords does (MaxMessageSize).
const maxSubscribeEventBytes = 3 << 20

// Option configures a Server.
type Option func(*config)

type config struct {
	logger *slog.Logger
}

// defaultConfig holds every default in one place.
func defaultConfig() config {
	return config{logger: slog.Default()}
}

// WithLogger sets where the server logs the causes of internal failures
// (their status message hides them). Default: slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// Server implements spatev1.StreamServiceServer on a *shard.Store.
type Server struct {
	spatev1.UnimplementedStreamServiceServer

	store *shard.Store
	log   *slog.Logger

	// closing is cancelled by Close; running subscriptions watch it.
	closing context.Context
	close   context.CancelFunc
}

var _ spatev1.StreamServiceServer = (*Server)(nil)

// NewServer returns a Server that serves store. The caller keeps ownership of
// store and closes it after the gRPC server has stopped.
func NewServer(store *shard.Store, opts ...Option) *Server {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	closing, cancel := context.WithCancel(context.Background())
	return &Server{store: store, log: cfg.logger, closing: closing, close: cancel}
}

// Register registers a new Server for store on r (a *grpc.Server) and returns
// it.
func Register(r grpc.ServiceRegistrar, store *shard.Store, opts ...Option) *Server {
	s := NewServer(store, opts...)
	spatev1.RegisterStreamServiceServer(r, s)
	return s
}

// Close ends every running Subscribe with codes.Unavailable and makes new ones
// fail the same way; unary calls are not affected. Subscriptions otherwise
// last until their clients leave, so call Close before
// grpc.Server.GracefulStop to let the drain finish. It is safe to call more
// than once.
func (s *Server) Close() { s.close() }

// fail converts a handler's error with the one error table, logging the cause
// of internal failures, whose status message does not show it.
func (s *Server) fail(ctx context.Context, method string, err error) error {
	return failStatus(ctx, s.log, method, err)
}

// failStatus is fail for every service of the package.
func failStatus(ctx context.Context, log *slog.Logger, method string, err error) error {
	st := toStatus(err)
	if status.Code(st) == codes.Internal {
		log.ErrorContext(ctx, "grpc call failed", "method", method, "err", err)
	}
	return st
}

// CreateStream implements spatev1.StreamServiceServer.
func (s *Server) CreateStream(ctx context.Context, req *spatev1.CreateStreamRequest) (*spatev1.CreateStreamResponse, error) {
	mode, err := decodeMode(req.GetStreamMode())
	if err != nil {
		return nil, s.fail(ctx, "CreateStream", err)
	}
	err = s.store.CreateStream(ctx, shard.CreateStreamInput{
		Name:       req.GetStreamName(),
		ShardCount: int(req.GetShardCount()),
		Mode:       mode,
		Tags:       req.GetTags(),
		// 0 is the default, 1 MiB.
		MaxRecordSizeKiB: int(req.GetMaxRecordSizeKib()),
	})
	if err != nil {
		return nil, s.fail(ctx, "CreateStream", err)
	}
	return &spatev1.CreateStreamResponse{}, nil
}

// DeleteStream implements spatev1.StreamServiceServer.
func (s *Server) DeleteStream(ctx context.Context, req *spatev1.DeleteStreamRequest) (*spatev1.DeleteStreamResponse, error) {
	name, err := s.store.ResolveStream(req.GetStreamName(), req.GetStreamArn())
	if err == nil {
		err = s.store.DeleteStream(ctx, name)
	}
	if err != nil {
		return nil, s.fail(ctx, "DeleteStream", err)
	}
	return &spatev1.DeleteStreamResponse{}, nil
}

// DescribeStream implements spatev1.StreamServiceServer.
func (s *Server) DescribeStream(ctx context.Context, req *spatev1.DescribeStreamRequest) (*spatev1.DescribeStreamResponse, error) {
	name, err := s.store.ResolveStream(req.GetStreamName(), req.GetStreamArn())
	if err != nil {
		return nil, s.fail(ctx, "DescribeStream", err)
	}
	d, err := s.store.DescribeStream(ctx, name, int(req.GetLimit()), req.GetExclusiveStartShardId())
	if err != nil {
		return nil, s.fail(ctx, "DescribeStream", err)
	}
	return &spatev1.DescribeStreamResponse{StreamDescription: encodeDescription(d)}, nil
}

// DescribeStreamSummary implements spatev1.StreamServiceServer.
func (s *Server) DescribeStreamSummary(ctx context.Context, req *spatev1.DescribeStreamSummaryRequest) (*spatev1.DescribeStreamSummaryResponse, error) {
	name, err := s.store.ResolveStream(req.GetStreamName(), req.GetStreamArn())
	if err != nil {
		return nil, s.fail(ctx, "DescribeStreamSummary", err)
	}
	d, err := s.store.DescribeStreamSummary(ctx, name)
	if err != nil {
		return nil, s.fail(ctx, "DescribeStreamSummary", err)
	}
	return &spatev1.DescribeStreamSummaryResponse{StreamDescriptionSummary: encodeSummary(d)}, nil
}

// ListStreams implements spatev1.StreamServiceServer.
func (s *Server) ListStreams(ctx context.Context, req *spatev1.ListStreamsRequest) (*spatev1.ListStreamsResponse, error) {
	out, err := s.store.ListStreams(ctx, shard.ListStreamsInput{
		Limit:                    int(req.GetLimit()),
		ExclusiveStartStreamName: req.GetExclusiveStartStreamName(),
		NextToken:                req.GetNextToken(),
	})
	if err != nil {
		return nil, s.fail(ctx, "ListStreams", err)
	}
	resp := &spatev1.ListStreamsResponse{
		StreamNames:     make([]string, len(out.Streams)),
		StreamSummaries: make([]*spatev1.StreamSummary, len(out.Streams)),
		HasMoreStreams:  out.HasMoreStreams,
		NextToken:       out.NextToken,
	}
	for i, st := range out.Streams {
		resp.StreamNames[i] = st.Name
		resp.StreamSummaries[i] = &spatev1.StreamSummary{
			StreamName:              st.Name,
			StreamArn:               st.ARN,
			StreamStatus:            statusToProto[st.Status],
			StreamMode:              modeToProto[st.Mode],
			StreamCreationTimestamp: encodeTime(st.CreatedAt),
		}
	}
	return resp, nil
}

// ListShards implements spatev1.StreamServiceServer. A request that
// continues a listing (next_token) may omit the stream.
func (s *Server) ListShards(ctx context.Context, req *spatev1.ListShardsRequest) (*spatev1.ListShardsResponse, error) {
	in := shard.ListShardsInput{
		NextToken:             req.GetNextToken(),
		ExclusiveStartShardID: req.GetExclusiveStartShardId(),
		MaxResults:            int(req.GetMaxResults()),
	}
	var err error
	if req.GetStreamName() != "" || req.GetStreamArn() != "" || in.NextToken == "" {
		if in.Stream, err = s.store.ResolveStream(req.GetStreamName(), req.GetStreamArn()); err != nil {
			return nil, s.fail(ctx, "ListShards", err)
		}
	}
	if in.Filter, err = decodeShardFilter(req.GetShardFilter()); err != nil {
		return nil, s.fail(ctx, "ListShards", err)
	}
	if ts := req.GetStreamCreationTimestamp(); ts != nil {
		t, err := decodeTime("stream_creation_timestamp", ts)
		if err != nil {
			return nil, s.fail(ctx, "ListShards", err)
		}
		in.StreamCreatedAt = &t
	}
	out, err := s.store.ListShards(ctx, in)
	if err != nil {
		return nil, s.fail(ctx, "ListShards", err)
	}
	return &spatev1.ListShardsResponse{Shards: encodeShards(out.Shards), NextToken: out.NextToken}, nil
}

// sequenceNumberRE is the Kinesis model's pattern for SequenceNumber.
var sequenceNumberRE = regexp.MustCompile(`^(0|[1-9][0-9]{0,128})$`)

// PutRecord implements spatev1.StreamServiceServer.
func (s *Server) PutRecord(ctx context.Context, req *spatev1.PutRecordRequest) (*spatev1.PutRecordResponse, error) {
	name, err := s.store.ResolveStream(req.GetStreamName(), req.GetStreamArn())
	if err != nil {
		return nil, s.fail(ctx, "PutRecord", err)
	}
	// Sequence numbers within a shard always increase, so ordering needs no
	// work; the value is only checked.
	if seq := req.GetSequenceNumberForOrdering(); seq != "" && !sequenceNumberRE.MatchString(seq) {
		return nil, s.fail(ctx, "PutRecord", apierr.New(apierr.Validation,
			"sequence_number_for_ordering %q is not a sequence number: want a decimal number without leading zeros, at most 129 digits", seq))
	}
	res, err := s.store.Append(ctx, name, []shard.Entry{{
		PartitionKey:    req.GetPartitionKey(),
		ExplicitHashKey: req.GetExplicitHashKey(),
		Data:            req.GetData(),
	}})
	if err == nil && res[0].ErrorCode != "" {
		err = &apierr.Error{Code: apierr.Code(res[0].ErrorCode), Message: res[0].ErrorMessage}
	}
	if err != nil {
		return nil, s.fail(ctx, "PutRecord", err)
	}
	return &spatev1.PutRecordResponse{
		ShardId:        res[0].ShardID,
		SequenceNumber: res[0].SequenceNumber,
		EncryptionType: shard.EncryptionTypeOf(res),
	}, nil
}

// PutRecords implements spatev1.StreamServiceServer.
func (s *Server) PutRecords(ctx context.Context, req *spatev1.PutRecordsRequest) (*spatev1.PutRecordsResponse, error) {
	name, err := s.store.ResolveStream(req.GetStreamName(), req.GetStreamArn())
	if err != nil {
		return nil, s.fail(ctx, "PutRecords", err)
	}
	res, err := s.store.Append(ctx, name, putEntries(req.GetRecords()))
	if err != nil {
		return nil, s.fail(ctx, "PutRecords", err)
	}
	resp := &spatev1.PutRecordsResponse{EncryptionType: shard.EncryptionTypeOf(res)}
	resp.Records, resp.FailedRecordCount = putResults(res)
	return resp, nil
}

// GetShardIterator implements spatev1.StreamServiceServer.
func (s *Server) GetShardIterator(ctx context.Context, req *spatev1.GetShardIteratorRequest) (*spatev1.GetShardIteratorResponse, error) {
	name, err := s.store.ResolveStream(req.GetStreamName(), req.GetStreamArn())
	if err != nil {
		return nil, s.fail(ctx, "GetShardIterator", err)
	}
	pos, err := decodePosition(req.GetShardIteratorType(), req.GetStartingSequenceNumber(), req.GetTimestamp())
	if err != nil {
		return nil, s.fail(ctx, "GetShardIterator", err)
	}
	it, err := s.store.ShardIterator(ctx, name, req.GetShardId(), pos)
	if err != nil {
		return nil, s.fail(ctx, "GetShardIterator", err)
	}
	return &spatev1.GetShardIteratorResponse{ShardIterator: it}, nil
}

// GetRecords implements spatev1.StreamServiceServer. Its reply is encoded
// already, straight from the store's read (recordsencode.go): every field of
// it is in its unknown fields, which gRPC sends as they are; a caller in
// process reads it by marshalling and unmarshalling it, as a client does.
func (s *Server) GetRecords(ctx context.Context, req *spatev1.GetRecordsRequest) (*spatev1.GetRecordsResponse, error) {
	sink := recordsSink{lender: heldReplyOf(ctx)}
	out, err := s.store.GetRecordsInto(ctx, req.GetShardIterator(), int(req.GetLimit()), &sink)
	if err != nil {
		return nil, s.fail(ctx, "GetRecords", err)
	}
	defer holdUntilSent(ctx, out)() // the read budget, until the reply is sent
	resp, err := finish(&sink, 0, &spatev1.GetRecordsResponse{
		NextShardIterator:  out.NextIterator,
		MillisBehindLatest: out.MillisBehindLatest,
		ChildShards:        encodeChildShards(out.ChildShards),
	}, new(spatev1.GetRecordsResponse))
	if err != nil {
		return nil, s.fail(ctx, "GetRecords", err)
	}
	return resp, nil
}

// IncreaseStreamRetentionPeriod implements spatev1.StreamServiceServer.
func (s *Server) IncreaseStreamRetentionPeriod(ctx context.Context, req *spatev1.IncreaseStreamRetentionPeriodRequest) (*spatev1.IncreaseStreamRetentionPeriodResponse, error) {
	name, err := s.store.ResolveStream(req.GetStreamName(), req.GetStreamArn())
	if err == nil {
		err = s.store.IncreaseRetention(ctx, name, int(req.GetRetentionPeriodHours()))
	}
	if err != nil {
		return nil, s.fail(ctx, "IncreaseStreamRetentionPeriod", err)
	}
	return &spatev1.IncreaseStreamRetentionPeriodResponse{}, nil
}

// DecreaseStreamRetentionPeriod implements spatev1.StreamServiceServer.
func (s *Server) DecreaseStreamRetentionPeriod(ctx context.Context, req *spatev1.DecreaseStreamRetentionPeriodRequest) (*spatev1.DecreaseStreamRetentionPeriodResponse, error) {
	name, err := s.store.ResolveStream(req.GetStreamName(), req.GetStreamArn())
	if err == nil {
		err = s.store.DecreaseRetention(ctx, name, int(req.GetRetentionPeriodHours()))
	}
	if err != nil {
		return nil, s.fail(ctx, "DecreaseStreamRetentionPeriod", err)
	}
	return &spatev1.DecreaseStreamRetentionPeriodResponse{}, nil
}

// AddTagsToStream implements spatev1.StreamServiceServer.
func (s *Server) AddTagsToStream(ctx context.Context, req *spatev1.AddTagsToStreamRequest) (*spatev1.AddTagsToStreamResponse, error) {
	name, err := s.store.ResolveStream(req.GetStreamName(), req.GetStreamArn())
	if err == nil {
		err = s.store.AddTags(ctx, name, req.GetTags())
	}
	if err != nil {
		return nil, s.fail(ctx, "AddTagsToStream", err)
	}
	return &spatev1.AddTagsToStreamResponse{}, nil
}

// RemoveTagsFromStream implements spatev1.StreamServiceServer.
func (s *Server) RemoveTagsFromStream(ctx context.Context, req *spatev1.RemoveTagsFromStreamRequest) (*spatev1.RemoveTagsFromStreamResponse, error) {
	name, err := s.store.ResolveStream(req.GetStreamName(), req.GetStreamArn())
	if err == nil {
		err = s.store.RemoveTags(ctx, name, req.GetTagKeys())
	}
	if err != nil {
		return nil, s.fail(ctx, "RemoveTagsFromStream", err)
	}
	return &spatev1.RemoveTagsFromStreamResponse{}, nil
}

// ListTagsForStream implements spatev1.StreamServiceServer.
func (s *Server) ListTagsForStream(ctx context.Context, req *spatev1.ListTagsForStreamRequest) (*spatev1.ListTagsForStreamResponse, error) {
	name, err := s.store.ResolveStream(req.GetStreamName(), req.GetStreamArn())
	if err != nil {
		return nil, s.fail(ctx, "ListTagsForStream", err)
	}
	tags, more, err := s.store.ListTags(ctx, name, req.GetExclusiveStartTagKey(), int(req.GetLimit()))
	if err != nil {
		return nil, s.fail(ctx, "ListTagsForStream", err)
	}
	resp := &spatev1.ListTagsForStreamResponse{Tags: make([]*spatev1.Tag, len(tags)), HasMoreTags: more}
	for i, t := range tags {
		resp.Tags[i] = &spatev1.Tag{Key: t.Key, Value: t.Value}
	}
	return resp, nil
}

// DescribeLimits implements spatev1.StreamServiceServer.
func (s *Server) DescribeLimits(ctx context.Context, _ *spatev1.DescribeLimitsRequest) (*spatev1.DescribeLimitsResponse, error) {
	l, err := s.store.Limits(ctx)
	if err != nil {
		return nil, s.fail(ctx, "DescribeLimits", err)
	}
	return &spatev1.DescribeLimitsResponse{
		ShardLimit:               int32(l.ShardLimit),
		OpenShardCount:           int32(l.OpenShardCount),
		OnDemandStreamCount:      int32(l.OnDemandStreamCount),
		OnDemandStreamCountLimit: int32(l.OnDemandStreamCountLimit),
	}, nil
}
