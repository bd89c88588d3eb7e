package shard

import (
	"context"
	"encoding/binary"
	"fmt"
	"sort"
	"unsafe"

	"github.com/cockroachdb/pebble/v2"
	"github.com/spatehq/spate/apierr"
)

// Group commit bounds: the writer stops collecting queued operations into one
// batch once it holds this many or this many bytes.
const (
	maxGroupOps   = 1024
	maxGroupBytes = 16 << 20
)

// writeOp is one unit of work for the writer goroutine: an append of entries
// to one stream, or the deletion of a stream's data.
type writeOp struct {
	st      *stream
	entries []Entry
	routes  []*shardState // routes[i] is the shard of entries[i]
	size    int           // encoded bytes, for group sizing
	del     bool
	// seal encrypts the entries when the stream is encrypted (encryption.go).
	seal sealer

	// txn, when set, makes this op a Commit: appends to several streams
	// and value writes in the same batch. st and entries are then unused.
	txn *txnOp
	// reshard, when set, makes this op a split, merge or shard-count
	// update of st, applied in batch order with appends (reshard.go).
	reshard *reshardOp

	results []AppendResult
	err     error
	done    chan struct{}
}

// Append stores entries in a stream, routing each by MD5 of its partition key
// or by its explicit hash key, and returns one result per entry in request
// order. The request is validated as a whole first: if any entry is invalid
// nothing is stored. When Append returns without error every entry is
// durable (fsynced unless the store runs with DurabilityRelaxed).
//
// The caller may reuse entries' Data once Append returns.
func (s *Store) Append(ctx context.Context, name string, entries []Entry) ([]AppendResult, error) {
	p, err := s.startAppend(ctx, name, entries, false)
	if err != nil {
		return nil, err
	}
	return p.Wait()
}

// StartAppend is Append for a pipelined producer (the gRPC Produce
// stream), which keeps several requests in flight and must keep each
// shard's order:
//
//   - It returns once the request is validated and queued for the writer,
//     and Wait returns its results once they are durable. Requests started
//     one after the other (one StartAppend returning before the next is
//     called) are committed in that order, so their records in any shard
//     get increasing sequence numbers.
//   - A record refused on its own (a throttle of --enforce-limits, an
//     injected fault) refuses every later record of the same shard in the
//     request with the same error, so what is stored of each shard is a
//     prefix of the request's records in it. A producer that sends the
//     refused records again before anything newer for their shards keeps
//     every partition key's order.
//
// The caller may reuse entries' Data once Wait returns.
func (s *Store) StartAppend(ctx context.Context, name string, entries []Entry) (*PendingAppend, error) {
	return s.startAppend(ctx, name, entries, true)
}

// PendingAppend is an append that StartAppend queued.
type PendingAppend struct {
	op      *writeOp       // nil when every entry was refused
	refused []AppendResult // gateAppend's results; nil: none refused
}

// Wait returns the append's results, one per entry in request order, once
// every stored entry is durable; or the error that failed the whole
// request. It may be called more than once.
func (p *PendingAppend) Wait() ([]AppendResult, error) {
	if p.op == nil {
		return p.refused, nil
	}
	<-p.op.done
	if p.op.err != nil {
		return nil, p.op.err
	}
	return mergeAppend(p.refused, p.op.results), nil
}

// startAppend validates, gates and queues an append; ordered refuses the
// rest of a shard's entries after a refused one (StartAppend).
func (s *Store) startAppend(ctx context.Context, name string, entries []Entry, ordered bool) (*PendingAppend, error) {
	if len(entries) < 1 || len(entries) > MaxPutRecordsEntries {
		return nil, apierr.New(apierr.InvalidArgument,
			"a PutRecords request holds 1 to %d records; got %d", MaxPutRecordsEntries, len(entries))
	}
	op := &writeOp{entries: entries, routes: make([]*shardState, len(entries))}
	payload := 0
	hashes := make([]hashKey, len(entries))
	for i, e := range entries {
		idx := i
		if len(entries) == 1 {
			idx = -1
		}
		if err := validateEntry(idx, e); err != nil {
			return nil, err
		}
		payload += len(e.Data) + len(e.PartitionKey)
		op.size += recordKeyLen + encodedRecordLen(e.PartitionKey, e.Data)
		if e.ExplicitHashKey != "" {
			hashes[i], _ = parseExplicitHashKey(e.ExplicitHashKey) // validated above
		} else {
			hashes[i] = partitionHash(e.PartitionKey)
		}
	}
	if payload > MaxPutRecordsSize {
		return nil, apierr.New(apierr.InvalidArgument,
			"the records of a PutRecords request total %d bytes of data and partition keys; the limit is %d bytes (%d MiB): split the request",
			payload, MaxPutRecordsSize, MaxPutRecordsSize>>20)
	}

	s.mu.RLock()
	st, err := s.lookupActive(name)
	var version uint32
	if err == nil {
		err = checkStreamRecordSize(st, entries)
	}
	if err == nil {
		op.st = st
		for i, h := range hashes {
			op.routes[i] = st.route(h)
		}
		version = currentVersion(st)
	}
	s.mu.RUnlock()
	if err == nil && version != 0 {
		op.seal, err = s.sealerFor(st, version)
	}
	if err != nil {
		return nil, err
	}
	p := &PendingAppend{op: op}
	if s.cfg.gated {
		if p.refused = s.gateAppend(ctx, op, ordered); p.refused != nil && len(op.entries) == 0 {
			p.op = nil
			return p, nil
		}
	}
	// Refused before it is queued: nothing of a refused append is stored.
	if err := s.disk.admit(uint64(op.size)); err != nil {
		return nil, err
	}
	if err := s.queue(ctx, op); err != nil {
		return nil, err
	}
	return p, nil
}

// checkStreamRecordSize checks entries, already valid, against the
// stream's maximum record size. The caller holds s.mu.
func checkStreamRecordSize(st *stream, entries []Entry) error {
	limit := st.meta.maxRecordSize()
	if limit == MaxRecordSizeLimit {
		return nil // validateEntry checked it
	}
	for i, e := range entries {
		idx := i
		if len(entries) == 1 {
			idx = -1
		}
		if err := checkRecordSize(idx, e, limit); err != nil {
			return err
		}
	}
	return nil
}

// route returns the open shard whose hash-key range holds h. Open shards
// cover the whole hash-key space, so there always is one.
func (st *stream) route(h hashKey) *shardState {
	i := sort.Search(len(st.open), func(i int) bool { return h.less(st.open[i].hashStart) })
	return st.open[i-1]
}

// enqueue hands op to the writer and waits until it has been committed (or
// failed). Once handed over, the op completes even if ctx is cancelled, so
// that an acknowledged append is never reported as failed.
func (s *Store) enqueue(ctx context.Context, op *writeOp) error {
	if err := s.queue(ctx, op); err != nil {
		return err
	}
	<-op.done
	return op.err
}

// queue hands op to the writer without waiting for it: ops queued one
// after the other are committed in that order. Once queued, op.done is
// closed when op is committed or failed.
func (s *Store) queue(ctx context.Context, op *writeOp) error {
	op.done = make(chan struct{})
	s.closeMu.RLock()
	if s.closed.Load() {
		s.closeMu.RUnlock()
		return errClosed
	}
	select {
	case s.writeCh <- op:
	case <-ctx.Done():
		s.closeMu.RUnlock()
		return ctx.Err()
	}
	s.closeMu.RUnlock()
	return nil
}

// writeLoop is the single writer: it assigns sequence numbers and commits
// queued operations in groups, so concurrent producers share one fsync.
func (s *Store) writeLoop() {
	defer s.wg.Done()
	ops := make([]*writeOp, 0, 64)
	defer close(s.writerDone)
	for {
		var first *writeOp
		select {
		case first = <-s.writeCh:
		case <-s.closing:
			// Close holds no enqueuer any more: drain what is queued.
			for {
				select {
				case op := <-s.writeCh:
					s.commitGroup([]*writeOp{op})
				default:
					return
				}
			}
		}
		ops = append(ops[:0], first)
		size := first.size
	collect:
		for len(ops) < maxGroupOps && size < maxGroupBytes {
			select {
			case op := <-s.writeCh:
				ops = append(ops, op)
				size += op.size
			default:
				break collect
			}
		}
		s.commitGroup(ops)
	}
}

// commitGroup writes ops in one Pebble batch and acknowledges them.
func (s *Store) commitGroup(ops []*writeOp) {
	b := s.db.NewBatch()
	defer b.Close()
	now := s.cfg.now().UnixMilli()
	var touched []*shardState
	seen := make(map[*shardState]struct{}, 4)
	// staged are Commit's value writes, for later preconditions (expect.go).
	var staged stagedValues
	resharded := false // s.mu is held for writing from the first reshard on
	for _, op := range ops {
		if op.reshard != nil {
			if !resharded {
				s.mu.Lock()
				resharded = true
			}
			s.stageReshard(b, op, now)
			continue
		}
		if op.del {
			for _, p := range []byte{prefixRecord, prefixTime, prefixHigh} {
				start, end := streamSpan(p, op.st.id)
				_ = b.DeleteRange(start, end, nil)
			}
			continue
		}
		if op.txn != nil {
			s.stageTxn(b, op, now, seen, &touched, &staged)
			continue
		}
		if op.st.deleted.Load() {
			op.err = s.notFound(op.st.name)
			continue
		}
		op.results = stageAppend(b, op.entries, op.routes, now, seen, &touched, s.sealing(&op.seal))
	}
	for _, sh := range touched {
		var v [16]byte
		binary.BigEndian.PutUint64(v[:8], sh.assign)
		binary.BigEndian.PutUint64(v[8:], uint64(sh.lastIndexedMs))
		_ = b.Set(highKey(sh.streamID, sh.index), v[:], nil)
	}
	wo := pebble.Sync
	if s.cfg.durability == DurabilityRelaxed && !resharded && !syncTxn(ops) { // a reshard is always synced
		wo = pebble.NoSync
	}
	err := b.Commit(wo)
	if resharded {
		s.installReshards(ops, err)
	}
	for _, sh := range touched {
		sh.settle(err == nil)
	}
	if err == nil {
		for _, op := range ops {
			if op.del {
				s.compactDeleted(op.st)
			}
		}
	}
	if err != nil {
		// The counters are handed out again: sealing them again under
		// the same epoch would repeat nonces (encryption.go, newEpoch).
		s.epoch = newEpoch()
		for _, sh := range touched {
			// Nothing of the batch is visible: hand the counters out again.
			sh.assign, sh.lastIndexedMs = s.committedState(sh)
		}
	} else if s.cfg.durability == DurabilityRelaxed {
		s.syncMu.Lock()
		for _, sh := range touched {
			s.unsynced[sh] = published{next: sh.assign, arrivalMs: sh.lastIndexedMs}
		}
		s.syncMu.Unlock()
		select {
		case s.syncKick <- struct{}{}:
		default:
		}
	} else {
		for _, sh := range touched {
			sh.publish(published{next: sh.assign, arrivalMs: sh.lastIndexedMs})
		}
	}
	for _, op := range ops {
		if err != nil && op.err == nil {
			s.cfg.logger.Error("commit failed", "err", err)
			op.err = fmt.Errorf("commit %d operations: %w", len(ops), err)
			op.results = nil
		}
		close(op.done)
	}
}

// stageAppend adds entries to b, routed to routes, assigning counters and
// noting each shard it touches once in touched.
func stageAppend(b *pebble.Batch, entries []Entry, routes []*shardState, now int64,
	seen map[*shardState]struct{}, touched *[]*shardState, seal *sealer) []AppendResult {
	results := make([]AppendResult, len(entries))
	// The sequence numbers share one string: this runs on the single
	// writer goroutine, where a string per record showed in profiles.
	seqs := make([]byte, 0, len(entries)*SequenceNumberLen)
	for i, e := range entries {
		sh := routes[i]
		if sh.succ != nil { // closed by a reshard since it was routed
			sh = reroute(sh, e)
		}
		if _, ok := seen[sh]; !ok {
			seen[sh] = struct{}{}
			*touched = append(*touched, sh)
		}
		ctr := sh.assign
		sh.assign++
		// Invariant: arrival times never decrease within a shard, so the
		// time index stays sorted by counter too.
		arrival := max(now, sh.lastIndexedMs)
		if arrival > sh.lastIndexedMs {
			var v [8]byte
			binary.BigEndian.PutUint64(v[:], ctr)
			_ = b.Set(timeKey(sh.streamID, sh.index, arrival), v[:], nil)
			sh.lastIndexedMs = arrival
		}
		if seal == nil {
			d := b.SetDeferred(recordKeyLen, encodedRecordLen(e.PartitionKey, e.Data))
			putRecordKey(d.Key, sh.streamID, sh.index, ctr)
			putRecordValue(d.Value, arrival, e.PartitionKey, e.Data)
			_ = d.Finish()
		} else {
			seal.stage(b, sh, ctr, arrival, e)
			results[i].Encrypted = true
		}
		sh.stage(len(e.Data) + len(e.PartitionKey))
		results[i].ShardID = sh.id
		seqs = appendSeq(seqs, sh.streamID, sh.index, ctr)
	}
	// The results alias seqs instead of a copy of it (the copy was a
	// quarter of this function's time). Invariant: nothing writes seqs
	// from here on.
	all := unsafe.String(unsafe.SliceData(seqs), len(seqs))
	for i := range results {
		results[i].SequenceNumber = all[i*SequenceNumberLen : (i+1)*SequenceNumberLen]
	}
	return results
}

// published is a shard's readable state: the first counter not yet readable
// and the arrival time of the last readable record.
type published struct {
	next      uint64
	arrivalMs int64
}

// publish makes records up to p.next readable and wakes waiting readers.
func (sh *shardState) publish(p published) {
	sh.lastArrivalMs.Store(p.arrivalMs)
	sh.next.Store(p.next)
	sh.broadcast()
}

// committedState returns what the writer has committed for sh: in relaxed
// mode that may be ahead of what readers see. Only the writer calls it.
func (s *Store) committedState(sh *shardState) (next uint64, arrivalMs int64) {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if p, ok := s.unsynced[sh]; ok {
		return p.next, p.arrivalMs
	}
	return sh.next.Load(), sh.lastArrivalMs.Load()
}

// syncLoop runs in relaxed mode: it fsyncs the WAL back to back while there
// are commits that are not yet durable, and after each fsync publishes what
// was committed before it. Producers are acknowledged before the fsync;
// readers only ever see fsynced records. In sync mode it only waits to exit.
func (s *Store) syncLoop() {
	defer s.wg.Done()
	for {
		select {
		case <-s.syncKick:
			s.syncAndPublish()
		case <-s.writerDone:
			s.syncAndPublish()
			return
		}
	}
}

func (s *Store) syncAndPublish() {
	s.syncMu.Lock()
	pending := s.unsynced
	if len(pending) == 0 {
		s.syncMu.Unlock()
		return
	}
	s.unsynced = make(map[*shardState]published, len(pending))
	s.syncMu.Unlock()
	// Everything in pending was committed before this call, so it precedes
	// this entry in the WAL and is durable once the call returns.
	if err := s.db.LogData(nil, pebble.Sync); err != nil {
		s.cfg.logger.Error("WAL sync failed; records stay unreadable until the next sync succeeds", "err", err)
		s.syncMu.Lock()
		for sh, p := range pending {
			if _, newer := s.unsynced[sh]; !newer {
				s.unsynced[sh] = p
			}
		}
		s.syncMu.Unlock()
		return
	}
	for sh, p := range pending {
		sh.publish(p)
	}
}
