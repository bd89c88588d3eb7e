package shard

import (
	"bytes"
	"context"
	"testing"

	"github.com/spatehq/spate/kms"
)

// FuzzSealedRecord seals records and opens them again, and checks that an
// altered sealed value (a bit flipped anywhere, or bytes that are no
// record at all) is refused without a panic and never opens as another
// record.
func FuzzSealedRecord(f *testing.F) {
	keys, err := kms.Open("")
	if err != nil {
		f.Fatal(err)
	}
	s, err := Open(f.TempDir(), WithKeys(keys))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()
	if err := s.CreateStream(ctx, CreateStreamInput{Name: "f", ShardCount: 1}); err != nil {
		f.Fatal(err)
	}
	if err := s.StartEncryption(ctx, "f", EncryptionKMS, kms.AliasKinesis); err != nil {
		f.Fatal(err)
	}
	st := s.streams["f"]
	se, err := s.sealerFor(st, 1)
	if err != nil {
		f.Fatal(err)
	}
	aead := se.key.shard(0)
	f.Add(int64(1700000000000), "key", []byte("data"), uint64(7), uint32(3), 5)
	f.Add(int64(0), "", []byte{}, uint64(0), uint32(0), 0)
	f.Fuzz(func(t *testing.T, ms int64, pk string, data []byte, ctr uint64, epoch uint32, flip int) {
		ms &= 1<<62 - 1
		key := recordKey(st.id, 0, ctr)
		v := make([]byte, encryptedRecordLen(1, pk, data))
		putSealedRecord(v, key, aead, &sealScratch{}, 1, epoch, ctr, ms, pk, data)
		var o opener
		gotMs, gotPK, gotData, err := o.open(s, st, key, v)
		if err != nil || gotMs != ms || string(gotPK) != pk || !bytes.Equal(gotData, data) {
			t.Fatalf("round trip: %d %q %q %v", gotMs, gotPK, gotData, err)
		}
		if flip < 0 {
			flip = -flip
		}
		bit := flip % (len(v) * 8)
		v[bit/8] ^= 1 << (bit % 8)
		if _, _, _, err := o.open(s, st, key, v); err == nil {
			t.Fatalf("a sealed value with bit %d flipped opened", bit)
		}
		_, _, _, _ = o.open(s, st, key, append(data, 0x80)) // arbitrary bytes: must not panic
	})
}
