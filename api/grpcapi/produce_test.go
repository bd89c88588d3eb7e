package grpcapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/spatehq/spate/apierr"
	"github.com/spatehq/spate/auth"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

// produceBatch builds a batch of n records under key, data "<tag>-<i>".
func produceReq(id uint64, stream, key string, n int) *spatev1.ProduceRequest {
	req := &spatev1.ProduceRequest{BatchId: id, StreamName: stream}
	for i := range n {
		req.Records = append(req.Records, &spatev1.PutRecordsRequestEntry{PartitionKey: key, Data: fmt.Appendf(nil, "%d-%d", id, i)})
	}
	return req
}

// TestProduce: every batch is answered once, echoing its id, with the
// records' results; batch-level failures are answered in their batch and
// the stream goes on; a shard's records are stored in request order
// though many batches are in flight at once.
func TestProduce(t *testing.T) {
	f := newFixture(t)
	ctx := testContext(t)
	if _, err := f.client.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: "s", ShardCount: 2}); err != nil {
		t.Fatal(err)
	}
	stream, err := f.client.Produce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const batches = 300 // more than produceMaxBatches: the client is flow-controlled, not refused
	failing := map[uint64]string{
		7:  string(apierr.ResourceNotFound), // unknown stream
		11: string(apierr.InvalidArgument),  // no records
		13: string(apierr.Validation),       // an empty partition key
	}
	sendErr := make(chan error, 1)
	go func() {
		for id := range uint64(batches) {
			req := produceReq(id, "s", fmt.Sprintf("k%d", id%4), 1+int(id%5))
			switch id {
			case 7:
				req.StreamName = "nope"
			case 11:
				req.Records = nil
			case 13:
				req.Records[0].PartitionKey = ""
			}
			if err := stream.Send(req); err != nil {
				sendErr <- err
				return
			}
		}
		sendErr <- stream.CloseSend()
	}()
	seen := map[uint64]bool{}
	lastSeq := map[string]string{} // by shard: sequence numbers grow in batch order
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		id := resp.GetBatchId()
		if seen[id] {
			t.Fatalf("batch %d answered twice", id)
		}
		seen[id] = true
		if want, ok := failing[id]; ok {
			if resp.GetErrorCode() != want || len(resp.GetRecords()) != 0 {
				t.Fatalf("batch %d: %v, want error %s", id, resp, want)
			}
			continue
		}
		if resp.GetErrorCode() != "" || resp.GetFailedRecordCount() != 0 || len(resp.GetRecords()) != 1+int(id%5) {
			t.Fatalf("batch %d: %v", id, resp)
		}
		for _, r := range resp.GetRecords() {
			if r.GetSequenceNumber() <= lastSeq[r.GetShardId()] {
				t.Fatalf("batch %d: sequence number %s in %s not after %s", id, r.GetSequenceNumber(), r.GetShardId(), lastSeq[r.GetShardId()])
			}
			lastSeq[r.GetShardId()] = r.GetSequenceNumber()
		}
	}
	if err := <-sendErr; err != nil {
		t.Fatal(err)
	}
	if len(seen) != batches {
		t.Fatalf("%d batches answered, want %d", len(seen), batches)
	}
}

// TestProduceIntercept: a batch is a PutRecords to the intercept; its
// error answers the batch, its injected record faults refuse the rest of
// the faulted record's shard.
func TestProduceIntercept(t *testing.T) {
	store, err := shard.Open(t.TempDir(), shard.WithFaultInjection(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	var mu sync.Mutex
	var calls int
	intercept := func(ctx context.Context, api, action string) (context.Context, error) {
		if api != "Kinesis" || action != "PutRecords" {
			return ctx, fmt.Errorf("intercepted %s.%s", api, action)
		}
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			return ctx, apierr.New(apierr.LimitExceeded, "Rate exceeded.")
		}
		return shard.WithFaults(ctx, shard.Faults{Record: func(i int) apierr.Code {
			if i == 1 {
				return apierr.InternalFailure
			}
			return ""
		}}), nil
	}
	conn := serveBufconn(t, func(gs *grpc.Server) { Register(gs, store) }, InterceptStreamOption(intercept))
	c := spatev1.NewStreamServiceClient(conn)
	ctx := testContext(t)
	if _, err := c.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: "s", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	stream, err := c.Produce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for id := range uint64(2) {
		if err := stream.Send(produceReq(id, "s", "k", 3)); err != nil {
			t.Fatal(err)
		}
	}
	first, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if first.GetErrorCode() != string(apierr.LimitExceeded) || first.GetErrorMessage() != "Rate exceeded." {
		t.Fatalf("first batch: %v", first)
	}
	second, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	recs := second.GetRecords()
	if second.GetFailedRecordCount() != 2 || recs[0].GetSequenceNumber() == "" ||
		recs[1].GetErrorCode() != string(apierr.InternalFailure) || recs[2].GetErrorCode() != string(apierr.InternalFailure) {
		t.Fatalf("second batch: %v, want the 2nd record refused and the 3rd after it", second)
	}
}

// TestProduceAuthorizedAsPutRecords: a Produce batch needs
// kinesis:PutRecords on its stream.
func TestProduceAuthorizedAsPutRecords(t *testing.T) {
	keys, err := auth.ParseKeys([]byte("[w]\naws_access_key_id = W\naws_secret_access_key = w\n[r]\naws_access_key_id = R\naws_secret_access_key = r\n"))
	if err != nil {
		t.Fatal(err)
	}
	policies, err := auth.ParsePolicies([]byte(`{
		"w": {"Statement": [{"Effect": "Allow", "Action": ["kinesis:PutRecords", "kinesis:CreateStream"], "Resource": "*"}]},
		"r": {"Statement": [{"Effect": "Allow", "Action": ["kinesis:PutRecord", "kinesis:Produce"], "Resource": "*"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	store, err := shard.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	g := auth.NewGuard(keys, policies, "us-east-1", "000000000000")
	conn := serveBufconn(t, func(gs *grpc.Server) { Register(gs, store) }, AuthOptions(g, store)...)
	c := spatev1.NewStreamServiceClient(conn)
	ctx := testContext(t)
	w, r := auth.Profile{AccessKeyID: "W", SecretAccessKey: "w"}, auth.Profile{AccessKeyID: "R", SecretAccessKey: "r"}
	if _, err := c.CreateStream(signedAs(t, ctx, w, spatev1.StreamService_CreateStream_FullMethodName),
		&spatev1.CreateStreamRequest{StreamName: "s", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		p    auth.Profile
		code codes.Code
	}{
		{"kinesis:PutRecords allowed", w, codes.OK},
		{"kinesis:PutRecord and kinesis:Produce are not enough", r, codes.PermissionDenied},
		{"unsigned", auth.Profile{}, codes.Unauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stream, err := c.Produce(signedAs(t, ctx, tt.p, spatev1.StreamService_Produce_FullMethodName))
			if err != nil {
				t.Fatal(err)
			}
			if err := stream.Send(produceReq(1, "s", "k", 1)); err != nil && !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			resp, err := stream.Recv()
			if status.Code(err) != tt.code {
				t.Fatalf("answer %v, error %v, want %s", resp, err, tt.code)
			}
			if err == nil && resp.GetFailedRecordCount() != 0 {
				t.Fatalf("answer %v", resp)
			}
		})
	}
}

// TestProduceMetrics: each batch is observed as a call of
// StreamService/Produce with its batch-level error's code.
func TestProduceMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	store, err := shard.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	conn := serveBufconn(t, func(gs *grpc.Server) { Register(gs, store) }, grpc.ChainStreamInterceptor(m.StreamServerInterceptor()))
	c := spatev1.NewStreamServiceClient(conn)
	ctx := testContext(t)
	if _, err := c.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: "s", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	stream, err := c.Produce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for id, name := range []string{"s", "s", "missing"} {
		if err := stream.Send(produceReq(uint64(id), name, "k", 1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := stream.Recv(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
	}
	// The batches were observed before their answers were sent.
	for code, want := range map[string]uint64{"OK": 2, "NotFound": 1} {
		labels := map[string]string{"protocol": "grpc", "action": "StreamService/Produce", "code": code}
		if got := seriesCount(t, reg, labels); got != want {
			t.Errorf("observations with labels %v = %d, want %d", labels, got, want)
		}
	}
}

// countingStream counts a stream's messages both ways and checks, at every
// message received, that the server holds at most produceMaxBatches
// batches it has read and not answered.
type countingStream struct {
	grpc.ServerStream
	t              *testing.T
	mu             sync.Mutex
	received, sent int
	full           chan struct{} // closed when the bound is first reached
	fullOnce       sync.Once
}

func (s *countingStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received++
	switch held := s.received - s.sent; {
	case held > produceMaxBatches:
		s.t.Errorf("%d batches read and not answered, more than %d", held, produceMaxBatches)
	case held == produceMaxBatches:
		s.fullOnce.Do(func() { close(s.full) })
	}
	return nil
}

func (s *countingStream) SendMsg(m any) error {
	err := s.ServerStream.SendMsg(m)
	s.mu.Lock()
	s.sent++
	s.mu.Unlock()
	return err
}

// TestProduceFlowControl: a client that sends batches without reading
// the answers is stopped at produceMaxBatches unanswered batches (the
// server stops reading its stream), not buffered without bound; once it
// reads, every batch is answered.
func TestProduceFlowControl(t *testing.T) {
	store, err := shard.Open(t.TempDir(), shard.WithDurability(shard.DurabilityRelaxed))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	cs := &countingStream{t: t, full: make(chan struct{})}
	count := grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		cs.ServerStream = ss
		return handler(srv, cs)
	})
	conn := serveBufconn(t, func(gs *grpc.Server) { Register(gs, store) }, count)
	c := spatev1.NewStreamServiceClient(conn)
	ctx := testContext(t)
	if _, err := c.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: "s", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	stream, err := c.Produce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const batches = 3 * produceMaxBatches
	sent := make(chan error, 1)
	go func() {
		for id := range uint64(batches) {
			// 300 records: each answer is about 25 KiB, so unread answers
			// fill the stream's window and the server's sends block.
			if err := stream.Send(produceReq(id, "s", "k", 300)); err != nil {
				sent <- err
				return
			}
		}
		sent <- stream.CloseSend()
	}()
	// Read once the bound is reached, or once everything is sent (the
	// windows took it all: then the bound was not needed).
	var sendErr error
	sendDone := false
	select {
	case <-cs.full:
	case sendErr = <-sent:
		sendDone = true
	}
	answered := 0
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetErrorCode() != "" || resp.GetFailedRecordCount() != 0 {
			t.Fatalf("batch %d: %s %s", resp.GetBatchId(), resp.GetErrorCode(), resp.GetErrorMessage())
		}
		answered++
	}
	select {
	case <-cs.full:
	default:
		t.Fatalf("the server never held %d unanswered batches: the test did not reach the bound", produceMaxBatches)
	}
	if !sendDone {
		sendErr = <-sent
	}
	if sendErr != nil || answered != batches {
		t.Fatalf("%d of %d batches answered, send: %v", answered, batches, sendErr)
	}
}

// TestProduceEndsAtClose: at Close a Produce stream answers the batches it
// has read, each stored as answered, and ends with Unavailable though the
// client never closed its side; a new stream is refused the same way.
// Before, the stream outlived Close and held up the server's shutdown.
func TestProduceEndsAtClose(t *testing.T) {
	f := newFixture(t)
	ctx := testContext(t)
	if _, err := f.client.CreateStream(ctx, &spatev1.CreateStreamRequest{StreamName: "s", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	stream, err := f.client.Produce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const sent = 20
	for id := range uint64(sent) {
		if err := stream.Send(produceReq(id, "s", "k", 2)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := stream.Recv(); err != nil { // the stream is being served
		t.Fatal(err)
	}
	answered := 1
	f.server.Close()
	for {
		resp, err := stream.Recv()
		if err != nil {
			if status.Code(err) != codes.Unavailable {
				t.Fatalf("the stream ended with %v, want Unavailable", err)
			}
			break
		}
		if resp.GetErrorCode() != "" || resp.GetFailedRecordCount() != 0 {
			t.Errorf("batch %d answered with a failure: %v", resp.GetBatchId(), resp)
		}
		answered++
	}
	if answered > sent {
		t.Fatalf("%d answers to %d batches", answered, sent)
	}
	it, err := f.store.ShardIterator(ctx, "s", shard.ShardID(0), shard.Position{Type: shard.TrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.store.GetRecords(ctx, it, 10000)
	if err != nil {
		t.Fatal(err)
	}
	// Batches are answered in order and a batch read is answered, so the
	// stored records are the answered batches' (none read but unanswered).
	if len(out.Records) != 2*answered {
		t.Errorf("%d records stored, want the %d of the %d answered batches", len(out.Records), 2*answered, answered)
	}

	again, err := f.client.Produce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Recv(); status.Code(err) != codes.Unavailable {
		t.Errorf("a Produce stream opened after Close: %v, want Unavailable", err)
	}
}
