package integration

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/client"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
)

// TestConsumerSDK drives client.Consumer in the test process against the
// real server: the behaviours the multi-process proofs
// (consumer_group_proof_test.go) cannot pin down one by one.
func TestConsumerSDK(t *testing.T) {
	t.Parallel()
	k := newKin(t)
	sdk := newSDKClient(t, k.srv)
	for _, tc := range []struct {
		name string
		test func(ctx context.Context, t *testing.T, k *kin, c *client.Client)
	}{
		{"a new worker steals its share, a leaving one hands its leases back", consumerSteal},
		{"a failed batch is retried before its checkpoint", consumerRetry},
		{"WithStopOnHandlerError stops Run with the handler's error", consumerStopOnError},
		{"Output without WithExactlyOnce stops Run", consumerOutputNeedsExactlyOnce},
		{"a stolen lease's checkpoint and output are refused", consumerFenced},
		{"GetRecords reads parents before children", consumerGetRecordsReshard},
		{"a checkpoint whose answer is lost writes its output once", consumerLostAnswer},
		{"heartbeats failing past the lease timeout stop the shards until they work again", consumerHeartbeatOutage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(testCtx(t), t, k, sdk)
		})
	}
}

// handled collects what handlers were given.
type handled struct {
	mu      sync.Mutex
	byKey   map[string][]string
	batches []client.Batch
}

func newHandled() *handled { return &handled{byKey: map[string][]string{}} }

func (h *handled) add(b client.Batch) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.batches = append(h.batches, b)
	for _, r := range b.Records {
		h.byKey[r.GetPartitionKey()] = append(h.byKey[r.GetPartitionKey()], string(r.GetData()))
	}
}

func (h *handled) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return countAll(h.byKey)
}

// putKeyed puts records from to to-1 for each of keys keys, "key/i" in
// order, and returns them by key.
func putKeyed(ctx context.Context, t *testing.T, k *kin, stream, prefix string, keys, from, to int) map[string][]string {
	t.Helper()
	want := map[string][]string{}
	for i := from; i < to; i++ {
		var entries []types.PutRecordsRequestEntry
		for j := range keys {
			key := fmt.Sprintf("%s%d", prefix, j)
			data := fmt.Sprintf("%s/%d", key, i)
			entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(key), Data: []byte(data)})
			want[key] = append(want[key], data)
		}
		k.putRecords(ctx, t, stream, entries)
	}
	return want
}

// runConsumer runs a consumer until the test ends (or stop is called) and
// returns a function that stops it and returns Run's error.
func runConsumer(t *testing.T, con *client.Consumer) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- con.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// owners counts the live leases of each worker; none before the group
// exists.
func owners(ctx context.Context, t *testing.T, c *client.Client, stream, group string) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, l := range tryDescribe(ctx, c, stream, group).GetLeases() {
		if l.GetOwner() != "" {
			n[l.GetOwner()]++
		}
	}
	return n
}

func consumerSteal(ctx context.Context, t *testing.T, k *kin, c *client.Client) {
	stream, group := uniqueName(t), "steal"
	k.create(ctx, t, stream, 4)
	h := newHandled()
	handler := func(_ context.Context, b client.Batch) error { h.add(b); return nil }
	want := putKeyed(ctx, t, k, stream, "a", 16, 0, 5)
	a := client.NewConsumer(c, stream, group, handler, client.WithWorkerID("a"), client.WithLeaseTimeout(time.Second))
	runConsumer(t, a)
	waitUntil(ctx, t, "a holds all 4 leases", func() bool { return owners(ctx, t, c, stream, group)["a"] == 4 })

	b := client.NewConsumer(c, stream, group, handler, client.WithWorkerID("b"), client.WithLeaseTimeout(time.Second))
	stopB := runConsumer(t, b)
	waitUntil(ctx, t, "a and b hold 2 leases each", func() bool {
		o := owners(ctx, t, c, stream, group)
		return o["a"] == 2 && o["b"] == 2
	})
	if g := describeGroup(ctx, t, c, stream, group); g.GetLeaseSteals() < 2 {
		t.Errorf("b reached its share with %d steals, want 2 or more", g.GetLeaseSteals())
	}
	for key, ds := range putKeyed(ctx, t, k, stream, "b", 16, 0, 5) {
		want[key] = ds
	}
	waitUntil(ctx, t, "every record handled", func() bool { return (&keyedProducers{acked: want}).allRead(h.snapshot()) })

	// b leaves: its leases are free as soon as Run returns, long before
	// they would have lapsed, and a takes them.
	if err := stopB(); err != nil {
		t.Fatalf("b.Run: %v", err)
	}
	g := describeGroup(ctx, t, c, stream, group)
	for _, w := range g.GetWorkers() {
		if w.GetWorkerId() == "b" {
			t.Errorf("b is still a worker of the group after Run returned")
		}
	}
	for _, l := range g.GetLeases() {
		if l.GetOwner() == "b" {
			t.Errorf("b still holds %s after Run returned", l.GetShardId())
		}
	}
	waitUntil(ctx, t, "a holds all 4 leases again", func() bool { return owners(ctx, t, c, stream, group)["a"] == 4 })
}

func (h *handled) snapshot() map[string][]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string][]string{}
	for k, v := range h.byKey {
		out[k] = slices.Clone(v)
	}
	return out
}

func consumerRetry(ctx context.Context, t *testing.T, k *kin, c *client.Client) {
	stream, group := uniqueName(t), "retry"
	k.create(ctx, t, stream, 1)
	want := putKeyed(ctx, t, k, stream, "k", 1, 0, 10)
	var mu sync.Mutex
	var calls [][]string // the records of each call
	var errs int
	handler := func(_ context.Context, b client.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, recordsData(b.Records))
		if len(calls) <= 2 {
			// While it fails, nothing is checkpointed.
			resp, err := c.Groups.DescribeGroup(ctx, &spatev1.DescribeGroupRequest{Group: &spatev1.GroupRef{StreamName: stream, Group: group}})
			if err != nil || resp.GetGroup().GetLeases()[0].GetCheckpoint() != "" {
				t.Errorf("DescribeGroup while the batch fails: %v, %v; want no checkpoint", resp, err)
			}
			return errors.New("not now")
		}
		return nil
	}
	con := client.NewConsumer(c, stream, group, handler, client.WithHandlerBackoff(time.Millisecond, 10*time.Millisecond),
		client.WithConsumerHooks(client.ConsumerHooks{OnHandlerError: func(string, int, error) { mu.Lock(); errs++; mu.Unlock() }}))
	stop := runConsumer(t, con)
	var last string
	waitUntil(ctx, t, "the batch is checkpointed", func() bool {
		if ls := tryDescribe(ctx, c, stream, group).GetLeases(); len(ls) > 0 {
			last = ls[0].GetCheckpoint()
		}
		return last != ""
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) < 3 || !slices.Equal(calls[0], calls[1]) || !slices.Equal(calls[0], calls[2]) {
		t.Fatalf("calls %v: want the same batch three times", calls)
	}
	if !slices.Equal(calls[0], want["k0"]) {
		t.Errorf("batch %v, want %v", calls[0], want["k0"])
	}
	if errs != 2 {
		t.Errorf("OnHandlerError called %d times, want 2", errs)
	}
	recs := k.readShard(ctx, t, stream, shardID(0))
	if seq := aws.ToString(recs[len(recs)-1].SequenceNumber); last != seq {
		t.Errorf("checkpoint %s, want the last record's %s", last, seq)
	}
}

// tryDescribe is the group, or nil when it cannot be read (not created
// yet).
func tryDescribe(ctx context.Context, c *client.Client, stream, group string) *spatev1.Group {
	resp, err := c.Groups.DescribeGroup(ctx, &spatev1.DescribeGroupRequest{Group: &spatev1.GroupRef{StreamName: stream, Group: group}})
	if err != nil {
		return nil
	}
	return resp.GetGroup()
}

func recordsData(recs []*spatev1.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, string(r.GetData()))
	}
	return out
}

func consumerStopOnError(ctx context.Context, t *testing.T, k *kin, c *client.Client) {
	stream, group := uniqueName(t), "stop"
	k.create(ctx, t, stream, 1)
	putKeyed(ctx, t, k, stream, "k", 1, 0, 3)
	boom := errors.New("boom")
	con := client.NewConsumer(c, stream, group, func(context.Context, client.Batch) error { return boom },
		client.WithStopOnHandlerError(), client.WithWorkerID("stopper"))
	err := con.Run(ctx)
	if !errors.Is(err, boom) {
		t.Fatalf("Run: %v, want the handler's error", err)
	}
	g := describeGroup(ctx, t, c, stream, group)
	if len(g.GetWorkers()) != 0 || g.GetLeases()[0].GetOwner() != "" || g.GetLeases()[0].GetCheckpoint() != "" {
		t.Errorf("after Run failed: workers %v, lease %v; want none, free and not checkpointed", g.GetWorkers(), g.GetLeases()[0])
	}
}

func consumerOutputNeedsExactlyOnce(ctx context.Context, t *testing.T, k *kin, c *client.Client) {
	stream := uniqueName(t)
	k.create(ctx, t, stream, 1)
	putKeyed(ctx, t, k, stream, "k", 1, 0, 1)
	con := client.NewConsumer(c, stream, "out", func(_ context.Context, b client.Batch) error {
		b.Output(&spatev1.PutRecordsRequestEntry{PartitionKey: "k", Data: []byte("x")})
		return nil
	})
	if err := con.Run(ctx); !errors.Is(err, client.ErrOutputNeedsExactlyOnce) {
		t.Fatalf("Run: %v, want ErrOutputNeedsExactlyOnce", err)
	}
}

// consumerFenced steals a lease from a worker whose handler is in the
// middle of a batch: when the handler returns, its exactly-once checkpoint
// is refused (LeaseLostException) and its output never written.
func consumerFenced(ctx context.Context, t *testing.T, k *kin, c *client.Client) {
	stream, out, group := uniqueName(t), uniqueName(t), "fenced"
	k.create(ctx, t, stream, 1)
	k.create(ctx, t, out, 1)
	putKeyed(ctx, t, k, stream, "k", 1, 0, 5)
	inHandler, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var mu sync.Mutex
	var lost, checkpointErrs []string
	handler := func(_ context.Context, b client.Batch) error {
		for _, r := range b.Records {
			b.Output(&spatev1.PutRecordsRequestEntry{PartitionKey: r.GetPartitionKey(), Data: r.GetData()})
		}
		once.Do(func() {
			close(inHandler)
			<-release
		})
		return nil
	}
	con := client.NewConsumer(c, stream, group, handler, client.WithWorkerID("victim"), client.WithExactlyOnce(out),
		// No heartbeat before the handler returns, so the checkpoint is
		// what learns of the steal.
		client.WithLeaseTimeout(5*time.Second), client.WithHeartbeatInterval(time.Hour),
		client.WithConsumerHooks(client.ConsumerHooks{
			OnLeaseLost: func(id string) { mu.Lock(); lost = append(lost, id); mu.Unlock() },
			OnCheckpoint: func(id, _ string, err error) {
				if err != nil {
					mu.Lock()
					checkpointErrs = append(checkpointErrs, string(apierr.CodeOf(err)))
					mu.Unlock()
				}
			},
		}))
	stop := runConsumer(t, con)
	<-inHandler
	ref := &spatev1.GroupRef{StreamName: stream, Group: group}
	if _, err := c.Groups.JoinGroup(ctx, &spatev1.JoinGroupRequest{Group: ref, WorkerId: "thief"}); err != nil {
		t.Fatal(err)
	}
	l := describeGroup(ctx, t, c, stream, group).GetLeases()[0]
	if _, err := c.Groups.AcquireLease(ctx, &spatev1.AcquireLeaseRequest{Group: ref, WorkerId: "thief", ShardId: l.GetShardId(), ExpectedLeaseCounter: l.GetLeaseCounter()}); err != nil {
		t.Fatalf("steal: %v", err)
	}
	close(release)
	waitUntil(ctx, t, "the victim learns it lost the lease", func() bool { mu.Lock(); defer mu.Unlock(); return len(lost) > 0 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(checkpointErrs, string(apierr.LeaseLost)) {
		t.Errorf("checkpoint errors %v, want %s", checkpointErrs, apierr.LeaseLost)
	}
	if recs := k.readShard(ctx, t, out, shardID(0)); len(recs) != 0 {
		t.Errorf("the fenced batch wrote %d output records", len(recs))
	}
	if cp := describeGroup(ctx, t, c, stream, group).GetLeases()[0].GetCheckpoint(); cp != "" {
		t.Errorf("the fenced batch checkpointed %s", cp)
	}
}

// consumerGetRecordsReshard reads with GetRecords across a split and a
// merge: every record once, each key's in order, each parent's ShardEnd
// batch before any batch of its children.
func consumerGetRecordsReshard(ctx context.Context, t *testing.T, k *kin, c *client.Client) {
	stream, group := uniqueName(t), "poll"
	k.create(ctx, t, stream, 2)
	want := putKeyed(ctx, t, k, stream, "a", 8, 0, 5)
	if err := updateShardCount(ctx, k.c, stream, 4); err != nil {
		t.Fatal(err)
	}
	k.waitActive(ctx, t, stream)
	for key, ds := range putKeyed(ctx, t, k, stream, "a", 8, 5, 10) {
		want[key] = append(want[key], ds...)
	}
	h := newHandled()
	con := client.NewConsumer(c, stream, group, func(_ context.Context, b client.Batch) error { h.add(b); return nil },
		client.WithGetRecords(20*time.Millisecond))
	stop := runConsumer(t, con)
	waitUntil(ctx, t, "every record handled", func() bool { return h.count() >= countAll(want) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	got := h.snapshot()
	for key, ds := range want {
		if !slices.Equal(got[key], ds) {
			t.Errorf("key %s: handled %v, want %v", key, got[key], ds)
		}
	}
	ended := map[string]bool{}
	h.mu.Lock()
	defer h.mu.Unlock()
	parents := map[string][]string{}
	for _, sh := range k.shards(ctx, t, stream) {
		for _, p := range []*string{sh.ParentShardId, sh.AdjacentParentShardId} {
			if p != nil {
				parents[aws.ToString(sh.ShardId)] = append(parents[aws.ToString(sh.ShardId)], *p)
			}
		}
	}
	for _, b := range h.batches {
		for _, p := range parents[b.ShardID] {
			if !ended[p] {
				t.Errorf("a batch of %s before the end of its parent %s", b.ShardID, p)
			}
		}
		if b.ShardEnd {
			ended[b.ShardID] = true
		}
	}
	if len(ended) != 2 {
		t.Errorf("ShardEnd batches of %v, want both parents", ended)
	}
}

// consumerLostAnswer loses the answer of an exactly-once Checkpoint that
// committed (the connection fails after the server wrote it): the consumer
// must find the checkpoint stored rather than fail or write the output
// again.
func consumerLostAnswer(ctx context.Context, t *testing.T, k *kin, _ *client.Client) {
	stream, out, group := uniqueName(t), uniqueName(t), "lost"
	k.create(ctx, t, stream, 1)
	k.create(ctx, t, out, 1)
	want := putKeyed(ctx, t, k, stream, "k", 1, 0, 5)
	var lost atomic.Int32
	dropFirst := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		err := invoker(ctx, method, req, reply, cc, opts...)
		if err == nil && strings.HasSuffix(method, "/Checkpoint") && lost.CompareAndSwap(0, 1) {
			return status.Error(codes.Unavailable, "the answer was lost")
		}
		return err
	}
	c, err := client.New(k.srv.GRPCAddr, client.WithDialOptions(grpc.WithUnaryInterceptor(dropFirst)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	h := newHandled()
	con := client.NewConsumer(c, stream, group, func(_ context.Context, b client.Batch) error {
		h.add(b)
		for _, r := range b.Records {
			b.Output(&spatev1.PutRecordsRequestEntry{PartitionKey: r.GetPartitionKey(), Data: r.GetData()})
		}
		return nil
	}, client.WithExactlyOnce(out), client.WithHandlerBackoff(time.Millisecond, 10*time.Millisecond))
	stop := runConsumer(t, con)
	waitUntil(ctx, t, "every record checkpointed", func() bool {
		ls := tryDescribe(ctx, c, stream, group).GetLeases()
		return len(ls) == 1 && ls[0].GetLagRecords() == 0 && ls[0].GetCheckpoint() != ""
	})
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if lost.Load() != 1 {
		t.Fatal("no Checkpoint answer was lost")
	}
	if got := recordData(k.readShard(ctx, t, out, shardID(0))); !slices.Equal(got, want["k0"]) {
		t.Errorf("output %v, want %v once", got, want["k0"])
	}
	if n := h.count(); n != len(want["k0"]) {
		t.Errorf("the handler was given %d records, want %d: a committed batch was handled again", n, len(want["k0"]))
	}
}

// consumerHeartbeatOutage fails every Heartbeat for longer than the lease
// timeout: the worker must stop reading its shard on its own (it cannot
// know that no other worker took it), then take it up again from its
// checkpoint once heartbeats get through.
func consumerHeartbeatOutage(ctx context.Context, t *testing.T, k *kin, _ *client.Client) {
	stream, group := uniqueName(t), "outage"
	k.create(ctx, t, stream, 1)
	want := putKeyed(ctx, t, k, stream, "k", 1, 0, 5)
	var failing atomic.Bool
	failHeartbeats := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if failing.Load() && strings.HasSuffix(method, "/Heartbeat") {
			return status.Error(codes.Unavailable, "the network is down")
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	c, err := client.New(k.srv.GRPCAddr, client.WithDialOptions(grpc.WithUnaryInterceptor(failHeartbeats)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	h := newHandled()
	var lost atomic.Int32
	con := client.NewConsumer(c, stream, group, func(_ context.Context, b client.Batch) error { h.add(b); return nil },
		client.WithLeaseTimeout(time.Second),
		client.WithConsumerHooks(client.ConsumerHooks{OnLeaseLost: func(string) { lost.Add(1) }}))
	stop := runConsumer(t, con)
	waitUntil(ctx, t, "the first records handled", func() bool { return h.count() >= 5 })
	failing.Store(true)
	waitUntil(ctx, t, "the worker gives its shard up", func() bool { return lost.Load() > 0 })
	failing.Store(false)
	for key, ds := range putKeyed(ctx, t, k, stream, "k", 1, 5, 10) {
		want[key] = append(want[key], ds...)
	}
	waitUntil(ctx, t, "the records put after the outage handled", func() bool {
		return (&keyedProducers{acked: want}).allRead(h.snapshot())
	})
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := h.snapshot()["k0"]; !slices.Equal(got, want["k0"]) {
		t.Errorf("handled %v, want %v once each, in order", got, want["k0"])
	}
}
