package shard

import (
	"context"
	"time"

	"github.com/spatehq/spate/apierr"
)

// Limits of the update actions, as the Kinesis API reference documents them.
const (
	// MaxRecordSizeLimit is the largest record (data plus partition key) a
	// stream can be set to take with UpdateMaxRecordSize: 10 MiB, as
	// Kinesis allows since 2025. MaxRecordSize (1 MiB) is every stream's
	// limit until it is raised.
	MaxRecordSizeLimit = 10 << 20
	// MinMaxRecordSizeKiB and MaxMaxRecordSizeKiB bound MaxRecordSizeInKiB.
	MinMaxRecordSizeKiB = MaxRecordSize >> 10
	MaxMaxRecordSizeKiB = MaxRecordSizeLimit >> 10
	// MaxModeSwitches is how many times a stream may switch between
	// PROVISIONED and ON_DEMAND within ModeSwitchWindow.
	MaxModeSwitches  = 2
	ModeSwitchWindow = 24 * time.Hour
	// MaxWarmThroughputMiBps is the most warm throughput an on-demand
	// stream can ask for (10 GiB/s).
	MaxWarmThroughputMiBps = 10 << 10
)

// streamSettings are the stream settings of the update actions, persisted
// with the rest of streamMeta. Zero values are the defaults, so metadata
// written before they existed loads unchanged.
type streamSettings struct {
	// MaxRecordKiB is the largest record the stream takes
	// (UpdateMaxRecordSize); 0 means MaxRecordSize.
	MaxRecordKiB int `json:"maxRecordKiB,omitempty"`
	// LargestRecordKiB is the largest MaxRecordKiB the stream ever had: its
	// stored records are at most this large even after the limit is
	// lowered, which the read budget needs to know. 0 means MaxRecordSize.
	LargestRecordKiB int `json:"largestRecordKiB,omitempty"`
	// WarmMiBps is the warm throughput of an ON_DEMAND stream
	// (UpdateStreamWarmThroughput, UpdateStreamMode); 0 when none is set.
	WarmMiBps int `json:"warmMiBps,omitempty"`
	// WarmPrevMiBps is the warm throughput before the last update; while
	// the stream is UPDATING it is the throughput it currently has.
	WarmPrevMiBps int `json:"warmPrevMiBps,omitempty"`
	// ModeSwitchesMs are the times of the stream's capacity-mode switches
	// within the last ModeSwitchWindow, oldest first.
	ModeSwitchesMs []int64 `json:"modeSwitchesMs,omitempty"`
	// UpdatingUntilMs is when an update that made the stream UPDATING
	// ends (see WithUpdateDelay); 0 when none ever did.
	UpdatingUntilMs int64 `json:"updatingUntilMs,omitempty"`
	// Policy is the stream's resource policy (PutResourcePolicy), as the
	// client sent it; empty when none is attached.
	Policy string `json:"policy,omitempty"`
}

// WarmThroughput is an ON_DEMAND stream's warm throughput, in MiB/s:
// what was asked for and what the stream has. Spate does not throttle
// (issue #12's limits aside), so the two are equal once the update is done.
type WarmThroughput struct {
	TargetMiBps  int
	CurrentMiBps int
}

// WithUpdateDelay keeps a stream UPDATING for d after UpdateStreamMode and
// UpdateStreamWarmThroughput, as Kinesis does while it scales, before it is
// ACTIVE again; records can be read and written meanwhile, other updates
// answer ResourceInUseException. Zero, the default, makes updates take
// effect at once.
func WithUpdateDelay(d time.Duration) Option { return func(c *config) { c.updateDelay = d } }

func (m *streamSettings) maxRecordSize() int {
	if m.MaxRecordKiB == 0 {
		return MaxRecordSize
	}
	return m.MaxRecordKiB << 10
}

func (m *streamSettings) largestRecordSize() int {
	return max(m.LargestRecordKiB<<10, m.maxRecordSize())
}

// warmThroughput is what DescribeStreamSummary reports: nil for a
// PROVISIONED stream, which has none.
func (s *Store) warmThroughput(m *streamMeta) *WarmThroughput {
	if m.Mode != ModeOnDemand {
		return nil
	}
	w := &WarmThroughput{TargetMiBps: m.WarmMiBps, CurrentMiBps: m.WarmMiBps}
	if s.status(m) == StatusUpdating {
		w.CurrentMiBps = m.WarmPrevMiBps
	}
	return w
}

// startUpdate makes m UPDATING for the store's update delay.
func (s *Store) startUpdate(m *streamMeta) {
	if s.cfg.updateDelay > 0 {
		m.UpdatingUntilMs = s.cfg.now().Add(s.cfg.updateDelay).UnixMilli()
	}
}

// UpdateStreamMode switches a stream between PROVISIONED and ON_DEMAND.
// Spate serves both modes the same way (no throughput is provisioned); the
// mode is recorded, reported, and counted against the account's ON_DEMAND
// stream limit. A stream switches at most MaxModeSwitches times within
// ModeSwitchWindow. warmMiBps, when not nil, sets the warm throughput of
// a switch to ON_DEMAND, which needs the account's minimum throughput
// billing commitment.
func (s *Store) UpdateStreamMode(ctx context.Context, name string, mode StreamMode, warmMiBps *int) error {
	if mode != ModeProvisioned && mode != ModeOnDemand {
		return apierr.New(apierr.InvalidArgument, "StreamMode %q is invalid: use PROVISIONED or ON_DEMAND", mode)
	}
	if warmMiBps != nil {
		if mode != ModeOnDemand {
			return apierr.New(apierr.InvalidArgument,
				"WarmThroughputMiBps can only be set for an ON_DEMAND stream; PROVISIONED streams have no warm throughput")
		}
		if err := s.checkWarm(*warmMiBps); err != nil {
			return err
		}
	}
	return s.mutateActive(name, func(m *streamMeta) error {
		if m.Mode == mode {
			return apierr.New(apierr.InvalidArgument,
				"Stream %s under account %s is already in %s mode", name, s.cfg.accountID, mode)
		}
		now := s.cfg.now()
		recent := make([]int64, 0, len(m.ModeSwitchesMs)+1)
		for _, t := range m.ModeSwitchesMs {
			if now.Sub(fromMillis(t)) < ModeSwitchWindow {
				recent = append(recent, t)
			}
		}
		if len(recent) >= MaxModeSwitches {
			return apierr.New(apierr.LimitExceeded,
				"Stream %s under account %s has switched capacity mode %d times in the last %v, the most Kinesis allows; the next switch is possible at %s",
				name, s.cfg.accountID, len(recent), ModeSwitchWindow, fromMillis(recent[0]).Add(ModeSwitchWindow).Format(time.RFC3339))
		}
		if mode == ModeOnDemand {
			if _, onDemand := s.openShardCount(); onDemand+1 > s.cfg.onDemandMax {
				return apierr.New(apierr.LimitExceeded,
					"This request would exceed the limit of %d ON_DEMAND streams for the account %s", s.cfg.onDemandMax, s.cfg.accountID)
			}
		}
		m.ModeSwitchesMs = append(recent, now.UnixMilli())
		m.Mode = mode
		m.WarmPrevMiBps = m.WarmMiBps
		m.WarmMiBps = 0
		if warmMiBps != nil {
			m.WarmMiBps = *warmMiBps
		}
		s.startUpdate(m)
		return nil
	})
}

// checkWarm checks a warm throughput against the limit and the account's
// commitment, which AWS requires for warm throughput. The caller must not
// hold s.mu.
func (s *Store) checkWarm(mibps int) error {
	if mibps < 0 || mibps > MaxWarmThroughputMiBps {
		return apierr.New(apierr.InvalidArgument,
			"WarmThroughputMiBps %d is out of range: an on-demand stream can be warmed to at most %d MiB/s", mibps, MaxWarmThroughputMiBps)
	}
	acct, err := s.AccountSettings(context.Background())
	if err != nil {
		return err
	}
	if !acct.Enabled() {
		return apierr.New(apierr.InvalidArgument,
			"Warm throughput needs MinimumThroughputBillingCommitment ENABLED for account %s; enable it with UpdateAccountSettings", s.cfg.accountID)
	}
	return nil
}

// UpdateWarmThroughput sets an ON_DEMAND stream's warm throughput and
// returns the stream's warm throughput as the update leaves it (Current
// is the throughput before, Target the one asked for).
func (s *Store) UpdateWarmThroughput(ctx context.Context, name string, mibps int) (WarmThroughput, error) {
	if err := s.checkWarm(mibps); err != nil {
		return WarmThroughput{}, err
	}
	var out WarmThroughput
	err := s.mutateActive(name, func(m *streamMeta) error {
		if m.Mode != ModeOnDemand {
			return apierr.New(apierr.InvalidArgument,
				"Stream %s under account %s is in %s mode: warm throughput applies to ON_DEMAND streams only", name, s.cfg.accountID, m.Mode)
		}
		out = WarmThroughput{TargetMiBps: mibps, CurrentMiBps: m.WarmMiBps}
		m.WarmPrevMiBps = m.WarmMiBps
		m.WarmMiBps = mibps
		s.startUpdate(m)
		if s.cfg.updateDelay == 0 {
			out.CurrentMiBps = mibps // done at once
		}
		return nil
	})
	return out, err
}

// UpdateMaxRecordSize sets the largest record (data plus partition key) a
// stream takes, in KiB: MinMaxRecordSizeKiB to MaxMaxRecordSizeKiB. It
// applies to PutRecord and PutRecords from the next request on.
func (s *Store) UpdateMaxRecordSize(ctx context.Context, name string, kib int) error {
	if kib < MinMaxRecordSizeKiB || kib > MaxMaxRecordSizeKiB {
		return apierr.New(apierr.Validation,
			"1 validation error detected: Value '%d' at 'maxRecordSizeInKiB' failed to satisfy constraint: Member must have value between %d and %d",
			kib, MinMaxRecordSizeKiB, MaxMaxRecordSizeKiB)
	}
	var st *stream
	err := s.mutateActive(name, func(m *streamMeta) error {
		m.MaxRecordKiB = kib
		m.LargestRecordKiB = max(m.LargestRecordKiB, kib)
		st = s.streams[name]
		return nil
	})
	if err == nil {
		// Raised after the metadata commits, and never lowered: a read
		// admitted with the old bound cannot see a larger record, since
		// none was accepted before this point.
		st.largestRecord.Store(int64(max(st.largestRecord.Load(), int64(kib)<<10)))
	}
	return err
}
