package analytics

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spatehq/spate/analytics/query"
	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/shard"
)

// namespace is the store value space of analytics: "app/<name>" holds an
// application's definition, "state/<name>" its checkpoint.
const namespace = "analytics"

// DefaultCheckpointInterval is how often a running application commits
// its results, state and positions (and so the delay before an INSERT's
// rows appear in its output).
const DefaultCheckpointInterval = time.Second

// temporaryGrace is how long a temporary application waits for its first
// subscriber before it deletes itself.
const temporaryGrace = time.Minute

var validName = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`)

// Outputs resolves a name that is not a stream to the stream that feeds
// it: Firehose's DirectPut delivery streams implement it, so an
// application can INSERT INTO a delivery stream.
type Outputs interface {
	DirectPutStream(name string) (string, error)
}

// Option configures a Service.
type Option func(*config)

type config struct {
	logger             *slog.Logger
	registerer         prometheus.Registerer
	outputs            Outputs
	checkpointInterval time.Duration
	now                func() time.Time
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithRegisterer registers the applications' metrics (default: none).
func WithRegisterer(r prometheus.Registerer) Option { return func(c *config) { c.registerer = r } }

// WithOutputs lets applications write to Firehose delivery streams.
func WithOutputs(o Outputs) Option { return func(c *config) { c.outputs = o } }

// WithCheckpointInterval sets how often applications checkpoint (default
// DefaultCheckpointInterval).
func WithCheckpointInterval(d time.Duration) Option {
	return func(c *config) { c.checkpointInterval = d }
}

// WithClock replaces the wall clock (tests).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// Service runs the applications of one store.
type Service struct {
	store   *shard.Store
	cfg     config
	metrics *metrics
	ctx     context.Context // ends at Close: every application's run derives from it
	cancel  context.CancelFunc

	mu   sync.Mutex // guards apps; never held while waiting for an application
	apps map[string]*app
}

// New loads the applications persisted in store and starts those that were
// not stopped. An application that cannot start is marked FAILED, not
// fatal to the service.
func New(ctx context.Context, store *shard.Store, opts ...Option) (*Service, error) {
	cfg := config{
		logger:             slog.New(slog.NewTextHandler(io.Discard, nil)),
		checkpointInterval: DefaultCheckpointInterval,
		now:                time.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.checkpointInterval <= 0 {
		return nil, fmt.Errorf("analytics: checkpoint interval must be positive, got %v", cfg.checkpointInterval)
	}
	s := &Service{store: store, cfg: cfg, apps: make(map[string]*app)}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.metrics = newMetrics(s)
	if cfg.registerer != nil {
		if err := cfg.registerer.Register(s.metrics); err != nil {
			return nil, fmt.Errorf("analytics: register metrics: %w", err)
		}
	}
	var metas []appMeta
	err := store.ScanValues(namespace, "app/", func(_ string, v []byte) error {
		var m appMeta
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("decode application: %w", err)
		}
		metas = append(metas, m)
		return nil
	})
	if err != nil {
		if cfg.registerer != nil {
			cfg.registerer.Unregister(s.metrics)
		}
		return nil, fmt.Errorf("analytics: load applications: %w", err)
	}
	for _, m := range metas {
		a := newApp(s, m, nil, false)
		a.status = StatusStopped
		s.apps[m.Name] = a
		plan, err := compileStored(m.Defaults, m.SQL)
		if err != nil {
			a.status, a.errMsg = StatusFailed, "compile: "+err.Error()
			continue
		}
		a.plan = plan
		if !m.Stopped {
			a.start() // its run reads the checkpoint and publishes the stats
			continue
		}
		// A stopped application describes where it stopped; reading the
		// checkpoint (window state included) only for those keeps a
		// restart from reading every running application's state twice.
		if err := a.loadStats(); err != nil {
			a.status, a.errMsg = StatusFailed, err.Error()
		}
	}
	return s, nil
}

// Validate parses and plans a script without creating anything. The error
// is a *query.Error (with line and column) for a script that is invalid.
func (s *Service) Validate(sql string) (Description, error) {
	plan, err := query.Compile(sql)
	if err != nil {
		return Description{}, err
	}
	return Description{SQL: sql, Status: StatusStopped, Source: plan.Source, Target: plan.Target, Columns: plan.Columns}, nil
}

// Create creates and starts an application. Its source stream, and its
// target when it has one, must exist.
func (s *Service) Create(ctx context.Context, in CreateInput) (Description, error) {
	if !validName.MatchString(in.Name) {
		return Description{}, apierr.New(apierr.InvalidArgument,
			"application name %q must be 1 to 128 characters of letters, digits, '_', '.' and '-'", in.Name)
	}
	plan, defaults, err := s.compileWithDefaults(ctx, in.SQL)
	if err != nil {
		return Description{}, err
	}
	if in.Temporary && plan.Target != "" {
		return Description{}, apierr.New(apierr.InvalidArgument,
			"a temporary application streams its rows to the caller: write a bare SELECT, without INSERT INTO %s", plan.Target)
	}
	if _, err := s.store.DescribeStreamSummary(ctx, plan.Source); err != nil {
		if apierr.Is(err, apierr.ResourceNotFound) {
			return Description{}, apierr.New(apierr.ResourceNotFound,
				"the query reads stream %s, which does not exist: create it first", plan.Source)
		}
		return Description{}, err
	}
	for _, out := range []string{plan.Target, plan.Settings.LateRows} {
		if out == "" {
			continue
		}
		if _, err := s.resolveOutput(out); err != nil {
			return Description{}, err
		}
	}
	m := appMeta{Name: in.Name, SQL: in.SQL, Defaults: defaults, CreatedAt: s.cfg.now().UTC().Truncate(time.Millisecond)}
	a := newApp(s, m, plan, in.Temporary)

	// A Stop, Start or Delete of the new application waits until it has
	// started.
	a.life.Lock()
	defer a.life.Unlock()
	s.mu.Lock()
	if _, ok := s.apps[in.Name]; ok {
		s.mu.Unlock()
		return Description{}, apierr.New(apierr.ResourceInUse, "application %s already exists: pick another name or delete it first", in.Name)
	}
	s.apps[in.Name] = a
	s.mu.Unlock()
	if !in.Temporary {
		if err := s.putMeta(ctx, m); err != nil {
			s.remove(a)
			return Description{}, err
		}
	} else {
		go s.reapUnsubscribed(a)
	}
	a.start()
	return a.describe(), nil
}

// remove takes a out of the service, if it is still there under its name,
// and tells its subscribers. The caller holds a.life.
func (s *Service) remove(a *app) {
	s.mu.Lock()
	if s.apps[a.meta.Name] == a {
		delete(s.apps, a.meta.Name)
	}
	s.mu.Unlock()
	if !a.deleted {
		a.deleted = true
		close(a.gone)
	}
}

// reapUnsubscribed deletes a temporary application that nobody subscribed
// to within temporaryGrace.
func (s *Service) reapUnsubscribed(a *app) {
	t := time.NewTimer(temporaryGrace)
	defer t.Stop()
	select {
	case <-a.subbed:
	case <-a.gone:
	case <-s.ctx.Done():
	case <-t.C:
		_ = s.delete(context.Background(), a)
	}
}

// resolveOutput returns the stream that rows written to name go to: the
// stream called name, or the buffer of the DirectPut delivery stream called
// name.
func (s *Service) resolveOutput(name string) (string, error) {
	if _, err := s.store.DescribeStreamSummary(context.Background(), name); err == nil {
		return name, nil
	} else if !apierr.Is(err, apierr.ResourceNotFound) {
		return "", err
	}
	if s.cfg.outputs != nil {
		stream, err := s.cfg.outputs.DirectPutStream(name)
		if err == nil {
			return stream, nil
		}
		if !apierr.Is(err, apierr.ResourceNotFound) {
			return "", err
		}
	}
	return "", apierr.New(apierr.ResourceNotFound,
		"the query writes to %s, which is neither a stream nor a DirectPut delivery stream: create it first", name)
}

func (s *Service) putMeta(ctx context.Context, m appMeta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode application %s: %w", m.Name, err)
	}
	return s.store.WriteValues(ctx, namespace, shard.ValueWrite{Key: "app/" + m.Name, Value: b})
}

func (s *Service) lookup(name string) (*app, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[name]
	if !ok {
		return nil, notFound(name)
	}
	return a, nil
}

// List describes every application, by name.
func (s *Service) List(ctx context.Context) ([]Description, error) {
	s.mu.Lock()
	apps := make([]*app, 0, len(s.apps))
	for _, a := range s.apps {
		apps = append(apps, a)
	}
	s.mu.Unlock()
	sort.Slice(apps, func(i, j int) bool { return apps[i].meta.Name < apps[j].meta.Name })
	out := make([]Description, len(apps))
	for i, a := range apps {
		out[i] = a.describe()
	}
	return out, nil
}

// Describe describes one application.
func (s *Service) Describe(ctx context.Context, name string) (Description, error) {
	a, err := s.lookup(name)
	if err != nil {
		return Description{}, err
	}
	return a.describe(), nil
}

func (a *app) describe() Description {
	a.mu.Lock()
	defer a.mu.Unlock()
	d := Description{
		Name: a.meta.Name, SQL: a.meta.SQL, Status: a.status, Error: a.errMsg,
		Temporary: a.temporary, CreatedAt: a.meta.CreatedAt,
		Inputs: append([]InputPosition(nil), a.stats.inputs...),
		RowsIn: a.stats.rowsIn, RowsOut: a.stats.rowsOut, LateRows: a.stats.late, BadRows: a.stats.bad,
	}
	if a.plan != nil {
		d.Source, d.Target, d.Columns = a.plan.Source, a.plan.Target, a.plan.Columns
	}
	if d.Inputs == nil {
		d.Inputs = []InputPosition{}
	}
	if a.stats.watermark != noWatermark && a.stats.watermark != 0 {
		t := time.UnixMilli(a.stats.watermark).UTC()
		d.Watermark = &t
	}
	return d
}

// Stop stops an application after a final checkpoint.
func (s *Service) Stop(ctx context.Context, name string) error {
	a, err := s.lookup(name)
	if err != nil {
		return err
	}
	a.life.Lock()
	defer a.life.Unlock()
	if a.deleted {
		return notFound(name)
	}
	a.stop()
	a.mu.Lock()
	if a.status != StatusFailed {
		a.status = StatusStopped
	}
	a.meta.Stopped = true
	m := a.meta
	a.mu.Unlock()
	if a.temporary {
		return nil
	}
	return s.putMeta(ctx, m)
}

// Start starts a stopped or failed application from its checkpoint.
func (s *Service) Start(ctx context.Context, name string) error {
	a, err := s.lookup(name)
	if err != nil {
		return err
	}
	a.life.Lock()
	defer a.life.Unlock()
	if a.deleted {
		return notFound(name)
	}
	if a.plan == nil {
		a.mu.Lock()
		msg := a.errMsg
		a.mu.Unlock()
		return apierr.New(apierr.InvalidArgument, "application %s cannot start: %s; delete it and create it again", name, msg)
	}
	a.stop() // a FAILED run has exited; wait for it all the same
	a.mu.Lock()
	a.meta.Stopped = false
	m := a.meta
	a.mu.Unlock()
	if !a.temporary {
		if err := s.putMeta(ctx, m); err != nil {
			return err
		}
	}
	a.start()
	return nil
}

// Delete stops an application and removes it with its state.
func (s *Service) Delete(ctx context.Context, name string) error {
	a, err := s.lookup(name)
	if err != nil {
		return err
	}
	return s.delete(ctx, a)
}

// delete deletes a, which a caller found under its name earlier: if it
// has been deleted since (and the name perhaps reused), nothing happens.
func (s *Service) delete(ctx context.Context, a *app) error {
	a.life.Lock()
	defer a.life.Unlock()
	if a.deleted {
		return notFound(a.meta.Name)
	}
	if err := s.store.Writable(); err != nil {
		return err // read-only store (disk full at start): keep the application as it is
	}
	a.stop()
	s.remove(a)
	s.store.ForgetConsumer("analytics:" + a.meta.Name)
	if a.temporary {
		return nil
	}
	return s.store.WriteValues(ctx, namespace,
		shard.ValueWrite{Key: "app/" + a.meta.Name, Delete: true}, shard.ValueWrite{Key: a.stateKey(), Delete: true})
}

func notFound(name string) error {
	return apierr.New(apierr.ResourceNotFound, "application %s not found", name)
}

// Results calls fn with every row a bare SELECT application produces from
// now on, until ctx ends, fn returns an error, the application is deleted
// or the service closes. It calls columns with the
// result columns' names first, before any row. When the last subscriber of
// a temporary application leaves, the application is deleted.
func (s *Service) Results(ctx context.Context, name string, columns func([]string) error, fn func(Row) error) error {
	a, err := s.lookup(name)
	if err != nil {
		return err
	}
	if a.plan == nil || a.plan.Target != "" {
		return apierr.New(apierr.InvalidArgument,
			"application %s writes its rows to a stream (INSERT INTO): read that stream instead", name)
	}
	if err := columns(a.plan.Columns); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sub := &subscriber{ch: make(chan Row, 256), ctx: ctx}
	a.mu.Lock()
	a.subs[sub] = struct{}{}
	if !a.hadSubs {
		a.hadSubs = true
		close(a.subbed)
	}
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.subs, sub)
		last := len(a.subs) == 0
		a.mu.Unlock()
		if last && a.temporary {
			// Unblock a publish that may be sending to this subscriber
			// before waiting for the run to stop.
			cancel()
			_ = s.delete(context.WithoutCancel(ctx), a)
		}
	}()
	for {
		select {
		case row := <-sub.ch:
			if err := fn(row); err != nil {
				return err
			}
		case <-ctx.Done():
			return nil
		case <-a.gone:
			return nil
		case <-s.ctx.Done():
			return nil
		}
	}
}

// Close stops every application after a final checkpoint. Close the
// service before the store.
func (s *Service) Close() error {
	s.mu.Lock()
	apps := make([]*app, 0, len(s.apps))
	for _, a := range s.apps {
		apps = append(apps, a)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, a := range apps {
		wg.Add(1)
		go func() { defer wg.Done(); a.stop() }()
	}
	wg.Wait()
	s.cancel()
	if s.cfg.registerer != nil {
		s.cfg.registerer.Unregister(s.metrics)
	}
	return nil
}
