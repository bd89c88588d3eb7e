package shard

import (
	"crypto/md5"
	"encoding/binary"
	"math/big"

	"github.com/spatehq/spate/apierr"
)

// hashKey is a 128-bit unsigned hash key.
type hashKey struct{ hi, lo uint64 }

func (a hashKey) less(b hashKey) bool { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo) }

func (a hashKey) big() *big.Int {
	v := new(big.Int).SetUint64(a.hi)
	v.Lsh(v, 64)
	return v.Or(v, new(big.Int).SetUint64(a.lo))
}

func (a hashKey) String() string { return a.big().String() }

var maxHashKey = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))

func hashKeyFromBig(v *big.Int) hashKey {
	var b [16]byte
	v.FillBytes(b[:])
	return hashKey{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// partitionHash is MD5(partition key) read as a big-endian uint128.
func partitionHash(pk string) hashKey {
	sum := md5.Sum([]byte(pk))
	return hashKey{binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:])}
}

// parseExplicitHashKey parses a decimal hash key below 2^128.
func parseExplicitHashKey(s string) (hashKey, error) {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok || v.Sign() < 0 || v.Cmp(maxHashKey) > 0 || (len(s) > 1 && s[0] == '0') {
		return hashKey{}, apierr.New(apierr.InvalidArgument,
			"Invalid ExplicitHashKey. ExplicitHashKey must be a decimal integer in the range: [0, 2^128-1] (0 to %s). Specified value was %s", maxHashKey, s)
	}
	return hashKeyFromBig(v), nil
}

// splitHashSpace returns the ranges AWS gives n new shards: shard i covers
// floor(i*2^128/n) to floor((i+1)*2^128/n)-1.
func splitHashSpace(n int) [][2]*big.Int {
	space := new(big.Int).Lsh(big.NewInt(1), 128)
	out := make([][2]*big.Int, n)
	for i := 0; i < n; i++ {
		start := new(big.Int).Mul(space, big.NewInt(int64(i)))
		start.Quo(start, big.NewInt(int64(n)))
		end := new(big.Int).Mul(space, big.NewInt(int64(i+1)))
		end.Quo(end, big.NewInt(int64(n)))
		end.Sub(end, big.NewInt(1))
		out[i] = [2]*big.Int{start, end}
	}
	return out
}
