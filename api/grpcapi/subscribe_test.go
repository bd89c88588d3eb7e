package grpcapi

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/spatehq/spate/apierr"
	spatev1 "github.com/spatehq/spate/proto/spate/v1"
	"github.com/spatehq/spate/shard"
)

func subscribe(t *testing.T, ctx context.Context, f *fixture, pos *spatev1.StartingPosition) spatev1.StreamService_SubscribeClient {
	t.Helper()
	stream, err := f.client.Subscribe(ctx, &spatev1.SubscribeRequest{StreamName: "s", ShardId: "shardId-000000000000", StartingPosition: pos})
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	return stream
}

// receive reads events until it has n records and checks that every
// event's continuation number is its last record's sequence number.
func receive(t *testing.T, stream spatev1.StreamService_SubscribeClient, n int) []*spatev1.Record {
	t.Helper()
	var got []*spatev1.Record
	for len(got) < n {
		ev, err := stream.Recv()
		if err != nil {
			t.Fatalf("Recv after %d records: %v", len(got), err)
		}
		if len(ev.GetRecords()) == 0 {
			t.Fatalf("event without records on an open shard: %v", ev)
		}
		if last := ev.GetRecords()[len(ev.GetRecords())-1]; ev.GetContinuationSequenceNumber() != last.GetSequenceNumber() {
			t.Errorf("continuation %q, last record %q", ev.GetContinuationSequenceNumber(), last.GetSequenceNumber())
		}
		got = append(got, ev.GetRecords()...)
	}
	return got
}

func dataOf(records []*spatev1.Record) []string {
	out := make([]string, len(records))
	for i, r := range records {
		out[i] = string(r.GetData())
	}
	return out
}

func put(t *testing.T, f *fixture, data ...string) []string {
	t.Helper()
	entries := make([]*spatev1.PutRecordsRequestEntry, len(data))
	for i, d := range data {
		entries[i] = &spatev1.PutRecordsRequestEntry{Data: []byte(d), PartitionKey: "k"}
	}
	resp, err := f.client.PutRecords(testContext(t), &spatev1.PutRecordsRequest{StreamName: "s", Records: entries})
	if err != nil || resp.GetFailedRecordCount() != 0 {
		t.Fatalf("PutRecords = %v, %v", resp, err)
	}
	seqs := make([]string, len(data))
	for i, r := range resp.GetRecords() {
		seqs[i] = r.GetSequenceNumber()
	}
	return seqs
}

func TestSubscribeReceivesAppendedRecords(t *testing.T) {
	f := newFixture(t)
	f.createStream(t, "s", 1)
	ctx := testContext(t)

	// TRIM_HORIZON of an empty shard: whenever the server gets to it, the
	// subscription starts before every record put below.
	stream := subscribe(t, ctx, f, &spatev1.StartingPosition{Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON})

	var want []string
	var seqs []string
	for batch := range 3 {
		var data []string
		for i := range 4 {
			data = append(data, fmt.Sprintf("b%d-r%d", batch, i))
		}
		seqs = append(seqs, put(t, f, data...)...)
		want = append(want, data...)
		// Each batch arrives before the next is put: records are pushed
		// as they are appended, not when the call ends.
		got := receive(t, stream, 4)
		if !slices.Equal(dataOf(got), data) {
			t.Fatalf("batch %d = %q, want %q", batch, dataOf(got), data)
		}
		for i, r := range got {
			if r.GetSequenceNumber() != seqs[batch*4+i] || r.GetPartitionKey() != "k" || r.GetApproximateArrivalTimestamp() == nil {
				t.Errorf("record %v, want sequence %s and partition key k", r, seqs[batch*4+i])
			}
		}
	}
}

func TestSubscribeStartingPositions(t *testing.T) {
	f := newFixture(t)
	f.createStream(t, "s", 1)
	seqs := put(t, f, "a", "b", "c")

	tests := []struct {
		name string
		pos  *spatev1.StartingPosition
		want []string
	}{
		{"trim horizon", &spatev1.StartingPosition{Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON}, []string{"a", "b", "c", "d"}},
		{"at sequence number", &spatev1.StartingPosition{
			Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_AT_SEQUENCE_NUMBER, SequenceNumber: seqs[1],
		}, []string{"b", "c", "d"}},
		{"after sequence number", &spatev1.StartingPosition{
			Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_AFTER_SEQUENCE_NUMBER, SequenceNumber: seqs[2],
		}, []string{"d"}},
	}
	var streams []spatev1.StreamService_SubscribeClient
	for _, tt := range tests {
		streams = append(streams, subscribe(t, testContext(t), f, tt.pos))
	}
	put(t, f, "d")
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dataOf(receive(t, streams[i], len(tt.want))); !slices.Equal(got, tt.want) {
				t.Errorf("records = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSubscribeEndsWithTheCall(t *testing.T) {
	f := newFixture(t)
	f.createStream(t, "s", 1)
	put(t, f, "a")

	ctx, cancel := context.WithCancel(testContext(t))
	stream := subscribe(t, ctx, f, &spatev1.StartingPosition{Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON})
	receive(t, stream, 1)
	cancel()
	if _, err := stream.Recv(); status.Code(err) != codes.Canceled {
		t.Errorf("Recv after cancel: %v, want Canceled", err)
	}
}

func TestSubscribeEndsOnClose(t *testing.T) {
	f := newFixture(t)
	f.createStream(t, "s", 1)
	seqs := put(t, f, "a")

	stream := subscribe(t, testContext(t), f, &spatev1.StartingPosition{Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON})
	receive(t, stream, 1) // the subscription is running
	f.server.Close()
	_, err := stream.Recv()
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), seqs[0]) {
		t.Errorf("Recv after Close: %v, want Unavailable naming %s", err, seqs[0])
	}
	// New subscriptions fail the same way.
	stream = subscribe(t, testContext(t), f, &spatev1.StartingPosition{Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_LATEST})
	if _, err := stream.Recv(); status.Code(err) != codes.Unavailable {
		t.Errorf("Recv on a new subscription after Close: %v, want Unavailable", err)
	}
	// Unary calls still work.
	put(t, f, "b")
}

// TestSubscribeEvents: a store batch goes out in events of at most
// maxBytes of data and partition keys (at least one record each), the last
// with the child shards, every one with the last sequence number so far;
// each event is, byte for byte, proto.Marshal's (deterministic) of the
// event built as messages.
func TestSubscribeEvents(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	rec := func(data string) shard.Record {
		return shard.Record{SequenceNumber: seq(int(data[0])), ArrivalTime: at, PartitionKey: "k", Data: []byte(data)}
	}
	children := []shard.ChildShard{{ShardID: "shardId-000000000001", ParentShards: []string{"shardId-000000000000"}}}
	tests := []struct {
		name     string
		in       shard.ReadResult
		maxBytes int
		want     [][]string // records per event
		children int        // index of the event with child shards, -1 for none
	}{
		{"one event", shard.ReadResult{Records: []shard.Record{rec("aaa"), rec("bbb")}}, 100, [][]string{{"aaa", "bbb"}}, -1},
		{"split by size", shard.ReadResult{Records: []shard.Record{rec("aaa"), rec("bbb"), rec("ccc")}}, 8, [][]string{{"aaa", "bbb"}, {"ccc"}}, -1},
		{"record larger than the limit goes alone", shard.ReadResult{Records: []shard.Record{rec("aaaaaaaaaa"), rec("b")}}, 4, [][]string{{"aaaaaaaaaa"}, {"b"}}, -1},
		{"shard end with records", shard.ReadResult{Records: []shard.Record{rec("aaa"), rec("bbbb")}, ShardEnded: true, ChildShards: children}, 4, [][]string{{"aaa"}, {"bbbb"}}, 1},
		{"shard end without records", shard.ReadResult{ShardEnded: true, ChildShards: children}, 4, [][]string{nil}, 0},
	}
	for _, tt := range tests {
		for _, tight := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/tight=%v", tt.name, tight), func(t *testing.T) {
				sink := &recordsSink{maxBytes: tt.maxBytes}
				sinkRecords(t, sink, tt.in.Records, tight)
				last := "before"
				var events []*spatev1.SubscribeResponse
				err := sendEvents(tt.in, sink, &last, func(ev *spatev1.SubscribeResponse) error {
					events = append(events, ev)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if len(events) != len(tt.want) {
					t.Fatalf("%d events, want %d", len(events), len(tt.want))
				}
				wantLast, off := "before", 0
				for i, ev := range events {
					recs := tt.in.Records[off : off+len(tt.want[i])]
					off += len(recs)
					if len(recs) > 0 {
						wantLast = recs[len(recs)-1].SequenceNumber
					}
					want := &spatev1.SubscribeResponse{Records: encodeRecords(recs), MillisBehindLatest: tt.in.MillisBehindLatest, ContinuationSequenceNumber: wantLast}
					if i == tt.children {
						want.ChildShards = encodeChildShards(tt.in.ChildShards)
					}
					wantWire, err := proto.MarshalOptions{Deterministic: true}.Marshal(want)
					if err != nil {
						t.Fatal(err)
					}
					if raw := ev.ProtoReflect().GetUnknown(); !bytes.Equal(raw, wantWire) {
						t.Errorf("event %d encoded %x, proto.Marshal %x", i, raw, wantWire)
					}
					if got := dataOf(decodeEvent(t, ev).GetRecords()); !slices.Equal(got, tt.want[i]) && len(got)+len(tt.want[i]) > 0 {
						t.Errorf("event %d records = %q, want %q", i, got, tt.want[i])
					}
				}
				if last != wantLast {
					t.Errorf("last sequence number %q, want %q", last, wantLast)
				}
			})
		}
	}
}

// decodeEvent reads an event encoded beforehand as a client would.
func decodeEvent(t *testing.T, ev *spatev1.SubscribeResponse) *spatev1.SubscribeResponse {
	t.Helper()
	wire, err := proto.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	out := new(spatev1.SubscribeResponse)
	if err := proto.Unmarshal(wire, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// consumerAges returns the named consumers' iterator ages of stream s by
// shard (only shards that have some), and fails if an anonymous read moved
// the anonymous age.
func consumerAges(t *testing.T, f *fixture) map[string]map[string]int64 {
	t.Helper()
	m, err := f.store.StreamMetrics(testContext(t), "s")
	if err != nil {
		t.Fatalf("StreamMetrics: %v", err)
	}
	out := map[string]map[string]int64{}
	for _, sh := range m.Shards {
		if sh.IteratorAgeMs != -1 {
			t.Errorf("shard %s: anonymous iterator age %d, want -1: only named subscribers read", sh.ShardID, sh.IteratorAgeMs)
		}
		if len(sh.ConsumerAgesMs) > 0 {
			out[sh.ShardID] = sh.ConsumerAgesMs
		}
	}
	return out
}

// Two subscriptions share a consumer name, each through its own Server on
// the same store, so that each can be ended alone (Server.Close), and the
// end is seen only after the handler has returned.
func TestSubscribeConsumerNameReportsTheAge(t *testing.T) {
	f := newFixture(t)
	f.createStream(t, "s", 2)
	var other *Server
	otherClient := spatev1.NewStreamServiceClient(serveBufconn(t, func(gs *grpc.Server) { other = Register(gs, f.store) }))
	trimHorizon := &spatev1.StartingPosition{Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON}

	// One record on each shard (hash keys 0 and 2^127).
	for _, key := range []string{"0", "170141183460469231731687303715884105728"} {
		if _, err := f.client.PutRecord(testContext(t), &spatev1.PutRecordRequest{
			StreamName: "s", PartitionKey: "k", ExplicitHashKey: key, Data: []byte("x"),
		}); err != nil {
			t.Fatalf("PutRecord: %v", err)
		}
	}
	sub := func(client spatev1.StreamServiceClient, shardID string) spatev1.StreamService_SubscribeClient {
		stream, err := client.Subscribe(testContext(t), &spatev1.SubscribeRequest{
			StreamName: "s", ShardId: shardID, StartingPosition: trimHorizon, ConsumerName: "app",
		})
		if err != nil {
			t.Fatalf("Subscribe: %v", err)
		}
		receive(t, stream, 1) // the store read it under the name before sending it
		return stream
	}
	first := sub(f.client, "shardId-000000000000")
	second := sub(otherClient, "shardId-000000000001")

	// Both read to the tip: age 0, under the name, on each shard.
	want := map[string]map[string]int64{"shardId-000000000000": {"app": 0}, "shardId-000000000001": {"app": 0}}
	if got := consumerAges(t, f); !maps.EqualFunc(got, want, maps.Equal) {
		t.Fatalf("consumer ages = %v, want %v", got, want)
	}
	if _, err := f.store.EnableEnhancedMonitoring(testContext(t), "s", []shard.ShardLevelMetric{shard.MetricIteratorAgeMilliseconds}); err != nil {
		t.Fatalf("EnableEnhancedMonitoring: %v", err)
	}
	// ageSeries returns the shard and consumer labels of the scraped
	// iterator age series, sorted.
	ageSeries := func() []string {
		t.Helper()
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(f.store.Collector())
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatalf("gather: %v", err)
		}
		var out []string
		for _, mf := range mfs {
			if mf.GetName() != "spate_shard_iterator_age_milliseconds" {
				continue
			}
			for _, m := range mf.GetMetric() {
				labels := map[string]string{}
				for _, lp := range m.GetLabel() {
					labels[lp.GetName()] = lp.GetValue()
				}
				out = append(out, labels["shard"]+" "+labels["consumer"])
			}
		}
		slices.Sort(out)
		return out
	}
	if got, want := ageSeries(), []string{"shardId-000000000000 app", "shardId-000000000001 app"}; !slices.Equal(got, want) {
		t.Fatalf("iterator age series (shard consumer) = %q, want %q", got, want)
	}

	// The first subscription ends; the name is still held by the second.
	f.server.Close()
	if _, err := first.Recv(); status.Code(err) != codes.Unavailable {
		t.Fatalf("Recv after Close: %v, want Unavailable", err)
	}
	if got := consumerAges(t, f); !maps.EqualFunc(got, want, maps.Equal) {
		t.Fatalf("consumer ages with one subscription left = %v, want %v", got, want)
	}

	// The last one ends: the name's series go.
	other.Close()
	if _, err := second.Recv(); status.Code(err) != codes.Unavailable {
		t.Fatalf("Recv after Close: %v, want Unavailable", err)
	}
	if got := consumerAges(t, f); len(got) != 0 {
		t.Fatalf("consumer ages after every subscription ended = %v, want none", got)
	}
	if got := ageSeries(); len(got) != 0 {
		t.Fatalf("iterator age series after every subscription ended = %q, want none", got)
	}
}

func TestSubscribeConsumerNames(t *testing.T) {
	tests := []struct {
		name     string
		consumer string
		valid    bool
	}{
		{"empty is anonymous", "", true},
		{"one character", "a", true},
		{"every allowed kind", "App_1.v-2", true},
		{"128 characters", strings.Repeat("a", 128), true},
		{"129 characters", strings.Repeat("a", 129), false},
		{"a colon, as in-process names have", "firehose:orders", false},
		{"a space", "my app", false},
		{"a slash", "team/app", false},
		{"not ASCII", "appé", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.createStream(t, "s", 1)
			put(t, f, "a")
			stream, err := f.client.Subscribe(testContext(t), &spatev1.SubscribeRequest{
				StreamName: "s", ShardId: "shardId-000000000000", ConsumerName: tt.consumer,
				StartingPosition: &spatev1.StartingPosition{Type: spatev1.ShardIteratorType_SHARD_ITERATOR_TYPE_TRIM_HORIZON},
			})
			if err != nil {
				t.Fatalf("Subscribe: %v", err)
			}
			m := func() shard.ShardMetrics {
				t.Helper()
				sm, err := f.store.StreamMetrics(testContext(t), "s")
				if err != nil {
					t.Fatalf("StreamMetrics: %v", err)
				}
				return sm.Shards[0]
			}
			if !tt.valid {
				_, err := stream.Recv()
				if status.Code(err) != codes.InvalidArgument || !apierr.Is(FromStatus(err), apierr.Validation) ||
					!strings.Contains(err.Error(), "consumer_name") {
					t.Fatalf("Recv: %v, want InvalidArgument ValidationException about consumer_name", err)
				}
				// Nothing was read, under any name.
				if got := m(); got.IteratorAgeMs != -1 || len(got.ConsumerAgesMs) != 0 || got.OutgoingRecords != 0 {
					t.Fatalf("after a rejected subscription: %+v, want no reads", got)
				}
				return
			}
			receive(t, stream, 1)
			got := m()
			if _, named := got.ConsumerAgesMs[tt.consumer]; named != (tt.consumer != "") || (got.IteratorAgeMs != -1) != (tt.consumer == "") {
				t.Fatalf("after reading as %q: anonymous age %d, consumer ages %v", tt.consumer, got.IteratorAgeMs, got.ConsumerAgesMs)
			}
		})
	}
}
