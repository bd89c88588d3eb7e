package integration

// SubscribeToShard (enhanced fan-out, issue 13) with aws-sdk-go-v2's own
// event-stream reader against the real binary: over HTTP/1.1 (chunked),
// h2c and h2 over TLS, with the server's read and write timeouts shorter
// than the stream; the exception a deregistration sends; the child shards
// at the end of a split shard; and a graceful shutdown that ends the
// stream cleanly instead of waiting for it.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/spatehq/spate/internal/testcert"
)

// serverTimeout is the --read-timeout and --write-timeout the fan-out
// tests run the server with: far shorter than a subscription.
const serverTimeout = time.Second

// fanOut creates a one-shard stream with an ACTIVE consumer and returns
// the consumer's ARN.
func (k *kin) fanOut(ctx context.Context, t *testing.T, name, consumer string) string {
	t.Helper()
	k.create(ctx, t, name, 1)
	arn := aws.ToString(k.waitActive(ctx, t, name).StreamARN)
	reg, err := k.c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: &arn, ConsumerName: &consumer})
	if err != nil {
		t.Fatalf("RegisterStreamConsumer: %v", err)
	}
	k.waitConsumer(ctx, t, aws.ToString(reg.Consumer.ConsumerARN), types.ConsumerStatusActive)
	return aws.ToString(reg.Consumer.ConsumerARN)
}

// subscribe calls SubscribeToShard on shard 0 from pos.
func (k *kin) subscribe(ctx context.Context, t *testing.T, consumerARN string, pos types.ShardIteratorType) *kinesis.SubscribeToShardEventStream {
	t.Helper()
	out, err := k.c.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: &consumerARN, ShardId: aws.String(shardID(0)),
		StartingPosition: &types.StartingPosition{Type: pos}})
	if err != nil {
		t.Fatalf("SubscribeToShard: %v", err)
	}
	s := out.GetStream()
	t.Cleanup(func() { s.Close() })
	return s
}

// readEvents reads events until n records have come, and returns their
// data and the last event.
func readEvents(t *testing.T, s *kinesis.SubscribeToShardEventStream, n int) ([]string, types.SubscribeToShardEvent) {
	t.Helper()
	var got []string
	var last types.SubscribeToShardEvent
	for len(got) < n {
		ev, ok := <-s.Events()
		if !ok {
			t.Fatalf("the event stream ended after %q: %v", got, s.Err())
		}
		e, ok := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent)
		if !ok {
			t.Fatalf("event %T", ev)
		}
		last = e.Value
		got = append(got, recordData(last.Records)...)
		if aws.ToString(last.ContinuationSequenceNumber) == "" || last.MillisBehindLatest == nil {
			t.Fatalf("event without ContinuationSequenceNumber or MillisBehindLatest: %+v", last)
		}
	}
	return got, last
}

// TestSDKSubscribeToShard reads records put before and after a
// subscription, and after the server's read and write timeouts have
// passed, over each HTTP version; then refused calls and the exception
// event of a deregistration.
func TestSDKSubscribeToShard(t *testing.T) {
	t.Parallel()
	timeouts := withArgs("--read-timeout", serverTimeout.String(), "--write-timeout", serverTimeout.String())
	dir := t.TempDir()
	ca := testcert.NewCA(t, dir, "ca")
	cert, key := ca.Issue(t, dir, "server", x509.ExtKeyUsageServerAuth)
	for _, tc := range []struct {
		name  string
		opts  []serverOption
		tr    func(t *testing.T) http.RoundTripper
		https bool
		proto string
	}{
		{"http1.1", nil, func(t *testing.T) http.RoundTripper {
			tr := &http.Transport{}
			t.Cleanup(tr.CloseIdleConnections)
			return tr
		}, false, "HTTP/1.1"},
		{"h2c", nil, func(t *testing.T) http.RoundTripper { return h2cTransport(t) }, false, "HTTP/2.0"},
		{"h2", []serverOption{withArgs("--tls-cert", cert, "--tls-key", key)}, func(t *testing.T) http.RoundTripper {
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}, Protocols: new(http.Protocols)}
			tr.Protocols.SetHTTP2(true)
			t.Cleanup(tr.CloseIdleConnections)
			return tr
		}, true, "HTTP/2.0 h2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, append(tc.opts, timeouts)...)
			endpoint := srv.Endpoint()
			if tc.https {
				endpoint = "https://" + srv.HTTPAddr
			}
			c, _, rec := sdkClients(endpoint, tc.tr(t))
			k := &kin{srv: srv, c: c}
			ctx := testCtx(t)
			name := uniqueName(t)
			consumer := k.fanOut(ctx, t, name, "efo")
			k.put(ctx, t, name, "pk", []byte("before-1"))
			k.put(ctx, t, name, "pk", []byte("before-2"))

			s := k.subscribe(ctx, t, consumer, types.ShardIteratorTypeTrimHorizon)
			got, _ := readEvents(t, s, 2)
			k.put(ctx, t, name, "pk", []byte("after"))
			more, _ := readEvents(t, s, 1)
			// Past the server's timeouts (a shorter wait would only let
			// the check pass vacuously, never fail it wrongly).
			time.Sleep(2 * serverTimeout)
			k.put(ctx, t, name, "pk", []byte("late"))
			late, last := readEvents(t, s, 1)
			if got = append(append(got, more...), late...); strings.Join(got, ",") != "before-1,before-2,after,late" {
				t.Fatalf("records = %q", got)
			}

			// ContinuationSequenceNumber resumes after the last record
			// (another consumer: this one's subscription may still run,
			// and a call within 5 s of it would be refused).
			k.put(ctx, t, name, "pk", []byte("next"))
			arn := aws.ToString(k.summary(ctx, t, name).StreamARN)
			reg, err := k.c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: &arn, ConsumerName: aws.String("efo2")})
			if err != nil {
				t.Fatal(err)
			}
			// A client of its own: aws-sdk-go-v2's clients share one
			// event-stream codec (smithy-go 1.28.8 internal/eventstream)
			// between their streams, which races (go test -race sees it)
			// when one client runs two at once.
			fresh := func() *kinesis.Client { c, _, _ := sdkClients(endpoint, tc.tr(t)); return c }
			out, err := fresh().SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: reg.Consumer.ConsumerARN, ShardId: aws.String(shardID(0)),
				StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: last.ContinuationSequenceNumber}})
			if err != nil {
				t.Fatalf("SubscribeToShard after %s: %v", aws.ToString(last.ContinuationSequenceNumber), err)
			}
			s2 := out.GetStream()
			if got, _ := readEvents(t, s2, 1); len(got) != 1 || got[0] != "next" {
				t.Fatalf("records after the continuation = %q", got)
			}
			s2.Close()

			// Refused before the stream starts.
			_, err = fresh().SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: aws.String(consumer + "0"), ShardId: aws.String(shardID(0)),
				StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}})
			wantAPIError(t, err, "ResourceNotFoundException")
			_, err = fresh().SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: &consumer, ShardId: aws.String(shardID(9)),
				StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}})
			wantAPIError(t, err, "ResourceNotFoundException", shardID(9))
			rec.only(t, tc.proto)
		})
	}
}

// TestSDKSubscribeToShardEnds: a deregistration ends a subscription with
// a ResourceNotFoundException event, which the SDK's reader reports as
// such; the end of a split shard ends it cleanly after an event with the
// child shards; a graceful shutdown ends it cleanly, without waiting for
// it.
func TestSDKSubscribeToShardEnds(t *testing.T) {
	t.Parallel()
	// subscribed starts a server with a stream holding one record, and a
	// subscription that has read it.
	subscribed := func(t *testing.T) (*kin, context.Context, string, string, *kinesis.SubscribeToShardEventStream) {
		t.Helper()
		k := newKin(t)
		ctx := testCtx(t)
		name := uniqueName(t)
		consumer := k.fanOut(ctx, t, name, "efo")
		k.put(ctx, t, name, "pk", []byte("a"))
		s := k.subscribe(ctx, t, consumer, types.ShardIteratorTypeTrimHorizon)
		readEvents(t, s, 1)
		return k, ctx, name, consumer, s
	}
	t.Run("deregistered", func(t *testing.T) {
		t.Parallel()
		k, ctx, _, consumer, s := subscribed(t)
		if _, err := k.c.DeregisterStreamConsumer(ctx, &kinesis.DeregisterStreamConsumerInput{ConsumerARN: &consumer}); err != nil {
			t.Fatal(err)
		}
		for range s.Events() {
		}
		var nf *types.ResourceNotFoundException
		if err := s.Err(); !errors.As(err, &nf) {
			t.Fatalf("Err after deregistration = %v (%T), want ResourceNotFoundException", err, err)
		}
	})
	t.Run("closed shard", func(t *testing.T) {
		t.Parallel()
		k, ctx, name, _, s := subscribed(t)
		if _, err := k.c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: &name, ShardToSplit: aws.String(shardID(0)),
			NewStartingHashKey: aws.String("170141183460469231731687303715884105728")}); err != nil {
			t.Fatalf("SplitShard: %v", err)
		}
		var children []string
		for ev := range s.Events() {
			e := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent).Value
			if len(children) > 0 {
				t.Fatalf("an event after the one with the child shards: %+v", e)
			}
			for _, c := range e.ChildShards {
				if len(c.ParentShards) != 1 || c.ParentShards[0] != shardID(0) {
					t.Errorf("child %s has parents %v", aws.ToString(c.ShardId), c.ParentShards)
				}
				children = append(children, aws.ToString(c.ShardId))
			}
		}
		if err := s.Err(); err != nil || strings.Join(children, ",") != shardID(1)+","+shardID(2) {
			t.Fatalf("stream ended with %v after child shards %q, want a clean end after %s and %s", err, children, shardID(1), shardID(2))
		}
	})
	t.Run("shutdown", func(t *testing.T) {
		t.Parallel()
		k, _, _, _, s := subscribed(t)
		k.srv.Stop(t)
		for range s.Events() {
		}
		if err := s.Err(); err != nil {
			t.Fatalf("Err after a graceful shutdown = %v, want a clean end", err)
		}
		if strings.Contains(k.srv.log.String(), "drain incomplete") {
			t.Fatal("the HTTP drain waited for the subscription")
		}
	})
}
