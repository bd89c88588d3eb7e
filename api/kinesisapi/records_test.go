package kinesisapi

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/spatehq/spate/api/awsproto"
	"github.com/spatehq/spate/shard"
)

// recordOut is a record as encoding/json writes it in a GetRecords reply
// or a SubscribeToShard event: the reference recordBlock's encoders are
// compared with.
type recordOut struct {
	SequenceNumber              string                `json:"SequenceNumber"`
	ApproximateArrivalTimestamp awsproto.EpochSeconds `json:"ApproximateArrivalTimestamp"`
	Data                        []byte                `json:"Data"` // base64 (std) by encoding/json
	PartitionKey                string                `json:"PartitionKey"`
	EncryptionType              string                `json:"EncryptionType,omitempty"` // "KMS" for a record sealed at rest
}

// blockOf reads records into a block as the store's read hands them over.
func blockOf(records []recordOut) *recordBlock {
	b := newRecordBlock()
	for i, r := range records {
		v := shard.RecordView{
			SequenceNumber: []byte(r.SequenceNumber), ArrivalMs: time.Time(r.ApproximateArrivalTimestamp).UnixMilli(),
			PartitionKey: []byte(r.PartitionKey), Data: r.Data, Encrypted: r.EncryptionType != "",
			RecordsLeft: len(records) - i, BytesLeft: 1 << 20, ValueLen: len(r.Data) + len(r.PartitionKey) + 10,
		}
		if err := b.AppendRecord(&v); err != nil {
			panic(err)
		}
	}
	return b
}

// recordsOf is what a block holds, as the reference encodes it: an empty
// Data where there was none (Data is a required member, never null).
func recordsOf(b *recordBlock) []recordOut {
	out := []recordOut{}
	b.each(func(r *recordAt) {
		rec := recordOut{
			SequenceNumber:              string(r.seq),
			ApproximateArrivalTimestamp: awsproto.EpochSeconds(time.UnixMilli(r.arrivalMs)),
			Data:                        append([]byte{}, r.data...),
			PartitionKey:                string(r.key),
		}
		if r.flags&recordEncrypted != 0 {
			rec.EncryptionType = shard.EncryptionKMS
		}
		out = append(out, rec)
	})
	return out
}

// referenceJSON is v as encoding/json writes it without HTML escaping.
func referenceJSON(t *testing.T, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// TestRecordBlock checks that a block gives back the records it took, in
// order, whatever their sizes (its buffer grows past its first sizing) and
// after a reset, and that its JSON is encoding/json's of them.
func TestRecordBlock(t *testing.T) {
	at := awsproto.EpochSeconds(time.UnixMilli(1700000000123))
	small := []recordOut{
		{SequenceNumber: "1", ApproximateArrivalTimestamp: at, Data: []byte("a"), PartitionKey: "k"},
		{SequenceNumber: "2", ApproximateArrivalTimestamp: at, Data: []byte{}, PartitionKey: "k2", EncryptionType: "KMS"},
	}
	var grown []recordOut // the first is small: the block is sized for small ones
	for i, n := range []int{1, 70000, 3, 1 << 20} {
		grown = append(grown, recordOut{SequenceNumber: strings.Repeat("9", 56), ApproximateArrivalTimestamp: at,
			Data: bytes.Repeat([]byte{byte(i)}, n), PartitionKey: strings.Repeat("p", i*80)})
	}
	b := newRecordBlock()
	for _, recs := range [][]recordOut{small, grown, small, {}} {
		b.reset()
		for i, r := range recs {
			v := shard.RecordView{SequenceNumber: []byte(r.SequenceNumber), ArrivalMs: 1700000000123, PartitionKey: []byte(r.PartitionKey),
				Data: r.Data, Encrypted: r.EncryptionType != "", RecordsLeft: len(recs) - i, BytesLeft: 10 << 20, ValueLen: len(r.Data) + 10}
			if err := b.AppendRecord(&v); err != nil {
				t.Fatal(err)
			}
		}
		got := recordsOf(b)
		if g, w := referenceJSON(t, got), referenceJSON(t, recs); g != w {
			t.Fatalf("the block holds\n%.300s\nwant\n%.300s", g, w)
		}
		if g, w := string(b.AppendJSON(nil)), referenceJSON(t, recs); g != w {
			t.Fatalf("AppendJSON\n got: %.300s\nwant: %.300s", g, w)
		}
		wantBytes := 0
		for _, r := range recs {
			wantBytes += len(r.Data) + len(r.PartitionKey)
		}
		if b.Len() != len(recs) || b.bytes != wantBytes {
			t.Errorf("Len %d, bytes %d; want %d, %d", b.Len(), b.bytes, len(recs), wantBytes)
		}
		if held := b.HeldBytes(); held < int64(b.JSONLen()+wantBytes) {
			t.Errorf("HeldBytes = %d, less than the records and their reply (%d)", held, b.JSONLen()+wantBytes)
		}
	}
	if cap(b.buf) > keepAfterReset {
		t.Errorf("after a reset the block keeps %d bytes", cap(b.buf))
	}
	var none *recordBlock
	if got := string(none.AppendJSON(nil)); got != "[]" || none.Len() != 0 || none.JSONLen() < 2 {
		t.Errorf("a nil block: %q, Len %d, JSONLen %d", got, none.Len(), none.JSONLen())
	}
}
