package kinesisapi

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/spatehq/spate/shard"
)

// BenchmarkPutRecordsServe measures a whole PutRecords request through
// ServeHTTP (envelope, body, decode, validation, reply) on a store that
// acknowledges at once: 500 records of 100 bytes. The off case is the
// server without --credentials; BenchmarkPutRecordsServeSigV4 is the same
// request signed and verified.
func BenchmarkPutRecordsServe(b *testing.B) {
	benchmarkPutRecordsServe(b, newHandler(ackStore()), nil)
}

func ackStore() *fakeStore {
	return &fakeStore{
		resolve: func(name, _ string) (string, error) { return name, nil },
		append: func(_ context.Context, _ string, entries []shard.Entry) ([]shard.AppendResult, error) {
			return make([]shard.AppendResult, len(entries)), nil
		},
	}
}

// benchmarkPutRecordsServe serves body with h; sign, when set, signs each
// request.
func benchmarkPutRecordsServe(b *testing.B, h http.Handler, sign func(*http.Request, []byte)) {
	body := putRecordsBody(500, 100)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:4567/", bytes.NewReader(body))
		r.Header.Set("X-Amz-Target", TargetPrefix+".PutRecords")
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		if sign != nil {
			sign(r, body)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
