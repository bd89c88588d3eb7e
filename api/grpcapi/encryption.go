package grpcapi

import (
	"context"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// StartStreamEncryption implements spatev1.StreamServiceServer.
func (s *Server) StartStreamEncryption(ctx context.Context, req *spatev1.StartStreamEncryptionRequest) (*spatev1.StartStreamEncryptionResponse, error) {
	name, err := s.store.ResolveStream(req.GetStreamName(), req.GetStreamArn())
	if err == nil {
		err = s.store.StartEncryption(ctx, name, req.GetEncryptionType(), req.GetKeyId())
	}
	if err != nil {
		return nil, s.fail(ctx, "StartStreamEncryption", err)
	}
	return &spatev1.StartStreamEncryptionResponse{}, nil
}

// StopStreamEncryption implements spatev1.StreamServiceServer.
func (s *Server) StopStreamEncryption(ctx context.Context, req *spatev1.StopStreamEncryptionRequest) (*spatev1.StopStreamEncryptionResponse, error) {
	name, err := s.store.ResolveStream(req.GetStreamName(), req.GetStreamArn())
	if err == nil {
		err = s.store.StopEncryption(ctx, name, req.GetEncryptionType(), req.GetKeyId())
	}
	if err != nil {
		return nil, s.fail(ctx, "StopStreamEncryption", err)
	}
	return &spatev1.StopStreamEncryptionResponse{}, nil
}
