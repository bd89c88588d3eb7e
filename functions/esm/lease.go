package esm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spatehq/spate/internal/ctxsleep"
	"github.com/spatehq/spate/shard"
)

// Leases.
//
// A poller holds its (mapping, shard) lease while it runs: a record in the
// value space ("l/" + UUID + "/" + shard) naming its owner, a counter that
// grows with every acquisition, and an expiry its heartbeat pushes
// forward. Every checkpoint it writes expects the lease value it last
// wrote (shard.ValueExpect), so once the lease has moved on, a poller that
// was presumed stuck and replaced cannot write a checkpoint any more: its
// commit fails and it stops (fencing).
//
// The poller heartbeats only while each of its goroutines (the reader and
// every lane) shows life: each stamps a clock as it loops and declares how
// long a blocking step (an invocation, a backoff) may take. A goroutine
// stuck past that lets the lease expire; the runner's supervisor then
// replaces the poller, whose replacement takes the lease over once it has
// expired.
//
// Spate's store is opened by one process at a time, so a lease whose owner
// is not this Service (an earlier process, killed or stopped) is void:
// after a restart the pollers start at once instead of waiting out the old
// leases.

var errLeaseLost = errors.New("lease lost: another poller took this shard over")

// liveness is one goroutine's sign of life.
type liveness struct {
	beat      atomic.Int64 // unix ms of its last loop
	busyUntil atomic.Int64 // unix ms until which a blocking step may run
}

func (l *liveness) stamp(now time.Time) { l.beat.Store(now.UnixMilli()) }

// busy declares a blocking step of at most d from now; idle ends it.
func (l *liveness) busy(now time.Time, d time.Duration) {
	l.stamp(now)
	l.busyUntil.Store(now.Add(d).UnixMilli())
}

func (l *liveness) idle(now time.Time) {
	l.stamp(now)
	l.busyUntil.Store(0)
}

func (l *liveness) alive(now time.Time, timeout time.Duration) bool {
	ms := now.UnixMilli()
	return ms-l.beat.Load() < timeout.Milliseconds() || ms < l.busyUntil.Load()
}

// acquire takes the poller's lease, waiting while another live poller of
// this Service holds it.
func (p *poller) acquire(ctx context.Context) error {
	key := leaseKey(p.r.uuid, p.shardID)
	for {
		p.life.stamp(p.now())
		old, ok, err := p.s.store.GetValue(valuesNS, key)
		if err != nil {
			return fmt.Errorf("read lease: %w", err)
		}
		var cur lease
		if ok {
			if err := json.Unmarshal(old, &cur); err != nil {
				return fmt.Errorf("decode lease %s: %w", key, err)
			}
		}
		now := p.now()
		mine := strings.HasPrefix(cur.Owner, p.s.node+"/")
		if ok && mine && cur.ExpiresMs > now.UnixMilli() {
			// A poller of this Service holds it (one being replaced):
			// wait for it to expire.
			if ctxsleep.Sleep(ctx, min(time.Duration(cur.ExpiresMs-now.UnixMilli())*time.Millisecond, p.s.cfg.leaseTimeout/4)+time.Millisecond) != nil {
				return ctx.Err()
			}
			continue
		}
		next := lease{Owner: p.s.node + "/" + p.id, Counter: cur.Counter + 1, ExpiresMs: now.Add(p.s.cfg.leaseTimeout).UnixMilli()}
		v, _ := json.Marshal(next)
		exp := shard.ValueExpect{Key: key, Value: old, Absent: !ok}
		_, err = p.s.store.Commit(ctx, shard.Commit{Namespace: valuesNS, Sync: true,
			Values: []shard.ValueWrite{{Key: key, Value: v}}, Expect: []shard.ValueExpect{exp}})
		if shard.ConditionFailed(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("take lease: %w", err)
		}
		p.leaseMu.Lock()
		p.leaseVal = v
		p.leaseMu.Unlock()
		return nil
	}
}

// commitFenced writes values expecting the poller's lease; it fails with
// errLeaseLost once the lease moved on. With renew set it also renews the
// lease.
func (p *poller) commitFenced(ctx context.Context, writes []shard.ValueWrite, renew bool) error {
	p.leaseMu.Lock()
	defer p.leaseMu.Unlock()
	if p.leaseVal == nil {
		return errLeaseLost
	}
	key := leaseKey(p.r.uuid, p.shardID)
	var next []byte
	if renew {
		var l lease
		_ = json.Unmarshal(p.leaseVal, &l)
		l.ExpiresMs = p.now().Add(p.s.cfg.leaseTimeout).UnixMilli()
		next, _ = json.Marshal(l)
		writes = append(writes, shard.ValueWrite{Key: key, Value: next})
	}
	_, err := p.s.store.Commit(ctx, shard.Commit{Namespace: valuesNS, Sync: true, Values: writes,
		Expect: []shard.ValueExpect{{Key: key, Value: p.leaseVal}}})
	if shard.ConditionFailed(err) {
		p.leaseVal = nil
		p.cancel()
		return errLeaseLost
	}
	if err != nil {
		return err
	}
	if renew {
		p.leaseVal = next
	}
	return nil
}

// heartbeat renews the lease while the poller shows life, until ctx ends.
func (p *poller) heartbeat(ctx context.Context) {
	t := time.NewTicker(p.s.cfg.leaseTimeout / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !p.alive(p.now()) {
			p.log().Warn("poller shows no life; letting its lease expire so it is replaced")
			return
		}
		if err := p.commitFenced(ctx, nil, true); err != nil {
			if errors.Is(err, errLeaseLost) {
				return
			}
			if ctx.Err() == nil {
				p.log().Error("renewing the lease failed; retrying", "err", err)
			}
		}
	}
}

// release gives the lease up (expired now), so a successor starts at once.
func (p *poller) release() {
	p.leaseMu.Lock()
	defer p.leaseMu.Unlock()
	if p.leaseVal == nil {
		return
	}
	var l lease
	_ = json.Unmarshal(p.leaseVal, &l)
	l.ExpiresMs = 0
	v, _ := json.Marshal(l)
	key := leaseKey(p.r.uuid, p.shardID)
	// The poller's context has ended; this short write must not.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _ = p.s.store.Commit(ctx, shard.Commit{Namespace: valuesNS, Sync: true,
		Values: []shard.ValueWrite{{Key: key, Value: v}}, Expect: []shard.ValueExpect{{Key: key, Value: p.leaseVal}}})
	p.leaseVal = nil
}
