package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/pflag"
	"google.golang.org/grpc"

	"github.com/spatehq/spate/api/firehoseapi"
	"github.com/spatehq/spate/api/grpcapi"
	"github.com/spatehq/spate/api/kinesisapi"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/internal/faults"
	"github.com/spatehq/spate/internal/throttle"
)

// Limits and faults of `spate serve` (issue 12, docs/limits.md): Kinesis's
// throughput limits (--enforce-limits) and injected failures
// (--fault-rate), both off by default. The store enforces the records'
// limits and injects record and read faults (shard.WithThroughputLimits,
// shard.WithFaultInjection); the rest happens in gate.intercept, which the
// JSON faces and gRPC run before every action.

// limitsConfig is the flags as given and what resolve makes of them.
type limitsConfig struct {
	enforce   bool   // --enforce-limits
	faultRate string // --fault-rate
	faultSeed uint64 // --fault-seed; 0: random

	// intercept is gate.intercept once resolved, nil when there is
	// nothing to intercept: the faces then skip the call altogether.
	intercept func(ctx context.Context, api, action string) (context.Context, error)
}

func addLimitsFlags(f *pflag.FlagSet, c *limitsConfig) {
	f.BoolVar(&c.enforce, "enforce-limits", false,
		"enforce Kinesis's throughput limits: per shard 1 MiB and 1,000 records/s in, 2 MiB and 5 GetRecords/s out "+
			"(on-demand streams: 4 MiB, 4,000 records and 8 MiB/s per stream), and the per-account rates of control-plane "+
			"actions, answering ProvisionedThroughputExceededException or LimitExceededException as AWS does (docs/limits.md)")
	f.StringVar(&c.faultRate, "fault-rate", "",
		"inject failures at random to test retry code: [API.]ACTION[:KIND]=P,... with KIND throttle (default) or internal, "+
			"for example PutRecords=0.1,GetRecords=0.05,*:internal=0.01 (docs/limits.md)")
	f.Uint64Var(&c.faultSeed, "fault-seed", 0, "seed of --fault-rate's draws, to repeat a run's faults (0: a random seed, logged)")
}

// storeLimits and storeFaults are the store's share of the flags.
func (c *limitsConfig) storeLimits() bool { return c.enforce }
func (c *limitsConfig) storeFaults() bool { return c.faultRate != "" }

// resolve checks the flags, logs what is in effect and sets c.intercept.
func (c *limitsConfig) resolve(accountID string, logger *slog.Logger) error {
	g := &gate{accountID: accountID, now: time.Now}
	if c.enforce {
		now := g.now()
		g.actions = map[string]*throttle.Actions{
			faults.Kinesis:  throttle.NewActions(throttle.KinesisActionRates, now),
			faults.Firehose: throttle.NewActions(throttle.FirehoseActionRates, now),
		}
		logger.Info("throughput limits enforced", "shard", throttle.ProvisionedShard, "on_demand_stream", throttle.OnDemandStream)
	}
	if c.faultRate != "" {
		plan, err := faults.Parse(c.faultRate, faultCatalog())
		if err != nil {
			return fmt.Errorf("--fault-rate: %w", err)
		}
		seed := c.faultSeed
		if seed == 0 {
			var b [8]byte
			_, _ = rand.Read(b[:]) // never fails
			seed = binary.LittleEndian.Uint64(b[:]) | 1
		}
		g.faults = faults.New(plan, seed)
		logger.Warn("fault injection is on: requests fail at random", "fault_rate", c.faultRate, "fault_seed", seed)
	}
	if g.actions != nil || g.faults != nil {
		c.intercept = g.intercept
	}
	return nil
}

// faultCatalog lists the actions the JSON faces serve, which --fault-rate
// may name. Building the handlers just to list them costs a model load; it
// only happens with --fault-rate.
func faultCatalog() faults.Catalog {
	return faults.Catalog{
		faults.Kinesis:  kinesisapi.NewHandler(nil).Actions(),
		faults.Firehose: firehoseapi.NewHandler(nil).Actions(),
	}
}

// grpcOptions runs the intercept on gRPC calls too (after authentication).
func (c *limitsConfig) grpcOptions() []grpc.ServerOption {
	if c.intercept == nil {
		return nil
	}
	return []grpc.ServerOption{grpcapi.InterceptOption(c.intercept), grpcapi.InterceptStreamOption(c.intercept)}
}

// gate is what runs before every action: the control-plane rates, then
// the injected faults.
type gate struct {
	accountID string
	now       func() time.Time
	actions   map[string]*throttle.Actions // by API; nil: no limits
	faults    *faults.Injector             // nil: no faults
}

func (g *gate) intercept(ctx context.Context, api, action string) (context.Context, error) {
	if a := g.actions[api]; a != nil && !a.Allow(g.now(), action) {
		return ctx, apierr.New(apierr.LimitExceeded,
			"Rate exceeded for %s under account %s: it takes at most %g calls per second.", action, g.accountID, a.Rate(action))
	}
	if g.faults != nil {
		return g.faults.Intercept(ctx, api, action)
	}
	return ctx, nil
}
