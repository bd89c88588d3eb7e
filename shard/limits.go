package shard

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/internal/throttle"
)

// Throughput limits (WithThroughputLimits) and injected faults (WithFaults)
// are applied where records enter and leave the store, Append and
// GetRecords, so every face (JSON over HTTP, gRPC, Firehose's PutRecord)
// obeys them alike. Both are off by default; then the only cost on those
// paths is one test of cfg.gated.
//
// What is enforced (see docs/limits.md):
//   - A provisioned stream's shard takes 1 MiB and 1,000 records per second
//     and serves 2 MiB and 5 GetRecords calls per second
//     (throttle.ProvisionedShard).
//   - An on-demand stream takes 4 MiB and 4,000 records per second and
//     serves 8 MiB per second, whatever shards the records go to
//     (throttle.OnDemandStream); each shard still serves 5 GetRecords calls
//     per second.
//   - Internal streams (Firehose's DirectPut buffers) are not limited:
//     they stand for no Kinesis stream.
//   - Subscribe is not limited: it stands for enhanced fan-out, which has
//     a dedicated 2 MiB/s per consumer and shard.
//
// A refused record of a PutRecords fails on its own
// (ProvisionedThroughputExceededException in its ErrorCode, counted in the
// shard's WriteProvisionedThroughputExceeded); the others are stored. A
// refused GetRecords fails as a whole, counted in
// ReadProvisionedThroughputExceeded.

// WithThroughputLimits, when on, makes the store enforce Kinesis's
// provisioned throughput on Append and GetRecords (spate serve
// --enforce-limits). Default: off.
func WithThroughputLimits(on bool) Option {
	return func(c *config) {
		c.limits = on
		c.gated = c.gated || on
	}
}

// WithFaultInjection, when on, makes Append and GetRecords honour the
// Faults that a request's context carries (WithFaults); off, the default,
// they are ignored.
func WithFaultInjection(on bool) Option {
	return func(c *config) { c.gated = c.gated || on }
}

// Faults are failures injected into one request (spate serve --fault-rate)
// so that clients can test their retry code. The store answers them as if
// it had refused the records or the read itself, and stores or changes
// nothing of what they refuse.
type Faults struct {
	// Record, when set, is called once for every entry of an Append, in
	// order, and returns the error the entry fails with ("" stores it).
	Record func(i int) apierr.Code
	// Read, when not "", is the error a GetRecords answers instead of
	// reading.
	Read apierr.Code
}

type faultsKey struct{}

// WithFaults returns a context under which Append and GetRecords inject
// f, in a store opened WithFaultInjection.
func WithFaults(ctx context.Context, f Faults) context.Context {
	return context.WithValue(ctx, faultsKey{}, f)
}

// FaultsOf returns the Faults ctx carries (WithFaults), none when it
// carries none.
func FaultsOf(ctx context.Context) Faults {
	f, _ := ctx.Value(faultsKey{}).(Faults)
	return f
}

// refusal returns the error message that AWS gives a record or a call
// refused with code.
func (s *Store) refusal(code apierr.Code, stream, shardID string) string {
	switch code {
	case apierr.ProvisionedThroughputExceeded:
		return "Rate exceeded for shard " + shardID + " in stream " + stream + " under account " + s.cfg.accountID + "."
	case apierr.InternalFailure:
		return "Internal service failure."
	case apierr.ServiceUnavailableException, apierr.ServiceUnavailable:
		return "Slow down."
	}
	return string(code)
}

// shardMeter returns sh's buckets, made on first use.
func (sh *shardState) shardMeter(now time.Time) *throttle.Meter {
	return meterOf(&sh.meter, throttle.ProvisionedShard, now)
}

// streamMeter returns an on-demand stream's buckets, made on first use.
func (st *stream) streamMeter(now time.Time) *throttle.Meter {
	return meterOf(&st.meter, throttle.OnDemandStream, now)
}

// meterOf returns the meter in p, making it with rates r on first use; of
// racing first uses, one meter wins and all get it.
func meterOf(p *atomic.Pointer[throttle.Meter], r throttle.Rates, now time.Time) *throttle.Meter {
	if m := p.Load(); m != nil {
		return m
	}
	p.CompareAndSwap(nil, throttle.NewMeter(r, now))
	return p.Load()
}

// limited reports whether st is under the throughput limits, and whether
// it is on-demand. The mode can change (UpdateStreamMode), so it is read at
// every call.
func (s *Store) limited(st *stream) (limited, onDemand bool) {
	if !s.cfg.limits {
		return false, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return !st.meta.Internal, st.meta.Mode == ModeOnDemand
}

// gateAppend refuses the entries of op that an injected fault or the
// throughput limits refuse, and takes them out of op. It returns nil when
// it refuses none, and otherwise a result for every entry of the request
// with the refused ones' errors set (mergeAppend fills in the rest).
// ordered refuses every entry after a refused one in the same shard with
// its error (StartAppend), without drawing a fault or charging a meter.
func (s *Store) gateAppend(ctx context.Context, op *writeOp, ordered bool) []AppendResult {
	f := FaultsOf(ctx)
	limited, onDemand := s.limited(op.st)
	if f.Record == nil && !limited {
		return nil
	}
	now := s.cfg.now()
	var results []AppendResult
	var entries []Entry
	var routes []*shardState
	var stopped map[*shardState]apierr.Code // ordered: shards with a refused entry
	for i, e := range op.entries {
		sh := op.routes[i]
		var code apierr.Code
		if c, ok := stopped[sh]; ok {
			code = c
		} else if f.Record != nil {
			code = f.Record(i)
		}
		if code == "" && limited {
			var m *throttle.Meter
			if onDemand {
				m = op.st.streamMeter(now)
			} else {
				m = sh.shardMeter(now)
			}
			if !m.Write(now, len(e.Data)+len(e.PartitionKey)) {
				code = apierr.ProvisionedThroughputExceeded
			}
		}
		if code == "" {
			if results != nil {
				entries, routes = append(entries, e), append(routes, sh)
			}
			continue
		}
		if results == nil {
			// The first refusal: the entries are the caller's, so the
			// ones kept go to slices of our own.
			results = make([]AppendResult, len(op.entries))
			entries = append(make([]Entry, 0, len(op.entries)), op.entries[:i]...)
			routes = append(make([]*shardState, 0, len(op.entries)), op.routes[:i]...)
		}
		if _, after := stopped[sh]; after {
			results[i] = AppendResult{ErrorCode: string(code), ErrorMessage: "An earlier record of shard " + sh.id +
				" in this request was refused; this one is refused too, to keep the shard's order."}
		} else {
			results[i] = AppendResult{ErrorCode: string(code), ErrorMessage: s.refusal(code, op.st.name, sh.id)}
			if code == apierr.ProvisionedThroughputExceeded {
				sh.stats.writeThrottled.Add(1)
			}
			if ordered {
				if stopped == nil {
					stopped = make(map[*shardState]apierr.Code, 1)
				}
				stopped[sh] = code
			}
		}
		op.size -= recordKeyLen + encodedRecordLen(e.PartitionKey, e.Data)
	}
	if results != nil {
		op.entries, op.routes = entries, routes
	}
	return results
}

// mergeAppend returns the results of a request whose refused entries are
// in refused (nil: none) and whose stored ones, in order, in stored.
func mergeAppend(refused, stored []AppendResult) []AppendResult {
	if refused == nil {
		return stored
	}
	j := 0
	for i := range refused {
		if refused[i].ErrorCode == "" {
			refused[i] = stored[j]
			j++
		}
	}
	return refused
}

// gateGetRecords refuses a GetRecords from c that an injected fault or the
// throughput limits refuse. On success it returns the meter that the bytes
// read are charged to (nil: none).
func (s *Store) gateGetRecords(ctx context.Context, c Cursor) (*throttle.Meter, error) {
	f := FaultsOf(ctx)
	st, sh, err := s.lookupCursor(c)
	if err != nil {
		return nil, err // GetRecords answers it
	}
	limited, onDemand := s.limited(st)
	code := f.Read
	var charge *throttle.Meter
	if code == "" && limited {
		now := s.cfg.now()
		charge = sh.shardMeter(now)
		ok := charge.Read(now)
		if onDemand && ok {
			charge = st.streamMeter(now)
			ok = charge.Read(now)
		}
		if !ok {
			code = apierr.ProvisionedThroughputExceeded
		}
	}
	if code == "" {
		return charge, nil
	}
	if code == apierr.ProvisionedThroughputExceeded {
		sh.stats.readThrottled.Add(1)
	}
	return nil, apierr.New(code, "%s", s.refusal(code, st.name, sh.id))
}
