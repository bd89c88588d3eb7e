package kinesisapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/shard"
)

// BenchmarkSubscribeToShardPush is the push path's round trip: append one
// 100-byte record (durably: the append returns once it is fsynced) and
// read the event that brings it, over HTTP/1.1 from an in-process server.
// BenchmarkSubscribeToShardAppendOnly is the append alone: the difference
// is what SubscribeToShard adds between the commit and the client.
func BenchmarkSubscribeToShardPush(b *testing.B)       { benchmarkPush(b, true) }
func BenchmarkSubscribeToShardAppendOnly(b *testing.B) { benchmarkPush(b, false) }

func benchmarkPush(b *testing.B, read bool) {
	ctx := b.Context()
	st, err := shard.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	h := newHandler(st)
	srv := httptest.NewServer(h.Handler)
	defer srv.Close()
	defer h.Close()
	if err := st.CreateStream(ctx, shard.CreateStreamInput{Name: "s", ShardCount: 1}); err != nil {
		b.Fatal(err)
	}
	c, err := st.RegisterStreamConsumer(ctx, st.StreamARN("s"), "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"ConsumerARN": c.ARN, "ShardId": "shardId-000000000000", "StartingPosition": map[string]any{"Type": "LATEST"}})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", awsproto.ContentType)
	req.Header.Set("X-Amz-Target", TargetPrefix+".SubscribeToShard")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	dec := eventstream.NewDecoder()
	var buf []byte
	next := func() map[string]any {
		m, err := dec.Decode(resp.Body, buf[:0])
		if err != nil {
			b.Fatal(err)
		}
		buf = m.Payload
		var ev map[string]any
		if err := json.Unmarshal(m.Payload, &ev); err != nil {
			b.Fatal(err)
		}
		return ev
	}
	next() // initial-response
	next() // the first event, without records
	data := bytes.Repeat([]byte("x"), 100)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.Append(ctx, "s", []shard.Entry{{PartitionKey: "k", Data: data}}); err != nil {
			b.Fatal(err)
		}
		if !read {
			continue
		}
		for {
			if recs, _ := next()["Records"].([]any); len(recs) > 0 {
				break // not an idle event
			}
		}
	}
}
