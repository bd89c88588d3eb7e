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
			w := &discardWriter{header: http.Header{}}
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:4567/", bytes.NewReader(bc.body))
				r.Header.Set("X-Amz-Target", TargetPrefix+".GetRecords")
				r.Header.Set("Content-Type", bc.ct)
				clear(w.header)
				w.code, w.n = 0, 0
				h.ServeHTTP(w, r)
				if w.code != http.StatusOK || w.n == 0 {
					b.Fatalf("status %d, %d bytes", w.code, w.n)
				}
			}
			// CPU time (every goroutine, the GC's too) varies far less
			// than wall time on a shared machine.
			b.ReportMetric(float64(processCPU(b)-cpu)/float64(b.N*records), "cpu-ns/rec")
		})
	}
}

// discardWriter is a ResponseWriter that keeps the status and counts the
// body's bytes. httptest.ResponseRecorder keeps the body in a buffer grown
// by doubling, which cost more than a sixth of the benchmark's CPU, none of
// it the server's.
type discardWriter struct {
	header http.Header
	code   int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.header }
func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.n += len(p)
	return len(p), nil
}

// processCPU is the process's CPU time so far, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
