package faults

import (
	"context"
	"math/rand/v2"
	"sync"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/shard"
)

// The APIs faults know how to fail.
const (
	Kinesis  = "Kinesis"
	Firehose = "Firehose"
)

// Injector draws the faults of a Plan. It is safe for concurrent use.
type Injector struct {
	plan Plan
	mu   sync.Mutex
	rng  *rand.Rand
}

// New returns an Injector of plan whose draws follow seed: the same seed
// and the same requests in the same order fail the same way.
func New(plan Plan, seed uint64) *Injector {
	return &Injector{plan: plan, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// draw returns the kind of failure of one request or record, or false for
// none.
func (in *Injector) draw(odds Odds) (Kind, bool) {
	in.mu.Lock()
	u := in.rng.Float64()
	in.mu.Unlock()
	switch {
	case u < odds[Throttle]:
		return Throttle, true
	case u < odds[Throttle]+odds[Internal]:
		return Internal, true
	}
	return 0, false
}

// Intercept decides the faults of one request of api's action, once it has
// been authenticated and validated: it returns the context to run the
// action with (carrying record or read faults for the store), or the error
// that answers the request instead of running it. Actions the plan gives
// no odds pass untouched.
func (in *Injector) Intercept(ctx context.Context, api, action string) (context.Context, error) {
	odds, ok := in.plan[api][action]
	if !ok {
		return ctx, nil
	}
	switch {
	case api == Kinesis && (action == "PutRecord" || action == "PutRecords"),
		api == Firehose && (action == "PutRecord" || action == "PutRecordBatch"):
		// Per record, in the store: a single PutRecord fails as a whole
		// with its one record's error.
		throttle := apierr.ProvisionedThroughputExceeded
		if api == Firehose {
			throttle = apierr.ServiceUnavailableException
		}
		return shard.WithFaults(ctx, shard.Faults{Record: func(int) apierr.Code {
			kind, failed := in.draw(odds)
			if !failed {
				return ""
			}
			if kind == Internal {
				return apierr.InternalFailure
			}
			return throttle
		}}), nil
	}
	kind, failed := in.draw(odds)
	if !failed {
		return ctx, nil
	}
	if api == Kinesis && action == "GetRecords" {
		code := apierr.ProvisionedThroughputExceeded
		if kind == Internal {
			code = apierr.InternalFailure
		}
		// In the store, whose message names the shard.
		return shard.WithFaults(ctx, shard.Faults{Read: code}), nil
	}
	if kind == Internal {
		return ctx, apierr.New(apierr.InternalFailure, "Internal service failure.")
	}
	if api == Kinesis && action == "GetShardIterator" {
		return ctx, apierr.New(apierr.ProvisionedThroughputExceeded, "Rate exceeded for %s.", action)
	}
	return ctx, apierr.New(apierr.LimitExceeded, "Rate exceeded for %s.", action)
}
