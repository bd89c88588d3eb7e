package grpcapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spatehq/spate/apierr"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

func TestToStatusRoundTrip(t *testing.T) {
	want := map[apierr.Code]codes.Code{
		apierr.InvalidArgument:               codes.InvalidArgument,
		apierr.Validation:                    codes.InvalidArgument,
		apierr.Serialization:                 codes.InvalidArgument,
		apierr.ResourceNotFound:              codes.NotFound,
		apierr.ResourceInUse:                 codes.FailedPrecondition,
		apierr.LimitExceeded:                 codes.ResourceExhausted,
		apierr.ProvisionedThroughputExceeded: codes.ResourceExhausted,
		apierr.ExpiredIterator:               codes.FailedPrecondition,
		apierr.ExpiredNextToken:              codes.FailedPrecondition,
		apierr.UnknownOperation:              codes.Unimplemented,
		apierr.AccessDenied:                  codes.PermissionDenied,
		apierr.ConcurrentModification:        codes.Aborted,
		apierr.LeaseLost:                     codes.FailedPrecondition,
		apierr.InternalFailure:               codes.Internal,
		apierr.MissingAuthenticationToken:    codes.Unauthenticated,
		apierr.IncompleteSignature:           codes.Unauthenticated,
		apierr.UnrecognizedClient:            codes.Unauthenticated,
		apierr.InvalidSignature:              codes.Unauthenticated,
		apierr.ServiceUnavailable:            codes.ResourceExhausted,
		apierr.ServiceUnavailableException:   codes.ResourceExhausted,
		apierr.KMSNotFound:                   codes.FailedPrecondition,
		apierr.KMSDisabled:                   codes.FailedPrecondition,
		apierr.KMSInvalidState:               codes.FailedPrecondition,
		apierr.KMSOptInRequired:              codes.FailedPrecondition,
		apierr.KMSAccessDenied:               codes.PermissionDenied,
		apierr.KMSThrottling:                 codes.ResourceExhausted,
	}
	if len(want) != len(codesByAPI) {
		t.Errorf("table has %d codes, test expects %d", len(codesByAPI), len(want))
	}
	for code, grpcCode := range want {
		t.Run(string(code), func(t *testing.T) {
			err := toStatus(fmt.Errorf("wrapped: %w", apierr.New(code, "what went wrong")))
			st := status.Convert(err)
			if st.Code() != grpcCode {
				t.Errorf("code = %v, want %v", st.Code(), grpcCode)
			}
			if msg := string(code) + ": what went wrong"; st.Message() != msg {
				t.Errorf("message = %q, want %q", st.Message(), msg)
			}
			back := FromStatus(err)
			if apierr.CodeOf(back) != code || apierr.MessageOf(back) != "what went wrong" {
				t.Errorf("FromStatus = %v, want %s: what went wrong", back, code)
			}
		})
	}
}

func TestToStatusOtherErrors(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		code    codes.Code
		message string // exact status message; "" to skip
	}{
		{"nil", nil, codes.OK, ""},
		{"unexpected error hides its cause", errors.New("disk on fire"), codes.Internal, "InternalFailure: internal failure; see the server log"},
		{"cancelled", fmt.Errorf("read: %w", context.Canceled), codes.Canceled, ""},
		{"deadline", context.DeadlineExceeded, codes.DeadlineExceeded, ""},
		{"status passes through", status.Error(codes.Unavailable, "gone"), codes.Unavailable, "gone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := status.Convert(toStatus(tt.err))
			if st.Code() != tt.code {
				t.Errorf("code = %v, want %v", st.Code(), tt.code)
			}
			if tt.message != "" && st.Message() != tt.message {
				t.Errorf("message = %q, want %q", st.Message(), tt.message)
			}
		})
	}
}

func TestFromStatus(t *testing.T) {
	plain := errors.New("not a status")
	tests := []struct {
		name     string
		err      error
		wantCode apierr.Code // "" means err comes back unchanged
		wantMsg  string
	}{
		{"nil", nil, "", ""},
		{"not a status", plain, "", ""},
		{"transport failure", status.Error(codes.Unavailable, "connection refused"), "", ""},
		{"prefix without detail", status.Error(codes.NotFound, "ResourceNotFoundException: no such stream"), apierr.ResourceNotFound, "no such stream"},
		{"unknown prefix", status.Error(codes.NotFound, "NoSuchThing: x"), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromStatus(tt.err)
			if tt.wantCode == "" {
				if got != tt.err {
					t.Errorf("FromStatus = %v, want the error unchanged (%v)", got, tt.err)
				}
				return
			}
			var ae *apierr.Error
			if !errors.As(got, &ae) || ae.Code != tt.wantCode || ae.Message != tt.wantMsg {
				t.Errorf("FromStatus = %#v, want %s %q", got, tt.wantCode, tt.wantMsg)
			}
		})
	}
}

// TestErrorsOverTheWire drives real failures through the store and checks the
// status each one arrives with.
func TestErrorsOverTheWire(t *testing.T) {
	clock := newFakeClock()
	f := newFixture(t, clock.Option(), shard.WithShardLimit(10), shard.WithCreateDelay(time.Minute))
	c := f.client
	ctx := testContext(t)

	f.createStream(t, "s", 1)
	f.createStream(t, "t", 1)
	clock.Advance(2 * time.Minute) // s and t are ACTIVE

	it, err := c.GetShardIterator(ctx, &spatev1.GetShardIteratorRequest{
		StreamName: "s", ShardId: "shardId-000000000000",
		ShardIteratorType: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON,
	})
	if err != nil {
		t.Fatalf("GetShardIterator: %v", err)
	}
	page, err := c.ListStreams(ctx, &spatev1.ListStreamsRequest{Limit: 1})
	if err != nil || page.GetNextToken() == "" {
		t.Fatalf("ListStreams = %v, %v; want a next token", page, err)
	}
	// Both tokens outlive their 5 minutes; young2 then stays CREATING for a
	// minute of the frozen clock.
	clock.Advance(6 * time.Minute)
	if _, err := c.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: "young2", ShardCount: 1}); err != nil {
		t.Fatalf("CreateStream young2: %v", err)
	}

	tests := []struct {
		name     string
		call     func() error
		grpcCode codes.Code
		apiCode  apierr.Code
	}{
		{"unknown stream", func() error {
			_, err := c.DescribeStream(ctx, &spatev1.DescribeStreamRequest{StreamName: "nope"})
			return err
		}, codes.NotFound, apierr.ResourceNotFound},
		{"unknown shard", func() error {
			_, err := c.GetShardIterator(ctx, &spatev1.GetShardIteratorRequest{
				StreamName: "s", ShardId: "shardId-000000000009",
				ShardIteratorType: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_LATEST,
			})
			return err
		}, codes.NotFound, apierr.ResourceNotFound},
		{"stream exists", func() error {
			_, err := c.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: "s", ShardCount: 1})
			return err
		}, codes.FailedPrecondition, apierr.ResourceInUse},
		{"delete while creating", func() error {
			_, err := c.DeleteStream(ctx, &spatev1.DeleteStreamRequest{StreamName: "young2"})
			return err
		}, codes.FailedPrecondition, apierr.ResourceInUse},
		{"put while creating", func() error {
			_, err := c.PutRecord(ctx, &spatev1.PutRecordRequest{StreamName: "young2", PartitionKey: "k", Data: []byte("x")})
			return err
		}, codes.NotFound, apierr.ResourceNotFound},
		{"invalid stream name", func() error {
			_, err := c.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: "bad name!", ShardCount: 1})
			return err
		}, codes.InvalidArgument, apierr.Validation},
		{"no stream name or ARN", func() error {
			_, err := c.DeleteStream(ctx, &spatev1.DeleteStreamRequest{})
			return err
		}, codes.InvalidArgument, apierr.InvalidArgument},
		{"unknown stream mode", func() error {
			_, err := c.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: "m", ShardCount: 1, StreamMode: 42})
			return err
		}, codes.InvalidArgument, apierr.InvalidArgument},
		{"too many shards", func() error {
			_, err := c.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: "big", ShardCount: 11})
			return err
		}, codes.ResourceExhausted, apierr.LimitExceeded},
		{"empty partition key", func() error {
			_, err := c.PutRecord(ctx, &spatev1.PutRecordRequest{StreamName: "s", Data: []byte("x")})
			return err
		}, codes.InvalidArgument, apierr.Validation},
		{"bad sequence number for ordering", func() error {
			_, err := c.PutRecord(ctx, &spatev1.PutRecordRequest{StreamName: "s", PartitionKey: "k", SequenceNumberForOrdering: "01"})
			return err
		}, codes.InvalidArgument, apierr.Validation},
		{"empty PutRecords", func() error {
			_, err := c.PutRecords(ctx, &spatev1.PutRecordsRequest{StreamName: "s"})
			return err
		}, codes.InvalidArgument, apierr.InvalidArgument},
		{"iterator type missing", func() error {
			_, err := c.GetShardIterator(ctx, &spatev1.GetShardIteratorRequest{StreamName: "s", ShardId: "shardId-000000000000"})
			return err
		}, codes.InvalidArgument, apierr.InvalidArgument},
		{"forged iterator", func() error {
			_, err := c.GetRecords(ctx, &spatev1.GetRecordsRequest{ShardIterator: "AAAA"})
			return err
		}, codes.InvalidArgument, apierr.InvalidArgument},
		{"expired iterator", func() error {
			_, err := c.GetRecords(ctx, &spatev1.GetRecordsRequest{ShardIterator: it.GetShardIterator()})
			return err
		}, codes.FailedPrecondition, apierr.ExpiredIterator},
		{"expired next token", func() error {
			_, err := c.ListStreams(ctx, &spatev1.ListStreamsRequest{NextToken: page.GetNextToken()})
			return err
		}, codes.FailedPrecondition, apierr.ExpiredNextToken},
		{"retention out of range", func() error {
			_, err := c.IncreaseStreamRetentionPeriod(ctx, &spatev1.IncreaseStreamRetentionPeriodRequest{StreamName: "s", RetentionPeriodHours: 9000})
			return err
		}, codes.InvalidArgument, apierr.InvalidArgument},
		{"subscribe without position", func() error {
			return firstSubscribeError(ctx, c, &spatev1.SubscribeRequest{StreamName: "s", ShardId: "shardId-000000000000"})
		}, codes.InvalidArgument, apierr.InvalidArgument},
		{"subscribe to unknown shard", func() error {
			return firstSubscribeError(ctx, c, &spatev1.SubscribeRequest{
				StreamName: "s", ShardId: "shardId-000000000001",
				StartingPosition: &spatev1.StartingPosition{Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_LATEST},
			})
		}, codes.NotFound, apierr.ResourceNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			st := status.Convert(err)
			if st.Code() != tt.grpcCode {
				t.Errorf("code = %v (%v), want %v", st.Code(), err, tt.grpcCode)
			}
			if !strings.HasPrefix(st.Message(), string(tt.apiCode)+": ") {
				t.Errorf("message %q does not start with %s", st.Message(), tt.apiCode)
			}
			if got := apierr.CodeOf(FromStatus(err)); got != tt.apiCode {
				t.Errorf("FromStatus code = %s, want %s", got, tt.apiCode)
			}
		})
	}
}

// firstSubscribeError opens a subscription and returns the error that ends
// it (nil if it delivers an event first).
func firstSubscribeError(ctx context.Context, c spatev1.StreamServiceClient, req *spatev1.SubscribeRequest) error {
	stream, err := c.Subscribe(ctx, req)
	if err != nil {
		return err
	}
	_, err = stream.Recv()
	return err
}
