package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/spatehq/spate/groups"
	"github.com/spatehq/spate/shard"
)

// groupFlags are the consumer groups' flags.
type groupFlags struct {
	leaseTimeout time.Duration
	maxGroups    int
	maxWorkers   int
}

func addGroupFlags(f *pflag.FlagSet, g *groupFlags) {
	f.DurationVar(&g.leaseTimeout, "group-lease-timeout", groups.DefaultLeaseTimeout,
		fmt.Sprintf("how long a consumer group's lease lasts without a heartbeat, for groups created without one (%v to %v)",
			groups.MinLeaseTimeout, groups.MaxLeaseTimeout))
	f.IntVar(&g.maxGroups, "group-max-per-stream", groups.DefaultMaxGroupsPerStream, "the most consumer groups a stream may have")
	f.IntVar(&g.maxWorkers, "group-max-workers", groups.DefaultMaxWorkersPerGroup, "the most live workers a consumer group may have")
}

// newGroups checks the flags and returns the consumer groups of store,
// their metrics registered on reg. The caller runs its sweeper (Run).
func newGroups(store *shard.Store, reg prometheus.Registerer, g groupFlags, logger *slog.Logger) (*groups.Service, error) {
	// Zero values are the defaults (a serveConfig built in code).
	if g.leaseTimeout != 0 && (g.leaseTimeout < groups.MinLeaseTimeout || g.leaseTimeout > groups.MaxLeaseTimeout) {
		return nil, fmt.Errorf("--group-lease-timeout %v: must be %v to %v", g.leaseTimeout, groups.MinLeaseTimeout, groups.MaxLeaseTimeout)
	}
	if g.maxGroups < 0 || g.maxWorkers < 0 {
		return nil, fmt.Errorf("--group-max-per-stream %d, --group-max-workers %d: must be positive", g.maxGroups, g.maxWorkers)
	}
	opts := []groups.Option{groups.WithLimits(g.maxGroups, g.maxWorkers), groups.WithLogger(logger)}
	if g.leaseTimeout != 0 {
		opts = append(opts, groups.WithLeaseTimeout(g.leaseTimeout))
	}
	svc := groups.New(store, opts...)
	if err := reg.Register(svc.Collector()); err != nil {
		return nil, fmt.Errorf("register consumer group metrics: %w", err)
	}
	return svc, nil
}
