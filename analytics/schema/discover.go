package schema

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/shard"
)

// Sample sizes of Discover.
const (
	DefaultLimit = 100
	MaxLimit     = 10000
)

// firstLookback is the first window Discover reads; each retry reads a
// window lookbackGrowth times longer, until it reaches the stream's
// creation.
const (
	firstLookback  = 10 * time.Second
	lookbackGrowth = 8
)

// readBatch is the most records Discover reads per call.
const readBatch = 1000

// Discover samples the most recent limit records of stream (DefaultLimit
// when limit is 0) across all its shards and proposes a schema for them
// with Infer.
//
// Shards can only be read forward, so it reads every shard from a point in
// time up to the records that existed when it started, starting 10 s ago
// and looking 8 times further back each time fewer than limit records
// arrived since, until it reads from the stream's creation. Of what it
// read, it keeps the limit records with the latest arrival times.
func Discover(ctx context.Context, store *shard.Store, stream string, limit int) (Schema, error) {
	return discover(ctx, store, stream, limit, time.Now())
}

// discover is Discover at the time now (the store's clock in tests).
func discover(ctx context.Context, store *shard.Store, stream string, limit int, now time.Time) (Schema, error) {
	// Internal streams (a delivery stream's buffer) are not a user's to
	// read: refused by name, as the Kinesis API refuses them.
	if err := shard.ValidateStreamName(stream); err != nil {
		return Schema{}, err
	}
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLimit {
		return Schema{}, apierr.New(apierr.InvalidArgument, "the sample limit must be 1 to %d records, got %d", MaxLimit, limit)
	}
	desc, err := store.DescribeStreamSummary(ctx, stream)
	if err != nil {
		return Schema{}, fmt.Errorf("discover schema of %s: %w", stream, err)
	}
	shards, err := listShards(ctx, store, stream)
	if err != nil {
		return Schema{}, fmt.Errorf("discover schema of %s: %w", stream, err)
	}
	// The records to sample are those before each shard's tip now: a
	// busy stream must not keep the read going.
	ends := make([]string, len(shards))
	for i, id := range shards {
		c, err := store.Seek(ctx, stream, id, shard.Position{Type: shard.Latest})
		if err != nil {
			return Schema{}, fmt.Errorf("discover schema of %s: %w", stream, err)
		}
		ends[i] = c.SequenceNumber()
	}

	var sample []shard.Record
	for lookback := firstLookback; ; lookback *= lookbackGrowth {
		pos := shard.Position{Type: shard.AtTimestamp, Timestamp: now.Add(-lookback)}
		fromStart := !pos.Timestamp.After(desc.CreatedAt)
		if fromStart {
			pos = shard.Position{Type: shard.TrimHorizon}
		}
		sample = sample[:0]
		read := 0
		for i, id := range shards {
			recs, n, err := readLast(ctx, store, stream, id, pos, ends[i], limit)
			if err != nil {
				return Schema{}, fmt.Errorf("discover schema of %s: %w", stream, err)
			}
			sample = append(sample, recs...)
			read += n
		}
		if read >= limit || fromStart {
			break
		}
	}
	// Oldest first; the shards' own orders are kept for equal times.
	sort.SliceStable(sample, func(i, j int) bool { return sample[i].ArrivalTime.Before(sample[j].ArrivalTime) })
	if len(sample) > limit {
		sample = sample[len(sample)-limit:]
	}
	data := make([][]byte, len(sample))
	for i, r := range sample {
		data[i] = r.Data
	}
	s := Infer(data)
	s.Stream = stream
	return s, nil
}

// listShards lists every shard of stream, open or closed.
func listShards(ctx context.Context, store *shard.Store, stream string) ([]string, error) {
	var ids []string
	in := shard.ListShardsInput{Stream: stream}
	for {
		out, err := store.ListShards(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, s := range out.Shards {
			ids = append(ids, s.ShardID)
		}
		if out.NextToken == "" {
			return ids, nil
		}
		in = shard.ListShardsInput{NextToken: out.NextToken}
	}
}

// readLast reads a shard from pos to the record before end and returns the
// last limit records it read (oldest first) and how many it read in all.
func readLast(ctx context.Context, store *shard.Store, stream, shardID string, pos shard.Position, end string, limit int) ([]shard.Record, int, error) {
	c, err := store.Seek(ctx, stream, shardID, pos)
	if err != nil {
		return nil, 0, err
	}
	// A ring of the last limit records read; read counts them all.
	ring := make([]shard.Record, 0, min(limit, readBatch))
	read := 0
	for {
		res, err := store.Read(ctx, c, readBatch, shard.MaxGetRecordsBytes)
		if err != nil {
			return nil, 0, err
		}
		for _, r := range res.Records {
			// Sequence numbers of one shard have one length, so they
			// compare as strings.
			if r.SequenceNumber >= end {
				return unring(ring, read, limit), read, nil
			}
			if len(ring) < limit {
				ring = append(ring, r)
			} else {
				ring[read%limit] = r
			}
			read++
		}
		if len(res.Records) == 0 || res.ShardEnded {
			return unring(ring, read, limit), read, nil
		}
		c = res.Next
	}
}

// unring puts a full ring back in order: its oldest record is at
// read%limit.
func unring(ring []shard.Record, read, limit int) []shard.Record {
	if read <= limit {
		return ring
	}
	k := read % limit
	return append(ring[k:len(ring):len(ring)], ring[:k]...)
}
