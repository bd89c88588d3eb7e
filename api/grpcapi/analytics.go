package grpcapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/spatehq/spate/analytics"
	"github.com/spatehq/spate/analytics/query"
	"github.com/spatehq/spate/analytics/schema"
	"github.com/spatehq/spate/analytics/value"
	"github.com/spatehq/spate/apierr"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// AnalyticsServer implements spatev1.AnalyticsServiceServer on an
// *analytics.Service, and DiscoverSchema on the store the service runs
// on. Errors go through the same table as StreamService's; a SQL error
// (*query.Error) is InvalidArgumentException with its position.
type AnalyticsServer struct {
	spatev1.UnimplementedAnalyticsServiceServer

	svc   *analytics.Service
	store *shard.Store
	log   *slog.Logger

	// closing is cancelled by Close; running Results calls watch it.
	closing context.Context
	close   context.CancelFunc
}

var _ spatev1.AnalyticsServiceServer = (*AnalyticsServer)(nil)

// NewAnalyticsServer returns an AnalyticsServer that serves svc and
// discovers schemas in store. The caller keeps ownership of both and
// closes them after the gRPC server has stopped. Of the options,
// WithLogger applies.
func NewAnalyticsServer(svc *analytics.Service, store *shard.Store, opts ...Option) *AnalyticsServer {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	closing, cancel := context.WithCancel(context.Background())
	return &AnalyticsServer{svc: svc, store: store, log: cfg.logger, closing: closing, close: cancel}
}

// RegisterAnalytics registers a new AnalyticsServer for svc and store on r
// (a *grpc.Server) and returns it.
func RegisterAnalytics(r grpc.ServiceRegistrar, svc *analytics.Service, store *shard.Store, opts ...Option) *AnalyticsServer {
	s := NewAnalyticsServer(svc, store, opts...)
	spatev1.RegisterAnalyticsServiceServer(r, s)
	return s
}

// Close ends every running Results call with codes.Unavailable and makes
// new ones fail the same way; unary calls are not affected. Results calls
// otherwise last until their clients leave, so call Close before
// grpc.Server.GracefulStop. It is safe to call more than once.
func (s *AnalyticsServer) Close() { s.close() }

func (s *AnalyticsServer) fail(ctx context.Context, method string, err error) error {
	return failStatus(ctx, s.log, method, sqlStatus(err))
}

// sqlStatus turns a *query.Error into an InvalidArgumentException status
// whose message starts with "line L, column C: " and whose ErrorInfo
// carries the position in its metadata ("line", "column"); other errors
// are returned unchanged, for the error table.
func sqlStatus(err error) error {
	var qe *query.Error
	if !errors.As(err, &qe) {
		return err
	}
	code := apierr.InvalidArgument
	st := status.New(GRPCCode(code), fmt.Sprintf("%s: line %d, column %d: %s", code, qe.Line, qe.Column, qe.Msg))
	info := &errdetails.ErrorInfo{Reason: string(code), Domain: ErrorDomain, Metadata: map[string]string{
		"line": strconv.Itoa(qe.Line), "column": strconv.Itoa(qe.Column),
	}}
	if d, derr := st.WithDetails(info); derr == nil {
		st = d
	}
	return st.Err()
}

// SQLPosition returns the 1-based line and column of the SQL error that a
// status from AnalyticsService carries, if it carries one.
func SQLPosition(err error) (line, column int, ok bool) {
	st, isStatus := status.FromError(err)
	if !isStatus || err == nil {
		return 0, 0, false
	}
	for _, d := range st.Details() {
		info, isInfo := d.(*errdetails.ErrorInfo)
		if !isInfo || info.GetDomain() != ErrorDomain {
			continue
		}
		l, lerr := strconv.Atoi(info.GetMetadata()["line"])
		c, cerr := strconv.Atoi(info.GetMetadata()["column"])
		if lerr == nil && cerr == nil {
			return l, c, true
		}
	}
	return 0, 0, false
}

// CreateApplication implements spatev1.AnalyticsServiceServer.
func (s *AnalyticsServer) CreateApplication(ctx context.Context, req *spatev1.CreateApplicationRequest) (*spatev1.CreateApplicationResponse, error) {
	d, err := s.svc.Create(ctx, analytics.CreateInput{Name: req.GetApplicationName(), SQL: req.GetSql(), Temporary: req.GetTemporary()})
	if err != nil {
		return nil, s.fail(ctx, "CreateApplication", err)
	}
	return &spatev1.CreateApplicationResponse{ApplicationDescription: encodeApplication(d)}, nil
}

// ListApplications implements spatev1.AnalyticsServiceServer.
func (s *AnalyticsServer) ListApplications(ctx context.Context, _ *spatev1.ListApplicationsRequest) (*spatev1.ListApplicationsResponse, error) {
	list, err := s.svc.List(ctx)
	if err != nil {
		return nil, s.fail(ctx, "ListApplications", err)
	}
	resp := &spatev1.ListApplicationsResponse{Applications: make([]*spatev1.ApplicationDescription, len(list))}
	for i, d := range list {
		resp.Applications[i] = encodeApplication(d)
	}
	return resp, nil
}

// DescribeApplication implements spatev1.AnalyticsServiceServer.
func (s *AnalyticsServer) DescribeApplication(ctx context.Context, req *spatev1.DescribeApplicationRequest) (*spatev1.DescribeApplicationResponse, error) {
	d, err := s.svc.Describe(ctx, req.GetApplicationName())
	if err != nil {
		return nil, s.fail(ctx, "DescribeApplication", err)
	}
	return &spatev1.DescribeApplicationResponse{ApplicationDescription: encodeApplication(d)}, nil
}

// StopApplication implements spatev1.AnalyticsServiceServer.
func (s *AnalyticsServer) StopApplication(ctx context.Context, req *spatev1.StopApplicationRequest) (*spatev1.StopApplicationResponse, error) {
	if err := s.svc.Stop(ctx, req.GetApplicationName()); err != nil {
		return nil, s.fail(ctx, "StopApplication", err)
	}
	return &spatev1.StopApplicationResponse{}, nil
}

// StartApplication implements spatev1.AnalyticsServiceServer.
func (s *AnalyticsServer) StartApplication(ctx context.Context, req *spatev1.StartApplicationRequest) (*spatev1.StartApplicationResponse, error) {
	if err := s.svc.Start(ctx, req.GetApplicationName()); err != nil {
		return nil, s.fail(ctx, "StartApplication", err)
	}
	return &spatev1.StartApplicationResponse{}, nil
}

// DeleteApplication implements spatev1.AnalyticsServiceServer.
func (s *AnalyticsServer) DeleteApplication(ctx context.Context, req *spatev1.DeleteApplicationRequest) (*spatev1.DeleteApplicationResponse, error) {
	if err := s.svc.Delete(ctx, req.GetApplicationName()); err != nil {
		return nil, s.fail(ctx, "DeleteApplication", err)
	}
	return &spatev1.DeleteApplicationResponse{}, nil
}

// ValidateSql implements spatev1.AnalyticsServiceServer.
func (s *AnalyticsServer) ValidateSql(ctx context.Context, req *spatev1.ValidateSqlRequest) (*spatev1.ValidateSqlResponse, error) {
	d, err := s.svc.Validate(req.GetSql())
	if err != nil {
		return nil, s.fail(ctx, "ValidateSql", err)
	}
	return &spatev1.ValidateSqlResponse{ApplicationDescription: encodeApplication(d)}, nil
}

// Results implements spatev1.AnalyticsServiceServer.
func (s *AnalyticsServer) Results(req *spatev1.ResultsRequest, stream grpc.ServerStreamingServer[spatev1.ResultsResponse]) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	stop := context.AfterFunc(s.closing, cancel)
	defer stop()
	if s.closing.Err() != nil {
		return status.Error(codes.Unavailable, "the server is shutting down")
	}
	var buf []byte
	err := s.svc.Results(ctx, req.GetApplicationName(),
		func(cols []string) error {
			return stream.Send(&spatev1.ResultsResponse{Columns: cols})
		},
		func(row analytics.Row) error {
			buf = value.AppendObject(buf[:0], row)
			return stream.Send(&spatev1.ResultsResponse{Row: string(buf)})
		})
	if s.closing.Err() != nil && stream.Context().Err() == nil {
		return status.Error(codes.Unavailable, "the server is shutting down")
	}
	if err != nil {
		return s.fail(stream.Context(), "Results", err)
	}
	return nil
}

// DiscoverSchema implements spatev1.AnalyticsServiceServer.
func (s *AnalyticsServer) DiscoverSchema(ctx context.Context, req *spatev1.DiscoverSchemaRequest) (*spatev1.DiscoverSchemaResponse, error) {
	sc, err := schema.Discover(ctx, s.store, req.GetStreamName(), int(req.GetLimit()))
	if err != nil {
		return nil, s.fail(ctx, "DiscoverSchema", err)
	}
	resp := &spatev1.DiscoverSchemaResponse{
		StreamName: sc.Stream, Sampled: int32(sc.Sampled), NotObjects: int32(sc.NotObjects),
		Columns: make([]*spatev1.SchemaColumn, len(sc.Columns)),
	}
	for i, c := range sc.Columns {
		resp.Columns[i] = &spatev1.SchemaColumn{Name: c.Name, Expr: c.Expr, Type: c.Type, Nullable: c.Nullable,
			Presence: c.Presence, Example: c.Example, Note: c.Note}
	}
	return resp, nil
}

var applicationStatuses = map[string]spatev1.ApplicationStatus{
	analytics.StatusStarting: spatev1.ApplicationStatus_APPLICATION_STATUS_STARTING,
	analytics.StatusRunning:  spatev1.ApplicationStatus_APPLICATION_STATUS_RUNNING,
	analytics.StatusStopped:  spatev1.ApplicationStatus_APPLICATION_STATUS_STOPPED,
	analytics.StatusFailed:   spatev1.ApplicationStatus_APPLICATION_STATUS_FAILED,
}

// encodeApplication converts a description; an unknown status (a defect)
// is sent as UNSPECIFIED.
func encodeApplication(d analytics.Description) *spatev1.ApplicationDescription {
	out := &spatev1.ApplicationDescription{
		Name: d.Name, Sql: d.SQL, Status: applicationStatuses[d.Status], Error: d.Error,
		Source: d.Source, Target: d.Target, Columns: d.Columns, Temporary: d.Temporary,
		RowsIn: d.RowsIn, RowsOut: d.RowsOut, LateRows: d.LateRows, BadRows: d.BadRows,
		Inputs: make([]*spatev1.InputPosition, len(d.Inputs)),
	}
	if !d.CreatedAt.IsZero() {
		out.CreatedAt = timestamppb.New(d.CreatedAt)
	}
	if d.Watermark != nil {
		out.Watermark = timestamppb.New(*d.Watermark)
	}
	for i, in := range d.Inputs {
		out.Inputs[i] = &spatev1.InputPosition{ShardId: in.ShardID, SequenceNumber: in.SequenceNumber, LagMs: in.LagMillis}
	}
	return out
}
