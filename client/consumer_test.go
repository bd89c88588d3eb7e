package client

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spatehq/spate/apierr"
)

func TestTransient(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{status.Error(codes.Unavailable, "connection refused"), true},
		{status.Error(codes.DeadlineExceeded, "slow"), true},
		{apierr.New(apierr.ConcurrentModification, "lost 32 races"), true},
		{apierr.New(apierr.ProvisionedThroughputExceeded, "slow down"), true},
		{apierr.New(apierr.InternalFailure, "oops"), true},
		{fmt.Errorf("wrapped: %w", apierr.New(apierr.LimitExceeded, "busy")), true},
		{apierr.New(apierr.LeaseLost, "moved on"), false},
		{apierr.New(apierr.ResourceNotFound, "no stream"), false},
		{apierr.New(apierr.InvalidArgument, "bad name"), false},
		{apierr.New(apierr.ResourceInUse, "a child before its parent"), false},
		{status.Error(codes.PermissionDenied, "no"), false},
		{status.Error(codes.Canceled, "stop"), false},
		{context.Canceled, false},
		{errors.New("plain"), true},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			if got := transient(tt.err); got != tt.want {
				t.Errorf("transient(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
