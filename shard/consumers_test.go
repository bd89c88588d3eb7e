package shard

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/spatehq/spate/apierr"
)

func TestRegisterStreamConsumer(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		existing int // consumers registered first: c00, c01, ...
		stream   string
		consumer string
		code     apierr.Code
	}{
		{name: "first", consumer: "app"},
		{name: "duplicate", existing: 1, consumer: "c00", code: apierr.ResourceInUse},
		{name: "nineteen taken", existing: MaxConsumersPerStream - 1, consumer: "app"},
		{name: "limit", existing: MaxConsumersPerStream, consumer: "app", code: apierr.LimitExceeded},
		{name: "missing stream", stream: "nope", consumer: "app", code: apierr.ResourceNotFound},
		{name: "bad name", consumer: "a:b", code: apierr.Validation},
		{name: "no name", consumer: "", code: apierr.InvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, "")
			mustCreate(t, s, "s", 1)
			arn := s.StreamARN("s")
			for i := range tc.existing {
				if _, err := s.RegisterStreamConsumer(ctx, arn, fmt.Sprintf("c%02d", i), nil); err != nil {
					t.Fatal(err)
				}
			}
			if tc.stream != "" {
				arn = s.StreamARN(tc.stream)
			}
			c, err := s.RegisterStreamConsumer(ctx, arn, tc.consumer, nil)
			if tc.code != "" {
				wantCode(t, err, tc.code)
				if d, _ := s.DescribeStreamSummary(ctx, "s"); d.ConsumerCount != tc.existing {
					t.Errorf("ConsumerCount = %d after a refused register, want %d", d.ConsumerCount, tc.existing)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("%s/consumer/%s:%d", arn, tc.consumer, c.CreatedAt.Unix())
			if c.ARN != want || c.Status != ConsumerActive || c.Name != tc.consumer || c.StreamARN != arn {
				t.Errorf("got %+v, want ARN %s, ACTIVE", c, want)
			}
			if d, _ := s.DescribeStreamSummary(ctx, "s"); d.ConsumerCount != tc.existing+1 {
				t.Errorf("ConsumerCount = %d, want %d", d.ConsumerCount, tc.existing+1)
			}
		})
	}
}

func TestDescribeStreamConsumer(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "")
	mustCreate(t, s, "s", 1)
	mustCreate(t, s, "other", 1)
	arn := s.StreamARN("s")
	c, err := s.RegisterStreamConsumer(ctx, arn, "app", nil)
	if err != nil {
		t.Fatal(err)
	}
	stale := fmt.Sprintf("%s/consumer/app:%d", arn, c.CreatedAt.Unix()-1)
	tests := []struct {
		name string
		ref  ConsumerRef
		code apierr.Code
	}{
		{name: "by ARN", ref: ConsumerRef{ConsumerARN: c.ARN}},
		{name: "by name", ref: ConsumerRef{StreamARN: arn, ConsumerName: "app"}},
		{name: "unknown name", ref: ConsumerRef{StreamARN: arn, ConsumerName: "nope"}, code: apierr.ResourceNotFound},
		{name: "other stream", ref: ConsumerRef{StreamARN: s.StreamARN("other"), ConsumerName: "app"}, code: apierr.ResourceNotFound},
		{name: "other creation time", ref: ConsumerRef{ConsumerARN: stale}, code: apierr.ResourceNotFound},
		{name: "stream ARN as consumer ARN", ref: ConsumerRef{ConsumerARN: arn}, code: apierr.InvalidArgument},
		{name: "both", ref: ConsumerRef{ConsumerARN: c.ARN, StreamARN: arn, ConsumerName: "app"}, code: apierr.InvalidArgument},
		{name: "name without stream", ref: ConsumerRef{ConsumerName: "app"}, code: apierr.InvalidArgument},
		{name: "nothing", code: apierr.InvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.DescribeStreamConsumer(ctx, tc.ref)
			if tc.code != "" {
				wantCode(t, err, tc.code)
				return
			}
			if err != nil || got != c {
				t.Fatalf("got %+v, %v; want %+v", got, err, c)
			}
		})
	}
}

func TestListStreamConsumers(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, "")
	mustCreate(t, s, "s", 1)
	arn := s.StreamARN("s")
	for _, n := range []string{"d", "b", "e", "a", "c"} {
		if _, err := s.RegisterStreamConsumer(ctx, arn, n, nil); err != nil {
			t.Fatal(err)
		}
	}
	created, _ := s.DescribeStreamSummary(ctx, "s")
	tests := []struct {
		name  string
		in    ListConsumersInput
		pages []string // names of each page, e.g. "ab"
		code  apierr.Code
	}{
		{name: "default", in: ListConsumersInput{StreamARN: arn}, pages: []string{"abcde"}},
		{name: "pages of two", in: ListConsumersInput{StreamARN: arn, MaxResults: 2}, pages: []string{"ab", "cd", "e"}},
		{name: "exact pages", in: ListConsumersInput{StreamARN: arn, MaxResults: 5}, pages: []string{"abcde"}},
		{name: "creation time", in: ListConsumersInput{StreamARN: arn, StreamCreatedAt: created.CreatedAt}, pages: []string{"abcde"}},
		{name: "other creation time", in: ListConsumersInput{StreamARN: arn, StreamCreatedAt: created.CreatedAt.Add(-time.Hour)}, code: apierr.ResourceNotFound},
		{name: "bad token", in: ListConsumersInput{StreamARN: arn, NextToken: "!!"}, code: apierr.InvalidArgument},
		{name: "too many", in: ListConsumersInput{StreamARN: arn, MaxResults: MaxListConsumers + 1}, code: apierr.Validation},
		{name: "no stream", in: ListConsumersInput{}, code: apierr.InvalidArgument},
		{name: "missing stream", in: ListConsumersInput{StreamARN: s.StreamARN("nope")}, code: apierr.ResourceNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			var pages []string
			for {
				out, err := s.ListStreamConsumers(ctx, in)
				if tc.code != "" {
					wantCode(t, err, tc.code)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				page := ""
				for _, c := range out.Consumers {
					page += c.Name
				}
				pages = append(pages, page)
				if out.NextToken == "" {
					break
				}
				in.NextToken = out.NextToken
			}
			if fmt.Sprint(pages) != fmt.Sprint(tc.pages) {
				t.Errorf("pages = %q, want %q", pages, tc.pages)
			}
		})
	}
}

// TestConsumerLifecycle follows a consumer through CREATING, ACTIVE,
// DELETING and gone with a create delay, a restart, and its stream's
// deletion.
func TestConsumerLifecycle(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := &fakeClock{}
	clock.ms.Store(1_700_000_000_500)
	opts := []Option{WithClock(clock.now), WithCreateDelay(time.Second)}
	s := openTest(t, dir, opts...)
	mustCreate(t, s, "s", 1)
	clock.advance(time.Second)
	arn := s.StreamARN("s")
	byName := ConsumerRef{StreamARN: arn, ConsumerName: "app"}
	status := func(s *Store) ConsumerStatus {
		t.Helper()
		c, err := s.DescribeStreamConsumer(ctx, byName)
		if err != nil {
			t.Fatal(err)
		}
		return c.Status
	}

	c, err := s.RegisterStreamConsumer(ctx, arn, "app", map[string]string{"team": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != ConsumerCreating || c.ARN != arn+"/consumer/app:1700000001" {
		t.Fatalf("registered %+v, want CREATING with creation epoch 1700000001", c)
	}
	clock.advance(time.Second)
	if got := status(s); got != ConsumerActive {
		t.Fatalf("status after the delay = %s, want ACTIVE", got)
	}

	// A restart keeps the consumer, its ARN and its tags.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir, opts...)
	if got, err := s.DescribeStreamConsumer(ctx, ConsumerRef{ConsumerARN: c.ARN}); err != nil || got.Status != ConsumerActive {
		t.Fatalf("after restart: %+v, %v", got, err)
	}
	if tags, err := s.ListTagsForResource(ctx, c.ARN); err != nil || len(tags) != 1 || tags[0] != (Tag{"team", "x"}) {
		t.Fatalf("tags after restart = %v, %v", tags, err)
	}

	if err := s.DeregisterStreamConsumer(ctx, byName); err != nil {
		t.Fatal(err)
	}
	if got := status(s); got != ConsumerDeleting {
		t.Fatalf("status after deregister = %s, want DELETING", got)
	}
	wantCode(t, s.DeregisterStreamConsumer(ctx, byName), apierr.ResourceInUse)
	_, err = s.RegisterStreamConsumer(ctx, arn, "app", nil)
	wantCode(t, err, apierr.ResourceInUse)
	clock.advance(time.Second)
	_, err = s.DescribeStreamConsumer(ctx, byName)
	wantCode(t, err, apierr.ResourceNotFound)
	if d, _ := s.DescribeStreamSummary(ctx, "s"); d.ConsumerCount != 0 {
		t.Errorf("ConsumerCount = %d once deleted, want 0", d.ConsumerCount)
	}

	// Registered again, the name is another consumer with another ARN.
	clock.advance(time.Second)
	again, err := s.RegisterStreamConsumer(ctx, arn, "app", nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.ARN == c.ARN {
		t.Errorf("re-registered consumer kept the ARN %s", c.ARN)
	}
	_, err = s.ListTagsForResource(ctx, c.ARN)
	wantCode(t, err, apierr.ResourceNotFound)

	// Consumers go with their stream, and do not come back with a new
	// stream of the same name.
	clock.advance(time.Second)
	if err := s.DeleteStream(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "s", 1)
	clock.advance(time.Second)
	out, err := s.ListStreamConsumers(ctx, ListConsumersInput{StreamARN: arn})
	if err != nil || len(out.Consumers) != 0 {
		t.Fatalf("consumers of a new stream = %+v, %v", out.Consumers, err)
	}
	_, err = s.DescribeStreamConsumer(ctx, byName)
	wantCode(t, err, apierr.ResourceNotFound)
}

// withConsumer opens a store with a stream "s" and its consumer "app".
func withConsumer(t *testing.T) (s *Store, streamARN string, c Consumer) {
	t.Helper()
	s = openTest(t, "")
	mustCreate(t, s, "s", 1)
	c, err := s.RegisterStreamConsumer(context.Background(), s.StreamARN("s"), "app", nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, s.StreamARN("s"), c
}

func TestDeregisterWithoutDelay(t *testing.T) {
	ctx := context.Background()
	s, _, c := withConsumer(t)
	var err error
	if err := s.DeregisterStreamConsumer(ctx, ConsumerRef{ConsumerARN: c.ARN}); err != nil {
		t.Fatal(err)
	}
	_, err = s.DescribeStreamConsumer(ctx, ConsumerRef{ConsumerARN: c.ARN})
	wantCode(t, err, apierr.ResourceNotFound)
	wantCode(t, s.DeregisterStreamConsumer(ctx, ConsumerRef{ConsumerARN: c.ARN}), apierr.ResourceNotFound)
}

// TestConsumerResources checks that a consumer ARN is a resource of its
// own for tags and resource policies, apart from its stream's.
func TestConsumerResources(t *testing.T) {
	ctx := context.Background()
	s, arn, c := withConsumer(t)
	if r, err := s.ResolveResource(c.ARN); err != nil || r != (Resource{Stream: "s", Consumer: "app"}) {
		t.Fatalf("ResolveResource = %+v, %v", r, err)
	}
	if err := s.TagResource(ctx, c.ARN, map[string]string{"k": "v", "j": "w"}); err != nil {
		t.Fatal(err)
	}
	if err := s.UntagResource(ctx, c.ARN, []string{"j"}); err != nil {
		t.Fatal(err)
	}
	if tags, err := s.ListTagsForResource(ctx, c.ARN); err != nil || len(tags) != 1 || tags[0] != (Tag{"k", "v"}) {
		t.Errorf("consumer tags = %v, %v", tags, err)
	}
	if tags, _ := s.ListTagsForResource(ctx, arn); len(tags) != 0 {
		t.Errorf("stream took the consumer's tags: %v", tags)
	}
	const doc = `{"Statement":[]}`
	if err := s.PutResourcePolicy(ctx, c.ARN, doc); err != nil {
		t.Fatal(err)
	}
	if p, ok, err := s.GetResourcePolicy(ctx, c.ARN); err != nil || !ok || p != doc {
		t.Errorf("GetResourcePolicy = %q, %v, %v", p, ok, err)
	}
	if s.ResourcePolicy(c.ARN) != doc || s.ResourcePolicy(arn) != "" {
		t.Errorf("ResourcePolicy(consumer) = %q, ResourcePolicy(stream) = %q", s.ResourcePolicy(c.ARN), s.ResourcePolicy(arn))
	}
	if s.ResourcePolicy(arn+"/consumer/app:1") != "" || s.ResourcePolicy(arn+"/consumer/app") != "" {
		t.Error("ResourcePolicy answered for a consumer ARN of another creation time")
	}
	if err := s.DeleteResourcePolicy(ctx, c.ARN); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DeleteResourcePolicy(ctx, c.ARN), apierr.ResourceNotFound)
	if s.ResourcePolicy(c.ARN) != "" {
		t.Error("policy left after DeleteResourcePolicy")
	}
}

// TestDeleteStreamWithConsumers checks EnforceConsumerDeletion: a stream
// with an ACTIVE or CREATING consumer is kept without it, one whose
// consumers are all DELETING is not.
func TestDeleteStreamWithConsumers(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name        string
		deregister  bool // the consumer is DELETING
		enforce     bool
		wantDeleted bool
	}{
		{name: "consumer kept", wantDeleted: false},
		{name: "enforced", enforce: true, wantDeleted: true},
		{name: "consumer deleting", deregister: true, wantDeleted: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{}
			clock.ms.Store(1_700_000_000_000)
			s := openTest(t, "", WithClock(clock.now), WithCreateDelay(time.Second))
			mustCreate(t, s, "s", 1)
			clock.advance(time.Second)
			if _, err := s.RegisterStreamConsumer(ctx, s.StreamARN("s"), "app", nil); err != nil {
				t.Fatal(err)
			}
			if tc.deregister {
				if err := s.DeregisterStreamConsumer(ctx, ConsumerRef{StreamARN: s.StreamARN("s"), ConsumerName: "app"}); err != nil {
					t.Fatal(err)
				}
			}
			err := s.DeleteStreamWithConsumers(ctx, "s", tc.enforce)
			if !tc.wantDeleted {
				wantCode(t, err, apierr.ResourceInUse)
				if _, err := s.DescribeStreamSummary(ctx, "s"); err != nil {
					t.Fatalf("stream gone after a refused delete: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.DescribeStreamSummary(ctx, "s")
			wantCode(t, err, apierr.ResourceNotFound)
		})
	}
}
