package shard

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// ValueExpect is a precondition of a Commit on one value of its namespace:
// the key holds exactly Value, or, with Absent, holds nothing.
//
// Preconditions make read-modify-write of values safe without a lock: read
// the values (GetValue, ScanValues), compute the new ones and Commit them
// expecting what was read; a Commit that lost a race to another fails as a
// whole with ConditionFailed, and the caller reads again. They are checked
// by the single writer goroutine, in batch order, so two Commits that expect
// the same value cannot both succeed. Invariant: a namespace whose writers
// rely on preconditions must be written only through Commit; WriteValues
// bypasses the writer and the check.
type ValueExpect struct {
	Key    string
	Value  []byte
	Absent bool
}

// errConditionFailed is the error of a Commit whose precondition did not
// hold.
var errConditionFailed = errors.New("commit precondition failed: a value changed since it was read")

// ConditionFailed reports whether err is the failure of a Commit's
// precondition (ValueExpect): nothing was written; read again and retry.
func ConditionFailed(err error) bool { return errors.Is(err, errConditionFailed) }

// stagedValues are the value writes of the Commits staged so far in the
// writer's current batch, by full key: a precondition of a later Commit in
// the same batch must see them, since the batch is not yet readable. It
// belongs to the writer goroutine; nil until a Commit writes values.
type stagedValues map[string]*ValueWrite

// note records writes of namespace ns.
func (sv *stagedValues) note(ns string, writes []ValueWrite) {
	if len(writes) == 0 {
		return
	}
	if *sv == nil {
		*sv = make(stagedValues, len(writes))
	}
	for i := range writes {
		(*sv)[string(valueKey(ns, writes[i].Key))] = &writes[i]
	}
}

// checkExpect checks preconditions against staged writes, then against the
// database. It runs on the writer goroutine, which alone commits, so
// nothing can change a value between the check and the batch's commit.
func (s *Store) checkExpect(ns string, expect []ValueExpect, staged stagedValues) error {
	for _, e := range expect {
		k := valueKey(ns, e.Key)
		var cur []byte
		found := false
		if w, ok := staged[string(k)]; ok {
			cur, found = w.Value, !w.Delete
		} else {
			v, closer, err := s.db.Get(k)
			switch {
			case errors.Is(err, pebble.ErrNotFound):
			case err != nil:
				return fmt.Errorf("check %s/%s: %w", ns, e.Key, err)
			default:
				cur, found = bytes.Clone(v), true
				_ = closer.Close()
			}
		}
		if e.Absent == found || (found && !bytes.Equal(cur, e.Value)) {
			return fmt.Errorf("%s/%s: %w", ns, e.Key, errConditionFailed)
		}
	}
	return nil
}

// syncTxn reports whether a Commit among ops asks to be fsynced whatever
// the durability mode (Commit.Sync).
func syncTxn(ops []*writeOp) bool {
	for _, op := range ops {
		if op.txn != nil && op.txn.sync {
			return true
		}
	}
	return false
}
