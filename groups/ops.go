package groups

import (
	"context"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/shard"
)

// Join registers a worker with a group, creating the group on first use.
// Joining again renews the worker. It fails with LimitExceededException
// when the stream has the most groups (creating one) or the group the most
// live workers (a new worker).
func (s *Service) Join(ctx context.Context, in JoinInput) (Group, error) {
	if err := validateWorker(in.Worker); err != nil {
		return Group{}, err
	}
	initial, timeout, err := s.checkNew(in)
	if err != nil {
		return Group{}, err
	}
	sn, _, err := s.update(ctx, in.Ref, func(sn *snapshot, t *txn) error {
		if sn.metaRaw == nil {
			n, err := s.countGroups(sn.sid)
			if err != nil {
				return err
			}
			if n >= s.cfg.maxGroups {
				return apierr.New(apierr.LimitExceeded,
					"stream %s has %d groups, the most this server allows (--group-max-per-stream): delete one first", sn.stream, n)
			}
			sn.meta = groupMeta{Stream: sn.stream, Gen: s.cfg.now().UnixNano(), Initial: initial.Type, LeaseTimeoutMs: timeout.Milliseconds()}
			if initial.Type == shard.AtTimestamp {
				sn.meta.InitialMs = initial.Timestamp.UnixMilli()
			}
			t.putMeta(sn.meta)
			if initial.Type == shard.Latest {
				atTips(sn, t)
			}
		}
		live := 0
		for id, w := range sn.workers {
			switch {
			case id == in.Worker:
			case w.ExpiresMs > sn.now:
				live++
			default:
				t.delWorker(id) // a dead worker's record: its leases lapse on their own
			}
		}
		for id, raw := range sn.workerRaw {
			if _, ok := sn.workers[id]; !ok && raw != nil && id != in.Worker {
				t.expect(workerPrefix(sn.sid, sn.group)+id, raw) // of an earlier generation
				t.del(workerPrefix(sn.sid, sn.group) + id)
			}
		}
		if _, ok := sn.workers[in.Worker]; !ok && live >= s.cfg.maxWorkers {
			return apierr.New(apierr.LimitExceeded,
				"group %s of stream %s has %d live workers, the most this server allows (--group-max-workers)", sn.group, sn.stream, live)
		}
		t.putWorker(in.Worker, workerRecord{ExpiresMs: sn.now + sn.timeout()})
		return nil
	})
	if err != nil {
		return Group{}, err
	}
	return s.view(sn), nil
}

// checkNew validates the settings of a group that Join may create.
func (s *Service) checkNew(in JoinInput) (Position, time.Duration, error) {
	p := in.Initial
	switch p.Type {
	case "":
		p.Type = shard.TrimHorizon
		fallthrough
	case shard.TrimHorizon, shard.Latest:
		if !p.Timestamp.IsZero() {
			return p, 0, apierr.New(apierr.InvalidArgument, "initial_timestamp is only allowed with initial_position AT_TIMESTAMP")
		}
	case shard.AtTimestamp:
		if p.Timestamp.IsZero() {
			return p, 0, apierr.New(apierr.InvalidArgument, "initial_position AT_TIMESTAMP needs initial_timestamp")
		}
	default:
		return p, 0, apierr.New(apierr.InvalidArgument,
			"initial_position %s is invalid: use TRIM_HORIZON, LATEST or AT_TIMESTAMP", p.Type)
	}
	d := in.LeaseTimeout
	if d == 0 {
		d = s.cfg.leaseTimeout
	}
	if d < MinLeaseTimeout || d > MaxLeaseTimeout {
		return p, 0, apierr.New(apierr.InvalidArgument,
			"lease_timeout_millis %d is out of range: use %d to %d, or 0 for the server's default",
			d.Milliseconds(), MinLeaseTimeout.Milliseconds(), MaxLeaseTimeout.Milliseconds())
	}
	return p, d, nil
}

// atTips checkpoints every shard at its newest record (a closed one at
// its end, finished): a LATEST group reads what is written from now on.
// It keeps the leases' owners and counters.
func atTips(sn *snapshot, t *txn) {
	for _, p := range sn.pos.Shards {
		l := sn.leases[p.ShardID]
		l.Checkpoint, l.Finished = tip(p)
		t.putLease(p.ShardID, l)
	}
}

// tip returns a shard's checkpoint at its newest record: its newest
// sequence number, or its end (finished) when it is closed.
func tip(p shard.ShardPosition) (checkpoint string, finished bool) {
	if p.Closed {
		return p.Ending, true
	}
	return p.Latest, false
}

// countGroups counts a stream's groups.
func (s *Service) countGroups(sid uint32) (int, error) {
	n := 0
	err := s.store.ScanValues(namespace, metaKey(sid, ""), func(string, []byte) error { n++; return nil })
	return n, err
}

// member loads a group for a change by one of its workers: the group must
// exist and the worker be a member (live or lapsed, while its record is
// kept).
func member(sn *snapshot, worker string) error {
	if err := sn.exists(); err != nil {
		return err
	}
	if _, ok := sn.workers[worker]; !ok {
		return apierr.New(apierr.ResourceNotFound,
			"worker %s is not a member of group %s of stream %s: JoinGroup first", worker, sn.group, sn.stream)
	}
	return nil
}

// Heartbeat renews a worker and every lease it still holds (a lapsed one
// too, unless another worker took it since: its counter then moved on),
// and returns the group.
func (s *Service) Heartbeat(ctx context.Context, ref Ref, worker string) (Group, error) {
	if err := validateWorker(worker); err != nil {
		return Group{}, err
	}
	sn, _, err := s.update(ctx, ref, func(sn *snapshot, t *txn) error {
		if err := member(sn, worker); err != nil {
			return err
		}
		exp := sn.now + sn.timeout()
		t.putWorker(worker, workerRecord{ExpiresMs: exp})
		for _, p := range sn.pos.Shards {
			if l, ok := sn.leases[p.ShardID]; ok && l.Owner == worker {
				l.ExpiresMs = exp
				t.putLease(p.ShardID, l)
			}
		}
		return nil
	})
	if err != nil {
		return Group{}, err
	}
	return s.view(sn), nil
}

// Acquire takes a shard's lease for a live worker: a free or lapsed lease
// at once, a live lease of another worker (a steal) only when in.Counter
// is its counter. A lease the worker holds is renewed. It fails with
// ResourceInUseException when the lease is held and the counter does not
// match, when the shard is finished or when a parent is not.
func (s *Service) Acquire(ctx context.Context, in LeaseInput) (Lease, error) {
	if err := validateWorker(in.Worker); err != nil {
		return Lease{}, err
	}
	if err := validateShardID(in.ShardID); err != nil {
		return Lease{}, err
	}
	var out Lease
	_, _, err := s.update(ctx, in.Ref, func(sn *snapshot, t *txn) error {
		if err := member(sn, in.Worker); err != nil {
			return err
		}
		if !sn.liveWorker(in.Worker) {
			return apierr.New(apierr.ResourceNotFound,
				"worker %s of group %s has expired: JoinGroup again before taking leases", in.Worker, sn.group)
		}
		p, err := sn.shard(in.ShardID)
		if err != nil {
			return err
		}
		l := sn.lease(in.ShardID)
		if l.Finished {
			return apierr.New(apierr.ResourceInUse, "shard %s is finished in group %s: its children continue it", in.ShardID, sn.group)
		}
		for _, parent := range p.Parents {
			if _, listed := sn.shards[parent]; listed && !sn.lease(parent).Finished {
				return apierr.New(apierr.ResourceInUse,
					"shard %s cannot be leased before its parent %s is finished (checkpointed with shard_end)", in.ShardID, parent)
			}
		}
		switch {
		case sn.live(l) && l.Owner == in.Worker:
			// Renewal: the counter stays.
		case sn.live(l):
			if in.Counter != l.Counter {
				return apierr.New(apierr.ResourceInUse,
					"the lease of shard %s is held by %s with lease_counter %d; a steal must name it as expected_lease_counter",
					in.ShardID, l.Owner, l.Counter)
			}
			t.stolen++
			l.Counter++
		default:
			if l.Owner != "" && l.Owner != in.Worker {
				t.expired++
			}
			l.Counter++
		}
		if l.Counter != sn.lease(in.ShardID).Counter {
			t.acquired++
		}
		l.Owner, l.ExpiresMs = in.Worker, sn.now+sn.timeout()
		t.putLease(in.ShardID, l)
		out = sn.leaseView(p, l)
		return nil
	})
	return out, err
}

// shard returns one of the stream's listed shards.
func (sn *snapshot) shard(id string) (*shard.ShardPosition, error) {
	p, ok := sn.shards[id]
	if !ok {
		return nil, apierr.New(apierr.ResourceNotFound, "shard %s of stream %s not found", id, sn.stream)
	}
	return p, nil
}

func (sn *snapshot) leaseView(p *shard.ShardPosition, l leaseRecord) Lease {
	out := Lease{ShardID: p.ShardID, Counter: l.Counter, Checkpoint: l.Checkpoint, Finished: l.Finished, Parents: p.Parents}
	if sn.live(l) {
		out.Owner, out.Expires = l.Owner, time.UnixMilli(l.ExpiresMs).UTC()
	}
	return out
}

// held checks that worker holds the lease with counter (lapsed but not
// taken counts: nobody else can have written since). It fails with
// LeaseLostException otherwise.
func (sn *snapshot) held(worker, shardID string, counter uint64) (leaseRecord, error) {
	l := sn.lease(shardID)
	if l.Owner != worker || l.Counter != counter {
		owner := l.Owner
		if owner == "" {
			owner = "nobody"
		}
		return l, apierr.New(apierr.LeaseLost,
			"worker %s does not hold the lease of shard %s with lease_counter %d (it is held by %s with lease_counter %d)",
			worker, shardID, counter, owner, l.Counter)
	}
	return l, nil
}

// Release hands a lease back, keeping its checkpoint. Releasing a lease
// that is already free with the same counter (a finished shard's, or a
// retry) succeeds; one that another worker took fails with
// LeaseLostException.
func (s *Service) Release(ctx context.Context, in LeaseInput) error {
	if err := validateWorker(in.Worker); err != nil {
		return err
	}
	if err := validateShardID(in.ShardID); err != nil {
		return err
	}
	_, _, err := s.update(ctx, in.Ref, func(sn *snapshot, t *txn) error {
		if err := sn.exists(); err != nil {
			return err
		}
		if _, err := sn.shard(in.ShardID); err != nil {
			return err
		}
		if l := sn.lease(in.ShardID); l.Owner == "" && l.Counter == in.Counter {
			return nil
		}
		l, err := sn.held(in.Worker, in.ShardID, in.Counter)
		if err != nil {
			return err
		}
		l.Owner, l.ExpiresMs = "", 0
		t.putLease(in.ShardID, l)
		return nil
	})
	return err
}

// Checkpoint records how far a worker processed a shard, with its output
// records in the same atomic batch. See CheckpointInput.
func (s *Service) Checkpoint(ctx context.Context, in CheckpointInput) ([]shard.AppendResult, error) {
	if err := validateWorker(in.Worker); err != nil {
		return nil, err
	}
	if err := validateShardID(in.ShardID); err != nil {
		return nil, err
	}
	if len(in.Output) > MaxOutputRecords {
		return nil, apierr.New(apierr.InvalidArgument, "a checkpoint carries at most %d output records; got %d", MaxOutputRecords, len(in.Output))
	}
	if len(in.Output) > 0 && in.OutputStream == "" {
		return nil, apierr.New(apierr.InvalidArgument, "output_records need output_stream_name")
	}
	if in.Sequence == "" && !in.ShardEnd {
		return nil, apierr.New(apierr.InvalidArgument, "sequence_number is required unless shard_end is set")
	}
	_, res, err := s.update(ctx, in.Ref, func(sn *snapshot, t *txn) error {
		if err := sn.exists(); err != nil {
			return err
		}
		p, err := sn.shard(in.ShardID)
		if err != nil {
			return err
		}
		l, err := sn.held(in.Worker, in.ShardID, in.Counter)
		if err != nil {
			return err
		}
		seq := in.Sequence
		if seq != "" {
			if err := checkSequence(sn, p, seq); err != nil {
				return err
			}
		}
		if in.ShardEnd {
			if !p.Closed {
				return apierr.New(apierr.InvalidArgument, "shard %s is open: shard_end is for a shard read to its end", in.ShardID)
			}
			seq = p.Ending
		}
		switch {
		case l.Checkpoint != "" && seq < l.Checkpoint:
			return apierr.New(apierr.InvalidArgument,
				"checkpoint %s of shard %s is before the group's checkpoint %s: checkpoints never go backwards", seq, in.ShardID, l.Checkpoint)
		case len(in.Output) > 0 && seq == l.Checkpoint && !(in.ShardEnd && !l.Finished):
			// A retry of a committed checkpoint must not write its
			// output again.
			return apierr.New(apierr.InvalidArgument,
				"shard %s is already checkpointed at %s: its output records were committed with that checkpoint", in.ShardID, seq)
		}
		l.Checkpoint = seq
		if in.ShardEnd {
			// Finished: the lease is handed back, its children may go.
			l.Finished, l.Owner, l.ExpiresMs = true, "", 0
		}
		t.putLease(in.ShardID, l)
		if len(in.Output) > 0 {
			t.commit.Appends = []shard.StreamAppend{{Stream: in.OutputStream, Entries: in.Output}}
		}
		return nil
	})
	if err != nil || len(res) == 0 {
		return nil, err
	}
	return res[0], nil
}

// checkSequence checks that seq is a sequence number of shard p that has
// been written.
func checkSequence(sn *snapshot, p *shard.ShardPosition, seq string) error {
	sp, err := shard.ParseSequenceNumber(seq)
	if err != nil {
		return err
	}
	if sp.StreamID != sn.sid || sp.Shard != p.ShardID {
		return apierr.New(apierr.InvalidArgument, "sequence number %s is not of shard %s of stream %s", seq, p.ShardID, sn.stream)
	}
	if limit, _ := tip(*p); seq > limit {
		return apierr.New(apierr.InvalidArgument, "sequence number %s of shard %s has not been written yet", seq, p.ShardID)
	}
	return nil
}

// Leave releases every lease of a worker and removes it. Leaving a group
// one is not a member of succeeds.
func (s *Service) Leave(ctx context.Context, ref Ref, worker string) error {
	if err := validateWorker(worker); err != nil {
		return err
	}
	_, _, err := s.update(ctx, ref, func(sn *snapshot, t *txn) error {
		if err := sn.exists(); err != nil {
			return err
		}
		if _, ok := sn.workers[worker]; !ok {
			return nil
		}
		for id, l := range sn.leases {
			if l.Owner == worker {
				l.Owner, l.ExpiresMs = "", 0
				t.putLease(id, l)
			}
		}
		t.delWorker(worker)
		return nil
	})
	return err
}

// Describe returns a group with each lease's lag.
func (s *Service) Describe(ctx context.Context, ref Ref) (Group, error) {
	sn, err := s.load(ctx, ref)
	if err != nil {
		return Group{}, err
	}
	if err := sn.exists(); err != nil {
		return Group{}, err
	}
	g := s.view(sn)
	for i := range g.Leases {
		l := &g.Leases[i]
		if l.Finished {
			continue
		}
		l.LagRecords, l.MillisBehind, err = s.store.Lag(ctx, sn.stream, l.ShardID, l.Checkpoint)
		if apierr.Is(err, apierr.ResourceNotFound) { // dropped since listed
			err = nil
		}
		if err != nil {
			return Group{}, err
		}
	}
	return g, nil
}

// List returns the names of a stream's groups, sorted.
func (s *Service) List(ctx context.Context, stream, arn string) ([]string, error) {
	name, err := s.store.ResolveStream(stream, arn)
	if err != nil {
		return nil, err
	}
	pos, err := s.store.Positions(ctx, name)
	if err != nil {
		return nil, err
	}
	prefix := metaKey(pos.ID, "")
	out := []string{}
	err = s.store.ScanValues(namespace, prefix, func(k string, _ []byte) error {
		out = append(out, k[len(prefix):])
		return nil
	})
	return out, err
}

// Reset moves a group's checkpoints: every shard's to TRIM_HORIZON, LATEST
// or AT_TIMESTAMP (the group's initial position becomes it), or one
// shard's so that reading resumes at a sequence number
// (AT_SEQUENCE_NUMBER). Checkpoints may go backwards here, so it fails with
// ResourceInUseException while the group has live workers; every lease's
// counter grows, fencing any worker still running.
func (s *Service) Reset(ctx context.Context, in ResetInput) (Group, error) {
	if err := validateShardID(in.ShardID); err != nil {
		return Group{}, err
	}
	sn, _, err := s.update(ctx, in.Ref, func(sn *snapshot, t *txn) error {
		if err := sn.exists(); err != nil {
			return err
		}
		for id, w := range sn.workers {
			if w.ExpiresMs > sn.now {
				return apierr.New(apierr.ResourceInUse,
					"group %s of stream %s has live workers (%s): stop them, or wait %d ms after they stopped",
					sn.group, sn.stream, id, sn.timeout())
			}
		}
		fence := func(id string, l leaseRecord) leaseRecord {
			l.Owner, l.ExpiresMs = "", 0
			l.Counter = sn.lease(id).Counter + 1
			return l
		}
		switch in.Position.Type {
		case shard.TrimHorizon, shard.Latest, shard.AtTimestamp:
			if in.ShardID != "" || in.Sequence != "" {
				return apierr.New(apierr.InvalidArgument, "shard_id and sequence_number are for position AT_SEQUENCE_NUMBER only")
			}
			if (in.Position.Type == shard.AtTimestamp) == in.Position.Timestamp.IsZero() {
				return apierr.New(apierr.InvalidArgument, "timestamp is required with position AT_TIMESTAMP, and only with it")
			}
			m := sn.meta
			m.Initial, m.InitialMs = in.Position.Type, 0
			if in.Position.Type == shard.AtTimestamp {
				m.InitialMs = in.Position.Timestamp.UnixMilli()
			}
			t.putMeta(m)
			sn.meta = m
			for _, p := range sn.pos.Shards {
				l := fence(p.ShardID, leaseRecord{})
				if in.Position.Type == shard.Latest {
					l.Checkpoint, l.Finished = tip(p)
				}
				t.putLease(p.ShardID, l)
			}
		case shard.AtSequenceNumber:
			p, err := sn.shard(in.ShardID)
			if err != nil {
				return err
			}
			if err := checkSequence(sn, p, in.Sequence); err != nil {
				return err
			}
			sp, _ := shard.ParseSequenceNumber(in.Sequence)
			if sp.Counter > 0 {
				sp.Counter-- // the checkpoint is the record before
			}
			l := fence(in.ShardID, leaseRecord{})
			l.Checkpoint = shard.FormatSequenceNumber(sp)
			t.putLease(in.ShardID, l)
		default:
			return apierr.New(apierr.InvalidArgument,
				"position %q is invalid: use TRIM_HORIZON, LATEST, AT_TIMESTAMP or AT_SEQUENCE_NUMBER", in.Position.Type)
		}
		return nil
	})
	if err != nil {
		return Group{}, err
	}
	return s.view(sn), nil
}

// Delete removes a group with its leases, checkpoints and workers.
func (s *Service) Delete(ctx context.Context, ref Ref) error {
	sn, _, err := s.update(ctx, ref, func(sn *snapshot, t *txn) error {
		if err := sn.exists(); err != nil {
			return err
		}
		t.del(metaKey(sn.sid, sn.group))
		for id, raw := range sn.leaseRaw {
			t.expect(leasePrefix(sn.sid, sn.group)+id, raw)
			t.del(leasePrefix(sn.sid, sn.group) + id)
		}
		for id, raw := range sn.workerRaw {
			t.expect(workerPrefix(sn.sid, sn.group)+id, raw)
			t.del(workerPrefix(sn.sid, sn.group) + id)
		}
		return nil
	})
	if err == nil {
		s.forget(sn.stream, sn.group)
	}
	return err
}
