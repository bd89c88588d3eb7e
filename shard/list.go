package shard

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"sort"
	"time"

	"github.com/spatehq/spate/apierr"
)

// pageToken is the decoded form of the NextToken of ListStreams and
// ListShards. Tokens are base64 JSON: they carry no secret, only a position,
// and expire after NextTokenTTL as Kinesis' do.
type pageToken struct {
	Kind       string          `json:"k"`
	After      string          `json:"a"`           // last stream name, or last shard index as text
	Stream     string          `json:"s,omitempty"` // ListShards
	CreatedMs  int64           `json:"c,omitempty"`
	Filter     ShardFilterType `json:"f,omitempty"`
	FilterMs   int64           `json:"fm,omitempty"`
	FilterFrom string          `json:"fs,omitempty"`
	IssuedMs   int64           `json:"t"`
}

func (s *Store) encodeToken(t pageToken) string {
	t.IssuedMs = s.cfg.now().UnixMilli()
	b, _ := json.Marshal(t) // a struct of strings and ints always encodes
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Store) decodeToken(tok, kind string) (pageToken, error) {
	var t pageToken
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err != nil || t.Kind != kind {
		return pageToken{}, apierr.New(apierr.InvalidArgument,
			"NextToken is invalid: pass the NextToken of the previous %s response unchanged", kind)
	}
	if s.cfg.now().UnixMilli()-t.IssuedMs > NextTokenTTL.Milliseconds() {
		return pageToken{}, apierr.New(apierr.ExpiredNextToken,
			"NextToken has expired (tokens are valid for %s); start the listing again without a NextToken", NextTokenTTL)
	}
	return t, nil
}

// ListStreams lists streams in name order, one page at a time.
func (s *Store) ListStreams(ctx context.Context, in ListStreamsInput) (ListStreamsOutput, error) {
	limit := in.Limit
	if limit == 0 {
		limit = DefaultListStreams
	}
	if limit < 1 || limit > MaxListLimit {
		return ListStreamsOutput{}, apierr.New(apierr.InvalidArgument, "Limit must be 1 to %d (got %d)", MaxListLimit, limit)
	}
	after := in.ExclusiveStartStreamName
	if in.NextToken != "" {
		t, err := s.decodeToken(in.NextToken, "ListStreams")
		if err != nil {
			return ListStreamsOutput{}, err
		}
		after = t.After
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	names := make([]string, 0, len(s.streams))
	for name, st := range s.streams {
		if name > after && !st.meta.Internal {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var out ListStreamsOutput
	if len(names) > limit {
		names = names[:limit]
		out.HasMoreStreams = true
		out.NextToken = s.encodeToken(pageToken{Kind: "ListStreams", After: names[len(names)-1]})
	}
	for _, name := range names {
		st := s.streams[name]
		out.Streams = append(out.Streams, StreamSummary{
			Name: name, ARN: s.StreamARN(name), Status: s.status(&st.meta), Mode: st.meta.Mode,
			CreatedAt: fromMillis(st.meta.CreatedAtMs),
		})
	}
	return out, nil
}

// AllShards lists every shard of a stream, open and closed, following
// ListShards' pages: the in-process readers (Firehose and Analytics sources,
// which follow resharding) need the whole lineage, which after many
// reshards can exceed one page.
func (s *Store) AllShards(ctx context.Context, stream string) ([]ShardInfo, error) {
	in := ListShardsInput{Stream: stream, MaxResults: MaxListLimit}
	var all []ShardInfo
	for {
		out, err := s.ListShards(ctx, in)
		if err != nil {
			return nil, err
		}
		all = append(all, out.Shards...)
		if out.NextToken == "" {
			return all, nil
		}
		in = ListShardsInput{NextToken: out.NextToken, MaxResults: MaxListLimit}
	}
}

// ListShards lists a stream's shards, one page at a time, narrowed by an
// optional filter. Either in.Stream or in.NextToken is set.
func (s *Store) ListShards(ctx context.Context, in ListShardsInput) (ListShardsOutput, error) {
	limit := in.MaxResults
	if limit == 0 {
		limit = DefaultListShards
	}
	if limit < 1 || limit > MaxListLimit {
		return ListShardsOutput{}, apierr.New(apierr.InvalidArgument, "MaxResults must be 1 to %d (got %d)", MaxListLimit, limit)
	}
	name, after := in.Stream, -1
	filter := in.Filter
	var createdMs int64
	switch {
	case in.NextToken != "" && in.Stream != "":
		return ListShardsOutput{}, apierr.New(apierr.InvalidArgument,
			"NextToken and StreamName cannot be provided together.")
	case in.NextToken != "":
		// The token names the stream and the position; AWS refuses the
		// parameters that would contradict it.
		if in.ExclusiveStartShardID != "" {
			return ListShardsOutput{}, apierr.New(apierr.InvalidArgument,
				"NextToken and ExclusiveStartShardId cannot be provided together.")
		}
		if in.StreamCreatedAt != nil {
			return ListShardsOutput{}, apierr.New(apierr.InvalidArgument,
				"NextToken and StreamCreationTimestamp cannot be provided together.")
		}
		t, err := s.decodeToken(in.NextToken, "ListShards")
		if err != nil {
			return ListShardsOutput{}, err
		}
		name, createdMs = t.Stream, t.CreatedMs
		if idx, ok := parseShardID(t.After); ok {
			after = int(idx)
		}
		if t.Filter != "" {
			filter = &ShardFilter{Type: t.Filter, ShardID: t.FilterFrom}
			if t.FilterMs != 0 {
				filter.Timestamp = fromMillis(t.FilterMs)
			}
		}
	case in.Stream == "":
		return ListShardsOutput{}, apierr.New(apierr.InvalidArgument, "either StreamName, StreamARN or NextToken must be provided")
	}
	if in.ExclusiveStartShardID != "" {
		idx, ok := parseShardID(in.ExclusiveStartShardID)
		if !ok {
			return ListShardsOutput{}, apierr.New(apierr.InvalidArgument,
				"ExclusiveStartShardId %q is not a shard id such as shardId-000000000000", in.ExclusiveStartShardID)
		}
		after = int(idx)
	}
	keep, err := s.shardFilter(filter)
	if err != nil {
		return ListShardsOutput{}, err
	}

	s.mu.RLock()
	defer s.mu.RUnlock()
	st, err := s.lookup(name)
	if err != nil {
		return ListShardsOutput{}, err
	}
	if status := s.status(&st.meta); status == StatusCreating {
		// The Kinesis Client Library reads this as "not ACTIVE yet". An
		// UPDATING stream lists its shards, as in Kinesis.
		return ListShardsOutput{}, apierr.New(apierr.ResourceInUse,
			"Stream %s under account %s is %s; list its shards once it is ACTIVE", name, s.cfg.accountID, status)
	}
	if in.StreamCreatedAt != nil && toMillis(*in.StreamCreatedAt) != st.meta.CreatedAtMs {
		return ListShardsOutput{}, apierr.New(apierr.ResourceNotFound,
			"Stream %s created at %s under account %s not found; the stream of that name was created at %s",
			name, in.StreamCreatedAt.UTC().Format(time.RFC3339Nano), s.cfg.accountID, fromMillis(st.meta.CreatedAtMs).Format(time.RFC3339Nano))
	}
	if createdMs != 0 && createdMs != st.meta.CreatedAtMs {
		return ListShardsOutput{}, apierr.New(apierr.ExpiredNextToken,
			"NextToken belongs to an earlier stream named %s, which was deleted; list again without a NextToken", name)
	}
	trimHorizon := s.cfg.now().Add(-time.Duration(st.meta.RetentionHours) * time.Hour).UnixMilli()
	var out ListShardsOutput
	for _, sm := range st.meta.Shards {
		if int(sm.Index) <= after || !keep(sm, trimHorizon) {
			continue
		}
		if len(out.Shards) == limit {
			last := out.Shards[len(out.Shards)-1].ShardID
			t := pageToken{Kind: "ListShards", After: last, Stream: name, CreatedMs: st.meta.CreatedAtMs}
			if filter != nil {
				t.Filter, t.FilterFrom = filter.Type, filter.ShardID
				if !filter.Timestamp.IsZero() {
					t.FilterMs = toMillis(filter.Timestamp)
				}
			}
			out.NextToken = s.encodeToken(t)
			break
		}
		out.Shards = append(out.Shards, s.shardInfo(st, sm))
	}
	return out, nil
}

// shardFilter returns the predicate of a ListShards filter.
func (s *Store) shardFilter(f *ShardFilter) (func(m shardMeta, trimHorizonMs int64) bool, error) {
	all := func(shardMeta, int64) bool { return true }
	if f == nil {
		return all, nil
	}
	// As AWS documents the filters: a shard is open at ms when it started at
	// or before ms (a shard the stream was created with counts as open from
	// the beginning) and is still open or ended at or after ms; "from" ms
	// takes every shard open at ms or created since, that is every shard
	// still open or ended at or after ms.
	openAt := func(ms int64) func(shardMeta, int64) bool {
		return func(m shardMeta, _ int64) bool {
			return (m.Parent == nil || m.CreatedAtMs <= ms) && (!m.closed() || m.ClosedAtMs >= ms)
		}
	}
	from := func(m shardMeta, ms int64) bool { return !m.closed() || m.ClosedAtMs >= ms }
	switch f.Type {
	case FilterAfterShardID:
		idx, ok := parseShardID(f.ShardID)
		if !ok {
			return nil, apierr.New(apierr.InvalidArgument,
				"ShardFilter AFTER_SHARD_ID needs ShardId, a shard id such as shardId-000000000000 (got %q)", f.ShardID)
		}
		return func(m shardMeta, _ int64) bool { return m.Index > idx }, nil
	case FilterAtTrimHorizon:
		return func(m shardMeta, th int64) bool { return openAt(th)(m, th) }, nil
	case FilterFromTrimHorizon:
		return from, nil
	case FilterAtLatest:
		return func(m shardMeta, _ int64) bool { return !m.closed() }, nil
	case FilterAtTimestamp, FilterFromTimestamp:
		if f.Timestamp.IsZero() {
			return nil, apierr.New(apierr.InvalidArgument, "ShardFilter %s needs a Timestamp", f.Type)
		}
		ms := toMillis(f.Timestamp)
		if f.Type == FilterAtTimestamp {
			return openAt(ms), nil
		}
		// A timestamp before the trim horizon is corrected to it.
		return func(m shardMeta, th int64) bool { return from(m, max(ms, th)) }, nil
	}
	return nil, apierr.New(apierr.InvalidArgument,
		"ShardFilter type %q is invalid: use AFTER_SHARD_ID, AT_TRIM_HORIZON, FROM_TRIM_HORIZON, AT_LATEST, AT_TIMESTAMP or FROM_TIMESTAMP", f.Type)
}
