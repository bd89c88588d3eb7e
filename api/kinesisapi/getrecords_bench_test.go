package kinesisapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/api/awsproto/awsprototest"
	"github.com/spatehq/spate/shard"
)

// BenchmarkGetRecordsServe serves GetRecords of 10,000 records of 100
// bytes from a real store, whole (the store's read, the reply's encoding,
// the envelope), in AWS JSON and in AWS CBOR: the server's share of a
// catch-up read over HTTP, without the transport and the client.
func BenchmarkGetRecordsServe(b *testing.B) {
	ctx := b.Context()
	st, err := shard.Open(b.TempDir(), shard.WithDurability(shard.DurabilityRelaxed))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateStream(ctx, shard.CreateStreamInput{Name: "s", ShardCount: 1}); err != nil {
		b.Fatal(err)
	}
	const records = 10_000
	entries := make([]shard.Entry, 500)
	for i := range entries {
		entries[i] = shard.Entry{PartitionKey: "pk-" + string(rune('a'+i%26)), Data: bytes.Repeat([]byte{byte(i)}, 100)}
	}
	for range records / len(entries) {
		if _, err := st.Append(ctx, "s", entries); err != nil {
			b.Fatal(err)
		}
	}
	it, err := st.ShardIterator(ctx, "s", shard.ShardID(0), shard.Position{Type: shard.TrimHorizon})
	if err != nil {
		b.Fatal(err)
	}
	h := NewHandler(st)
	defer h.Close()
	jsonBody, _ := json.Marshal(map[string]any{"ShardIterator": it})
	cborBody, err := awsprototest.EncodeCBOR(map[string]any{"ShardIterator": it})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name, ct string
		body     []byte
	}{
		{"json", awsproto.ContentType, jsonBody},
		{"cbor", awsproto.CBORContentType, cborBody},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := processCPU(b)
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:4567/", bytes.NewReader(bc.body))
				r.Header.Set("X-Amz-Target", TargetPrefix+".GetRecords")
				r.Header.Set("Content-Type", bc.ct)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
			// CPU time (every goroutine, the GC's too) varies far less
			// than wall time on a shared machine.
			b.ReportMetric(float64(processCPU(b)-cpu)/float64(b.N*records), "cpu-ns/rec")
		})
	}
}

// processCPU is the process's CPU time so far, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
