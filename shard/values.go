package shard

import (
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Values is a small key-value space that other Spate components (Firehose
// delivery streams and checkpoints, Analytics applications) keep in the
// store's database, so one data directory holds everything and their
// metadata commits with the same durability as records.
//
// Keys live under "x" + namespace + 0x00 + key; namespaces may not contain
// 0x00.

func valueKey(ns, key string) []byte {
	k := make([]byte, 0, 2+len(ns)+len(key))
	k = append(k, 'x')
	k = append(k, ns...)
	k = append(k, 0)
	return append(k, key...)
}

// GetValue returns the value of key in namespace ns. The caller owns the
// returned slice.
func (s *Store) GetValue(ns, key string) ([]byte, bool, error) {
	s.closeMu.RLock() // upgrade swaps the database under it (readonly.go)
	defer s.closeMu.RUnlock()
	v, closer, err := s.db.Get(valueKey(ns, key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("get %s/%s: %w", ns, key, err)
	}
	out := append([]byte(nil), v...)
	return out, true, closer.Close()
}

// ValueWrite is one change of a WriteValues call: a Set, or a Delete when
// Delete is true.
type ValueWrite struct {
	Key    string
	Value  []byte
	Delete bool
}

// WriteValues applies writes to namespace ns atomically and durably
// (fsynced, whatever the store's durability mode). The caller may reuse the
// slices once it returns.
func (s *Store) WriteValues(ctx context.Context, ns string, writes ...ValueWrite) error {
	if err := s.Writable(); err != nil {
		return err
	}
	b := s.db.NewBatch()
	defer b.Close()
	for _, w := range writes {
		if w.Delete {
			_ = b.Delete(valueKey(ns, w.Key), nil)
		} else {
			_ = b.Set(valueKey(ns, w.Key), w.Value, nil)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("write %d values in %s: %w", len(writes), ns, err)
	}
	return nil
}

// ScanValues calls fn for every key with the given prefix in namespace ns,
// in key order. The slices passed to fn are valid only during the call.
func (s *Store) ScanValues(ns, prefix string, fn func(key string, value []byte) error) error {
	s.closeMu.RLock() // upgrade swaps the database under it (readonly.go)
	defer s.closeMu.RUnlock()
	lower := valueKey(ns, prefix)
	upper := prefixSuccessor(lower)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("scan %s/%s: %w", ns, prefix, err)
	}
	strip := len(valueKey(ns, ""))
	for it.First(); it.Valid(); it.Next() {
		if err := fn(string(it.Key()[strip:]), it.Value()); err != nil {
			_ = it.Close()
			return err
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("scan %s/%s: %w", ns, prefix, err)
	}
	return nil
}

// prefixSuccessor returns the smallest key greater than every key that
// starts with p (nil when there is none).
func prefixSuccessor(p []byte) []byte {
	out := append([]byte(nil), p...)
	for i := len(out) - 1; i >= 0; i-- {
		if out[i] != 0xff {
			out[i]++
			return out[:i+1]
		}
	}
	return nil
}
