package demo

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/shard"
)

// Bounds of the producers a server runs for its clients (the web console's
// "Create demo stream"): a demo, not a load generator.
const (
	// DefaultMaxProducers is how many streams Producers feeds at once by
	// default.
	DefaultMaxProducers = 4
	// DefaultRate is a producer's rate when the caller gives none.
	DefaultRate = 10
	// MaxRate is the highest rate a caller may ask for.
	MaxRate = 100
)

// ProducerInfo describes a running producer.
type ProducerInfo struct {
	Stream    string    `json:"stream"`
	Rate      int       `json:"rate"` // records per second
	StartedAt time.Time `json:"started_at"`
}

// ProducersOption configures Producers.
type ProducersOption func(*Producers)

// WithMaxProducers sets how many streams may be fed at once (default
// DefaultMaxProducers).
func WithMaxProducers(n int) ProducersOption { return func(p *Producers) { p.max = n } }

// WithProducersLogger sets where a producer that stops on an error (its
// stream was deleted) is logged. Default: discard.
func WithProducersLogger(l *slog.Logger) ProducersOption { return func(p *Producers) { p.logger = l } }

// Producers runs stock-ticker feeds inside a server, so that a demo stream
// keeps getting trades after the client that started it has gone (a
// browser tab is no producer). Each feed appends to its stream with Run's
// generator until Stop, until an append fails (the stream was deleted), or
// until Close. It is safe for concurrent use.
//
// Invariant: at most one feed per stream and at most max feeds run; a
// stream's entry is in running from the moment Start reserves it until its
// goroutine has returned or Stop removed it.
type Producers struct {
	store  *shard.Store
	max    int
	logger *slog.Logger

	ctx    context.Context // cancelled by Close: every feed's parent
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	running map[string]*producer
	seed    uint64 // the next feed's seed: each feed differs
}

type producer struct {
	info   ProducerInfo
	cancel context.CancelFunc
	done   chan struct{} // closed when the feed's goroutine returns
}

// NewProducers returns Producers that feed streams of store. The caller
// keeps ownership of store and must call Close before closing it.
func NewProducers(store *shard.Store, opts ...ProducersOption) *Producers {
	p := &Producers{store: store, max: DefaultMaxProducers, logger: slog.New(slog.DiscardHandler),
		running: map[string]*producer{}, seed: uint64(time.Now().UnixNano())}
	for _, o := range opts {
		o(p)
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	return p
}

// Start feeds rate trades per second (0: DefaultRate) into the stream
// called name, creating it with one shard unless it exists (ctx bounds the
// creation only). When a feed already runs for name it changes nothing and
// answers that feed with started false.
//
// Errors: InvalidArgumentException for a rate outside 0 to MaxRate,
// ValidationException for a name no stream can have, LimitExceededException
// when max feeds run already, ResourceInUseException when the stream is
// being deleted or Close was called, or when Stop ended the feed while it
// was starting. mayCreate, when not nil, is asked before the stream is
// created (only when it is missing): the caller's authorization to create
// it.
func (p *Producers) Start(ctx context.Context, name string, rate int, mayCreate func() error) (info ProducerInfo, started bool, err error) {
	if rate == 0 {
		rate = DefaultRate
	}
	if rate < 1 || rate > MaxRate {
		return ProducerInfo{}, false, apierr.New(apierr.InvalidArgument,
			"rate %d is out of range: a demo producer puts 1 to %d records per second", rate, MaxRate)
	}
	if err := shard.ValidateStreamName(name); err != nil {
		return ProducerInfo{}, false, err
	}
	p.mu.Lock()
	if p.ctx.Err() != nil {
		p.mu.Unlock()
		return ProducerInfo{}, false, apierr.New(apierr.ResourceInUse, "the server is shutting down: no demo producer starts")
	}
	if cur, ok := p.running[name]; ok {
		p.mu.Unlock()
		return cur.info, false, nil
	}
	if len(p.running) >= p.max {
		p.mu.Unlock()
		return ProducerInfo{}, false, apierr.New(apierr.LimitExceeded,
			"%d demo producers run already (the most at once): stop one first", p.max)
	}
	fctx, cancel := context.WithCancel(p.ctx)
	pr := &producer{info: ProducerInfo{Stream: name, Rate: rate, StartedAt: time.Now().UTC()}, cancel: cancel, done: make(chan struct{})}
	p.running[name] = pr // reserved: a concurrent Start for name answers this feed
	seed := p.seed
	p.seed++
	p.wg.Add(1)
	p.mu.Unlock()

	if err := ensureStream(ctx, p.store, name, mayCreate); err != nil {
		p.remove(pr)
		cancel()
		close(pr.done)
		p.wg.Done()
		return ProducerInfo{}, false, err
	}
	p.mu.Lock()
	if p.running[name] != pr || fctx.Err() != nil {
		// Stop (or Close) took it while the stream was being made ready.
		p.mu.Unlock()
		p.remove(pr)
		cancel()
		close(pr.done)
		p.wg.Done()
		return ProducerInfo{}, false, apierr.New(apierr.ResourceInUse, "the demo producer of %s was stopped while it started", name)
	}
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		defer close(pr.done)
		defer cancel()
		err := feedStream(fctx, p.store, name, rate, seed)
		p.remove(pr)
		if err != nil {
			p.logger.Info("demo producer stopped", "stream", name, "err", err)
		}
	}()
	return pr.info, true, nil
}

// remove drops pr from running unless another feed took its place.
func (p *Producers) remove(pr *producer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running[pr.info.Stream] == pr {
		delete(p.running, pr.info.Stream)
	}
}

// Stop ends the feed of the stream called name and waits for it to return.
// It returns ResourceNotFoundException when no feed runs for name.
func (p *Producers) Stop(name string) error {
	p.mu.Lock()
	pr, ok := p.running[name]
	if ok {
		delete(p.running, name)
	}
	p.mu.Unlock()
	if !ok {
		return apierr.New(apierr.ResourceNotFound, "no demo producer feeds stream %s", name)
	}
	pr.cancel()
	<-pr.done
	return nil
}

// List returns the running feeds by stream name.
func (p *Producers) List() []ProducerInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]ProducerInfo, 0, len(p.running))
	for _, name := range slices.Sorted(maps.Keys(p.running)) {
		out = append(out, p.running[name].info)
	}
	return out
}

// Close stops every feed and waits for them; later Starts fail. It is safe
// to call more than once.
func (p *Producers) Close() {
	p.mu.Lock()
	p.cancel()
	p.mu.Unlock()
	p.wg.Wait()
}
