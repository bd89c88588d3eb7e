package destination

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/firehose"
	"github.com/spatehq/spate/firehose/s3store"
	"github.com/spatehq/spate/shard"
)

// DeliveryStreams is what the Sender needs of Firehose; *firehose.Service
// implements it.
type DeliveryStreams interface {
	// ARN returns the ARN of the delivery stream name.
	ARN(name string) string
	// DirectPutStream fails unless name is a DirectPut delivery stream.
	DirectPutStream(name string) (string, error)
	// PutRecord appends one record, durable when it returns.
	PutRecord(ctx context.Context, name string, data []byte) (string, error)
}

var _ DeliveryStreams = (*firehose.Service)(nil)

// Sender delivers invocation records. Each kind of destination needs its
// service (WithStore, WithFirehose, WithS3); a destination whose service
// is missing is refused by Check and Send. A Sender is safe for concurrent
// use.
type Sender struct {
	store    *shard.Store
	firehose DeliveryStreams
	s3       *s3store.Client
	now      func() time.Time
}

// Option configures a Sender.
type Option func(*Sender)

// WithStore lets the Sender write to streams of store.
func WithStore(store *shard.Store) Option { return func(s *Sender) { s.store = store } }

// WithFirehose lets the Sender write to DirectPut delivery streams.
func WithFirehose(fh DeliveryStreams) Option { return func(s *Sender) { s.firehose = fh } }

// WithS3 lets the Sender write objects to buckets of the S3 store c talks
// to (the server's --s3-* settings, as Firehose uses).
func WithS3(c *s3store.Client) Option { return func(s *Sender) { s.s3 = c } }

// WithClock sets the clock that dates an S3 object when the record has no
// timestamp (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Sender) { s.now = now } }

// New returns a Sender. With no options it serves no destination.
func New(opts ...Option) *Sender {
	s := &Sender{now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Check is Validate plus: the destination's service is configured, and a
// stream or delivery stream exists (in this server's region and account)
// and takes records. A bucket is not looked up: the S3 store may be down
// for a while without the mapping being wrong. Errors are *apierr.Error
// InvalidParameterValueException.
func (s *Sender) Check(ctx context.Context, arn string) error {
	t, err := Parse(arn)
	if err != nil {
		return err
	}
	switch t.Kind {
	case Stream:
		if s.store == nil {
			return invalid("this server serves no streams as on-failure destinations")
		}
		name, err := s.store.ResolveStream("", arn)
		if err == nil {
			_, err = s.store.DescribeStreamSummary(ctx, name)
		}
		if err != nil {
			return invalid(fmt.Sprintf("the destination stream %s: %s", arn, apierr.MessageOf(err)))
		}
	case DeliveryStream:
		if s.firehose == nil {
			return invalid("this server serves no delivery streams as on-failure destinations")
		}
		if s.firehose.ARN(t.Name) != arn {
			return invalid(fmt.Sprintf("the destination %s is not in this server's region and account (its delivery streams are %s)", arn, s.firehose.ARN("NAME")))
		}
		if _, err := s.firehose.DirectPutStream(t.Name); err != nil {
			return invalid(fmt.Sprintf("the destination delivery stream %s: %s", arn, apierr.MessageOf(err)))
		}
	case Bucket:
		if s.s3 == nil {
			return invalid(fmt.Sprintf("the destination %s is an S3 bucket but this server has no S3 store (start it with --s3-endpoint)", arn))
		}
	}
	return nil
}

// SendOption sets a property of one Send.
type SendOption func(*sendOptions)

type sendOptions struct {
	mappingUUID string
}

// MappingUUID names the event source mapping the record is about. S3
// object keys carry it (aws/lambda/<ESM-UUID>/...), as AWS names them.
// Without it the key carries a UUID derived from the record's function and
// stream ARNs instead, stable for the mapping (Lambda allows one mapping
// per function and stream).
func MappingUUID(uuid string) SendOption {
	return func(o *sendOptions) { o.mappingUUID = uuid }
}

// Send delivers one invocation record (a JSON document) to the destination
// arn names:
//
//   - a stream: one record whose partition key is the failed batch's shard
//     ID (KinesisBatchInfo.shardId), so the reports of one source shard
//     stay in order in one destination shard;
//   - a delivery stream: one record, the document followed by a newline so
//     that delivered objects are JSON lines (Lambda has no Firehose
//     destination; this is Spate's choice);
//   - a bucket: one object, application/json, keyed as AWS documents for
//     Kinesis on-failure destinations:
//     aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<random UUID>,
//     dated by the record's "timestamp" (UTC). AWS's S3 records also carry
//     the batch's event as "payload": the caller builds that (NeedsPayload).
//
// When Send returns nil the record is durable. Send does not keep record.
// Its errors wrap the target's: the caller decides whether to retry.
func (s *Sender) Send(ctx context.Context, arn string, record []byte, opts ...SendOption) error {
	var o sendOptions
	for _, opt := range opts {
		opt(&o)
	}
	t, err := Parse(arn)
	if err != nil {
		return err
	}
	info, err := parseRecord(record)
	if err != nil {
		return err
	}
	switch t.Kind {
	case Stream:
		return s.toStream(ctx, arn, info, record)
	case DeliveryStream:
		return s.toDeliveryStream(ctx, t.Name, record)
	case Bucket:
		return s.toBucket(ctx, t.Name, info, o, record)
	}
	return nil
}

// NeedsPayload reports whether records sent to arn carry the batch's
// event as "payload", as AWS's S3 destinations do (its SQS and SNS
// destinations, and Spate's streams and delivery streams, carry only the
// metadata).
func NeedsPayload(arn string) bool {
	t, err := Parse(arn)
	return err == nil && t.Kind == Bucket
}

func (s *Sender) toStream(ctx context.Context, arn string, info recordInfo, record []byte) error {
	if s.store == nil {
		return invalid("this server serves no streams as on-failure destinations")
	}
	name, err := s.store.ResolveStream("", arn)
	if err != nil {
		return fmt.Errorf("on-failure destination %s: %w", arn, err)
	}
	key := info.KinesisBatchInfo.ShardID
	if key == "" {
		key = info.RequestContext.RequestID
	}
	if key == "" {
		key = newUUID()
	}
	res, err := s.store.Append(ctx, name, []shard.Entry{{PartitionKey: key, Data: record}})
	if err != nil {
		return fmt.Errorf("on-failure destination %s: %w", arn, err)
	}
	if r := res[0]; r.ErrorCode != "" {
		return fmt.Errorf("on-failure destination %s: %w", arn, &apierr.Error{Code: apierr.Code(r.ErrorCode), Message: r.ErrorMessage})
	}
	return nil
}

func (s *Sender) toDeliveryStream(ctx context.Context, name string, record []byte) error {
	if s.firehose == nil {
		return invalid("this server serves no delivery streams as on-failure destinations")
	}
	data := record
	if !bytes.HasSuffix(record, []byte("\n")) {
		data = make([]byte, 0, len(record)+1)
		data = append(append(data, record...), '\n')
	}
	if _, err := s.firehose.PutRecord(ctx, name, data); err != nil {
		return fmt.Errorf("on-failure delivery stream %s: %w", name, err)
	}
	return nil
}

func (s *Sender) toBucket(ctx context.Context, bucket string, info recordInfo, o sendOptions, record []byte) error {
	if s.s3 == nil {
		return invalid(fmt.Sprintf("the on-failure destination is the S3 bucket %s but this server has no S3 store", bucket))
	}
	key := s.objectKey(info, o)
	if err := s.s3.Put(ctx, bucket, key, record, "application/json"); err != nil {
		return fmt.Errorf("on-failure bucket: %w", err)
	}
	return nil
}

// objectKey is aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<random UUID>.
func (s *Sender) objectKey(info recordInfo, o sendOptions) string {
	mapping := o.mappingUUID
	if mapping == "" {
		mapping = derivedUUID(info.RequestContext.FunctionARN + "\n" + info.KinesisBatchInfo.StreamARN)
	}
	shardID := info.KinesisBatchInfo.ShardID
	if shardID == "" {
		shardID = "unknown-shard"
	}
	at, err := time.Parse(time.RFC3339Nano, info.Timestamp)
	if err != nil {
		at = s.now()
	}
	at = at.UTC()
	return fmt.Sprintf("aws/lambda/%s/%s/%s/%s-%s", mapping, shardID, at.Format("2006/01/02"), at.Format("2006-01-02T15.04.05"), newUUID())
}

// recordInfo is what Send reads of an invocation record.
type recordInfo struct {
	RequestContext struct {
		RequestID   string `json:"requestId"`
		FunctionARN string `json:"functionArn"`
	} `json:"requestContext"`
	Timestamp        string `json:"timestamp"`
	KinesisBatchInfo struct {
		ShardID   string `json:"shardId"`
		StreamARN string `json:"streamArn"`
	} `json:"KinesisBatchInfo"`
}

func parseRecord(record []byte) (recordInfo, error) {
	var info recordInfo
	if err := json.Unmarshal(record, &info); err != nil {
		return recordInfo{}, fmt.Errorf("invocation record is not a JSON object: %w", err)
	}
	return info, nil
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return formatUUID(b, 4)
}

// derivedUUID returns a name-based (version 5 layout, SHA-1) UUID of name.
func derivedUUID(name string) string {
	sum := sha1.Sum([]byte(name))
	var b [16]byte
	copy(b[:], sum[:16])
	return formatUUID(b, 5)
}

func formatUUID(b [16]byte, version byte) string {
	b[6] = b[6]&0x0f | version<<4
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
