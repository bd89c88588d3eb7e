package grpcapi

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spatehq/spate/api/apimetrics"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// protocolGRPC is the protocol label of gRPC calls.
const protocolGRPC = "grpc"

// Metrics times gRPC calls in the histogram
// spate_api_request_duration_seconds{protocol="grpc", action, code}, where
// action is the service and method without the package
// ("StreamService/PutRecords": StreamService and FirehoseService both have
// a PutRecord) and code is the gRPC status code ("OK", "NotFound"). Install
// its interceptors on the grpc.Server:
//
//	m, err := grpcapi.NewMetrics(reg)
//	srv := grpc.NewServer(
//		grpc.ChainUnaryInterceptor(m.UnaryServerInterceptor()),
//		grpc.ChainStreamInterceptor(m.StreamServerInterceptor()))
//
// A streaming call is observed when it ends, so its observation is the
// stream's lifetime (a Subscribe lasts as long as its client stays).
type Metrics struct {
	vec *prometheus.HistogramVec

	// mu guards methods. A method's entry is made on its first call, so the
	// map holds only methods the server has registered (gRPC answers others
	// before any interceptor runs).
	mu      sync.RWMutex
	methods map[string]*methodMetrics
}

// methodMetrics holds one method's observers, one per status code, each
// made on the code's first use so that unused codes make no series.
type methodMetrics struct {
	action string
	codes  [numCodes]atomic.Pointer[observer]
}

// observer boxes a prometheus.Observer for atomic.Pointer.
type observer struct{ prometheus.Observer }

// numCodes is the number of gRPC status codes (OK to Unauthenticated).
const numCodes = int(codes.Unauthenticated) + 1

// NewMetrics registers the histogram on reg and returns the interceptors'
// state. The histogram is apimetrics.RequestDurations, shared with the
// JSON APIs.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	vec, err := apimetrics.RequestDurations(reg)
	if err != nil {
		return nil, err
	}
	return &Metrics{vec: vec, methods: make(map[string]*methodMetrics)}, nil
}

// UnaryServerInterceptor times unary calls.
func (m *Metrics) UnaryServerInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		m.observe(info.FullMethod, err, start)
		return resp, err
	}
}

// StreamServerInterceptor times streaming calls, from their start to their
// end; except Produce, whose every batch is observed as a call (from when
// it is read to when it is answered, with the code of its batch-level
// error), and the stream only when it fails.
func (m *Metrics) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		if info.FullMethod == spatev1.StreamService_Produce_FullMethodName {
			observe := batchObserver(func(err error, start time.Time) { m.observe(info.FullMethod, toStatus(err), start) })
			err := handler(srv, &contextStream{ServerStream: ss, ctx: context.WithValue(ss.Context(), batchObserverKey{}, observe)})
			if err != nil {
				m.observe(info.FullMethod, err, start)
			}
			return err
		}
		err := handler(srv, ss)
		m.observe(info.FullMethod, err, start)
		return err
	}
}

// batchObserver observes one batch of a stream that started at start and
// ended with err.
type batchObserver func(err error, start time.Time)

type batchObserverKey struct{}

// batchObserverOf returns the batchObserver that the Metrics interceptor
// put in a stream's context; nil when there is none.
func batchObserverOf(ctx context.Context) batchObserver {
	f, _ := ctx.Value(batchObserverKey{}).(batchObserver)
	return f
}

// observe records a call of fullMethod that started at start and ended
// with err.
func (m *Metrics) observe(fullMethod string, err error, start time.Time) {
	d := time.Since(start).Seconds()
	code := status.Code(err)
	if int(code) >= numCodes { // not a code gRPC defines: keep series bounded
		code = codes.Unknown
	}
	mm := m.method(fullMethod)
	o := mm.codes[code].Load()
	if o == nil {
		o = &observer{m.vec.WithLabelValues(protocolGRPC, mm.action, code.String())}
		// A racing call may store the same series' observer: either is right.
		mm.codes[code].Store(o)
	}
	o.Observe(d)
}

func (m *Metrics) method(fullMethod string) *methodMetrics {
	m.mu.RLock()
	mm := m.methods[fullMethod]
	m.mu.RUnlock()
	if mm != nil {
		return mm
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if mm = m.methods[fullMethod]; mm == nil {
		mm = &methodMetrics{action: actionOf(fullMethod)}
		m.methods[fullMethod] = mm
	}
	return mm
}

// actionOf is the action label of a full method name:
// "/spate.v1.StreamService/PutRecords" is "StreamService/PutRecords".
func actionOf(fullMethod string) string {
	s := strings.TrimPrefix(fullMethod, "/")
	service, method, ok := strings.Cut(s, "/")
	if !ok {
		return s
	}
	if i := strings.LastIndexByte(service, '.'); i >= 0 {
		service = service[i+1:]
	}
	return service + "/" + method
}
