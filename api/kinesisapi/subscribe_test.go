package kinesisapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/api/awsproto/awsprototest"
	"github.com/spatehq/spate/shard"
)

// fanOutServer is a real store served by a handler whose SubscribeToShard
// knobs the tests set.
type fanOutServer struct {
	*awsprototest.Client
	h     *handler
	store *shard.Store
}

func newFanOutServer(t *testing.T, storeOpts []shard.Option, opts ...Option) *fanOutServer {
	t.Helper()
	st, err := shard.Open(t.TempDir(), storeOpts...)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	h := newHandler(st, opts...)
	c := newTestServer(t, h.Handler)
	// The server (closed by newTestServer's cleanup, which runs first)
	// waits for the streams; Close ends those a test leaves open.
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	t.Cleanup(h.Close)
	return &fanOutServer{Client: c, h: h, store: st}
}

// stream creates a stream of one shard and an ACTIVE consumer, and
// returns the consumer's ARN.
func (s *fanOutServer) stream(name, consumer string) string {
	s.OK("CreateStream", map[string]any{"StreamName": name, "ShardCount": 1})
	reg := s.OK("RegisterStreamConsumer", map[string]any{"StreamARN": testARN + name, "ConsumerName": consumer})
	return reg["Consumer"].(map[string]any)["ConsumerARN"].(string)
}

func (s *fanOutServer) put(stream string, data ...string) {
	for _, d := range data {
		s.OK("PutRecord", map[string]any{"StreamName": stream, "PartitionKey": "k", "Data": base64.StdEncoding.EncodeToString([]byte(d))})
	}
}

// eventReader reads the event stream of one SubscribeToShard reply.
type eventReader struct {
	t    *testing.T
	resp *http.Response
	dec  *eventstream.Decoder
	cbor bool
}

// subscribe calls SubscribeToShard in JSON (or CBOR) and returns the
// reply: an eventReader when it is an event stream, else the error reply.
func (s *fanOutServer) subscribe(t *testing.T, cbor bool, body map[string]any) (*eventReader, awsprototest.Reply) {
	t.Helper()
	var raw []byte
	var err error
	ct := awsproto.ContentType
	if cbor {
		ct = awsprototest.CBORContentType
		raw, err = awsprototest.EncodeCBOR(body)
	} else {
		raw, err = json.Marshal(body)
	}
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.URL+"/", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("X-Amz-Target", TargetPrefix+".SubscribeToShard")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		r := awsprototest.Reply{Status: resp.StatusCode, Header: resp.Header, Raw: string(b)}
		if cbor {
			r.Body, err = awsprototest.DecodeCBOR(b)
		} else {
			err = json.Unmarshal(b, &r.Body)
		}
		if err != nil {
			t.Fatalf("error reply %q: %v", b, err)
		}
		return nil, r
	}
	t.Cleanup(func() { resp.Body.Close() })
	if got := resp.Header.Get("Content-Type"); got != awsproto.EventStreamContentType {
		t.Fatalf("Content-Type = %q, want %q", got, awsproto.EventStreamContentType)
	}
	if resp.Header.Get("X-Amzn-Requestid") == "" {
		t.Error("no x-amzn-RequestId")
	}
	r := &eventReader{t: t, resp: resp, dec: eventstream.NewDecoder(), cbor: cbor}
	init := r.next()
	r.checkHeaders(init, map[string]string{":message-type": "event", ":event-type": "initial-response", ":content-type": r.contentType()})
	if got := r.payload(init); len(got) != 0 {
		t.Errorf("initial-response payload = %v, want an empty structure", got)
	}
	return r, awsprototest.Reply{}
}

func (s *fanOutServer) mustSubscribe(t *testing.T, consumerARN string, pos map[string]any) *eventReader {
	t.Helper()
	r, fail := s.subscribe(t, false, map[string]any{"ConsumerARN": consumerARN, "ShardId": "shardId-000000000000", "StartingPosition": pos})
	if r == nil {
		t.Fatalf("SubscribeToShard: %d %s", fail.Status, fail.Raw)
	}
	return r
}

func (r *eventReader) contentType() string {
	if r.cbor {
		return awsprototest.CBORContentType
	}
	return "application/json"
}

// next reads one message; it fails the test at the end of the stream.
func (r *eventReader) next() eventstream.Message {
	r.t.Helper()
	m, err := r.dec.Decode(r.resp.Body, nil)
	if err != nil {
		r.t.Fatalf("read event: %v", err)
	}
	return m
}

// end checks that the stream is over.
func (r *eventReader) end() {
	r.t.Helper()
	if m, err := r.dec.Decode(r.resp.Body, nil); !errors.Is(err, io.EOF) {
		r.t.Fatalf("after the last event: %v (%v), want the end of the body", err, m.Headers)
	}
}

func (r *eventReader) checkHeaders(m eventstream.Message, want map[string]string) {
	r.t.Helper()
	for k, v := range want {
		if got := m.Headers.Get(k); got == nil || got.String() != v {
			r.t.Errorf("header %s = %v, want %q (headers %v)", k, got, v, m.Headers)
		}
	}
}

func (r *eventReader) payload(m eventstream.Message) map[string]any {
	r.t.Helper()
	var v map[string]any
	var err error
	if r.cbor {
		v, err = awsprototest.DecodeCBOR(m.Payload)
	} else {
		err = json.Unmarshal(m.Payload, &v)
	}
	if err != nil {
		r.t.Fatalf("payload %q: %v", m.Payload, err)
	}
	return v
}

// event reads a SubscribeToShardEvent.
func (r *eventReader) event() map[string]any {
	r.t.Helper()
	m := r.next()
	r.checkHeaders(m, map[string]string{":message-type": "event", ":event-type": "SubscribeToShardEvent", ":content-type": r.contentType()})
	return r.payload(m)
}

// exception reads an exception message and returns its type and message.
func (r *eventReader) exception() (string, string) {
	r.t.Helper()
	m := r.next()
	r.checkHeaders(m, map[string]string{":message-type": "exception", ":content-type": r.contentType()})
	typ := m.Headers.Get(":exception-type")
	if typ == nil {
		r.t.Fatalf("exception without :exception-type: %v", m.Headers)
	}
	msg, _ := r.payload(m)["message"].(string)
	return typ.String(), msg
}

// records reads events until n records have come and returns their data
// and the last event.
func (r *eventReader) records(n int) ([]string, map[string]any) {
	r.t.Helper()
	var got []string
	var last map[string]any
	for len(got) < n {
		last = r.event()
		for _, rec := range last["Records"].([]any) {
			got = append(got, r.data(rec.(map[string]any)["Data"]))
		}
	}
	return got, last
}

func (r *eventReader) data(v any) string {
	r.t.Helper()
	if r.cbor {
		b, ok := v.([]byte)
		if !ok {
			r.t.Fatalf("CBOR Data is %T, want a byte string", v)
		}
		return string(b)
	}
	b, err := base64.StdEncoding.DecodeString(v.(string))
	if err != nil {
		r.t.Fatalf("JSON Data %q: %v", v, err)
	}
	return string(b)
}

// TestSubscribeToShardEvents reads records put before and after the
// subscription, in JSON and in CBOR: the framing, the headers, the shapes
// of the events, and the continuation sequence number.
func TestSubscribeToShardEvents(t *testing.T) {
	for _, cbor := range []bool{false, true} {
		t.Run(map[bool]string{false: "json", true: "cbor"}[cbor], func(t *testing.T) {
			s := newFanOutServer(t, nil)
			arn := s.stream("s", "app")
			s.put("s", "a", "b", "c")
			r, fail := s.subscribe(t, cbor, map[string]any{
				"ConsumerARN": arn, "ShardId": "shardId-000000000000", "StartingPosition": map[string]any{"Type": "TRIM_HORIZON"},
			})
			if r == nil {
				t.Fatalf("SubscribeToShard: %s", fail.Raw)
			}
			got, ev := r.records(3)
			s.put("s", "d", "e")
			more, last := r.records(2)
			if got = append(got, more...); !slices.Equal(got, []string{"a", "b", "c", "d", "e"}) {
				t.Fatalf("records = %q", got)
			}
			recs := ev["Records"].([]any)
			rec := recs[len(recs)-1].(map[string]any)
			if rec["PartitionKey"] != "k" || rec["SequenceNumber"] == nil || rec["ApproximateArrivalTimestamp"] == nil {
				t.Errorf("record = %v", rec)
			}
			if ev["ContinuationSequenceNumber"] != rec["SequenceNumber"] {
				t.Errorf("ContinuationSequenceNumber = %v, want the last record's %v", ev["ContinuationSequenceNumber"], rec["SequenceNumber"])
			}
			if _, ok := last["MillisBehindLatest"]; !ok {
				t.Errorf("event without MillisBehindLatest: %v", last)
			}
			if _, ok := last["ChildShards"]; ok {
				t.Errorf("ChildShards in an event of an open shard: %v", last)
			}
		})
	}
}

// TestSubscribeToShardContinuation subscribes again AFTER the
// ContinuationSequenceNumber of an event without records and of one with
// records: nothing is skipped or read twice.
func TestSubscribeToShardContinuation(t *testing.T) {
	s := newFanOutServer(t, nil, awsproto.WithMaxStreamDuration(time.Hour))
	s.h.fanOut.takeoverAfter, s.h.fanOut.callEvery = 0, 0
	arn := s.stream("s", "app")
	r := s.mustSubscribe(t, arn, map[string]any{"Type": "LATEST"})
	ev := r.event() // at once, without records
	if recs := ev["Records"].([]any); len(recs) != 0 {
		t.Fatalf("first event of LATEST on an empty shard = %v", ev)
	}
	cont := ev["ContinuationSequenceNumber"].(string)
	s.put("s", "a", "b")
	r = s.mustSubscribe(t, arn, map[string]any{"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": cont})
	got, last := r.records(2)
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("records after %s = %q", cont, got)
	}
	s.put("s", "c")
	r = s.mustSubscribe(t, arn, map[string]any{"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last["ContinuationSequenceNumber"]})
	if got, _ := r.records(1); !slices.Equal(got, []string{"c"}) {
		t.Fatalf("records after %v = %q", last["ContinuationSequenceNumber"], got)
	}
}

// TestSubscribeToShardOrder writes from several goroutines while a
// subscription reads: every record arrives once, in sequence-number order.
func TestSubscribeToShardOrder(t *testing.T) {
	s := newFanOutServer(t, nil)
	arn := s.stream("s", "app")
	r := s.mustSubscribe(t, arn, map[string]any{"Type": "TRIM_HORIZON"})
	const writers, each = 4, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				s.put("s", fmt.Sprintf("%d-%d", w, i))
			}
		})
	}
	next := make([]int, writers) // per writer, the record expected next
	var prev string
	for n := 0; n < writers*each; {
		for _, rec := range r.event()["Records"].([]any) {
			m := rec.(map[string]any)
			seq := m["SequenceNumber"].(string)
			if seq <= prev { // same length: string order is numeric order
				t.Fatalf("sequence number %s after %s", seq, prev)
			}
			prev = seq
			var w, i int
			if _, err := fmt.Sscanf(r.data(m["Data"]), "%d-%d", &w, &i); err != nil {
				t.Fatal(err)
			}
			if i != next[w] {
				t.Fatalf("writer %d: record %d, want %d", w, i, next[w])
			}
			next[w]++
			n++
		}
	}
	wg.Wait()
}

// TestSubscribeToShardTakeover follows the API reference: a second call
// for the same consumer and shard within 5 seconds of a successful one is
// refused with ResourceInUseException; one 5 seconds or more after takes
// over, and the first stream ends with a ResourceInUseException event.
func TestSubscribeToShardTakeover(t *testing.T) {
	s := newFanOutServer(t, nil)
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	s.h.fanOut.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	arn := s.stream("s", "app")
	trim := map[string]any{"Type": "TRIM_HORIZON"}
	first := s.mustSubscribe(t, arn, trim)
	first.event()

	advance(takeoverAfter - time.Millisecond)
	if r, fail := s.subscribe(t, false, map[string]any{"ConsumerARN": arn, "ShardId": "shardId-000000000000", "StartingPosition": trim}); r != nil ||
		fail.Status != http.StatusBadRequest || fail.ErrType() != "ResourceInUseException" {
		t.Fatalf("second call within 5 s: %d %s, want 400 ResourceInUseException", fail.Status, fail.Raw)
	}
	// Another shard, or another consumer, is another subscription.
	other := s.stream("t", "app")
	s.mustSubscribe(t, other, trim).event()

	advance(time.Millisecond)
	second := s.mustSubscribe(t, arn, trim)
	if typ, msg := first.exception(); typ != "ResourceInUseException" || !strings.Contains(msg, "taken over") {
		t.Errorf("first stream's exception = %s %q, want ResourceInUseException", typ, msg)
	}
	first.end()
	s.put("s", "x")
	if got, _ := second.records(1); !slices.Equal(got, []string{"x"}) {
		t.Errorf("second subscription read %q", got)
	}
}

// TestSubscribeToShardEnds checks every way a stream ends: its time is up
// and the handler closes (clean ends), the consumer is deregistered and
// the stream deleted (exception events).
func TestSubscribeToShardEnds(t *testing.T) {
	trim := map[string]any{"Type": "TRIM_HORIZON"}
	t.Run("time up", func(t *testing.T) {
		s := newFanOutServer(t, nil, awsproto.WithMaxStreamDuration(time.Millisecond))
		s.h.fanOut.callEvery = 0 // subscribing again at once
		arn := s.stream("s", "app")
		r := s.mustSubscribe(t, arn, trim)
		for {
			m, err := r.dec.Decode(r.resp.Body, nil)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			r.checkHeaders(m, map[string]string{":message-type": "event"}) // no exception
		}
		// The subscription is over (it is released before the body
		// ends): another one is not refused, though it ends as soon.
		s.mustSubscribe(t, arn, trim)
	})
	t.Run("handler closed", func(t *testing.T) {
		s := newFanOutServer(t, nil)
		s.h.fanOut.callEvery = 0 // subscribing again at once
		arn := s.stream("s", "app")
		r := s.mustSubscribe(t, arn, trim)
		r.event()
		s.h.Close()
		r.end()
		// Later subscriptions end after their initial response.
		r = s.mustSubscribe(t, arn, trim)
		r.end()
	})
	t.Run("consumer deregistered", func(t *testing.T) {
		s := newFanOutServer(t, nil)
		arn := s.stream("s", "app")
		r := s.mustSubscribe(t, arn, trim)
		r.event()
		s.OK("DeregisterStreamConsumer", map[string]any{"StreamARN": testARN + "s", "ConsumerName": "app"})
		if typ, _ := r.exception(); typ != "ResourceNotFoundException" {
			t.Errorf("exception = %s, want ResourceNotFoundException", typ)
		}
		r.end()
	})
	t.Run("stream deleted", func(t *testing.T) {
		s := newFanOutServer(t, nil)
		arn := s.stream("s", "app")
		r := s.mustSubscribe(t, arn, trim)
		r.event()
		s.OK("DeleteStream", map[string]any{"StreamName": "s", "EnforceConsumerDeletion": true})
		if typ, _ := r.exception(); typ != "ResourceNotFoundException" {
			t.Errorf("exception = %s, want ResourceNotFoundException", typ)
		}
		r.end()
	})
}

// TestSubscribeToShardHeartbeat: an idle subscription gets empty events.
func TestSubscribeToShardHeartbeat(t *testing.T) {
	s := newFanOutServer(t, nil)
	s.h.fanOut.heartbeat = time.Millisecond
	arn := s.stream("s", "app")
	r := s.mustSubscribe(t, arn, map[string]any{"Type": "LATEST"})
	for range 3 {
		if ev := r.event(); len(ev["Records"].([]any)) != 0 || ev["ContinuationSequenceNumber"] == "" {
			t.Fatalf("idle event = %v", ev)
		}
	}
}

// TestSubscribeToShardErrors: what fails before the stream starts answers
// an ordinary error reply, in the request's format.
func TestSubscribeToShardErrors(t *testing.T) {
	a := newFanOutServer(t, nil)
	arn := a.stream("s", "app")
	trim := map[string]any{"Type": "TRIM_HORIZON"}
	cases := []struct {
		name    string
		body    map[string]any
		errType string
	}{
		{"unknown consumer", map[string]any{"ConsumerARN": testARN + "s/consumer/nope:1", "ShardId": "shardId-000000000000", "StartingPosition": trim}, "ResourceNotFoundException"},
		{"unknown shard", map[string]any{"ConsumerARN": arn, "ShardId": "shardId-000000000007", "StartingPosition": trim}, "ResourceNotFoundException"},
		{"no position", map[string]any{"ConsumerARN": arn, "ShardId": "shardId-000000000000"}, "ValidationException"},
		{"bad type", map[string]any{"ConsumerARN": arn, "ShardId": "shardId-000000000000", "StartingPosition": map[string]any{"Type": "NEWEST"}}, "ValidationException"},
		{"no sequence number", map[string]any{"ConsumerARN": arn, "ShardId": "shardId-000000000000", "StartingPosition": map[string]any{"Type": "AT_SEQUENCE_NUMBER"}}, "InvalidArgumentException"},
		{"foreign sequence number", map[string]any{"ConsumerARN": arn, "ShardId": "shardId-000000000000",
			"StartingPosition": map[string]any{"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": "49999999999999999999999999999999999999999999999999999999"}}, "InvalidArgumentException"},
		{"stream ARN", map[string]any{"ConsumerARN": testARN + "s", "ShardId": "shardId-000000000000", "StartingPosition": trim}, "ValidationException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, cbor := range []bool{false, true} {
				r, fail := a.subscribe(t, cbor, c.body)
				if r != nil || fail.Status != http.StatusBadRequest || fail.ErrType() != c.errType {
					t.Errorf("cbor %v: %d %s, want 400 %s", cbor, fail.Status, fail.Raw, c.errType)
				}
			}
		})
	}
}

// TestSubscribeToShardConsumerNotActive: a CREATING consumer answers
// ResourceInUseException.
func TestSubscribeToShardConsumerNotActive(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := newFanOutServer(t, []shard.Option{shard.WithCreateDelay(time.Minute), shard.WithClock(clock)})
	s.OK("CreateStream", map[string]any{"StreamName": "s", "ShardCount": 1})
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	reg := s.OK("RegisterStreamConsumer", map[string]any{"StreamARN": testARN + "s", "ConsumerName": "app"})
	arn := reg["Consumer"].(map[string]any)["ConsumerARN"].(string)
	r, fail := s.subscribe(t, false, map[string]any{"ConsumerARN": arn, "ShardId": "shardId-000000000000", "StartingPosition": map[string]any{"Type": "LATEST"}})
	if r != nil || fail.ErrType() != "ResourceInUseException" || !strings.Contains(fail.Message(), "CREATING") {
		t.Fatalf("CREATING consumer: %d %s, want ResourceInUseException", fail.Status, fail.Raw)
	}
}

// TestSubscribeToShardConsumerSeries: the subscription's iterator age is
// its consumer's series.
func TestSubscribeToShardConsumerSeries(t *testing.T) {
	s := newFanOutServer(t, nil)
	arn := s.stream("s", "app")
	s.OK("EnableEnhancedMonitoring", map[string]any{"StreamName": "s", "ShardLevelMetrics": []string{"ALL"}})
	s.put("s", "a")
	r := s.mustSubscribe(t, arn, map[string]any{"Type": "TRIM_HORIZON"})
	r.records(1)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(s.store.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var consumers []string
	for _, mf := range mfs {
		if mf.GetName() != "spate_shard_iterator_age_milliseconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "consumer" {
					consumers = append(consumers, lp.GetValue())
				}
			}
		}
	}
	if !slices.Contains(consumers, "app") {
		t.Fatalf("iterator age series' consumers = %q, want one for app", consumers)
	}
}

// TestSubscribeToShardThroughput: under the throughput limits each
// consumer's shard has a meter of its own, charged with what is pushed;
// without them there is none.
func TestSubscribeToShardThroughput(t *testing.T) {
	for _, limited := range []bool{false, true} {
		t.Run(fmt.Sprint("limited ", limited), func(t *testing.T) {
			s := newFanOutServer(t, []shard.Option{shard.WithThroughputLimits(limited)})
			// The meters' clock stands still: what is charged stays owed.
			frozen := time.Now()
			s.h.fanOut.now = func() time.Time { return frozen }
			// On demand: the stream takes 4 MiB/s, so 2.7 MiB go in at once.
			s.OK("CreateStream", map[string]any{"StreamName": "s", "StreamModeDetails": map[string]any{"StreamMode": "ON_DEMAND"}})
			consumer := func(name string) string {
				reg := s.OK("RegisterStreamConsumer", map[string]any{"StreamARN": testARN + "s", "ConsumerName": name})
				return reg["Consumer"].(map[string]any)["ConsumerARN"].(string)
			}
			arn, other := consumer("app"), consumer("other")
			big := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", 900<<10)))
			n := 3 // 2.7 MiB: more than a second's worth
			if !limited {
				big, n = "eA==", 1
			}
			var shardID string
			for range n {
				shardID = s.OK("PutRecord", map[string]any{"StreamName": "s", "PartitionKey": "k", "Data": big})["ShardId"].(string)
			}
			r, fail := s.subscribe(t, false, map[string]any{"ConsumerARN": arn, "ShardId": shardID, "StartingPosition": map[string]any{"Type": "TRIM_HORIZON"}})
			if r == nil {
				t.Fatalf("SubscribeToShard: %s", fail.Raw)
			}
			r.records(n)
			s.h.fanOut.mu.Lock()
			meter := s.h.fanOut.meters[subscriptionKey{arn, shardID}]
			_, otherMeter := s.h.fanOut.meters[subscriptionKey{other, shardID}]
			s.h.fanOut.mu.Unlock()
			if !limited {
				if meter != nil {
					t.Fatal("a meter without limits")
				}
				return
			}
			if meter == nil || otherMeter {
				t.Fatalf("meters: app %v, other %v; want app's only", meter != nil, otherMeter)
			}
			if d := meter.ReadDelay(frozen); d <= 0 {
				t.Errorf("after 2.7 MiB pushed, ReadDelay = %v, want a debt", d)
			}
		})
	}
}

// TestSubscribeToShardChildShards: at the end of a closed shard the last
// event carries the ChildShards, and the stream ends, in JSON and CBOR.
func TestSubscribeToShardChildShards(t *testing.T) {
	for _, cbor := range []bool{false, true} {
		t.Run(map[bool]string{false: "json", true: "cbor"}[cbor], func(t *testing.T) {
			s := newFanOutServer(t, nil)
			arn := s.stream("s", "app")
			s.put("s", "a")
			r, fail := s.subscribe(t, cbor, map[string]any{
				"ConsumerARN": arn, "ShardId": "shardId-000000000000", "StartingPosition": map[string]any{"Type": "TRIM_HORIZON"},
			})
			if r == nil {
				t.Fatalf("SubscribeToShard: %s", fail.Raw)
			}
			r.records(1)
			s.OK("SplitShard", map[string]any{"StreamName": "s", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "170141183460469231731687303715884105728"})
			var last map[string]any
			for last == nil || last["ChildShards"] == nil {
				last = r.event()
				if recs := last["Records"].([]any); len(recs) != 0 {
					t.Fatalf("records after the split: %v", recs)
				}
			}
			r.end()
			var children []string
			for _, c := range last["ChildShards"].([]any) {
				m := c.(map[string]any)
				if ps := m["ParentShards"].([]any); len(ps) != 1 || ps[0] != "shardId-000000000000" || m["HashKeyRange"] == nil {
					t.Errorf("child shard %v", m)
				}
				children = append(children, m["ShardId"].(string))
			}
			if !slices.Equal(children, []string{"shardId-000000000001", "shardId-000000000002"}) {
				t.Errorf("ChildShards = %q", children)
			}
			if last["ContinuationSequenceNumber"] == "" {
				t.Error("the last event has no ContinuationSequenceNumber")
			}
		})
	}
}

// TestFanOutMetersEndWithStream: the read meters of a deleted stream's
// consumers are forgotten with the stream, not only on deregistration;
// another stream's stay.
func TestFanOutMetersEndWithStream(t *testing.T) {
	s := newFanOutServer(t, []shard.Option{shard.WithThroughputLimits(true)})
	trim := map[string]any{"Type": "TRIM_HORIZON"}
	for _, name := range []string{"s", "other"} {
		r := s.mustSubscribe(t, s.stream(name, "app"), trim)
		r.event()
	}
	meters := func() []string {
		s.h.fanOut.mu.Lock()
		defer s.h.fanOut.mu.Unlock()
		var out []string
		for k := range s.h.fanOut.meters {
			out = append(out, k.consumerARN)
		}
		return out
	}
	if got := meters(); len(got) != 2 {
		t.Fatalf("meters before the deletion: %v, want one per stream", got)
	}
	s.OK("DeleteStream", map[string]any{"StreamName": "s", "EnforceConsumerDeletion": true})
	if got := meters(); len(got) != 1 || !strings.HasPrefix(got[0], testARN+"other/") {
		t.Fatalf("meters after deleting s: %v, want only other's", got)
	}
}

// TestSubscribeToShardOncePerSecond: one call per second per consumer and
// shard (LimitExceededException), also after the subscription has ended;
// within 5 s of a running subscription the takeover rule answers first
// (ResourceInUseException); a refused call does not restart the second.
func TestSubscribeToShardOncePerSecond(t *testing.T) {
	type call struct {
		after time.Duration // since the previous call
		want  string        // "" when the call is accepted
	}
	tests := []struct {
		name  string
		ended bool // the first subscription has ended before the calls
		calls []call
	}{
		{"ended, at once", true, []call{{0, "LimitExceededException"}}},
		{"ended, just under a second", true, []call{{999 * time.Millisecond, "LimitExceededException"}}},
		{"ended, a second later", true, []call{{time.Second, ""}, {time.Second, ""}}},
		{"refused call keeps the window", true, []call{{500 * time.Millisecond, "LimitExceededException"}, {500 * time.Millisecond, ""}}},
		{"running, at once", false, []call{{0, "ResourceInUseException"}}},
		{"running, a second later", false, []call{{time.Second, "ResourceInUseException"}}},
		{"running, takeover after 5 s", false, []call{{takeoverAfter, ""}, {time.Second - time.Millisecond, "ResourceInUseException"}}},
	}
	trim := map[string]any{"Type": "TRIM_HORIZON"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []Option
			if tt.ended {
				opts = append(opts, awsproto.WithMaxStreamDuration(time.Millisecond))
			}
			s := newFanOutServer(t, nil, opts...)
			now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
			var mu sync.Mutex
			s.h.fanOut.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			arn := s.stream("s", "app")
			first := s.mustSubscribe(t, arn, trim)
			if tt.ended {
				// Released before its body ends.
				if _, err := io.Copy(io.Discard, first.resp.Body); err != nil {
					t.Fatal(err)
				}
			} else {
				first.event()
			}
			for i, c := range tt.calls {
				mu.Lock()
				now = now.Add(c.after)
				mu.Unlock()
				r, fail := s.subscribe(t, false, map[string]any{"ConsumerARN": arn, "ShardId": "shardId-000000000000", "StartingPosition": trim})
				switch {
				case c.want == "" && r == nil:
					t.Fatalf("call %d: %d %s, want a subscription", i, fail.Status, fail.Raw)
				case c.want != "" && (r != nil || fail.Status != http.StatusBadRequest || fail.ErrType() != c.want):
					t.Fatalf("call %d: %d %s, want 400 %s", i, fail.Status, fail.Raw, c.want)
				}
				if r != nil && tt.ended {
					_, _ = io.Copy(io.Discard, r.resp.Body)
				}
			}
		})
	}
}
