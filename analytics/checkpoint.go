package analytics

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
)

// checkpoint is what an application persists, in one value beside the
// output records it commits with (see the package doc's invariant).
//
// Encoding: a 4-byte big-endian length, the JSON of checkpointHeader, then
// the window operator's snapshot (absent for a stateless query).
type checkpoint struct {
	checkpointHeader
	window []byte
}

type checkpointHeader struct {
	// Next maps a shard ID to the sequence number of the next record to
	// read; Last to the last record consumed.
	Next map[string]string `json:"next"`
	Last map[string]string `json:"last,omitempty"`
	// ShardMax maps a shard ID to the highest capped event time read;
	// for a finished shard, the one its children start from.
	ShardMax map[string]int64 `json:"shard_max,omitempty"`
	// Finished lists the shards, closed by a reshard, read to their end:
	// they are not read again, and their children are. Next keeps the
	// shards of the first listing whose parents are not finished yet, at
	// their start position. Absent in checkpoints written before
	// resharding existed: every shard then was open, and a shard not in
	// Next is a child created since, read from its start.
	Finished []string `json:"finished,omitempty"`
	RowsIn   int64    `json:"rows_in"`
	RowsOut  int64    `json:"rows_out"`
	Late     int64    `json:"late"`
	Bad      int64    `json:"bad"`
}

func (c *checkpoint) encode() ([]byte, error) {
	h, err := json.Marshal(c.checkpointHeader)
	if err != nil {
		return nil, fmt.Errorf("encode checkpoint: %w", err)
	}
	out := make([]byte, 4, 4+len(h)+len(c.window))
	binary.BigEndian.PutUint32(out, uint32(len(h)))
	out = append(out, h...)
	return append(out, c.window...), nil
}

func decodeCheckpoint(b []byte) (checkpoint, error) {
	var c checkpoint
	if len(b) < 4 {
		return c, fmt.Errorf("decode checkpoint: %d bytes", len(b))
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(len(b)-4) < uint64(n) {
		return c, fmt.Errorf("decode checkpoint: header of %d bytes in %d", n, len(b))
	}
	if err := json.Unmarshal(b[4:4+n], &c.checkpointHeader); err != nil {
		return c, fmt.Errorf("decode checkpoint: %w", err)
	}
	if rest := b[4+n:]; len(rest) > 0 {
		c.window = rest
	}
	return c, nil
}
