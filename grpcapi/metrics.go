package grpcapi

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// requestDurationBuckets are the bucket bounds, in seconds, of
// spate_api_request_duration_seconds: 100µs to 10s in 1-2.5-5 steps. They
// must equal package awsjson's, which registers the same histogram for the
// JSON APIs.
var requestDurationBuckets = []float64{
	0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05,
	0.1, 0.25, 0.5,
	1, 2.5, 5, 10,
}

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
// state. When reg already holds the histogram (package awsjson registers
// the same one for the JSON APIs), that one is used.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	vec := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "spate_api_request_duration_seconds",
		Help:    "Time to answer an API request, from its arrival to its reply, by protocol, action and result code.",
		Buckets: requestDurationBuckets,
	}, []string{"protocol", "action", "code"})
	if err := reg.Register(vec); err != nil {
		are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err)
		if !ok {
			return nil, err
		}
		existing, ok := are.ExistingCollector.(*prometheus.HistogramVec)
		if !ok {
			return nil, err
		}
		vec = existing
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
// end.
func (m *Metrics) StreamServerInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		err := handler(srv, ss)
		m.observe(info.FullMethod, err, start)
		return err
	}
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
