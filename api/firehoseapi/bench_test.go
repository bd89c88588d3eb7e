package firehoseapi

import (
	"bytes"
	"encoding/base64"
	"testing"
)

// putRecordBatchBody is a PutRecordBatch request of n records of size bytes.
func putRecordBatchBody(n, size int) []byte {
	data := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{'x'}, size))
	var b bytes.Buffer
	b.WriteString(`{"DeliveryStreamName":"bench","Records":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"Data":"` + data + `"}`)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// BenchmarkPutRecordBatchDecode measures the hot path of the Firehose JSON
// API: decoding and validating a PutRecordBatch request of 500 records of
// 100 bytes, with the one-pass fast path (handler) and with encoding/json.
func BenchmarkPutRecordBatchDecode(b *testing.B) {
	body := putRecordBatchBody(500, 100)
	for _, bc := range []struct {
		name string
		fast bool
	}{{"handler", true}, {"encoding/json+validate", false}} {
		h := build(nil, bc.fast)
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.Decode("PutRecordBatch", body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNewHandler measures loading the embedded model and overlay and
// binding every action (deriving the request types), the cost of
// NewHandler.
func BenchmarkNewHandler(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		newHandler(nil)
	}
}
