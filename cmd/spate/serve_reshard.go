package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/spatehq/spate/shard"
)

// Resharding flags of `spate serve` (issue 13): how many UpdateShardCount
// calls a stream takes per rolling 24 hours, and the automatic scaling of
// ON_DEMAND streams (shard.AutoScaling).

// reshardFlags are the flags' values.
type reshardFlags struct {
	scaleCalls int
	auto       shard.AutoScaling
}

func addReshardFlags(f *pflag.FlagSet, r *reshardFlags) {
	f.IntVar(&r.scaleCalls, "shard-count-updates", shard.DefaultShardCountUpdates,
		"UpdateShardCount calls a stream takes per rolling 24 hours before LimitExceededException (Kinesis: 10; 0: no limit)")
	d := shard.DefaultAutoScaling()
	a := &r.auto
	f.BoolVar(&a.Off, "on-demand-scaling-off", false, "do not split and merge the shards of ON_DEMAND streams automatically")
	f.DurationVar(&a.Interval, "on-demand-interval", d.Interval, "how often the write rate of the shards of ON_DEMAND streams is sampled")
	f.Float64Var(&a.SplitRecordsPerSec, "on-demand-split-records", d.SplitRecordsPerSec,
		"split an ON_DEMAND shard that takes more records per second than this for --on-demand-split-after")
	f.Float64Var(&a.SplitBytesPerSec, "on-demand-split-bytes", d.SplitBytesPerSec,
		"split an ON_DEMAND shard that takes more bytes (data and partition keys) per second than this for --on-demand-split-after")
	f.DurationVar(&a.SplitAfter, "on-demand-split-after", d.SplitAfter, "how long a shard stays above a split threshold before it is split")
	f.Float64Var(&a.MergeRecordsPerSec, "on-demand-merge-records", d.MergeRecordsPerSec,
		"merge two adjacent ON_DEMAND shards that each take fewer records per second than this (and fewer bytes than --on-demand-merge-bytes) for --on-demand-merge-after")
	f.Float64Var(&a.MergeBytesPerSec, "on-demand-merge-bytes", d.MergeBytesPerSec, "the bytes per second below which a shard counts as cold")
	f.DurationVar(&a.MergeAfter, "on-demand-merge-after", d.MergeAfter, "how long two neighbours stay cold before they are merged")
	f.IntVar(&a.MinShards, "on-demand-min-shards", d.MinShards, "the fewest open shards merges leave an ON_DEMAND stream with")
}

// reshardOptions are the store options of the flags.
func reshardOptions(r reshardFlags) ([]shard.Option, error) {
	if r.scaleCalls < 0 {
		return nil, fmt.Errorf("--shard-count-updates %d: must not be negative", r.scaleCalls)
	}
	a := r.auto
	for _, c := range []struct {
		name string
		bad  bool
	}{
		{"--on-demand-interval", a.Interval < 0},
		{"--on-demand-split-records", a.SplitRecordsPerSec < 0},
		{"--on-demand-split-bytes", a.SplitBytesPerSec < 0},
		{"--on-demand-split-after", a.SplitAfter < 0},
		{"--on-demand-merge-records", a.MergeRecordsPerSec < 0},
		{"--on-demand-merge-bytes", a.MergeBytesPerSec < 0},
		{"--on-demand-merge-after", a.MergeAfter < 0},
		{"--on-demand-min-shards", a.MinShards < 0},
	} {
		if c.bad {
			return nil, fmt.Errorf("%s: must not be negative", c.name)
		}
	}
	a = a.WithDefaults() // 0 means the default
	if a.MergeRecordsPerSec >= a.SplitRecordsPerSec || a.MergeBytesPerSec >= a.SplitBytesPerSec {
		return nil, fmt.Errorf("--on-demand-merge-records and --on-demand-merge-bytes must be below the split thresholds, or a merged shard would split again")
	}
	return []shard.Option{shard.WithShardCountUpdates(r.scaleCalls), shard.WithAutoScaling(a)}, nil
}
