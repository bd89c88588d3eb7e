package esm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/functions"
	"github.com/spatehq/spate/internal/ctxsleep"
	"github.com/spatehq/spate/shard"
)

// Service holds a store's event source mappings and runs their pollers.
// Its methods are safe for concurrent use. One Service runs per store: the
// store's data directory is opened by one process, so leases written by an
// earlier process are void when a Service starts (see lease.go).
type Service struct {
	store   *shard.Store
	inv     functions.Invoker
	cfg     config
	metrics *metrics
	// node tells this Service's leases from an earlier process's.
	node string

	ctx    context.Context // ends at Close; pollers run under it
	cancel context.CancelFunc
	wg     sync.WaitGroup // apply goroutines and runners

	mu      sync.Mutex
	started bool
	closed  bool
	runners map[string]*runner     // by UUID: the mappings running now
	applyMu map[string]*sync.Mutex // by UUID: serializes apply
	// results is each mapping's LastProcessingResult since start.
	results map[string]string
	// createMu serializes Create, so two requests for the same stream and
	// function cannot both pass the conflict check.
	createMu sync.Mutex
}

var _ Mappings = (*Service)(nil)

// New returns a Service over store that invokes functions through inv.
// Call Start to run the stored mappings' pollers, and Close to stop them.
func New(store *shard.Store, inv functions.Invoker, opts ...Option) (*Service, error) {
	if store == nil || inv == nil {
		return nil, errors.New("esm: a store and an invoker are required")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	// The store's ARNs carry the region and account events report.
	m := regexp.MustCompile(`^arn:aws:kinesis:([^:]*):([^:]*):stream/`).FindStringSubmatch(store.StreamARN("x"))
	if m == nil {
		return nil, fmt.Errorf("esm: cannot read the region and account from stream ARN %q", store.StreamARN("x"))
	}
	cfg.region, cfg.account = m[1], m[2]
	if cfg.identityARN == "" {
		cfg.identityARN = fmt.Sprintf(DefaultInvokeIdentityFormat, cfg.account)
	}
	met, err := newMetrics(cfg.reg)
	if err != nil {
		return nil, fmt.Errorf("esm: register metrics: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{
		store: store, inv: inv, cfg: cfg, metrics: met, node: newUUID(),
		ctx: ctx, cancel: cancel,
		runners: map[string]*runner{}, applyMu: map[string]*sync.Mutex{}, results: map[string]string{},
	}, nil
}

// Start runs the pollers of every enabled mapping, from their
// checkpoints, and finishes the changes (creation, update, deletion) a
// stop interrupted. ctx bounds only the loading.
func (s *Service) Start(ctx context.Context) error {
	recs, err := s.loadRecords()
	if err != nil {
		return fmt.Errorf("esm: load mappings: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.started {
		return errors.New("esm: Start called twice or after Close")
	}
	s.started = true
	for _, r := range recs {
		s.kickLocked(r.Mapping.UUID)
	}
	return ctx.Err()
}

// Close stops every poller (what they were invoking is not checkpointed
// and is invoked again after a restart) and waits for them.
func (s *Service) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}

// kickLocked makes the running state of a mapping follow its record, in
// the background. The caller holds s.mu.
func (s *Service) kickLocked(uuid string) {
	if !s.started || s.closed {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.apply(uuid)
	}()
}

func (s *Service) kick(uuid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kickLocked(uuid)
}

// apply stops, starts or restarts a mapping's runner as its record says,
// then records the state reached. Calls for one mapping run one at a time;
// each reads the latest record, so the last one wins.
func (s *Service) apply(uuid string) {
	s.mu.Lock()
	mu := s.applyMu[uuid]
	if mu == nil {
		mu = &sync.Mutex{}
		s.applyMu[uuid] = mu
	}
	s.mu.Unlock()
	mu.Lock()
	defer mu.Unlock()
	log := s.cfg.logger.With("mapping", uuid)
	for s.ctx.Err() == nil {
		r, raw, ok, err := s.loadRecord(uuid)
		if err != nil {
			log.Error("loading the event source mapping failed; retrying", "err", err)
			if ctxsleep.Sleep(s.ctx, s.cfg.retryMax) != nil {
				return
			}
			continue
		}
		s.mu.Lock()
		run := s.runners[uuid]
		s.mu.Unlock()
		want := ok && r.Enabled && !r.Deleting
		if run != nil && (!want || run.rec.Revision != r.Revision) {
			run.stop()
			s.mu.Lock()
			delete(s.runners, uuid)
			s.mu.Unlock()
			run = nil
		}
		if !ok {
			return
		}
		if r.Deleting {
			// The pollers are stopped: their series go before the
			// mapping does, so none outlives it.
			s.metrics.forget(uuid)
			s.store.ForgetConsumer(consumerName(uuid))
			if err := s.dropMapping(s.ctx, uuid); err != nil {
				log.Error("deleting the event source mapping failed; retrying", "err", err)
				if ctxsleep.Sleep(s.ctx, s.cfg.retryMax) != nil {
					return
				}
				continue
			}
			s.mu.Lock()
			delete(s.results, uuid)
			delete(s.applyMu, uuid)
			s.mu.Unlock()
			return
		}
		if want && run == nil {
			run = s.newRunner(r)
			s.mu.Lock()
			if s.closed {
				s.mu.Unlock()
				return
			}
			s.runners[uuid] = run
			s.wg.Add(1)
			s.mu.Unlock()
			go func() {
				defer s.wg.Done()
				run.run()
			}()
		}
		state := StateDisabled
		if want {
			state = StateEnabled
		}
		if r.Mapping.State == state {
			return
		}
		r.Mapping.State = state
		if _, err := s.putRecord(s.ctx, r, raw); err != nil {
			if shard.ConditionFailed(err) {
				continue // a user changed it meanwhile: act on the new record
			}
			log.Error("recording the event source mapping's state failed; retrying", "err", err)
			if ctxsleep.Sleep(s.ctx, s.cfg.retryMax) != nil {
				return
			}
			continue
		}
		return
	}
}

// view is a mapping as the API shows it.
func (s *Service) view(r record) Mapping {
	m := r.Mapping
	s.mu.Lock()
	if res, ok := s.results[m.UUID]; ok {
		m.LastProcessingResult = res
	}
	s.mu.Unlock()
	return m
}

// setResult records a mapping's LastProcessingResult.
func (s *Service) setResult(uuid, result string) {
	s.mu.Lock()
	s.results[uuid] = result
	s.mu.Unlock()
}

func notFound(uuid string) error {
	return apierr.New(apierr.ResourceNotFound, "The resource you requested does not exist. (Event source mapping %s not found)", uuid)
}

func intPtr(v int) *int { return &v }

// Create creates a mapping in state Creating; its pollers start at once
// (State then Enabled), or not at all when Enabled is false (Disabled).
func (s *Service) Create(ctx context.Context, in CreateInput) (Mapping, error) {
	if in.EventSourceArn == "" {
		return Mapping{}, invalid("EventSourceArn is required: the ARN of a Kinesis stream (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME)")
	}
	if in.FunctionName == "" {
		return Mapping{}, invalid("FunctionName is required")
	}
	stream, streamID, err := s.resolveSource(ctx, in.EventSourceArn)
	if err != nil {
		return Mapping{}, err
	}
	fnARN, err := s.inv.FunctionARN(ctx, in.FunctionName)
	if err != nil {
		return Mapping{}, err
	}
	var startAt time.Time
	switch in.StartingPosition {
	case "TRIM_HORIZON", "LATEST":
		if in.StartingPositionTimestamp != nil {
			return Mapping{}, invalid("StartingPositionTimestamp is only allowed with StartingPosition AT_TIMESTAMP")
		}
	case "AT_TIMESTAMP":
		if in.StartingPositionTimestamp == nil {
			return Mapping{}, invalid("StartingPositionTimestamp is required with StartingPosition AT_TIMESTAMP")
		}
		startAt = time.UnixMilli(int64(*in.StartingPositionTimestamp * 1000))
	case "":
		return Mapping{}, invalid("StartingPosition is required for a Kinesis event source: TRIM_HORIZON, LATEST or AT_TIMESTAMP")
	default:
		return Mapping{}, invalid("StartingPosition %q is invalid: use TRIM_HORIZON, LATEST or AT_TIMESTAMP", in.StartingPosition)
	}
	set := settingsOf(in)
	if err := s.check(ctx, set); err != nil {
		return Mapping{}, err
	}
	if err := functions.ValidateTags(in.Tags); err != nil {
		return Mapping{}, err
	}
	uuid := newUUID()
	m := Mapping{
		UUID:                           uuid,
		EventSourceMappingArn:          fmt.Sprintf("arn:aws:lambda:%s:%s:event-source-mapping:%s", s.cfg.region, s.cfg.account, uuid),
		EventSourceArn:                 in.EventSourceArn,
		FunctionArn:                    fnARN,
		StartingPosition:               in.StartingPosition,
		StartingPositionTimestamp:      in.StartingPositionTimestamp,
		BatchSize:                      DefaultBatchSize,
		MaximumBatchingWindowInSeconds: intPtr(0),
		ParallelizationFactor:          1,
		DestinationConfig:              &DestinationConfig{OnFailure: &Destination{}},
		MaximumRecordAgeInSeconds:      intPtr(-1),
		BisectBatchOnFunctionError:     new(bool),
		MaximumRetryAttempts:           intPtr(-1),
		TumblingWindowInSeconds:        intPtr(0),
		FunctionResponseTypes:          []string{},
		LastModified:                   float64(s.cfg.now().UnixMilli()) / 1000,
		LastProcessingResult:           "No records processed",
		State:                          StateCreating,
		StateTransitionReason:          "User action",
	}
	applySettings(&m, set)
	enabled := in.Enabled == nil || *in.Enabled
	r := record{Mapping: m, Stream: stream, StreamID: streamID, Enabled: enabled, Tags: in.Tags, Revision: 1}

	s.createMu.Lock()
	defer s.createMu.Unlock()
	if err := s.checkUnique(m.EventSourceArn, fnARN, in.FunctionName); err != nil {
		return Mapping{}, err
	}
	if err := s.initialCheckpoints(ctx, r, startAt); err != nil {
		return Mapping{}, err
	}
	if _, err := s.putRecord(ctx, r, nil); err != nil {
		return Mapping{}, err
	}
	s.kick(uuid)
	return m, nil
}

// checkUnique refuses a second mapping of one stream and function, as
// Lambda does.
func (s *Service) checkUnique(sourceARN, fnARN, fnName string) error {
	existing, err := s.loadRecords()
	if err != nil {
		return err
	}
	for _, e := range existing {
		if e.Mapping.EventSourceArn == sourceARN && e.Mapping.FunctionArn == fnARN && !e.Deleting {
			return apierr.New(apierr.ResourceConflict,
				"An event source mapping with Kinesis arn \" %s \" and function \" %s \" already exists. Please update or delete the existing mapping with UUID %s",
				sourceARN, fnName, e.Mapping.UUID)
		}
	}
	return nil
}

// jsonOf is v's JSON, to compare two plain values.
func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// resolveSource checks that arn names an existing stream of this store.
func (s *Service) resolveSource(ctx context.Context, arn string) (string, uint32, error) {
	if strings.Contains(arn, "/consumer/") {
		return "", 0, invalid("EventSourceArn %s is a stream consumer: Spate maps streams only; give the stream's ARN", arn)
	}
	name, err := s.store.ResolveStream("", arn)
	if err != nil {
		return "", 0, invalid("EventSourceArn %s is not a Kinesis stream of this server: %s", arn, apierr.MessageOf(err))
	}
	pos, err := s.store.Positions(ctx, name)
	if err != nil {
		if apierr.Is(err, apierr.ResourceNotFound) || apierr.Is(err, apierr.ResourceInUse) {
			return "", 0, invalid("Stream not found: %s (create it, or wait until it is ACTIVE)", arn)
		}
		return "", 0, err
	}
	return name, pos.ID, nil
}

// initialCheckpoints pins where a LATEST or AT_TIMESTAMP mapping starts in
// each shard that exists now, so records written between Create and the
// pollers' start are not skipped; shards born later start at their trim
// horizon, as Lambda reads a child shard.
func (s *Service) initialCheckpoints(ctx context.Context, r record, at time.Time) error {
	var pos shard.Position
	switch r.Mapping.StartingPosition {
	case "LATEST":
		pos = shard.Position{Type: shard.Latest}
	case "AT_TIMESTAMP":
		pos = shard.Position{Type: shard.AtTimestamp, Timestamp: at}
	default:
		return nil
	}
	shards, err := s.store.AllShards(ctx, r.Stream)
	if err != nil {
		return fmt.Errorf("list shards of %s: %w", r.Stream, err)
	}
	var writes []shard.ValueWrite
	for _, sh := range shards {
		c, err := s.store.Seek(ctx, r.Stream, sh.ShardID, pos)
		if err != nil {
			return fmt.Errorf("position shard %s: %w", sh.ShardID, err)
		}
		v, _ := jsonMarshal(checkpoint{Next: c.SequenceNumber()})
		writes = append(writes, shard.ValueWrite{Key: checkpointKey(r.Mapping.UUID, sh.ShardID), Value: v})
	}
	if len(writes) == 0 {
		return nil
	}
	_, err = s.store.Commit(ctx, shard.Commit{Namespace: valuesNS, Sync: true, Values: writes})
	return err
}

// applySettings copies the given members onto m.
func applySettings(m *Mapping, in settings) {
	if in.BatchSize != nil {
		m.BatchSize = *in.BatchSize
	}
	if in.FilterCriteria != nil {
		if len(in.FilterCriteria.Filters) == 0 {
			m.FilterCriteria = nil // an empty FilterCriteria removes the filters
		} else {
			fc := *in.FilterCriteria
			m.FilterCriteria = &fc
		}
	}
	if in.MaximumBatchingWindowInSeconds != nil {
		m.MaximumBatchingWindowInSeconds = intPtr(*in.MaximumBatchingWindowInSeconds)
	}
	if in.ParallelizationFactor != nil {
		m.ParallelizationFactor = *in.ParallelizationFactor
	}
	if in.DestinationConfig != nil {
		dc := DestinationConfig{OnFailure: &Destination{}}
		if in.DestinationConfig.OnFailure != nil {
			dc.OnFailure.Destination = in.DestinationConfig.OnFailure.Destination
		}
		m.DestinationConfig = &dc
	}
	if in.MaximumRecordAgeInSeconds != nil {
		m.MaximumRecordAgeInSeconds = intPtr(*in.MaximumRecordAgeInSeconds)
	}
	if in.BisectBatchOnFunctionError != nil {
		b := *in.BisectBatchOnFunctionError
		m.BisectBatchOnFunctionError = &b
	}
	if in.MaximumRetryAttempts != nil {
		m.MaximumRetryAttempts = intPtr(*in.MaximumRetryAttempts)
	}
	if in.TumblingWindowInSeconds != nil {
		m.TumblingWindowInSeconds = intPtr(*in.TumblingWindowInSeconds)
	}
	if in.FunctionResponseTypes != nil {
		m.FunctionResponseTypes = append([]string{}, in.FunctionResponseTypes...)
	}
}

// Get returns a mapping.
func (s *Service) Get(ctx context.Context, uuid string) (Mapping, error) {
	r, _, ok, err := s.loadRecord(uuid)
	if err != nil {
		return Mapping{}, err
	}
	if !ok {
		return Mapping{}, notFound(uuid)
	}
	return s.view(r), nil
}

// List returns mappings in UUID order, filtered by source and function.
// Marker is the UUID after which the page starts (NextMarker of the
// previous page).
func (s *Service) List(ctx context.Context, in ListInput) (ListOutput, error) {
	limit := in.MaxItems
	if limit == 0 {
		limit = DefaultListMaxItems
	}
	if limit < 1 || limit > MaxListMaxItems {
		return ListOutput{}, invalid("MaxItems must be between 1 and %d; got %d", MaxListMaxItems, in.MaxItems)
	}
	fnARN := ""
	if in.FunctionName != "" {
		arn, err := s.inv.FunctionARN(ctx, in.FunctionName)
		if err != nil {
			if apierr.Is(err, apierr.ResourceNotFound) {
				return ListOutput{EventSourceMappings: []Mapping{}}, nil
			}
			return ListOutput{}, err
		}
		fnARN = arn
	}
	recs, err := s.loadRecords()
	if err != nil {
		return ListOutput{}, err
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Mapping.UUID < recs[j].Mapping.UUID })
	out := ListOutput{EventSourceMappings: []Mapping{}}
	for _, r := range recs {
		m := r.Mapping
		if m.UUID <= in.Marker ||
			(in.EventSourceArn != "" && m.EventSourceArn != in.EventSourceArn) ||
			(fnARN != "" && m.FunctionArn != fnARN) {
			continue
		}
		if len(out.EventSourceMappings) == limit {
			out.NextMarker = out.EventSourceMappings[limit-1].UUID
			break
		}
		out.EventSourceMappings = append(out.EventSourceMappings, s.view(r))
	}
	return out, nil
}

// busy refuses a change while an earlier one is under way, as Lambda does.
func busy(m Mapping) error {
	switch m.State {
	case StateCreating, StateUpdating, StateDeleting, StateEnabling, StateDisabling:
		return apierr.New(apierr.ResourceInUse,
			"Cannot update the event source mapping %s because it is in use (State %s); retry once it is Enabled or Disabled", m.UUID, m.State)
	}
	return nil
}

// Update changes a mapping (State Updating); its pollers restart with the
// new settings from their checkpoints.
func (s *Service) Update(ctx context.Context, in UpdateInput) (Mapping, error) {
	set := settingsOf(in)
	if err := s.check(ctx, set); err != nil {
		return Mapping{}, err
	}
	fnARN := ""
	if in.FunctionName != "" {
		arn, err := s.inv.FunctionARN(ctx, in.FunctionName)
		if err != nil {
			return Mapping{}, err
		}
		fnARN = arn
		s.createMu.Lock() // the function may change: keep Create's uniqueness
		defer s.createMu.Unlock()
	}
	for {
		r, raw, ok, err := s.loadRecord(in.UUID)
		if err != nil {
			return Mapping{}, err
		}
		if !ok {
			return Mapping{}, notFound(in.UUID)
		}
		if err := busy(r.Mapping); err != nil {
			return Mapping{}, err
		}
		if fnARN != "" && fnARN != r.Mapping.FunctionArn {
			if err := s.checkUnique(r.Mapping.EventSourceArn, fnARN, in.FunctionName); err != nil {
				return Mapping{}, err
			}
			r.Mapping.FunctionArn = fnARN
		}
		before := r.Mapping
		applySettings(&r.Mapping, set)
		state := StateUpdating
		if in.Enabled != nil && *in.Enabled != r.Enabled {
			r.Enabled = *in.Enabled
			// Only switched on or off: Lambda says Enabling or Disabling.
			if a, b := jsonOf(before), jsonOf(r.Mapping); a == b {
				state = map[bool]string{true: StateEnabling, false: StateDisabling}[r.Enabled]
			}
		}
		r.Mapping.State = state
		r.Mapping.StateTransitionReason = "User action"
		r.Mapping.LastModified = float64(s.cfg.now().UnixMilli()) / 1000
		r.Revision++
		if _, err := s.putRecord(ctx, r, raw); err != nil {
			if shard.ConditionFailed(err) {
				continue
			}
			return Mapping{}, err
		}
		s.kick(in.UUID)
		return s.view(r), nil
	}
}

// Delete deletes a mapping (State Deleting): its pollers stop, then it and
// its checkpoints are gone.
func (s *Service) Delete(ctx context.Context, uuid string) (Mapping, error) {
	for {
		r, raw, ok, err := s.loadRecord(uuid)
		if err != nil {
			return Mapping{}, err
		}
		if !ok {
			return Mapping{}, notFound(uuid)
		}
		if r.Deleting {
			return Mapping{}, busy(r.Mapping)
		}
		r.Deleting = true
		r.Mapping.State = StateDeleting
		r.Mapping.StateTransitionReason = "User action"
		r.Revision++
		if _, err := s.putRecord(ctx, r, raw); err != nil {
			if shard.ConditionFailed(err) {
				continue
			}
			return Mapping{}, err
		}
		s.kick(uuid)
		return s.view(r), nil
	}
}
