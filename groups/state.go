package groups

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/shard"
)

// namespace is the value namespace of groups (see the package doc).
const namespace = "groups"

func metaKey(sid uint32, group string) string { return fmt.Sprintf("m/%08x/%s", sid, group) }
func leasePrefix(sid uint32, group string) string {
	return fmt.Sprintf("l/%08x/%s/", sid, group)
}
func workerPrefix(sid uint32, group string) string {
	return fmt.Sprintf("w/%08x/%s/", sid, group)
}

// groupMeta is a group's settings ("m/" key).
type groupMeta struct {
	Stream string `json:"stream"`
	// Gen tells this group from an earlier one of the same name: records
	// with another generation are ignored (they were not deleted in the
	// same commit as the group, see Delete).
	Gen            int64              `json:"gen"`
	Initial        shard.IteratorType `json:"initial"`
	InitialMs      int64              `json:"initialMs,omitempty"`
	LeaseTimeoutMs int64              `json:"leaseTimeoutMs"`
}

// leaseRecord is a lease ("l/" key). A shard without one has a free
// lease with counter 0 and no checkpoint.
type leaseRecord struct {
	Gen        int64  `json:"gen"`
	Owner      string `json:"owner,omitempty"`
	Counter    uint64 `json:"counter"`
	ExpiresMs  int64  `json:"expiresMs,omitempty"`
	Checkpoint string `json:"checkpoint,omitempty"`
	Finished   bool   `json:"finished,omitempty"`
}

// workerRecord is a worker ("w/" key).
type workerRecord struct {
	Gen       int64 `json:"gen"`
	ExpiresMs int64 `json:"expiresMs"`
}

// snapshot is a group as read at one moment, with the raw records that a
// change expects unchanged when it commits.
type snapshot struct {
	stream string
	sid    uint32
	group  string
	now    int64 // ms, the server's clock
	pos    shard.StreamPositions
	shards map[string]*shard.ShardPosition

	meta    groupMeta
	metaRaw []byte // nil: no group

	leases    map[string]leaseRecord // this generation's only
	leaseRaw  map[string][]byte      // every record, by shard ID
	workers   map[string]workerRecord
	workerRaw map[string][]byte
}

// load reads a group. The group need not exist (metaRaw is then nil).
func (s *Service) load(ctx context.Context, ref Ref) (*snapshot, error) {
	if err := validateGroup(ref.Group); err != nil {
		return nil, err
	}
	name, err := s.store.ResolveStream(ref.Stream, ref.StreamARN)
	if err != nil {
		return nil, err
	}
	pos, err := s.store.Positions(ctx, name)
	if err != nil {
		return nil, err
	}
	sn := &snapshot{stream: name, sid: pos.ID, group: ref.Group, now: s.cfg.now().UnixMilli(), pos: pos,
		shards: make(map[string]*shard.ShardPosition, len(pos.Shards)),
		leases: map[string]leaseRecord{}, leaseRaw: map[string][]byte{},
		workers: map[string]workerRecord{}, workerRaw: map[string][]byte{}}
	for i := range pos.Shards {
		sn.shards[pos.Shards[i].ShardID] = &pos.Shards[i]
	}
	raw, ok, err := s.store.GetValue(namespace, metaKey(sn.sid, ref.Group))
	if err != nil {
		return nil, err
	}
	if !ok {
		return sn, nil
	}
	if err := json.Unmarshal(raw, &sn.meta); err != nil {
		return nil, fmt.Errorf("group %s of %s: %w", ref.Group, name, err)
	}
	sn.metaRaw = raw
	lp, wp := leasePrefix(sn.sid, ref.Group), workerPrefix(sn.sid, ref.Group)
	err = s.store.ScanValues(namespace, lp, func(k string, v []byte) error {
		id := k[len(lp):]
		sn.leaseRaw[id] = append([]byte(nil), v...)
		var l leaseRecord
		if err := json.Unmarshal(v, &l); err != nil {
			return fmt.Errorf("lease %s of group %s: %w", id, ref.Group, err)
		}
		if l.Gen == sn.meta.Gen {
			sn.leases[id] = l
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.store.ScanValues(namespace, wp, func(k string, v []byte) error {
		id := k[len(wp):]
		sn.workerRaw[id] = append([]byte(nil), v...)
		var w workerRecord
		if err := json.Unmarshal(v, &w); err != nil {
			return fmt.Errorf("worker %s of group %s: %w", id, ref.Group, err)
		}
		if w.Gen == sn.meta.Gen {
			sn.workers[id] = w
		}
		return nil
	})
	return sn, err
}

// exists fails with ResourceNotFoundException when the group does not.
func (sn *snapshot) exists() error {
	if sn.metaRaw == nil {
		return apierr.New(apierr.ResourceNotFound, "group %s of stream %s not found", sn.group, sn.stream)
	}
	return nil
}

func (sn *snapshot) timeout() int64 { return sn.meta.LeaseTimeoutMs }

// liveWorker reports whether a worker is a live member.
func (sn *snapshot) liveWorker(id string) bool {
	w, ok := sn.workers[id]
	return ok && w.ExpiresMs > sn.now
}

// lease returns a shard's lease: its record, or a free lease. In a LATEST
// group a shard without a record is one born after the group was created
// (or reset), which is read from its start: its checkpoint is its
// StartingSequenceNumber, so no record of a reshard's child is skipped.
func (sn *snapshot) lease(shardID string) leaseRecord {
	if l, ok := sn.leases[shardID]; ok {
		return l
	}
	l := leaseRecord{Gen: sn.meta.Gen}
	if sn.meta.Initial == shard.Latest {
		if p, ok := sn.shards[shardID]; ok {
			l.Checkpoint = startOf(p.Latest)
		}
	}
	return l
}

// live reports whether a lease is held and not expired.
func (sn *snapshot) live(l leaseRecord) bool { return l.Owner != "" && l.ExpiresMs > sn.now }

// startOf returns the StartingSequenceNumber of the shard of seq.
func startOf(seq string) string {
	p, err := shard.ParseSequenceNumber(seq)
	if err != nil {
		return ""
	}
	p.Counter = 0
	return shard.FormatSequenceNumber(p)
}

// txn collects a change: record writes, each expecting the record read.
type txn struct {
	sn     *snapshot
	commit shard.Commit
	// counted are the rebalance events to count once it commits.
	acquired, stolen, expired uint64
}

func (sn *snapshot) txn() *txn {
	// Sync: a lease or checkpoint a crash took back would break fencing
	// and monotonic checkpoints, whatever the store's durability mode.
	t := &txn{sn: sn, commit: shard.Commit{Namespace: namespace, Sync: true}}
	// Every change expects the group as read: a change racing a Delete,
	// a Reset or a re-creation fails and is computed again.
	if sn.metaRaw != nil {
		t.expect(metaKey(sn.sid, sn.group), sn.metaRaw)
	} else {
		t.expect(metaKey(sn.sid, sn.group), nil)
	}
	return t
}

// expect adds a precondition: the key holds raw (nil: nothing).
func (t *txn) expect(key string, raw []byte) {
	t.commit.Expect = append(t.commit.Expect, shard.ValueExpect{Key: key, Value: raw, Absent: raw == nil})
}

func (t *txn) set(key string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("groups: marshal %T: %v", v, err)) // plain structs: cannot fail
	}
	t.commit.Values = append(t.commit.Values, shard.ValueWrite{Key: key, Value: b})
}

func (t *txn) del(key string) {
	t.commit.Values = append(t.commit.Values, shard.ValueWrite{Key: key, Delete: true})
}

func (t *txn) putMeta(m groupMeta) { t.set(metaKey(t.sn.sid, t.sn.group), m) }

func (t *txn) putLease(shardID string, l leaseRecord) {
	k := leasePrefix(t.sn.sid, t.sn.group) + shardID
	t.expect(k, t.sn.leaseRaw[shardID])
	l.Gen = t.sn.meta.Gen
	t.set(k, l)
	t.sn.leases[shardID] = l // the snapshot now shows the change (view)
}

func (t *txn) putWorker(id string, w workerRecord) {
	k := workerPrefix(t.sn.sid, t.sn.group) + id
	t.expect(k, t.sn.workerRaw[id])
	w.Gen = t.sn.meta.Gen
	t.set(k, w)
	t.sn.workers[id] = w
}

func (t *txn) delWorker(id string) {
	k := workerPrefix(t.sn.sid, t.sn.group) + id
	t.expect(k, t.sn.workerRaw[id])
	t.del(k)
	delete(t.sn.workers, id)
}

// update runs change on a fresh snapshot and commits what it decided,
// again from a new snapshot whenever the commit lost a race. change must
// decide from the snapshot alone; its error ends the update with nothing
// written.
func (s *Service) update(ctx context.Context, ref Ref, change func(sn *snapshot, t *txn) error) (*snapshot, [][]shard.AppendResult, error) {
	for attempt := 0; ; attempt++ {
		sn, err := s.load(ctx, ref)
		if err != nil {
			return nil, nil, err
		}
		t := sn.txn()
		if err := change(sn, t); err != nil {
			return nil, nil, err
		}
		if len(t.commit.Values) == 0 && len(t.commit.Appends) == 0 {
			return sn, nil, nil
		}
		res, err := s.store.Commit(ctx, t.commit)
		if shard.ConditionFailed(err) {
			if attempt+1 >= maxAttempts {
				return nil, nil, apierr.New(apierr.ConcurrentModification,
					"group %s of stream %s changed under %d attempts of this request; retry", sn.group, sn.stream, maxAttempts)
			}
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		s.count(sn.stream, sn.group, t)
		return sn, res, nil
	}
}

// view turns a snapshot into a Group, as it stands after the changes of
// its txn (which update the snapshot's records).
func (s *Service) view(sn *snapshot) Group {
	g := Group{Stream: sn.stream, Name: sn.group,
		Initial:      Position{Type: sn.meta.Initial},
		LeaseTimeout: time.Duration(sn.meta.LeaseTimeoutMs) * time.Millisecond,
		Counters:     s.counters(sn.stream, sn.group)}
	if sn.meta.InitialMs != 0 {
		g.Initial.Timestamp = time.UnixMilli(sn.meta.InitialMs).UTC()
	}
	owned := map[string][]string{}
	for i := range sn.pos.Shards {
		p := &sn.pos.Shards[i]
		out := sn.leaseView(p, sn.lease(p.ShardID))
		if out.Owner != "" {
			owned[out.Owner] = append(owned[out.Owner], p.ShardID)
		}
		g.Leases = append(g.Leases, out)
	}
	for id, w := range sn.workers {
		if w.ExpiresMs > sn.now {
			g.Workers = append(g.Workers, Worker{ID: id, Expires: time.UnixMilli(w.ExpiresMs).UTC(), Shards: owned[id]})
		}
	}
	slices.SortFunc(g.Workers, func(a, b Worker) int { return strings.Compare(a.ID, b.ID) })
	return g
}
