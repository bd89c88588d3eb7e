package main

import (
	"fmt"
	"math/big"

	"github.com/spf13/cobra"

	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// The resharding commands of `spate stream` (issue 13): split, merge and
// scale, over the gRPC API's SplitShard, MergeShards and UpdateShardCount.

func streamReshardCmds() []*cobra.Command {
	return []*cobra.Command{newStreamSplitCmd(), newStreamMergeCmd(), newStreamScaleCmd()}
}

func newStreamSplitCmd() *cobra.Command {
	var hashKey string
	cmd := &cobra.Command{
		Use:   "split STREAM SHARD",
		Short: "Split an open shard in two",
		Long: `Split the open shard SHARD of STREAM in two (Kinesis's SplitShard): the
lower child takes the hash keys below --hash-key, the upper one the rest; both
take the next shard ids and name SHARD as their parent. SHARD closes and stays
readable until retention trims it. Without --hash-key the shard splits in the
middle of its range. The stream is UPDATING for a moment, then ACTIVE; 'spate
stream describe' shows the new shards.`,
		Example: `  spate stream split orders shardId-000000000000
  spate stream split orders 0 --hash-key 85070591730234615865843651857942052864`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			name, shardID := args[0], args[1]
			what := "split shard " + shardID + " of stream " + name
			key := hashKey
			if key == "" {
				d, err := describeAll(cmd.Context(), c.api, name)
				if err != nil {
					return c.fail(what, err)
				}
				if key, err = midpoint(d, shardID); err != nil {
					return fmt.Errorf("%s: %w", what, err)
				}
			}
			if _, err := c.api.SplitShard(cmd.Context(), &spatev1.SplitShardRequest{
				StreamName: name, ShardToSplit: shardID, NewStartingHashKey: key}); err != nil {
				return c.fail(what, err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "split shard %s of stream %s at hash key %s\n", shardID, name, key)
			return err
		},
	}
	cmd.Flags().StringVar(&hashKey, "hash-key", "", "the upper child's starting hash key (decimal; default: the middle of the shard's range)")
	return cmd
}

// midpoint is the hash key in the middle of a shard's range: the upper
// child's start when the range splits in two halves (the lower one the
// larger by one key when the range has an odd number of keys).
func midpoint(d *spatev1.StreamDescription, shardID string) (string, error) {
	for _, s := range d.GetShards() {
		if s.GetShardId() != shardID && !sameShard(s.GetShardId(), shardID) {
			continue
		}
		start, ok1 := new(big.Int).SetString(s.GetHashKeyRange().GetStartingHashKey(), 10)
		end, ok2 := new(big.Int).SetString(s.GetHashKeyRange().GetEndingHashKey(), 10)
		if !ok1 || !ok2 {
			return "", fmt.Errorf("shard %s has an invalid hash-key range %v", shardID, s.GetHashKeyRange())
		}
		mid := new(big.Int).Add(start, end)
		mid.Add(mid, big.NewInt(1))
		return mid.Rsh(mid, 1).String(), nil
	}
	return "", fmt.Errorf("stream %s has no shard %s; 'spate stream describe %s' lists them", d.GetStreamName(), shardID, d.GetStreamName())
}

// sameShard reports whether id, as the server accepts it ("3" or
// "shardId-000000000003"), names the shard full.
func sameShard(full, id string) bool {
	var n uint64
	if _, err := fmt.Sscanf(id, "%d", &n); err != nil || fmt.Sprint(n) != id {
		return false
	}
	return full == fmt.Sprintf("shardId-%012d", n)
}

func newStreamMergeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "merge STREAM SHARD ADJACENT",
		Short: "Merge two adjacent open shards",
		Long: `Merge the open shards SHARD and ADJACENT of STREAM, whose hash-key ranges
must be contiguous, into one (Kinesis's MergeShards): the child takes the next
shard id, with SHARD as its parent and ADJACENT as its adjacent parent. Both
close and stay readable until retention trims them.`,
		Example: `  spate stream merge orders shardId-000000000001 shardId-000000000002`,
		Args:    cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			name := args[0]
			if _, err := c.api.MergeShards(cmd.Context(), &spatev1.MergeShardsRequest{
				StreamName: name, ShardToMerge: args[1], AdjacentShardToMerge: args[2]}); err != nil {
				return c.fail("merge shards "+args[1]+" and "+args[2]+" of stream "+name, err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "merged shards %s and %s of stream %s\n", args[1], args[2], name)
			return err
		},
	}
}

func newStreamScaleCmd() *cobra.Command {
	var shards int
	cmd := &cobra.Command{
		Use:   "scale STREAM --shards N",
		Short: "Scale a stream to N shards of equal hash-key ranges",
		Long: `Scale STREAM to N open shards of equal hash-key ranges (Kinesis's
UpdateShardCount with UNIFORM_SCALING) by splits and merges applied at once.
N is at most double and at least half the open shards, and a stream takes a
limited number of scalings per 24 hours (spate serve --shard-count-updates).
The shards it closes stay readable until retention trims them.`,
		Example: `  spate stream scale orders --shards 8`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if shards < 1 {
				return fmt.Errorf("--shards %d: give the number of shards to scale to, at least 1", shards)
			}
			c, err := dial(cmd)
			if err != nil {
				return err
			}
			defer c.Close()
			name := args[0]
			out, err := c.api.UpdateShardCount(cmd.Context(), &spatev1.UpdateShardCountRequest{
				StreamName: name, TargetShardCount: int32(shards), ScalingType: "UNIFORM_SCALING"})
			if err != nil {
				return c.fail("scale stream "+name, err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "scaled stream %s from %d to %d shards\n", name, out.GetCurrentShardCount(), out.GetTargetShardCount())
			return err
		},
	}
	cmd.Flags().IntVar(&shards, "shards", 0, "the number of open shards to scale to")
	return cmd
}
