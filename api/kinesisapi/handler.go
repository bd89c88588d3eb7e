package kinesisapi

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"

	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/shard"
)

// TargetPrefix is the service half of the X-Amz-Target header that Kinesis
// Data Streams requests carry ("Kinesis_20131202.PutRecord"). A server that
// speaks several AWS JSON services on one port can route on it.
const TargetPrefix = "Kinesis_20131202"

// DefaultMaxBodyBytes is the default cap on a request body: room for the
// largest valid request (PutRecords: 10 MiB of data, base64-encoded to
// 13.3 MiB, plus 500 partition keys of up to 256 characters escaped and
// JSON framing).
const DefaultMaxBodyBytes = 16 << 20

// serviceModel is the AWS service model of Kinesis Data Streams (Apache-2.0;
// see awsmodel/README.md for its origin).
//
//go:embed awsmodel/kinesis-2013-12-02.json
var serviceModel []byte

// Option configures NewHandler.
type Option = awsproto.Option

// WithLogger sets the logger for internal failures (Error level, with the
// real error) and for every request (Debug level). Default: slog.Default().
func WithLogger(l *slog.Logger) Option { return awsproto.WithLogger(l) }

// WithMaxBodyBytes caps the size of a request body; a larger request is
// answered with HTTP 413. Default: DefaultMaxBodyBytes.
func WithMaxBodyBytes(n int64) Option { return awsproto.WithMaxBodyBytes(n) }

// streamStore is what the handler needs from the store; *shard.Store is the
// implementation (tests substitute a fake to reach failure paths a real
// store cannot be made to take).
type streamStore interface {
	ResolveStream(name, arn string) (string, error)
	CreateStream(ctx context.Context, in shard.CreateStreamInput) error
	DeleteStream(ctx context.Context, name string) error
	DescribeStream(ctx context.Context, name string, limit int, exclusiveStartShardID string) (shard.StreamDescription, error)
	DescribeStreamSummary(ctx context.Context, name string) (shard.StreamDescription, error)
	ListStreams(ctx context.Context, in shard.ListStreamsInput) (shard.ListStreamsOutput, error)
	ListShards(ctx context.Context, in shard.ListShardsInput) (shard.ListShardsOutput, error)
	IncreaseRetention(ctx context.Context, name string, hours int) error
	DecreaseRetention(ctx context.Context, name string, hours int) error
	AddTags(ctx context.Context, name string, tags map[string]string) error
	RemoveTags(ctx context.Context, name string, keys []string) error
	ListTags(ctx context.Context, name, exclusiveStartKey string, limit int) ([]shard.Tag, bool, error)
	Limits(ctx context.Context) (shard.Limits, error)
	Append(ctx context.Context, stream string, entries []shard.Entry) ([]shard.AppendResult, error)
	ShardIterator(ctx context.Context, stream, shardID string, pos shard.Position) (string, error)
	GetRecordsInto(ctx context.Context, iterator string, limit int, sink shard.RecordSink) (shard.GetRecordsOutput, error)
	IteratorStream(iterator string) (string, error)
	EnableEnhancedMonitoring(ctx context.Context, name string, metrics []shard.ShardLevelMetric) (shard.EnhancedMonitoringResult, error)
	DisableEnhancedMonitoring(ctx context.Context, name string, metrics []shard.ShardLevelMetric) (shard.EnhancedMonitoringResult, error)
	settingsStore
	consumerStore
	subscribeStore
	reshardStore
	StartEncryption(ctx context.Context, name, encryptionType, keyID string) error
	StopEncryption(ctx context.Context, name, encryptionType, keyID string) error
}

var _ streamStore = (*shard.Store)(nil)

// handler serves the Kinesis Data Streams JSON 1.1 protocol: the actions
// are its methods (actions.go), the protocol is awsproto's.
type handler struct {
	*awsproto.Handler
	store  streamStore
	fanOut *fanOut // SubscribeToShard's subscriptions (subscribe.go)
	blocks recordBlocks
}

// NewHandler returns an http.Handler that serves the Kinesis Data Streams
// API (AWS JSON 1.1: POST / with X-Amz-Target "Kinesis_20131202.<Action>")
// on store. It decodes and validates each request against the embedded AWS
// service model, calls the store and encodes the reply; it holds no stream
// state of its own. SigV4 signatures are checked only with awsproto.WithGuard.
// An awsproto.Router can serve it beside other AWS JSON APIs.
func NewHandler(store *shard.Store, opts ...Option) *awsproto.Handler {
	return newHandler(store, opts...).Handler
}

func newHandler(store streamStore, opts ...Option) *handler {
	return build(store, true, opts...)
}

// build makes the handler; fast selects the PutRecords fast path (off only
// in benchmarks that measure it against encoding/json).
func build(store streamStore, fast bool, opts ...Option) *handler {
	m, err := awsproto.LoadModel(serviceModel)
	if err != nil {
		panic(fmt.Sprintf("kinesisapi: embedded service model: %v", err)) // a build defect, caught by every test
	}
	h := &handler{store: store, fanOut: newFanOut()}
	var decodeFast func([]byte) (*putRecordsRequest, bool)
	if fast {
		decodeFast = decodePutRecordsFast
	}
	h.Handler, err = awsproto.NewHandler(awsproto.Service{
		Model:        m,
		TargetPrefix: TargetPrefix,
		Name:         "Kinesis Data Streams",
		ShortName:    "Kinesis",
		Operations: append([]*awsproto.Operation{
			awsproto.Action("AddTagsToStream", h.addTagsToStream),
			awsproto.Action("CreateStream", h.createStream),
			awsproto.Action("DecreaseStreamRetentionPeriod", h.decreaseRetention),
			awsproto.Action("DeleteStream", h.deleteStream),
			awsproto.Action("DescribeLimits", h.describeLimits),
			awsproto.Action("DescribeStream", h.describeStream),
			awsproto.Action("DescribeStreamSummary", h.describeStreamSummary),
			awsproto.Action("DisableEnhancedMonitoring", h.disableEnhancedMonitoring),
			awsproto.Action("EnableEnhancedMonitoring", h.enableEnhancedMonitoring),
			awsproto.Action("GetRecords", h.getRecords),
			awsproto.Action("GetShardIterator", h.getShardIterator),
			awsproto.Action("IncreaseStreamRetentionPeriod", h.increaseRetention),
			awsproto.Action("ListShards", h.listShards),
			awsproto.Action("ListStreams", h.listStreams),
			awsproto.Action("ListTagsForStream", h.listTagsForStream),
			awsproto.Action("PutRecord", h.putRecord),
			awsproto.FastAction("PutRecords", h.putRecords, decodeFast),
			awsproto.Action("RemoveTagsFromStream", h.removeTagsFromStream),
			awsproto.Action("StartStreamEncryption", h.startStreamEncryption),
			awsproto.Action("StopStreamEncryption", h.stopStreamEncryption),
			awsproto.Action("SubscribeToShard", h.subscribeToShard),
		}, append(append(h.settingsOperations(), h.consumerOperations()...), h.reshardOperations()...)...),
		MaxBodyBytes:      DefaultMaxBodyBytes,
		MaxStreamDuration: MaxSubscriptionDuration,
		SigningName:       "kinesis",
		ResourceMembers:   map[string]string{"StreamName": "stream/", "StreamARN": "", "ConsumerARN": "", "ResourceARN": ""},
		MoreResources:     h.moreResources,
		BodyLimitHint: fmt.Sprintf("(PutRecords takes at most %d records and %d bytes of data)",
			shard.MaxPutRecordsEntries, shard.MaxPutRecordsSize),
	}, opts...)
	if err != nil {
		panic(fmt.Sprintf("kinesisapi: %v", err)) // a build defect, caught by every test
	}
	return h
}
