package firehoseapi

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"

	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/firehose"
)

// TargetPrefix is the service half of the X-Amz-Target header that Firehose
// requests carry ("Firehose_20150804.PutRecordBatch"). An awsproto.Router
// routes on it.
const TargetPrefix = "Firehose_20150804"

// DefaultMaxBodyBytes is the default cap on a request body: room for the
// largest valid request (PutRecordBatch: 4 MiB of data, base64-encoded,
// plus JSON framing for 500 records).
const DefaultMaxBodyBytes = 8 << 20

// serviceModel is the AWS service model of Firehose (Apache-2.0) and
// spateOverlay Spate's extensions of it; see awsmodel/README.md.
var (
	//go:embed awsmodel/firehose-2015-08-04.json
	serviceModel []byte
	//go:embed awsmodel/spate-overlay.json
	spateOverlay []byte
)

// Option configures NewHandler.
type Option = awsproto.Option

// WithLogger sets the logger for internal failures (Error level, with the
// real error) and for every request (Debug level). Default: slog.Default().
func WithLogger(l *slog.Logger) Option { return awsproto.WithLogger(l) }

// WithMaxBodyBytes caps the size of a request body; a larger request is
// answered with HTTP 413. Default: DefaultMaxBodyBytes.
func WithMaxBodyBytes(n int64) Option { return awsproto.WithMaxBodyBytes(n) }

// deliveryStreams is what the handler needs from the Firehose core;
// *firehose.Service is the implementation (tests substitute a fake to reach
// answers a real service cannot be made to give).
type deliveryStreams interface {
	CreateDeliveryStream(ctx context.Context, in firehose.CreateDeliveryStreamInput) (string, error)
	DeleteDeliveryStream(ctx context.Context, name string) error
	DescribeDeliveryStream(ctx context.Context, name string) (firehose.DeliveryStreamDescription, error)
	ListDeliveryStreams(ctx context.Context, limit int, typ, exclusiveStart string) ([]string, bool, error)
	PutRecord(ctx context.Context, name string, data []byte) (string, error)
	PutRecordBatch(ctx context.Context, name string, records [][]byte) (firehose.PutRecordBatchOutput, error)
	UpdateDestination(ctx context.Context, in firehose.UpdateDestinationInput) error
	TagDeliveryStream(ctx context.Context, name string, tags []firehose.Tag) error
	UntagDeliveryStream(ctx context.Context, name string, keys []string) error
	ListTagsForDeliveryStream(ctx context.Context, name, exclusiveStart string, limit int) ([]firehose.Tag, bool, error)
	StartDeliveryStreamEncryption(ctx context.Context, name string, in *firehose.EncryptionConfigurationInput) error
	StopDeliveryStreamEncryption(ctx context.Context, name string) error
}

var _ deliveryStreams = (*firehose.Service)(nil)

// handler serves the Firehose JSON 1.1 protocol: the actions are its
// methods (actions.go), the protocol is awsproto's.
type handler struct {
	*awsproto.Handler
	svc deliveryStreams
}

// NewHandler returns an http.Handler that serves the Firehose API (AWS JSON
// 1.1: POST / with X-Amz-Target "Firehose_20150804.<Action>") on svc. It
// decodes and validates each request against the embedded AWS service model
// and Spate's overlay, calls svc and encodes the reply; it holds no state
// of its own. SigV4 signatures are checked only with awsproto.WithGuard. An
// awsproto.Router serves it beside the Kinesis API on one port.
func NewHandler(svc *firehose.Service, opts ...Option) *awsproto.Handler {
	return newHandler(svc, opts...).Handler
}

func newHandler(svc deliveryStreams, opts ...Option) *handler {
	return build(svc, true, opts...)
}

// build makes the handler; fast selects the PutRecordBatch fast path (off
// only in benchmarks that measure it against encoding/json).
func build(svc deliveryStreams, fast bool, opts ...Option) *handler {
	m, err := awsproto.LoadModel(serviceModel, spateOverlay)
	if err != nil {
		panic(fmt.Sprintf("firehoseapi: embedded service model: %v", err)) // a build defect, caught by every test
	}
	h := &handler{svc: svc}
	var decodeFast func([]byte) (*putRecordBatchRequest, bool)
	if fast {
		decodeFast = decodePutRecordBatchFast
	}
	h.Handler, err = awsproto.NewHandler(awsproto.Service{
		Model:        m,
		TargetPrefix: TargetPrefix,
		Name:         "Firehose",
		ShortName:    "Firehose",
		Operations: []*awsproto.Operation{
			awsproto.ModelAction("CreateDeliveryStream", h.createDeliveryStream),
			awsproto.ModelAction("DeleteDeliveryStream", h.deleteDeliveryStream),
			awsproto.ModelAction("DescribeDeliveryStream", h.describeDeliveryStream),
			awsproto.ModelAction("ListDeliveryStreams", h.listDeliveryStreams),
			awsproto.ModelAction("ListTagsForDeliveryStream", h.listTagsForDeliveryStream),
			awsproto.Action("PutRecord", h.putRecord),
			awsproto.FastAction("PutRecordBatch", h.putRecordBatch, decodeFast),
			awsproto.ModelAction("StartDeliveryStreamEncryption", h.startDeliveryStreamEncryption),
			awsproto.ModelAction("StopDeliveryStreamEncryption", h.stopDeliveryStreamEncryption),
			awsproto.ModelAction("TagDeliveryStream", h.tagDeliveryStream),
			awsproto.ModelAction("UntagDeliveryStream", h.untagDeliveryStream),
			awsproto.ModelAction("UpdateDestination", h.updateDestination),
		},
		MaxBodyBytes:    DefaultMaxBodyBytes,
		SigningName:     "firehose",
		ResourceMembers: map[string]string{"DeliveryStreamName": "deliverystream/"},
		BodyLimitHint: fmt.Sprintf("(PutRecordBatch takes at most %d records and %d bytes of data)",
			firehose.MaxBatchRecords, firehose.MaxBatchBytes),
		// Firehose models InvalidArgumentException, not ValidationException,
		// for bad requests, and names members as the service's own messages
		// do; see doc.go.
		ValidationCode:  apierr.InvalidArgument,
		ValidationPaths: awsproto.WirePaths,
	}, opts...)
	if err != nil {
		panic(fmt.Sprintf("firehoseapi: %v", err)) // a build defect, caught by every test
	}
	return h
}
