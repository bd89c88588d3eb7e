package grpcapi

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/auth"
)

// iteratorStreams names the stream of a shard iterator; *shard.Store is
// the implementation.
type iteratorStreams interface {
	IteratorStream(iterator string) (string, error)
}

// AuthOptions returns the server options that make every call of the
// Stream, Firehose and Analytics services prove who sent it (SigV4-signed
// metadata: auth.SignGRPC) and be authorized by g as the IAM action
// "kinesis:<Method>", "firehose:<Method>" or "kinesisanalytics:<Method>"
// (Subscribe is kinesis:SubscribeToShard, each batch of Produce is
// kinesis:PutRecords) on the resources its request
// names: stream_name, stream_arn, resource_arn, shard_iterator (its stream, found in
// store), delivery_stream_name, application_name. Failures are the
// statuses of the API errors: Unauthenticated for the signature errors,
// PermissionDenied for AccessDeniedException. Without these options
// (authentication off) no interceptor runs.
func AuthOptions(g *auth.Guard, store iteratorStreams) []grpc.ServerOption {
	a := &authorizer{g: g, store: store}
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(a.unary),
		grpc.ChainStreamInterceptor(a.stream),
	}
}

type authorizer struct {
	g     *auth.Guard
	store iteratorStreams
}

func (a *authorizer) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, err := a.authenticate(ctx, info.FullMethod)
	if err != nil {
		return nil, toStatus(err)
	}
	if err := a.authorize(ctx, info.FullMethod, req); err != nil {
		return nil, toStatus(err)
	}
	return handler(ctx, req)
}

func (a *authorizer) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, err := a.authenticate(ss.Context(), info.FullMethod)
	if err != nil {
		return toStatus(err)
	}
	return handler(srv, &authorizedStream{ServerStream: ss, ctx: ctx, a: a, method: info.FullMethod})
}

// authorizedStream authorizes every message it receives (a server stream
// receives one: the request) before the handler sees it.
type authorizedStream struct {
	grpc.ServerStream
	ctx    context.Context
	a      *authorizer
	method string
}

func (s *authorizedStream) Context() context.Context { return s.ctx }

func (s *authorizedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if err := s.a.authorize(s.ctx, s.method, m); err != nil {
		return toStatus(err)
	}
	return nil
}

func (a *authorizer) authenticate(ctx context.Context, method string) (context.Context, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	return a.g.AuthenticateGRPC(ctx, md, method)
}

// authorize checks req, a request of method, against the caller's policy.
func (a *authorizer) authorize(ctx context.Context, method string, req any) error {
	_, action, ok := auth.GRPCService(method)
	if !ok {
		return apierr.New(apierr.AccessDenied, "%s is not a method of the Spate API", method)
	}
	if action == "kinesis:Subscribe" {
		action = "kinesis:SubscribeToShard" // the Kinesis action of push reads
	}
	if action == "kinesis:Produce" {
		action = "kinesis:PutRecords" // each message is a PutRecords batch
	}
	resources, err := a.resources(req)
	if err != nil {
		return err
	}
	return a.g.Authorize(ctx, action, resources...)
}

// resources returns the ARNs that req's fields name.
func (a *authorizer) resources(req any) ([]string, error) {
	m, ok := req.(proto.Message)
	if !ok {
		return nil, nil
	}
	msg := m.ProtoReflect()
	field := func(name protoreflect.Name) string {
		fd := msg.Descriptor().Fields().ByName(name)
		if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsList() {
			return ""
		}
		return msg.Get(fd).String()
	}
	var out []string
	add := func(arn string) {
		for _, v := range out {
			if v == arn {
				return
			}
		}
		out = append(out, arn)
	}
	if fd := msg.Descriptor().Fields().ByName("group"); fd != nil && fd.Kind() == protoreflect.MessageKind && msg.Has(fd) {
		// A GroupService request names its stream in its GroupRef.
		ref := msg.Get(fd).Message()
		get := func(n protoreflect.Name) string { return ref.Get(ref.Descriptor().Fields().ByName(n)).String() }
		if v := get("stream_name"); v != "" {
			add(a.g.StreamARN(v))
		}
		if v := get("stream_arn"); v != "" {
			add(v)
		}
	}
	if v := field("stream_name"); v != "" {
		add(a.g.StreamARN(v))
	}
	// A Checkpoint's output records go to a stream of their own: the
	// policy must allow the call on it too.
	if v := field("output_stream_name"); v != "" {
		add(a.g.StreamARN(v))
	}
	if v := field("stream_arn"); v != "" {
		add(v)
	}
	if v := field("resource_arn"); v != "" {
		add(v)
	}
	if v := field("shard_iterator"); v != "" && a.store != nil {
		name, err := a.store.IteratorStream(v)
		if err != nil {
			return nil, err
		}
		add(a.g.StreamARN(name))
	}
	if v := field("delivery_stream_name"); v != "" {
		add(a.g.DeliveryStreamARN(v))
	}
	if v := field("application_name"); v != "" {
		add(a.g.ApplicationARN(v))
	}
	return out, nil
}
