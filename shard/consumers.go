package shard

import (
	"context"
	"encoding/base64"
	"fmt"
	"sort"
	"time"

	"github.com/spatehq/spate/apierr"
)

// The stream-consumer registry of enhanced fan-out (issue 13):
// RegisterStreamConsumer and its kin. Consumers live in their stream's
// metadata, so they survive a restart and go with the stream.

// Limits of the consumer registry, as the Kinesis API reference documents them.
const (
	// MaxConsumersPerStream is how many consumers a stream can have
	// registered at once (DELETING ones included, until they are gone).
	MaxConsumersPerStream = 20
	// DefaultListConsumers and MaxListConsumers bound
	// ListStreamConsumers' MaxResults.
	DefaultListConsumers = 100
	MaxListConsumers     = 10000
)

// ConsumerStatus is a registered consumer's status.
type ConsumerStatus string

// The consumer statuses.
const (
	ConsumerCreating ConsumerStatus = "CREATING"
	ConsumerActive   ConsumerStatus = "ACTIVE"
	ConsumerDeleting ConsumerStatus = "DELETING"
)

// consumerMeta is a registered consumer, persisted in streamMeta.
type consumerMeta struct {
	Name string `json:"name"`
	// CreatedAtMs is whole seconds, since the ARN carries the creation
	// time in epoch seconds and must name the consumer exactly.
	CreatedAtMs int64 `json:"createdAtMs"`
	// ActiveAtMs is when a CREATING consumer becomes ACTIVE (the store's
	// create delay); 0 when it was ACTIVE at once.
	ActiveAtMs int64 `json:"activeAtMs,omitempty"`
	// GoneAtMs is when a DELETING consumer is gone; 0 while it is not
	// being deleted.
	GoneAtMs int64             `json:"goneAtMs,omitempty"`
	Tags     map[string]string `json:"tags,omitempty"`
	Policy   string            `json:"policy,omitempty"`
}

// Consumer describes a registered consumer.
type Consumer struct {
	Name      string
	ARN       string
	Status    ConsumerStatus
	CreatedAt time.Time
	StreamARN string
}

// ConsumerRef names a consumer: by ARN, or by its stream's ARN and its name.
type ConsumerRef struct {
	StreamARN, ConsumerName, ConsumerARN string
}

// ListConsumersInput is ListStreamConsumers' request.
type ListConsumersInput struct {
	StreamARN string
	NextToken string
	// MaxResults is 0 for DefaultListConsumers.
	MaxResults int
	// StreamCreatedAt, when not zero, must be the stream's creation time.
	StreamCreatedAt time.Time
}

// ListConsumersOutput is one page of ListStreamConsumers.
type ListConsumersOutput struct {
	Consumers []Consumer
	NextToken string
}

func (s *Store) consumerARN(stream string, c *consumerMeta) string {
	return fmt.Sprintf("%s/consumer/%s:%d", s.StreamARN(stream), c.Name, c.CreatedAtMs/1000)
}

// gone says whether a DELETING consumer has finished deleting.
func (c *consumerMeta) gone(nowMs int64) bool { return c.GoneAtMs != 0 && nowMs >= c.GoneAtMs }

func (s *Store) consumerStatus(c *consumerMeta) ConsumerStatus {
	now := s.cfg.now().UnixMilli()
	switch {
	case c.GoneAtMs != 0:
		return ConsumerDeleting
	case c.ActiveAtMs != 0 && now < c.ActiveAtMs:
		return ConsumerCreating
	}
	return ConsumerActive
}

func (s *Store) consumerOut(stream string, c *consumerMeta) Consumer {
	return Consumer{
		Name: c.Name, ARN: s.consumerARN(stream, c), Status: s.consumerStatus(c),
		CreatedAt: fromMillis(c.CreatedAtMs), StreamARN: s.StreamARN(stream),
	}
}

// liveConsumers returns m's consumers that are not gone, as a new slice
// (the caller may change it without touching m's).
func (s *Store) liveConsumers(m *streamMeta) []consumerMeta {
	now := s.cfg.now().UnixMilli()
	out := make([]consumerMeta, 0, len(m.Consumers))
	for _, c := range m.Consumers {
		if !c.gone(now) {
			out = append(out, c)
		}
	}
	return out
}

// consumerCount is DescribeStreamSummary's ConsumerCount.
func (s *Store) consumerCount(m *streamMeta) int {
	now := s.cfg.now().UnixMilli()
	n := 0
	for i := range m.Consumers {
		if !m.Consumers[i].gone(now) {
			n++
		}
	}
	return n
}

func (s *Store) consumerNotFound(stream, name string) error {
	return apierr.New(apierr.ResourceNotFound,
		"Consumer %s under stream %s under account %s not found.", name, stream, s.cfg.accountID)
}

// RegisterStreamConsumer registers a consumer with a stream. It is CREATING
// for the store's create delay (WithCreateDelay), then ACTIVE.
func (s *Store) RegisterStreamConsumer(ctx context.Context, streamARN, name string, tags map[string]string) (Consumer, error) {
	if streamARN == "" {
		return Consumer{}, apierr.New(apierr.InvalidArgument, "StreamARN must be provided")
	}
	stream, err := s.ResolveStream("", streamARN)
	if err != nil {
		return Consumer{}, err
	}
	if err := validateRegisteredName(name); err != nil {
		return Consumer{}, err
	}
	if len(tags) > MaxTagsPerStream {
		return Consumer{}, apierr.New(apierr.InvalidArgument, "Tags must hold at most %d tags (got %d)", MaxTagsPerStream, len(tags))
	}
	if err := validateTags(tags); err != nil {
		return Consumer{}, err
	}
	var out Consumer
	err = s.mutateActive(stream, func(m *streamMeta) error {
		live := s.liveConsumers(m)
		for _, c := range live {
			if c.Name == name {
				return apierr.New(apierr.ResourceInUse,
					"Consumer %s under stream %s under account %s already exists (it is %s).", name, stream, s.cfg.accountID, s.consumerStatus(&c))
			}
		}
		if len(live) >= MaxConsumersPerStream {
			return apierr.New(apierr.LimitExceeded,
				"Stream %s under account %s already has %d registered consumers, the most Kinesis allows; deregister one first.",
				stream, s.cfg.accountID, MaxConsumersPerStream)
		}
		now := s.cfg.now()
		c := consumerMeta{Name: name, CreatedAtMs: now.Unix() * 1000, Tags: cloneTags(tags)}
		if s.cfg.createDelay > 0 {
			c.ActiveAtMs = now.Add(s.cfg.createDelay).UnixMilli()
		}
		m.Consumers = append(live, c)
		out = s.consumerOut(stream, &c)
		return nil
	})
	return out, err
}

// validateRegisteredName checks a ConsumerName against the Kinesis model.
func validateRegisteredName(name string) error {
	if name == "" {
		return apierr.New(apierr.InvalidArgument, "ConsumerName must be provided")
	}
	return ValidateConsumerName("ConsumerName", name)
}

// resolveConsumer returns the stream and consumer name a ConsumerRef names:
// a ConsumerARN, or a StreamARN with a ConsumerName, never both kinds.
// created is the creation epoch (seconds) of an ARN, -1 without one.
func (s *Store) resolveConsumer(ref ConsumerRef) (stream, name string, created int64, err error) {
	if ref.ConsumerARN != "" {
		if ref.StreamARN != "" || ref.ConsumerName != "" {
			return "", "", 0, apierr.New(apierr.InvalidArgument,
				"give either ConsumerARN, or StreamARN and ConsumerName, not both")
		}
		r, epoch, err := s.parseResource(ref.ConsumerARN)
		if err != nil {
			return "", "", 0, err
		}
		if r.Consumer == "" {
			return "", "", 0, apierr.New(apierr.InvalidArgument,
				"ConsumerARN %q is a stream ARN, not a consumer ARN stream/<name>/consumer/<consumer>:<timestamp>", ref.ConsumerARN)
		}
		return r.Stream, r.Consumer, epoch, nil
	}
	if ref.StreamARN == "" || ref.ConsumerName == "" {
		return "", "", 0, apierr.New(apierr.InvalidArgument, "give either ConsumerARN, or both StreamARN and ConsumerName")
	}
	stream, err = s.ResolveStream("", ref.StreamARN)
	if err != nil {
		return "", "", 0, err
	}
	if err := validateRegisteredName(ref.ConsumerName); err != nil {
		return "", "", 0, err
	}
	return stream, ref.ConsumerName, -1, nil
}

// findConsumer returns the index of a live consumer in m, or
// ResourceNotFoundException; created (-1 for any) must match the ARN's
// epoch, since a consumer registered again under the same name is another
// consumer.
func (s *Store) findConsumer(m *streamMeta, stream, name string, created int64) (int, error) {
	now := s.cfg.now().UnixMilli()
	for i := range m.Consumers {
		c := &m.Consumers[i]
		if c.Name == name && !c.gone(now) && (created < 0 || c.CreatedAtMs/1000 == created) {
			return i, nil
		}
	}
	return -1, s.consumerNotFound(stream, name)
}

// DescribeStreamConsumer describes a registered consumer.
func (s *Store) DescribeStreamConsumer(ctx context.Context, ref ConsumerRef) (Consumer, error) {
	stream, name, created, err := s.resolveConsumer(ref)
	if err != nil {
		return Consumer{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, err := s.lookup(stream)
	if err != nil {
		return Consumer{}, err
	}
	i, err := s.findConsumer(&st.meta, stream, name, created)
	if err != nil {
		return Consumer{}, err
	}
	return s.consumerOut(stream, &st.meta.Consumers[i]), nil
}

// DeregisterStreamConsumer deregisters a consumer: it is DELETING for the
// store's create delay, then gone (at once without a delay).
func (s *Store) DeregisterStreamConsumer(ctx context.Context, ref ConsumerRef) error {
	stream, name, created, err := s.resolveConsumer(ref)
	if err != nil {
		return err
	}
	return s.mutateActive(stream, func(m *streamMeta) error {
		m.Consumers = s.liveConsumers(m)
		i, err := s.findConsumer(m, stream, name, created)
		if err != nil {
			return err
		}
		if m.Consumers[i].GoneAtMs != 0 {
			return apierr.New(apierr.ResourceInUse,
				"Consumer %s under stream %s under account %s is already DELETING.", name, stream, s.cfg.accountID)
		}
		if s.cfg.createDelay > 0 {
			m.Consumers[i].GoneAtMs = s.cfg.now().Add(s.cfg.createDelay).UnixMilli()
			return nil
		}
		m.Consumers = append(m.Consumers[:i], m.Consumers[i+1:]...)
		return nil
	})
}

// ListStreamConsumers lists a stream's consumers in name order, one page
// at a time.
func (s *Store) ListStreamConsumers(ctx context.Context, in ListConsumersInput) (ListConsumersOutput, error) {
	if in.StreamARN == "" {
		return ListConsumersOutput{}, apierr.New(apierr.InvalidArgument, "StreamARN must be provided")
	}
	stream, err := s.ResolveStream("", in.StreamARN)
	if err != nil {
		return ListConsumersOutput{}, err
	}
	limit := in.MaxResults
	if limit == 0 {
		limit = DefaultListConsumers
	}
	if limit < 1 || limit > MaxListConsumers {
		return ListConsumersOutput{}, apierr.New(apierr.Validation,
			"1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and %d", limit, MaxListConsumers)
	}
	after := ""
	if in.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		if err != nil || len(b) == 0 || validateRegisteredName(string(b)) != nil {
			return ListConsumersOutput{}, apierr.New(apierr.InvalidArgument, "NextToken %q is invalid: pass the NextToken of the previous ListStreamConsumers reply", in.NextToken)
		}
		after = string(b)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	st, err := s.lookup(stream)
	if err != nil {
		return ListConsumersOutput{}, err
	}
	// The creation time tells apart streams that had the same name.
	if !in.StreamCreatedAt.IsZero() && in.StreamCreatedAt.Unix() != st.meta.CreatedAtMs/1000 {
		return ListConsumersOutput{}, apierr.New(apierr.ResourceNotFound,
			"Stream %s under account %s created at %s not found (it was created at %s).",
			stream, s.cfg.accountID, in.StreamCreatedAt.UTC().Format(time.RFC3339), fromMillis(st.meta.CreatedAtMs).Format(time.RFC3339))
	}
	live := s.liveConsumers(&st.meta)
	sort.Slice(live, func(i, j int) bool { return live[i].Name < live[j].Name })
	out := ListConsumersOutput{Consumers: []Consumer{}}
	for i := range live {
		if live[i].Name <= after {
			continue
		}
		if len(out.Consumers) == limit {
			out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(out.Consumers[len(out.Consumers)-1].Name))
			break
		}
		out.Consumers = append(out.Consumers, s.consumerOut(stream, &live[i]))
	}
	return out, nil
}

// DeleteStreamWithConsumers deletes a stream as DeleteStream does; as in
// Kinesis, a stream with registered consumers answers
// ResourceInUseException unless enforceConsumerDeletion, which deletes them
// with it.
func (s *Store) DeleteStreamWithConsumers(ctx context.Context, name string, enforceConsumerDeletion bool) error {
	return s.deleteStream(ctx, name, enforceConsumerDeletion)
}

// refuseConsumers answers ResourceInUseException when m has consumers that
// are not being deleted (DELETING ones are on their way out). The caller
// holds s.mu.
func (s *Store) refuseConsumers(m *streamMeta) error {
	for i := range m.Consumers {
		if m.Consumers[i].GoneAtMs == 0 { // neither DELETING nor gone
			return apierr.New(apierr.ResourceInUse,
				"Stream %s under account %s has registered consumers; deregister them, or set EnforceConsumerDeletion to delete them with the stream.",
				m.Name, s.cfg.accountID)
		}
	}
	return nil
}

// mutateConsumer applies change to a copy of a consumer's metadata in an
// ACTIVE stream and persists it, as mutateActive does for a stream.
func (s *Store) mutateConsumer(r Resource, created int64, change func(c *consumerMeta) error) error {
	return s.mutateActive(r.Stream, func(m *streamMeta) error {
		m.Consumers = s.liveConsumers(m)
		i, err := s.findConsumer(m, r.Stream, r.Consumer, created)
		if err != nil {
			return err
		}
		c := &m.Consumers[i]
		c.Tags = cloneTags(c.Tags)
		return change(c)
	})
}
