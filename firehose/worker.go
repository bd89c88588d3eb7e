package firehose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/spatehq/spate/shard"
)

// checkpoint is a worker's persisted position ("ck/<name>/<created>/<shard>").
type checkpoint struct {
	// Next is the sequence number of the next record to read
	// (AT_SEQUENCE_NUMBER); empty means the delivery stream's start.
	Next string `json:"next,omitempty"`
	// Intent is the batch being delivered, if any (see the package doc).
	Intent *intent `json:"intent,omitempty"`
}

// intent is an inclusive range of sequence numbers of one source shard.
type intent struct {
	First string `json:"first"`
	Last  string `json:"last"`
}

// batch is a unit of delivery: the records of one source shard from First
// to Last.
type batch struct {
	shardID string
	first   string
	last    string
	records []shard.Record
}

// deliverer delivers a batch to one destination. It must be idempotent: it
// may be called again with the same batch after a failure or a crash.
type deliverer interface {
	deliver(ctx context.Context, b *batch) error
	kind() string // metric label: "s3" or "elasticsearch"
}

// worker delivers one source shard of a delivery stream.
type worker struct {
	s        *Service
	meta     dsMeta
	shardID  string
	ckKey    string
	out      deliverer
	sizeMax  int
	interval time.Duration

	// oldestPendingMs is the arrival time of the oldest record read but not
	// yet delivered, 0 when there is none (DataFreshness).
	oldestPendingMs atomic.Int64
}

// startLocked starts the workers of m. The caller holds s.mu.
func (s *Service) startLocked(m dsMeta) error {
	out, hints, err := s.newDeliverer(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(s.ctx)
	ds := &deliveryStream{meta: m, cancel: cancel, done: make(chan struct{})}
	shards, err := s.store.ListShards(ctx, shard.ListShardsInput{Stream: m.SourceStream, MaxResults: shard.MaxListLimit})
	if err != nil {
		cancel()
		return fmt.Errorf("list shards of source %s: %w", m.SourceStream, err)
	}
	for _, sh := range shards.Shards {
		ds.workers = append(ds.workers, &worker{
			s: s, meta: m, shardID: sh.ShardID, out: out,
			ckKey:    fmt.Sprintf("ck/%s/%d/%s", m.Name, m.CreatedAtMs, sh.ShardID),
			sizeMax:  *hints.SizeInMBs << 20,
			interval: time.Duration(*hints.IntervalInSeconds) * time.Second,
		})
	}
	s.streams[m.Name] = ds
	finished := make(chan struct{}, len(ds.workers))
	for _, w := range ds.workers {
		go func() {
			defer func() { finished <- struct{}{} }()
			w.run(ctx)
		}()
	}
	go func() {
		for range ds.workers {
			<-finished
		}
		close(ds.done)
	}()
	return nil
}

func (w *worker) log() *slog.Logger {
	return w.s.cfg.logger.With("delivery_stream", w.meta.Name, "shard", w.shardID)
}

// run delivers until ctx is done.
func (w *worker) run(ctx context.Context) {
	ck, err := w.loadCheckpoint(ctx)
	if err != nil {
		w.log().Error("cannot load checkpoint; this shard is not delivered", "err", err)
		return
	}
	for ctx.Err() == nil {
		if ck.Intent != nil {
			next, err := w.deliverIntent(ctx, *ck.Intent)
			if err != nil {
				return // ctx is done; the intent is delivered again after restart
			}
			ck = checkpoint{Next: next}
			if err := w.saveCheckpoint(ctx, ck); err != nil {
				return
			}
			continue
		}
		recs, err := w.collect(ctx, ck.Next)
		if err != nil || len(recs) == 0 {
			if err != nil && ctx.Err() == nil {
				w.log().Error("reading the source failed; retrying", "err", err)
				if sleep(ctx, w.s.cfg.retryMax) != nil {
					return
				}
			}
			continue
		}
		ck.Intent = &intent{First: recs[0].SequenceNumber, Last: recs[len(recs)-1].SequenceNumber}
		if err := w.saveCheckpoint(ctx, ck); err != nil {
			return
		}
	}
}

func (w *worker) loadCheckpoint(ctx context.Context) (checkpoint, error) {
	v, ok, err := w.s.store.GetValue(valuesNS, w.ckKey)
	if err != nil || !ok {
		return checkpoint{}, err
	}
	var ck checkpoint
	if err := json.Unmarshal(v, &ck); err != nil {
		return checkpoint{}, fmt.Errorf("decode checkpoint %s: %w", w.ckKey, err)
	}
	return ck, nil
}

// saveCheckpoint persists ck, retrying until it succeeds or ctx is done.
func (w *worker) saveCheckpoint(ctx context.Context, ck checkpoint) error {
	v, _ := json.Marshal(ck) // plain data always encodes
	for {
		err := w.s.store.WriteValues(ctx, valuesNS, shard.ValueWrite{Key: w.ckKey, Value: v})
		if err == nil {
			return nil
		}
		w.log().Error("saving the checkpoint failed; retrying", "err", err)
		if sleep(ctx, w.s.cfg.retryMax) != nil {
			return ctx.Err()
		}
	}
}

// startPosition is where reading begins when the checkpoint has no Next.
func (w *worker) startPosition(next string) shard.Position {
	if next != "" {
		return shard.Position{Type: shard.AtSequenceNumber, SequenceNumber: next}
	}
	if seq, ok := w.meta.Start[w.shardID]; ok {
		return shard.Position{Type: shard.AtSequenceNumber, SequenceNumber: seq}
	}
	return shard.Position{Type: shard.TrimHorizon}
}

// collect reads records from next on until the buffer holds SizeInMBs or
// IntervalInSeconds have passed since its first record was read, whichever
// comes first. It blocks on the store, without polling, while the shard has
// nothing new.
func (w *worker) collect(ctx context.Context, next string) ([]shard.Record, error) {
	cursor, err := w.s.store.Seek(ctx, w.meta.SourceStream, w.shardID, w.startPosition(next))
	if err != nil {
		return nil, err
	}
	var recs []shard.Record
	size := 0
	var deadline time.Time
	for {
		res, err := w.s.store.Read(ctx, cursor, shard.MaxGetRecordsLimit, max(1, w.sizeMax-size))
		if err != nil {
			return nil, err
		}
		if len(res.Records) > 0 {
			if len(recs) == 0 {
				deadline = w.s.cfg.now().Add(w.interval)
				w.oldestPendingMs.Store(res.Records[0].ArrivalTime.UnixMilli())
			}
			for _, r := range res.Records {
				size += len(r.Data)
			}
			recs = append(recs, res.Records...)
			cursor = res.Next
		}
		if size >= w.sizeMax || (len(recs) > 0 && !w.s.cfg.now().Before(deadline)) {
			return recs, nil
		}
		if len(res.Records) > 0 && res.MillisBehindLatest > 0 {
			continue // more is already there
		}
		waitCtx, cancel := ctx, context.CancelFunc(func() {})
		if len(recs) > 0 {
			waitCtx, cancel = context.WithDeadline(ctx, deadline)
		}
		err = w.s.store.Wait(waitCtx, cursor)
		cancel()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
	}
}

// readRange reads the records of an intent.
func (w *worker) readRange(ctx context.Context, in intent) ([]shard.Record, error) {
	cursor, err := w.s.store.Seek(ctx, w.meta.SourceStream, w.shardID,
		shard.Position{Type: shard.AtSequenceNumber, SequenceNumber: in.First})
	if err != nil {
		return nil, err
	}
	var recs []shard.Record
	for {
		res, err := w.s.store.Read(ctx, cursor, shard.MaxGetRecordsLimit, shard.MaxGetRecordsBytes)
		if err != nil {
			return nil, err
		}
		for _, r := range res.Records {
			if r.SequenceNumber > in.Last {
				return recs, nil
			}
			recs = append(recs, r)
			if r.SequenceNumber == in.Last {
				return recs, nil
			}
		}
		if len(res.Records) == 0 {
			return recs, nil // the rest was trimmed by retention
		}
		cursor = res.Next
	}
}

// deliverIntent delivers the batch an intent names, retrying with backoff
// until it succeeds or ctx is done, and returns the position after it.
func (w *worker) deliverIntent(ctx context.Context, in intent) (string, error) {
	backoff := w.s.cfg.retryMin
	for {
		err := w.tryIntent(ctx, in)
		if err == nil {
			w.oldestPendingMs.Store(0)
			after, err := w.s.store.Seek(ctx, w.meta.SourceStream, w.shardID,
				shard.Position{Type: shard.AfterSequenceNumber, SequenceNumber: in.Last})
			if err != nil {
				return "", err
			}
			return after.SequenceNumber(), nil
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		w.s.metrics.retry(w.meta.Name, w.out.kind())
		w.log().Warn("delivery failed; retrying", "err", err, "backoff", backoff)
		if sleep(ctx, backoff) != nil {
			return "", ctx.Err()
		}
		backoff = min(2*backoff, w.s.cfg.retryMax)
	}
}

func (w *worker) tryIntent(ctx context.Context, in intent) error {
	recs, err := w.readRange(ctx, in)
	if err != nil {
		return fmt.Errorf("read batch %s..%s: %w", in.First, in.Last, err)
	}
	if len(recs) > 0 && w.oldestPendingMs.Load() == 0 {
		w.oldestPendingMs.Store(recs[0].ArrivalTime.UnixMilli())
	}
	b := &batch{shardID: w.shardID, first: in.First, last: in.Last, records: recs}
	err = w.out.deliver(ctx, b)
	w.s.metrics.attempt(w.meta.Name, w.out.kind(), err == nil)
	return err
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
