package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/spatehq/spate/shard"
)

// Resharding flags of `spate serve` (issue 13): how many UpdateShardCount
// calls a stream takes per rolling 24 hours.

func addReshardFlags(f *pflag.FlagSet, n *int) {
	f.IntVar(n, "shard-count-updates", shard.DefaultShardCountUpdates,
		"UpdateShardCount calls a stream takes per rolling 24 hours before LimitExceededException (Kinesis: 10; 0: no limit)")
}

// reshardOption is the store option of the flags.
func reshardOption(n int) (shard.Option, error) {
	if n < 0 {
		return nil, fmt.Errorf("--shard-count-updates %d: must not be negative", n)
	}
	return shard.WithShardCountUpdates(n), nil
}
