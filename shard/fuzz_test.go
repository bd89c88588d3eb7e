package shard

import (
	"bytes"
	"testing"
)

// FuzzRecordValue checks that encoding round-trips and that decoding any
// bytes never panics.
func FuzzRecordValue(f *testing.F) {
	f.Add(int64(1700000000000), "key", []byte("data"))
	f.Add(int64(0), "", []byte{})
	f.Fuzz(func(t *testing.T, ms int64, pk string, data []byte) {
		v := make([]byte, encodedRecordLen(pk, data))
		putRecordValue(v, ms, pk, data)
		gotMs, gotPK, gotData, err := decodeRecordValue(v)
		if err != nil || gotMs != ms || gotPK != pk || !bytes.Equal(gotData, data) {
			t.Fatalf("round trip: %d %q %q %v", gotMs, gotPK, gotData, err)
		}
		_, _, _, _ = decodeRecordValue(data) // arbitrary bytes: must not panic
	})
}

// FuzzIterator checks that no altered iterator is accepted.
func FuzzIterator(f *testing.F) {
	s, err := Open(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	valid := s.encodeIterator(Cursor{streamID: 3, shard: 1, next: 42}, s.cfg.now().UnixMilli())
	f.Add(valid)
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := s.decodeIterator(tok)
		if err == nil && tok != valid {
			t.Fatalf("accepted a forged iterator %q as %+v", tok, c)
		}
	})
}
