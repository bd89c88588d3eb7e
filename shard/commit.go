package shard

import (
	"context"

	"github.com/cockroachdb/pebble/v2"
	"github.com/spatehq/spate/apierr"
)

// StreamAppend is the part of a Commit that appends Entries to one stream.
type StreamAppend struct {
	Stream  string
	Entries []Entry
}

// Commit is an atomic write across streams and the value space: every
// append and every value write lands in one Pebble batch, or none does.
// Analytics uses it to commit an application's output records with its
// window state and input positions, which is what makes its output exactly
// once across crashes.
type Commit struct {
	Appends []StreamAppend
	// Namespace and Values are value writes, as WriteValues takes them.
	Namespace string
	Values    []ValueWrite
	// Expect are preconditions on values of Namespace, checked by the
	// writer against the committed values and those staged before it in
	// the same batch: if any fails, Commit writes nothing and returns an
	// error that ConditionFailed recognizes (see expect.go).
	Expect []ValueExpect
	// Sync fsyncs the commit even when the store runs with
	// DurabilityRelaxed, as WriteValues does: for state whose loss in a
	// crash would be seen (consumer groups' leases and checkpoints, which
	// must never go backwards).
	Sync bool
}

type txnOp struct {
	parts   []txnPart
	ns      string
	values  []ValueWrite
	expect  []ValueExpect
	sync    bool
	results [][]AppendResult
}

type txnPart struct {
	st      *stream
	entries []Entry
	routes  []*shardState
	seal    sealer
}

// Commit applies c atomically: it returns one result slice per append, in
// order, once the whole batch is durable (fsynced unless the store runs
// with DurabilityRelaxed; in relaxed mode the batch is still atomic, so a
// crash keeps all of it or none). Entries are validated like Append's, but
// an append may hold any number of them. If any target stream does not
// exist (or is being created or deleted) nothing is written.
//
// The caller may reuse c's slices once Commit returns.
func (s *Store) Commit(ctx context.Context, c Commit) ([][]AppendResult, error) {
	t := &txnOp{ns: c.Namespace, values: c.Values, expect: c.Expect, sync: c.Sync, parts: make([]txnPart, len(c.Appends))}
	size := 0
	hashes := make([][]hashKey, len(c.Appends))
	for pi, a := range c.Appends {
		hashes[pi] = make([]hashKey, len(a.Entries))
		for i, e := range a.Entries {
			if err := validateEntry(i, e); err != nil {
				return nil, err
			}
			size += recordKeyLen + encodedRecordLen(e.PartitionKey, e.Data)
			if e.ExplicitHashKey != "" {
				hashes[pi][i], _ = parseExplicitHashKey(e.ExplicitHashKey) // validated above
			} else {
				hashes[pi][i] = partitionHash(e.PartitionKey)
			}
		}
	}
	for _, v := range c.Values {
		size += len(v.Key) + len(v.Value)
	}
	if size > maxGroupBytes*4 {
		return nil, apierr.New(apierr.InvalidArgument,
			"a commit of %d bytes is larger than the %d-byte limit: commit more often", size, maxGroupBytes*4)
	}
	versions := make([]uint32, len(c.Appends))
	s.mu.RLock()
	for pi, a := range c.Appends {
		st, err := s.lookupActive(a.Stream)
		if err == nil {
			err = checkStreamRecordSize(st, a.Entries)
		}
		if err != nil {
			s.mu.RUnlock()
			return nil, err
		}
		t.parts[pi] = txnPart{st: st, entries: a.Entries, routes: make([]*shardState, len(a.Entries))}
		for i, h := range hashes[pi] {
			t.parts[pi].routes[i] = st.route(h)
		}
		versions[pi] = currentVersion(st)
	}
	s.mu.RUnlock()
	for pi := range t.parts {
		p := &t.parts[pi]
		var err error
		if p.seal, err = s.sealerFor(p.st, versions[pi]); err != nil {
			return nil, err
		}
	}
	if err := s.disk.admit(uint64(size)); err != nil {
		return nil, err
	}
	op := &writeOp{txn: t, size: size}
	t.results = make([][]AppendResult, len(c.Appends))
	if err := s.enqueue(ctx, op); err != nil {
		return nil, err
	}
	return t.results, nil
}

// stageTxn adds a Commit op to b. Invariant: a Commit is all or nothing, so
// every target stream is checked before anything is staged.
func (s *Store) stageTxn(b *pebble.Batch, op *writeOp, now int64, seen map[*shardState]struct{}, touched *[]*shardState, staged *stagedValues) {
	t := op.txn
	for _, p := range t.parts {
		if p.st.deleted.Load() {
			op.err = s.notFound(p.st.name)
			return
		}
	}
	if err := s.checkExpect(t.ns, t.expect, *staged); err != nil {
		op.err = err
		return
	}
	staged.note(t.ns, t.values)
	for pi, p := range t.parts {
		t.results[pi] = stageAppend(b, p.entries, p.routes, now, seen, touched, s.sealing(&t.parts[pi].seal))
	}
	for _, w := range t.values {
		if w.Delete {
			_ = b.Delete(valueKey(t.ns, w.Key), nil)
		} else {
			_ = b.Set(valueKey(t.ns, w.Key), w.Value, nil)
		}
	}
}
