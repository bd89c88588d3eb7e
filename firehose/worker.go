package firehose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/internal/ctxsleep"
	"github.com/spatehq/spate/shard"
	"github.com/spatehq/spate/shard/lineage"
)

// checkpoint is a worker's persisted position ("ck/<name>/<created>/<shard>").
type checkpoint struct {
	// Next is the sequence number of the next record to read
	// (AT_SEQUENCE_NUMBER); empty means the delivery stream's start.
	Next string `json:"next,omitempty"`
	// Intents are the batches read but not yet delivered, oldest first
	// (see the package doc). Next is past the last of them.
	Intents []intent `json:"intents,omitempty"`
	// Finished is set once the shard is closed (by a reshard) and every
	// record of it is delivered: its children may be delivered, and the
	// shard is not read again. Absent in checkpoints written before
	// resharding existed, which is right: such a shard was open.
	Finished bool `json:"finished,omitempty"`
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
	// subs[i] is the sub-sequence number of records[i] when it is a user
	// record of a KPL aggregate, -1 otherwise; nil when the batch holds no
	// aggregate (see deaggregate).
	subs         []int32
	deaggregated bool
	// lambda[i] is what the Lambda processor made of records[i]; nil when
	// the destination has none (see transform). The records keep their
	// source data: the S3 backup and error records need it.
	lambda []lambdaOutcome
}

// deliverer delivers batches to one destination in two steps, so that a
// worker prepares the next batch while the previous one ships.
type deliverer interface {
	// prepare does the CPU work of a batch (processing, compression); it
	// does no I/O and its result depends only on the batch.
	prepare(b *batch) (shipment, error)
	kind() string // metric label: "s3" or "elasticsearch"
}

// shipment is a prepared batch. ship must be idempotent: it is called
// again after a failure, and after a crash the batch is prepared and
// shipped again.
type shipment interface {
	ship(ctx context.Context) error
}

// worker delivers one source shard of a delivery stream.
type worker struct {
	s        *Service
	ds       *deliveryStream
	meta     dsMeta
	shardID  string
	ckKey    string
	out      deliverer
	sizeMax  int
	interval time.Duration

	// ckMu guards ck and firsts; every change of ck is persisted whole
	// while holding it, so the stored checkpoint is always one that was
	// true.
	ckMu sync.Mutex
	ck   checkpoint
	// firsts[i] is the arrival time (ms) of the first record of
	// ck.Intents[i], for DataFreshness.
	firsts []int64
	// bufferFirstMs is the arrival time of the first record the collector
	// holds but has not yet turned into an intent, 0 when none.
	bufferFirstMs atomic.Int64
}

// oldestPendingMs is the arrival time of the oldest record read but not
// yet delivered, 0 when there is none (DataFreshness).
func (w *worker) oldestPendingMs() int64 {
	w.ckMu.Lock()
	defer w.ckMu.Unlock()
	if len(w.firsts) > 0 {
		return w.firsts[0]
	}
	return w.bufferFirstMs.Load()
}

func (w *worker) log() *slog.Logger {
	return w.s.cfg.logger.With("delivery_stream", w.meta.Name, "shard", w.shardID)
}

// run delivers until ctx is done or the shard, closed by a reshard, is
// delivered to its end: first what a crash left in flight, then a pipeline:
// the collector reads batches and persists their intents; each batch is
// prepared (compressed) in its own goroutine, so two batches can be prepared
// at once on two cores; the shipper ships them strictly in order and clears
// their intents. At the end of a closed shard it marks the checkpoint
// Finished and hands the children to the delivery stream (follow.go).
func (w *worker) run(ctx context.Context) {
	// Reads under this name feed the iterator-age metric of this
	// delivery stream, not the anonymous consumer's.
	ctx = w.s.store.WithConsumer(ctx, "firehose:"+w.meta.Name)
	if err := w.loadCheckpoint(); err != nil {
		w.log().Error("cannot load checkpoint; this shard is not delivered", "err", err)
		return
	}
	if err := w.recover(ctx); err != nil {
		return // ctx is done
	}
	// queue holds batches in intent order; at most one waits there while
	// the shipper waits on another, which bounds memory to two batches
	// besides the one being collected.
	queue := make(chan *inFlight, 1)
	shipperDone := make(chan struct{})
	go func() {
		defer close(shipperDone)
		for p := range queue {
			<-p.ready
			if p.err != nil || w.shipWithRetry(ctx, p.batch, p.sh) != nil {
				return // ctx is done
			}
			w.noteShipped(p.batch)
			if w.popIntent(ctx) != nil {
				return
			}
		}
	}()
	var end *shardEnd // set when the collector reached the end of a closed shard
	defer func() {
		close(queue)
		<-shipperDone
		// Batches the shipper did not take are still being prepared: wait
		// for them, so no goroutine outlives the worker.
		for p := range queue {
			<-p.ready
		}
		if end != nil && ctx.Err() == nil {
			// The shipper delivered every intent (it stops early only
			// when ctx is done).
			w.finish(ctx, end)
		}
	}()
	for ctx.Err() == nil && end == nil {
		w.ckMu.Lock()
		next := w.ck.Next
		w.ckMu.Unlock()
		recs, after, ended, err := w.collect(ctx, next)
		if children, gone := w.dropped(ctx, err); gone {
			// Retention dropped the shard between two batches: what was
			// left of it is lost to retention, as in Kinesis, and its
			// children follow.
			w.log().Warn("source shard dropped by retention before it was read to its end; its children follow")
			end = &shardEnd{children: children}
			continue
		}
		if err != nil {
			if ctx.Err() == nil {
				w.log().Error("reading the source failed; retrying", "err", err)
				_ = ctxsleep.Sleep(ctx, w.s.cfg.retryMax)
			}
			continue
		}
		end = ended
		if len(recs) == 0 {
			continue // the shard ended with nothing more to deliver
		}
		b := &batch{shardID: w.shardID, first: recs[0].SequenceNumber, last: recs[len(recs)-1].SequenceNumber, records: recs}
		if w.pushIntent(ctx, b, after) != nil {
			return
		}
		w.bufferFirstMs.Store(0)
		p := &inFlight{batch: b, ready: make(chan struct{})}
		go func() {
			defer close(p.ready)
			p.sh, p.err = w.prepareWithRetry(ctx, b)
		}()
		select {
		case queue <- p:
		case <-shipperDone:
			<-p.ready
			return // the shipper stopped: ctx is done
		}
	}
}

// inFlight is a batch whose intent is persisted and whose preparation runs;
// ready is closed when sh (or err, only when ctx is done) is set.
type inFlight struct {
	batch *batch
	ready chan struct{}
	sh    shipment
	err   error
}

// recover delivers, in order, the intents a crash left behind.
func (w *worker) recover(ctx context.Context) error {
	for {
		w.ckMu.Lock()
		if len(w.ck.Intents) == 0 {
			w.ckMu.Unlock()
			return nil
		}
		in := w.ck.Intents[0]
		w.ckMu.Unlock()
		var recs []shard.Record
		for {
			var err error
			if recs, err = w.readRange(ctx, in); err == nil {
				break
			}
			if _, gone := w.dropped(ctx, err); gone {
				recs = nil // retention took the batch: nothing to deliver
				break
			}
			w.log().Error("reading a batch to deliver again failed; retrying", "err", err)
			if ctxsleep.Sleep(ctx, w.s.cfg.retryMax) != nil {
				return ctx.Err()
			}
		}
		b := &batch{shardID: w.shardID, first: in.First, last: in.Last, records: recs}
		if len(recs) > 0 {
			w.ckMu.Lock()
			w.firsts[0] = recs[0].ArrivalTime.UnixMilli()
			w.ckMu.Unlock()
		}
		sh, err := w.prepareWithRetry(ctx, b)
		if err != nil {
			return err
		}
		if err := w.shipWithRetry(ctx, b, sh); err != nil {
			return err
		}
		w.noteShipped(b)
		if err := w.popIntent(ctx); err != nil {
			return err
		}
	}
}

func (w *worker) loadCheckpoint() error {
	v, ok, err := w.s.store.GetValue(valuesNS, w.ckKey)
	if err != nil || !ok {
		return err
	}
	var ck checkpoint
	if err := json.Unmarshal(v, &ck); err != nil {
		return fmt.Errorf("decode checkpoint %s: %w", w.ckKey, err)
	}
	w.ck = ck
	// Arrival times of recovered intents are filled in as they are read;
	// until then the delivery stream's creation bounds them from below.
	w.firsts = make([]int64, len(ck.Intents))
	for i := range w.firsts {
		w.firsts[i] = w.meta.CreatedAtMs
	}
	return nil
}

// pushIntent records a new batch and moves Next past it, durably, before
// the batch is delivered.
func (w *worker) pushIntent(ctx context.Context, b *batch, after string) error {
	w.ckMu.Lock()
	defer w.ckMu.Unlock()
	ck := checkpoint{Next: after, Intents: append(append([]intent(nil), w.ck.Intents...), intent{First: b.first, Last: b.last})}
	if err := w.saveCheckpoint(ctx, ck); err != nil {
		return err
	}
	w.ck = ck
	w.firsts = append(w.firsts, b.records[0].ArrivalTime.UnixMilli())
	return nil
}

// popIntent records that the oldest intent has been delivered.
func (w *worker) popIntent(ctx context.Context) error {
	w.ckMu.Lock()
	defer w.ckMu.Unlock()
	ck := checkpoint{Next: w.ck.Next, Intents: append([]intent(nil), w.ck.Intents[1:]...), Finished: w.ck.Finished}
	if err := w.saveCheckpoint(ctx, ck); err != nil {
		return err
	}
	w.ck = ck
	w.firsts = w.firsts[1:]
	return nil
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
		if ctxsleep.Sleep(ctx, w.s.cfg.retryMax) != nil {
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
// comes first, or the shard, closed by a reshard, ends. It blocks on the
// store, without polling, while the shard has nothing new.
//
// It returns the records (none only at the end of the shard), the position
// after them, and the shard's end when it reached it.
func (w *worker) collect(ctx context.Context, next string) ([]shard.Record, string, *shardEnd, error) {
	cursor, err := w.s.store.Seek(ctx, w.meta.SourceStream, w.shardID, w.startPosition(next))
	if err != nil {
		return nil, "", nil, err
	}
	var recs []shard.Record
	size := 0
	var deadline time.Time
	for {
		res, err := w.s.store.Read(ctx, cursor, shard.MaxGetRecordsLimit, max(1, w.sizeMax-size))
		if err != nil {
			return nil, "", nil, err
		}
		if len(res.Records) > 0 {
			if len(recs) == 0 {
				deadline = w.s.cfg.now().Add(w.interval)
				w.bufferFirstMs.Store(res.Records[0].ArrivalTime.UnixMilli())
			}
			for _, r := range res.Records {
				size += len(r.Data)
			}
			recs = append(recs, res.Records...)
			cursor = res.Next
		}
		if res.ShardEnded {
			return recs, cursor.SequenceNumber(), &shardEnd{children: res.ChildShards}, nil
		}
		if size >= w.sizeMax || (len(recs) > 0 && !w.s.cfg.now().Before(deadline)) {
			return recs, cursor.SequenceNumber(), nil, nil
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
			return nil, "", nil, ctx.Err()
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return nil, "", nil, err
		}
	}
}

// dropped reports whether err says the worker's shard does not exist
// because retention dropped it (closed and emptied: see shard.Store's
// trimming), and then returns the children the listing names for it. A
// shard still listed, or a listing that fails (the source stream deleted),
// is not dropped: the caller retries as for any read failure.
func (w *worker) dropped(ctx context.Context, err error) ([]shard.ChildShard, bool) {
	if !apierr.Is(err, apierr.ResourceNotFound) || ctx.Err() != nil {
		return nil, false
	}
	shards, lerr := w.s.store.AllShards(ctx, w.meta.SourceStream)
	if lerr != nil {
		return nil, false
	}
	var children []shard.ChildShard
	for _, sh := range shards {
		if sh.ShardID == w.shardID {
			return nil, false
		}
		if sh.ParentShardID == w.shardID || sh.AdjacentParentShardID == w.shardID {
			ps := lineage.FromInfo([]shard.ShardInfo{sh})[0].Parents
			children = append(children, shard.ChildShard{ShardID: sh.ShardID, ParentShards: ps, HashKeyRange: sh.HashKeyRange})
		}
	}
	return children, true
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

// prepareWithRetry transforms (Lambda processor: I/O, with retries of its
// own) and prepares a batch, retrying the preparation (a failure there is a
// bug or a resource problem, never the batch's fault: bad records go to the
// error output) until it succeeds or ctx is done.
func (w *worker) prepareWithRetry(ctx context.Context, b *batch) (shipment, error) {
	w.deaggregate(b) // CPU work too, done once per batch
	if err := w.transform(ctx, b); err != nil {
		return nil, err // ctx is done
	}
	var sh shipment
	err := w.s.retry(ctx, func() error {
		var err error
		if sh, err = w.out.prepare(b); err != nil {
			w.log().Error("preparing a batch failed; retrying", "err", err, "first", b.first, "last", b.last)
		}
		return err
	})
	return sh, err
}

// shipWithRetry ships a prepared batch, retrying with backoff until it
// succeeds or ctx is done.
func (w *worker) shipWithRetry(ctx context.Context, b *batch, sh shipment) error {
	return w.s.retry(ctx, func() error {
		err := sh.ship(ctx)
		w.s.metrics.attempt(w.meta.Name, w.out.kind(), err == nil)
		if err != nil && ctx.Err() == nil {
			w.s.metrics.retry(w.meta.Name, w.out.kind())
			w.log().Warn("delivery failed; retrying", "err", err, "first", b.first, "last", b.last)
			if _, s3 := w.out.(*s3Deliverer); s3 {
				// An Elasticsearch destination records its own errors
				// (esout.go): its ship fails only when ctx ends.
				w.errors().add(w.s.cfg.now(), ErrorDestinationS3, s3ErrorCode(err), err.Error())
			}
		}
		if err == nil && len(b.records) > 0 {
			if _, s3 := w.out.(*s3Deliverer); s3 {
				w.errors().clear(ErrorDestinationS3)
			}
		}
		return err
	})
}

// noteShipped tells the test hook (config.shipped) that b was delivered.
func (w *worker) noteShipped(b *batch) {
	if w.s.cfg.shipped != nil {
		w.s.cfg.shipped(w.shardID, b.records)
	}
}

// retry calls fn until it succeeds or ctx is done, waiting between calls
// with exponential backoff from retryMin to retryMax. It returns ctx's
// error when ctx ends first.
func (s *Service) retry(ctx context.Context, fn func() error) error {
	backoff := s.cfg.retryMin
	for {
		if fn() == nil {
			return nil
		}
		if ctxsleep.Sleep(ctx, backoff) != nil {
			return ctx.Err()
		}
		backoff = min(2*backoff, s.cfg.retryMax)
	}
}
