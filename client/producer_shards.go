package client

import (
	"crypto/md5"
	"fmt"
	"math/big"
	"sort"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// hashKey is a 128-bit Kinesis hash key, big-endian: byte order is
// numeric order.
type hashKey [16]byte

func (a hashKey) less(b hashKey) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// partitionHash is the hash key Kinesis routes a partition key by: its
// MD5 read as a big-endian number.
func partitionHash(pk string) hashKey { return md5.Sum([]byte(pk)) }

// maxHashKey is 2^128-1.
var maxHashKey = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))

// parseHashKey reads a decimal hash key (an explicit hash key, a shard's
// starting hash key).
func parseHashKey(s string) (hashKey, error) {
	var h hashKey
	v, ok := new(big.Int).SetString(s, 10)
	if !ok || v.Sign() < 0 || v.Cmp(maxHashKey) > 0 {
		return h, fmt.Errorf("hash key %q is not a decimal number from 0 to 2^128-1", s)
	}
	v.FillBytes(h[:])
	return h, nil
}

// shardMap is a stream's open shards sorted by starting hash key; open
// shards cover the hash key space without overlap.
type shardMap struct {
	starts []hashKey
	ids    []string
}

// newShardMap builds the map of shards, the open shards of a stream.
func newShardMap(shards []*spatev1.Shard) (*shardMap, error) {
	if len(shards) == 0 {
		return nil, fmt.Errorf("the stream has no open shard")
	}
	type entry struct {
		start hashKey
		id    string
	}
	entries := make([]entry, len(shards))
	for i, s := range shards {
		start, err := parseHashKey(s.GetHashKeyRange().GetStartingHashKey())
		if err != nil {
			return nil, fmt.Errorf("shard %s: %w", s.GetShardId(), err)
		}
		entries[i] = entry{start, s.GetShardId()}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].start.less(entries[j].start) })
	m := &shardMap{starts: make([]hashKey, len(entries)), ids: make([]string, len(entries))}
	for i, e := range entries {
		m.starts[i], m.ids[i] = e.start, e.id
	}
	return m, nil
}

// route returns the shard whose range holds h: the last one starting at
// or before it.
func (m *shardMap) route(h hashKey) string {
	i := sort.Search(len(m.starts), func(i int) bool { return h.less(m.starts[i]) })
	if i == 0 {
		return m.ids[0] // below the first start: only if the map has a hole
	}
	return m.ids[i-1]
}
