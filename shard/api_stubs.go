package shard

import (
	"context"
	"log/slog"
	"time"
)

// Store is a Kinesis-style stream store in one Pebble database.
type Store struct{}

// Option configures Open.
type Option func(*config)

type config struct{}

// Durability says whether appends are fsynced before they are acknowledged.
type Durability int

const (
	// DurabilitySync fsyncs the WAL before an append returns (group commit).
	DurabilitySync Durability = iota
	// DurabilityRelaxed acknowledges appends before the WAL is fsynced.
	DurabilityRelaxed
)

func WithDurability(d Durability) Option             { panic("stub") }
func WithCreateDelay(d time.Duration) Option         { panic("stub") }
func WithRegion(region string) Option                { panic("stub") }
func WithAccountID(account string) Option            { panic("stub") }
func WithShardLimit(n int) Option                    { panic("stub") }
func WithLogger(l *slog.Logger) Option               { panic("stub") }
func WithTrimInterval(d time.Duration) Option        { panic("stub") }
func ParseDurability(s string) (Durability, error)   { panic("stub") }
func Open(dir string, opts ...Option) (*Store, error) { panic("stub") }
func (s *Store) Close() error                        { panic("stub") }

// ResolveStream returns the stream name that a request's StreamName and/or
// StreamARN designate (either may be empty, not both; when both are given
// they must agree).
func (s *Store) ResolveStream(name, arn string) (string, error) { panic("stub") }
func (s *Store) StreamARN(name string) string                   { panic("stub") }
func (s *Store) CreateStream(ctx context.Context, in CreateStreamInput) error {
	panic("stub")
}
func (s *Store) DeleteStream(ctx context.Context, name string) error { panic("stub") }
func (s *Store) DescribeStream(ctx context.Context, name string, limit int, exclusiveStartShardID string) (StreamDescription, error) {
	panic("stub")
}
func (s *Store) DescribeStreamSummary(ctx context.Context, name string) (StreamDescription, error) {
	panic("stub")
}
func (s *Store) ListStreams(ctx context.Context, in ListStreamsInput) (ListStreamsOutput, error) {
	panic("stub")
}
func (s *Store) ListShards(ctx context.Context, in ListShardsInput) (ListShardsOutput, error) {
	panic("stub")
}
func (s *Store) IncreaseRetention(ctx context.Context, name string, hours int) error { panic("stub") }
func (s *Store) DecreaseRetention(ctx context.Context, name string, hours int) error { panic("stub") }
func (s *Store) AddTags(ctx context.Context, name string, tags map[string]string) error {
	panic("stub")
}
func (s *Store) RemoveTags(ctx context.Context, name string, keys []string) error { panic("stub") }

// Tag is a stream tag.
type Tag struct{ Key, Value string }

func (s *Store) ListTags(ctx context.Context, name, exclusiveStartKey string, limit int) ([]Tag, bool, error) {
	panic("stub")
}
func (s *Store) Limits(ctx context.Context) (Limits, error) { panic("stub") }
func (s *Store) Append(ctx context.Context, stream string, entries []Entry) ([]AppendResult, error) {
	panic("stub")
}
func (s *Store) ShardIterator(ctx context.Context, stream, shardID string, pos Position) (string, error) {
	panic("stub")
}
func (s *Store) GetRecords(ctx context.Context, iterator string, limit int) (GetRecordsOutput, error) {
	panic("stub")
}

// Cursor is an in-process read position in one shard.
type Cursor struct{}

// ReadResult is what Read returns.
type ReadResult struct {
	Records            []Record
	Next               Cursor
	MillisBehindLatest int64
	ShardEnded         bool
	ChildShards        []ChildShard
}

func (s *Store) Seek(ctx context.Context, stream, shardID string, pos Position) (Cursor, error) {
	panic("stub")
}
func (s *Store) Read(ctx context.Context, c Cursor, limit, maxBytes int) (ReadResult, error) {
	panic("stub")
}
func (s *Store) Wait(ctx context.Context, c Cursor) error { panic("stub") }
func (s *Store) Subscribe(ctx context.Context, stream, shardID string, pos Position, fn func(ReadResult) error) error {
	panic("stub")
}
