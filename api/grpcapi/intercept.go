package grpcapi

import (
	"context"
	"strings"

	"google.golang.org/grpc"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// Intercept is called before every unary call of the stream and Firehose
// services with the AWS API and action the call stands for ("Kinesis",
// "PutRecords"; "Firehose", "PutRecordBatch"). It returns the context the
// call runs with, or an error (an apierr value) that answers the call
// instead. It is awsproto.Intercept for gRPC: spate serve gives both the
// same function, so --enforce-limits and --fault-rate treat the faces
// alike.
type Intercept func(ctx context.Context, api, action string) (context.Context, error)

// InterceptOption returns the server option that runs f. Give it after the
// authentication options, so that a call is authenticated first.
func InterceptOption(f Intercept) grpc.ServerOption {
	return grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if api, action, ok := awsAction(info.FullMethod); ok {
			var err error
			if ctx, err = f(ctx, api, action); err != nil {
				return nil, toStatus(err)
			}
		}
		return handler(ctx, req)
	})
}

// InterceptStreamOption returns the server option that gives f to the
// Produce stream, which runs it before every batch as a PutRecords (and
// answers its error in the batch's response). Give it with
// InterceptOption.
func InterceptStreamOption(f Intercept) grpc.ServerOption {
	return grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if info.FullMethod != spatev1.StreamService_Produce_FullMethodName {
			return handler(srv, ss)
		}
		return handler(srv, &contextStream{ServerStream: ss, ctx: context.WithValue(ss.Context(), interceptKey{}, f)})
	})
}

type interceptKey struct{}

// interceptOf returns the Intercept that InterceptStreamOption put in a
// stream's context; nil when there is none.
func interceptOf(ctx context.Context) Intercept {
	f, _ := ctx.Value(interceptKey{}).(Intercept)
	return f
}

// contextStream is a ServerStream with a context of its own.
type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *contextStream) Context() context.Context { return s.ctx }

// awsAction maps a full gRPC method name to the AWS API and action it
// stands for: the services' methods are named as the AWS actions.
func awsAction(fullMethod string) (api, action string, ok bool) {
	service, method, ok := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	if !ok {
		return "", "", false
	}
	switch service {
	case spatev1.StreamService_ServiceDesc.ServiceName:
		return "Kinesis", method, true
	case spatev1.FirehoseService_ServiceDesc.ServiceName:
		return "Firehose", method, true
	}
	return "", "", false
}
