package shard

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/spatehq/spate/apierr"
)

// ShardPosition is where a shard stands, for trackers of readers'
// positions (consumer groups, package groups).
type ShardPosition struct {
	ShardID string
	// Parents are the shards a reshard closed to open this one (none for
	// a shard of the stream's creation; gone parents included).
	Parents []string
	// Latest is the sequence number of the shard's newest readable record,
	// or its StartingSequenceNumber when it has none: reading after it
	// reads every record written from now on.
	Latest string
	// Closed is set once a reshard closed the shard; Ending is then its
	// EndingSequenceNumber.
	Closed bool
	Ending string
}

// StreamPositions is an ACTIVE stream's shards, in shard order, without
// those retention dropped.
type StreamPositions struct {
	Stream string
	// ID tells a stream from an earlier one of the same name: it is never
	// reused.
	ID     uint32
	Shards []ShardPosition
}

// Positions returns where every shard of an ACTIVE stream stands.
func (s *Store) Positions(ctx context.Context, name string) (StreamPositions, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, err := s.lookupActive(name)
	if err != nil {
		return StreamPositions{}, err
	}
	out := StreamPositions{Stream: st.name, ID: st.id, Shards: make([]ShardPosition, 0, len(st.meta.Shards))}
	for _, m := range st.meta.Shards {
		if int(m.Index) >= len(st.shards) || st.shards[m.Index].gone.Load() {
			continue
		}
		sh := st.shards[m.Index]
		p := ShardPosition{ShardID: sh.id, Latest: formatSeq(st.id, m.Index, max(sh.next.Load(), 1)-1)}
		if m.Parent != nil {
			p.Parents = append(p.Parents, ShardID(*m.Parent))
		}
		if m.AdjacentParent != nil {
			p.Parents = append(p.Parents, ShardID(*m.AdjacentParent))
		}
		if m.closed() {
			p.Closed, p.Ending = true, formatSeq(st.id, m.Index, m.EndingCounter)
		}
		out.Shards = append(out.Shards, p)
	}
	return out, nil
}

// SequencePosition is a sequence number taken apart.
type SequencePosition struct {
	StreamID uint32
	Shard    string
	// Counter is the record's position in its shard; 0 is the shard's
	// StartingSequenceNumber, records count from 1.
	Counter uint64
}

// ParseSequenceNumber takes a sequence number this store issued apart; an
// invalid one is an InvalidArgumentException.
func ParseSequenceNumber(seq string) (SequencePosition, error) {
	if len(seq) > SequenceNumberLen {
		// Not echoed: a peer's string of any length would be copied into
		// the error and the log.
		return SequencePosition{}, apierr.New(apierr.InvalidArgument,
			"a sequence number has %d digits; got %d characters", SequenceNumberLen, len(seq))
	}
	id, idx, ctr, err := parseSeq(seq)
	if err != nil {
		return SequencePosition{}, apierr.New(apierr.InvalidArgument,
			"sequence number %q is invalid: use one returned by PutRecord, PutRecords or GetRecords", seq)
	}
	return SequencePosition{StreamID: id, Shard: ShardID(idx), Counter: ctr}, nil
}

// FormatSequenceNumber renders a sequence number; it is
// ParseSequenceNumber's inverse.
func FormatSequenceNumber(p SequencePosition) string {
	idx, _ := parseShardID(p.Shard)
	return formatSeq(p.StreamID, idx, p.Counter)
}

// Lag says how far a reader that processed a shard up to the record after
// is behind the shard's newest record: the records in between (counters
// can skip after an unclean shutdown, so it is an upper bound) and the age
// of the first record after it, by the store's clock (0 when there is
// none). after is a sequence number of the shard, or "" for its start.
// It reads no record, so it counts no outgoing traffic.
func (s *Store) Lag(ctx context.Context, name, shardID, after string) (records, millis int64, err error) {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	s.mu.RLock()
	st, sh, err := s.resolveShard(name, shardID)
	s.mu.RUnlock()
	if err != nil {
		return 0, 0, err
	}
	var ctr uint64
	if after != "" {
		id, idx, c, err := parseSeq(after)
		if err != nil || id != st.id || idx != sh.index {
			return 0, 0, apierr.New(apierr.InvalidArgument, "sequence number %s is not of shard %s of stream %s", after, shardID, name)
		}
		ctr = c
	}
	next := sh.next.Load()
	if next <= ctr+1 {
		return 0, 0, nil
	}
	records = int64(next - 1 - ctr)
	lower := recordKey(sh.streamID, sh.index, ctr+1)
	upper := recordKey(sh.streamID, sh.index, next)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return 0, 0, fmt.Errorf("lag of %s: %w", shardID, err)
	}
	defer it.Close()
	if it.First() && len(it.Value()) >= 8 {
		// Every record value starts with its arrival ms, whose top bit
		// marks a sealed one (see the package doc).
		arrival := int64(binary.BigEndian.Uint64(it.Value()[:8]) &^ (1 << 63))
		millis = max(0, s.cfg.now().Sub(time.UnixMilli(arrival)).Milliseconds())
	}
	return records, millis, it.Error()
}
