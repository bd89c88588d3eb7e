package grpcapi

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spatehq/spate/apierr"
)

// ErrorDomain is the Domain of the google.rpc.ErrorInfo detail that every
// API error status carries; its Reason is the AWS error type.
const ErrorDomain = "spate.v1"

// codesByAPI maps each API error type to its gRPC status code. It is the only
// place where the two meet: handlers return apierr values and status turns
// them into statuses (toStatus); FromStatus reads the AWS name back from the detail.
var codesByAPI = map[apierr.Code]codes.Code{
	apierr.InvalidArgument:               codes.InvalidArgument,
	apierr.Validation:                    codes.InvalidArgument,
	apierr.Serialization:                 codes.InvalidArgument,
	apierr.ResourceNotFound:              codes.NotFound,
	apierr.ResourceInUse:                 codes.FailedPrecondition, // exists already, or not ACTIVE
	apierr.LimitExceeded:                 codes.ResourceExhausted,
	apierr.ProvisionedThroughputExceeded: codes.ResourceExhausted,
	apierr.ExpiredIterator:               codes.FailedPrecondition, // get a new iterator
	apierr.ExpiredNextToken:              codes.FailedPrecondition, // start the listing again
	apierr.UnknownOperation:              codes.Unimplemented,
	apierr.AccessDenied:                  codes.PermissionDenied,
	apierr.ConcurrentModification:        codes.Aborted,
	apierr.LeaseLost:                     codes.FailedPrecondition, // take a lease again
	apierr.InternalFailure:               codes.Internal,
	apierr.MissingAuthenticationToken:    codes.Unauthenticated,
	apierr.IncompleteSignature:           codes.Unauthenticated,
	apierr.UnrecognizedClient:            codes.Unauthenticated,
	apierr.InvalidSignature:              codes.Unauthenticated,
	apierr.ServiceUnavailable:            codes.ResourceExhausted, // the disk is full; retry later
	apierr.ServiceUnavailableException:   codes.ResourceExhausted,
	// The master key of an encrypted stream cannot be used.
	apierr.KMSNotFound:      codes.FailedPrecondition,
	apierr.KMSDisabled:      codes.FailedPrecondition,
	apierr.KMSInvalidState:  codes.FailedPrecondition,
	apierr.KMSOptInRequired: codes.FailedPrecondition,
	apierr.KMSAccessDenied:  codes.PermissionDenied,
	apierr.KMSThrottling:    codes.ResourceExhausted,
}

// GRPCCode returns the gRPC code that an API error type is sent with
// (codes.Internal for a type the table does not know).
func GRPCCode(c apierr.Code) codes.Code {
	if gc, ok := codesByAPI[c]; ok {
		return gc
	}
	return codes.Internal
}

// toStatus turns a handler's error into the error gRPC sends:
//   - an *apierr.Error (anywhere in the chain) becomes a status with the
//     table's code, the message "<AWS name>: <message>" and an ErrorInfo
//     detail whose Reason is the AWS name;
//   - a context error becomes Canceled or DeadlineExceeded;
//   - an error that already is a status (from grpc itself) passes through;
//   - anything else is an InternalFailure whose message hides the cause.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	var ae *apierr.Error
	switch {
	case errors.As(err, &ae):
		return apiStatus(ae.Code, ae.Message)
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	return apiStatus(apierr.InternalFailure, apierr.MessageOf(err))
}

func apiStatus(c apierr.Code, msg string) error {
	st := status.New(GRPCCode(c), string(c)+": "+msg)
	if d, err := st.WithDetails(&errdetails.ErrorInfo{Reason: string(c), Domain: ErrorDomain}); err == nil {
		st = d
	}
	return st.Err()
}

// FromStatus returns the *apierr.Error that a Spate server's status error
// carries, so a client can use apierr.Is and apierr.CodeOf on it. It reads
// the ErrorInfo detail, or failing that an "<AWS name>: " prefix of the
// message that names a known error type. Any other error (a transport
// failure, a cancelled call, nil) is returned unchanged.
func FromStatus(err error) error {
	st, ok := status.FromError(err)
	if !ok || err == nil {
		return err
	}
	code := apierr.Code("")
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == ErrorDomain {
			code = apierr.Code(info.GetReason())
			break
		}
	}
	msg := st.Message()
	if prefix, rest, ok := strings.Cut(msg, ": "); ok {
		if _, known := codesByAPI[apierr.Code(prefix)]; known && (code == "" || code == apierr.Code(prefix)) {
			code, msg = apierr.Code(prefix), rest
		}
	}
	if code == "" {
		return err
	}
	return &apierr.Error{Code: code, Message: msg}
}
