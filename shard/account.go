package shard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// MinCommitment is how long a minimum throughput billing commitment lasts
// at least: a request to end it sooner schedules its end for then.
const MinCommitment = 24 * time.Hour

// CommitmentStatus is the status of the account's minimum throughput
// billing commitment, as DescribeAccountSettings names it.
type CommitmentStatus string

// Commitment statuses.
const (
	CommitmentEnabled  CommitmentStatus = "ENABLED"
	CommitmentDisabled CommitmentStatus = "DISABLED"
	// CommitmentEnding is a commitment asked to end before
	// EarliestAllowedEndAt: it ends then by itself.
	CommitmentEnding CommitmentStatus = "ENABLED_UNTIL_EARLIEST_ALLOWED_END"
)

// AccountSettings are the account-level settings of DescribeAccountSettings
// and UpdateAccountSettings. Spate bills nothing: the commitment is recorded
// and reported, and it unlocks warm throughput on ON_DEMAND streams as in
// AWS.
type AccountSettings struct {
	Status CommitmentStatus
	// StartedAt, EndedAt and EarliestAllowedEndAt are zero when unknown.
	StartedAt            time.Time
	EndedAt              time.Time
	EarliestAllowedEndAt time.Time
}

// Enabled reports whether the commitment is in force.
func (a AccountSettings) Enabled() bool { return a.Status != CommitmentDisabled }

// accountState is the persisted form of the settings ("s" +
// "account-settings", JSON). The status is derived from it and the clock:
// an end scheduled for EarliestEndMs has happened once that time is past.
type accountState struct {
	StartedAtMs   int64 `json:"startedAtMs,omitempty"` // 0: never enabled
	EarliestEndMs int64 `json:"earliestEndMs,omitempty"`
	// EndedAtMs is when the commitment ended or is scheduled to end; 0
	// while it runs without an end.
	EndedAtMs int64 `json:"endedAtMs,omitempty"`
}

const accountSettingsKey = "account-settings"

func (a accountState) at(now time.Time) AccountSettings {
	out := AccountSettings{Status: CommitmentDisabled}
	if a.StartedAtMs == 0 {
		return out
	}
	out.StartedAt = fromMillis(a.StartedAtMs)
	out.EarliestAllowedEndAt = fromMillis(a.EarliestEndMs)
	switch {
	case a.EndedAtMs == 0:
		out.Status = CommitmentEnabled
	case now.UnixMilli() < a.EndedAtMs:
		out.Status = CommitmentEnding
		out.EndedAt = fromMillis(a.EndedAtMs)
	default:
		out.EndedAt = fromMillis(a.EndedAtMs)
	}
	return out
}

func (s *Store) loadAccount() (accountState, error) {
	var a accountState
	v, closer, err := s.db.Get(settingKey(accountSettingsKey))
	if errors.Is(err, pebble.ErrNotFound) {
		return a, nil
	}
	if err != nil {
		return a, fmt.Errorf("read account settings: %w", err)
	}
	defer closer.Close()
	if err := json.Unmarshal(v, &a); err != nil {
		return a, fmt.Errorf("decode account settings: %w", err)
	}
	return a, nil
}

// AccountSettings returns the account's settings (DescribeAccountSettings).
func (s *Store) AccountSettings(ctx context.Context) (AccountSettings, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, err := s.loadAccount()
	if err != nil {
		return AccountSettings{}, err
	}
	return a.at(s.cfg.now()), nil
}

// UpdateAccountSettings enables or disables the minimum throughput billing
// commitment, with AWS's rules: enabling starts a commitment of at least
// MinCommitment; disabling before its earliest end schedules the end for
// then (ENABLED_UNTIL_EARLIEST_ALLOWED_END), and enabling again meanwhile
// cancels that. Asking for the state the account is in changes nothing.
// It returns the settings as the update leaves them.
func (s *Store) UpdateAccountSettings(ctx context.Context, enable bool) (AccountSettings, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.loadAccount()
	if err != nil {
		return AccountSettings{}, err
	}
	now := s.cfg.now()
	cur := a.at(now)
	next := a
	switch {
	case enable && cur.Status == CommitmentDisabled:
		next = accountState{StartedAtMs: now.UnixMilli(), EarliestEndMs: now.Add(MinCommitment).UnixMilli()}
	case enable && cur.Status == CommitmentEnding:
		next.EndedAtMs = 0
	case !enable && cur.Status == CommitmentEnabled:
		next.EndedAtMs = max(now.UnixMilli(), a.EarliestEndMs)
	default:
		return cur, nil // already as asked
	}
	if err := s.Writable(); err != nil {
		return AccountSettings{}, err
	}
	v, err := json.Marshal(next)
	if err != nil {
		return AccountSettings{}, fmt.Errorf("encode account settings: %w", err)
	}
	if err := s.db.Set(settingKey(accountSettingsKey), v, pebble.Sync); err != nil {
		return AccountSettings{}, fmt.Errorf("persist account settings: %w", err)
	}
	return next.at(now), nil
}
