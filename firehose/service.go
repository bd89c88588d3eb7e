package firehose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/firehose/s3store"
	"github.com/spatehq/spate/functions"
	"github.com/spatehq/spate/shard"
)

// valuesNS is the store namespace of delivery stream metadata ("ds/<name>")
// and worker checkpoints ("ck/<name>/<created ms>/<shard>").
const valuesNS = "firehose"

// Limits of the Firehose API.
const (
	MaxRecordSize      = 1000 * 1024
	MaxBatchRecords    = 500
	MaxBatchBytes      = 4 << 20
	MaxDeliveryStreams = 5000
	MaxTags            = 50
)

var deliveryStreamNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,64}$`)

// Option configures New.
type Option func(*config)

type config struct {
	region, accountID string
	s3                *s3store.Config
	esURL             string
	logger            *slog.Logger
	registerer        prometheus.Registerer
	now               func() time.Time
	retryMin          time.Duration
	retryMax          time.Duration
	// shipped, when set (by tests), is called after each batch of a
	// source shard is delivered, in delivery order per shard.
	shipped func(shardID string, records []shard.Record)
	// invoker runs Lambda processors; nil refuses them.
	invoker functions.Invoker
}

func defaultConfig() config {
	return config{
		region: "us-east-1", accountID: "000000000000",
		logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		now:      time.Now,
		retryMin: time.Second, retryMax: 30 * time.Second,
	}
}

// WithRegion sets the region shown in ARNs (default us-east-1).
func WithRegion(r string) Option { return func(c *config) { c.region = r } }

// WithAccountID sets the account shown in ARNs (default 000000000000).
func WithAccountID(a string) Option { return func(c *config) { c.accountID = a } }

// WithS3 sets the S3-compatible endpoint every S3 destination uploads to.
// Without it, creating an S3 destination fails with a message saying so.
func WithS3(cfg s3store.Config) Option { return func(c *config) { c.s3 = &cfg } }

// WithElasticsearchURL sets the cluster used by Elasticsearch destinations
// that give no ClusterEndpoint.
func WithElasticsearchURL(url string) Option { return func(c *config) { c.esURL = url } }

// WithLogger sets the logger for delivery workers.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithRegisterer registers the delivery metrics (default: none).
func WithRegisterer(r prometheus.Registerer) Option { return func(c *config) { c.registerer = r } }

// WithRetryBackoff sets the first and the largest wait between delivery
// retries (defaults 1s and 30s).
func WithRetryBackoff(min, max time.Duration) Option {
	return func(c *config) { c.retryMin, c.retryMax = min, max }
}

// WithInvoker lets delivery streams transform records with a Lambda
// processor whose function inv invokes (transform.go). Without it a
// configuration with a Lambda processor is refused.
func WithInvoker(inv functions.Invoker) Option { return func(c *config) { c.invoker = inv } }

// WithClock replaces time.Now for buffering intervals and freshness.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// Service manages delivery streams and runs their workers.
type Service struct {
	cfg     config
	store   *shard.Store
	s3      *s3store.Client
	metrics *metrics

	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	streams map[string]*deliveryStream
}

// deliveryStream is a running delivery stream.
type deliveryStream struct {
	meta     dsMeta
	deleting bool // DeleteDeliveryStream is removing it; guarded by Service.mu
	cancel   context.CancelFunc
	done     chan struct{} // closed once cancelled and every worker has returned
	// follow starts the workers of the source's shards as resharding
	// allows (follow.go); it guards the workers list.
	follow shardFollower
	// errs are its last delivery errors (deliveryerrors.go).
	errs *errorLog
}

// dsMeta is a delivery stream's persisted metadata ("ds/<name>").
type dsMeta struct {
	Name         string `json:"name"`
	CreatedAtMs  int64  `json:"createdAtMs"`
	UpdatedAtMs  int64  `json:"updatedAtMs"`
	Version      int    `json:"version"`
	Type         string `json:"type"`
	SourceStream string `json:"sourceStream"`
	// Source is set for KinesisStreamAsSource.
	Source *KinesisStreamSourceConfiguration `json:"source,omitempty"`
	// DestKind is ExtendedS3, S3, Elasticsearch or Amazonopensearchservice;
	// S3 holds the (normalised) S3 configuration of the first two, ES the
	// configuration of the last two.
	DestKind string                                 `json:"destKind"`
	S3       *ExtendedS3DestinationConfiguration    `json:"s3,omitempty"`
	ES       *ElasticsearchDestinationConfiguration `json:"es,omitempty"`
	Tags     []Tag                                  `json:"tags,omitempty"`
	// Start holds, per source shard, the sequence number delivery starts at
	// (AT_SEQUENCE_NUMBER); a shard without an entry starts at TRIM_HORIZON.
	Start map[string]string `json:"start,omitempty"`
	// Encryption is set while server-side encryption is on (encryption.go).
	Encryption *dsEncryption `json:"encryption,omitempty"`
}

// New loads the delivery streams kept in store and starts their workers.
func New(store *shard.Store, opts ...Option) (*Service, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	s := &Service{cfg: cfg, store: store, streams: map[string]*deliveryStream{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if cfg.s3 != nil {
		c, err := s3store.New(*cfg.s3)
		if err != nil {
			return nil, fmt.Errorf("S3 endpoint: %w", err)
		}
		s.s3 = c
	}
	m, err := newMetrics(cfg.registerer, s)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	var metas []dsMeta
	err = store.ScanValues(valuesNS, "ds/", func(_ string, v []byte) error {
		var m dsMeta
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("decode delivery stream: %w", err)
		}
		metas = append(metas, m)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load delivery streams: %w", err)
	}
	for _, m := range metas {
		// One delivery stream that cannot start (its S3 endpoint is no
		// longer configured, say) must not keep the server from starting:
		// it is logged and left undelivered; its records wait in the store.
		if err := s.start(m); err != nil {
			cfg.logger.Error("delivery stream not started; fix the server's configuration and restart", "delivery_stream", m.Name, "err", err)
		}
	}
	return s, nil
}

// Close stops every worker and waits for them. Batches in flight are
// delivered again after a restart (their intents are persisted).
func (s *Service) Close() {
	s.cancel()
	s.mu.Lock()
	streams := make([]*deliveryStream, 0, len(s.streams))
	for _, ds := range s.streams {
		streams = append(streams, ds)
	}
	s.mu.Unlock()
	for _, ds := range streams {
		<-ds.done
	}
}

// ARN returns the ARN of a delivery stream.
func (s *Service) ARN(name string) string {
	return fmt.Sprintf("arn:aws:firehose:%s:%s:deliverystream/%s", s.cfg.region, s.cfg.accountID, name)
}

func (s *Service) notFound(name string) error {
	return apierr.New(apierr.ResourceNotFound,
		"Firehose %s under account %s not found.", name, s.cfg.accountID)
}

func validateName(name string) error {
	if !deliveryStreamNameRE.MatchString(name) {
		return apierr.New(apierr.InvalidArgument,
			"delivery stream name %q is invalid: use 1 to 64 characters from a-z, A-Z, 0-9, '_', '.' and '-'", name)
	}
	return nil
}

func putMeta(m *dsMeta) shard.ValueWrite {
	v, _ := json.Marshal(m) // plain data always encodes
	return shard.ValueWrite{Key: "ds/" + m.Name, Value: v}
}

// CreateDeliveryStream validates in, persists the delivery stream and starts
// delivering. It returns the delivery stream's ARN.
func (s *Service) CreateDeliveryStream(ctx context.Context, in CreateDeliveryStreamInput) (string, error) {
	if err := validateName(in.DeliveryStreamName); err != nil {
		return "", err
	}
	m, err := s.newMeta(ctx, in)
	if err == nil {
		err = checkCreateEncryption(m, in.DeliveryStreamEncryptionConfigurationInput)
	}
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.streams[m.Name]; ok {
		if cur.deleting {
			return "", apierr.New(apierr.ResourceInUse,
				"Firehose %s under accountId %s is being deleted; create it again once DescribeDeliveryStream answers ResourceNotFoundException", m.Name, s.cfg.accountID)
		}
		return "", apierr.New(apierr.ResourceInUse,
			"Firehose %s under accountId %s already exists", m.Name, s.cfg.accountID)
	}
	if len(s.streams) >= MaxDeliveryStreams {
		return "", apierr.New(apierr.LimitExceeded,
			"this account already has %d delivery streams, the limit; delete one first", MaxDeliveryStreams)
	}
	if m.Type == TypeDirectPut {
		err := s.store.CreateStream(ctx, shard.CreateStreamInput{Name: m.SourceStream, ShardCount: 1, Internal: true})
		if apierr.Is(err, apierr.ResourceInUse) {
			// Left over from a deletion a crash interrupted: start afresh.
			if err = s.store.DeleteStream(ctx, m.SourceStream); err == nil {
				err = s.store.CreateStream(ctx, shard.CreateStreamInput{Name: m.SourceStream, ShardCount: 1, Internal: true})
			}
		}
		if err != nil {
			return "", fmt.Errorf("create buffer stream of %s: %w", m.Name, err)
		}
		if in.DeliveryStreamEncryptionConfigurationInput != nil {
			if err := s.startBufferEncryption(ctx, m, in.DeliveryStreamEncryptionConfigurationInput); err != nil {
				_ = s.store.DeleteStream(ctx, m.SourceStream)
				return "", err
			}
		}
	}
	if err := s.store.WriteValues(ctx, valuesNS, putMeta(m)); err != nil {
		return "", err
	}
	if err := s.startLocked(*m); err != nil {
		return "", err
	}
	return s.ARN(m.Name), nil
}

// newMeta validates a creation request and builds the metadata to persist.
func (s *Service) newMeta(ctx context.Context, in CreateDeliveryStreamInput) (*dsMeta, error) {
	now := s.cfg.now().UnixMilli()
	m := &dsMeta{Name: in.DeliveryStreamName, CreatedAtMs: now, UpdatedAtMs: now, Version: 1, Tags: in.Tags}
	if len(in.Tags) > MaxTags {
		return nil, apierr.New(apierr.InvalidArgument, "a delivery stream can have at most %d tags; %d given", MaxTags, len(in.Tags))
	}
	switch in.DeliveryStreamType {
	case "", TypeDirectPut:
		if in.KinesisStreamSourceConfiguration != nil {
			return nil, apierr.New(apierr.InvalidArgument,
				"KinesisStreamSourceConfiguration is only allowed with DeliveryStreamType KinesisStreamAsSource")
		}
		m.Type = TypeDirectPut
		m.SourceStream = "firehose:" + m.Name
	case TypeKinesisStreamAsSource:
		src := in.KinesisStreamSourceConfiguration
		if src == nil || src.KinesisStreamARN == "" {
			return nil, apierr.New(apierr.InvalidArgument,
				"DeliveryStreamType KinesisStreamAsSource needs KinesisStreamSourceConfiguration.KinesisStreamARN, the ARN of a Spate stream")
		}
		name, err := s.store.ResolveStream("", src.KinesisStreamARN)
		if err != nil {
			return nil, apierr.New(apierr.InvalidArgument, "KinesisStreamARN %s: %s", src.KinesisStreamARN, apierr.MessageOf(err))
		}
		m.Type, m.SourceStream, m.Source = TypeKinesisStreamAsSource, name, src
		start, err := s.latestPositions(ctx, name)
		if err != nil {
			return nil, apierr.New(apierr.InvalidArgument, "KinesisStreamARN %s: %s", src.KinesisStreamARN, apierr.MessageOf(err))
		}
		m.Start = start
	default:
		return nil, apierr.New(apierr.InvalidArgument,
			"DeliveryStreamType %q is not supported: use DirectPut or KinesisStreamAsSource", in.DeliveryStreamType)
	}
	dests := 0
	if c := in.ExtendedS3DestinationConfiguration; c != nil {
		dests++
		m.DestKind, m.S3 = "ExtendedS3", c
	}
	if c := in.S3DestinationConfiguration; c != nil {
		dests++
		m.DestKind, m.S3 = "S3", extendS3(c)
	}
	if c := in.ElasticsearchDestinationConfiguration; c != nil {
		dests++
		m.DestKind, m.ES = "Elasticsearch", c
	}
	if c := in.AmazonopensearchserviceDestinationConfiguration; c != nil {
		dests++
		m.DestKind, m.ES = "Amazonopensearchservice", c
	}
	if dests != 1 {
		return nil, apierr.New(apierr.InvalidArgument,
			"give exactly one destination: ExtendedS3DestinationConfiguration, S3DestinationConfiguration, ElasticsearchDestinationConfiguration or AmazonopensearchserviceDestinationConfiguration (got %d)", dests)
	}
	if err := s.validateDestination(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}

// latestPositions returns, per shard of a stream, the sequence number of the
// next record to arrive: Firehose starts reading a Kinesis source at LATEST.
func (s *Service) latestPositions(ctx context.Context, stream string) (map[string]string, error) {
	shards, err := s.store.AllShards(ctx, stream)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(shards))
	for _, sh := range shards {
		c, err := s.store.Seek(ctx, stream, sh.ShardID, shard.Position{Type: shard.Latest})
		if err != nil {
			return nil, err
		}
		out[sh.ShardID] = c.SequenceNumber()
	}
	return out, nil
}

func extendS3(c *S3DestinationConfiguration) *ExtendedS3DestinationConfiguration {
	return &ExtendedS3DestinationConfiguration{
		RoleARN: c.RoleARN, BucketARN: c.BucketARN, Prefix: c.Prefix, ErrorOutputPrefix: c.ErrorOutputPrefix,
		BufferingHints: c.BufferingHints, CompressionFormat: c.CompressionFormat,
		EncryptionConfiguration: c.EncryptionConfiguration, CloudWatchLoggingOptions: c.CloudWatchLoggingOptions,
	}
}

// DeleteDeliveryStream stops a delivery stream and removes it with its
// checkpoints and, for DirectPut, its undelivered records.
func (s *Service) DeleteDeliveryStream(ctx context.Context, name string) error {
	if err := validateName(name); err != nil {
		return err
	}
	// Refused before the delivery stream stops: on a store that started
	// read-only the deletion could not be persisted.
	if full, ok := errors.AsType[*shard.DiskFullError](s.store.Writable()); ok {
		return apierr.New(apierr.ServiceUnavailableException, "%s", full.Error())
	}
	s.mu.Lock()
	ds, ok := s.streams[name]
	if ok && ds.deleting {
		ok = false
	}
	if ok {
		// The entry stays, marked, until the deletion is done, so that a
		// CreateDeliveryStream of the same name answers ResourceInUse
		// instead of racing with the cleanup below.
		ds.deleting = true
	}
	s.mu.Unlock()
	if !ok {
		return s.notFound(name)
	}
	defer func() {
		s.mu.Lock()
		delete(s.streams, name)
		s.mu.Unlock()
	}()
	ds.cancel()
	<-ds.done
	writes := []shard.ValueWrite{{Key: "ds/" + name, Delete: true}}
	prefix := fmt.Sprintf("ck/%s/%d/", name, ds.meta.CreatedAtMs)
	_ = s.store.ScanValues(valuesNS, prefix, func(k string, _ []byte) error {
		writes = append(writes, shard.ValueWrite{Key: k, Delete: true})
		return nil
	})
	if err := s.store.WriteValues(ctx, valuesNS, writes...); err != nil {
		return err
	}
	s.metrics.forget(name)
	s.store.ForgetConsumer("firehose:" + name)
	if ds.meta.Type == TypeDirectPut {
		if err := s.store.DeleteStream(ctx, ds.meta.SourceStream); err != nil && !apierr.Is(err, apierr.ResourceNotFound) {
			return fmt.Errorf("delete buffer stream of %s: %w", name, err)
		}
	}
	return nil
}

// get returns a running delivery stream and a copy of its metadata, taken
// under the lock (updateMeta replaces ds.meta).
func (s *Service) get(name string) (*deliveryStream, dsMeta, error) {
	if err := validateName(name); err != nil {
		return nil, dsMeta{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ds, ok := s.streams[name]
	if !ok || ds.deleting {
		return nil, dsMeta{}, s.notFound(name)
	}
	return ds, ds.meta, nil
}

const destinationID = "destinationId-000000000001"

// DescribeDeliveryStream describes a delivery stream and its destination.
func (s *Service) DescribeDeliveryStream(ctx context.Context, name string) (DeliveryStreamDescription, error) {
	ds, m, err := s.get(name)
	if err != nil {
		return DeliveryStreamDescription{}, err
	}
	d := DeliveryStreamDescription{
		DeliveryStreamName: m.Name, DeliveryStreamARN: s.ARN(m.Name), DeliveryStreamStatus: StatusActive,
		DeliveryStreamType: m.Type, VersionId: strconv.Itoa(m.Version),
		CreateTimestamp: time.UnixMilli(m.CreatedAtMs).UTC(), LastUpdateTimestamp: time.UnixMilli(m.UpdatedAtMs).UTC(),
	}
	d.DeliveryStreamEncryptionConfiguration = s.describeEncryption(ctx, m)
	if m.Source != nil {
		d.Source = &SourceDescription{KinesisStreamSourceDescription: &KinesisStreamSourceDescription{
			KinesisStreamARN: m.Source.KinesisStreamARN, RoleARN: m.Source.RoleARN,
			DeliveryStartTimestamp: time.UnixMilli(m.CreatedAtMs).UTC(),
		}}
	}
	dest := DestinationDescription{DestinationId: destinationID}
	switch m.DestKind {
	case "ExtendedS3", "S3":
		s3 := withS3Defaults(*m.S3)
		dest.S3DestinationDescription = &S3DestinationConfiguration{
			RoleARN: s3.RoleARN, BucketARN: s3.BucketARN, Prefix: s3.Prefix, ErrorOutputPrefix: s3.ErrorOutputPrefix,
			BufferingHints: s3.BufferingHints, CompressionFormat: s3.CompressionFormat,
		}
		if m.DestKind == "ExtendedS3" {
			dest.ExtendedS3DestinationDescription = &s3
		}
	case "Elasticsearch":
		es := withESDefaults(*m.ES)
		dest.ElasticsearchDestinationDescription = &es
	case "Amazonopensearchservice":
		es := withESDefaults(*m.ES)
		dest.AmazonopensearchserviceDestinationDescription = &es
	}
	d.Destinations = []DestinationDescription{dest}
	d.DeliveryErrors = ds.errs.list()
	return d, nil
}

// ListDeliveryStreams lists delivery stream names in order, after
// exclusiveStart, at most limit (0 means 10), optionally of one type.
func (s *Service) ListDeliveryStreams(ctx context.Context, limit int, typ, exclusiveStart string) ([]string, bool, error) {
	if limit == 0 {
		limit = 10
	}
	if limit < 1 || limit > 10000 {
		return nil, false, apierr.New(apierr.InvalidArgument, "Limit must be 1 to 10000 (got %d)", limit)
	}
	s.mu.Lock()
	var names []string
	for name, ds := range s.streams {
		if name > exclusiveStart && !ds.deleting && (typ == "" || ds.meta.Type == typ) {
			names = append(names, name)
		}
	}
	s.mu.Unlock()
	sort.Strings(names)
	more := len(names) > limit
	if more {
		names = names[:limit]
	}
	return names, more, nil
}

// PutRecord appends one record to a DirectPut delivery stream and returns
// its RecordId. When it returns, the record is durable.
func (s *Service) PutRecord(ctx context.Context, name string, data []byte) (string, error) {
	out, err := s.PutRecordBatch(ctx, name, [][]byte{data})
	if err != nil {
		return "", err
	}
	if e := out.RequestResponses[0]; e.ErrorCode != "" {
		return "", &apierr.Error{Code: apierr.Code(e.ErrorCode), Message: e.ErrorMessage}
	}
	return out.RequestResponses[0].RecordId, nil
}

// DirectPutStream returns the internal stream that a DirectPut delivery
// stream buffers in. Appending to it (for instance in a shard.Commit, as
// Analytics does to write its results exactly once) is the same as
// PutRecordBatch without the API's batch limits.
func (s *Service) DirectPutStream(name string) (string, error) {
	_, meta, err := s.get(name)
	if err != nil {
		return "", err
	}
	if meta.Type != TypeDirectPut {
		return "", apierr.New(apierr.InvalidArgument,
			"delivery stream %s reads the Kinesis stream %s and takes no direct puts: write to %s instead", name, meta.SourceStream, meta.SourceStream)
	}
	return meta.SourceStream, nil
}

// PutRecordBatch appends up to 500 records (each at most 1,000 KiB, 4 MiB in
// all) to a DirectPut delivery stream. Either every record is stored or the
// call fails and none is.
func (s *Service) PutRecordBatch(ctx context.Context, name string, records [][]byte) (PutRecordBatchOutput, error) {
	_, meta, err := s.get(name)
	if err != nil {
		return PutRecordBatchOutput{}, err
	}
	if meta.Type != TypeDirectPut {
		return PutRecordBatchOutput{}, apierr.New(apierr.InvalidArgument,
			"This operation is not permitted on KinesisStreamAsSource delivery stream type: put records into the source stream %s instead", meta.SourceStream)
	}
	if len(records) < 1 || len(records) > MaxBatchRecords {
		return PutRecordBatchOutput{}, apierr.New(apierr.InvalidArgument,
			"PutRecordBatch takes 1 to %d records; got %d", MaxBatchRecords, len(records))
	}
	total := 0
	entries := make([]shard.Entry, len(records))
	for i, r := range records {
		if len(r) > MaxRecordSize {
			return PutRecordBatchOutput{}, apierr.New(apierr.InvalidArgument,
				"record %d is %d bytes; a record may be at most %d bytes (1,000 KiB)", i, len(r), MaxRecordSize)
		}
		total += len(r)
		entries[i] = shard.Entry{PartitionKey: "firehose", Data: r}
	}
	if total > MaxBatchBytes {
		return PutRecordBatchOutput{}, apierr.New(apierr.InvalidArgument,
			"the records total %d bytes; PutRecordBatch takes at most %d bytes (4 MiB): split the batch", total, MaxBatchBytes)
	}
	res, err := s.store.Append(ctx, meta.SourceStream, entries)
	if err != nil {
		if full, ok := errors.AsType[*shard.DiskFullError](err); ok {
			// Firehose's model names ServiceUnavailableException for
			// this; the store refused the whole batch, so nothing of it
			// was stored and the producer may resend all of it.
			return PutRecordBatchOutput{}, apierr.New(apierr.ServiceUnavailableException, "%s", full.Error())
		}
		return PutRecordBatchOutput{}, fmt.Errorf("store records of %s: %w", name, err)
	}
	out := PutRecordBatchOutput{RequestResponses: make([]PutRecordBatchEntry, len(res)), Encrypted: shard.EncryptionTypeOf(res) == shard.EncryptionKMS}
	for i, r := range res {
		if r.ErrorCode != "" {
			// Refused by the store (an injected fault): not accepted.
			out.FailedPutCount++
			total -= len(records[i])
			out.RequestResponses[i] = PutRecordBatchEntry{ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage}
			continue
		}
		out.RequestResponses[i] = PutRecordBatchEntry{RecordId: r.SequenceNumber}
	}
	s.metrics.incoming(name, len(records)-out.FailedPutCount, total)
	return out, nil
}

// UpdateDestination changes the destination's configuration. The update's
// members replace the current ones; members it leaves out keep their
// values. The destination kind cannot change.
func (s *Service) UpdateDestination(ctx context.Context, in UpdateDestinationInput) error {
	ds, m, err := s.get(in.DeliveryStreamName)
	if err != nil {
		return err
	}
	if in.DestinationId != destinationID {
		return apierr.New(apierr.InvalidArgument, "DestinationId %q is not a destination of %s; it has %s", in.DestinationId, in.DeliveryStreamName, destinationID)
	}
	if in.CurrentDeliveryStreamVersionId != strconv.Itoa(m.Version) {
		return apierr.New(apierr.ConcurrentModification,
			"CurrentDeliveryStreamVersionId %s does not match the current version %d of %s: describe the delivery stream and retry",
			in.CurrentDeliveryStreamVersionId, m.Version, in.DeliveryStreamName)
	}
	switch {
	case in.ExtendedS3DestinationUpdate != nil && (m.DestKind == "ExtendedS3" || m.DestKind == "S3"):
		merged := mergeJSON(m.S3, in.ExtendedS3DestinationUpdate)
		m.S3, m.DestKind = merged, "ExtendedS3"
	case in.S3DestinationUpdate != nil && (m.DestKind == "ExtendedS3" || m.DestKind == "S3"):
		m.S3 = mergeJSON(m.S3, extendS3(in.S3DestinationUpdate))
	case in.ElasticsearchDestinationUpdate != nil && m.DestKind == "Elasticsearch",
		in.AmazonopensearchserviceDestinationUpdate != nil && m.DestKind == "Amazonopensearchservice":
		upd := in.ElasticsearchDestinationUpdate
		if upd == nil {
			upd = in.AmazonopensearchserviceDestinationUpdate
		}
		m.ES = mergeJSON(m.ES, upd)
	default:
		return apierr.New(apierr.InvalidArgument,
			"the update must be for the delivery stream's destination kind (%s); changing the kind is not supported", m.DestKind)
	}
	if err := s.validateDestination(ctx, &m); err != nil {
		return err
	}
	m.Version++
	m.UpdatedAtMs = s.cfg.now().UnixMilli()
	return s.replace(ctx, ds, m)
}

// mergeJSON overlays the members update sets onto base and returns a copy.
func mergeJSON[T any](base, update *T) *T {
	var out T
	b, _ := json.Marshal(base)
	_ = json.Unmarshal(b, &out)
	u, _ := json.Marshal(update)
	_ = json.Unmarshal(u, &out)
	return &out
}

// replace persists new metadata for a running delivery stream and restarts
// its workers with it. Workers resume from their checkpoints.
func (s *Service) replace(ctx context.Context, ds *deliveryStream, m dsMeta) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.streams[m.Name]
	if !ok || cur != ds || cur.deleting {
		return s.notFound(m.Name)
	}
	// Checked again under the lock: the caller read the version without it.
	if cur.meta.Version != m.Version-1 {
		return apierr.New(apierr.ConcurrentModification,
			"%s changed while this update was prepared (now version %d); describe the delivery stream and retry", m.Name, cur.meta.Version)
	}
	m.Tags = cur.meta.Tags // a concurrent Tag/Untag is kept
	if err := s.store.WriteValues(ctx, valuesNS, putMeta(&m)); err != nil {
		return err
	}
	ds.cancel()
	<-ds.done
	delete(s.streams, m.Name)
	return s.startLocked(m)
}

// TagDeliveryStream adds or overwrites tags.
func (s *Service) TagDeliveryStream(ctx context.Context, name string, tags []Tag) error {
	return s.changeTags(ctx, name, func(byKey map[string]string) error {
		for _, t := range tags {
			byKey[t.Key] = t.Value
		}
		if len(byKey) > MaxTags {
			return apierr.New(apierr.LimitExceeded, "a delivery stream can have at most %d tags; this would make %d", MaxTags, len(byKey))
		}
		return nil
	})
}

// UntagDeliveryStream removes tags; absent keys are ignored.
func (s *Service) UntagDeliveryStream(ctx context.Context, name string, keys []string) error {
	return s.changeTags(ctx, name, func(byKey map[string]string) error {
		for _, k := range keys {
			delete(byKey, k)
		}
		return nil
	})
}

// changeTags applies change to a delivery stream's tags and persists them.
// It holds the lock from read to write, so concurrent changes never lose
// one another; a change that fails changes nothing.
func (s *Service) changeTags(ctx context.Context, name string, change func(byKey map[string]string) error) error {
	if err := validateName(name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ds, ok := s.streams[name]
	if !ok {
		return s.notFound(name)
	}
	byKey := map[string]string{}
	for _, t := range ds.meta.Tags {
		byKey[t.Key] = t.Value
	}
	if err := change(byKey); err != nil {
		return err
	}
	m := ds.meta
	m.Tags = sortedTags(byKey)
	if err := s.store.WriteValues(ctx, valuesNS, putMeta(&m)); err != nil {
		return err
	}
	ds.meta = m
	return nil
}

// ListTagsForDeliveryStream lists tags in key order after exclusiveStart, at
// most limit (0 means 50).
func (s *Service) ListTagsForDeliveryStream(ctx context.Context, name, exclusiveStart string, limit int) ([]Tag, bool, error) {
	_, m, err := s.get(name)
	if err != nil {
		return nil, false, err
	}
	if limit == 0 {
		limit = MaxTags
	}
	if limit < 1 || limit > MaxTags {
		return nil, false, apierr.New(apierr.InvalidArgument, "Limit must be 1 to %d (got %d)", MaxTags, limit)
	}
	var out []Tag
	for _, t := range m.Tags {
		if t.Key > exclusiveStart {
			out = append(out, t)
		}
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

func sortedTags(byKey map[string]string) []Tag {
	out := make([]Tag, 0, len(byKey))
	for k, v := range byKey {
		out = append(out, Tag{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// start starts a delivery stream's workers.
func (s *Service) start(m dsMeta) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.startLocked(m)
}
